"""Renderers of a connectivity list: txt (the conformance format), json, md, mermaid."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from netpol_gitops.model.connection import Connection, conns_text
from netpol_gitops.output.mermaid import mermaid


def txt_lines(conns: Iterable[Connection]) -> Iterator[str]:
    """The txt format, one newline-terminated line per connection, streamed (it can run to
    millions of lines)."""
    for c in conns:
        yield f"{c.src} => {c.dst} : {conns_text(c.conns)}\n"


def txt(conns: list[Connection]) -> str:
    return "".join(txt_lines(conns))


def as_json(conns: list[Connection]) -> str:
    rows = [{"src": c.src, "dst": c.dst, "conns": c.conns.render()} for c in conns]
    return json.dumps(rows, indent=2) + "\n"


def markdown(conns: list[Connection]) -> str:
    rows = ["| source | destination | connections |", "|---|---|---|"]
    rows += [f"| `{c.src}` | `{c.dst}` | {c.conns.render()} |" for c in conns]
    return "\n".join(rows) + "\n"


RENDERERS = {"txt": txt, "json": as_json, "md": markdown, "mermaid": mermaid}
