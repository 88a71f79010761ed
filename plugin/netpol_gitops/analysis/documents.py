"""Documents -> Topology: only the documents that can matter, workloads built only as far as
the analysis reads them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from netpol_gitops.analysis.cluster import KINDS as CLUSTER_KINDS
from netpol_gitops.analysis.objects import Malformed
from netpol_gitops.analysis.topology import WORKLOAD_KINDS, ByObject, Topology
from netpol_gitops.errors import NetpolError, Problem
from netpol_gitops.model.severity import Severity
from netpol_gitops.yaml.blockscan import blockscan
from netpol_gitops.yaml.document import Document
from netpol_gitops.yaml.partial import ANY, Unusual, pruned


def topology(objects: Sequence[dict[str, Any]]) -> Topology:
    """Workloads (one per owner), namespaces with their labels, and policies."""
    topo = Topology()
    for obj in objects:
        topo.add(obj)
    return topo


def reads(kind: str | None) -> bool:
    """Whether a document of this top-level kind can matter to the analysis."""
    return kind is not None and (
        kind in WORKLOAD_KINDS
        or kind.endswith("List")
        or kind in ("Namespace", "NetworkPolicy")
        or kind in CLUSTER_KINDS
    )


_TEMPLATE = ("metadata", "labels")


_PORTS = ("spec", "containers", ANY, "ports")


WORKLOAD_PATHS: tuple[tuple[str, ...], ...] = (
    ("kind",),
    ("apiVersion",),
    ("metadata", "name"),
    ("metadata", "namespace"),
    ("metadata", "labels"),
    ("metadata", "ownerReferences"),
    _PORTS,
    ("spec", "template", *_TEMPLATE),
    ("spec", "template", *_PORTS),
    ("spec", "jobTemplate", "spec", "template", *_TEMPLATE),
    ("spec", "jobTemplate", "spec", "template", *_PORTS),
)


def _pruned_workload(text: str) -> dict[str, Any]:
    return pruned(text, WORKLOAD_PATHS)


def _scanned_workload(text: str) -> dict[str, Any]:
    """A plain document's workload read from its text, else as ``_pruned_workload``."""
    found = blockscan(text, WORKLOAD_PATHS)
    return pruned(text, WORKLOAD_PATHS) if found is None else found


def _objects(doc: Document, keep: bool) -> list[tuple[list[str | int], dict[str, Any]]]:
    """A workload document is built only as far as the analysis reads it (see yaml/partial.py,
    and yaml/blockscan.py for plain documents), and kept on the document with ``keep``;
    everything else, or anything unusual, is built whole. So is a document that may hold a
    merge key (``<<``): kubectl merges it, and neither partial reader does."""
    if doc.kind in WORKLOAD_KINDS and doc.text and not doc.built and "<<" not in doc.text:
        read = _scanned_workload if doc.plain else _pruned_workload
        try:
            if keep:
                return [([], doc.derived("workload", read))]
            return [([], read(doc.text))]
        except Unusual:
            pass
    return doc.objects()


def topology_of(
    docs: Iterable[Document],
    extra: Sequence[dict[str, Any]] = (),
    *,
    keep: bool = False,
    memo: ByObject | None = None,
) -> Topology:
    """The topology of documents (plus extra objects, e.g. generated policies). With ``keep``
    the parsed workloads stay on their documents, and with ``memo`` what is made of each object
    is made once, for revisions that share them.

    An object too malformed to analyse is a located problem, never a traceback."""
    topo = Topology(memo=memo)
    problems: list[Problem] = []
    for doc in docs:
        if not reads(doc.kind):
            continue
        for path, obj in _objects(doc, keep):
            known = len(topo.cluster_policies)
            try:
                topo.add(obj)
            except Malformed as exc:
                problems.append(Problem(doc.location([*path, *exc.path]), str(exc)))
            except (TypeError, ValueError, AttributeError, KeyError) as exc:
                problems.append(
                    Problem(
                        doc.location(path),
                        f"cannot analyse this {obj.get('kind')}: {type(exc).__name__}: {exc}",
                    )
                )
            for cp in topo.cluster_policies[known:]:  # undecidable peers: warned, skipped
                topo.warnings += [
                    Problem(doc.location([*path, *at]), text, Severity.WARNING, "undecidable-peer")
                    for at, text in cp.warnings
                ]
    if problems:
        raise NetpolError(problems)
    for obj in extra:
        topo.add(obj)
    return topo
