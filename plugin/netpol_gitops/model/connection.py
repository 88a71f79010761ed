"""One allowed connection: the record reach produces and review, checks and output consume."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import NamedTuple

from netpol_gitops.model.portsets import NONE, Conns

EXTERNAL = "[External]"  # the suffix of a peer that is an IP range
FQDN = "[FQDN]"  # the suffix of a peer that is a DNS name or pattern (an fqdn allow's end)


def fqdn_peer(name: str) -> str:
    """The peer of a DNS name or pattern: ``api.stripe.com[FQDN]``."""
    return name + FQDN


def _dotted(n: int) -> str:
    return ".".join(str((n >> s) & 255) for s in (24, 16, 8, 0))


def ip_peer(lo: int, hi: int) -> str:
    """The peer of an IPv4 range, first and last address: ``a.b.c.d-e.f.g.h[External]``."""
    return f"{_dotted(lo)}-{_dotted(hi)}{EXTERNAL}"


def ip_span(peer: str) -> tuple[int, int] | None:
    """(first, last) address of an IP-range peer; None for a workload."""
    if not peer.endswith(EXTERNAL):
        return None
    ends = []
    for dotted in peer[: -len(EXTERNAL)].split("-"):
        n = 0
        for octet in dotted.split("."):
            n = n * 256 + int(octet)
        ends.append(n)
    return ends[0], ends[1]


def namespaces_of(*peers: str) -> set[str]:
    """The namespaces of workload peers (none for IP ranges and DNS names)."""
    return {p.split("/", 1)[0] for p in peers if not p.endswith((EXTERNAL, FQDN))}


def peer_order(peer: str) -> tuple[int, int, str]:
    """A sort key: IP ranges first, by address, then workloads by name."""
    span = ip_span(peer)
    return (0, span[0], "") if span else (1, 0, peer)


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
        return namespaces_of(self.src, self.dst)


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


class Change(NamedTuple):
    """What a change does to one (source, destination) pair: ``before`` and ``after`` are the
    connections at each revision, NONE where there is none (an added or a removed pair)."""

    src: str
    dst: str
    before: Conns
    after: Conns
    info: str = ""  # np-guard's workloads-diff-info: an end present in one revision only

    @property
    def kind(self) -> str:
        """added (no connection before), removed (none after) or changed."""
        return "added" if self.before == NONE else "removed" if self.after == NONE else "changed"

    @property
    def namespaces(self) -> set[str]:
        return namespaces_of(self.src, self.dst)

    @property
    def gained(self) -> Conns:
        return self.after - self.before

    @property
    def lost(self) -> Conns:
        return self.before - self.after

    def line(self) -> str:
        """``+ src => dst : conns``, ``- ...``, or ``~ src => dst : before -> after``."""
        head = f"{self.src} => {self.dst} : "
        if self.kind == "added":
            return f"+ {head}{conns_text(self.after)}"
        if self.kind == "removed":
            return f"- {head}{conns_text(self.before)}"
        return f"~ {head}{conns_text(self.before)} -> {conns_text(self.after)}"
