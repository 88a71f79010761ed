"""One allowed connection: the record reach produces and review, checks and output consume."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import NamedTuple

from netpol_gitops.model.portsets import Conns

EXTERNAL = "[External]"  # the suffix of a peer that is an IP range


class Connection(NamedTuple):
    """``src`` may open ``conns`` to ``dst``. Peers are ``namespace/name[Kind]`` (control
    characters escaped when built) or IP ranges ``a.b.c.d-e.f.g.h[External]``; neither holds
    `` => `` or `` : ``. A tuple, not a dataclass: reach makes millions of them."""

    src: str
    dst: str
    conns: Conns

    def line(self) -> str:
        """The conformance (txt) format, ``src => dst : conns``: output/ writes it, and the
        audit finding quotes it."""
        return f"{self.src} => {self.dst} : {conns_text(self.conns)}"

    @property
    def namespaces(self) -> set[str]:
        """The namespaces of its source and destination (none for IP ranges)."""
        return {p.split("/", 1)[0] for p in (self.src, self.dst) if not p.endswith(EXTERNAL)}


class Fanout(NamedTuple):
    """The connections of one source, by destination in order: how reach streams them, one
    record per source (the txt output of millions of lines is written from these without a
    record per line)."""

    src: str
    dsts: list[tuple[str, Conns]]

    def connections(self) -> Iterator[Connection]:
        for dst, conns in self.dsts:
            yield Connection(self.src, dst, conns)


@functools.cache
def conns_text(conns: Conns) -> str:  # few distinct sets, millions of lines
    return conns.text()
