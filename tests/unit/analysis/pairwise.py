"""A brute-force oracle of reach: every workload pair decided on its own, for the property tests
of the analysis (test_stack, test_fanout)."""

from __future__ import annotations

from typing import Any

from netpol_gitops.analysis.cluster import ordered
from netpol_gitops.analysis.model import Peer, Selector, Workload
from netpol_gitops.analysis.stack import covers, decide
from netpol_gitops.analysis.topology import Topology
from netpol_gitops.model.kube import NS_NAME_LABEL
from netpol_gitops.model.portsets import Conns


def pair_by_pair(topo: Topology) -> dict[tuple[str, str], Conns]:
    """Every workload pair decided on its own, straight from the records: no classes, caches
    or shared rows (the tier order itself, ``decide``, is pinned by the cases above and the
    conformance suites)."""
    admin = ordered(topo.cluster_policies, "Admin")
    base = ordered(topo.cluster_policies, "Baseline")

    def selects(peer: Peer, w: Workload) -> bool:
        if peer.block is not None:
            return False
        nss = topo.namespace_labels(w.namespace)
        return (peer.namespaces is None or peer.namespaces.matches(nss)) and (
            peer.pods is None or peer.pods.matches(dict(w.labels))
        )

    def side(subject: Workload, peer: Workload, direction: str, dst: Workload) -> Conns:
        labels, nss = dict(subject.labels), topo.namespace_labels(subject.namespace)

        def matched(policies: list[Any]) -> list[tuple[str, Conns]]:
            return [
                (r.action, covers(r, dst.ports))
                for p in policies
                if p.selects(nss, labels)
                for r in getattr(p, direction)
                if r.everyone or any(selects(x, peer) for x in r.peers)
            ]

        nps = [
            p
            for p in topo.policies
            if p.namespace == subject.namespace
            and p.selector.matches(labels)
            and getattr(p, direction) is not None
        ]
        np = None
        if nps:
            np = Conns()
            for p in nps:
                for rule in getattr(p, direction):
                    if rule.peers is None or any(
                        selects(
                            x
                            if x.namespaces is not None or x.block is not None
                            else Peer(
                                x.pods,
                                Selector.parse({"matchLabels": {NS_NAME_LABEL: p.namespace}}),
                            ),
                            peer,
                        )
                        for x in rule.peers
                    ):
                        np = np | rule.conns(dst.ports)
        return decide(matched(admin), np, matched(base))

    out = {}
    for s in topo.workloads:
        for d in topo.workloads:
            if s is d:
                continue
            conns = side(s, d, "egress", d) & side(d, s, "ingress", d)
            if conns:
                out[(s.peer, d.peer)] = conns
    return out
