"""The cold start of the commands Argo CD and kustomize run once per app (issue 17): what they
import, the deferred import of `inspect` (launch.defer) and the garbage collector's state after
the start-up. Behaviour only; the time is measured by benchmarks/run.py --startup."""

from __future__ import annotations

import gc
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from netpol_gitops import launch
from tests.helpers import EXAMPLE

EXE = str(Path(sys.executable).with_name("netpol-gitops"))
# imported by none of them: the CLI framework, jsonschema (only to explain an invalid value),
# the process machinery (only for a kustomization), what dataclasses imports for a dataclass
# without a docstring, the thread pool, hashes, tracebacks
NEVER = {
    "typer",
    "click",
    "rich",
    "pydantic",
    "jsonschema",
    "subprocess",
    "shutil",
    "tempfile",
    "inspect",
    "ast",
    "dis",
    "tokenize",
    "concurrent",
    "threading",
    "logging",
    "hashlib",
    "traceback",
    "difflib",
    "importlib.resources",
}


def imported(argv: list[str], stdin: str = "", cwd: Path = EXAMPLE) -> tuple[str, set[str]]:
    """Stdout and the modules the console script imports for ``argv``."""
    env = {**os.environ, "ARGOCD_APP_NAMESPACE": ""}
    done = subprocess.run(
        [sys.executable, "-X", "importtime", EXE, *argv],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        check=True,
    )
    names = {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert "netpol_gitops.launch" in names, done.stderr[-2000:]
    return done.stdout, names


def resource_list() -> str:
    items = "".join(
        "- " + doc.strip().replace("\n", "\n  ") + "\n"
        for path in sorted(EXAMPLE.rglob("*.yaml"))
        for doc in path.read_text().split("\n---\n")
        if doc.strip()
    )
    return f"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n{items}"


@pytest.mark.parametrize(
    ("argv", "also"),
    [(["render", "."], {"signal"}), (["krm"], {"signal"}), (["argocd", "generate"], set())],
    ids=lambda a: " ".join(a) if isinstance(a, list) else "",
)
def test_what_a_one_namespace_app_imports(argv: list[str], also: set[str]) -> None:
    out, names = imported(argv, resource_list() if argv == ["krm"] else "")
    assert "kind: NetworkPolicy" in out
    assert not names & (NEVER | also), sorted(names & (NEVER | also))
    assert "netpol_gitops.cli" not in names
    assert ("netpol_gitops.analysis.topology" in names) is (argv == ["krm"])  # krm's warnings


def test_a_kustomization_still_builds_with_what_it_imports_then(tmp_path: Path) -> None:
    """The process machinery is imported where a kustomization is built, not at start-up."""
    (tmp_path / "kustomization.yaml").write_text("resources: [ns.yaml]\n")
    (tmp_path / "ns.yaml").write_text(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  annotations:\n"
        "    netpol-gitops.io/default-deny: all\n"
    )
    if not (shutil.which("kustomize") or shutil.which("kubectl")):
        pytest.skip("neither kustomize nor kubectl is on PATH")
    out, names = imported(["render", "."], cwd=tmp_path)
    assert "name: default-deny" in out
    assert "subprocess" in names


def test_a_deferred_module_is_imported_on_first_use(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "colorsys", raising=False)
    launch.defer("colorsys")
    stand_in = sys.modules["colorsys"]
    assert isinstance(stand_in, launch._Deferred)
    import colorsys  # noqa: PLC0415 - the stand-in

    assert colorsys is stand_in
    assert colorsys.rgb_to_hsv(1.0, 0.0, 0.0) == (0.0, 1.0, 1.0)
    real = sys.modules["colorsys"]
    assert real is not stand_in and not isinstance(real, launch._Deferred)
    assert colorsys.hsv_to_rgb is real.hsv_to_rgb  # the stand-in answers for it from then on


def test_a_deferred_module_is_imported_once_under_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "colorsys", raising=False)
    launch.defer("colorsys")
    stand_in = sys.modules["colorsys"]
    start = threading.Barrier(8)
    found: list[object] = []

    def use() -> None:
        start.wait()
        found.append(stand_in.rgb_to_yiq)

    threads = [threading.Thread(target=use) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(found) == 8
    assert {id(f) for f in found} == {id(sys.modules["colorsys"].rgb_to_yiq)}


def test_a_module_already_imported_is_not_deferred() -> None:
    before = sys.modules["os"]
    launch.defer("os")
    assert sys.modules["os"] is before


def test_a_dataclass_without_a_docstring_still_gets_one() -> None:
    """With inspect deferred, dataclasses still writes the docstring it writes without."""
    code = (
        "import sys\n"
        "from netpol_gitops import launch\n"
        "launch.defer('inspect')\n"
        "from dataclasses import dataclass\n"
        "assert isinstance(sys.modules['inspect'], launch._Deferred)\n"
        "@dataclass(frozen=True)\n"
        "class A:\n"
        "    x: int\n"
        "    y: str = 'b'\n"
        "print(A.__doc__)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == "A(x: int, y: str = 'b')\n"


def test_the_collector_runs_after_the_start_up() -> None:
    """main() freezes what the imports made and leaves the collector enabled."""
    code = (
        "import gc, sys\n"
        "sys.argv = ['netpol-gitops', 'render', sys.argv[1]]\n"
        "from netpol_gitops.launch import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as done:\n"
        "    print(done.code, gc.isenabled(), gc.get_freeze_count() > 1000, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(EXAMPLE)], capture_output=True, text=True, check=True
    )
    assert done.stderr.split() == ["0", "True", "True"]
    assert gc.isenabled()


@pytest.mark.parametrize(
    ("path", "trusted"),
    [
        ("/usr/bin:/bin", "/usr/bin:/bin"),
        ("bin:/usr/bin::./x:/opt/y/", "/usr/bin:/opt/y/"),
        ("", ""),
        (":", ""),
        ("/a/../b:relative/c", "/a/../b"),
    ],
)
def test_start_up_trusts_the_path_kustomize_builds_trust(
    path: str, trusted: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """commands.prepare() makes PATH trusted without the process machinery (search_path.py,
    which kustomize_build uses too): relative and empty entries dropped, the rest in order."""
    from netpol_gitops.adapters import search_path  # noqa: PLC0415

    monkeypatch.setenv("PATH", path)
    assert search_path.trusted_path() == trusted
