"""Adopting on a repository that already has policies: nothing breaks silently (issue 14)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.builders import API_FROM_WEB as INGRESS_ONLY
from tests.builders import SHOP_PODS as PODS
from tests.builders import Repo
from tests.helpers import change_lines, cli, require_shared, require_tool


def namespace(deny: str | None) -> str:
    text = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n"
    if deny:
        text += f"  annotations:\n    netpol-gitops.io/default-deny: {deny}\n"
    return text


def findings(folder: Path) -> list[dict[str, Any]]:
    run = cli("check", str(folder), "--format", "json", "--fail-on", "never")
    assert run.code == 0, run.stderr
    found: list[dict[str, Any]] = json.loads(run.stdout)
    return found


def write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def test_a_default_deny_that_cuts_what_hand_written_policies_allow_is_an_error(
    tmp_path: Path,
) -> None:
    folder = write(
        tmp_path,
        {"ns.yaml": namespace(None), "pods.yaml": PODS, "policy.yaml": INGRESS_ONLY},
    )
    (broken,) = [f for f in findings(folder) if f["rule"] == "deny-breaks-existing"]
    assert broken["severity"] == "error" and broken["file"].endswith("ns.yaml")
    assert broken["message"].startswith(
        "namespace shop: the generated policies block 1 connection that hand-written "
        "NetworkPolicies allow: shop/web[Pod] => shop/api[Pod] : TCP 8080."
    )
    # denying only what the team's policies deny breaks nothing
    write(folder, {"ns.yaml": namespace("ingress")})
    assert not [f for f in findings(folder) if f["rule"] == "deny-breaks-existing"]


def test_workloads_without_a_namespace_manifest_are_reported(tmp_path: Path) -> None:
    folder = write(tmp_path, {"pods.yaml": PODS})
    (unmanaged,) = [f for f in findings(folder) if f["rule"] == "unmanaged-namespace"]
    assert unmanaged["severity"] == "warning"
    assert (unmanaged["file"], unmanaged["line"], unmanaged["field"]) == (
        f"{folder}/pods.yaml",
        3,
        "metadata.namespace",
    )
    assert "namespace shop has workloads but no Namespace manifest" in unmanaged["message"]
    write(folder, {"ns.yaml": namespace("all")})
    assert not [f for f in findings(folder) if f["rule"] == "unmanaged-namespace"]


def test_the_pr_report_says_what_a_new_namespace_manifest_breaks(tmp_path: Path) -> None:
    require_tool("git")
    repo = Repo(tmp_path / "repo")
    repo.write("apps/pods.yaml", PODS)
    repo.write("apps/policy.yaml", INGRESS_ONLY)
    base = repo.commit("a team's own policies")
    repo.write("apps/ns.yaml", namespace(None))
    repo.commit("manage the namespace")
    run = cli("diff", "--repo", str(repo.path), "--base", base, "-o", "json")
    report = json.loads(run.stdout)
    assert "- shop/web[Pod] => shop/api[Pod] : TCP 8080" in change_lines(report)
    said = "shop: the generated policies block 1 connection that hand-written NetworkPolicies "
    said += "allow: web → api (TCP 8080)"
    assert {"kind": "breaks", "message": said} in report["decisions"]
    assert [f["rule"] for f in report["findings"]] == ["deny-breaks-existing"]
    md = cli("diff", "--repo", str(repo.path), "--base", base, "-o", "md").stdout
    assert "- ⛔ `shop`: the generated policies block 1 connection" in md


@pytest.mark.parametrize(
    ("corpus", "rule", "count"),
    [
        ("argo-cd-namespace-install", "deny-breaks-existing", 1),
        ("microservices-demo", "unmanaged-namespace", 1),
    ],
)
def test_real_policy_sets(corpus: str, rule: str, count: int) -> None:
    root = require_shared("realworld", corpus)
    found = [f for f in findings(root / "handwritten") if f["rule"] == rule]
    assert len(found) == count, found
