"""Findings over intents, policies and workloads, with stable rule ids (rendered by
output.problems). Pure."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from netpol_gitops.analysis.cluster import ClusterPolicy
from netpol_gitops.analysis.model import Selector, Workload
from netpol_gitops.analysis.objects import Malformed, compile_policy
from netpol_gitops.errors import Problem, did_you_mean
from netpol_gitops.generate.labelled import Labelled
from netpol_gitops.generate.namespaces import is_unmanaged
from netpol_gitops.model.intent import Config, Endpoint, EndpointKind, Mode, NamespaceIntent
from netpol_gitops.model.kube import (
    MANAGED_BY_LABEL,
    MANAGED_BY_VALUE,
    NETWORK_POLICY,
    NS_NAME_LABEL,
    SYSTEM_NAMESPACES,
    Labels,
    key_text,
    policy_types,
)
from netpol_gitops.model.location import Location
from netpol_gitops.model.severity import Severity

if TYPE_CHECKING:  # the cluster tiers' analysis: imported by the rules that use it (start-up: krm)
    from netpol_gitops.analysis.overrides import Override


@dataclass(frozen=True)
class CheckRule:
    """A rule id of `check`, its severity and what it finds."""

    id: str
    severity: Severity
    summary: str


RULES = {
    r.id: r
    for r in (
        CheckRule("no-default-deny", Severity.ERROR, "A namespace has no default deny"),
        CheckRule("egress-without-dns", Severity.ERROR, "Egress is denied but DNS is not allowed"),
        CheckRule(
            "half-open-flow",
            Severity.ERROR,
            "A flow needs the other namespace's consent, which it does not give",
        ),
        CheckRule(
            "selector-matches-nothing",
            Severity.WARNING,
            "A flow's pod selector matches no workload",
        ),
        CheckRule(
            "unresolved-named-port",
            Severity.ERROR,
            "A flow's named port is declared by no container of the pods it goes to",
        ),
        CheckRule(
            "redundant-policy",
            Severity.WARNING,
            "A hand-written NetworkPolicy repeats a generated one",
        ),
        CheckRule(
            "audit-would-block",
            Severity.NOTE,
            "What a namespace in audit mode would block if enforced",
        ),
        CheckRule(
            "name-clash",
            Severity.ERROR,
            "A hand-written NetworkPolicy has a generated policy's name",
        ),
        CheckRule(
            "stale-generated-policy",
            Severity.ERROR,
            "A NetworkPolicy labelled as generated is not what the generator makes now",
        ),
        CheckRule(
            "deny-breaks-existing",
            Severity.ERROR,
            "The generated policies block connections that hand-written NetworkPolicies allow",
        ),
        CheckRule(
            "unmanaged-namespace",
            Severity.WARNING,
            "A namespace has workloads but no Namespace manifest",
        ),
        CheckRule(
            "overridden-allow",
            Severity.WARNING,
            "A NetworkPolicy allow that an Admin-tier Deny overrides",
        ),
        CheckRule(
            "fqdn-without-dns-proxy",
            Severity.WARNING,
            "Egress to DNS names (toFQDNs) without the DNS-proxy rule that makes it work",
        ),
        CheckRule(
            "undecidable-peer",
            Severity.WARNING,
            "A cluster policy peer (nodes, domainNames) that manifests cannot decide",
        ),
        CheckRule("invalid-annotation", Severity.ERROR, "An annotation value is invalid"),
        CheckRule("invalid-flow", Severity.ERROR, "A flow is invalid"),
        CheckRule("invalid-config", Severity.ERROR, "The repo config is invalid"),
        CheckRule(
            "invalid-yaml", Severity.ERROR, "A file is not valid YAML or not a Kubernetes object"
        ),
        CheckRule("invalid-input", Severity.ERROR, "The input is invalid"),
    )
}


@dataclass(frozen=True)
class HandWritten:
    """A NetworkPolicy of the input (not generated), where it is written."""

    namespace: str
    name: str
    spec: dict[str, Any]
    location: Location


@dataclass(frozen=True)
class Repo:
    """What the checks look at (built by the caller from a render)."""

    config: Config
    intents: list[NamespaceIntent]
    namespaces: dict[str, Location]  # every Namespace object
    namespace_labels: dict[str, dict[str, str]]
    workloads: list[Workload]
    handwritten: list[HandWritten]
    generated: list[dict[str, Any]]
    # input NetworkPolicies labelled managed-by netpol-gitops that the generator does not make
    not_generated: list[Labelled] = field(default_factory=list)
    # AdminNetworkPolicy, BaselineAdminNetworkPolicy and ClusterNetworkPolicy of the input, and
    # the NetworkPolicy allows an Admin-tier Deny overrides (analysis.overrides)
    cluster_policies: list[ClusterPolicy] = field(default_factory=list)
    overrides: list[Override] = field(default_factory=list)
    # CiliumNetworkPolicies of the input (flavor cilium reads them for fqdn-without-dns-proxy)
    cilium: list[HandWritten] = field(default_factory=list)


def finding(rule: str, location: Location, message: str) -> Problem:
    return Problem(location, message, RULES[rule].severity, rule)


def allows_all(spec: dict[str, Any], direction: str) -> bool:
    """Whether a policy selecting every pod admits every peer on every port in this direction
    (``podSelector: {}`` with ``ingress: [{}]``): it isolates the pods only to let everything
    in. Judged on the policy as the analysis compiles it."""
    try:
        policy = compile_policy({"spec": spec})
    except (Malformed, TypeError, ValueError, AttributeError, KeyError):
        return False  # the analysis reports it, located
    rules = policy.ingress if direction == "Ingress" else policy.egress
    return policy.selector == Selector() and any(r.admits_everyone() for r in rules or ())


def denies(policies: Iterable[dict[str, Any]], direction: str) -> bool:
    """Whether the policies of a namespace deny this direction by default: one selects every pod
    with this direction in its policyTypes (no rules needed: it isolates every pod there), and
    none selecting every pod admits every peer on every port (an allow-all isolates nothing)."""
    isolated = False
    for spec in policies:
        if allows_all(spec, direction):
            return False
        selector = spec.get("podSelector") or {}
        if selector.get("matchLabels") or selector.get("matchExpressions"):
            continue
        if direction in policy_types(spec):
            isolated = True
    return isolated


def check(repo: Repo) -> list[Problem]:
    found: list[Problem] = []
    intents = {i.name: i for i in repo.intents}
    specs: dict[str, list[dict[str, Any]]] = {}
    for p in repo.generated:
        if p["kind"] == NETWORK_POLICY:  # a cluster baseline is counted by its tier
            specs.setdefault(p["metadata"]["namespace"], []).append(p["spec"])
    for h in repo.handwritten:
        specs.setdefault(h.namespace, []).append(h.spec)
    found += _default_deny(repo, intents, specs)
    found += _dns(repo)
    found += _half_open(repo, intents)
    found += unmatched_selectors(repo.intents, repo.workloads)
    found += unresolved_ports(repo.intents, repo.workloads, repo.namespace_labels)
    found += _redundant(repo)
    found += not_generated(repo.not_generated)
    found += overridden_allows(repo, intents)
    return sorted(found)


def not_generated(policies: Iterable[Labelled]) -> list[Problem]:
    """Errors: a policy labelled as generated that is not what the generator makes now (the
    label is a claim anyone can write; see render.Labelled)."""
    found = []
    for x in policies:
        if not x.replaced:
            fate = "it is an item of a List, so it is deployed as written"
        else:
            done = "replace it with the policy generated now" if x.differences else "leave it out"
            fate = (
                f"render, krm and argocd generate {done}, but wherever these manifests are "
                "applied without the generator it takes effect as written"
            )
        fix = "re-render" if x.differences else "delete it"
        found.append(
            finding(
                "stale-generated-policy",
                x.location,
                f"{key_text(x.key)} is labelled {MANAGED_BY_LABEL}: {MANAGED_BY_VALUE}, but "
                f"{x.summary}; {fate}: {fix}, or drop the label to keep it as a hand-written "
                "policy",
            )
        )
    return found


def _default_deny(
    repo: Repo, intents: Mapping[str, NamespaceIntent], specs: Mapping[str, list[dict[str, Any]]]
) -> list[Problem]:
    from netpol_gitops.analysis.overrides import tier_denials  # noqa: PLC0415 - start-up: krm

    found = []
    for name, loc in sorted(repo.namespaces.items()):
        if name in SYSTEM_NAMESPACES:
            continue
        policies = specs.get(name, [])
        if denies(policies, "Ingress") or denies(policies, "Egress"):
            continue
        intent = intents.get(name)
        if intent is not None and intent.mode is Mode.AUDIT:
            why = "mode is audit"
        elif intent is not None and intent.mode is Mode.OFF:
            why = "mode is off"
        elif intent is not None:
            why = "default-deny is none"
        elif is_unmanaged(name, repo.config):
            why = "it is excluded by the repo config"
        else:
            why = "the repo config is opt-in and it carries no netpol-gitops.io/ annotation"
        why += "".join(
            f"; NetworkPolicy {name}/{h.name} allows all {d.lower()} to every pod"
            for h in repo.handwritten
            if h.namespace == name
            for d in ("Ingress", "Egress")
            if allows_all(h.spec, d)
        )
        tiers = tier_denials(repo.cluster_policies, repo.namespace_labels.get(name) or {})
        if tiers:  # a cluster policy's deny is its default deny
            found.append(tier_protected(name, loc, why, tiers))
            continue
        found.append(
            finding(
                "no-default-deny",
                loc,
                f"namespace {name} has no default deny "
                f"({why}); every pod accepts and sends "
                "all traffic",
            )
        )
    return found


def tier_protected(
    name: str, loc: Location, why: str, tiers: Mapping[str, ClusterPolicy]
) -> Problem:
    """A note, not an error: a namespace without a default deny of its own that a cluster
    policy's deny protects (named, per direction)."""
    by = "; ".join(f"{d} is denied by {p.tier} {p.label}" for d, p in sorted(tiers.items()))
    return Problem(
        loc,
        f"namespace {name} has no default deny of its own ({why}); {by}",
        Severity.NOTE,
        "no-default-deny",
    )


