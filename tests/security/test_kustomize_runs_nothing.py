"""Attack class 1: nothing in a repository runs, nothing is fetched. Every reference a
kustomization makes is walked before kustomize starts; the build runs in an environment that
could not reach out anyway, in a process group killed whole."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.builders import APPS, CONFIG, NS, Repo
from tests.e2e.cmp import cmp_generate
from tests.helpers import require_tool
from tests.security.attack import flagged, listener, refused, run

NAMESPACE = "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n"

# (kustomization text with {url} and {marker}, where the refused entry is, the field path)
FORMS = {
    "http resource": ("resources:\n- {url}/ns.yaml\n", "2:3", "resources[0]"),
    "https remote base with ref": (
        "resources:\n- ns.yaml\n- {url}/org/repo//base?ref=v1\n",
        "3:3",
        "resources[1]",
    ),
    "git:: remote": ("resources:\n- git::{url}/repo.git\n", "2:3", "resources[0]"),
    "ssh remote": ("resources:\n- ssh://git@127.0.0.1:{port}/org/repo\n", "2:3", "resources[0]"),
    "scp-like remote": ("resources:\n- git@127.0.0.1:org/repo\n", "2:3", "resources[0]"),
    "ref that is a git option": (
        "resources:\n- 127.0.0.1:{port}/org/repo//base?ref=--upload-pack=touch${{IFS}}{marker}\n",
        "2:3",
        "resources[0]",
    ),
    "host/org/repo shorthand": ("resources:\n- github.com/org/repo\n", "2:3", "resources[0]"),
    "component": ("components:\n- {url}/component\n", "2:3", "components[0]"),
    "base": ("bases:\n- {url}/base\n", "2:3", "bases[0]"),
    "patch path": (
        "resources: [ns.yaml]\npatches:\n- path: {url}/p.yaml\n",
        "3:9",
        "patches[0].path",
    ),
    "strategic merge patch": (
        "resources: [ns.yaml]\npatchesStrategicMerge:\n- {url}/p.yaml\n",
        "3:3",
        "patchesStrategicMerge[0]",
    ),
    "json6902 patch": (
        "resources: [ns.yaml]\npatchesJson6902:\n- path: {url}/p.json\n"
        "  target: {{kind: Namespace}}\n",
        "3:9",
        "patchesJson6902[0].path",
    ),
    "configMapGenerator file": (
        "configMapGenerator:\n- name: c\n  files:\n  - key={url}/f\n",
        "4:5",
        "configMapGenerator[0].files[0]",
    ),
    "secretGenerator env": (
        "secretGenerator:\n- name: s\n  envs:\n  - {url}/e.env\n",
        "4:5",
        "secretGenerator[0].envs[0]",
    ),
    "openapi": (
        "resources: [ns.yaml]\nopenapi:\n  path: {url}/schema.json\n",
        "3:9",
        "openapi.path",
    ),
    "crds": ("resources: [ns.yaml]\ncrds:\n- {url}/crd.json\n", "3:3", "crds[0]"),
    "configurations": (
        "resources: [ns.yaml]\nconfigurations:\n- {url}/c.yaml\n",
        "3:3",
        "configurations[0]",
    ),
    "replacements": (
        "resources: [ns.yaml]\nreplacements:\n- path: {url}/r.yaml\n",
        "3:9",
        "replacements[0].path",
    ),
    "inline builtin plugin": (
        "resources: [ns.yaml]\ntransformers:\n- |\n  apiVersion: builtin\n"
        "  kind: PatchTransformer\n  metadata: {{name: p}}\n  path: {url}/p.yaml\n",
        "3:3",
        "transformers[0] path",
    ),
    "helm chart": (
        "helmCharts:\n- name: evil\n  repo: {url}/charts\n  version: 1.0.0\n",
        "2:1",
        "helmCharts",
    ),
    "absolute path": ("resources:\n- /etc/hostname\n", "2:3", "resources[0]"),
    "path leaving the repository": ("resources:\n- ../../../../../etc\n", "2:3", "resources[0]"),
}


@pytest.mark.parametrize("form", FORMS)
def test_a_reference_that_is_not_a_path_in_the_repository_is_refused_before_any_build(
    form: str, tmp_path: Path
) -> None:
    text, where, fld = FORMS[form]
    app = tmp_path / "repo" / "app"
    app.mkdir(parents=True)
    (tmp_path / "repo" / ".git").mkdir()  # the repository's root
    (app / "ns.yaml").write_text(NAMESPACE)
    marker = tmp_path / "ran"
    with listener() as seen:
        url = f"http://127.0.0.1:{seen.port}"
        (app / "kustomization.yaml").write_text(text.format(url=url, port=seen.port, marker=marker))
        for command in ("render", "reach", "argocd"):
            if command == "argocd":
                done = run("argocd", "generate", cwd=app, env={"ARGOCD_APP_SOURCE_PATH": "app"})
                refused(done, f"kustomization.yaml:{where}: error: {fld}")
            else:
                refused(run(command, str(app)), f"{app}/kustomization.yaml:{where}: error: {fld}")
        flagged(run("check", str(app)), f"{app}/kustomization.yaml:{where}: error: [")
    assert seen.connections == []
    assert not marker.exists()


def test_a_remote_reference_in_a_base_is_refused_naming_the_base(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "base").mkdir()
    (root / "base" / "ns.yaml").write_text(NAMESPACE)
    (root / "overlay").mkdir()
    (root / "overlay" / "kustomization.yaml").write_text("resources:\n- ../base\n")
    with listener() as seen:
        (root / "base" / "kustomization.yaml").write_text(
            f"resources:\n- ns.yaml\n- http://127.0.0.1:{seen.port}/x.yaml\n"
        )
        refused(
            run("render", str(root / "overlay")),
            f"{root}/base/kustomization.yaml:3:3: error: resources[1]: 'http://127.0.0.1:",
            "is a remote or absolute reference; refused",
        )
    assert seen.connections == []


@pytest.fixture
def hostile_repo(tmp_path: Path) -> tuple[Repo, str, Path]:
    """A repository whose head commit makes apps/shop a kustomization with a remote base whose
    ref is a git option that would touch the marker."""
    require_tool("git")
    repo = Repo(tmp_path / "repo")
    repo.write(".netpol-gitops.yaml", CONFIG)
    repo.write("apps/shop/ns.yaml", NS.format(name="shop", flows="      []\n"))
    repo.write("apps/shop/pods.yaml", APPS.format(ns="shop"))
    base = repo.commit("base")
    marker = tmp_path / "ran"
    return repo, base, marker


def test_a_pull_request_with_a_remote_base_is_refused_by_diff_check_and_argocd(
    hostile_repo: tuple[Repo, str, Path],
) -> None:
    repo, base, marker = hostile_repo
    with listener() as seen:
        remote = f"127.0.0.1:{seen.port}/org/repo//base?ref=--upload-pack=touch${{IFS}}{marker}"
        repo.write(
            "apps/shop/kustomization.yaml", f"resources:\n- ns.yaml\n- pods.yaml\n- {remote}\n"
        )
        repo.commit("a remote base")
        where = "apps/shop/kustomization.yaml:4:3: error: resources[2]: '127.0.0.1:"
        refused(run("diff", "--repo", str(repo.path), "--base", base), where)
        refused(run("diff", "--repo", str(repo.path), "--base", base, "--path", "apps/shop"), where)
        flagged(run("check", str(repo.path / "apps/shop")), where[5:27])
        argo = cmp_generate(repo.path, "apps/shop", app_namespace="shop")
        assert argo.code == 1 and argo.stdout == ""
        assert "kustomization.yaml:4:3: error: resources[2]:" in argo.stderr
    assert seen.connections == []
    assert not marker.exists()


def _fake_kustomize(tmp_path: Path) -> tuple[Path, Path, str]:
    """A `kustomize` first on PATH that records its environment, leaves a grandchild running (as
    git or ssh would) and prints a Namespace."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    record = tmp_path / "env.json"
    sleeper = f"28.{os.getpid()}"
    script = bindir / "kustomize"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, os, subprocess\n"
        f"json.dump(dict(os.environ), open({str(record)!r}, 'w'))\n"
        f"subprocess.Popen(['sleep', {sleeper!r}])\n"
        f"print({NAMESPACE!r})\n"
    )
    script.chmod(0o755)
    return bindir, record, sleeper


