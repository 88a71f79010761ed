"""launch.py, the console script: the plain forms of render, krm and argocd generate run without
typer and print exactly what cli.py prints for the same arguments (stdout, stderr, exit code);
every other form is left to cli.py."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from netpol_gitops import launch
from netpol_gitops.adapters import commands
from tests.helpers import EXAMPLE, GOLDEN, cli
from tests.unit.adapters.test_krm import case_config, case_items, resource_list

CASES = sorted(p for p in GOLDEN.iterdir() if p.is_dir())


def fast(argv: list[str], stdin: str = "") -> tuple[int, str, str]:
    run = launch.fast(argv)
    assert run is not None, argv
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdin, sys.stdout, sys.stderr
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin.encode()))
    sys.stdout, sys.stderr = out, err
    try:
        code = commands.guarded(run)
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved
        commands.DEBUG["on"] = False
    return code, out.getvalue(), err.getvalue()


def both(argv: list[str], stdin: str = "") -> None:
    expected = cli(*argv, stdin=stdin)
    assert fast(argv, stdin) == (expected.code, expected.stdout, expected.stderr)


def _render_args(case: Path) -> list[str]:
    args = ["render", "input" if (case / "input").is_dir() else "input.yaml"]
    return args + (["--config", "config.yaml"] if (case / "config.yaml").exists() else [])


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_render_is_the_same(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(case)
    args = _render_args(case)
    both(args)
    both([*args, "-o", "json", "--only-generated"])
    both(["--debug", *args[:2], "--output=json", *[a.replace("--config", "-c") for a in args[2:]]])


def test_render_of_stdin_and_missing_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(EXAMPLE)
    both(["render", "-"], stdin=(EXAMPLE / "namespaces.yaml").read_text())
    both(["render", "no-such-file.yaml"])
    both(["render", ".", "--config=no-such-config.yaml"])


def _loads(case: Path) -> bool:
    """Whether the case's input is YAML a ResourceList can carry (not the err-yaml cases)."""
    try:
        case_items(case)
    except Exception:
        return False
    return True


@pytest.mark.parametrize(
    "case", [c for c in CASES if (c / "input.yaml").exists() and _loads(c)], ids=lambda p: p.name
)
def test_krm_is_the_same(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(case)
    both(["krm"], resource_list(case_items(case), case_config(case)))


def test_krm_of_garbage_is_the_same(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    both(["krm"], "kind: NotAResourceList\n")
    both(["krm"], "")


def test_argocd_generate_is_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(EXAMPLE)
    monkeypatch.setenv("ARGOCD_APP_NAMESPACE", "shop")
    both(["argocd", "generate"])
    monkeypatch.setenv("ARGOCD_ENV_DEFAULT_DENY", "al")  # a problem: exit 1, stdout empty
    both(["argocd", "generate"])


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--help"],
        ["--version"],
        ["--debug"],
        ["render"],
        ["render", "--help"],
        ["render", "a", "b"],
        ["render", "-x"],
        ["render", "--", "a"],
        ["render", "a", "-o", "xml"],
        ["render", "a", "-oyaml"],
        ["render", "a", "-cfoo"],
        ["render", "a", "-c=foo"],
        ["render", "a", "-c"],
        ["render", "a", "-c", "-o"],
        ["render", "a", "-o", "json", "-o", "yaml"],
        ["render", "a", "--only-generated", "--only-generated"],
        ["render", "a", "--unknown"],
        ["krm", "x"],
        ["krm", "--help"],
        ["argocd"],
        ["argocd", "generate", "--help"],
        ["argocd", "discover"],
        ["reach", "a"],
        ["--debug", "--debug", "krm"],
    ],
)
def test_other_forms_go_to_typer(argv: list[str]) -> None:
    assert launch.fast(argv) is None


def test_the_deadline_is_reported_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """Deadline is no Exception (no problem handler may catch it): both boundaries report it."""
    from netpol_gitops.adapters import argocd  # noqa: PLC0415
    from netpol_gitops.errors import Deadline  # noqa: PLC0415

    def expire(*_: object, **__: object) -> None:
        raise Deadline("argocd generate", "took longer than 1s (NETPOL_GITOPS_DEADLINE)")

    monkeypatch.setattr(argocd, "generate", expire)
    monkeypatch.chdir(EXAMPLE)
    both(["argocd", "generate"])
    assert fast(["argocd", "generate"])[0] == 1


def test_a_reader_that_goes_away_is_not_an_error_message(tmp_path: Path) -> None:
    """`render ... | head`: exit 141 as a shell reports SIGPIPE, nothing on stderr (the reader
    here, `true`, has gone before render writes anything)."""
    exe = Path(sys.executable).with_name("netpol-gitops")
    script = f'"{exe}" render "{EXAMPLE}" 2>"{tmp_path}/err" | true; echo ${{PIPESTATUS[0]}}'
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "141"
    assert (tmp_path / "err").read_text() == ""
