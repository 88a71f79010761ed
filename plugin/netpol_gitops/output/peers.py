"""How the PR report names the IP ranges of changed connections: the public IPv4 space (all of
it but the ranges netpol-gitops excepts as private by default) is one peer, ``internet``;
other ranges are CIDRs where they are exactly one, else ``first-last``."""

from __future__ import annotations

import ipaddress
from collections import defaultdict

from netpol_gitops.analysis.changes import merge_spans
from netpol_gitops.analysis.reach import MAX_IP
from netpol_gitops.model.connection import EXTERNAL, FQDN, Change, ip_span, peer_order
from netpol_gitops.model.intent import DEFAULT_PRIVATE_RANGES
from netpol_gitops.model.portsets import Conns

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
    keyed: list[tuple[tuple[object, ...], Change]] = []
    spans: dict[tuple[bool, str, Conns, Conns, str], list[tuple[int, int]]] = defaultdict(list)
    for c in changes:
        src, dst = ip_span(c.src), ip_span(c.dst)
        if src is not None:
            spans[(True, c.dst, c.before, c.after, c.info)].append(src)
        elif dst is not None:
            spans[(False, c.src, c.before, c.after, c.info)].append(dst)
        else:
            keyed.append(((peer_order(c.src), peer_order(c.dst)), c))
    for (ip_is_src, other, before, after, info), found in spans.items():
        ranges = merge_spans(found)
        names = (
            [(0, INTERNET)] if ranges == PUBLIC else [(lo, range_peer(lo, hi)) for lo, hi in ranges]
        )
        for lo, name in names:
            ip_key = (0, lo, name)
            key = (ip_key, peer_order(other)) if ip_is_src else (peer_order(other), ip_key)
            ends = (name, other) if ip_is_src else (other, name)
            keyed.append((key, Change(*ends, before, after, info)))
    keyed.sort(key=lambda kc: kc[0])
    return [c for _, c in keyed]
