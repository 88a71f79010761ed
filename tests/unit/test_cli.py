"""The command line as a user meets it: --version, --help, schema, every reach format and
--focus (golden files in tests/golden-reach/, UPDATE_GOLDEN=1 rewrites them), usage errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from netpol_gitops import __version__
from tests.helpers import EXAMPLE, ROOT, cli

GOLDEN = ROOT / "tests" / "golden-reach"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text)
    assert text == path.read_text()


def test_version() -> None:
    run = cli("--version")
    assert (run.code, run.stdout) == (0, f"netpol-gitops {__version__}\n")


@pytest.mark.parametrize(
    "command", [[], ["render"], ["check"], ["reach"], ["diff"], ["argocd"], ["github"], ["krm"]]
)
def test_help_teaches_every_command(command: list[str]) -> None:
    run = cli(*command, "--help")
    assert run.code == 0
    assert "Usage: netpol-gitops" in run.stdout
    if not command:
        assert "Exit codes: 0 ok, 1 problems in the input" in run.stdout


@pytest.mark.parametrize("name", ["annotations", "flows", "config"])
def test_schema_prints_the_shipped_schema(name: str) -> None:
    run = cli("schema", name)
    assert run.code == 0
    assert json.loads(run.stdout) == json.loads((ROOT / "schemas" / f"{name}.json").read_text())


def test_an_unknown_schema_is_a_usage_error() -> None:
    run = cli("schema", "nope")
    assert (run.code, run.stdout) == (2, "")
    assert "unknown schema 'nope'; choose one of annotations, flows, config" in run.stderr


def test_an_unknown_option_is_a_usage_error() -> None:
    run = cli("render", "--no-such-option", str(EXAMPLE))
    assert run.code == 2 and run.stdout == ""


@pytest.mark.parametrize("fmt", ["txt", "json", "md", "mermaid"])
def test_every_reach_format_of_the_example(fmt: str) -> None:
    run = cli("reach", str(EXAMPLE), "--generate", "-o", fmt)
    assert run.code == 0, run.stderr
    golden(f"three-tier.{fmt}", run.stdout)


def test_reach_json_holds_the_txt_connections() -> None:
    lines = cli("reach", str(EXAMPLE), "--generate").stdout.splitlines()
    items = json.loads(cli("reach", str(EXAMPLE), "--generate", "-o", "json").stdout)
    assert len(items) == len(lines) > 0


def test_reach_focus_keeps_only_the_workloads_connections() -> None:
    run = cli("reach", str(EXAMPLE), "--generate", "--focus", "my-app/backend")
    assert run.code == 0
    lines = run.stdout.splitlines()
    assert lines and all("my-app/backend[" in line for line in lines)
    everything = cli("reach", str(EXAMPLE), "--generate").stdout.splitlines()
    assert lines == [line for line in everything if "my-app/backend[" in line]
    golden(
        "three-tier-focus-backend.md",
        cli("reach", str(EXAMPLE), "--generate", "--focus", "my-app/backend", "-o", "md").stdout,
    )


def test_reach_without_generate_sees_only_the_input(tmp_path: Path) -> None:
    generated = cli("reach", str(EXAMPLE), "--generate").stdout
    plain = cli("reach", str(EXAMPLE)).stdout
    assert plain != generated  # the example carries no policies: everything reaches everything
    assert "my-app/frontend[Deployment] => my-app/database[Deployment] : All Connections" in plain
    assert "my-app/frontend[Deployment] => my-app/database[Deployment]" not in generated
