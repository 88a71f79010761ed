"""One Mermaid flowchart renderer, for a connectivity list (reach) and for the connections a
change opens and closes (the PR report): workloads grouped by namespace; past MAX_EDGES edges,
namespaces only, each edge labelled with how many connections it stands for. Every name and
label is escaped, so nothing from a manifest can add a graph statement."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from typing import NamedTuple

from netpol_gitops.model.connection import Change, Connection, conns_text

MAX_EDGES = 40  # past this, workloads collapse into their namespaces


class Edge(NamedTuple):
    src: str
    dst: str
    label: str
    dashed: bool = False  # a closed connection
    sign: str = ""  # "+" opened, "-" closed, "~" changed (namespace counts keep them apart)


def _namespace(peer: str) -> str:
    return "external" if peer.endswith(("[External]", "[FQDN]")) else peer.split("/", 1)[0]


def _node_id(text: str) -> str:
    return "n_" + re.sub(r"[^A-Za-z0-9_]", "_", text)


def _text(text: str) -> str:
    """A label inside "...": Mermaid's entity codes for what would end or break it."""
    return (
        text.replace("&", "#amp;")
        .replace('"', "#quot;")
        .replace("<", "#lt;")
        .replace(">", "#gt;")
        .replace("\n", " ")
    )


def flowchart(edges: Sequence[Edge]) -> str:
    lines = ["flowchart LR"]
    if len(edges) > MAX_EDGES:
        counts: dict[tuple[str, str, str, bool], int] = defaultdict(int)
        for e in edges:
            counts[(_namespace(e.src), _namespace(e.dst), e.sign, e.dashed)] += 1
        for ns in sorted({n for a, b, _, _ in counts for n in (a, b)}):
            lines.append(f'  {_node_id(ns)}["{_text(ns)}"]')
        for (a, b, sign, dashed), n in sorted(counts.items()):
            arrow = "-.->" if dashed else "-->"
            label = f"{sign}{n} connection{'s' if n != 1 else ''}"
            if sign == "~":
                label = f"{n} changed"
            lines.append(f'  {_node_id(a)} {arrow}|"{label}"| {_node_id(b)}')
        return "\n".join(lines) + "\n"
    groups: dict[str, set[str]] = defaultdict(set)
    for e in edges:
        for peer in (e.src, e.dst):
            groups[_namespace(peer)].add(peer)
    for ns in sorted(groups):
        lines.append(f'  subgraph {_node_id("ns_" + ns)}["{_text(ns)}"]')
        for peer in sorted(groups[ns]):
            label = peer if peer.endswith(("[External]", "[FQDN]")) else peer.split("/", 1)[-1]
            lines.append(f'    {_node_id(peer)}["{_text(label)}"]')
        lines.append("  end")
    for e in edges:
        arrow = "-.->" if e.dashed else "-->"
        lines.append(f'  {_node_id(e.src)} {arrow}|"{_text(e.label)}"| {_node_id(e.dst)}')
    return "\n".join(lines) + "\n"


def mermaid(conns: list[Connection]) -> str:
    """The flowchart of a connectivity list (``reach -o mermaid``)."""
    return flowchart([Edge(c.src, c.dst, c.conns.text()) for c in conns])


def graph(changes: Sequence[Change]) -> str:
    """The flowchart of the changed connections (as the report shows them): opened and
    changed solid, closed dashed."""
    edges = []
    for c in changes:
        if c.kind == "added":
            edges.append(Edge(c.src, c.dst, f"opened: {conns_text(c.after)}", False, "+"))
        elif c.kind == "removed":
            edges.append(Edge(c.src, c.dst, f"closed: {conns_text(c.before)}", True, "-"))
        else:
            label = f"{conns_text(c.before)} → {conns_text(c.after)}"
            edges.append(Edge(c.src, c.dst, label, False, "~"))
    return flowchart(edges) if edges else ""
