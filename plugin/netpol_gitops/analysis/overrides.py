"""What the cluster tiers do to NetworkPolicies: the namespaces a tier's deny protects, and the
NetworkPolicy allows an Admin-tier Deny overrides (the flow a namespace declared cannot work).
Pure."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from netpol_gitops.analysis.cluster import ADMIN, DENY, ClusterPolicy, ordered
from netpol_gitops.analysis.reach import Analysis
from netpol_gitops.analysis.stack import covers
from netpol_gitops.model.portsets import ALL, NONE, Conns

DIRECTIONS = ("ingress", "egress")


def tier_denials(
    policies: Iterable[ClusterPolicy], ns_labels: dict[str, str]
) -> dict[str, ClusterPolicy]:
    """direction -> the first cluster policy (Admin tier first, then Baseline, each by
    priority) whose subject is every pod of the namespace and that denies that direction to
    or from every pod."""
    policies = list(policies)
    found: dict[str, ClusterPolicy] = {}
    for p in [*ordered(policies, ADMIN), *ordered(policies, "Baseline")]:
        if not p.covers(ns_labels):
            continue
        for direction in DIRECTIONS:
            if direction not in found and p.denies(direction):
                found[direction] = p
    return found


@dataclass(frozen=True)
class Override:
    """A NetworkPolicy rule admits ``conns`` between ``subject`` and ``peer`` (workload peers,
    one of each class) that an Admin-tier rule of ``by`` denies first."""

    namespace: str
    policy: str  # the NetworkPolicy's name
    direction: str  # ingress or egress (of the subject)
    subject: str
    peer: str
    conns: Conns
    by: str  # "Kind name" of the cluster policy


def overridden(analysis: Analysis) -> Iterator[Override]:
    """Every (NetworkPolicy, subject class, peer class) whose allow an Admin Deny overrides, in
    policy order. Cost follows what the NetworkPolicy rules select, for the classes an Admin
    policy selects."""
    for policy in analysis.topo.policies:
        for i in analysis.by_ns.get(policy.namespace, ()):
            cls = analysis.classes[i]
            if not policy.selector.matches(dict(cls.labels)):
                continue
            for k, direction in enumerate(DIRECTIONS):
                rules = policy.ingress if direction == "ingress" else policy.egress
                admin = analysis.tiers(i)[k].admin
                if not rules or not admin:
                    continue
                tagged = [(policy.namespace, r) for r in rules]
                admits = analysis.admitted(tagged, i, direction == "ingress")
                for peer, conns in sorted(admits.items()):
                    ports = cls.ports if direction == "ingress" else analysis.classes[peer].ports
                    undecided = ALL
                    for rule in admin:
                        if not (rule.everyone or peer in analysis.selected(rule)):
                            continue
                        hit = covers(rule, ports) & undecided
                        undecided = undecided - hit
                        lost = hit & conns if rule.action == DENY else NONE
                        if lost:
                            yield Override(
                                policy.namespace,
                                policy.name,
                                direction,
                                cls.members[0].peer,
                                analysis.classes[peer].members[0].peer,
                                lost,
                                rule.policy,
                            )