def test_the_build_runs_in_an_environment_that_cannot_reach_out(tmp_path: Path) -> None:
    bindir, record, sleeper = _fake_kustomize(tmp_path)
    app = tmp_path / "app"
    app.mkdir()
    (app / "ns.yaml").write_text(NAMESPACE)
    (app / "kustomization.yaml").write_text("resources: [ns.yaml]\n")
    secrets = {
        "GITHUB_TOKEN": "ghs_secret",
        "GH_TOKEN": "ghs_secret",
        "GITHUB_ENV": str(tmp_path / "github-env"),
        "GITHUB_OUTPUT": str(tmp_path / "github-output"),
        "ACTIONS_RUNTIME_TOKEN": "secret",
        "ARGOCD_ENV_SECRET": "secret",
        "ARGOCD_AUTH_TOKEN": "secret",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "KUBECONFIG": str(tmp_path / "real-kubeconfig"),
        "GIT_CONFIG_GLOBAL": str(tmp_path / "gitconfig"),
        "SSH_AUTH_SOCK": str(tmp_path / "agent"),
    }
    env = {**secrets, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}
    done = run("render", str(app), env=env)
    assert done.code == 0, done.stderr
    seen = json.loads(record.read_text())
    assert not {k for k in seen if k in secrets and k not in ("KUBECONFIG", "GIT_CONFIG_GLOBAL")}
    assert not any("secret" in v for v in seen.values())
    assert seen["GIT_ALLOW_PROTOCOL"] == ""  # no git transport at all
    assert seen["GIT_CONFIG_NOSYSTEM"] == "1" and seen["GIT_CONFIG_GLOBAL"] == os.devnull
    assert seen["HOME"] != os.environ.get("HOME") and not Path(seen["HOME"]).exists()  # removed
    assert seen["KUBECONFIG"].startswith(seen["HOME"])
    left = subprocess.run(["pgrep", "-f", f"sleep {sleeper}"], capture_output=True, check=False)
    assert left.stdout == b""  # the grandchild went with the build's process group


