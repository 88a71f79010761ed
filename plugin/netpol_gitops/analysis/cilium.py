"""A generated CiliumNetworkPolicy (flavor cilium, generate/cilium.py) -> an analysis Policy.

Cilium enforces its own policies together with NetworkPolicies: a pod selected by either kind
for egress is isolated there, and a connection is allowed when any rule of either kind allows
it. So a CiliumNetworkPolicy compiles to the same record, its egress rules to Rules whose peers
are pods (``toEndpoints``), IP blocks (``toCIDR``) or DNS names (``toFQDNs``: a Peer with
``fqdn``, which reach reports as ``name[FQDN]``, never as an IP range). Only the fields the
generator writes are read; the L7 ``rules`` of a port (the DNS-proxy rule) do not narrow what is
allowed at L4, and are ignored here.
"""

from __future__ import annotations

from typing import Any

from netpol_gitops.analysis.model import Peer, Policy, PortRule, Rule, Selector
from netpol_gitops.analysis.objects import Malformed, ip_intervals
from netpol_gitops.model.kube import NS_NAME_LABEL

NAMESPACE_KEY = "io.kubernetes.pod.namespace"  # Cilium's namespace label (source k8s)
SOURCES = ("k8s:", "any:")  # label sources a selector key may carry


def _key(key: str) -> str:
    for source in SOURCES:
        key = key.removeprefix(source)
    return key


def _endpoints(raw: dict[str, Any]) -> Peer:
    """A ``toEndpoints`` selector: pods, in the namespace its namespace label names (else the
    policy's own)."""
    labels = {_key(str(k)): str(v) for k, v in (raw.get("matchLabels") or {}).items()}
    namespace = labels.pop(NAMESPACE_KEY, None)
    exprs = tuple(
        (_key(str(e["key"])), str(e["operator"]), tuple(str(v) for v in e.get("values") or ()))
        for e in raw.get("matchExpressions") or ()
    )
    pods = Selector(tuple(sorted(labels.items())), exprs)
    spaces = None if namespace is None else Selector(((NS_NAME_LABEL, namespace),))
    return Peer(pods=pods, namespaces=spaces)


def _ports(raw: Any) -> tuple[PortRule, ...] | None:
    if not raw:
        return None
    ports = []
    for entry in raw:
        for p in entry.get("ports") or ():
            port = str(p.get("port", "0"))
            number: int | str | None = int(port) if port.isdigit() else port
            protocol = str(p.get("protocol") or "ANY")
            end = p.get("endPort")
            for proto in ("TCP", "UDP", "SCTP") if protocol == "ANY" else (protocol,):
                ports.append(PortRule(proto, number or None, int(end) if end else None))
    return tuple(ports)


def compile_cilium(obj: dict[str, Any]) -> Policy:
    """The egress of a CiliumNetworkPolicy as the generator writes it (no ingress rules)."""
    meta, spec = obj.get("metadata") or {}, obj.get("spec") or {}
    if spec.get("ingress") or spec.get("ingressDeny") or spec.get("egressDeny"):
        raise Malformed(("spec",), "only egress CiliumNetworkPolicy rules are analysed")
    rules = []
    for rule in spec.get("egress") or ():
        peers = [_endpoints(e) for e in rule.get("toEndpoints") or ()]
        for cidr in rule.get("toCIDR") or ():
            peers.append(Peer(block=ip_intervals(str(cidr), []) or ()))
        for name in rule.get("toFQDNs") or ():
            peers.append(Peer(fqdn=str(name.get("matchName") or name.get("matchPattern"))))
        rules.append(Rule(tuple(peers) or None, _ports(rule.get("toPorts"))))
    selector = spec.get("endpointSelector") or {}
    return Policy(
        str(meta.get("namespace") or "default"),
        str(meta.get("name")),
        Selector.parse(
            {
                **selector,
                "matchLabels": {
                    _key(str(k)): v for k, v in (selector.get("matchLabels") or {}).items()
                },
            }
        ),
        None,
        tuple(rules),
    )
