"""Attack: a pull request ships Python files that the review job would import.

A PR adds ``json.py``, ``secrets.py``, ``sitecustomize.py``, ``typer.py``, ``pip/`` and
``netpol_gitops/`` at its root: a ``python -c``, ``python -m pip`` or ``python -`` run in the
checkout imports them (the working directory is ``sys.path[0]``). The defence: every Python call in
action.yml is ``python -I`` and the install runs from ``runner.temp``, from a hash-pinned lock.

This runs action.yml's own ``run:`` steps as the runner does (``bash --noprofile --norc -eo
pipefail`` on a script file, ``${{ }}`` resolved, a fresh GITHUB_OUTPUT per step), the install
step included: into a fresh venv, from the registry this machine and CI are configured with
(pip's own configuration), so it needs the network to the package registry. Without it the test
skips, except under CI=true where it fails. The comment step talks to a local fake GitHub API.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from pytest_httpserver import HTTPServer

from netpol_gitops.output.report_markdown import MARKER
from tests.helpers import ROOT, require_tool

HOSTILE = [
    "json.py",
    "secrets.py",
    "sitecustomize.py",
    "typer.py",
    "pip/__init__.py",
    "pip/__main__.py",
    "netpol_gitops/__init__.py",
]
NAMESPACE = """apiVersion: v1
kind: Namespace
metadata:
  name: {name}
  annotations:
    netpol-gitops.io/default-deny: {deny}
"""
CONFIG = """apiVersion: netpol-gitops.io/v1alpha1
kind: NetworkPolicyGenerator
spec:
  optIn: true
"""
REPO = "org/repo"
PR = 7
TOKEN = "ghs_fake"
LOCK = ROOT / "plugin" / "requirements.lock"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def _hostile_repo(root: Path, markers: Path) -> tuple[Path, str]:
    """A repository whose head commit weakens namespace `shop` and adds the hostile files,
    each of which writes markers/<its name> when imported. Returns (path, base commit)."""
    repo = root / "checkout"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    (repo / ".netpol-gitops.yaml").write_text(CONFIG)
    (repo / "shop.yaml").write_text(NAMESPACE.format(name="shop", deny="all"))
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    base = _git(repo, "rev-parse", "HEAD")
    (repo / "shop.yaml").write_text(NAMESPACE.format(name="shop", deny="none"))
    for rel in HOSTILE:
        path = repo / rel
        path.parent.mkdir(exist_ok=True)
        flag = markers / rel.replace("/", "_")
        path.write_text(f"open({str(flag)!r}, 'w').close()\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "weaken shop; bring some Python")
    return repo, base


@dataclass
class Runner:
    """Just enough of a GitHub runner for a composite action's `run:` steps."""

    cwd: Path
    temp: Path
    env: dict[str, str]
    inputs: dict[str, str]
    base: str
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    ran: list[str] = field(default_factory=list)

    def value(self, expression: str) -> str:
        known: dict[str, Callable[[], str]] = {
            "runner.temp": lambda: str(self.temp),
            "inputs.base || github.event.pull_request.base.sha": lambda: (
                self.inputs["base"] or self.base
            ),
            "inputs.build-cache == 'true' && format('{0}/netpol-gitops-build-cache', runner.temp)"
            " || ''": lambda: (
                str(self.temp / "netpol-gitops-build-cache")
                if self.inputs["build-cache"] == "true"
                else ""
            ),
        }
        if expression in known:
            return known[expression]()
        if expression.startswith("inputs."):
            return self.inputs[expression.removeprefix("inputs.")]
        step = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expression)
        if step:
            return self.outputs.get(step[1], {}).get(step[2], "")
        pytest.fail(f"action.yml uses ${{{{ {expression} }}}}: teach this test its value")

    def condition(self, expression: str) -> bool:
        known: dict[str, Callable[[], bool]] = {
            "inputs.comment == 'true' && github.event.pull_request.number": lambda: (
                self.inputs["comment"] == "true"
            ),
            "inputs.sarif == 'true'": lambda: self.inputs["sarif"] == "true",
            "inputs.build-cache == 'true'": lambda: self.inputs["build-cache"] == "true",
            "inputs.fail-on == 'unprotected' && steps.diff.outputs.regressions != ''": lambda: (
                self.inputs["fail-on"] == "unprotected"
                and self.value("steps.diff.outputs.regressions") != ""
            ),
        }
        if expression not in known:
            pytest.fail(f"action.yml has `if: {expression}`: teach this test its meaning")
        return known[expression]()

    def resolve(self, text: str) -> str:
        return EXPRESSION.sub(lambda m: self.value(m[1]), text)

    def run(self, step: dict[str, Any]) -> subprocess.CompletedProcess[str] | None:
        name = str(step.get("name") or step.get("uses"))
        if "uses" in step or ("if" in step and not self.condition(str(step["if"]))):
            return None
        assert step["shell"] == "bash", name
        n = len(self.ran)
        script = self.temp / f"step-{n}.sh"
        script.write_text(str(step["run"]))
        output = self.temp / f"output-{n}"
        output.touch()
        env = {
            **self.env,
            "GITHUB_OUTPUT": str(output),
            **{k: self.resolve(str(v)) for k, v in (step.get("env") or {}).items()},
        }
        cwd = self.resolve(str(step.get("working-directory", self.cwd)))
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        self.ran.append(name)
        if "id" in step:
            lines = output.read_text().splitlines()
            self.outputs[step["id"]] = dict(line.split("=", 1) for line in lines)
        return done


