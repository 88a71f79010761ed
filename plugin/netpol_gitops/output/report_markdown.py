"""The PR comment: the summary first, then as much detail as fits in GitHub's limit."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from netpol_gitops.model.connection import Change
from netpol_gitops.output.decisions import decisions, group_of
from netpol_gitops.output.escape import code_cell, fence
from netpol_gitops.output.mermaid import graph
from netpol_gitops.output.peers import INTERNET, INTERNET_NOTE, folded
from netpol_gitops.output.report import fate, no_effect, tally, verdict
from netpol_gitops.review.compare import Diff, NotGenerated, is_regression

MARKER = "<!-- netpol-gitops:pr-report -->"


COMMENT_LIMIT = 65_536  # GitHub's maximum comment body
SUMMARY_LIMIT = 1_000_000  # GitHub's job summary takes at most 1 MiB a step
MAX_TABLE_ROWS = 200  # protection rows shown; regressions first, the rest counted


MAX_NOT_GENERATED = 20  # such policies detailed in the markdown comment


def _not_generated_md(policies: list[NotGenerated], budget: int) -> list[str]:
    """The head's policies labelled as generated that are not generated: part of the summary
    (never left out), each with what it opens where applied as written, in about ``budget``
    characters: past it, entries lose their connections, then the rest is counted."""
    if not policies:
        return []
    out = [
        "#### ⚠️ Labelled as generated, but not what the generator makes",
        "",
        "Argo CD, kustomize and kpt with netpol-gitops replace these with the generated "
        "policies (what the rest of this report analyses); anything that applies the "
        "manifests without the generator applies them as written.",
        "",
    ]
    size = sum(len(line) + 1 for line in out)
    for i, x in enumerate(policies[:MAX_NOT_GENERATED]):
        if x.standing == "stale":
            shown = ", ".join(code_cell(d) for d in x.differences[:5])
            why = f"differs from the generated policy in {shown}" + (
                ", ..." if len(x.differences) > 5 else ""
            )
        else:
            why = "the generator makes no policy of that name"
        entry = [f"- {code_cell(x.policy)} at {code_cell(x.location)}: {why}; {fate(x)}."]
        if x.opens:
            more = x.opens_total - len(x.opens)
            text = "".join(f"+ {c.line()}\n" for c in x.opens)
            text += f"... {more} more\n" if more else ""
            block = ["", *(f"  {line}" for line in fence(text, "diff").splitlines())]
            if size + sum(len(line) + 1 for line in [*entry, *block]) <= budget:
                entry += block
        cost = sum(len(line) + 1 for line in entry)
        if size + cost > budget and i:
            break
        out += entry
        size += cost
    else:
        i = min(len(policies), MAX_NOT_GENERATED)
    if i < len(policies):
        out.append(f"- ... and {len(policies) - i} more: `netpol-gitops check` lists them all")
    out.append("")
    return out


def _protection_md(diff: Diff, budget: int) -> list[str]:
    """The protection table, regressions first; past MAX_TABLE_ROWS rows or ``budget``
    characters the rest is counted, never dropped silently."""
    if not diff.namespaces:
        return []
    rows = sorted(diff.namespaces, key=lambda r: not is_regression(r[1], r[2]))  # stable
    out = ["#### Protection", "", "| namespace | before | after | |", "|---|---|---|---|"]
    size = sum(len(line) + 1 for line in out)
    shown = 0
    for name, before, after in rows[:MAX_TABLE_ROWS]:
        mark = "⚠️ regression" if is_regression(before, after) else ""
        row = f"| {code_cell(name)} | {before} | {after} | {mark} |"
        if size + len(row) + 1 > budget:
            break
        out.append(row)
        size += len(row) + 1
        shown += 1
    if shown < len(rows):
        regressions = sum(1 for _, b, a in rows[shown:] if is_regression(b, a))
        out.append(
            f"| ... {len(rows) - shown} more namespaces ({regressions} regressions) "
            "in the full report | | | |"
        )
    out.append("")
    return out


def fit(text: str, limit: int, note: str) -> str:
    """``text`` cut to at most ``limit`` characters, saying so (the last resort: sections
    are left out whole before this)."""
    if len(text) <= limit:
        return text
    tail = f"\n\n_Cut to fit {limit:,} characters. {note}_\n"
    return text[: max(0, limit - len(tail))] + tail


MAX_DECISIONS = 40  # sentences in "Needs a decision"; the rest counted
MAX_NAMES = 20  # workloads named per line of the workloads section
OPEN_LINES = 30  # a namespace pair's connections show unfolded up to this many


def _bounded(
    items: list[str], budget: int, more: Callable[[int], str], cap: int | None = None
) -> list[str]:
    """The first ``items`` (at most ``cap``) while they fit in ``budget`` characters (at
    least one), then ``more(n)`` for the ``n`` left out."""
    out: list[str] = []
    size = 0
    for item in items[:cap]:
        if out and size + len(item) + 1 > budget:
            break
        out.append(item)
        size += len(item) + 1
    if len(out) < len(items):
        out.append(more(len(items) - len(out)))
    return out


def _decisions_md(diff: Diff, shown: list[Change], budget: int) -> list[str]:
    """What needs a reviewer's decision, first in the comment."""
    marks = {"protection": "⚠️", "breaks": "⛔", "audit": "🔍", "inbound": "➡️", "egress": "🌐"}
    items = [f"- {marks[k]} {text}" for k, text in decisions(diff, shown, code_cell)]
    if not items:
        return []
    listed = _bounded(
        items, budget, lambda n: f"- ... and {n} more in the full report", MAX_DECISIONS
    )
    return ["#### Needs a decision", "", *listed, ""]


