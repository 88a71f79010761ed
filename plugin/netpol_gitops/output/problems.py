"""Renderers of problems and findings: text (``FILE:LINE:COL: severity: [rule] message``),
GitHub workflow commands, SARIF 2.1.0 and JSON."""

from __future__ import annotations

import hashlib
import json
import re

from netpol_gitops import __version__
from netpol_gitops.checks.rules import RULES
from netpol_gitops.errors import Problem, printable
from netpol_gitops.model.severity import Severity
from netpol_gitops.output.escape import escape_data, escape_property

# each format's word for a severity
GITHUB_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}
SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "note"}


def message(f: Problem) -> str:
    """The message, led by the field it is about when that is known."""
    return f"{f.location.field}: {f.message}" if f.location.field else f.message


def _line(f: Problem) -> str:
    return printable(
        f"{f.location.source}:{f.location.line}:{f.location.col}: {f.severity}: "
        f"[{f.rule}] {message(f)}"
    )


def to_text(findings: list[Problem]) -> str:
    return "".join(_line(f) + "\n" for f in findings)


def to_github(findings: list[Problem]) -> str:
    """Workflow commands, escaped per GitHub's rules so no value can start a command."""
    out = []
    for f in findings:
        command = GITHUB_COMMAND[f.severity]
        props = (
            f"file={printable(escape_property(f.location.source))},line={f.location.line},"
            f"col={f.location.col},title={escape_property('netpol-gitops ' + f.rule)}"
        )
        # GitHub's encoding for CR/LF (%0D%0A, shown as line breaks), then every other
        # control character escaped: ESC from a file name reaches no terminal or log
        out.append(f"::{command} {props}::{printable(escape_data(message(f)))}\n")
    return "".join(out)


def findings_json(findings: list[Problem]) -> str:
    return (
        json.dumps(
            [
                {
                    "rule": f.rule,
                    "severity": f.severity,
                    "file": f.location.source,
                    "line": f.location.line,
                    "column": f.location.col,
                    "field": f.location.field,
                    "message": f.message,
                }
                for f in findings
            ],
            indent=2,
        )
        + "\n"
    )


def fingerprint(f: Problem) -> str:
    """Stable across commits: rule, file, field and message, not line numbers."""
    text = re.sub(r":\d+:\d+", "", f.message)  # messages may cite other places by line
    key = "\0".join((f.rule, f.location.source, f.location.field, text))
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def to_sarif(findings: list[Problem]) -> str:
    used = sorted({f.rule for f in findings} | {"no-default-deny"})
    index = {rule: i for i, rule in enumerate(used)}
    run = {
        "tool": {
            "driver": {
                "name": "netpol-gitops",
                "version": __version__,
                "informationUri": "https://github.com/netpol-gitops/netpol-gitops",
                "rules": [
                    {
                        "id": rule,
                        "name": rule.title().replace("-", ""),
                        "shortDescription": {
                            "text": RULES.get(rule, RULES["invalid-input"]).summary
                        },
                        "defaultConfiguration": {
                            "level": SARIF_LEVEL[RULES.get(rule, RULES["invalid-input"]).severity]
                        },
                    }
                    for rule in used
                ],
            }
        },
        "results": [
            {
                "ruleId": f.rule,
                "ruleIndex": index[f.rule],
                "level": SARIF_LEVEL[f.severity],
                "message": {"text": message(f)},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": f.location.source},
                            "region": {
                                "startLine": max(f.location.line, 1),
                                "startColumn": max(f.location.col, 1),
                            },
                        }
                    }
                ],
                "partialFingerprints": {"netpolGitopsFinding/v1": fingerprint(f)},
            }
            for f in findings
        ],
    }
    return (
        json.dumps(
            {
                "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
                "version": "2.1.0",
                "runs": [run],
            },
            indent=2,
        )
        + "\n"
    )


RENDERERS = {"text": to_text, "github": to_github, "sarif": to_sarif, "json": findings_json}
