"""Intents -> NetworkPolicy objects. Pure and deterministic.

Allows only open what a deny closes: an allow is generated for a direction only for the pods
that direction is denied for (every pod: ``default-deny``; some pods: ``default-deny-pods``),
because a policy that selects a pod for a direction isolates it there. ``mode: audit`` never
changes traffic, so it generates nothing, except under ``flavor: calico``, where it emits the
enforce-mode policies staged (generate/calico.py). An ``fqdn`` end (``flavor: cilium``) becomes a
CiliumNetworkPolicy (generate/cilium.py), scoped to the pods whose egress is denied like any
other allow.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from netpol_gitops.generate.calico import staged
from netpol_gitops.generate.cilium import cilium_policy, fqdn_rule
from netpol_gitops.model.intent import (
    Config,
    Endpoint,
    EndpointKind,
    Expressions,
    Flavor,
    Flow,
    Mode,
    NamespaceIntent,
    PortSpec,
)
from netpol_gitops.model.kube import (
    CILIUM_POLICY,
    MANAGED_BY_LABEL,
    MANAGED_BY_VALUE,
    NS_NAME_LABEL,
    SOURCE_ANNOTATION,
    Labels,
)

MAX_NAME = 63

PolicyObject = dict[str, Any]


def policy_name(prefix: str, base: str) -> str:
    """``prefix + base``, cut to 63 characters with a stable hash suffix when longer."""
    full = prefix + base
    if len(full) <= MAX_NAME:
        return full
    import hashlib  # noqa: PLC0415 - start-up: only a name past 63 characters pays for it

    digest = hashlib.sha256(full.encode()).hexdigest()[:8]
    return full[: MAX_NAME - 9].rstrip("-.") + "-" + digest


Selector = tuple[Labels, Expressions]  # matchLabels, matchExpressions; both empty: every pod
EVERY_POD: Selector = ((), ())


@dataclass(frozen=True)
class _Allow:
    """One direction of an allow, before it is scoped to the pods that direction is denied for."""

    name: str  # without the prefix
    origin: str
    pods: Selector
    ingress: bool
    rule: dict[str, Any]
    kind: str = "NetworkPolicy"  # or CiliumNetworkPolicy: an egress rule to fqdn ends


def build(intent: NamespaceIntent, config: Config) -> list[PolicyObject]:
    """The policies of one namespace, in a fixed order (the caller sorts by name)."""
    if intent.mode is Mode.OFF:
        return []
    if intent.mode is Mode.AUDIT:  # audit never changes traffic (see the module docstring)
        if config.flavor is not Flavor.CALICO:
            return []
        return [staged(p) for p in build(dataclasses.replace(intent, mode=Mode.ENFORCE), config)]
    planned = [*_denies(intent), *_merged(_scoped(intent, config))]
    return [
        _policy(
            intent.name,
            name=policy_name(config.name_prefix, name),
            origin=origin,
            pods=pods,
            ingress=rules_in,
            egress=rules_out,
        )
        if kind == "NetworkPolicy"
        else cilium_policy(
            _metadata(intent.name, policy_name(config.name_prefix, name), origin),
            _selector(*pods),
            rules_out or [],
            config,
        )
        for name, origin, pods, rules_in, rules_out, kind in planned
    ]


# (name without the prefix, origin, pod selector, ingress rules, egress rules, kind); None: that
# direction is not in the policy's policyTypes
Planned = tuple[str, str, Selector, list[Any] | None, list[Any] | None, str]


def _denies(intent: NamespaceIntent) -> Iterator[Planned]:
    """The namespace's deny, then those of some pods only (``default-deny-pods``)."""
    if intent.mode is not Mode.ENFORCE:
        return
    deny = intent.deny
    if deny.ingress or deny.egress:
        origin = intent.source_of("default-deny")
        yield (
            f"default-deny-{deny.value}",
            origin,
            EVERY_POD,
            [] if deny.ingress else None,
            [] if deny.egress else None,
            "NetworkPolicy",
        )
    origin = intent.source_of("default-deny-pods")
    for scoped in intent.deny_pods:
        yield (
            f"default-deny-pods-{scoped.name}",
            origin,
            (scoped.pods, scoped.expressions),
            [] if scoped.deny.ingress else None,
            [] if scoped.deny.egress else None,
            "NetworkPolicy",
        )


def _scoped(intent: NamespaceIntent, config: Config) -> Iterator[_Allow]:
    """Every allow, for the pods its direction is denied for: all its pods when the namespace
    denies that direction, else, per ``default-deny-pods`` entry denying it, those of its pods
    that the entry selects (``<name>-for-<entry>``). No deny, no allow: a policy that selects a
    pod for a direction isolates it there."""
    for allow in _allows(intent, config):
        if intent.deny.ingress if allow.ingress else intent.deny.egress:
            yield allow
            continue
        for scoped in intent.deny_pods:
            if not (scoped.deny.ingress if allow.ingress else scoped.deny.egress):
                continue
            both = _both(allow.pods, (scoped.pods, scoped.expressions))
            if both is not None:
                name = f"{allow.name}-for-{scoped.name}"
                yield dataclasses.replace(allow, name=name, pods=both)


