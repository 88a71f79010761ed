"""Red-team attacks of the classes SECURITY.md lists, each through the real entry point (the
installed CLI, a real git repository, the argocd-cmp-server emulation). Each one worked against
the walker, the sandbox or the materialiser before its fix; the tests keep the defence."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.builders import CONFIG, Repo
from tests.e2e.cmp import cmp_generate
from tests.helpers import require_tool
from tests.security.attack import flagged, listener, refused, run

NAMESPACE = "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n"


def _git_repo(root: Path) -> Repo:
    require_tool("git")
    repo = Repo(root)
    repo.write(".netpol-gitops.yaml", CONFIG)
    repo.write("apps/shop/ns.yaml", NAMESPACE)
    return repo


def _kustomization(folder: Path, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ns.yaml").write_text(NAMESPACE)
    (folder / "kustomization.yaml").write_text(text)


# --- materialising a revision: a crafted tree must not write outside the temporary folder ----


def _git(repo: Repo, stdin: str, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=repo.path, input=stdin.encode(), capture_output=True, check=True
    )
    return done.stdout.decode().strip()


def _crafted_commit(repo: Repo, entries: str) -> str:
    """A commit whose root tree is ``git mktree`` of ``entries`` (which git add never makes)."""
    tree = _git(repo, entries, "mktree", "--missing")
    return repo.git("commit-tree", "-p", "HEAD", "-m", "crafted", tree)


def _blob(repo: Repo, data: str) -> str:
    return _git(repo, data, "hash-object", "-w", "--stdin")


def test_a_tree_naming_a_symlink_and_a_folder_alike_writes_nothing_outside(
    tmp_path: Path,
) -> None:
    """``a`` -> /outside, then ``a/pwn.pth``: written through the link, a .pth file in
    site-packages runs at the next Python start. Refused; the outside folder stays empty."""
    repo = _git_repo(tmp_path / "repo")
    base = repo.commit("base")
    outside = tmp_path / "outside"
    outside.mkdir()
    link = _blob(repo, str(outside))
    pwn = _blob(repo, "import os; os.system('touch ran')\n")
    sub = _git(repo, f"100644 blob {pwn}\tpwn.pth\n", "mktree")
    for entries in (
        f"120000 blob {link}\ta\n040000 tree {sub}\ta\n",  # the order git sorts them in
        f"040000 tree {sub}\ta\n120000 blob {link}\ta\n",
    ):
        head = _crafted_commit(repo, entries)
        refused(
            run("diff", "--repo", str(repo.path), "--base", base, "--head", head),
            "a: error: named twice in the tree, or under a symlink; refused",
        )
        assert list(outside.iterdir()) == []


def test_a_symlink_the_disk_refuses_is_a_located_error(tmp_path: Path) -> None:
    repo = _git_repo(tmp_path / "repo")
    base = repo.commit("base")
    for target in ("a\0b", "", "x" * 5000):
        blob = _blob(repo, target)
        head = _crafted_commit(repo, f"120000 blob {blob}\tlink.yaml\n")
        refused(
            run("diff", "--repo", str(repo.path), "--base", base, "--head", head),
            "link.yaml: error: cannot be written: ",
        )


# --- argv injection: a folder named like an option ------------------------------------------


KUBECONFIG = """apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {{server: "https://127.0.0.1:{port}"}}
contexts:
- name: c
  context: {{cluster: c, user: u}}
users:
- name: u
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: sh
      args: ["-c", "touch {marker}"]
      interactiveMode: Never
