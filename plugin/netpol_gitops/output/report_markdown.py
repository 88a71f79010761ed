"""The PR comment: the summary first, then as much detail as fits in GitHub's limit."""

from __future__ import annotations

from collections import defaultdict

from netpol_gitops.output.escape import code_cell, fence
from netpol_gitops.output.mermaid import graph
from netpol_gitops.output.report import fate, verdict
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


def to_markdown(diff: Diff, limit: int = COMMENT_LIMIT, full_report_note: str = "") -> str:
    """The PR comment: the summary first, then as much detail as fits in ``limit``."""
    note = full_report_note or ("The full report is in the job summary and the workflow artifact.")
    head = [
        MARKER,
        f"### netpol-gitops: {verdict(diff)}",
        "",
        f"Base `{diff.base[:12]}` → head `{diff.head[:12]}`.",
        "",
    ]
    head += _protection_md(diff, limit // 4)
    head += _not_generated_md(diff.not_generated, limit // 4)
    sections: list[str] = []
    if diff.added or diff.removed:
        lines = [f"+ {c.line()}\n" for c in diff.added] + [f"- {c.line()}\n" for c in diff.removed]
        budget = (limit - len("\n".join(head))) // 2  # at most half the comment
        body: list[str] = []
        size = 0
        for line in lines:
            if size + len(line) > budget:
                body.append(f"... {len(lines) - len(body)} more lines in the full report\n")
                break
            body.append(line)
            size += len(line)
        sections.append(
            f"#### Connections\n\n<details open><summary>{len(diff.added)} opened, "
            f"{len(diff.removed)} closed</summary>\n\n"
            f"{fence(''.join(body), 'diff')}\n</details>\n"
        )
        mermaid = graph(diff)
        sections.append(f"#### Changed flows\n\n{fence(mermaid, 'mermaid')}")
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