@pytest.fixture(scope="module")
def fresh_python(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A new venv with nothing installed: the install step fills it (setup-python's role)."""
    venv = tmp_path_factory.mktemp("venv") / "py"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    yield venv / "bin"


def _isolated_env(bin_dir: Path, home: Path) -> dict[str, str]:
    """The runner's environment: the fresh Python first on PATH; no PYTHON* variable; pip keeps
    this machine's configuration (PIP_* variables and config files: the registry mirrors)."""
    keep = {k: v for k, v in os.environ.items() if k.startswith("PIP_")}
    return {
        **keep,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "HOME": os.environ.get("HOME", str(home)),
        "LANG": "C.UTF-8",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_CONFIG_NOSYSTEM": "1",
    }


def test_the_markers_would_fire_without_isolation(tmp_path: Path, fresh_python: Path) -> None:
    """The hostile files are real: plain `python` in the checkout imports every one of them."""
    require_tool("git")
    markers = tmp_path / "markers"
    markers.mkdir()
    repo, _ = _hostile_repo(tmp_path, markers)
    env = _isolated_env(fresh_python, tmp_path)
    for argv, extra in [
        (["python", "-c", "import json, secrets, typer, netpol_gitops"], {}),
        (["python", "-m", "pip", "--version"], {}),
        (["python", "-c", "pass"], {"PYTHONPATH": str(repo)}),  # sitecustomize
    ]:
        subprocess.run(argv, cwd=repo, env={**env, **extra}, capture_output=True, check=False)
    assert sorted(p.name for p in markers.iterdir()) == sorted(
        rel.replace("/", "_") for rel in HOSTILE
    )


def test_the_action_runs_no_code_from_the_pull_request(
    tmp_path: Path, fresh_python: Path, httpserver: HTTPServer
) -> None:
    for tool in ("git", "bash", "od"):
        require_tool(tool)
    markers = tmp_path / "markers"
    markers.mkdir()
    repo, base = _hostile_repo(tmp_path, markers)
    temp = tmp_path / "runner-temp"
    temp.mkdir()
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": PR, "base": {"sha": base}}}))
    summary = tmp_path / "step-summary.md"
    comments = f"/repos/{REPO}/issues/{PR}/comments"
    httpserver.expect_request(comments, method="GET").respond_with_json([])
    httpserver.expect_request(comments, method="POST").respond_with_json({"id": 1}, status=201)
    runner = Runner(
        cwd=repo,
        temp=temp,
        env={
            **_isolated_env(fresh_python, tmp_path),
            "GITHUB_ACTION_PATH": str(ROOT),
            "RUNNER_TEMP": str(temp),
            "GITHUB_STEP_SUMMARY": str(summary),
            "GITHUB_EVENT_PATH": str(event),
            "GITHUB_REPOSITORY": REPO,
            "GITHUB_API_URL": httpserver.url_for("").rstrip("/"),
        },
        inputs={
            "path": ".",
            "base": "",
            "config": "",
            "comment": "true",
            "fail-on": "unprotected",
            "sarif": "true",
            "python-version": "3.12",
            "token": TOKEN,
            "comment-author": "github-actions[bot]",
            "build-cache": "true",
        },
        base=base,
    )
    steps = yaml.safe_load((ROOT / "action.yml").read_text())["runs"]["steps"]
    results = [(str(s.get("name") or s.get("uses")), runner.run(s)) for s in steps]
    imported = sorted(p.name for p in markers.iterdir())
    assert imported == [], f"files from the pull request were imported: {imported}"
    ran = [(name, done) for name, done in results if done is not None]
    install, *rest = ran
    assert install[0].startswith("Install"), install[0]
    assert install[1] is not None
    if install[1].returncode != 0:
        message = f"the install step failed (needs the package registry):\n{install[1].stderr}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    *ok, (last, failing) = rest
    for name, done in ok:
        assert done.returncode == 0, f"{name}:\n{done.stdout}\n{done.stderr}"
        assert "Traceback" not in done.stderr, name
    # fail-on: unprotected and shop lost its default deny: the last step fails, as it should.
    assert last == "Fail on less protection"
    assert failing.returncode == 1
    assert "::error title=netpol-gitops::less protection in: shop" in failing.stdout

    assert runner.outputs["diff"] == {"changed": "true", "regressions": "shop"}
    report = temp / "netpol-gitops"
    assert sorted(p.name for p in report.iterdir()) == [
        "comment.md",
        "report.json",
        "report.md",
        "report.txt",
        "summary.md",
    ]
    assert json.loads((report / "report.json").read_text())["findings"][0]["namespace"] == "shop"
    sarif = json.loads((temp / "netpol-gitops-sarif" / "netpol-gitops-0.sarif").read_text())
    assert sarif["version"] == "2.1.0"
    posted = [r for r, _ in httpserver.log if r.method == "POST"]
    assert len(posted) == 1 and MARKER in json.loads(posted[0].get_data())["body"]
    assert summary.read_text() == (report / "report.md").read_text() + "\n"
    # The installed package is the action's own, not the checkout's netpol_gitops/.
    where = subprocess.run(
        ["python", "-I", "-c", "import netpol_gitops; print(netpol_gitops.__file__)"],
        cwd=repo,
        env=runner.env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "site-packages" in where.stdout and str(repo) not in where.stdout
    # --no-deps installed only the lock: it holds every dependency of every package in it.
    check = subprocess.run(
        ["python", "-I", "-m", "pip", "check"],
        cwd=temp,
        env=runner.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr


def _locked() -> dict[str, str]:
    """name -> pinned version for each requirement of the lock file, each one checked to be
    `NAME==VERSION [; MARKER] --hash=sha256:... [--hash=...]`."""
    text = re.sub(r"(?m)^\s*#.*\n", "", LOCK.read_text()).replace("\\\n", " ")
    entries: dict[str, str] = {}
    for line in filter(str.strip, text.splitlines()):
        match = re.fullmatch(
            r"([A-Za-z0-9._-]+)==(\S+?)(?:\s*;.*?)?(?:\s+--hash=sha256:[0-9a-f]{64})+\s*", line
        )
        assert match, f"{LOCK.name}: not `NAME==VERSION --hash=sha256:...`: {line}"
        entries[canonicalize_name(match[1])] = match[2]
    return entries


def test_the_lock_pins_every_dependency_and_the_build_backend_with_hashes() -> None:
    """The lock cannot drift from pyproject.toml unnoticed: every runtime dependency and every
    build requirement is pinned there, at a version pyproject.toml accepts, with hashes."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wanted = [
        Requirement(r)
        for r in pyproject["project"]["dependencies"] + pyproject["build-system"]["requires"]
    ]
    locked = _locked()
    for req in wanted:
        name = canonicalize_name(req.name)
        assert name in locked, f"{req} is not in {LOCK.name}: regenerate it (see its header)"
        version = locked[name]
        assert req.specifier.contains(version), f"{LOCK.name} pins {name}=={version}: not {req}"
    steps = yaml.safe_load((ROOT / "action.yml").read_text())["runs"]["steps"]
    install = " ".join(str(s.get("run", "")) for s in steps if "pip install" in s.get("run", ""))
    for flag in ("--require-hashes", "plugin/requirements.lock", "--no-build-isolation"):
        assert flag in install, f"action.yml installs without {flag}"
