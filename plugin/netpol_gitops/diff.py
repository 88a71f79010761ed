"""Base vs head: protection per namespace, connections opened and closed, generated policies
added, removed and changed; rendered as markdown (the PR comment), JSON or text. Pure."""

from __future__ import annotations

import dataclasses
import difflib
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from netpol_gitops.errors import printable
from netpol_gitops.reach import Analysis
from netpol_gitops.render import Rendered
from netpol_gitops.topology import Topology, topology_of

MARKER = "<!-- netpol-gitops:pr-report -->"
COMMENT_LIMIT = 65_536  # GitHub's maximum comment body
DIRECTIONS = {"all": {"ingress", "egress"}, "ingress": {"ingress"}, "egress": {"egress"}}
MAX_GRAPH_EDGES = 40
MAX_OPENS = 20  # connections listed per policy labelled as generated that is not generated
MAX_NOT_GENERATED = 20  # such policies detailed in the markdown comment


@dataclass(frozen=True)
class NotGenerated:
    """A NetworkPolicy that carries the managed-by label but is not what the generator makes
    now (render.Labelled, not CURRENT), with what it opens where the manifests are applied
    without the generator (as written, instead of the generated policies)."""

    policy: str  # namespace/name
    location: str  # FILE:LINE:COL of its metadata.name
    standing: str  # stale (differs from the generated one) | orphan (none of that name)
    summary: str  # what is wrong, one phrase
    differences: tuple[str, ...]  # stale: the fields that differ
    replaced: bool  # the deliveries replace it; False: an item of a List, deployed as written
    # reach lines that exist with it applied as written and not with the generated policies,
    # with an end in its namespace (shared by the namespace's such policies); first MAX_OPENS
    opens: tuple[str, ...] = ()
    opens_total: int = 0


@dataclass(frozen=True)
class Side:
    """One revision, rendered and analysed."""

    sha: str
    protection: dict[str, str]  # namespace -> all|ingress|egress|none|off|audit
    # reach txt lines (input + generated policies) in reach's (source, destination) order,
    # made when iterated: they can run to millions
    connections: Callable[[], Iterable[str]]
    policies: dict[str, str]  # namespace/name -> the generated object's YAML
    not_generated: list[NotGenerated] = field(default_factory=list)


@dataclass
class Diff:
    base: str
    head: str
    namespaces: list[tuple[str, str, str]] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    policies_added: list[str] = field(default_factory=list)
    policies_removed: list[str] = field(default_factory=list)
    policies_changed: list[str] = field(default_factory=list)
    policy_diffs: dict[str, str] = field(default_factory=dict)
    not_generated: list[NotGenerated] = field(default_factory=list)  # the head's

    @property
    def regressions(self) -> list[str]:
        return [name for name, before, after in self.namespaces if is_regression(before, after)]

    @property
    def changed(self) -> bool:
        return bool(
            self.namespaces
            or self.added
            or self.removed
            or self.policies_added
            or self.policies_removed
            or self.policies_changed
            or self.not_generated
        )


def is_regression(before: str, after: str) -> bool:
    """Less protection after than before (a namespace that is gone is not a regression)."""
    if after == "absent":
        return False
    return not DIRECTIONS.get(before, set()) <= DIRECTIONS.get(after, set())


def _sort_key(line: str) -> tuple[str, str]:
    src, _, rest = line.partition(" => ")
    return src, rest


def _pair(line: str) -> tuple[str, str]:
    """(source, destination) of a reach line (peers hold neither " => " nor " : ")."""
    src, _, rest = line.partition(" => ")
    return src, rest.rpartition(" : ")[0]


