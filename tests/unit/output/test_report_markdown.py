"""The PR comment always fits: any number of namespaces, connections and policies; what needs a
decision (regressions) comes first; what is left out is counted."""

from __future__ import annotations

from netpol_gitops.model.connection import Change
from netpol_gitops.model.portsets import ALL, NONE
from netpol_gitops.output.report_markdown import (
    COMMENT_LIMIT,
    MARKER,
    MAX_TABLE_ROWS,
    SUMMARY_LIMIT,
    fit,
    to_markdown,
)
from netpol_gitops.review.compare import Diff


def big_diff(n: int) -> Diff:
    diff = Diff("a" * 40, "b" * 40)
    diff.namespaces = [(f"team-{i:05d}", "all", "all" if i % 3 else "none") for i in range(n)]
    diff.namespaces.reverse()  # regressions are not first by name
    diff.connections = [Change(f"team-{i:05d}/web[Pod]", "x/y[Pod]", NONE, ALL) for i in range(n)]
    diff.policy_diffs = {f"team-{i:05d}/p": "-a\n+b\n" * 20 for i in range(n)}
    return diff


def test_three_thousand_namespaces_fit_a_comment_and_a_summary() -> None:
    diff = big_diff(3000)
    comment = to_markdown(diff)
    assert len(comment) <= COMMENT_LIMIT and comment.startswith(MARKER)
    assert "more namespaces (" in comment and "in the full report" in comment
    assert len(to_markdown(diff, SUMMARY_LIMIT)) <= SUMMARY_LIMIT
    full = to_markdown(diff, limit=2**62)
    assert all(f"`team-{i:05d}`" in full for i in (0, 1500, 2999))  # the artifact has it all


def test_regressions_lead_the_table() -> None:
    comment = to_markdown(big_diff(MAX_TABLE_ROWS * 2))
    rows = [line for line in comment.splitlines() if line.startswith("| `team-")]
    assert len(rows) <= MAX_TABLE_ROWS
    flags = ["regression" in row for row in rows]
    assert flags == sorted(flags, reverse=True)  # every regression before any other row
    assert any(flags)


def test_fit_says_what_it_cut() -> None:
    assert fit("short", 100, "n") == "short"
    cut = fit("x" * 500, 100, "See the artifact.")
    assert len(cut) <= 100 and cut.endswith("See the artifact._\n")
