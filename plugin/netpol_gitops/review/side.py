"""One revision of a review, rendered and analysed."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from netpol_gitops.analysis.documents import topology_of
from netpol_gitops.analysis.overrides import tier_denials
from netpol_gitops.analysis.reach import Analysis
from netpol_gitops.analysis.topology import ByObject
from netpol_gitops.checks.audit import audit_blocked
from netpol_gitops.checks.brownfield import blocked_by_generated
from netpol_gitops.checks.rules import denies
from netpol_gitops.generate.config import parse_config
from netpol_gitops.generate.labelled import Standing
from netpol_gitops.generate.render import namespace_objects, render_units
from netpol_gitops.model.intent import Mode, NamespaceIntent
from netpol_gitops.model.kube import key_of
from netpol_gitops.review.compare import DIRECTIONS, InputPolicy, Side, not_generated
from netpol_gitops.yaml.document import Document, Shared


@dataclass(frozen=True)
class Revision:
    """One revision as read (adapters.gitrev): its documents, per unit."""

    sha: str
    units: list[tuple[Document | None, list[Document]]]  # (config, documents) per unit


def handwritten_policies(
    docs: list[Document],
) -> Iterator[tuple[str, str, dict[str, Any], Document, list[str | int]]]:
    """(namespace, name, spec, document, path) of each NetworkPolicy the input keeps
    (generated ones are replaced, so what is left is what was written by hand)."""
    for doc in docs:
        if doc.kind != "NetworkPolicy" and not (doc.kind or "").endswith("List"):
            continue
        for path, obj in doc.objects():
            if obj.get("kind") == "NetworkPolicy" and isinstance(obj.get("spec"), dict):
                meta = obj.get("metadata") or {}
                ns = str(meta.get("namespace") or "default")
                yield ns, str(meta.get("name")), obj["spec"], doc, path


def handwritten_specs(docs: list[Document]) -> dict[str, list[dict[str, Any]]]:
    """namespace -> specs of the NetworkPolicies the input keeps."""
    specs: dict[str, list[dict[str, Any]]] = {}
    for ns, _, spec, _, _ in handwritten_policies(docs):
        specs.setdefault(ns, []).append(spec)
    return specs


def protection_of(
    intent: NamespaceIntent | None, specs: list[dict[str, Any]], tiers: Iterable[str] = ()
) -> str:
    """The protection a namespace ends up with, judged as `check` judges it: the directions its
    intent denies, and those a hand-written policy selecting every pod denies (deleting such a
    policy is a regression like dropping the annotation), or a cluster policy's deny (``tiers``:
    the directions an Admin or Baseline deny covers for the whole namespace)."""
    denied: set[str] = set()
    if intent is None or intent.mode is Mode.OFF:
        label = "off"
    elif intent.mode is Mode.AUDIT:
        label = "audit"
    else:
        label, denied = intent.deny.value, set(DIRECTIONS.get(intent.deny.value, ()))
    by_hand = {d for d in ("ingress", "egress") if denies(specs, d.capitalize())} | set(tiers)
    if by_hand <= denied:
        return label
    both = denied | by_hand
    return "all" if both == {"ingress", "egress"} else next(iter(both))


def _canonical(doc: Document, path: list[str | int], spec: Any) -> str:
    """A policy's spec as canonical text, made once per document (unchanged files of two
    revisions share their documents)."""
    key = "spec-json:" + "/".join(map(str, path))
    text: str = doc.derived(key, lambda _: json.dumps(spec, sort_keys=True, default=str))
    return text


def _locator(doc: Document, path: list[str | int]) -> Callable[[], str]:
    return lambda: doc.location([*path, "metadata", "name"]).prefix()


def side(rev: Revision, shared: Shared | None = None, memo: ByObject | None = None) -> Side:
    """One revision rendered (each unit under its own config) and analysed; ``shared`` lets
    revisions share unchanged files' documents (with their parsed workloads, and their
    Namespaces' intents and generated policies: the very objects), and ``memo`` what the
    analysis makes of those objects."""
    units = [(parse_config(cfg), docs) for cfg, docs in rev.units]
    result = render_units(units, reuse=shared is not None)
    intents = {i.name: i for i in result.intents}
    specs = handwritten_specs(result.documents)
    protection = {}
    for _, _, obj in namespace_objects(result.documents):
        name = str((obj.get("metadata") or {}).get("name"))
        protection[name] = protection_of(intents.get(name), specs.get(name, []))
    topo = topology_of(result.documents, keep=shared is not None, memo=memo)
    analysis = Analysis(topo.with_policies(result.generated))
    if topo.cluster_policies:  # a cluster policy's deny protects as a default deny does
        for name in protection:
            tiers = tier_denials(topo.cluster_policies, topo.namespace_labels(name))
            protection[name] = protection_of(intents.get(name), specs.get(name, []), tiers)
    selecting = {  # (namespace, name) of the policies that select a workload
        (p.namespace, p.name)
        for p in analysis.topo.policies
        for i in analysis.by_ns.get(p.namespace, ())
        if p.selector.matches(dict(analysis.classes[i].labels))
    }
    inputs = {
        f"{ns}/{name}": InputPolicy(
            _canonical(doc, path, spec), _locator(doc, path), (ns, name) in selecting
        )
        for ns, name, spec, doc, path in handwritten_policies(result.documents)
    }
    for x in result.labelled:
        if x.standing is Standing.CURRENT:  # replaced by its twin, which selects as it does
            text = json.dumps(x.obj, sort_keys=True, default=str)
            selects = (x.namespace, x.name) in selecting
            inputs[x.key] = InputPolicy(text, x.location.prefix, selects, current=True)
    policies = {key_of(p): p for p in result.generated}
    # policies labelled as generated that are not: the analysis above has what the deliveries
    # apply (the generated policies); these are listed apart, with what they open as written
    breaks = blocked_by_generated(topo, result.generated, analysis)
    return Side(
        rev.sha,
        protection,
        analysis,
        policies,
        not_generated(result, topo, analysis),
        inputs,
        breaks,
        audit_blocked(topo, analysis, result),
    )
