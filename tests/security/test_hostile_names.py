"""Names from a pull request reach every output surface: none of them can add markup, a
mention, a graph statement, a workflow command or a terminal escape (issue 13 item 5)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from netpol_gitops.errors import Problem, printable
from netpol_gitops.model.connection import Change, Connection
from netpol_gitops.model.location import Location
from netpol_gitops.model.portsets import ALL, NONE, Conns
from netpol_gitops.model.severity import Severity
from netpol_gitops.output.connections import RENDERERS as CONNECTIONS
from netpol_gitops.output.krm_results import krm_result, krm_stderr_line
from netpol_gitops.output.mermaid import graph
from netpol_gitops.output.problems import RENDERERS as PROBLEMS
from netpol_gitops.output.report import to_text
from netpol_gitops.output.report_markdown import to_markdown
from netpol_gitops.review.compare import Diff
from tests.helpers import cli

HOSTILE = 'we`b"] <img src=x> @user \x1b[31m\x9b\n::warning::x|y'
# the analysis names peers once, control characters escaped (a name is printed millions of
# times by reach); every renderer escapes what its own format needs on top
PEER = printable(f"shop/{HOSTILE}[Pod]")
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _clean_lines(text: str) -> None:
    assert not CONTROL.search(text), repr(text)
    assert not any(line.startswith("::") for line in text.splitlines()), text


def _markdown_safe(text: str) -> None:
    """Outside code spans and fences, no HTML and no mention; inside, no early end."""
    _clean_lines(text)
    prose = re.sub(r"(`{3,}).*?\1", "", text, flags=re.S)  # fenced blocks
    prose = re.sub(r"`[^`\n]*`", "", prose)  # code spans
    assert "<img" not in prose and "@user" not in prose, prose


def diff() -> Diff:
    d = Diff("a" * 40, "b" * 40)
    d.namespaces = [("shop", "all", "none")]
    d.exposed = {"shop": {"egress": [PEER]}}
    d.workloads_added = [PEER]
    d.connections = [
        Change(PEER, "shop/api[Pod]", NONE, ALL),
        Change("shop/api[Pod]", PEER, ALL, NONE),
        Change(PEER, "other/db[Pod]", Conns.of([("TCP", 1, 1)]), ALL),
        Change("shop/api[Pod]", "1.2.3.4-1.2.3.4[External]", NONE, ALL),
    ]
    return d


@pytest.mark.parametrize("fmt", sorted(CONNECTIONS))
def test_reach_renderers(fmt: str) -> None:
    text = CONNECTIONS[fmt]([Connection(PEER, "shop/api[Pod]", ALL)])
    _clean_lines(text)
    if fmt == "md":
        _markdown_safe(text)


def test_pr_report_markdown_text_and_graph() -> None:
    _markdown_safe(to_markdown(diff()))
    _clean_lines(to_text(diff()))
    for line in graph(diff().connections).splitlines()[1:]:
        assert line.count('"') in (0, 2), line  # one label a line, nothing added


@pytest.mark.parametrize("fmt", sorted(PROBLEMS))
def test_problem_renderers(fmt: str) -> None:
    problem = Problem(Location(f"{HOSTILE}.yaml", 1, 1, "metadata.name"), HOSTILE, Severity.ERROR)
    text = PROBLEMS[fmt]([problem])
    assert not CONTROL.search(text), repr(text)
    if fmt in ("text", "github"):
        assert len(text.splitlines()) == 1  # one line: no second command, no second finding
    if fmt == "text":
        _clean_lines(text)


def test_krm_stderr() -> None:
    problem = Problem(Location(f"{HOSTILE}.yaml", 1, 1, ""), HOSTILE, Severity.WARNING)
    line = krm_stderr_line(problem, krm_result(problem, lambda _: None))
    _clean_lines(line)
    assert "\n" not in line


def test_the_analysis_names_peers_printably(tmp_path: Path) -> None:
    manifest = tmp_path / "pods.yaml"
    name = HOSTILE.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    name = name.replace("\x1b", "\\e").replace("\x9b", "\\x9b")
    manifest.write_text(
        f'apiVersion: v1\nkind: Pod\nmetadata: {{name: "{name}", namespace: shop}}\n---\n'
        "apiVersion: v1\nkind: Pod\nmetadata: {name: api, namespace: shop}\n"
    )
    for fmt in ("txt", "md", "mermaid", "json"):
        run = cli("reach", str(manifest), "-o", fmt)
        assert run.code == 0, run.stderr
        _clean_lines(run.stdout)
        if fmt == "md":
            _markdown_safe(run.stdout)
