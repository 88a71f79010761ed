"""`probe`: the input (plus the generated policies) analysed, and the probe manifests that prove
the analysis in a live cluster. Also what the KRM function and the Argo CD plugin append when
the repo config says ``probe: true``."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from netpol_gitops.adapters.inputs import read_manifests
from netpol_gitops.adapters.pipeline import rendered
from netpol_gitops.analysis.documents import reads, topology, topology_of
from netpol_gitops.analysis.objects import Malformed
from netpol_gitops.analysis.reach import Analysis
from netpol_gitops.probe.inventory import inventory
from netpol_gitops.probe.manifests import Options, is_probe, manifests
from netpol_gitops.probe.plan import DEFAULT_EXTERNAL, plan
from netpol_gitops.yaml.document import Document

PROBE_HOOKS = Options(hook="argocd")  # what `probe: true` in the repo config emits
CLUSTER_SCOPED = frozenset({"Namespace", "NamespaceList", "List"})


@dataclass(frozen=True)
class Probed:
    objects: list[dict[str, Any]]
    notes: list[str]


def _objects(docs: Iterable[Document], default_namespace: str) -> list[dict[str, Any]]:
    """Every object the probes read (workloads, Namespaces, NetworkPolicies, Services; items of
    Lists too), each namespaced object without a namespace put in ``default_namespace``."""
    out = []
    for doc in docs:
        if doc.kind != "Service" and not reads(doc.kind):
            continue
        for _, found in doc.objects():
            if not isinstance(found, dict) or is_probe(found):  # an earlier run's: not input
                continue
            meta = found.get("metadata")
            obj = found
            if (
                found.get("kind") not in CLUSTER_SCOPED
                and isinstance(meta, dict)
                and not meta.get("namespace")
            ):
                obj = copy.deepcopy(found)
                obj["metadata"]["namespace"] = default_namespace
            out.append(obj)
    return out


def earlier_probes(docs: Iterable[Document]) -> set[int]:
    """ids of the documents that are probe objects of an earlier run (replaced, never
    duplicated, when the probes are emitted again)."""
    return {
        id(d)
        for d in docs
        if d.kind in ("Job", "Service") and all(is_probe(o) for _, o in d.objects())
    }


def probe_objects(
    docs: Sequence[Document],
    generated: Sequence[dict[str, Any]],
    options: Options,
    external: str = DEFAULT_EXTERNAL,
    namespace: str = "default",
) -> Probed:
    """The probe manifests for these documents plus ``generated`` policies; NetpolError when an
    object is too malformed to analyse. Namespaced objects without a namespace are in
    ``namespace`` (Argo CD's destination)."""
    objects = _objects(docs, namespace)
    try:
        topo = topology([*objects, *generated])
    except (Malformed, TypeError, ValueError, AttributeError, KeyError):
        topology_of(docs, generated)  # the located problems
        raise
    inv = inventory(objects)
    found = plan(Analysis(topo), inv, external)
    notes = list(found.notes)
    if not found.probes:
        notes.append("nothing to probe: no NetworkPolicy isolates a workload of the input")
    return Probed(manifests(found.probes, options), notes)


def probed(
    path: str, config: str | None, *, generate: bool, options: Options, external: str
) -> Probed:
    """`probe PATH`: read as `reach` reads it (with ``generate``, plus the generated policies)."""
    if generate:
        result = rendered(path, config)
        return probe_objects(result.documents, result.generated, options, external)
    return probe_objects(read_manifests(path), [], options, external)
