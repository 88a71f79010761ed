"""The cluster baseline (a cluster-scoped generated object) through `diff` and `check`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.builders import CONFIG, Repo, shop_repo
from tests.helpers import cli, require_tool

BASELINE = CONFIG + "  clusterBaseline: true\n"


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    require_tool("git")
    return shop_repo(tmp_path / "repo")


def _diff(repo: Repo, base: str, *extra: str) -> str:
    run = cli("diff", "--repo", str(repo.path), "--base", base, *extra)
    assert run.code == 0, run.stderr
    return run.stdout


def test_turning_the_baseline_on_adds_an_object_and_changes_no_connection(repo: Repo) -> None:
    base = repo.git("rev-parse", "HEAD")
    repo.write(".netpol-gitops.yaml", BASELINE)
    repo.commit("cluster baseline")
    report = json.loads(_diff(repo, base, "-o", "json"))
    assert report["policies"] == {
        "added": ["ClusterNetworkPolicy/baseline-shop"],
        "removed": [],
        "changed": [],
        "not_generated": [],
    }
    assert report["namespaces"] == []
    assert report["connections"] == {"added": [], "removed": [], "changed": []}
    assert report["findings"] == []
    text = _diff(repo, base)
    assert "policy added ClusterNetworkPolicy/baseline-shop" in text
    md = _diff(repo, base, "-o", "md")
    assert "<summary>`ClusterNetworkPolicy`: 1 changed</summary>" in md
    assert "+kind: ClusterNetworkPolicy" in md


def test_a_namespace_switched_off_loses_its_baseline(repo: Repo) -> None:
    repo.write(".netpol-gitops.yaml", BASELINE)
    base = repo.commit("cluster baseline")
    repo.write(
        "apps/shop/ns.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n"
        "  annotations: {netpol-gitops.io/mode: 'off'}\n",
    )
    repo.commit("shop off")
    report = json.loads(_diff(repo, base, "-o", "json"))
    assert report["namespaces"] == [{"name": "shop", "before": "all", "after": "off"}]
    assert "ClusterNetworkPolicy/baseline-shop" in report["policies"]["removed"]
    # off: neither its own policies nor the baseline deny anything any more
    assert "~ shop/web[Pod] => shop/api[Pod] : TCP 8080 -> All Connections" in [
        f"~ {c['src']} => {c['dst']} : {c['before']} -> {c['after']}"
        for c in report["connections"]["changed"]
    ]


def _stale_baseline(repo: Repo) -> None:
    """The generated baseline of shop, committed with its deny taken out by hand."""
    run = cli(
        "render",
        str(repo.path / "apps" / "shop"),
        "--only-generated",
        "-o",
        "json",
        "--config",
        str(repo.path / ".netpol-gitops.yaml"),
    )
    assert run.code == 0, run.stderr
    (cnp,) = [o for o in json.loads(run.stdout) if o["kind"] == "ClusterNetworkPolicy"]
    del cnp["spec"]["ingress"]
    repo.write("apps/shop/baseline.yaml", json.dumps(cnp))


def test_a_hand_edited_baseline_is_reported_by_diff_and_check(repo: Repo) -> None:
    repo.write(".netpol-gitops.yaml", BASELINE)
    base = repo.commit("cluster baseline")
    _stale_baseline(repo)
    repo.commit("edit the generated baseline")
    report = json.loads(_diff(repo, base, "-o", "json"))
    (stale,) = report["not_generated"]
    assert stale["policy"] == "ClusterNetworkPolicy/baseline-shop"
    assert stale["standing"] == "stale"
    assert stale["differences"] == ["spec.ingress"]
    (finding,) = [f for f in report["findings"] if f["rule"] == "stale-generated-policy"]
    assert finding["namespace"] is None
    assert finding["message"].startswith(
        "ClusterNetworkPolicy baseline-shop at apps/shop/baseline.yaml:1:"
    )
    # the deliveries replace it: the policies and connections are those of the base
    assert report["policies"] == {
        "added": [],
        "removed": [],
        "changed": [],
        "not_generated": ["ClusterNetworkPolicy/baseline-shop"],
    }
    check = cli(
        "check",
        str(repo.path / "apps" / "shop"),
        "--config",
        str(repo.path / ".netpol-gitops.yaml"),
    )
    assert check.code == 1
    assert "ClusterNetworkPolicy baseline-shop is labelled app.kubernetes.io/managed-by" in (
        check.stdout + check.stderr
    )


def test_check_of_a_repository_with_the_baseline_finds_nothing_new(repo: Repo) -> None:
    path = str(repo.path / "apps" / "shop")
    without = cli("check", path, "--config", str(repo.path / ".netpol-gitops.yaml"))
    repo.write(".netpol-gitops.yaml", BASELINE)
    with_it = cli("check", path, "--config", str(repo.path / ".netpol-gitops.yaml"))
    assert (with_it.code, with_it.stdout) == (without.code, without.stdout)
