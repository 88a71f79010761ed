"""No repository content is executed; paths stay inside; hostile names cannot inject; faults
end cleanly and leave nothing behind."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.builders import APPS, CONFIG, NS, Repo
from tests.helpers import cli, require_tool

BIN = Path(sys.executable).parent
SLEEP = f"29.{os.getpid()}"  # a sleep only this test starts


def test_a_helm_chart_in_a_kustomization_is_refused(tmp_path: Path) -> None:
    require_tool("kubectl")
    (tmp_path / "kustomization.yaml").write_text(
        "helmCharts:\n- name: evil\n  repo: https://charts.example.com\n  version: 1.0.0\n"
    )
    run = cli("render", str(tmp_path))
    assert run.code == 1 and run.stdout == ""
    assert "never runs repository code" in run.stderr


def test_a_git_symlink_leaving_the_repository_is_refused(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "repo")
    repo.write("apps/ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n")
    base = repo.commit("base")
    (repo.path / "apps" / "leak.yaml").symlink_to("../../../../etc/passwd")
    repo.commit("a symlink out of the repository")
    run = cli("diff", "--repo", str(repo.path), "--base", base)
    assert run.code == 1 and run.stdout == ""
    assert "apps/leak.yaml: error: symlink points outside the repository; refused" in run.stderr


def test_path_cannot_leave_the_repository(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "repo")
    base = repo.commit("empty")
    run = cli("diff", "--repo", str(repo.path), "--base", base, "--path", "../other")
    assert run.code == 1
    assert "--path must stay inside the repository" in run.stderr


def test_hostile_names_cannot_inject_commands_or_break_fences(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "repo")
    repo.write(".netpol-gitops.yaml", CONFIG)
    base = repo.commit("base")
    evil = "x\\n::set-output name=a::b\\n```\\n<script>"
    repo.write("apps/pods.yaml", APPS.format(ns=f'"{evil}"'))
    repo.commit("hostile names")
    for fmt in ("txt", "md"):
        run = cli("diff", "--repo", str(repo.path), "--base", base, "-o", fmt)
        assert run.code == 0, run.stderr
        assert not any(line.startswith("::") for line in run.stdout.splitlines()), run.stdout
    md = cli("diff", "--repo", str(repo.path), "--base", base, "-o", "md").stdout
    assert "+ x\\x0a::set-output name=a::b\\x0a```\\x0a<script>/api[Pod] => " in md
    assert "\n````diff\n" in md  # the fence outgrew the backticks in the names
    repo.write("apps/ns.yaml", NS.format(name='"shop\\n::add-mask::x"', flows="      []\n"))
    repo.commit("a hostile Namespace name")
    run = cli("diff", "--repo", str(repo.path), "--base", base)
    assert run.code == 1
    assert "'shop\\n::add-mask::x' is not a valid namespace name" in run.stderr
    assert not any(line.startswith("::") for line in run.stderr.splitlines())


@pytest.fixture
def slow_kustomize(tmp_path: Path) -> Path:
    """A `kustomize` that hangs, first on PATH, and an app that needs it."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "kustomize").write_text(f"#!/bin/sh\nexec sleep {SLEEP}\n")
    (bindir / "kustomize").chmod(0o755)
    app = tmp_path / "app"
    app.mkdir()
    (app / "kustomization.yaml").write_text("resources: []\n")
    return bindir


def test_an_argocd_generate_past_its_deadline_stops_cleanly(
    slow_kustomize: Path, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "PATH": f"{slow_kustomize}{os.pathsep}{BIN}{os.pathsep}{os.environ['PATH']}",
        "NETPOL_GITOPS_DEADLINE": "1",
        "TMPDIR": str(tmp_path),
    }
    start = time.monotonic()
    done = subprocess.run(
        [str(BIN / "netpol-gitops"), "argocd", "generate"],
        cwd=tmp_path / "app",
        env=env,
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert time.monotonic() - start < 15  # stopped at its deadline, not after the 30 s hang
    assert done.returncode == 1
    assert done.stdout == ""
    assert "took longer than 1s (NETPOL_GITOPS_DEADLINE); stopped, nothing written" in done.stderr
    left = subprocess.run(
        ["pgrep", "-f", f"sleep {SLEEP}"], capture_output=True, text=True, check=False
    )
    assert left.stdout == ""  # the build it started was killed


def test_a_failing_build_shows_its_stderr(tmp_path: Path) -> None:
    require_tool("kubectl")
    (tmp_path / "kustomization.yaml").write_text("resources:\n- ns.yaml\n")
    (tmp_path / "ns.yaml").write_text("apiVersion: v1\nmetadata: {name: a}\n")  # no kind
    run = cli("render", str(tmp_path))
    assert run.code == 1 and run.stdout == ""
    assert "`kubectl kustomize` failed: " in run.stderr and "kind" in run.stderr


def test_a_missing_resource_is_located_before_any_build(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources:\n- missing.yaml\n")
    run = cli("render", str(tmp_path))
    assert run.code == 1 and run.stdout == ""
    assert (
        f"{tmp_path}/kustomization.yaml:2:3: error: resources[0]: 'missing.yaml' does not exist"
        in run.stderr
    )


def test_nothing_is_left_in_temp_directories(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_tool("kubectl")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    import tempfile  # noqa: PLC0415

    monkeypatch.setattr(tempfile, "tempdir", None)
    repo = Repo(tmp_path / "repo")
    repo.write("app/kustomization.yaml", "resources: [ns.yaml]\n")
    repo.write("app/ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n")
    base = repo.commit("base")
    repo.write("app/ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n")
    repo.commit("head")
    run = cli("diff", "--repo", str(repo.path), "--base", base, "--path", "app")
    assert run.code == 0, run.stderr
    assert list(scratch.iterdir()) == []
