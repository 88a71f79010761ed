"""Two streams of connections in (source, destination) order, merged: what one has and the
other has not, neither held whole."""

from __future__ import annotations

from collections.abc import Iterable, Iterator


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
