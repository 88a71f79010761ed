"""Base vs head: protection per namespace, connections opened and closed, generated policies
added, removed and changed (rendered by output.report). Pure."""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from netpol_gitops.analysis.changes import coalesce, compared, touched, with_info
from netpol_gitops.analysis.documents import topology_of
from netpol_gitops.analysis.reach import Analysis
from netpol_gitops.analysis.topology import Topology
from netpol_gitops.errors import printable
from netpol_gitops.generate.render import Rendered
from netpol_gitops.model.connection import Change, Connection
from netpol_gitops.model.kube import key_of
from netpol_gitops.yaml.emit import dump_objects

DIRECTIONS = {"all": {"ingress", "egress"}, "ingress": {"ingress"}, "egress": {"egress"}}
MAX_OPENS = 20  # connections listed per policy labelled as generated that is not generated


@dataclass(frozen=True)
class NotGenerated:
    """An object of a generated kind that carries the managed-by label but is not what the
    generator makes now (render.Labelled, not CURRENT), with what it opens where the manifests
    are applied without the generator (as written, instead of the generated policies)."""

    policy: str  # its key (model.kube.object_key): namespace/name, ClusterNetworkPolicy/name
    location: str  # FILE:LINE:COL of its metadata.name
    standing: str  # stale (differs from the generated one) | orphan (none of that name)
    summary: str  # what is wrong, one phrase
    differences: tuple[str, ...]  # stale: the fields that differ
    replaced: bool  # the deliveries replace it; False: an item of a List, deployed as written
    # connections that exist with it applied as written and not with the generated policies,
    # with an end in its namespace (shared by the namespace's such policies); first MAX_OPENS
    opens: tuple[Connection, ...] = ()
    opens_total: int = 0


@dataclass(frozen=True)
class InputPolicy:
    """A NetworkPolicy of the input: hand-written (the deliveries keep it) or labelled as
    generated and equal to what the generator makes (``current``: replaced by its twin)."""

    text: str  # canonical: equal text, equal policy
    # FILE:LINE:COL of its metadata.name, made when asked (locating composes the document)
    locate: Callable[[], str] = field(compare=False, repr=False)
    selects: bool = False  # it selects a workload of the revision
    current: bool = False

    @property
    def location(self) -> str:
        return self.locate()


@dataclass(frozen=True)
class Side:
    """One revision, rendered and analysed."""

    sha: str
    protection: dict[str, str]  # namespace -> all|ingress|egress|none|off|audit
    # reach of input + generated policies: connections are made when iterated (they can run
    # to millions), never held
    analysis: Analysis
    # namespace/name -> the generated object (one object when a review reuses an unchanged
    # namespace's: generate.render's ``reuse``; dumped only where two differ)
    policies: dict[str, dict[str, Any]]
    not_generated: list[NotGenerated] = field(default_factory=list)
    inputs: dict[str, InputPolicy] = field(default_factory=dict)  # namespace/name ->
    # namespace -> (how many, the first few) connections hand-written NetworkPolicies allow
    # and its generated policies block
    breaks: dict[str, tuple[int, list[Change]]] = field(default_factory=dict)
    # namespace in audit mode -> (how many, the first few) connections enforcing it would block
    audit: dict[str, tuple[int, list[Change]]] = field(default_factory=dict)


@dataclass(frozen=True)
class Edit:
    """A NetworkPolicy of the input added, removed or changed."""

    policy: str  # its key (model.kube.object_key): namespace/name, ClusterNetworkPolicy/name
    kind: str  # added | removed | changed
    location: str  # where it is (the base's for a removed one)
    selects: bool  # it selects a workload (at head; at base for a removed one)
    current: bool  # labelled as generated and equal to what the generator makes


@dataclass
class Diff:
    base: str
    head: str
    namespaces: list[tuple[str, str, str]] = field(default_factory=list)
    # per (source, destination) pair whose connections differ, IP ranges merged back
    connections: list[Change] = field(default_factory=list)
    workloads_added: list[str] = field(default_factory=list)
    workloads_removed: list[str] = field(default_factory=list)
    # a namespace that loses protection -> direction -> its workloads no policy isolates now
    exposed: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    inputs: list[Edit] = field(default_factory=list)  # input NetworkPolicies edited
    policies_added: list[str] = field(default_factory=list)
    policies_removed: list[str] = field(default_factory=list)
    policies_changed: list[str] = field(default_factory=list)
    policy_diffs: dict[str, str] = field(default_factory=dict)
    not_generated: list[NotGenerated] = field(default_factory=list)  # the head's
    # the head's, where they differ from the base's
    breaks: dict[str, tuple[int, list[Change]]] = field(default_factory=dict)
    audit: dict[str, tuple[int, list[Change]]] = field(default_factory=dict)  # likewise

    @property
    def regressions(self) -> list[str]:
        return [name for name, before, after in self.namespaces if is_regression(before, after)]

    def of_kind(self, kind: str) -> list[Change]:
        """The connection changes that are ``added``, ``removed`` or ``changed``."""
        return [c for c in self.connections if c.kind == kind]

    @property
    def changed(self) -> bool:
        return bool(
            self.namespaces
            or self.connections
            or self.workloads_added
            or self.workloads_removed
            or self.inputs
            or self.policies_added
            or self.policies_removed
            or self.policies_changed
            or self.not_generated
            or self.breaks
            or self.audit
        )


