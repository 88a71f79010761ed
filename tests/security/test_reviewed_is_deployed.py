"""Attack class 3 and 4: what the pull-request review reads is what Argo CD and kustomize deploy.
Revisions come from the git objects without attribute processing; configs come from each
revision's tree by the one rule; symlinks are followed the same way everywhere; kustomizations
under a plain path are built, so an overlay's patch is reviewed."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import git
import pytest

from netpol_gitops.adapters.gitrev import materialised
from tests.builders import APPS, CONFIG, NS, Repo
from tests.e2e.cmp import cmp_generate
from tests.helpers import change_lines, require_tool
from tests.security.attack import refused, run

OPEN = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: open, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Ingress]
  ingress: [{}]
"""
DENY = NS.format(name="shop", flows="      []\n")


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    require_tool("git")
    r = Repo(tmp_path / "repo")
    r.write(".netpol-gitops.yaml", CONFIG)
    r.write("apps/shop/ns.yaml", DENY)
    r.write("apps/shop/pods.yaml", APPS.format(ns="shop"))
    return r


def review(repo: Repo, base: str, *extra: str) -> dict[str, Any]:
    done = run("diff", "--repo", str(repo.path), "--base", base, "-o", "json", *extra)
    assert done.code == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def opened_to_api(report: dict[str, Any]) -> list[str]:
    return [c for c in change_lines(report) if c.startswith("+") and "=> shop/api[Pod]" in c]


def deployed_policies(repo: Repo, app: str) -> list[str]:
    """The NetworkPolicies the Argo CD plugin (cmp-server emulation) applies for ``app``."""
    argo = cmp_generate(repo.path, app, app_namespace="shop")
    assert argo.code == 0, argo.stderr
    return sorted(o["metadata"]["name"] for o in argo.objects if o["kind"] == "NetworkPolicy")


def test_git_attributes_do_not_change_what_is_reviewed(repo: Repo) -> None:
    base = repo.commit("base")
    repo.write("apps/shop/kustomization.yaml", "resources:\n- ns.yaml\n- pods.yaml\n- open.yaml\n")
    repo.write("apps/shop/open.yaml", OPEN)
    repo.write(
        ".gitattributes",
        "apps/shop/open.yaml export-ignore\napps/** export-subst\n*.yaml text eol=crlf\n",
    )
    repo.write("apps/shop/pods.yaml", APPS.format(ns="shop") + "# $Format:%H$\n")
    repo.commit("an allow-all policy hidden from `git archive`")
    report = review(repo, base)
    assert opened_to_api(report)  # the review sees the policy that is deployed
    assert "open" in deployed_policies(repo, "apps/shop")


def test_a_revision_is_materialised_byte_for_byte(repo: Repo) -> None:
    repo.write(".gitattributes", "* export-subst\n*.yaml text eol=crlf\n")
    repo.write("apps/shop/pods.yaml", "# $Format:%H$\n" + APPS.format(ns="shop"))
    repo.commit("attributes")
    handle = git.Repo(repo.path)
    with materialised(handle.commit("HEAD")) as root:
        for rel in ("apps/shop/pods.yaml", "apps/shop/ns.yaml", ".gitattributes"):
            blob = handle.commit("HEAD").tree / rel
            assert (root / rel).read_bytes() == blob.data_stream.read()


def test_a_config_in_a_sub_folder_applies_there_in_review_and_deployment(repo: Repo) -> None:
    base = repo.commit("base")
    repo.write(
        "apps/shop/.netpol-gitops.yaml",
        CONFIG + '  defaults:\n    mode: "off"\n',
    )
    repo.commit("a config that switches the namespace off")
    for extra in ((), ("--path", "apps"), ("--path", "apps/shop")):
        report = review(repo, base, *extra)
        assert report["namespaces"] == [{"name": "shop", "before": "all", "after": "off"}], extra
        assert report["findings"][0]["rule"] == "protection-reduced"
    assert deployed_policies(repo, "apps/shop") == []
    rendered = run("render", str(repo.path / "apps"), "--only-generated")
    assert rendered.code == 0 and rendered.stdout.strip() in ("", "---")