def overridden_allows(repo: Repo, intents: Mapping[str, NamespaceIntent]) -> list[Problem]:
    """Warnings: a NetworkPolicy allow that an Admin-tier Deny overrides, one per (policy,
    cluster policy), located at the hand-written policy or at the Namespace that generates it."""
    where = {(h.namespace, h.name): h.location for h in repo.handwritten}
    grouped: dict[tuple[str, str, str], list[Override]] = {}
    for o in repo.overrides:
        grouped.setdefault((o.namespace, o.policy, o.by), []).append(o)
    found = []
    for (ns, name, by), items in sorted(grouped.items()):
        loc = where.get((ns, name)) or repo.namespaces.get(ns)
        if loc is None:
            intent = intents.get(ns)
            loc = intent.location if intent is not None else Location(ns, 0, 0)
        shown = [
            f"{o.peer} => {o.subject}" if o.direction == "ingress" else f"{o.subject} => {o.peer}"
            for o in items[:3]
        ]
        more = f" and {len(items) - 3} more" if len(items) > 3 else ""
        found.append(
            finding(
                "overridden-allow",
                loc,
                f"NetworkPolicy {ns}/{name} allows what {by} (Admin tier) denies first, so the "
                f"flow cannot work: {'; '.join(shown)} ({items[0].conns.text()}){more}",
            )
        )
    return found


