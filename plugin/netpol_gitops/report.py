"""Renderers of a connectivity list: txt (the conformance format), json, md, mermaid."""

from __future__ import annotations

import json
import re
from collections import defaultdict

from netpol_gitops.reach import Connection

MERMAID_MAX_EDGES = 60  # past this, workloads collapse into their namespaces


def txt(conns: list[Connection]) -> str:
    return "".join(c.line() + "\n" for c in conns)


def as_json(conns: list[Connection]) -> str:
    rows = [{"src": c.src, "dst": c.dst, "conns": c.conns.render()} for c in conns]
    return json.dumps(rows, indent=2) + "\n"


def markdown(conns: list[Connection]) -> str:
    rows = ["| source | destination | connections |", "|---|---|---|"]
    rows += [f"| `{c.src}` | `{c.dst}` | {c.conns.render()} |" for c in conns]
    return "\n".join(rows) + "\n"


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


RENDERERS = {"txt": txt, "json": as_json, "md": markdown, "mermaid": mermaid}
