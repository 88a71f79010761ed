"""Renderers of a connectivity list: txt (the conformance format), json, md, mermaid."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from netpol_gitops.analysis.fanout import Block, Spans
from netpol_gitops.model.connection import Connection, Fanout, conns_text
from netpol_gitops.model.portsets import Conns
from netpol_gitops.output.escape import code_cell
from netpol_gitops.output.mermaid import mermaid


def txt_lines(conns: Iterable[Connection]) -> Iterator[str]:
    """The txt format, one newline-terminated line per connection, streamed (it can run to
    millions of lines)."""
    for c in conns:
        yield f"{c.src} => {c.dst} : {conns_text(c.conns)}\n"


def fanout_lines(fanouts: Iterable[Fanout]) -> Iterator[str]:
    """The same lines, from reach's per-source records, one string per source: each
    destination's ``dst : conns`` is made once for as long as its connections stay the same
    object (rows share them), and a source's lines are one join."""
    tails: dict[str, tuple[Conns, str]] = {}
    for src, dsts in fanouts:
        if not dsts:
            continue
        parts = []
        for dst, conns in dsts:
            known = tails.get(dst)
            if known is None or known[0] is not conns:
                known = tails[dst] = (conns, f"{dst} : {conns_text(conns)}\n")
            parts.append(known[1])
        head = f"{src} => "
        yield head + head.join(parts)


BLOCK_TEXTS = 16  # blocks whose lines' tails are kept (a few per run; each one row's size)


def span_lines(found: Iterable[Spans]) -> Iterator[str]:
    """The same lines, from reach's shared-block records (analysis/fanout.py), one string per
    source: each block's ``dst : conns`` tails are made once, and a source's runs of them are
    sliced and joined whole; only the pairs of its own are looked at one by one."""
    texts: dict[int, tuple[Block, list[str]]] = {}  # id(block) -> (block: held, its tails)
    tails: dict[str, tuple[Conns, str]] = {}

    def tail(dst: str, conns: Conns) -> str:
        known = tails.get(dst)
        if known is None or known[0] is not conns:
            known = tails[dst] = (conns, f"{dst} : {conns_text(conns)}\n")
        return known[1]

    for src, block, pieces in found:
        if not pieces:
            continue
        known = texts.get(id(block))
        if known is None or known[0] is not block:
            if len(texts) >= BLOCK_TEXTS:
                texts.clear()
            known = texts[id(block)] = (block, [tail(d, c) for d, c in block.pairs])
        made = known[1]
        parts: list[str] = []
        for lo, hi, own in pieces:
            parts += made[lo:hi]
            parts += [tail(d, c) for d, c in own]
        head = f"{src} => "
        yield head + head.join(parts)


def txt(conns: list[Connection]) -> str:
    return "".join(txt_lines(conns))


def as_json(conns: list[Connection]) -> str:
    rows = [{"src": c.src, "dst": c.dst, "conns": c.conns.text()} for c in conns]
    return json.dumps(rows, indent=2) + "\n"


def markdown(conns: list[Connection]) -> str:
    rows = ["| source | destination | connections |", "|---|---|---|"]
    rows += [f"| {code_cell(c.src)} | {code_cell(c.dst)} | {c.conns.text()} |" for c in conns]
    return "\n".join(rows) + "\n"


RENDERERS = {"txt": txt, "json": as_json, "md": markdown, "mermaid": mermaid}
