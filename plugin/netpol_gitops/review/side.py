"""One revision of a review, rendered and analysed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from netpol_gitops.analysis.documents import topology_of
from netpol_gitops.analysis.reach import Analysis
from netpol_gitops.generate.config import parse_config
from netpol_gitops.generate.render import namespace_objects, render_units
from netpol_gitops.model.connection import Connection
from netpol_gitops.model.intent import Mode
from netpol_gitops.review.compare import Side, not_generated
from netpol_gitops.yaml.document import Document, Shared
from netpol_gitops.yaml.emit import dump_objects


@dataclass(frozen=True)
class Revision:
    """One revision as read (adapters.gitrev): its documents, per unit."""

    sha: str
    units: list[tuple[Document | None, list[Document]]]  # (config, documents) per unit


def side(rev: Revision, shared: Shared | None = None) -> Side:
    """One revision rendered (each unit under its own config) and analysed; ``shared`` lets
    revisions share unchanged files' documents (and their parsed workloads)."""
    result = render_units([(parse_config(cfg), docs) for cfg, docs in rev.units])
    intents = {i.name: i for i in result.intents}
    protection = {}
    for _, _, obj in namespace_objects(result.documents):
        name = str((obj.get("metadata") or {}).get("name"))
        intent = intents.get(name)
        if intent is None or intent.mode is Mode.OFF:
            protection[name] = "off"
        elif intent.mode is Mode.AUDIT:
            protection[name] = "audit"
        else:
            protection[name] = intent.deny.value
    topo = topology_of(result.documents, keep=shared is not None)
    analysis = Analysis(topo.with_policies(result.generated))

    def connections() -> Iterator[Connection]:
        return analysis.iter_connections()

    policies = {
        f"{p['metadata']['namespace']}/{p['metadata']['name']}": dump_objects([p])
        for p in result.generated
    }
    # policies labelled as generated that are not: the analysis above has what the deliveries
    # apply (the generated policies); these are listed apart, with what they open as written
    return Side(rev.sha, protection, connections, policies, not_generated(result, topo, analysis))
