"""What the annotations declare is what the generated policies allow.

For every golden case, synthesize one pod per label set the flows name (and the DNS pods), run
the connectivity analysis on input + generated policies, and compare every pod pair with an
independent oracle computed from the intents alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings

from netpol_gitops.adapters.inputs import configured_units
from netpol_gitops.analysis.documents import topology
from netpol_gitops.analysis.model import Workload
from netpol_gitops.analysis.reach import analyse
from netpol_gitops.analysis.topology import Topology
from netpol_gitops.generate.render import Rendered, render
from netpol_gitops.model.intent import (
    Config,
    Endpoint,
    EndpointKind,
    Expressions,
    Mode,
    NamespaceIntent,
    PortSpec,
)
from netpol_gitops.model.kube import NS_NAME_LABEL, Labels
from netpol_gitops.model.portsets import ALL, NONE, Conns
from netpol_gitops.yaml.stream import read_documents
from tests.helpers import EXAMPLE, GOLDEN
from tests.strategies import streams


def _audited(case: Path) -> bool:
    """A case with a namespace in audit mode: allows without the deny, by design not equal to
    the intent (not collected, so that a skip means something)."""
    files = [case / "input.yaml"] if (case / "input.yaml").is_file() else case.rglob("*.yaml")
    return any("netpol-gitops.io/mode: audit" in f.read_text() for f in files)


CASES = [
    case
    for case in [GOLDEN / c for c in sorted(p.name for p in GOLDEN.iterdir())] + [EXAMPLE]
    if not case.name.startswith("err-") and not _audited(case)
]
Pod = tuple[str, dict[str, str]]  # (namespace, labels)


def ports_conns(ports: tuple[PortSpec, ...]) -> Conns:
    if not ports:
        return ALL
    return Conns.of(
        [(p.protocol, p.port, p.end_port or p.port) for p in ports if isinstance(p.port, int)]
        + [(p.protocol, 1, 65535) for p in ports if p.port is None]
    )


def selects(labels: Labels | None, expressions: Expressions, pod: dict[str, str]) -> bool:
    """A LabelSelector over a pod's labels, as the Kubernetes API documents it."""
    if any(pod.get(k) != v for k, v in labels or ()):
        return False
    for key, op, values in expressions:
        if op == "In" and pod.get(key) not in values:
            return False
        if op == "NotIn" and key in pod and pod[key] in values:
            return False
        if op == "Exists" and key not in pod:
            return False
        if op == "DoesNotExist" and key in pod:
            return False
    return True


def end_matches(end: Endpoint, home: str, pod: Pod, ns_labels: dict[str, str]) -> bool:
    ns, labels = pod
    pods_ok = end.pods is None or selects(end.pods, end.pod_expressions, labels)
    if end.kind is EndpointKind.PODS:
        return ns == home and pods_ok
    if end.kind is EndpointKind.NAMESPACE:
        return ns == end.namespace and pods_ok
    if end.kind is EndpointKind.NAMESPACES:
        return selects(end.namespace_labels, end.namespace_expressions, ns_labels) and pods_ok
    return end.kind is EndpointKind.ANYWHERE  # other IP ends never match pods


def denied(intent: NamespaceIntent, pod: dict[str, str], egress: bool) -> bool:
    """Whether the namespace denies its pod this direction: all its pods, or some."""
    if intent.deny.egress if egress else intent.deny.ingress:
        return True
    return any(
        (d.deny.egress if egress else d.deny.ingress) and selects(d.pods, d.expressions, pod)
        for d in intent.deny_pods
    )


def side(
    intent: NamespaceIntent | None,
    config: Config,
    me: Pod,
    other: Pod,
    *,
    other_ns_labels: dict[str, str],
    egress: bool,
) -> Conns:
    """What one namespace's intent allows for its pod ``me`` towards/from ``other``."""
    if intent is None or intent.mode is not Mode.ENFORCE:
        return ALL
    if not denied(intent, me[1], egress):
        return ALL
    out = NONE
    if intent.allow_same_namespace and other[0] == intent.name:
        out |= ALL
    if (
        egress
        and intent.allow_dns
        and other[0] == config.dns.namespace
        and all(other[1].get(k) == v for k, v in config.dns.pods)
    ):
        out |= ports_conns(config.dns.ports)
    if not egress and other[0] in intent.allow_from_namespaces:
        out |= ALL
    if not egress and any(
        other[0] == ns and selects(pods, (), other[1]) for ns, pods in intent.allow_from_pods
    ):
        out |= ALL
    for flow in intent.flows:
        mine, theirs = (flow.src, flow.dst) if egress else (flow.dst, flow.src)
        if (
            mine.local
            and end_matches(mine, intent.name, me, {})
            and end_matches(theirs, intent.name, other, other_ns_labels)
        ):
            out |= ports_conns(flow.ports)
    return out