def test_config_is_read_from_each_revisions_tree_not_the_working_tree(repo: Repo) -> None:
    repo.write("cfg.yaml", CONFIG)
    base = repo.commit("base")
    repo.write("cfg.yaml", CONFIG + '  defaults:\n    mode: "off"\n')
    repo.commit("the config switches every namespace off")
    (repo.path / "cfg.yaml").write_text(CONFIG)  # the working tree says otherwise
    report = review(repo, base, "--config", "cfg.yaml")
    assert report["namespaces"] == [{"name": "shop", "before": "all", "after": "off"}]
    report = review(repo, base, "--config", str(repo.path / "cfg.yaml"))
    assert report["namespaces"] == [{"name": "shop", "before": "all", "after": "off"}]
    outside = run(
        "diff", "--repo", str(repo.path), "--base", base, "--config", str(repo.path.parent)
    )
    refused(outside, "--config must name a file inside the repository")


def test_a_symlinked_folder_inside_the_repository_is_reviewed_as_deployed(repo: Repo) -> None:
    repo.write("extra/open/np.yaml", OPEN)
    base = repo.commit("base")
    (repo.path / "apps" / "more").symlink_to("../extra/open")
    repo.commit("a symlinked folder with an allow-all policy")
    assert opened_to_api(review(repo, base, "--path", "apps"))
    assert "open" in deployed_policies(repo, "apps")


def test_a_symlinked_folder_leaving_the_repository_is_refused_everywhere(
    repo: Repo, tmp_path: Path
) -> None:
    base = repo.commit("base")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "np.yaml").write_text(OPEN)
    (repo.path / "apps" / "more").symlink_to(outside)
    repo.commit("a symlinked folder out of the repository")
    needle = "apps/more: error: symlink points outside the repository; refused"
    refused(run("diff", "--repo", str(repo.path), "--base", base), needle)
    refused(run("render", str(repo.path / "apps")), "symlink points outside the repository")
    argo = cmp_generate(repo.path, "apps", app_namespace="shop", named=True)
    assert argo.code == 1 and "more: error: symlink points outside the repository" in argo.stderr
    assert not cmp_generate(repo.path, "apps", app_namespace="shop").matched
    found = run("argocd", "discover", cwd=repo.path / "apps")
    refused(found, "more: error: symlink points outside the repository; refused")


def test_an_overlay_patch_under_the_default_path_is_reviewed(repo: Repo) -> None:
    require_tool("kubectl")
    repo.write("apps/shop/kustomization.yaml", "resources: [ns.yaml, pods.yaml]\n")
    repo.write("overlays/prod/kustomization.yaml", "resources: [../../apps/shop]\n")
    base = repo.commit("base and overlay")
    repo.write(
        "overlays/prod/kustomization.yaml",
        "resources: [../../apps/shop]\npatches:\n- path: open-up.yaml\n",
    )
    repo.write(
        "overlays/prod/open-up.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  annotations:\n"
        "    netpol-gitops.io/default-deny: none\n",
    )
    repo.commit("a patch in the overlay drops the deny")
    report = review(repo, base)  # the Action's default path: .
    assert report["namespaces"] == [{"name": "shop", "before": "all", "after": "none"}]
    assert report["findings"][0]["rule"] == "protection-reduced"
    built = subprocess.run(
        ["kubectl", "kustomize", str(repo.path / "overlays/prod")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "netpol-gitops.io/default-deny: none" in built  # what Argo CD would deploy


def test_a_kustomization_symlinked_out_of_the_repository_is_a_located_error(
    repo: Repo, tmp_path: Path
) -> None:
    base = repo.commit("base")
    evil = tmp_path / "kustomization.yaml"
    evil.write_text("resources: [/etc/hostname]\n")
    (repo.path / "apps" / "shop" / "kustomization.yaml").symlink_to(evil)
    repo.commit("a kustomization symlinked out")
    refused(
        run("diff", "--repo", str(repo.path), "--base", base),
        "apps/shop/kustomization.yaml: error: symlink points outside the repository; refused",
    )
    refused(run("render", str(repo.path / "apps")), "symlink points outside the repository")


def test_a_config_that_is_a_folder_is_refused_not_skipped(repo: Repo) -> None:
    base = repo.commit("base")
    repo.write("apps/shop/.netpol-gitops.yaml/x.yaml", "a: 1\n")
    repo.commit("a folder named like the config")
    needle = "apps/shop/.netpol-gitops.yaml: error: cannot read: Is a directory"
    refused(run("diff", "--repo", str(repo.path), "--base", base), needle)
    refused(
        run("render", str(repo.path / "apps")), "/.netpol-gitops.yaml: error: cannot read: Is a"
    )
    argo = cmp_generate(repo.path, "apps/shop", app_namespace="shop", named=True)
    assert (
        argo.code == 1 and ".netpol-gitops.yaml: error: cannot read: Is a directory" in argo.stderr
    )
