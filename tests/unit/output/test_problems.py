"""Every renderer of problems, one problem of each severity: text, GitHub workflow commands,
SARIF (against the OASIS schema), JSON and KRM results; each maps Severity to its own word."""

from __future__ import annotations

import json

import jsonschema

from netpol_gitops.errors import Problem
from netpol_gitops.model.location import Location
from netpol_gitops.model.severity import Severity
from netpol_gitops.output.krm_results import krm_result, krm_stderr_line
from netpol_gitops.output.problems import RENDERERS
from tests.helpers import require_shared

PROBLEMS = [
    Problem(
        Location("ns.yaml", 3, 5, "metadata.name"), "no deny", Severity.ERROR, "no-default-deny"
    ),
    Problem(
        Location("ns.yaml", 7, 9, ""),
        "matches nothing",
        Severity.WARNING,
        "selector-matches-nothing",
    ),
    Problem(Location("ns.yaml", 9, 1, ""), "would block 2", Severity.NOTE, "audit-would-block"),
]


def test_text() -> None:
    assert RENDERERS["text"](PROBLEMS) == (
        "ns.yaml:3:5: error: [no-default-deny] metadata.name: no deny\n"
        "ns.yaml:7:9: warning: [selector-matches-nothing] matches nothing\n"
        "ns.yaml:9:1: note: [audit-would-block] would block 2\n"
    )


def test_github_uses_its_own_words() -> None:
    lines = RENDERERS["github"](PROBLEMS).splitlines()
    assert [line.split(" ", 1)[0] for line in lines] == ["::error", "::warning", "::notice"]
    assert "file=ns.yaml,line=3,col=5" in lines[0]


def test_json() -> None:
    found = json.loads(RENDERERS["json"](PROBLEMS))
    assert [f["severity"] for f in found] == ["error", "warning", "note"]
    assert [f["rule"] for f in found] == [p.rule for p in PROBLEMS]


def test_sarif_validates_and_uses_its_levels() -> None:
    schema = json.loads(require_shared("vendor", "sarif-schema-2.1.0.json").read_text())
    log = json.loads(RENDERERS["sarif"](PROBLEMS))
    jsonschema.validate(log, schema)
    assert [r["level"] for r in log["runs"][0]["results"]] == ["error", "warning", "note"]


def test_krm_results_say_info_for_a_note() -> None:
    results = [krm_result(p, lambda _: None) for p in PROBLEMS]
    assert [r["severity"] for r in results] == ["error", "warning", "info"]
    assert results[0]["file"] == {"path": "ns.yaml"}
    assert results[0]["field"] == {"path": "metadata.name"}
    assert "ns.yaml:3:5" in krm_stderr_line(PROBLEMS[0], results[0])
