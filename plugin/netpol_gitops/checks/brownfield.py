"""Adopting netpol-gitops where policies already exist: what the generated policies would
break, and the namespaces it cannot see. Pure."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from netpol_gitops.analysis.changes import compared
from netpol_gitops.analysis.model import Workload
from netpol_gitops.analysis.reach import Analysis
from netpol_gitops.analysis.topology import Topology
from netpol_gitops.checks.rules import finding
from netpol_gitops.errors import Problem
from netpol_gitops.generate.namespaces import is_unmanaged
from netpol_gitops.model.connection import Change, Connection
from netpol_gitops.model.intent import Config, NamespaceIntent
from netpol_gitops.model.location import Location

MAX_EXAMPLES = 3  # connections quoted per finding


def _isolated(analysis: Analysis, direction: str) -> set[str]:
    """The workloads a policy isolates in ``direction`` (peers)."""
    return {
        w.peer
        for cls in analysis.classes
        if getattr(cls, direction) is not None
        for w in cls.members
    }


def blocked_by_generated(
    topo: Topology, generated: list[dict[str, Any]]
) -> dict[str, list[Change]]:
    """Namespace -> the connections that hand-written NetworkPolicies allow (a workload they
    isolate admits it) and that the policies generated for that namespace block or narrow,
    because they isolate a direction the hand-written ones left open.

    ``topo`` holds the input (hand-written policies included), not the generated ones."""
    if not generated or not topo.policies:
        return {}
    before = Analysis(topo)
    after = Analysis(topo.with_policies(generated))
    allowed_in, allowed_out = _isolated(before, "ingress"), _isolated(before, "egress")
    newly_in = _isolated(after, "ingress") - allowed_in
    newly_out = _isolated(after, "egress") - allowed_out
    found: dict[str, list[Change]] = defaultdict(list)
    for c in compared(before, after):
        if not c.lost or not (c.dst in allowed_in or c.src in allowed_out):
            continue
        blockers = {p.split("/", 1)[0] for p in (c.src,) if p in newly_out}
        blockers |= {p.split("/", 1)[0] for p in (c.dst,) if p in newly_in}
        for ns in blockers:
            found[ns].append(c)
    return dict(found)


def breaks_existing(
    topo: Topology, generated: list[dict[str, Any]], intents: Iterable[NamespaceIntent]
) -> list[Problem]:
    """``deny-breaks-existing``: per namespace, what its generated policies block that
    hand-written NetworkPolicies allow, with the count and examples."""
    where = {i.name: i.location for i in intents}
    found = []
    for ns, changes in sorted(blocked_by_generated(topo, generated).items()):
        n = len(changes)
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