def _both(a: Selector, b: Selector) -> Selector | None:
    """The selector of the pods both select; None when no pod can (a label with two values)."""
    labels = dict(a[0])
    for key, value in b[0]:
        if labels.setdefault(key, value) != value:
            return None
    expressions = a[1] + tuple(e for e in b[1] if e not in a[1])
    return tuple(sorted(labels.items())), expressions


def _merged(allows: Iterator[_Allow]) -> Iterator[Planned]:
    """One policy per name and kind: the ingress and egress of an allow that has both
    directions."""
    Key = tuple[str, str, Selector, str]
    policies: dict[Key, tuple[list[Any] | None, list[Any] | None]] = {}
    for a in allows:
        key = (a.name, a.origin, a.pods, a.kind)
        rules_in, rules_out = policies.get(key, (None, None))
        if a.ingress:
            rules_in = [*(rules_in or []), a.rule]
        else:
            rules_out = [*(rules_out or []), a.rule]
        policies[key] = (rules_in, rules_out)
    for (name, origin, pods, kind), (rules_in, rules_out) in policies.items():
        yield name, origin, pods, rules_in, rules_out, kind


def _allows(intent: NamespaceIntent, config: Config) -> Iterator[_Allow]:
    """The allows that the namespace's settings and flows ask for, each direction apart."""
    if intent.allow_dns:
        dns = config.dns
        peers: list[dict[str, Any]] = [_namespace_peer(dns.namespace, dns.pods)]
        if dns.node_local_ip:
            bits = 32 if ipaddress.ip_address(dns.node_local_ip).version == 4 else 128
            peers.append({"ipBlock": {"cidr": f"{dns.node_local_ip}/{bits}"}})
        rule = _rule("to", peers, dns.ports)
        yield _Allow("allow-dns", intent.source_of("allow-dns"), EVERY_POD, False, rule)
    if intent.allow_same_namespace:
        origin = intent.source_of("allow-same-namespace")
        every: list[dict[str, Any]] = [{"podSelector": {}}]
        yield _Allow("allow-same-namespace", origin, EVERY_POD, True, _rule("from", every, ()))
        yield _Allow("allow-same-namespace", origin, EVERY_POD, False, _rule("to", every, ()))
    if intent.allow_from_namespaces or intent.allow_from_pods:
        peers = [_namespace_peer(ns, None) for ns in intent.allow_from_namespaces]
        peers += [_namespace_peer(ns, pods) for ns, pods in intent.allow_from_pods]
        origin = intent.source_of("allow-from-namespaces")
        yield _Allow("allow-from-namespaces", origin, EVERY_POD, True, _rule("from", peers, ()))
    if intent.egress_internet:
        rule = _rule("to", internet_peers(config), intent.egress_internet)
        origin = intent.source_of("allow-egress-internet")
        yield _Allow("allow-egress-internet", origin, EVERY_POD, False, rule)
    for _, group in groupby(intent.flows, key=lambda f: (f.name, f.origin)):
        yield from _flow_allows(intent, config, list(group))


def _flow_allows(intent: NamespaceIntent, config: Config, group: list[Flow]) -> Iterator[_Allow]:
    """One flow: the ingress allow of its local destination and the egress allow of its local
    source. When one side is a list, the single side (pods of this namespace) gets one rule
    with the peers of every end of the list, and each pods end of the list gets its own allow
    towards the single side, named with its index in the list (``allow-<flow>-<i>-egress``)."""
    flow = group[0]
    origin = f"Namespace/{intent.name} {flow.origin}"
    base = f"allow-{flow.name}"
    if flow.listed is None:
        if flow.dst.kind is EndpointKind.FQDN:  # its source is local: fqdn ends are egress only
            rule = fqdn_rule([flow.dst], flow.ports)
            yield _Allow(f"{base}-egress", origin, _pods(flow.src), False, rule, CILIUM_POLICY[0])
            return
        if flow.dst.local:
            rule = _rule("from", _peers(flow.src, config), flow.ports)
            yield _Allow(f"{base}-ingress", origin, _pods(flow.dst), True, rule)
        if flow.src.local:
            rule = _rule("to", _peers(flow.dst, config), flow.ports)
            yield _Allow(f"{base}-egress", origin, _pods(flow.src), False, rule)
        return
    from_list = flow.listed[0] == "from"
    single = flow.dst if from_list else flow.src
    listed = [(f.listed[1] if f.listed else 0, f.src if from_list else f.dst) for f in group]
    names = [end for _, end in listed if end.kind is EndpointKind.FQDN]  # to the CNP
    listed = [(i, end) for i, end in listed if end.kind is not EndpointKind.FQDN]
    direction = "ingress" if from_list else "egress"
    if names:
        rule = fqdn_rule(names, flow.ports)
        yield _Allow(f"{base}-egress", origin, _pods(single), False, rule, CILIUM_POLICY[0])
    if listed:
        peers = [peer for _, end in listed for peer in _peers(end, config)]
        rule = _rule("from" if from_list else "to", peers, flow.ports)
        yield _Allow(f"{base}-{direction}", origin, _pods(single), from_list, rule)
    back = _rule("to" if from_list else "from", _peers(single, config), flow.ports)
    for i, end in listed:
        if end.local:
            direction = "egress" if from_list else "ingress"
            yield _Allow(f"{base}-{i}-{direction}", origin, _pods(end), not from_list, back)