current-context: c
"""


@pytest.mark.parametrize("option", ["--kubeconfig=kc", "--server=127.0.0.1:{port}"])
def test_a_folder_named_like_an_option_is_built_as_a_folder(option: str, tmp_path: Path) -> None:
    """``render .`` (the Action's default path) found ``--kubeconfig=kc`` and ran ``kubectl
    kustomize --kubeconfig=kc``: kubectl ran the repository's exec credential plugin (pathlib
    drops the ``./`` that os.walk gave)."""
    if not (shutil.which("kustomize") or shutil.which("kubectl")):
        require_tool("kubectl")
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    marker = tmp_path / "ran"
    with listener() as seen:
        (root / "kc").write_text(KUBECONFIG.format(port=seen.port, marker=marker))
        app = root / option.format(port=seen.port)
        _kustomization(app, "resources: [ns.yaml]\n")
        for command in ("render", "check"):
            done = run(command, ".", cwd=root)
            assert done.code in (0, 1) and "Traceback" not in done.stderr, done
            assert "kustomize` failed" not in done.stderr, done.stderr
        done = run("render", ".", cwd=root)
        assert done.code == 0 and "name: shop" in done.stdout, done
    assert seen.connections == []
    assert not marker.exists()


# --- plugin configs the walker did not see ---------------------------------------------------


PLUGIN_FORMS = {
    # transformers naming a folder: kustomize builds it, its output configures the plugins
    "folder of configs": (
        {
            "t/kustomization.yaml": "resources: [pt.yaml]\n",
            "t/pt.yaml": "apiVersion: builtin\nkind: PatchTransformer\nmetadata: {{name: p}}\n"
            "path: {url}/p.yaml\n",
        },
        "transformers: [t]\n",
        "kustomization.yaml:2:16: error: transformers[0]: 't' is a folder",
    ),
    "second document of a config file": (
        {
            "two.yaml": "apiVersion: builtin\nkind: LabelTransformer\nmetadata: {{name: l}}\n"
            "labels: {{a: b}}\nfieldSpecs: [{{path: metadata/labels, create: true}}]\n---\n"
            "apiVersion: builtin\nkind: PatchTransformer\nmetadata: {{name: p}}\n"
            "path: {url}/p.yaml\n"
        },
        "transformers: [two.yaml]\n",
        "two.yaml:10:7: error: path: 'http://127.0.0.1:",
    ),
    "paths of a PatchStrategicMergeTransformer": (
        {
            "psm.yaml": "apiVersion: builtin\nkind: PatchStrategicMergeTransformer\n"
            "metadata: {{name: p}}\npaths:\n- {url}/p.yaml\n"
        },
        "transformers: [psm.yaml]\n",
        "psm.yaml:5:3: error: paths[0]: 'http://127.0.0.1:",
    ),
    "a multi-line entry that is no YAML object is a path": (
        {},
        'patchesStrategicMerge:\n- "{url}/p.yaml\\n"\n',
        "kustomization.yaml:3:3: error: patchesStrategicMerge[0]: 'http://127.0.0.1:",
    ),
    "a List of configs": (
        {
            "list.yaml": "apiVersion: v1\nkind: List\nitems:\n- apiVersion: builtin\n"
            "  kind: PatchTransformer\n  metadata: {{name: p}}\n  path: {url}/p.yaml\n"
        },
        "generators: [list.yaml]\n",
        "list.yaml:2:7: error: kind: a plugin or function (List); refused",
    ),
}


@pytest.mark.parametrize("form", PLUGIN_FORMS)
def test_a_plugin_config_the_walk_cannot_see_is_refused(form: str, tmp_path: Path) -> None:
    files, entries, where = PLUGIN_FORMS[form]
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    app = root / "app"
    with listener() as seen:
        url = f"http://127.0.0.1:{seen.port}"
        _kustomization(app, "resources: [ns.yaml]\n" + entries.format(url=url))
        for name, text in files.items():
            (app / name).parent.mkdir(parents=True, exist_ok=True)
            (app / name).write_text(text.format(url=url))
        refused(run("render", str(app)), where)
        refused(run("argocd", "generate", cwd=app, env={"ARGOCD_APP_SOURCE_PATH": "app"}), where)
        flagged(run("check", str(root)), where.split(": error")[0])
    assert seen.connections == []


# --- local folders kustomize takes for remote bases ------------------------------------------


@pytest.mark.parametrize(
    "entry",
    [
        "GitHub.com/org/repo",
        "github.com:org/repo",
        "Git@127.0.0.1:org/repo",
        "user@127.0.0.1/org/repo",
        "gh:org/repo",
        " https:/127.0.0.1/x",
    ],
)
def test_a_folder_named_like_a_remote_base_is_refused(entry: str, tmp_path: Path) -> None:
    """kustomize parses these as git remotes before it looks for a local folder of that name;
    the walk saw the folder and let them through (GIT_ALLOW_PROTOCOL alone stopped the clone)."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    _kustomization(root / "app" / entry.strip(), "resources: [ns.yaml]\n")
    (root / "app" / "kustomization.yaml").write_text(f'resources:\n- "{entry}"\n')
    refused(
        run("render", str(root / "app")),
        "kustomization.yaml:2:3: error: resources[0]: ",
        "is a remote or absolute reference; refused",
    )


