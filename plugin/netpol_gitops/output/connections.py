"""Renderers of a connectivity list: txt (the conformance format), json, md, mermaid."""

from __future__ import annotations

import json

from netpol_gitops.analysis.reach import Connection
from netpol_gitops.output.mermaid import mermaid


def txt(conns: list[Connection]) -> str:
    return "".join(c.line() + "\n" for c in conns)


def as_json(conns: list[Connection]) -> str:
    rows = [{"src": c.src, "dst": c.dst, "conns": c.conns.render()} for c in conns]
    return json.dumps(rows, indent=2) + "\n"


def markdown(conns: list[Connection]) -> str:
    rows = ["| source | destination | connections |", "|---|---|---|"]
    rows += [f"| `{c.src}` | `{c.dst}` | {c.conns.render()} |" for c in conns]
    return "\n".join(rows) + "\n"


RENDERERS = {"txt": txt, "json": as_json, "md": markdown, "mermaid": mermaid}
