"""The cluster baseline (config ``clusterBaseline: true``): per managed namespace, a Baseline-tier
ClusterNetworkPolicy (policy.networking.k8s.io/v1alpha2) that denies exactly the directions its
``default-deny`` denies, so that a namespace whose own policies are deleted falls back to what it
declared. Pure and deterministic.

- Only what the namespace denies: Baseline decides every direction NetworkPolicy leaves
  unisolated, so a namespace that denies only ingress gets no egress rule (a blanket egress deny
  would cut it); ``default-deny: none``, ``mode: audit`` and ``mode: off`` namespaces get none.
- Ingress: a Deny from every pod of the cluster (a ClusterNetworkPolicy has no ingress peer for
  addresses outside the cluster, so those stay with the namespace's own default deny).
- Egress: an Accept of the cluster DNS (config ``dns``, as ``allow-dns`` opens it) when the
  namespace allows DNS, then a Deny to every pod and every address.
- Selected by name (``kubernetes.io/metadata.name``, the label the API server sets on every
  Namespace): the generator does not emit the Namespaces it reads, so it cannot label them.
- One object per namespace (``baseline-<namespace>``, with the ``namePrefix``), so a change to
  one namespace changes one object; priority 1000, the last of the tier, so that a platform's
  own Baseline rules decide first and only what would fall to the default allow is denied.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from netpol_gitops.generate.policies import PolicyObject, policy_name
from netpol_gitops.model.intent import Config, Mode, NamespaceIntent, PortSpec
from netpol_gitops.model.kube import (
    MANAGED_BY_LABEL,
    MANAGED_BY_VALUE,
    NS_NAME_LABEL,
    SOURCE_ANNOTATION,
)

API_VERSION = "policy.networking.k8s.io/v1alpha2"
KIND = "ClusterNetworkPolicy"
PRIORITY = 1000  # the last of the Baseline tier (0..1000, lower first)
EVERY_ADDRESS = ["0.0.0.0/0", "::/0"]  # with an empty namespaces peer: every destination


def baseline(intent: NamespaceIntent, config: Config) -> PolicyObject | None:
    """The baseline of one namespace; None when it denies nothing (or is not enforced)."""
    deny = intent.deny
    if intent.mode is not Mode.ENFORCE or not (deny.ingress or deny.egress):
        return None
    spec: dict[str, Any] = {
        "tier": "Baseline",
        "priority": PRIORITY,
        "subject": {"namespaces": {"matchLabels": {NS_NAME_LABEL: intent.name}}},
    }
    if deny.ingress:
        spec["ingress"] = [{"name": "deny-ingress", "action": "Deny", "from": [{"namespaces": {}}]}]
    if deny.egress:
        every: list[dict[str, Any]] = [{"namespaces": {}}, {"networks": EVERY_ADDRESS}]
        rules = [_dns(config)] if intent.allow_dns else []
        spec["egress"] = [*rules, {"name": "deny-egress", "action": "Deny", "to": every}]
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {
            "name": policy_name(config.name_prefix, f"baseline-{intent.name}"),
            "labels": {MANAGED_BY_LABEL: MANAGED_BY_VALUE},
            "annotations": {SOURCE_ANNOTATION: intent.source_of("default-deny")},
        },
        "spec": spec,
    }


def _dns(config: Config) -> dict[str, Any]:
    """The Accept of the cluster DNS, the peers and ports ``allow-dns`` opens."""
    dns = config.dns
    pods: dict[str, Any] = {"namespaceSelector": {"matchLabels": {NS_NAME_LABEL: dns.namespace}}}
    pods["podSelector"] = {"matchLabels": dict(dns.pods)} if dns.pods else {}
    to: list[dict[str, Any]] = [{"pods": pods}]
    if dns.node_local_ip:
        bits = 32 if ipaddress.ip_address(dns.node_local_ip).version == 4 else 128
        to.append({"networks": [f"{dns.node_local_ip}/{bits}"]})
    rule: dict[str, Any] = {"name": "accept-dns", "action": "Accept", "to": to}
    protocols = [_protocol(p) for p in dns.ports]
    if all(p is not None for p in protocols):  # a protocol without a port: every port
        rule["protocols"] = protocols
    return rule


def _protocol(port: PortSpec) -> dict[str, Any] | None:
    """One port as a v1alpha2 protocol match; None for a protocol's every port (which the API
    cannot say but by leaving the rule's protocols out)."""
    if isinstance(port.port, str):
        return {"destinationNamedPort": port.port}
    if port.port is None:
        return None
    if port.end_port is not None and port.end_port > port.port:
        where: dict[str, Any] = {"range": {"start": port.port, "end": port.end_port}}
    else:
        where = {"number": port.port}
    return {port.protocol.lower(): {"destinationPort": where}}
