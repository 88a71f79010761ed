"""`check`: read, render, and collect findings, with render's own problems as findings."""

from __future__ import annotations

from typing import Any

from netpol_gitops.analysis.changes import compared
from netpol_gitops.analysis.documents import topology_of
from netpol_gitops.analysis.overrides import Override, overridden
from netpol_gitops.analysis.reach import Analysis
from netpol_gitops.analysis.topology import Topology
from netpol_gitops.checks.brownfield import breaks_existing, unmanaged_namespaces
from netpol_gitops.checks.dns_proxy import dns_proxy
from netpol_gitops.checks.rules import HandWritten, Repo, check, finding, not_generated
from netpol_gitops.errors import NetpolError, Problem
from netpol_gitops.generate.labelled import Standing
from netpol_gitops.generate.render import Rendered, namespace_objects, render
from netpol_gitops.model.connection import Connection
from netpol_gitops.model.intent import Config, Mode
from netpol_gitops.model.kube import CILIUM_POLICY
from netpol_gitops.model.location import Location
from netpol_gitops.yaml.document import Document


def findings(docs: list[Document], config: Config) -> list[Problem]:
    """Every finding; a problem that stops the analysis (an object too malformed to analyse)
    is a finding too, never an exception."""
    try:
        result = render(docs, config)
    except NetpolError as exc:
        return exc.problems
    try:
        return _analysed(result, config)
    except NetpolError as exc:  # the findings that need no analysis, and why it stopped
        return sorted([*exc.problems, *not_generated(result.not_generated)])


def _analysed(result: Rendered, config: Config) -> list[Problem]:
    namespaces = {}
    for doc, path, obj in namespace_objects(result.documents):
        namespaces[str((obj.get("metadata") or {}).get("name"))] = doc.location(
            [*path, "metadata", "name"]
        )
    # labelled items of Lists stay in the output: generated only when exactly current
    current = {
        (id(x.doc), x.path)
        for x in result.labelled
        if x.standing is Standing.CURRENT and not x.replaced
    }
    handwritten: list[HandWritten] = []
    cilium: list[HandWritten] = []
    for doc in result.documents:
        if doc.kind not in INPUT_KINDS and not (doc.kind or "").endswith("List"):
            continue
        for path, obj in doc.objects():
            kind = obj.get("kind")
            if kind in INPUT_KINDS and (id(doc), tuple(path)) not in current:
                meta: dict[str, Any] = obj.get("metadata") or {}
                (handwritten if kind == "NetworkPolicy" else cilium).append(
                    HandWritten(
                        str(meta.get("namespace") or "default"),
                        str(meta.get("name")),
                        obj.get("spec") or {},
                        doc.location([*path, "metadata", "name"]),
                    )
                )
    topo = topology_of(result.documents)  # workloads and namespace labels, parsed once
    labels = {name: topo.namespace_labels(name) for name in namespaces}
    repo = Repo(
        config,
        result.intents,
        namespaces,
        labels,
        topo.workloads,
        handwritten,
        result.generated,
        result.not_generated,
        topo.cluster_policies,
        overrides_of(topo, result.generated),
        cilium,
    )
    found = [*check(repo), *dns_proxy(repo)]
    return sorted(
        [
            *found,
            *topo.warnings,
            *audit_report(result, config, topo),
            *breaks_existing(topo, result.generated, result.intents),
            *unmanaged_namespaces(topo.workloads, namespaces, first_seen(result.documents), config),
        ]
    )


INPUT_KINDS = ("NetworkPolicy", CILIUM_POLICY[0])  # the policies of the input that checks read


def first_seen(docs: list[Document]) -> dict[str, Location]:
    """Namespace -> where the first object in it is (its metadata.namespace, else its name
    for an object in `default` by omission)."""
    where: dict[str, Location] = {}
    for doc in docs:
        for path, obj in doc.objects():
            meta = obj.get("metadata")
            if not isinstance(meta, dict) or obj.get("kind") == "Namespace":
                continue
            ns = meta.get("namespace")
            key = "namespace" if isinstance(ns, str) and ns else "name"
            where.setdefault(str(ns or "default"), doc.location([*path, "metadata", key]))
    return where


def overrides_of(topo: Topology, generated: list[dict[str, Any]]) -> list[Override]:
    """The NetworkPolicy allows (input and generated) an Admin-tier Deny overrides; none
    without an Admin-tier policy (no analysis is built)."""
    if not topo.cluster_policies:
        return []
    return list(overridden(Analysis(topo.with_policies(generated))))


def audit_report(result: Rendered, config: Config, topo: Topology) -> list[Problem]:
    """For each namespace in ``mode: audit``: the connections its deny would block, found by
    analysing the repository as it is and as it would be with those namespaces enforced."""
    audited = [i for i in result.intents if i.mode is Mode.AUDIT]
    if not audited:
        return []
    del config  # the enforce-mode policies are in result.audited
    # audit generates nothing that enforces (a staged policy is not analysed as enforcing)
    enforced = [*result.generated, *result.audited]
    now = Analysis(topo.with_policies(result.generated))
    then = Analysis(topo.with_policies(enforced))
    lost = (  # a merge: neither analysis is held whole
        Connection(c.src, c.dst, c.before) for c in compared(now, then) if c.lost
    )
    blocked = sorted(lost, key=Connection.line)
    found = []
    for intent in audited:
        mine = [c for c in blocked if any(p.startswith(f"{intent.name}/") for p in (c.src, c.dst))]
        shown = "; ".join(c.line() for c in mine[:3]) + ("; ..." if len(mine) > 3 else "")
        n = len(mine)
        message = (
            f"namespace {intent.name} is in audit mode: enforcing default-deny-"
            f"{intent.deny.value} would block or narrow {n} connection{'s' if n != 1 else ''}"
            + (f": {shown}" if mine else "")
        )
        found.append(finding("audit-would-block", intent.location, message))
    return found
