"""Adopting netpol-gitops where policies already exist: what the generated policies would
break, and the namespaces it cannot see. Pure."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from netpol_gitops.analysis.model import Workload
from netpol_gitops.analysis.reach import Analysis
from netpol_gitops.analysis.topology import Topology
from netpol_gitops.checks.rules import finding
from netpol_gitops.errors import Problem
from netpol_gitops.generate.namespaces import is_unmanaged
from netpol_gitops.model.connection import Change, Connection
from netpol_gitops.model.intent import Config, NamespaceIntent
from netpol_gitops.model.location import Location
from netpol_gitops.model.portsets import ALL, NONE, Conns

MAX_EXAMPLES = 3  # connections quoted per finding


MAX_KEPT = 5  # examples kept per namespace


def blocked_by_generated(
    topo: Topology, generated: list[dict[str, Any]], analysed: Analysis | None = None
) -> dict[str, tuple[int, list[Change]]]:
    """Namespace -> (how many, the first few) connections that hand-written NetworkPolicies
    allow (a workload they isolate admits it) and that the policies generated for that
    namespace block or narrow, because they isolate a direction the hand-written ones left open.

    ``topo`` holds the input (hand-written policies included), not the generated ones. Only
    those pairs can lose (where both directions were isolated, more policies only add), so the
    work follows what the hand-written policies select, never all pairs. ``analysed`` is the
    analysis of ``topo`` with ``generated``, when the caller has it."""
    if not generated or not topo.policies:
        return {}
    before = Analysis(topo)
    # the same workloads: the same classes
    after = analysed or Analysis(topo.with_policies(generated))
    into_before, into_after = before.admitted_into(), after.admitted_into()
    targets_after = functools.cache(after.egress_targets)
    counts: dict[str, int] = defaultdict(int)
    examples: dict[str, list[Change]] = defaultdict(list)

    def now(s: int, d: int) -> Conns:
        out = targets_after(s)
        conns = ALL if out is None else out.get(d, NONE)
        if after.classes[d].ingress is not None:
            conns = conns & into_after.get(s, {}).get(d, NONE)
        return conns

    def record(s: int, d: int, was: Conns, blocker: str) -> None:
        after_conns = now(s, d)
        if not was - after_conns:
            return
        srcs, dsts = before.classes[s].members, before.classes[d].members
        pairs = len(srcs) * len(dsts) - (len(srcs) if s == d else 0)
        counts[blocker] += pairs
        kept = examples[blocker]
        for a in srcs:
            for b in dsts:
                if len(kept) < MAX_KEPT and a is not b:
                    kept.append(Change(a.peer, b.peer, was, after_conns))

    for s, cls in enumerate(before.classes):
        if cls.egress is None and after.classes[s].egress is not None:
            for d, conns in into_before.get(s, {}).items():  # admitted by a hand-written policy
                record(s, d, conns, cls.namespace)
        if cls.egress is not None:
            for d, conns in (before.egress_targets(s) or {}).items():
                target = before.classes[d]
                if target.ingress is None and after.classes[d].ingress is not None:
                    record(s, d, conns, target.namespace)
    return {ns: (n, examples[ns]) for ns, n in sorted(counts.items()) if n}


def breaks_existing(
    topo: Topology, generated: list[dict[str, Any]], intents: Iterable[NamespaceIntent]
) -> list[Problem]:
    """``deny-breaks-existing``: per namespace, what its generated policies block that
    hand-written NetworkPolicies allow, with the count and examples."""
    where = {i.name: i.location for i in intents}
    found = []
    for ns, (n, changes) in blocked_by_generated(topo, generated).items():
        shown = "; ".join(
            Connection(c.src, c.dst, c.lost).line() for c in changes[:MAX_EXAMPLES]
        ) + ("; ..." if n > MAX_EXAMPLES else "")
        found.append(
            finding(
                "deny-breaks-existing",
                where.get(ns, Location(f"<namespace {ns}>")),
                f"namespace {ns}: the generated policies block {n} connection"
                f"{'s' if n != 1 else ''} that hand-written NetworkPolicies allow: {shown}. "
                "Declare them (`netpol-gitops adopt` proposes the annotations) or deny only "
                "what the namespace's own policies deny (default-deny)",
            )
        )
    return found


def unmanaged_namespaces(
    workloads: Iterable[Workload],
    namespaces: Mapping[str, Location],
    where: Mapping[str, Location],
    config: Config,
) -> list[Problem]:
    """``unmanaged-namespace``: namespaces with workloads and no Namespace manifest, which
    netpol-gitops never manages (it reads annotations from Namespace objects). ``where``
    locates the first object seen in each namespace."""
    seen = sorted({w.namespace for w in workloads} - set(namespaces))
    return [
        finding(
            "unmanaged-namespace",
            where.get(ns, Location(f"<namespace {ns}>")),
            f"namespace {ns} has workloads but no Namespace manifest, so netpol-gitops does not "
            "manage it; add a Namespace manifest (with netpol-gitops.io/ annotations, or run "
            "`netpol-gitops adopt` to propose them)",
        )
        for ns in seen
        if not is_unmanaged(ns, config)  # system namespaces and config excludes
    ]