def _pods(end: Endpoint) -> Selector:
    return end.pods or (), end.pod_expressions


def internet_peers(config: Config) -> list[dict[str, Any]]:
    """0.0.0.0/0 except the private IPv4 ranges; ::/0 likewise when IPv6 ranges are configured."""
    peers = []
    for version, cidr in ((4, "0.0.0.0/0"), (6, "::/0")):
        excepts = [r for r in config.private_ranges if ipaddress.ip_network(r).version == version]
        if version == 6 and not excepts:
            continue
        block: dict[str, Any] = {"cidr": cidr}
        if excepts:
            block["except"] = excepts
        peers.append({"ipBlock": block})
    return peers


def _policy(
    namespace: str,
    *,
    name: str,
    origin: str,
    pods: Selector,
    ingress: list[Any] | None,
    egress: list[Any] | None,
) -> PolicyObject:
    spec: dict[str, Any] = {"podSelector": _selector(*pods)}
    spec["policyTypes"] = [
        t for t, r in (("Ingress", ingress), ("Egress", egress)) if r is not None
    ]
    if ingress:
        spec["ingress"] = ingress
    if egress:
        spec["egress"] = egress
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _metadata(namespace, name, origin),
        "spec": spec,
    }


def _metadata(namespace: str, name: str, origin: str) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": namespace,
        "labels": {MANAGED_BY_LABEL: MANAGED_BY_VALUE},
        "annotations": {SOURCE_ANNOTATION: origin},
    }


def _selector(labels: Labels | None, expressions: Expressions = ()) -> dict[str, Any]:
    selector: dict[str, Any] = {"matchLabels": dict(labels)} if labels else {}
    if expressions:
        selector["matchExpressions"] = [
            {"key": key, "operator": op, **({"values": list(values)} if values else {})}
            for key, op, values in expressions
        ]
    return selector


def _namespace_peer(
    namespace: str, pods: Labels | None, expressions: Expressions = ()
) -> dict[str, Any]:
    peer: dict[str, Any] = {"namespaceSelector": {"matchLabels": {NS_NAME_LABEL: namespace}}}
    if pods or expressions:
        peer["podSelector"] = _selector(pods, expressions)
    return peer


def _peers(end: Endpoint, config: Config) -> list[dict[str, Any]]:
    if end.kind is EndpointKind.PODS:
        return [{"podSelector": _selector(end.pods, end.pod_expressions)}]
    if end.kind is EndpointKind.NAMESPACE:
        return [_namespace_peer(str(end.namespace), end.pods, end.pod_expressions)]
    if end.kind is EndpointKind.NAMESPACES:
        peer: dict[str, Any] = {
            "namespaceSelector": _selector(end.namespace_labels, end.namespace_expressions)
        }
        if end.pods is not None:
            peer["podSelector"] = _selector(end.pods, end.pod_expressions)
        return [peer]
    if end.kind is EndpointKind.CIDR:
        block: dict[str, Any] = {"cidr": end.cidr}
        if end.except_:
            block["except"] = list(end.except_)
        return [{"ipBlock": block}]
    if end.kind is EndpointKind.ANYWHERE:
        return []  # a rule without peers admits every source or destination
    return internet_peers(config)


def _rule(
    direction: str, peers: list[dict[str, Any]], ports: tuple[PortSpec, ...]
) -> dict[str, Any]:
    rule: dict[str, Any] = {direction: peers} if peers else {}
    if ports:
        rule["ports"] = [port_dict(p) for p in ports]
    return rule


def port_dict(port: PortSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"protocol": port.protocol}
    if port.port is not None:
        out["port"] = port.port
    if port.end_port is not None:
        out["endPort"] = port.end_port
    return out
