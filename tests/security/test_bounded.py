"""Attack class 5 (the parts outside YAML parsing): the Argo CD deadline covers every phase and
kills everything the run started; discovery reads only regular files inside the repository; a
config symlinked out is refused without echoing it; the total input of a run is bounded."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from netpol_gitops.adapters.inputs import read_units
from netpol_gitops.errors import Deadline, NetpolError
from netpol_gitops.yaml.stream import read_documents
from tests.builders import APPS, CONFIG, NS, Repo
from tests.helpers import require_tool
from tests.security.attack import refused, run

DENY = NS.format(name="shop", flows="      []\n")


def test_the_deadline_kills_the_build_and_what_it_left_running(tmp_path: Path) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    sleeper = f"27.{os.getpid()}"
    (bindir / "kustomize").write_text(
        f"#!/bin/sh\nsleep {sleeper} &\nsleep {sleeper}1\n"  # a grandchild, as git would be
    )
    (bindir / "kustomize").chmod(0o755)
    app = tmp_path / "app"
    app.mkdir()
    (app / "kustomization.yaml").write_text("resources: []\n")
    start = time.monotonic()
    done = run(
        "argocd",
        "generate",
        cwd=app,
        env={"PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}", "NETPOL_GITOPS_DEADLINE": "1"},
        timeout=20,
    )
    assert time.monotonic() - start < 10
    refused(done, "argocd generate: error: took longer than 1s (NETPOL_GITOPS_DEADLINE)")
    left = subprocess.run(["pgrep", "-f", f"sleep {sleeper}"], capture_output=True, check=False)
    assert left.stdout == b""


def test_the_deadline_kills_builds_running_side_by_side(tmp_path: Path) -> None:
    """An aggregate built as its leaves runs builds in threads, which no signal reaches: the
    deadline kills every one of them, and what they started."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    sleeper = f"28.{os.getpid()}"
    (bindir / "kustomize").write_text(f"#!/bin/sh\nsleep {sleeper} &\nsleep {sleeper}1\n")
    (bindir / "kustomize").chmod(0o755)
    app = tmp_path / "app"
    for leaf in ("a", "b", "c"):
        (app / leaf).mkdir(parents=True)
        (app / leaf / "kustomization.yaml").write_text("resources: []\n")
    (app / "kustomization.yaml").write_text("resources:\n- a\n- b\n- c\n")
    start = time.monotonic()
    done = run(
        "argocd",
        "generate",
        cwd=app,
        env={
            "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}",
            "NETPOL_GITOPS_DEADLINE": "1",
            "NETPOL_GITOPS_SPLIT_AT": "2",
        },
        timeout=20,
    )
    assert time.monotonic() - start < 10
    refused(done, "argocd generate: error: took longer than 1s (NETPOL_GITOPS_DEADLINE)")
    left = subprocess.run(["pgrep", "-f", f"sleep {sleeper}"], capture_output=True, check=False)
    assert left.stdout == b""


def test_no_problem_handler_catches_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    """The reader collects problems per file; the deadline is not a problem and passes through."""

    def expire(*_: object, **__: object) -> None:
        raise Deadline("argocd generate", "took longer than 1s")

    monkeypatch.setattr("netpol_gitops.yaml.stream.split_stream", expire)
    with pytest.raises(Deadline):
        read_documents([("a.yaml", "a: 1\n"), ("b.yaml", "b: 1\n")])