def is_regression(before: str, after: str) -> bool:
    """Less protection after than before (a namespace that is gone is not a regression)."""
    if after == "absent":
        return False
    return not DIRECTIONS.get(before, set()) <= DIRECTIONS.get(after, set())


def not_generated(result: Rendered, topo: Topology, analysis: Analysis) -> list[NotGenerated]:
    """The policies of ``result`` labelled as generated that are not generated, each with what
    it opens where the manifests are applied without the generator: the connections with an
    end in its namespace that exist when the replaced ones are applied as written (in place of
    any generated policy of the same name) and not with the generated policies.

    ``topo`` holds the kept documents, ``analysis`` the same plus the generated policies.
    Raises NetpolError (located) for a labelled policy too malformed to analyse."""
    found = result.not_generated
    replaced = [x for x in found if x.replaced]
    opens: dict[str, list[Connection]] = defaultdict(list)
    totals: dict[str, int] = defaultdict(int)
    if replaced:
        written = topology_of([x.doc for x in replaced])
        twins = {x.key for x in replaced}
        others = [p for p in result.generated if key_of(p) not in twins]
        applied = topo.with_policies(others)  # a copy: topo stays as it is
        applied.policies.extend(written.policies)
        applied.cluster_policies.extend(written.cluster_policies)
        spaces = {x.namespace for x in replaced}
        # a cluster-scoped one ("") may open pairs anywhere: every gained pair is its
        cluster = "" in spaces
        only = None if cluster else frozenset(spaces)

        gained = (c for c in compared(analysis, Analysis(applied), only) if c.gained)
        for change in gained:
            for ns in (change.namespaces & spaces) | ({""} if cluster else set()):
                totals[ns] += 1
                if len(opens[ns]) < MAX_OPENS:
                    opens[ns].append(Connection(change.src, change.dst, change.after))
    return sorted(
        (
            NotGenerated(
                x.key,
                x.location.prefix(),
                x.standing.value,
                x.summary,
                x.differences,
                x.replaced,
                tuple(opens.get(x.namespace, ())) if x.replaced else (),
                totals.get(x.namespace, 0) if x.replaced else 0,
            )
            for x in found
        ),
        key=lambda n: (n.policy, n.location),
    )


def unisolated(analysis: Analysis, namespace: str, direction: str) -> list[str]:
    """The workloads of ``namespace`` that no policy isolates in ``direction``."""
    return sorted(
        w.peer
        for i in analysis.by_ns.get(namespace, ())
        if getattr(analysis.classes[i], direction) is None
        for w in analysis.classes[i].members
    )


def _edits(base: dict[str, InputPolicy], head: dict[str, InputPolicy]) -> list[Edit]:
    out = []
    for key in sorted(set(base) | set(head)):
        before, after = base.get(key), head.get(key)
        if after is None:
            assert before is not None
            out.append(Edit(key, "removed", before.location, before.selects, before.current))
        elif before is None or before.text != after.text:
            kind = "added" if before is None else "changed"
            out.append(Edit(key, kind, after.location, after.selects, after.current))
    return out


def compare(base: Side, head: Side) -> Diff:
    diff = Diff(base.sha, head.sha)
    for name in sorted(set(base.protection) | set(head.protection)):
        before = base.protection.get(name, "absent")
        after = head.protection.get(name, "absent")
        if before != after:
            diff.namespaces.append((name, before, after))
            lost = DIRECTIONS.get(before, set()) - DIRECTIONS.get(after, set())
            if is_regression(before, after):
                diff.exposed[name] = {d: unisolated(head.analysis, name, d) for d in sorted(lost)}
    was = {w.peer for w in base.analysis.topo.workloads}
    now = {w.peer for w in head.analysis.topo.workloads}
    diff.workloads_added = sorted(now - was)
    diff.workloads_removed = sorted(was - now)
    # only the pairs with an end in a namespace that changed can differ: the cost of a review
    # follows the change, not the repository
    only = touched(base.analysis, head.analysis)
    diff.connections = with_info(
        coalesce(compared(base.analysis, head.analysis, only) if only else ()),
        set(diff.workloads_added),
        set(diff.workloads_removed),
    )
    diff.inputs = _edits(base.inputs, head.inputs)
    diff.policies_added = sorted(set(head.policies) - set(base.policies))
    diff.policies_removed = sorted(set(base.policies) - set(head.policies))
    texts: dict[tuple[str, str], str] = {}

    def text(side: Side, key: str) -> str:
        if (side.sha, key) not in texts:
            found = side.policies.get(key)
            texts[side.sha, key] = "" if found is None else dump_objects([found])
        return texts[side.sha, key]

    diff.policies_changed = sorted(
        k
        for k in set(base.policies) & set(head.policies)
        if base.policies[k] is not head.policies[k] and text(base, k) != text(head, k)
    )
    for key in [*diff.policies_added, *diff.policies_removed, *diff.policies_changed]:
        lines = difflib.unified_diff(
            text(base, key).splitlines(keepends=True),
            text(head, key).splitlines(keepends=True),
            fromfile=printable(f"a/{key}"),
            tofile=printable(f"b/{key}"),
        )
        diff.policy_diffs[key] = "".join(lines)
    diff.not_generated = list(head.not_generated)
    # what this change breaks: a namespace's breakage as it was before is not news
    diff.breaks = {ns: v for ns, v in head.breaks.items() if base.breaks.get(ns) != v}
    diff.audit = {ns: v for ns, v in head.audit.items() if base.audit.get(ns) != v}
    return diff
