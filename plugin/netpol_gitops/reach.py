"""Who can reach whom under Kubernetes NetworkPolicy semantics. Pure.

Work is done on classes of workloads with equal namespace, labels and named ports (they are
indistinguishable to every policy), so rules are matched once per class, not once per pod pair.
A connection needs the source's egress AND the destination's ingress; a pod is isolated for a
direction iff a policy of its own namespace selects it for that direction.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass

from netpol_gitops.conns import ALL, NONE, Conns
from netpol_gitops.topology import Peer, Policy, Rule, Topology, Workload

MAX_IP = 2**32 - 1
ClassKey = tuple[str, tuple[tuple[str, str], ...], tuple[tuple[str, int, str], ...]]


@dataclass(frozen=True, order=True)
class Connection:
    src: str
    dst: str
    conns: Conns

    def line(self) -> str:
        return f"{self.src} => {self.dst} : {self.conns.render()}"


def ip_peer(lo: int, hi: int) -> str:
    def dotted(n: int) -> str:
        return ".".join(str((n >> s) & 255) for s in (24, 16, 8, 0))

    return f"{dotted(lo)}-{dotted(hi)}[External]"


def cut(blocks: list[tuple[tuple[int, int], ...]]) -> list[tuple[int, int]]:
    """The IPv4 space cut at every boundary of every block."""
    points = {0, MAX_IP + 1}
    for block in blocks:
        for lo, hi in block:
            points.update((lo, hi + 1))
    edges = sorted(points)
    return [(a, b - 1) for a, b in itertools.pairwise(edges)]


def _in_block(peer: Peer, lo: int, hi: int) -> bool:
    return peer.block is not None and any(a <= lo and hi <= b for a, b in peer.block)


class Analysis:
    def __init__(self, topo: Topology) -> None:
        self.topo = topo
        groups: dict[ClassKey, list[Workload]] = defaultdict(list)
        for w in topo.workloads:
            groups[(w.namespace, w.labels, w.ports)].append(w)
        self.keys = sorted(groups)
        self.members = [sorted(groups[k], key=lambda w: w.peer) for k in self.keys]
        self.by_ns: dict[str, list[int]] = defaultdict(list)
        for i, (ns, _, _) in enumerate(self.keys):
            self.by_ns[ns].append(i)
        policies: dict[str, list[Policy]] = defaultdict(list)
        for p in topo.policies:
            policies[p.namespace].append(p)
        self.ingress: list[list[tuple[str, Rule]] | None] = []
        self.egress: list[list[tuple[str, Rule]] | None] = []
        for ns, labels, _ in self.keys:
            lab = dict(labels)
            selecting = [p for p in policies.get(ns, ()) if p.selector.matches(lab)]
            ing = [p for p in selecting if p.ingress is not None]
            eg = [p for p in selecting if p.egress is not None]
            self.ingress.append(
                [(p.namespace, r) for p in ing for r in p.ingress or ()] if ing else None
            )
            self.egress.append(
                [(p.namespace, r) for p in eg for r in p.egress or ()] if eg else None
            )
        self._matched: dict[tuple[str, Peer], frozenset[int]] = {}

    def _matches(self, ns: str, peer: Peer) -> frozenset[int]:
        """Classes a policy peer (of a policy in ``ns``) selects; ipBlocks select none."""
        key = (ns, peer)
        found = self._matched.get(key)
        if found is None:
            if peer.block is not None:
                found = frozenset()
            else:
                spaces = (
                    [ns]
                    if peer.namespaces is None
                    else [
                        n
                        for n in self.by_ns
                        if peer.namespaces.matches(self.topo.namespace_labels(n))
                    ]
                )
                pods = peer.pods
                found = frozenset(
                    i
                    for n in spaces
                    for i in self.by_ns[n]
                    if pods is None or pods.matches(dict(self.keys[i][1]))
                )
            self._matched[key] = found
        return found

    def _allowed(self, rules: list[tuple[str, Rule]], other: int, dst: int) -> Conns:
        """Union of the rules that admit class ``other``; ports resolved on class ``dst``."""
        out = NONE
        ports = self.keys[dst][2]
        for ns, rule in rules:
            if rule.peers is None or any(other in self._matches(ns, p) for p in rule.peers):
                out = out | rule.conns(ports)
        return out

    def _allowed_ip(
        self, rules: list[tuple[str, Rule]], lo: int, hi: int, dst: int | None
    ) -> Conns:
        out = NONE
        ports = self.keys[dst][2] if dst is not None else None
        for _, rule in rules:
            if rule.peers is None or any(_in_block(p, lo, hi) for p in rule.peers):
                out = out | rule.conns(ports)
        return out

    def class_conns(self, s: int, d: int) -> Conns:
        eg, ing = self.egress[s], self.ingress[d]
        out = ALL if eg is None else self._allowed(eg, d, d)
        if out and ing is not None:
            out = out & self._allowed(ing, s, d)
        return out

    def connections(self) -> list[Connection]:
        found: list[Connection] = []
        n = len(self.keys)
        for s in range(n):
            for d in range(n):
                conns = self.class_conns(s, d)
                if not conns:
                    continue
                for ws in self.members[s]:
                    found += [
                        Connection(ws.peer, wd.peer, conns)
                        for wd in self.members[d]
                        if wd is not ws
                    ]
        found += self._external()
        found.sort(key=lambda c: (c.src, c.dst))
        return found

    def _external(self) -> list[Connection]:
        found: list[Connection] = []
        blocks_in = [
            p.block
            for rules in self.ingress
            if rules
            for _, r in rules
            for p in r.peers or ()
            if p.block is not None
        ]
        blocks_out = [
            p.block
            for rules in self.egress
            if rules
            for _, r in rules
            for p in r.peers or ()
            if p.block is not None
        ]
        sources, targets = cut(blocks_in), cut(blocks_out)
        for i, members in enumerate(self.members):
            ing, eg = self.ingress[i], self.egress[i]
            for lo, hi in sources:
                conns = ALL if ing is None else self._allowed_ip(ing, lo, hi, i)
                if conns:
                    found += [Connection(ip_peer(lo, hi), w.peer, conns) for w in members]
            for lo, hi in targets:
                conns = ALL if eg is None else self._allowed_ip(eg, lo, hi, None)
                if conns:
                    found += [Connection(w.peer, ip_peer(lo, hi), conns) for w in members]
        return found


def analyse(topo: Topology) -> list[Connection]:
    """Every allowed connection, sorted by (source, destination); no self lines."""
    return Analysis(topo).connections()