def test_the_deadline_stops_reading_many_files(tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    body = "".join(
        f"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}, namespace: shop}}\n"
        f"data: {{k: v{i}}}\n"
        for i in range(2000)
    )
    for i in range(400):
        (app / f"c{i:03d}.yaml").write_text(body)
    start = time.monotonic()
    done = run("argocd", "generate", cwd=app, env={"NETPOL_GITOPS_DEADLINE": "1"}, timeout=120)
    elapsed = time.monotonic() - start
    refused(done, "took longer than 1s")
    assert elapsed < 8, elapsed  # stopped at the deadline, not after reading everything


def test_discovery_never_reads_a_device_or_answers_about_files_outside(tmp_path: Path) -> None:
    app = tmp_path / "repo" / "app"
    app.mkdir(parents=True)
    (tmp_path / "repo" / ".git").mkdir()
    (app / "zero.yaml").symlink_to("/dev/zero")
    start = time.monotonic()
    done = run("argocd", "discover", cwd=app, env={"ARGOCD_APP_SOURCE_PATH": "app"}, timeout=20)
    assert time.monotonic() - start < 10
    refused(done, "zero.yaml: error: symlink points outside the repository; refused")
    (app / "zero.yaml").unlink()
    secret = tmp_path / "outside.yaml"
    secret.write_text("metadata: {annotations: {netpol-gitops.io/mode: enforce}}\n")
    (app / "probe.yaml").symlink_to(secret)
    done = run("argocd", "discover", cwd=app, env={"ARGOCD_APP_SOURCE_PATH": "app"})
    refused(done, "probe.yaml: error: symlink points outside the repository; refused")
    (app / "probe.yaml").unlink()
    os.mkfifo(app / "fifo.yaml")
    done = run("argocd", "discover", cwd=app, env={"ARGOCD_APP_SOURCE_PATH": "app"}, timeout=20)
    refused(done, "fifo.yaml: error: not a regular file; refused")


def test_a_config_symlinked_out_of_the_repository_is_refused_and_not_echoed(
    tmp_path: Path,
) -> None:
    require_tool("git")
    repo = Repo(tmp_path / "repo")
    repo.write("apps/shop/ns.yaml", DENY)
    repo.write("apps/shop/pods.yaml", APPS.format(ns="shop"))
    base = repo.commit("base")
    secret = tmp_path / "secret.yaml"
    secret.write_text("apiVersion: netpol-gitops.io/v1alpha1\nkind: X\nspec: {token: hunter2}\n")
    (repo.path / ".netpol-gitops.yaml").symlink_to(secret)
    repo.commit("a config symlinked out")
    needle = ".netpol-gitops.yaml: error: symlink points outside the repository; refused"
    for done in (
        run("diff", "--repo", str(repo.path), "--base", base),
        run("render", str(repo.path / "apps")),
        run(
            "argocd",
            "generate",
            cwd=repo.path / "apps/shop",
            env={"ARGOCD_APP_SOURCE_PATH": "apps/shop"},
        ),
    ):
        refused(done, needle)
        assert "hunter2" not in done.stderr


def test_the_total_input_of_a_run_is_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "ns.yaml").write_text(DENY)
    filler = "".join(f"# {'x' * 98}\n" for _ in range(6000))  # 600 kB of comments a file
    for i in range(4):
        (app / f"filler-{i}.yaml").write_text(filler + "a: 1\n")
    limit = {"NETPOL_GITOPS_MAX_INPUT_MB": "2"}
    refused(
        run("argocd", "generate", cwd=app, env=limit),
        "the input passes 2 MiB in total; refused",
    )
    refused(run("render", str(app), env=limit), "the input passes 2 MiB in total")
    assert run("render", str(app)).code == 0  # the default bound is far above
    monkeypatch.setenv("NETPOL_GITOPS_MAX_INPUT_MB", "2")
    with pytest.raises(NetpolError, match="passes 2 MiB"):
        read_units(str(app), None)


def test_an_empty_config_is_a_located_error_everywhere(tmp_path: Path) -> None:
    require_tool("git")
    repo = Repo(tmp_path / "repo")
    repo.write("apps/shop/ns.yaml", DENY)
    base = repo.commit("base")
    repo.write(".netpol-gitops.yaml", "")
    repo.commit("an empty config")
    needle = ".netpol-gitops.yaml: error: expected exactly one YAML document"
    refused(run("diff", "--repo", str(repo.path), "--base", base), needle)
    refused(
        run(
            "argocd",
            "generate",
            cwd=repo.path / "apps/shop",
            env={"ARGOCD_APP_SOURCE_PATH": "apps/shop"},
        ),
        needle,
    )
    refused(run("render", str(repo.path / "apps")), needle)


def test_an_unwritable_report_dir_is_a_located_error(tmp_path: Path) -> None:
    require_tool("git")
    repo = Repo(tmp_path / "repo")
    repo.write(".netpol-gitops.yaml", CONFIG)
    repo.write("apps/shop/ns.yaml", DENY)
    base = repo.commit("base")
    blocker = tmp_path / "file"
    blocker.write_text("")
    done = run("diff", "--repo", str(repo.path), "--base", base, "--report-dir", f"{blocker}/r")
    refused(done, f"{blocker}/r: error: ")
    assert len(done.stderr.splitlines()) == 2  # the problem and the count


def test_an_internal_error_is_exit_3_with_the_traceback_only_under_debug(
    tmp_path: Path,
) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "ns.yaml").write_text(DENY)
    boom = tmp_path / "sitecustomize.py"
    boom.write_text(
        "import netpol_gitops.generate.render as r\n"
        "def fail(*a, **k):\n    raise RuntimeError('boom')\n"
        "r.render_units = fail\n"
    )
    # the package under test stays importable (a PYTHONPATH that points at a source tree)
    env = {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))
    }
    plain = subprocess.run(
        [sys.executable, "-c", "from netpol_gitops.cli import main; main()", "render", str(app)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert plain.returncode == 3 and plain.stdout == ""
    assert "internal error: RuntimeError: boom (rerun with --debug" in plain.stderr
    assert "Traceback" not in plain.stderr
    debug = subprocess.run(
        [
            sys.executable,
            "-c",
            "from netpol_gitops.cli import main; main()",
            "--debug",
            "render",
            str(app),
        ],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert debug.returncode == 3 and "Traceback" in debug.stderr