def merged(base: Iterable[str], head: Iterable[str]) -> Iterator[tuple[str, str]]:
    """("-", line) for a line only in ``base``, ("+", line) only in ``head``, by a merge of two
    line streams in (source, destination) order: neither is held whole. A line whose
    connections changed is removed and added."""
    bases, heads = iter(base), iter(head)
    b, h = next(bases, None), next(heads, None)
    last = ("", "")
    while b is not None or h is not None:
        kb = _pair(b) if b is not None else None
        kh = _pair(h) if h is not None else None
        key = min(k for k in (kb, kh) if k is not None)
        if key < last:
            raise ValueError(f"reach lines out of order at {key}")  # a bug, never input
        last = key
        if kb == kh:
            if b != h:
                yield "-", str(b)
                yield "+", str(h)
            b, h = next(bases, None), next(heads, None)
        elif kb == key:
            yield "-", str(b)
            b = next(bases, None)
        else:
            yield "+", str(h)
            h = next(heads, None)


def changed_lines(base: Iterable[str], head: Iterable[str]) -> tuple[list[str], list[str]]:
    """(added, removed) between two line streams in (source, destination) order."""
    added: list[str] = []
    removed: list[str] = []
    for sign, line in merged(base, head):
        (added if sign == "+" else removed).append(line)
    return added, removed


def namespaces_of(line: str) -> set[str]:
    """The namespaces of a reach line's source and destination (none for IP ranges)."""
    return {p.split("/", 1)[0] for p in _pair(line) if not p.endswith("[External]")}


def not_generated(result: Rendered, topo: Topology, analysis: Analysis) -> list[NotGenerated]:
    """The policies of ``result`` labelled as generated that are not generated, each with what
    it opens where the manifests are applied without the generator: the connections with an
    end in its namespace that exist when the replaced ones are applied as written (in place of
    any generated policy of the same name) and not with the generated policies.

    ``topo`` holds the kept documents, ``analysis`` the same plus the generated policies.
    Raises NetpolError (located) for a labelled policy too malformed to analyse."""
    found = result.not_generated
    replaced = [x for x in found if x.replaced]
    opens: dict[str, list[str]] = defaultdict(list)
    totals: dict[str, int] = defaultdict(int)
    if replaced:
        written = topology_of([x.doc for x in replaced]).policies
        twins = {(x.namespace, x.name) for x in replaced}
        others = [
            p
            for p in result.generated
            if (p["metadata"]["namespace"], p["metadata"]["name"]) not in twins
        ]
        applied = topo.with_policies(others)
        applied = dataclasses.replace(applied, policies=[*applied.policies, *written])
        spaces = {x.namespace for x in replaced}

        def near(lines: Iterable[str]) -> Iterator[str]:
            return (x[:-1] for x in lines if not spaces.isdisjoint(namespaces_of(x[:-1])))

        generated_lines = near(analysis.iter_lines())
        for sign, line in merged(generated_lines, near(Analysis(applied).iter_lines())):
            for ns in namespaces_of(line) & spaces if sign == "+" else ():
                totals[ns] += 1
                if len(opens[ns]) < MAX_OPENS:
                    opens[ns].append(line)
    return sorted(
        (
            NotGenerated(
                x.key,
                x.location.prefix(),
                x.standing.value,
                x.summary,
                x.differences,
                x.replaced,
                tuple(opens.get(x.namespace, ())) if x.replaced else (),
                totals.get(x.namespace, 0) if x.replaced else 0,
            )
            for x in found
        ),
        key=lambda n: (n.policy, n.location),
    )


def compare(base: Side, head: Side) -> Diff:
    diff = Diff(base.sha, head.sha)
    for name in sorted(set(base.protection) | set(head.protection)):
        before = base.protection.get(name, "absent")
        after = head.protection.get(name, "absent")
        if before != after:
            diff.namespaces.append((name, before, after))
    added, removed = changed_lines(base.connections(), head.connections())
    diff.added = sorted(added, key=_sort_key)
    diff.removed = sorted(removed, key=_sort_key)
    diff.policies_added = sorted(set(head.policies) - set(base.policies))
    diff.policies_removed = sorted(set(base.policies) - set(head.policies))
    diff.policies_changed = sorted(
        k for k in set(base.policies) & set(head.policies) if base.policies[k] != head.policies[k]
    )
    for key in [*diff.policies_added, *diff.policies_removed, *diff.policies_changed]:
        lines = difflib.unified_diff(
            base.policies.get(key, "").splitlines(keepends=True),
            head.policies.get(key, "").splitlines(keepends=True),
            fromfile=printable(f"a/{key}"),
            tofile=printable(f"b/{key}"),
        )
        diff.policy_diffs[key] = "".join(lines)
    diff.not_generated = list(head.not_generated)
    return diff


