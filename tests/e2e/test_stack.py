"""The cluster policy tiers through every input path and every command that analyses: reach
(directory, stream, ResourceList, List, kustomize build), check and diff (git revisions)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.builders import CONFIG, Repo
from tests.helpers import change_lines, cli, require_tool

WORLD = """apiVersion: v1
kind: Namespace
metadata:
  name: shop
  annotations:
    netpol-gitops.io/default-deny: ingress
    netpol-gitops.io/allow-from-namespaces: ops
---
apiVersion: v1
kind: Namespace
metadata: {name: ops}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
---
apiVersion: v1
kind: Pod
metadata: {name: tool, namespace: ops, labels: {app: tool}}
---
apiVersion: v1
kind: Pod
metadata: {name: job, namespace: ops, labels: {app: job}}
"""
TIERS = """apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: block-tool}
spec:
  priority: 10
  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: shop}}}
  ingress:
  - name: no-tool
    action: Deny
    from:
    - pods:
        namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ops}}
        podSelector: {matchLabels: {app: tool}}
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: ops-baseline}
spec:
  tier: Baseline
  priority: 5
  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: ops}}}
  ingress:
  - name: deny-all
    action: Deny
    from: [{namespaces: {}}]
"""
TOOL_TO_WEB = "ops/tool[Pod] => shop/web[Pod] : All Connections"
JOB_TO_WEB = "ops/job[Pod] => shop/web[Pod] : All Connections"
WEB_TO_TOOL = "shop/web[Pod] => ops/tool[Pod] : All Connections"
TOOL_TO_JOB = "ops/tool[Pod] => ops/job[Pod] : All Connections"


@pytest.fixture(autouse=True)
def config(tmp_path: Path) -> Path:
    """The repo config: opt-in, so ops is left unmanaged."""
    path = tmp_path / "netpol-gitops.yaml"
    path.write_text(CONFIG)
    return path


def reach_lines(config: Path, *args: str, stdin: str | None = None) -> set[str]:
    run = cli("reach", *args, "--generate", "--config", str(config), stdin=stdin)
    assert run.code == 0, run.stderr
    return set(run.stdout.splitlines())


def expect_tiers(got: set[str]) -> None:
    assert JOB_TO_WEB in got  # the generated allow, not overridden
    assert TOOL_TO_WEB not in got  # the Admin deny overrides the generated allow
    assert WEB_TO_TOOL not in got and TOOL_TO_JOB not in got  # the Baseline deny decides ops
    assert "ops/job[Pod] => ops/tool[Pod] : All Connections" not in got


def test_without_the_tiers_the_flows_are_open(tmp_path: Path, config: Path) -> None:
    (tmp_path / "world.yaml").write_text(WORLD)
    got = reach_lines(config, str(tmp_path / "world.yaml"))
    assert {TOOL_TO_WEB, WEB_TO_TOOL, TOOL_TO_JOB} <= got


def test_every_input_path_reads_the_cluster_policies(tmp_path: Path, config: Path) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "world.yaml").write_text(WORLD)
    (tmp_path / "dir" / "tiers.yaml").write_text(TIERS)
    expect_tiers(reach_lines(config, str(tmp_path / "dir")))
    expect_tiers(reach_lines(config, "-", stdin=WORLD + "---\n" + TIERS))
    listed = "apiVersion: v1\nkind: List\nitems:\n" + "".join(
        "- " + doc.strip().replace("\n", "\n  ") + "\n"
        for doc in (WORLD + "---\n" + TIERS).split("---\n")
    )
    expect_tiers(reach_lines(config, "-", stdin=listed))
    resource_list = listed.replace(
        "apiVersion: v1\nkind: List\n", "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n"
    )
    expect_tiers(reach_lines(config, "-", stdin=resource_list))


def test_a_kustomize_build_carries_the_cluster_policies(tmp_path: Path, config: Path) -> None:
    require_tool("kubectl")
    build = tmp_path / "build"
    build.mkdir()
    (build / "world.yaml").write_text(WORLD)
    (build / "tiers.yaml").write_text(TIERS)
    (build / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        "resources: [world.yaml, tiers.yaml]\n"
    )
    expect_tiers(reach_lines(config, str(build)))


def test_check_sees_the_tiers(tmp_path: Path, config: Path) -> None:
    tmp_path = tmp_path / "repo"
    tmp_path.mkdir()
    (tmp_path / "world.yaml").write_text(WORLD)
    run = cli("check", str(tmp_path), "-f", "json", "--config", str(config))
    before = {(f["rule"], f["severity"]) for f in json.loads(run.stdout)}
    assert ("no-default-deny", "error") in before and run.code == 1
    (tmp_path / "tiers.yaml").write_text(TIERS)
    run = cli("check", str(tmp_path), "--config", str(config))
    assert run.code == 0, run.stdout
    world = tmp_path / "world.yaml"
    assert run.stdout.splitlines() == [
        f"{world}:4:9: warning: [overridden-allow] metadata.name: NetworkPolicy"
        " shop/allow-from-namespaces allows what AdminNetworkPolicy block-tool (Admin tier)"
        " denies first, so the flow cannot work: ops/tool[Pod] => shop/web[Pod] (All Connections)",
        f"{world}:11:18: note: [no-default-deny] metadata.name: namespace ops has no default deny"
        " of its own (the repo config is opt-in and it carries no netpol-gitops.io/ annotation);"
        " ingress is denied by Baseline ClusterNetworkPolicy ops-baseline",
    ]


def test_check_warns_of_undecidable_peers(tmp_path: Path) -> None:
    tmp_path = tmp_path / "repo"
    tmp_path.mkdir()
    (tmp_path / "world.yaml").write_text(WORLD)
    (tmp_path / "nodes.yaml").write_text(
        TIERS.split("---\n", maxsplit=1)[0].replace("    - pods:", "    - nodes: {}\n    - pods:")
    )
    run = cli("check", str(tmp_path))
    assert (
        f"{tmp_path / 'nodes.yaml'}:11:7: warning: [undecidable-peer] spec.ingress[0].from[0]:"
        in run.stdout
    )
    reach = cli("reach", str(tmp_path))
    assert reach.code == 0 and "a nodes peer cannot be decided from manifests" in reach.stderr


@pytest.fixture
def repo(tmp_path: Path, config: Path) -> Repo:
    require_tool("git")
    r = Repo(tmp_path / "repo")
    r.write(".netpol-gitops.yaml", CONFIG)
    r.write("apps/world.yaml", WORLD)
    r.commit("base")
    return r


def test_diff_shows_what_a_cluster_policy_opens_and_closes(repo: Repo) -> None:
    base = repo.git("rev-parse", "HEAD")
    repo.write("cluster/tiers.yaml", TIERS)
    repo.commit("tiers")
    run = cli("diff", "--repo", str(repo.path), "--base", base, "-o", "json")
    assert run.code == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["namespaces"] == [{"name": "ops", "before": "off", "after": "ingress"}]
    lines = change_lines(report)
    assert f"- {TOOL_TO_WEB}" in lines and f"- {WEB_TO_TOOL}" in lines
    assert not any(x.startswith("+ ") for x in lines)
    # and back: deleting the cluster policies is a regression of ops
    head = repo.git("rev-parse", "HEAD")
    shutil.rmtree(repo.path / "cluster")
    repo.commit("drop tiers")
    run = cli("diff", "--repo", str(repo.path), "--base", head, "-o", "json")
    report = json.loads(run.stdout)
    assert report["namespaces"] == [{"name": "ops", "before": "ingress", "after": "off"}]
    assert f"+ {TOOL_TO_WEB}" in change_lines(report)
