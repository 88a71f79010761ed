"""Mermaid flowcharts: of a connectivity list (reach) and of the connections a change opens and
closes (the PR report). Both collapse to namespaces past their edge cap."""

from __future__ import annotations

import re
from collections import defaultdict

from netpol_gitops.model.connection import Connection, conns_text
from netpol_gitops.review.compare import Diff

MAX_GRAPH_EDGES = 40


def _node(peer: str) -> str:
    return "n" + re.sub(r"[^A-Za-z0-9]", "_", peer)


def graph(diff: Diff) -> str:
    """A mermaid graph of the changed connections (opened: solid, closed: dashed)."""
    edges = [(c, "+") for c in diff.added] + [(c, "-") for c in diff.removed]
    if not edges:
        return ""
    lines = ["flowchart LR"]
    if len(edges) > MAX_GRAPH_EDGES:  # collapse to namespaces
        counts: dict[tuple[str, str, str], int] = defaultdict(int)
        for c, sign in edges:
            counts[(_ns(c.src), _ns(c.dst), sign)] += 1
        for (a, b, sign), n in sorted(counts.items()):
            arrow = "-->" if sign == "+" else "-.->"
            lines.append(f'  {_node(a)}["{a}"] {arrow}|"{sign}{n}"| {_node(b)}["{b}"]')
        return "\n".join(lines) + "\n"
    for c, sign in edges:
        src, dst, conns = c.src, c.dst, conns_text(c.conns)
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


MERMAID_MAX_EDGES = 60  # past this, workloads collapse into their namespaces


def _namespace(peer: str) -> str:
    return "external" if peer.endswith("[External]") else peer.split("/", 1)[0]


def _node_id(text: str) -> str:
    return "n_" + re.sub(r"[^A-Za-z0-9_]", "_", text)


def mermaid(conns: list[Connection]) -> str:
    """A flowchart: workloads grouped by namespace with labelled edges; namespaces only
    (edges labelled with a count) when there are too many edges to read."""
    lines = ["flowchart LR"]
    if len(conns) > MERMAID_MAX_EDGES:
        counts: dict[tuple[str, str], int] = defaultdict(int)
        for c in conns:
            counts[(_namespace(c.src), _namespace(c.dst))] += 1
        for ns in sorted({n for pair in counts for n in pair}):
            lines.append(f'  {_node_id(ns)}["{ns}"]')
        for (a, b), n in sorted(counts.items()):
            lines.append(f'  {_node_id(a)} -->|"{n} connections"| {_node_id(b)}')
        return "\n".join(lines) + "\n"
    groups: dict[str, set[str]] = defaultdict(set)
    for c in conns:
        for peer in (c.src, c.dst):
            groups[_namespace(peer)].add(peer)
    for ns in sorted(groups):
        lines.append(f'  subgraph {_node_id("ns_" + ns)}["{ns}"]')
        for peer in sorted(groups[ns]):
            label = peer.split("/", 1)[-1]
            lines.append(f'    {_node_id(peer)}["{label}"]')
        lines.append("  end")
    for c in conns:
        lines.append(f'  {_node_id(c.src)} -->|"{c.conns.render()}"| {_node_id(c.dst)}')
    return "\n".join(lines) + "\n"
