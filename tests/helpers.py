"""Shared test helpers: run the CLI in-process, find the shared corpus, require real tools."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from netpol_gitops.cli import app

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
GOLDEN = ROOT / "tests" / "golden"
EXAMPLE = ROOT / "examples" / "three-tier"


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str


def cli(*args: str, stdin: str | None = None) -> Run:
    result = CliRunner().invoke(app, list(args), input=stdin, catch_exceptions=False)
    return Run(result.exit_code, result.stdout, result.stderr)


def require_tool(name: str) -> str:
    """The tool's path; a missing tool fails under CI=true and skips elsewhere."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is required under CI but is not on PATH")
        pytest.skip(f"{name} is not installed")
    return path


def require_shared(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{path} is missing (CI lays ../shared beside the checkout)")
        pytest.skip(f"{path} is absent: ../shared is not beside this checkout")
    return path


def change_lines(report: dict[str, Any]) -> list[str]:
    """The connections of a `diff -o json` report as the text report writes them:
    ``+ src => dst : conns``, ``- ...``, ``~ src => dst : before -> after``."""
    conns = report["connections"]
    out = [f"+ {c['src']} => {c['dst']} : {c['conns']}" for c in conns["added"]]
    out += [f"- {c['src']} => {c['dst']} : {c['conns']}" for c in conns["removed"]]
    out += [f"~ {c['src']} => {c['dst']} : {c['before']} -> {c['after']}" for c in conns["changed"]]
    return sorted(out)


def yaml_at_hand() -> Iterator[tuple[Path, str]]:
    """(path, text) of every YAML file at hand, in path order: the tests', the examples', and
    ../shared's when it is there (node_modules and files that are not UTF-8 aside)."""
    files = [*ROOT.glob("tests/**/*.yaml"), *ROOT.glob("tests/**/*.yml")]
    files += ROOT.glob("examples/**/*.yaml")
    if SHARED.is_dir():
        files += SHARED.rglob("*.yaml")
    for path in sorted(f for f in files if "node_modules" not in f.parts):
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        yield path, text