def witnesses(labels: Labels | None, expressions: Expressions) -> set[Labels]:
    """Label sets of pods a selector selects, and of pods that miss it by one expression."""
    base = dict(labels or ())
    for key, op, values in expressions:
        if op == "In":
            base.setdefault(key, values[0])
        elif op == "Exists":
            base.setdefault(key, "yes")
    out = [base]
    for key, op, values in expressions:
        miss = dict(base)
        if op in ("In", "Exists"):
            miss.pop(key, None)
        else:
            miss[key] = values[0] if values else "yes"
        out.append(miss)
    return {tuple(sorted(x.items())) for x in out}


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_declared_flows_are_exactly_what_is_allowed(
    case: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(case)
    source = "input" if (case / "input").is_dir() else "input.yaml"
    if case == EXAMPLE:
        source = "."
    explicit = "config.yaml" if (case / "config.yaml").exists() else None
    [(config, docs)] = configured_units(source, explicit)  # one config per case
    result = render(docs, config)
    assert not any(i.mode is Mode.AUDIT for i in result.intents)  # filtered at collection
    assert_declared_equals_allowed(result, config)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams())
def test_declared_equals_allowed_for_any_annotations(docs: list[str]) -> None:
    config = Config()
    result = render(read_documents([("s", "\n---\n".join(docs))]), config)
    assume(not any(i.mode is Mode.AUDIT for i in result.intents))
    assert_declared_equals_allowed(result, config)


def assert_declared_equals_allowed(result: Rendered, config: Config) -> None:
    intents = {i.name: i for i in result.intents}
    objs: list[dict[str, Any]] = [
        o for d in result.documents for _, o in d.objects() if o.get("kind") == "Namespace"
    ]  # hand-written policies aside
    pods: set[tuple[str, tuple[tuple[str, str], ...]]] = {(config.dns.namespace, config.dns.pods)}
    for intent in result.intents:
        pods.add((intent.name, ()))
        denies = [(d.pods, d.expressions) for d in intent.deny_pods]
        for labels, exprs in denies:
            pods |= {(intent.name, w) for w in witnesses(labels, exprs)}
        pods |= {(ns, labels) for ns, labels in intent.allow_from_pods}
        pods |= {(ns, ()) for ns, _ in intent.allow_from_pods}  # their pods without the label
        for flow in intent.flows:
            for end in (flow.src, flow.dst):
                found = witnesses(end.pods, end.pod_expressions)
                if end.kind is EndpointKind.PODS:
                    pods |= {(intent.name, w) for w in found}
                    for labels, exprs in denies:  # pods both of the end and of a scoped deny
                        both = dict(labels)
                        if all(both.setdefault(k, v) == v for k, v in end.pods or ()):
                            merged = tuple(sorted(both.items()))
                            pods |= {(intent.name, w) for w in witnesses(merged, exprs)}
                            exprs_both = exprs + end.pod_expressions
                            pods |= {(intent.name, w) for w in witnesses(merged, exprs_both)}
                elif end.kind is EndpointKind.NAMESPACE:
                    pods |= {(str(end.namespace), w) for w in found}
                elif end.kind is EndpointKind.NAMESPACES:  # pods in every namespace there is
                    pods |= {(i.name, w) for i in result.intents for w in found}
    topo: Topology = topology([*objs, *result.generated])
    topo.workloads = [
        Workload(ns, f"pod{i}", "Pod", labels) for i, (ns, labels) in enumerate(sorted(pods))
    ]
    got = {(c.src, c.dst): c.conns for c in analyse(topo) if "[External]" not in c.src + c.dst}
    for a in topo.workloads:
        for b in topo.workloads:
            if a is b:
                continue
            pa, pb = (a.namespace, dict(a.labels)), (b.namespace, dict(b.labels))
            labels_b = topo.namespace_labels(b.namespace)
            labels_a = topo.namespace_labels(a.namespace)
            want = side(
                intents.get(a.namespace), config, pa, pb, other_ns_labels=labels_b, egress=True
            ) & side(
                intents.get(b.namespace), config, pb, pa, other_ns_labels=labels_a, egress=False
            )
            assert got.get((a.peer, b.peer), NONE) == want, (a, b, NS_NAME_LABEL)