def test_kubectl_kustomize_never_contacts_the_configured_api_server(tmp_path: Path) -> None:
    require_tool("kubectl")
    app = tmp_path / "app"
    app.mkdir()
    (app / "ns.yaml").write_text(NAMESPACE)
    (app / "kustomization.yaml").write_text("resources: [ns.yaml]\n")
    with listener() as seen:
        kubeconfig = tmp_path / "kubeconfig"
        kubeconfig.write_text(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: "
            f"'http://127.0.0.1:{seen.port}'}}\ncontexts:\n- name: c\n  context: {{cluster: c}}\n"
            "current-context: c\n"
        )
        done = run("render", str(app), env={"KUBECONFIG": str(kubeconfig)})
    assert done.code == 0, done.stderr
    assert "name: shop" in done.stdout
    assert seen.connections == []


def test_a_kubectl_or_git_shipped_in_the_checkout_is_never_run(tmp_path: Path) -> None:
    """With a relative entry on PATH (".", or an empty one), the checkout's own `kustomize`,
    `kubectl` and `git` would be found first: they are not."""
    require_tool("git")
    repo = Repo(tmp_path / "repo")
    repo.write(".netpol-gitops.yaml", CONFIG)
    repo.write("apps/shop/ns.yaml", NS.format(name="shop", flows="      []\n"))
    repo.write("apps/shop/kustomization.yaml", "resources: [ns.yaml]\n")
    base = repo.commit("base")
    marker = tmp_path / "ran"
    for name in ("kustomize", "kubectl", "git"):
        repo.write(name, f"#!/bin/sh\ntouch {marker}\nexit 1\n")
        (repo.path / name).chmod(0o755)
        (repo.path / "apps" / "shop" / name).symlink_to(f"../../{name}")
    repo.commit("tools in the checkout")
    env = {"PATH": f".{os.pathsep}{os.pathsep}{os.environ['PATH']}"}
    for cwd in (repo.path, repo.path / "apps" / "shop"):
        done = run("diff", "--base", base, "--path", "apps/shop", cwd=cwd, env=env)
        assert done.code == 0, done.stderr
        assert run("render", ".", cwd=cwd, env=env).code == 0
    assert not marker.exists()
