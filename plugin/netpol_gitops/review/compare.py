"""Base vs head: protection per namespace, connections opened and closed, generated policies
added, removed and changed (rendered by output.report). Pure."""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from netpol_gitops.analysis.changes import changed, merged
from netpol_gitops.analysis.documents import topology_of
from netpol_gitops.analysis.reach import Analysis
from netpol_gitops.analysis.topology import Topology
from netpol_gitops.errors import printable
from netpol_gitops.generate.render import Rendered
from netpol_gitops.model.connection import Connection

DIRECTIONS = {"all": {"ingress", "egress"}, "ingress": {"ingress"}, "egress": {"egress"}}
MAX_OPENS = 20  # connections listed per policy labelled as generated that is not generated


@dataclass(frozen=True)
class NotGenerated:
    """A NetworkPolicy that carries the managed-by label but is not what the generator makes
    now (render.Labelled, not CURRENT), with what it opens where the manifests are applied
    without the generator (as written, instead of the generated policies)."""

    policy: str  # namespace/name
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
class Side:
    """One revision, rendered and analysed."""

    sha: str
    protection: dict[str, str]  # namespace -> all|ingress|egress|none|off|audit
    # reach's connections (input + generated policies) in (source, destination) order, made
    # when iterated: they can run to millions
    connections: Callable[[], Iterable[Connection]]
    policies: dict[str, str]  # namespace/name -> the generated object's YAML
    not_generated: list[NotGenerated] = field(default_factory=list)


@dataclass
class Diff:
    base: str
    head: str
    namespaces: list[tuple[str, str, str]] = field(default_factory=list)
    added: list[Connection] = field(default_factory=list)
    removed: list[Connection] = field(default_factory=list)
    policies_added: list[str] = field(default_factory=list)
    policies_removed: list[str] = field(default_factory=list)
    policies_changed: list[str] = field(default_factory=list)
    policy_diffs: dict[str, str] = field(default_factory=dict)
    not_generated: list[NotGenerated] = field(default_factory=list)  # the head's

    @property
    def regressions(self) -> list[str]:
        return [name for name, before, after in self.namespaces if is_regression(before, after)]

    @property
    def changed(self) -> bool:
        return bool(
            self.namespaces
            or self.added
            or self.removed
            or self.policies_added
            or self.policies_removed
            or self.policies_changed
            or self.not_generated
        )


def is_regression(before: str, after: str) -> bool:
    """Less protection after than before (a namespace that is gone is not a regression)."""
    if after == "absent":
        return False
    return not DIRECTIONS.get(before, set()) <= DIRECTIONS.get(after, set())


def _sort_key(c: Connection) -> tuple[str, str]:
    """The order of the txt lines: source, then the rest of the line."""
    return c.src, c.line()[len(c.src) + 4 :]


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
        written = topology_of([x.doc for x in replaced]).policies
        twins = {(x.namespace, x.name) for x in replaced}
        others = [
            p
            for p in result.generated
            if (p["metadata"]["namespace"], p["metadata"]["name"]) not in twins
        ]
        applied = topo.with_policies(others)  # a copy: topo stays as it is
        applied.policies.extend(written)
        spaces = {x.namespace for x in replaced}

        def near(conns: Iterable[Connection]) -> Iterator[Connection]:
            return (c for c in conns if not spaces.isdisjoint(c.namespaces))

        generated = near(analysis.iter_connections())
        for sign, conn in merged(generated, near(Analysis(applied).iter_connections())):
            for ns in conn.namespaces & spaces if sign == "+" else ():
                totals[ns] += 1
                if len(opens[ns]) < MAX_OPENS:
                    opens[ns].append(conn)
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


def compare(base: Side, head: Side) -> Diff:
    diff = Diff(base.sha, head.sha)
    for name in sorted(set(base.protection) | set(head.protection)):
        before = base.protection.get(name, "absent")
        after = head.protection.get(name, "absent")
        if before != after:
            diff.namespaces.append((name, before, after))
    added, removed = changed(base.connections(), head.connections())
    diff.added = sorted(added, key=_sort_key)
    diff.removed = sorted(removed, key=_sort_key)
    diff.policies_added = sorted(set(head.policies) - set(base.policies))
    diff.policies_removed = sorted(set(base.policies) - set(head.policies))
    diff.policies_changed = sorted(
        k for k in set(base.policies) & set(head.policies) if base.policies[k] != head.policies[k]
    )
    for key in [*diff.policies_added, *diff.policies_removed, *diff.policies_changed]:
        lines = difflib.unified_diff(
            base.policies.get(key, "").splitlines(keepends=True),
            head.policies.get(key, "").splitlines(keepends=True),
            fromfile=printable(f"a/{key}"),
            tofile=printable(f"b/{key}"),
        )
        diff.policy_diffs[key] = "".join(lines)
    diff.not_generated = list(head.not_generated)
    return diff
