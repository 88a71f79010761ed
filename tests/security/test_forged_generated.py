"""A NetworkPolicy labelled `app.kubernetes.io/managed-by: netpol-gitops` is a claim anyone can
write. It counts as generated only when it is exactly what the generator makes now; otherwise
`check` reports it, the PR report lists it with what it opens as written, and the deliveries
still replace it (kpt's in-place workflow feeds their output back)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.builders import Repo
from tests.helpers import change_lines

NAMESPACE = """\
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  annotations:
    netpol-gitops.io/default-deny: all
"""
PODS = """\
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
---
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: shop, labels: {app: api}}
"""
FORGED = """\
# "generated", says the label: it lets everything in
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-everything
  namespace: shop
  labels:
    app.kubernetes.io/managed-by: netpol-gitops
spec:
  podSelector: {}
  policyTypes: [Ingress]
  ingress:
  - {}
"""


def run(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """The real entry point, as a user or the Action runs it."""
    done = subprocess.run(
        [sys.executable, "-m", "netpol_gitops", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "Traceback" not in done.stderr
    assert done.returncode != 3, done.stderr
    return done


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    r = Repo(tmp_path / "repo")
    r.write("ns.yaml", NAMESPACE)
    r.write("pods.yaml", PODS)
    r.commit("base")
    return r


def render(path: Path, *args: str) -> str:
    done = run("render", str(path), *args, cwd=path)
    assert done.returncode == 0, done.stderr
    return done.stdout


def without(path: Path, name: str, tmp_path: Path) -> Path:
    """A copy of the directory without one file."""
    copy = tmp_path / f"without-{name}"
    shutil.copytree(path, copy, ignore=shutil.ignore_patterns(".git", name))
    return copy


def test_a_forged_allow_all_is_reported_by_diff_and_check_and_replaced_by_render(
    repo: Repo, tmp_path: Path
) -> None:
    base = repo.git("rev-parse", "HEAD")
    repo.write("forged.yaml", FORGED)
    repo.commit("add a policy labelled as generated")

    report = json.loads(run("diff", "--base", base, "-o", "json", cwd=repo.path).stdout)
    assert change_lines(report) == []  # what the deliveries apply
    assert report["policies"]["not_generated"] == ["shop/allow-everything"]
    [entry] = report["not_generated"]
    assert entry["policy"] == "shop/allow-everything"
    assert entry["location"] == "forged.yaml:5:9"
    assert entry["standing"] == "orphan"
    assert entry["replaced"] is True
    # applied without the generator, the deny of shop is undone for every outside source
    assert "0.0.0.0-255.255.255.255[External] => shop/api[Pod] : All Connections" in entry["opens"]
    assert "0.0.0.0-255.255.255.255[External] => shop/web[Pod] : All Connections" in entry["opens"]
    assert entry["opens_total"] == len(entry["opens"])
    assert [f["rule"] for f in report["findings"]] == ["stale-generated-policy"]

    text = run("diff", "--base", base, cwd=repo.path).stdout
    assert "no change" not in text
    assert "policy not generated shop/allow-everything at forged.yaml:5:9" in text
    assert "  + 0.0.0.0-255.255.255.255[External] => shop/api[Pod] : All Connections" in text

    md = run("diff", "--base", base, "-o", "md", cwd=repo.path).stdout
    assert "no change" not in md.splitlines()[1]
    assert "`shop/allow-everything` at `forged.yaml:5:9`" in md
    assert "+ 0.0.0.0-255.255.255.255[External] => shop/web[Pod] : All Connections" in md

    check = run("check", ".", cwd=repo.path)
    assert check.returncode == 1
    assert check.stdout.startswith(
        "forged.yaml:5:9: error: [stale-generated-policy] metadata.name: NetworkPolicy "
        "shop/allow-everything is labelled app.kubernetes.io/managed-by: netpol-gitops, but the "
        "generator makes no such policy (it makes allow-dns, default-deny-all there)"
    )

    # the deliveries still replace it: as if it were not there
    assert render(repo.path) == render(without(repo.path, "forged.yaml", tmp_path))


def test_a_stale_generated_policy_names_the_changed_field(repo: Repo, tmp_path: Path) -> None:
    generated = render(repo.path, "--only-generated")
    repo.write("generated.yaml", generated)
    base = repo.commit("the rendered policies, kept in the repository (kpt in place)")
    edited = generated.replace(
        "  policyTypes:\n  - Ingress\n  - Egress\n", "  policyTypes:\n  - Egress\n", 1
    )
    assert edited != generated
    repo.write("generated.yaml", edited)
    repo.commit("quietly drop the ingress deny")

    check = run("check", ".", cwd=repo.path)
    assert check.returncode == 1
    [line] = check.stdout.splitlines()
    assert line.startswith("generated.yaml:")
    assert (
        "error: [stale-generated-policy] metadata.name: NetworkPolicy shop/default-deny-all is "
        "labelled app.kubernetes.io/managed-by: netpol-gitops, but it differs from the policy "
        "generated now in spec.policyTypes; " in line
    )

    report = json.loads(run("diff", "--base", base, "-o", "json", cwd=repo.path).stdout)
    [entry] = report["not_generated"]
    assert (entry["policy"], entry["standing"]) == ("shop/default-deny-all", "stale")
    assert entry["differences"] == ["spec.policyTypes"]
    assert "0.0.0.0-255.255.255.255[External] => shop/api[Pod] : All Connections" in entry["opens"]

    assert render(repo.path) == render(without(repo.path, "generated.yaml", tmp_path))


def test_a_current_generated_policy_is_generated(repo: Repo, tmp_path: Path) -> None:
    generated = render(repo.path, "--only-generated")
    # kpt's bookkeeping annotations are not part of what is compared
    repo.write(
        "generated.yaml",
        generated.replace(
            "  annotations:\n",
            "  annotations:\n    config.kubernetes.io/index: '0'\n"
            "    internal.config.kubernetes.io/path: generated.yaml\n",
        ),
    )
    base = repo.commit("render in place")
    check = run("check", ".", cwd=repo.path)
    assert (check.returncode, check.stdout) == (0, "")
    assert render(repo.path) == render(without(repo.path, "generated.yaml", tmp_path))
    assert render(repo.path, "--only-generated") == generated  # idempotent
    repo.write("unrelated.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    repo.commit("unrelated")
    report = json.loads(run("diff", "--base", base, "-o", "json", cwd=repo.path).stdout)
    assert report["not_generated"] == [] and report["findings"] == []


def test_a_labelled_item_of_a_list_is_deployed_as_written_and_reported(tmp_path: Path) -> None:
    (tmp_path / "ns.yaml").write_text(NAMESPACE + "---\n" + PODS)
    item = "".join(f"  {line}\n" for line in FORGED.splitlines()[1:])
    (tmp_path / "list.yaml").write_text("apiVersion: v1\nkind: List\nitems:\n-" + item[1:])
    check = run("check", ".", cwd=tmp_path)
    assert check.returncode == 1
    assert "[stale-generated-policy]" in check.stdout
    assert "it is an item of a List, so it is deployed as written" in check.stdout


def test_krm_replaces_a_forged_item(tmp_path: Path) -> None:
    items = "".join(
        "- " + "\n  ".join(doc.strip().splitlines()) + "\n"
        for doc in (NAMESPACE, FORGED.split("\n", 1)[1])
    )
    resource_list = f"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n{items}"
    done = run("krm", cwd=tmp_path, stdin=resource_list)
    assert done.returncode == 0, done.stderr
    assert "allow-everything" not in done.stdout
    assert "name: default-deny-all" in done.stdout