def _dns(repo: Repo) -> list[Problem]:
    return [
        finding(
            "egress-without-dns",
            i.location,
            f"namespace {i.name} denies egress but not allow-dns: its pods cannot "
            'resolve names (set netpol-gitops.io/allow-dns: "true")',
        )
        for i in repo.intents
        if i.mode is not Mode.OFF and i.deny.egress and not i.allow_dns
    ]


def _may_overlap(scoped: Labels, pods: Labels | None) -> bool:
    """Whether some pod can carry both label sets (no key with two values); None: all pods."""
    wanted = dict(pods or ())
    return not any(k in wanted and wanted[k] != v for k, v in scoped)


def _admits(
    other: NamespaceIntent | None,
    home: str,
    home_labels: dict[str, str],
    ingress: bool,
    pods: Labels | None = None,
) -> bool:
    """Whether namespace ``other`` lets traffic from/to ``home`` (its ``pods``) through its
    own deny, namespace-wide or of the pods a default-deny-pods entry picks."""
    if other is None or other.mode is not Mode.ENFORCE:
        return True
    denied = other.deny.ingress if ingress else other.deny.egress
    denied = denied or any(
        (scoped.deny.ingress if ingress else scoped.deny.egress) and _may_overlap(scoped.pods, pods)
        for scoped in other.deny_pods
    )
    if not denied:
        return True
    if ingress and (
        home in other.allow_from_namespaces or any(ns == home for ns, _ in other.allow_from_pods)
    ):
        return True
    for flow in other.flows:
        peer = flow.src if ingress else flow.dst
        mine = flow.dst if ingress else flow.src
        if not mine.local:
            continue
        if peer.kind is EndpointKind.NAMESPACE and peer.namespace == home:
            return True
        spaces = Selector(peer.namespace_labels or (), peer.namespace_expressions)
        if peer.kind is EndpointKind.NAMESPACES and spaces.matches(home_labels):
            return True
    return False


def _half_open(repo: Repo, intents: Mapping[str, NamespaceIntent]) -> list[Problem]:
    found = []
    for intent in repo.intents:
        if intent.mode is Mode.OFF:
            continue
        labels = repo.namespace_labels.get(intent.name, {NS_NAME_LABEL: intent.name})
        for flow in intent.flows:
            for end, other_is_dst in ((flow.dst, True), (flow.src, False)):
                if end.kind is not EndpointKind.NAMESPACE or end.namespace == intent.name:
                    continue
                other = intents.get(str(end.namespace))
                if _admits(other, intent.name, labels, ingress=other_is_dst, pods=end.pods):
                    continue
                assert other is not None  # _admits is True for unmanaged namespaces
                side = "ingress" if other_is_dst else "egress"
                found.append(
                    finding(
                        "half-open-flow",
                        flow.location,
                        f"flow '{flow.name}' of namespace {intent.name} needs namespace "
                        f"{other.name} ({other.location.prefix()}) to allow it, but {other.name} "
                        f"denies {side} and declares no matching flow or allow",
                    )
                )
    return found