def _workloads_md(diff: Diff) -> list[str]:
    out = []
    for word, found in (("added", diff.workloads_added), ("removed", diff.workloads_removed)):
        if found:
            names = ", ".join(code_cell(w) for w in found[:MAX_NAMES])
            extra = f" and {len(found) - MAX_NAMES} more" if len(found) > MAX_NAMES else ""
            out.append(f"- {word}: {names}{extra}")
    return ["#### Workloads in one revision only", "", *out, ""] if out else []


def _inputs_md(diff: Diff) -> list[str]:
    """NetworkPolicies of the input that were edited, with why nothing changed where so."""
    if not diff.inputs:
        return []
    out = ["#### NetworkPolicies in the manifests", ""]
    for e in diff.inputs[:MAX_TABLE_ROWS]:
        why = no_effect(e, diff)
        out.append(
            f"- {code_cell(e.policy)} {e.kind} at {code_cell(e.location)}"
            + (f": {why}" if why else "")
        )
    if len(diff.inputs) > MAX_TABLE_ROWS:
        out.append(f"- ... and {len(diff.inputs) - MAX_TABLE_ROWS} more in the full report")
    return [*out, ""]


def _connections_md(shown: list[Change], budget: int) -> list[str]:
    """The changed connections grouped by namespace pair (the internet one peer), in about
    ``budget`` characters; pairs past it are counted."""
    pairs: dict[tuple[str, str], list[Change]] = defaultdict(list)
    for c in shown:
        pairs[(group_of(c.src), group_of(c.dst))].append(c)
    blocks = []
    for (a, b), found in sorted(pairs.items()):
        text = "".join(c.line() + (f"  ({c.info})" if c.info else "") + "\n" for c in found)
        state = " open" if len(found) <= OPEN_LINES else ""
        blocks.append(
            f"<details{state}><summary>{code_cell(a)} → {code_cell(b)}: {tally(found)}"
            f"</summary>\n\n{fence(text, 'diff')}\n"
            "</details>\n"
        )
    legend = [f"_{INTERNET_NOTE}._", ""] if any(INTERNET in (c.src, c.dst) for c in shown) else []
    listed = _bounded(
        blocks, budget, lambda n: f"_... {n} more namespace pairs in the full report._\n"
    )
    return ["#### Connections by namespace", "", *legend, *listed]


def to_markdown(diff: Diff, limit: int = COMMENT_LIMIT, full_report_note: str = "") -> str:
    """The PR comment: what needs a decision first, then the summary tables, then as much
    detail as fits in ``limit``."""
    note = full_report_note or ("The full report is in the job summary and the workflow artifact.")
    shown = folded(diff.connections)
    head = [
        MARKER,
        f"### netpol-gitops: {verdict(diff, shown)}",
        "",
        f"Base `{diff.base[:12]}` → head `{diff.head[:12]}`.",
        "",
    ]
    head += _decisions_md(diff, shown, limit // 5)
    head += _protection_md(diff, limit // 6)
    head += _not_generated_md(diff.not_generated, limit // 6)
    head += _workloads_md(diff)
    head += _inputs_md(diff)
    sections: list[str] = []
    if shown:
        budget = (limit - len("\n".join(head))) // 2  # at most half the comment
        sections.append("\n".join(_connections_md(shown, budget)))
        sections.append(f"#### Changed flows\n\n{fence(graph(shown), 'mermaid')}")
    by_ns: dict[str, list[str]] = defaultdict(list)
    for key in sorted(diff.policy_diffs):
        by_ns[key.split("/", 1)[0]].append(key)
    if by_ns:
        sections.append("#### Generated policies\n")
        for ns, keys in sorted(by_ns.items()):
            text = "".join(diff.policy_diffs[k] for k in keys)
            sections.append(
                f"<details><summary>{code_cell(ns)}: {len(keys)} changed</summary>\n\n"
                f"{fence(text, 'diff')}\n</details>\n"
            )
    out = "\n".join(head)
    omitted = 0
    reserve = 400
    for section in sections:
        if len(out) + len(section) + reserve <= limit:
            out += "\n" + section
        else:
            omitted += 1
    if omitted:
        out += (
            f"\n_{omitted} section{'s' if omitted != 1 else ''} left out to fit GitHub's "
            f"comment limit. {note}_\n"
        )
    return fit(out, limit, note)
