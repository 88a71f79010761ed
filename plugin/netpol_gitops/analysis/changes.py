"""Two streams of connections in (source, destination) order, merged: what one has and the
other has not, neither held whole."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from netpol_gitops.model.connection import Connection


def merged(
    base: Iterable[Connection], head: Iterable[Connection]
) -> Iterator[tuple[str, Connection]]:
    """("-", c) for a connection only in ``base``, ("+", c) only in ``head``, by a merge of two
    streams in (source, destination) order: neither is held whole. A connection whose ports
    changed is removed and added."""
    bases, heads = iter(base), iter(head)
    b, h = next(bases, None), next(heads, None)
    last = ("", "")
    while b is not None or h is not None:
        kb = (b.src, b.dst) if b is not None else None
        kh = (h.src, h.dst) if h is not None else None
        key = min(k for k in (kb, kh) if k is not None)
        if key < last:
            raise ValueError(f"connections out of order at {key}")  # a bug, never input
        last = key
        if kb == kh:
            assert b is not None and h is not None
            if b.conns != h.conns:
                yield "-", b
                yield "+", h
            b, h = next(bases, None), next(heads, None)
        elif kb == key:
            assert b is not None
            yield "-", b
            b = next(bases, None)
        else:
            assert h is not None
            yield "+", h
            h = next(heads, None)


def changed(
    base: Iterable[Connection], head: Iterable[Connection]
) -> tuple[list[Connection], list[Connection]]:
    """(added, removed) between two streams in (source, destination) order."""
    added: list[Connection] = []
    removed: list[Connection] = []
    for sign, conn in merged(base, head):
        (added if sign == "+" else removed).append(conn)
    return added, removed
