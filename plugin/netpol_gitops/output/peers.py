"""How the PR report names the IP ranges of changed connections: the public IPv4 space (all of
it but the ranges netpol-gitops excepts as private by default) is one peer, ``internet``;
other ranges are CIDRs where they are exactly one, else ``first-last``."""

from __future__ import annotations

import ipaddress

from netpol_gitops.analysis.changes import Spans, merge_spans, regroup
from netpol_gitops.analysis.reach import MAX_IP
from netpol_gitops.model.connection import EXTERNAL, FQDN, Change
from netpol_gitops.model.intent import DEFAULT_PRIVATE_RANGES

PRIVATE_V4 = [n for n in DEFAULT_PRIVATE_RANGES if ":" not in n]
INTERNET = f"internet{EXTERNAL}"
INTERNET_NOTE = f"`internet` is 0.0.0.0/0 except {', '.join(PRIVATE_V4)}"


def _public() -> list[tuple[int, int]]:
    private = merge_spans(
        [
            (int(net.network_address), int(net.broadcast_address))
            for net in map(ipaddress.IPv4Network, PRIVATE_V4)
        ]
    )
    out, start = [], 0
    for lo, hi in private:
        if lo > start:
            out.append((start, lo - 1))
        start = hi + 1
    if start <= MAX_IP:
        out.append((start, MAX_IP))
    return out


PUBLIC = _public()


def range_peer(lo: int, hi: int) -> str:
    """A range as a CIDR when it is exactly one, else ``first-last``."""
    first, last = ipaddress.IPv4Address(lo), ipaddress.IPv4Address(hi)
    nets = list(ipaddress.summarize_address_range(first, last))
    return (str(nets[0]) if len(nets) == 1 else f"{first}-{last}") + EXTERNAL


def is_external(peer: str) -> bool:
    """An IP range, or a DNS name (``api.stripe.com[FQDN]``): outside the cluster."""
    return peer.endswith((EXTERNAL, FQDN))


def folded(changes: list[Change]) -> list[Change]:
    """The changes as a reviewer reads them: those alike but for their IP-range end become one
    change to ``internet`` when their ranges are exactly the public space, else one per range
    (named as a CIDR where it is one). Order: source, then destination (ranges by address)."""

    def named(ranges: Spans) -> list[tuple[int, str]]:
        if ranges == PUBLIC:
            return [(0, INTERNET)]
        return [(lo, range_peer(lo, hi)) for lo, hi in ranges]

    return regroup(changes, named)