# ----------------------------------------------------------------------------- renderers
def to_json(diff: Diff) -> str:
    return (
        json.dumps(
            {
                "base": diff.base,
                "head": diff.head,
                "namespaces": [{"name": n, "before": b, "after": a} for n, b, a in diff.namespaces],
                "connections": {"added": diff.added, "removed": diff.removed},
                "policies": {
                    "added": diff.policies_added,
                    "removed": diff.policies_removed,
                    "changed": diff.policies_changed,
                    "not_generated": [x.policy for x in diff.not_generated],
                },
                "not_generated": [
                    {
                        "policy": x.policy,
                        "location": x.location,
                        "standing": x.standing,
                        "message": x.summary,
                        "differences": list(x.differences),
                        "replaced": x.replaced,
                        "opens": list(x.opens),
                        "opens_total": x.opens_total,
                    }
                    for x in diff.not_generated
                ],
                "findings": [
                    {
                        "rule": "protection-reduced",
                        "severity": "error",
                        "namespace": n,
                        "message": f"namespace {n}: protection {b} -> {a}",
                    }
                    for n, b, a in diff.namespaces
                    if is_regression(b, a)
                ]
                + [
                    {
                        "rule": "stale-generated-policy",
                        "severity": "error",
                        "namespace": x.policy.split("/", 1)[0],
                        "policy": x.policy,
                        "message": f"NetworkPolicy {x.policy} at {x.location} is labelled as "
                        f"generated, but {x.summary}",
                    }
                    for x in diff.not_generated
                ],
            },
            indent=2,
        )
        + "\n"
    )


def to_text(diff: Diff) -> str:
    out = [f"base {diff.base[:12]} -> head {diff.head[:12]}: {verdict(diff)}"]
    for name, before, after in diff.namespaces:
        mark = "  REGRESSION" if is_regression(before, after) else ""
        out.append(f"namespace {name}: {before} -> {after}{mark}")
    out += [f"+ {line}" for line in diff.added] + [f"- {line}" for line in diff.removed]
    out += [f"policy added {k}" for k in diff.policies_added]
    out += [f"policy removed {k}" for k in diff.policies_removed]
    out += [f"policy changed {k}" for k in diff.policies_changed]
    for x in diff.not_generated:
        out.append(f"policy not generated {x.policy} at {x.location}: {x.summary}")
        out.append(f"  {_fate(x)}{':' if x.opens else ''}")
        out += [f"  + {line}" for line in x.opens]
        if x.opens_total > len(x.opens):
            out.append(f"  ... {x.opens_total - len(x.opens)} more")
    return "\n".join(printable(line) for line in out) + "\n"


def _fate(x: NotGenerated) -> str:
    """What happens to a policy labelled as generated that is not generated."""
    if not x.replaced:
        return "an item of a List: deployed as written, and analysed as such above"
    n = x.opens_total
    opens = f"opens or widens {n} connection{'s' if n != 1 else ''}" if n else "opens nothing"
    return (
        "left out where netpol-gitops renders (the generated policies apply); applied as "
        f"written, without the generator, it {opens} that the generated policies do not"
    )