# --- symlink loops ---------------------------------------------------------------------------


def test_symlink_loops_are_located_errors_not_internal_errors(tmp_path: Path) -> None:
    repo = _git_repo(tmp_path / "repo")
    shop = repo.path / "apps" / "shop"
    (shop / "loop.yaml").symlink_to("loop.yaml")
    refused(run("render", str(repo.path)), "loop.yaml: error: cannot read: ")
    (shop / "loop.yaml").unlink()
    (shop / "kustomization.yaml").write_text("resources: [ns.yaml, loop]\n")
    (shop / "loop").symlink_to("loop")
    refused(run("render", str(shop)), "kustomization.yaml:1:22: error: resources[1]: 'loop'")
    (shop / "kustomization.yaml").unlink()
    (shop / "loop").unlink()
    (shop / ".netpol-gitops.yaml").symlink_to("c")
    (shop / "c").symlink_to(".netpol-gitops.yaml")
    refused(run("render", str(shop)), ".netpol-gitops.yaml: error: cannot read: ")
    base = repo.commit("loops")
    argo = cmp_generate(repo.path, "apps/shop", app_namespace="shop")
    assert "Traceback" not in argo.stderr and "internal error" not in argo.stderr, argo
    refused(run("diff", "--repo", str(repo.path), "--base", base), "cannot read: ")


# --- Argo CD: the repository's boundary from ARGOCD_APP_SOURCE_PATH ----------------------------


SECRET = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: other-tenant-secret\n"


@pytest.mark.parametrize("how", ["app path through a symlink", "'..' in the source path"])
def test_the_repository_boundary_is_not_widened_by_the_app_path(how: str, tmp_path: Path) -> None:
    """The root was the app directory minus as many folders as ARGOCD_APP_SOURCE_PATH has
    parts: an app path that goes through ``apps/shop -> ..`` or names ``..`` put it above the
    repository copy, and a symlink to another tenant's files was followed as "inside"."""
    repo = _git_repo(tmp_path / "repo")
    secret = tmp_path / "elsewhere" / "ns.yaml"
    secret.parent.mkdir()
    secret.write_text(SECRET)
    if how == "app path through a symlink":
        (repo.path / "apps" / "web").symlink_to("..")
        app_path = "apps/web"
        (repo.path / "leak.yaml").symlink_to(secret)
    else:
        app_path = "apps/../apps/shop"
        (repo.path / "apps" / "shop" / "leak.yaml").symlink_to(secret)
    repo.commit("app")
    argo = cmp_generate(repo.path, app_path, named=True)
    assert "other-tenant-secret" not in argo.stdout
    assert argo.code == 1 and argo.stdout == "", argo
    assert "ARGOCD_APP_SOURCE_PATH" in argo.stderr or "outside the repository" in argo.stderr
    assert "Traceback" not in argo.stderr


# --- the sandbox: http(s) fetches that pass the walk go nowhere --------------------------------


def test_the_build_sees_a_proxy_that_is_nowhere(tmp_path: Path) -> None:
    """kustomize's own http client honours HTTP(S)_PROXY: a fetch the walk misses (as the plugin
    config forms above did) reaches no host but loopback. A stand-in records its environment,
    started with a real proxy configured."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    record = tmp_path / "env.json"
    script = bindir / "kustomize"
    script.write_text(
        f"#!{sys.executable}\nimport json, os\n"
        f"json.dump(dict(os.environ), open({str(record)!r}, 'w'))\nprint({NAMESPACE!r})\n"
    )
    script.chmod(0o755)
    _kustomization(tmp_path / "app", "resources: [ns.yaml]\n")
    proxy = {"HTTPS_PROXY": "http://proxy.corp:3128", "NO_PROXY": "*", "no_proxy": "*"}
    path = f"{bindir}{os.pathsep}{os.environ['PATH']}"
    done = run("render", str(tmp_path / "app"), env={**proxy, "PATH": path})
    assert done.code == 0, done.stderr
    seen = json.loads(record.read_text())
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"):
        assert seen[name] == "http://127.0.0.1:0", name
    assert seen["NO_PROXY"] == seen["no_proxy"] == ""
