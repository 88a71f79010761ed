"""The policy stack of one direction of a workload class, and how it decides a connection.

Evaluation order as the network-policy-api defines it: the Admin tier (policies by priority,
lower first; within a policy its rules in order; the first rule that matches decides: Accept
admits, Deny drops, Pass hands the connection to NetworkPolicy), then NetworkPolicy (when it
isolates the direction, it decides everything that reaches it), then the Baseline tier (first
match decides, Accept or Deny), then the default: allow. Pure.

Decisions are made on sets of ports (Conns), so a rule that matches only some ports of a peer
decides those ports and leaves the others to the next rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from netpol_gitops.analysis.cluster import ACCEPT, ADMIN, PASS, ClusterPolicy, TierRule
from netpol_gitops.analysis.model import Port, Rule
from netpol_gitops.model.portsets import ALL, NONE, Conns

Matched = Iterable[tuple[str, Conns]]  # (action, the ports a matching rule covers), in order


def decide(admin: Matched, np: Conns | None, baseline: Matched) -> Conns:
    """What the stack admits of one (subject, peer) pair: ``admin`` and ``baseline`` list the
    rules that match the peer, in evaluation order, with the ports each covers; ``np`` is what
    NetworkPolicy admits, None when no NetworkPolicy isolates the subject in this direction."""
    allowed, undecided, passed = NONE, ALL, NONE
    for action, conns in admin:
        hit = conns & undecided
        if not hit:
            continue
        undecided = undecided - hit
        if action == ACCEPT:
            allowed = allowed | hit
        elif action == PASS:
            passed = passed | hit
    rest = undecided | passed  # neither accepted nor denied by the Admin tier
    if np is not None:
        return allowed | (rest & np)
    for action, conns in baseline:
        hit = conns & rest
        if not hit:
            continue
        rest = rest - hit
        if action == ACCEPT:
            allowed = allowed | hit
    return allowed | rest  # the default: allow


def covers(rule: TierRule, ports: tuple[Port, ...] | None) -> Conns:
    """The ports a rule covers towards a destination with these container ports (None: an IP
    range, where named ports resolve to nothing)."""
    return Rule(None, rule.ports).conns(ports)


@dataclass(frozen=True, slots=True)
class Tiers:
    """The cluster-policy rules that apply to one direction of a class, in evaluation order
    (each tier's policies by priority, a policy's rules in order)."""

    admin: tuple[TierRule, ...] = ()
    baseline: tuple[TierRule, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.admin or self.baseline)

    def rules(self) -> tuple[TierRule, ...]:
        return (*self.admin, *self.baseline)


NO_TIERS = Tiers()


def tiers_of(
    policies: Sequence[ClusterPolicy],
    ns_labels: dict[str, str],
    labels: dict[str, str],
    interned: dict[tuple[int, ...], tuple[Tiers, Tiers]],
) -> tuple[Tiers, Tiers]:
    """(ingress, egress) tiers of a class, from ``policies`` already in evaluation order;
    classes selected by the same policies get the same objects (``interned``)."""
    chosen = [p for p in policies if p.selects(ns_labels, labels)]
    if not chosen:
        return NO_TIERS, NO_TIERS
    key = tuple(id(p) for p in chosen)
    if key not in interned:
        interned[key] = _tiers(chosen)
    return interned[key]


def _tiers(chosen: list[ClusterPolicy]) -> tuple[Tiers, Tiers]:

    def of(direction: str) -> Tiers:
        admin = tuple(r for p in chosen if p.tier == ADMIN for r in getattr(p, direction))
        base = tuple(r for p in chosen if p.tier != ADMIN for r in getattr(p, direction))
        return Tiers(admin, base) if admin or base else NO_TIERS

    return of("ingress"), of("egress")