def verdict(diff: Diff) -> str:
    if not diff.changed:
        return "no change to network policy"
    parts = []
    if diff.not_generated:
        n = len(diff.not_generated)
        parts.append(
            f"{n} polic{'ies' if n != 1 else 'y'} labelled as generated but not what the "
            "generator makes"
        )
    if diff.regressions:
        n = len(diff.regressions)
        parts.append(f"{n} namespace{'s' if n != 1 else ''} lose{'s' if n == 1 else ''} protection")
    gained = [
        n
        for n, b, a in diff.namespaces
        if not is_regression(b, a) and DIRECTIONS.get(a, set()) > DIRECTIONS.get(b, set())
    ]
    if gained:
        parts.append(f"{len(gained)} gain{'s' if len(gained) == 1 else ''} protection")
    parts.append(
        f"{len(diff.added)} connection{'s' if len(diff.added) != 1 else ''} opened, "
        f"{len(diff.removed)} closed"
    )
    n_pol = len(diff.policies_added) + len(diff.policies_removed) + len(diff.policies_changed)
    parts.append(f"{n_pol} generated polic{'ies' if n_pol != 1 else 'y'} changed")
    return "; ".join(parts)


def fence(text: str, lang: str = "") -> str:
    """A code block no content can close early: the fence is longer than any backtick run."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{lang}\n{text}{'' if text.endswith(chr(10)) else chr(10)}{ticks}\n"


def _cell(text: str) -> str:
    return "`" + printable(text).replace("`", "'").replace("|", "\\|") + "`"


def _node(peer: str) -> str:
    return "n" + re.sub(r"[^A-Za-z0-9]", "_", peer)


def graph(diff: Diff) -> str:
    """A mermaid graph of the changed connections (opened: solid, closed: dashed)."""
    edges = [(line, "+") for line in diff.added] + [(line, "-") for line in diff.removed]
    if not edges:
        return ""
    lines = ["flowchart LR"]
    if len(edges) > MAX_GRAPH_EDGES:  # collapse to namespaces
        counts: dict[tuple[str, str, str], int] = defaultdict(int)
        for line, sign in edges:
            src, _, rest = line.partition(" => ")
            dst = rest.split(" : ")[0]
            counts[(_ns(src), _ns(dst), sign)] += 1
        for (a, b, sign), n in sorted(counts.items()):
            arrow = "-->" if sign == "+" else "-.->"
            lines.append(f'  {_node(a)}["{a}"] {arrow}|"{sign}{n}"| {_node(b)}["{b}"]')
        return "\n".join(lines) + "\n"
    for line, sign in edges:
        src, _, rest = line.partition(" => ")
        dst, _, conns = rest.partition(" : ")
        arrow = "-->" if sign == "+" else "-.->"
        label = f"{'opened' if sign == '+' else 'closed'}: {conns}".replace('"', "'")
        lines.append(
            f'  {_node(src)}["{_short(src)}"] {arrow}|"{label}"| {_node(dst)}["{_short(dst)}"]'
        )
    return "\n".join(lines) + "\n"


def _ns(peer: str) -> str:
    return "external" if peer.endswith("[External]") else peer.split("/", 1)[0]


def _short(peer: str) -> str:
    return peer.replace('"', "'")


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
            shown = ", ".join(_cell(d) for d in x.differences[:5])
            why = f"differs from the generated policy in {shown}" + (
                ", ..." if len(x.differences) > 5 else ""
            )
        else:
            why = "the generator makes no policy of that name"
        entry = [f"- {_cell(x.policy)} at {_cell(x.location)}: {why}; {_fate(x)}."]
        if x.opens:
            more = x.opens_total - len(x.opens)
            text = "".join(f"+ {line}\n" for line in x.opens)
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
    if diff.namespaces:
        head += ["#### Protection", "", "| namespace | before | after | |", "|---|---|---|---|"]
        for name, before, after in diff.namespaces:
            mark = "⚠️ regression" if is_regression(before, after) else ""
            head.append(f"| {_cell(name)} | {before} | {after} | {mark} |")
        head.append("")
    head += _not_generated_md(diff.not_generated, limit // 4)
    sections: list[str] = []
    if diff.added or diff.removed:
        lines = [f"+ {x}\n" for x in diff.added] + [f"- {x}\n" for x in diff.removed]
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
                f"<details><summary>{_cell(ns)}: {len(keys)} changed</summary>\n\n"
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
    return out
