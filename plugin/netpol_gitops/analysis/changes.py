"""What a change does to the connections: two streams in (source, destination) order, cut on a
common refinement of their IP ranges, compared per pair (neither held whole), then the IP
ranges merged back where the change is the same on neighbouring ranges."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator

from netpol_gitops.analysis.reach import Analysis
from netpol_gitops.model.connection import Change, Connection, ip_peer, ip_span, peer_order
from netpol_gitops.model.portsets import NONE, Conns


def compared(
    base: Analysis, head: Analysis, only: frozenset[str] | None = None
) -> Iterator[Change]:
    """The changes from ``base`` to ``head``, both cut on the union of their IP boundaries (a
    common refinement: a range means the same addresses on both sides), streamed. With
    ``only``, the pairs with an end in those namespaces (see ``touched``)."""
    (bi, be, bn), (hi, he, hn) = base.cuts(), head.cuts()
    cuts = (bi | hi, be | he, bn | hn)
    return changes(base.iter_connections(cuts, only), head.iter_connections(cuts, only))


def _signatures(analysis: Analysis) -> dict[str, tuple[object, ...]]:
    """Namespace -> all that decides the connections with an end in it: its workloads (names,
    labels, ports), its labels, its policies, in the order read. Compared by value (frozen
    dataclasses; shared objects compare at once): the same content in another order makes the
    namespace touched, which costs time but never misses a change."""
    topo = analysis.topo
    workloads: dict[str, list[object]] = defaultdict(list)
    for w in topo.workloads:
        workloads[w.namespace].append((w.peer, w.labels, w.ports))
    policies: dict[str, list[object]] = defaultdict(list)
    for p in topo.policies:
        policies[p.namespace].append(p)
    names = set(workloads) | set(policies) | set(topo.namespaces)
    return {
        ns: (
            tuple(workloads.get(ns, ())),
            tuple(sorted(topo.namespace_labels(ns).items())),
            tuple(policies.get(ns, ())),
        )
        for ns in names
    }


def touched(base: Analysis, head: Analysis) -> frozenset[str]:
    """The namespaces whose workloads, labels or policies differ (every namespace when a
    cluster-scoped policy differs). A pair's connections depend only on its source's egress
    (the policies of its namespace), its destination's ingress (likewise), the labels of both
    and of their namespaces, and the cluster policies, so every pair whose connections differ
    has an end in one of these."""
    a, b = _signatures(base), _signatures(head)
    if sorted(map(repr, base.topo.cluster_policies)) != sorted(
        map(repr, head.topo.cluster_policies)
    ):
        return frozenset(a) | frozenset(b)  # a cluster policy changed: it may touch any pair
    return frozenset(ns for ns in set(a) | set(b) if a.get(ns) != b.get(ns))


def changes(base: Iterable[Connection], head: Iterable[Connection]) -> Iterator[Change]:
    """One Change per pair whose connections differ, by a merge of two streams in (source,
    destination) order. Both must cut IP ranges alike (reach's ``cuts``), so that a pair means
    the same addresses on both sides."""
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
        before: Conns = NONE
        after: Conns = NONE
        if kb == key:
            assert b is not None
            before, b = b.conns, next(bases, None)
        if kh == key:
            assert h is not None
            after, h = h.conns, next(heads, None)
        if before != after:
            yield Change(key[0], key[1], before, after)


Spans = list[tuple[int, int]]


def regroup(
    found: Iterable[Change], name: Callable[[Spans], list[tuple[int, str]]]
) -> list[Change]:
    """The changes with the IP-range ends of those alike but for it merged, then named by
    ``name`` (merged ranges -> (first address, peer) of each change to make). Sorted by
    source, then destination (IP ranges by address)."""
    keyed: list[tuple[tuple[object, ...], Change]] = []
    spans: dict[tuple[bool, str, Conns, Conns, str], Spans] = defaultdict(list)
    for c in found:
        src, dst = ip_span(c.src), ip_span(c.dst)
        if src is not None:
            spans[(True, c.dst, c.before, c.after, c.info)].append(src)
        elif dst is not None:
            spans[(False, c.src, c.before, c.after, c.info)].append(dst)
        else:
            keyed.append(((peer_order(c.src), peer_order(c.dst)), c))
    for (ip_is_src, other, before, after, info), ranges in spans.items():
        for lo, peer in name(merge_spans(ranges)):
            ip_key = (0, lo, peer)
            key = (ip_key, peer_order(other)) if ip_is_src else (peer_order(other), ip_key)
            ends = (peer, other) if ip_is_src else (other, peer)
            keyed.append((key, Change(*ends, before, after, info)))
    keyed.sort(key=lambda kc: kc[0])
    return [c for _, c in keyed]


def coalesce(found: Iterable[Change]) -> list[Change]:
    """The changes with IP ranges merged back: changes alike but for an IP-range end whose
    ranges meet become one."""
    return regroup(found, lambda ranges: [(lo, ip_peer(lo, hi)) for lo, hi in ranges])


def merge_spans(ranges: Spans) -> Spans:
    """Address ranges merged where they meet or overlap."""
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return merged


def with_info(found: list[Change], added: set[str], removed: set[str]) -> list[Change]:
    """Each change that involves a workload present in one revision only says so, as np-guard's
    workloads-diff-info does: ``workload A added``, ``workload A and B removed``."""
    out = []
    for c in found:
        info = ""
        for fresh, word in ((added, "added"), (removed, "removed")):
            ends = [p for p in (c.src, c.dst) if p in fresh]
            if ends and not info:
                info = f"workload {' and '.join(ends)} {word}"
        out.append(c._replace(info=info) if info else c)
    return out