def unmatched_selectors(
    intents: Iterable[NamespaceIntent], workloads: Iterable[Workload]
) -> list[Problem]:
    """Warnings: a flow's local pod selector that matches no workload of its namespace."""
    pods: dict[str, list[dict[str, str]]] = {}
    for w in workloads:
        pods.setdefault(w.namespace, []).append(dict(w.labels))
    found = []
    for intent in intents:
        for flow in intent.flows:
            ends: list[Endpoint] = [e for e in (flow.src, flow.dst) if e.local]
            for end in ends:
                selector = Selector(end.pods or (), end.pod_expressions)
                if not any(selector.matches(labels) for labels in pods.get(intent.name, [])):
                    found.append(
                        finding(
                            "selector-matches-nothing",
                            flow.location,
                            f"flow '{flow.name}': no workload in namespace {intent.name} has "
                            f"labels {dict(end.pods or ())}",
                        )
                    )
    return found


def _destinations(
    intent: NamespaceIntent,
    end: Endpoint,
    workloads: Iterable[Workload],
    namespace_labels: Mapping[str, dict[str, str]],
) -> list[Workload]:
    """The workloads of the repository that a flow's destination end selects."""
    if end.kind is EndpointKind.PODS:
        homes = {intent.name}
    elif end.kind is EndpointKind.NAMESPACE:
        homes = {str(end.namespace)}
    elif end.kind is EndpointKind.NAMESPACES:
        selector = Selector(end.namespace_labels or (), end.namespace_expressions)
        homes = {name for name, labels in namespace_labels.items() if selector.matches(labels)}
    else:
        return []  # an IP block: named ports are refused towards one
    pods = Selector(end.pods or (), end.pod_expressions)
    return [w for w in workloads if w.namespace in homes and pods.matches(dict(w.labels))]


def unresolved_ports(
    intents: Iterable[NamespaceIntent],
    workloads: Iterable[Workload],
    namespace_labels: Mapping[str, dict[str, str]],
) -> list[Problem]:
    """Errors: a flow's named port that no container of its destination pods declares (with
    its protocol). A named port resolves on the destination pod; where none declares it, the
    policy admits nothing there and the flow is silently dropped. Destinations with no workload
    in the repository are not judged (selector-matches-nothing covers the local ones)."""
    every = list(workloads)
    found = []
    for intent in intents:
        for flow in intent.flows:
            named = [(i, p) for i, p in enumerate(flow.ports) if p.named]
            if not named:
                continue
            targets = _destinations(intent, flow.dst, every, namespace_labels)
            if not targets:
                continue
            declared = {(name, proto) for w in targets for name, _, proto in w.ports}
            for i, port in named:
                if (port.port, port.protocol) in declared:
                    continue
                names = sorted({name for name, _ in declared})
                has = f"they declare {', '.join(names)}" if names else "they declare none"
                found.append(
                    finding(
                        "unresolved-named-port",
                        flow.location,
                        f"flow '{flow.name}': ports[{i}] '{port.port}': no container of the "
                        f"pods it goes to declares a {port.protocol} port of that name ({has}), "
                        f"so it connects nothing{did_you_mean(str(port.port), names)}",
                    )
                )
    return found


def _canonical(spec: dict[str, Any]) -> str:
    return json.dumps({**spec, "policyTypes": policy_types(spec)}, sort_keys=True)


def _redundant(repo: Repo) -> list[Problem]:
    generated: dict[tuple[str, str], str] = {
        (p["metadata"]["namespace"], _canonical(p["spec"])): p["metadata"]["name"]
        for p in repo.generated
        if p["kind"] == NETWORK_POLICY
    }
    found = []
    for h in repo.handwritten:
        twin = generated.get((h.namespace, _canonical(h.spec)))
        if twin is not None:
            found.append(
                finding(
                    "redundant-policy",
                    h.location,
                    f"NetworkPolicy {h.namespace}/{h.name} does what the generated "
                    f"{h.namespace}/{twin} does; delete it",
                )
            )
    return found


# ----------------------------------------------------------------------------- renderers
def at_or_above(findings: Iterable[Problem], level: Severity) -> bool:
    return any(f.severity.at_least(level) for f in findings)
