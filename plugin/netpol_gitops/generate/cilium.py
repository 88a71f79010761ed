"""Flavor ``cilium``: the CiliumNetworkPolicy (cilium.io/v2) objects of ``fqdn`` flow ends. Pure.

Core NetworkPolicy cannot name a DNS name, so an egress flow to ``{fqdn: ...}`` becomes a
CiliumNetworkPolicy beside the namespace's NetworkPolicies (Cilium enforces both kinds
together: a connection is allowed when any policy of either kind allows it). ``toFQDNs`` only
matches names that Cilium's DNS proxy saw resolved, so every such policy also carries the DNS
rule that sends the selected pods' lookups through the proxy: egress to the configured DNS
pods on their ports with ``rules: {dns: [{matchPattern: "*"}]}``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

from netpol_gitops.model.fqdn import is_pattern
from netpol_gitops.model.intent import Config, Endpoint, PortSpec
from netpol_gitops.model.kube import CILIUM_POLICY

# the label Cilium gives every endpoint for its namespace (k8s source)
NAMESPACE_LABEL = "k8s:io.kubernetes.pod.namespace"
DNS_VISIBILITY = {"dns": [{"matchPattern": "*"}]}


def fqdn_rule(ends: Sequence[Endpoint], ports: tuple[PortSpec, ...]) -> dict[str, Any]:
    """One egress rule to the names (or patterns) of these ``fqdn`` ends on these ports."""
    rule: dict[str, Any] = {
        "toFQDNs": [
            {"matchPattern" if is_pattern(str(e.fqdn)) else "matchName": str(e.fqdn)} for e in ends
        ]
    }
    if ports:
        rule["toPorts"] = [{"ports": [_port(p) for p in ports]}]
    return rule


def _port(port: PortSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"port": str(port.port), "protocol": port.protocol}
    if port.end_port is not None:
        out["endPort"] = port.end_port
    return out


def dns_rules(config: Config) -> list[dict[str, Any]]:
    """Egress to the cluster DNS (and the node-local cache, when configured) through Cilium's
    DNS proxy, which is what lets toFQDNs learn the addresses of the names."""
    dns = config.dns
    ports = [{"ports": [_port(p) for p in dns.ports], "rules": DNS_VISIBILITY}]
    pods = {NAMESPACE_LABEL: dns.namespace, **{f"k8s:{k}": v for k, v in dns.pods}}
    rules: list[dict[str, Any]] = [{"toEndpoints": [{"matchLabels": pods}], "toPorts": ports}]
    if dns.node_local_ip:
        bits = 32 if ipaddress.ip_address(dns.node_local_ip).version == 4 else 128
        rules.append({"toCIDR": [f"{dns.node_local_ip}/{bits}"], "toPorts": ports})
    return rules


def cilium_policy(
    metadata: dict[str, Any],
    selector: dict[str, Any],
    egress: list[dict[str, Any]],
    config: Config,
) -> dict[str, Any]:
    """A CiliumNetworkPolicy: the pods ``selector`` (a LabelSelector) picks may send the DNS
    rule's lookups and what the ``egress`` rules allow; ``metadata`` as a NetworkPolicy's."""
    kind, api_version = CILIUM_POLICY
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": metadata,
        "spec": {"endpointSelector": selector, "egress": [*dns_rules(config), *egress]},
    }
