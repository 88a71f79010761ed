"""One source's connections as runs of a sorted block that many sources share, and the few
pairs the source's own policies change. Pure.

Most sources reach most destinations the same way (an open egress meets every open ingress):
their fanouts differ from a shared, sorted block in a handful of pairs. A source's record says
which runs of the block it keeps and what it puts between them, so the work per source follows
what its policies change, not the size of its output; the output (or ``pairs``) expands it.
"""

from __future__ import annotations

import bisect
import itertools
import operator
from collections.abc import Iterable
from typing import NamedTuple

from netpol_gitops.model.portsets import Conns

Pair = tuple[str, Conns]  # (destination, connections)
Piece = tuple[int, int, list[Pair]]  # block.pairs[lo:hi], then these pairs

_first = operator.itemgetter(0)  # a pair's destination: the order of a fanout


class Block:
    """Destinations in order, with their connections: what sources alike start from."""

    __slots__ = ("at", "pairs", "peers")

    def __init__(self, pairs: Iterable[Pair]) -> None:
        self.pairs: list[Pair] = sorted(pairs, key=_first)
        self.peers = [p for p, _ in self.pairs]  # for bisect
        self.at = {p: i for i, p in enumerate(self.peers)}

    def __len__(self) -> int:
        return len(self.pairs)


EMPTY = Block(())


class Spans(NamedTuple):
    """The connections of one source, by destination in order: for each piece, the pairs
    ``block.pairs[lo:hi]`` and then its own pairs."""

    src: str
    block: Block
    pieces: list[Piece]

    def size(self) -> int:
        """How many connections (output lines) it holds."""
        return sum(hi - lo + len(own) for lo, hi, own in self.pieces)

    def pairs(self) -> list[Pair]:
        """Its (destination, connections), in order."""
        out: list[Pair] = []
        pairs = self.block.pairs
        for lo, hi, own in self.pieces:
            out += pairs[lo:hi]
            out += own
        return out


def spans(src: str, block: Block, dropped: Iterable[str], added: Iterable[Pair]) -> Spans:
    """``block`` without the destinations ``dropped`` (each in it), with the pairs ``added``
    (no destination of which is in it but for a dropped one), as runs of the block; no piece
    is empty (no pieces: no connection)."""
    at, peers = block.at, block.peers
    if not peers:  # nothing shared (an isolated egress): its own pairs alone
        own = sorted(added, key=_first)
        return Spans(src, block, [(0, 0, own)] if own else [])
    drop = {at[p] for p in dropped}
    before: dict[int, list[Pair]] = {pos: [] for pos in drop}  # pairs put before block[pos]
    for pair in added:
        pos = bisect.bisect_left(peers, pair[0])
        found = before.get(pos)
        if found is None:
            before[pos] = [pair]
        else:
            found.append(pair)
    pieces: list[Piece] = []
    lo = 0
    for pos in sorted(before):
        own = before[pos]
        if len(own) > 1:
            own.sort(key=_first)
        if lo < pos or own:
            pieces.append((lo, pos, own))
        lo = pos + 1 if pos in drop else pos
    if lo < len(peers):
        pieces.append((lo, len(peers), []))
    return Spans(src, block, pieces)


def changes(
    src: str, own: int, block: Block, changed: dict[int, Conns], peers: list[list[str]]
) -> tuple[list[str], list[Pair]]:
    """(dropped, added) for ``spans``: source ``src``, of class ``own``, reaches what ``block``
    holds but with the classes of ``changed`` (class -> its connections, empty: none), never
    itself. ``peers``: each class's members, in order."""
    dropped: list[str] = []
    added: list[Pair] = []
    at = block.at
    for d, conns in changed.items():
        members = peers[d]
        if members[0] in at:  # the block holds the class: its members go
            dropped += members
        if conns:
            added += zip(members, itertools.repeat(conns))
    if own in changed:  # its own class: every member but itself
        added = [pair for pair in added if pair[0] != src]
    elif src in at:
        dropped.append(src)
    return dropped, added


class Blocks:
    """The block of each base row (a class -> connections mapping shared by the classes
    alike), made once per row and kept while it is in use (a bounded number)."""

    def __init__(self, peers: list[list[str]], size: int) -> None:
        self.peers = peers  # each class's members, in order
        self.size = size
        self.made: dict[tuple[int, bool], tuple[dict[int, Conns], Block]] = {}

    def of(self, base: dict[int, Conns], within: frozenset[int] | None = None) -> Block:
        """The block of ``base`` (of its classes ``within`` when given: one ``within`` per
        Blocks)."""
        key = (id(base), within is None)
        found = self.made.get(key)
        if found is None or found[0] is not base:  # the row is held: its id stays its own
            if len(self.made) >= self.size:
                self.made.clear()
            pairs = (
                (p, conns)
                for d, conns in base.items()
                if within is None or d in within
                for p in self.peers[d]
            )
            found = self.made[key] = (base, Block(pairs))
        return found[1]
