"""Intents -> NetworkPolicy objects. Pure and deterministic.

Allows only open what a deny closes: an allow is generated for a direction only when that
direction is denied in the namespace (``default-deny``), because a policy that selects a pod for
a direction isolates it there. ``mode: audit`` generates the same allows without the deny.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Iterator
from typing import Any

from netpol_gitops.model.intent import (
    Config,
    Endpoint,
    EndpointKind,
    Mode,
    NamespaceIntent,
    PortSpec,
)
from netpol_gitops.model.kube import (
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
    digest = hashlib.sha256(full.encode()).hexdigest()[:8]
    return full[: MAX_NAME - 9].rstrip("-.") + "-" + digest


# (name without the prefix, origin, pod selector, ingress rules, egress rules); None: that
# direction is not in the policy's policyTypes
Planned = tuple[str, str, Labels | None, list[Any] | None, list[Any] | None]


def build(intent: NamespaceIntent, config: Config) -> list[PolicyObject]:
    """The policies of one namespace, in a fixed order (the caller sorts by name)."""
    if intent.mode is Mode.OFF:
        return []
    return [
        _policy(
            intent.name,
            name=policy_name(config.name_prefix, name),
            origin=origin,
            pods=pods,
            ingress=rules_in,
            egress=rules_out,
        )
        for name, origin, pods, rules_in, rules_out in (
            *_namespace_wide(intent, config),
            *_flow_policies(intent, config),
        )
    ]


def _namespace_wide(intent: NamespaceIntent, config: Config) -> Iterator[Planned]:
    """The deny, then the allows that the namespace's settings ask for."""
    ingress, egress = intent.deny.ingress, intent.deny.egress
    if intent.mode is Mode.ENFORCE and (ingress or egress):
        yield (
            f"default-deny-{intent.deny.value}",
            intent.source_of("default-deny"),
            (),
            [] if ingress else None,
            [] if egress else None,
        )
    if intent.allow_dns and egress:
        dns = config.dns
        peers: list[dict[str, Any]] = [_namespace_peer(dns.namespace, dns.pods)]
        if dns.node_local_ip:
            bits = 32 if ipaddress.ip_address(dns.node_local_ip).version == 4 else 128
            peers.append({"ipBlock": {"cidr": f"{dns.node_local_ip}/{bits}"}})
        yield "allow-dns", intent.source_of("allow-dns"), (), None, [_rule("to", peers, dns.ports)]
    if intent.allow_same_namespace and (ingress or egress):
        yield (
            "allow-same-namespace",
            intent.source_of("allow-same-namespace"),
            (),
            [_rule("from", [{"podSelector": {}}], ())] if ingress else None,
            [_rule("to", [{"podSelector": {}}], ())] if egress else None,
        )
    if intent.allow_from_namespaces and ingress:
        peers = [_namespace_peer(ns, None) for ns in intent.allow_from_namespaces]
        origin = intent.source_of("allow-from-namespaces")
        yield "allow-from-namespaces", origin, (), [_rule("from", peers, ())], None
    if intent.egress_internet and egress:
        rule = _rule("to", internet_peers(config), intent.egress_internet)
        yield "allow-egress-internet", intent.source_of("allow-egress-internet"), (), None, [rule]


def _flow_policies(intent: NamespaceIntent, config: Config) -> Iterator[Planned]:
    """Per flow, the ingress policy of its local destination and the egress policy of its
    local source, for the directions the namespace denies."""
    for flow in intent.flows:
        origin = f"Namespace/{intent.name} {flow.origin}"
        if flow.dst.local and intent.deny.ingress:
            rule = _rule("from", _peers(flow.src, config), flow.ports)
            yield f"allow-{flow.name}-ingress", origin, flow.dst.pods, [rule], None
        if flow.src.local and intent.deny.egress:
            rule = _rule("to", _peers(flow.dst, config), flow.ports)
            yield f"allow-{flow.name}-egress", origin, flow.src.pods, None, [rule]


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
    pods: Labels | None,
    ingress: list[Any] | None,
    egress: list[Any] | None,
) -> PolicyObject:
    spec: dict[str, Any] = {"podSelector": _selector(pods)}
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
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {MANAGED_BY_LABEL: MANAGED_BY_VALUE},
            "annotations": {SOURCE_ANNOTATION: origin},
        },
        "spec": spec,
    }


def _selector(labels: Labels | None) -> dict[str, Any]:
    return {"matchLabels": dict(labels)} if labels else {}


def _namespace_peer(namespace: str, pods: Labels | None) -> dict[str, Any]:
    peer: dict[str, Any] = {"namespaceSelector": {"matchLabels": {NS_NAME_LABEL: namespace}}}
    if pods:
        peer["podSelector"] = _selector(pods)
    return peer


def _peers(end: Endpoint, config: Config) -> list[dict[str, Any]]:
    if end.kind is EndpointKind.PODS:
        return [{"podSelector": _selector(end.pods)}]
    if end.kind is EndpointKind.NAMESPACE:
        return [_namespace_peer(str(end.namespace), end.pods)]
    if end.kind is EndpointKind.NAMESPACES:
        peer: dict[str, Any] = {"namespaceSelector": _selector(end.namespace_labels)}
        if end.pods is not None:
            peer["podSelector"] = _selector(end.pods)
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
