"""Golden cases: tests/golden/<case>/ holds input.yaml (or input/), an optional config.yaml,
and expected.yaml (the output) or expected.err (the exact error text, exit 1, empty stdout).
UPDATE_GOLDEN=1 rewrites the expectations; read that diff before committing it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from tests.helpers import EXAMPLE, GOLDEN, cli

CASES = sorted(p.name for p in GOLDEN.iterdir() if p.is_dir())
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def render_case(case: Path, monkeypatch: pytest.MonkeyPatch, *extra: str) -> tuple[int, str, str]:
    monkeypatch.chdir(case)
    args = ["render", "input" if (case / "input").is_dir() else "input.yaml", *extra]
    if (case / "config.yaml").exists():
        args += ["--config", "config.yaml"]
    run = cli(*args)
    return run.code, run.stdout, run.stderr


@pytest.mark.parametrize("name", CASES)
def test_golden(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    case = GOLDEN / name
    code, out, err = render_case(case, monkeypatch)
    expected = case / ("expected.err" if name.startswith("err-") else "expected.yaml")
    actual = err if name.startswith("err-") else out
    if UPDATE:
        expected.write_text(actual)
    if name.startswith("err-"):
        assert code == 1
        assert out == ""
        assert "Traceback" not in err
    else:
        assert code == 0, err
        assert err == ""
    assert actual == expected.read_text()


@pytest.mark.parametrize("name", [c for c in CASES if not c.startswith("err-")])
def test_golden_is_idempotent(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """render of its own output is that output, byte for byte."""
    case = GOLDEN / name
    _, first, _ = render_case(case, monkeypatch)
    args = ["render", "-"] + (
        ["--config", "config.yaml"] if (case / "config.yaml").exists() else []
    )
    again = cli(*args, stdin=first)
    assert again.code == 0, again.stderr
    assert again.stdout == first


@pytest.mark.parametrize("name", [c for c in CASES if not c.startswith("err-")])
def test_golden_json_matches_yaml(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    case = GOLDEN / name
    _, out, _ = render_case(case, monkeypatch)
    _, js, _ = render_case(case, monkeypatch, "--output", "json")
    assert json.loads(js) == [d for d in YAML(typ="safe").load_all(out) if d is not None]


def test_three_tier_example_golden(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(EXAMPLE.parent.parent)
    run = cli("render", "examples/three-tier/")
    expected = GOLDEN.parent / "three-tier.expected.yaml"
    if UPDATE:
        expected.write_text(run.stdout)
    assert run.code == 0, run.stderr
    assert run.stdout == expected.read_text()
