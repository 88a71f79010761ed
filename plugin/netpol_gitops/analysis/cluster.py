"""Cluster-scoped policies -> analysis records: AdminNetworkPolicy and BaselineAdminNetworkPolicy
(policy.networking.k8s.io/v1alpha1) and ClusterNetworkPolicy (v1alpha2), both spellings of
ports and actions read into one record.

A ``nodes`` or ``domainNames`` peer cannot be decided from manifests: it is dropped with a
warning naming the policy (a rule left with no peer matches nothing), as np-guard does for
``nodes``."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from netpol_gitops.analysis.model import Peer, PortRule, Selector
from netpol_gitops.analysis.objects import PROTOCOLS, Malformed, ip_intervals

GROUP = "policy.networking.k8s.io"
KINDS = {  # kind -> the apiVersion it is read at
    "AdminNetworkPolicy": f"{GROUP}/v1alpha1",
    "BaselineAdminNetworkPolicy": f"{GROUP}/v1alpha1",
    "ClusterNetworkPolicy": f"{GROUP}/v1alpha2",
}
ADMIN, BASELINE = "Admin", "Baseline"
ACCEPT, DENY, PASS = "Accept", "Deny", "Pass"
_ACTIONS = {"Allow": ACCEPT, "Accept": ACCEPT, "Deny": DENY, "Pass": PASS}
# a Baseline BANP is ordered after every Baseline ClusterNetworkPolicy (priority 0..1000)
BANP_PRIORITY = 1001
Path = tuple[str | int, ...]


def is_cluster_policy(obj: dict[str, Any]) -> bool:
    """A kind this module reads, at the apiVersion it is read at."""
    kind = obj.get("kind")
    return isinstance(kind, str) and kind in KINDS and KINDS[kind] == obj.get("apiVersion")


@dataclass(frozen=True)
class TierRule:
    """One rule of a cluster policy: the first rule (in tier order) whose peers and ports match
    a connection decides it. ``everyone``: a peer selects every pod of the cluster."""

    action: str  # Accept, Deny or Pass
    peers: tuple[Peer, ...]  # peers that select pods (by selectors) or IP ranges (block)
    ports: tuple[PortRule, ...] | None  # None: every port and protocol
    everyone: bool
    name: str
    policy: str = field(default="", compare=False)  # "Kind name" of the policy it is in


@dataclass(frozen=True)
class ClusterPolicy:
    """A cluster-scoped policy of the Admin or Baseline tier: subject, priority, rules."""

    kind: str
    name: str
    tier: str  # Admin or Baseline
    priority: int
    namespaces: Selector  # the subject's namespaces
    pods: Selector | None  # the subject's pods in them; None: every pod
    ingress: tuple[TierRule, ...]
    egress: tuple[TierRule, ...]
    warnings: tuple[tuple[Path, str], ...] = field(default=(), compare=False)

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name}"

    def covers(self, ns_labels: dict[str, str]) -> bool:
        """Its subject is every pod of a namespace with these labels."""
        return self.namespaces.matches(ns_labels) and (
            self.pods is None or not (self.pods.labels or self.pods.expressions)
        )

    def denies(self, direction: str) -> bool:
        """It has a rule that denies this direction (ingress or egress) to or from every pod on
        every port: a default deny of the tier (earlier rules are its exceptions)."""
        return any(
            r.action == DENY and r.everyone and r.ports is None for r in getattr(self, direction)
        )

    @property
    def order(self) -> tuple[int, str, str]:
        """Evaluation order in its tier: lower priority first (then kind and name, so that
        equal priorities, which the API leaves undefined, give one answer)."""
        return (self.priority, self.kind, self.name)

    def selects(self, ns_labels: dict[str, str], labels: dict[str, str]) -> bool:
        return self.namespaces.matches(ns_labels) and (
            self.pods is None or self.pods.matches(labels)
        )


def _mapping(raw: Any, at: Path) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise Malformed(at, f"expected a mapping; got {raw!r}")
    return raw


def _list(raw: Any, at: Path) -> list[Any]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise Malformed(at, f"expected a list; got {raw!r}")
    return raw


def _number(raw: Any, at: Path) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= 65535:
        raise Malformed(at, f"expected a port number 1-65535; got {raw!r}")
    return raw


def _range(raw: Any, at: Path, protocol: str) -> PortRule:
    rng = _mapping(raw, at)
    start, end = _number(rng.get("start"), (*at, "start")), _number(rng.get("end"), (*at, "end"))
    if end < start:
        raise Malformed((*at, "end"), f"expected an end at or after start ({start}); got {end}")
    return PortRule(protocol, start, end)


def _protocol(raw: Any, at: Path) -> str:
    protocol = raw if raw is not None else "TCP"
    if protocol not in PROTOCOLS:
        raise Malformed(at, f"expected TCP, UDP or SCTP; got {protocol!r}")
    return str(protocol)


def _named(name: Any, at: Path) -> list[PortRule]:
    """A named port: whatever protocol the destination's container port of that name has."""
    if not isinstance(name, str) or not name:
        raise Malformed(at, f"expected a port name; got {name!r}")
    return [PortRule(proto, name, None) for proto in PROTOCOLS]


def _v1alpha1_ports(raw: Any, at: Path) -> tuple[PortRule, ...] | None:
    """ANP/BANP ``ports``: portNumber, portRange or namedPort."""
    items = _list(raw, at)
    if not items:
        return None
    out: list[PortRule] = []
    for i, item in enumerate(items):
        here = (*at, i)
        p = _mapping(item, here)
        if "portNumber" in p:
            num = _mapping(p["portNumber"], (*here, "portNumber"))
            proto = _protocol(num.get("protocol"), (*here, "portNumber", "protocol"))
            port = _number(num.get("port"), (*here, "portNumber", "port"))
            out.append(PortRule(proto, port, None))
        elif "portRange" in p:
            rng = _mapping(p["portRange"], (*here, "portRange"))
            proto = _protocol(rng.get("protocol"), (*here, "portRange", "protocol"))
            out.append(_range(rng, (*here, "portRange"), proto))
        elif "namedPort" in p:
            out += _named(p["namedPort"], (*here, "namedPort"))
        else:
            raise Malformed(here, "expected one of portNumber, portRange or namedPort")
    return tuple(out)


def _v1alpha2_ports(raw: Any, at: Path) -> tuple[PortRule, ...] | None:
    """CNP ``protocols``: tcp/udp/sctp with an optional destinationPort (number or range), or
    destinationNamedPort."""
    items = _list(raw, at)
    if not items:
        return None
    out: list[PortRule] = []
    for i, item in enumerate(items):
        here = (*at, i)
        p = _mapping(item, here)
        if "destinationNamedPort" in p:
            out += _named(p["destinationNamedPort"], (*here, "destinationNamedPort"))
            continue
        found = False
        for key in ("tcp", "udp", "sctp"):
            if key not in p:
                continue
            found = True
            dest = _mapping(_mapping(p[key], (*here, key)).get("destinationPort"), (*here, key))
            where = (*here, key, "destinationPort")
            if "number" in dest:
                out.append(PortRule(key.upper(), _number(dest["number"], (*where, "number")), None))
            elif "range" in dest:
                out.append(_range(dest["range"], (*where, "range"), key.upper()))
            else:
                out.append(PortRule(key.upper(), None, None))
        if not found:
            raise Malformed(here, "expected one of tcp, udp, sctp or destinationNamedPort")
    return tuple(out)


def _everyone(selector: Selector) -> bool:
    return not selector.labels and not selector.expressions


def _networks(raw: Any, at: Path) -> tuple[Peer, bool]:
    """A networks peer (IPv4 ranges; IPv6 CIDRs only count towards covering every address),
    and whether it covers the whole address space, and so every pod too."""
    cidrs = _list(raw, at)
    intervals: list[tuple[int, int]] = []
    whole = {4: False, 6: False}
    for i, text in enumerate(cidrs):
        try:
            net = ipaddress.ip_network(str(text), strict=False)
        except ValueError:
            raise Malformed((*at, i), f"expected a CIDR such as 10.0.0.0/8; got {text!r}") from None
        whole[net.version] |= net.prefixlen == 0
        intervals += ip_intervals(str(text), []) or ()
    return Peer(block=tuple(intervals)), whole[4] and whole[6]


def _peers(
    raw: Any, at: Path, policy: str, warnings: list[tuple[Path, str]]
) -> tuple[tuple[Peer, ...], bool]:
    peers: list[Peer] = []
    everyone = False
    items = _list(raw, at)
    for i, item in enumerate(items):
        here = (*at, i)
        p = _mapping(item, here)
        if "namespaces" in p:
            sel = Selector.parse(_mapping(p["namespaces"], (*here, "namespaces")))
            peers.append(Peer(pods=Selector(), namespaces=sel))
            everyone |= _everyone(sel)
        elif "pods" in p:
            pods = _mapping(p["pods"], (*here, "pods"))
            nss = Selector.parse(_mapping(pods.get("namespaceSelector"), (*here, "pods")))
            sel = Selector.parse(_mapping(pods.get("podSelector"), (*here, "pods")))
            peers.append(Peer(pods=sel, namespaces=nss))
            everyone |= _everyone(nss) and _everyone(sel)
        elif "networks" in p:
            peer, whole = _networks(p["networks"], (*here, "networks"))
            peers.append(peer)
            everyone |= whole
        else:
            what = next(iter(p), "empty")
            alone = not any(
                k in x
                for x in items
                if isinstance(x, dict)
                for k in ("namespaces", "pods", "networks")
            )
            warnings.append(
                (
                    here,
                    f"{policy}: a {what} peer cannot be decided from manifests; it is skipped"
                    + (
                        ", and so is the rule (no other peer)"
                        if alone
                        else " (the rule matches through its other peers)"
                    ),
                )
            )
    return tuple(peers), everyone


def compile_cluster_policy(obj: dict[str, Any]) -> ClusterPolicy:
    """An AdminNetworkPolicy, BaselineAdminNetworkPolicy or ClusterNetworkPolicy, validated as
    far as the analysis reads it (Malformed otherwise)."""
    kind = str(obj.get("kind"))
    meta = _mapping(obj.get("metadata"), ("metadata",))
    spec = _mapping(obj.get("spec"), ("spec",))
    name = str(meta.get("name"))
    label = f"{kind} {name}"
    v2 = kind == "ClusterNetworkPolicy"
    if v2:
        tier = spec.get("tier")
        if tier not in (ADMIN, BASELINE):
            raise Malformed(("spec", "tier"), f"expected Admin or Baseline; got {tier!r}")
    else:
        tier = BASELINE if kind == "BaselineAdminNetworkPolicy" else ADMIN
    if kind == "BaselineAdminNetworkPolicy":
        priority = BANP_PRIORITY
    else:
        raw = spec.get("priority")
        if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= 1000:
            raise Malformed(("spec", "priority"), f"expected a number 0-1000; got {raw!r}")
        priority = raw
    subject = _mapping(spec.get("subject"), ("spec", "subject"))
    if "namespaces" in subject:
        namespaces = Selector.parse(_mapping(subject["namespaces"], ("spec", "subject")))
        pods: Selector | None = None
    elif "pods" in subject:
        sub = _mapping(subject["pods"], ("spec", "subject", "pods"))
        namespaces = Selector.parse(_mapping(sub.get("namespaceSelector"), ("spec", "subject")))
        pods = Selector.parse(_mapping(sub.get("podSelector"), ("spec", "subject")))
    else:
        raise Malformed(("spec", "subject"), "expected namespaces or pods")
    warnings: list[tuple[Path, str]] = []

    def rules(direction: str, key: str) -> tuple[TierRule, ...]:
        out = []
        for i, raw in enumerate(_list(spec.get(direction), ("spec", direction))):
            at: Path = ("spec", direction, i)
            r = _mapping(raw, at)
            action = _ACTIONS.get(str(r.get("action")))
            allowed: tuple[str, ...] = ("Accept" if v2 else "Allow", "Deny")
            if tier == ADMIN:
                allowed = (*allowed, "Pass")
            if action is None or r.get("action") not in allowed:
                raise Malformed(
                    (*at, "action"),
                    f"expected one of {', '.join(allowed)}; got {r.get('action')!r}",
                )
            peers, everyone = _peers(r.get(key), (*at, key), label, warnings)
            ports = (
                _v1alpha2_ports(r.get("protocols"), (*at, "protocols"))
                if v2
                else _v1alpha1_ports(r.get("ports"), (*at, "ports"))
            )
            out.append(TierRule(action, peers, ports, everyone, str(r.get("name") or i), label))
        return tuple(out)

    return ClusterPolicy(
        kind,
        name,
        str(tier),
        priority,
        namespaces,
        pods,
        rules("ingress", "from"),
        rules("egress", "to"),
        tuple(warnings),
    )


def ordered(policies: Sequence[ClusterPolicy], tier: str) -> list[ClusterPolicy]:
    """The policies of one tier in evaluation order."""
    return sorted((p for p in policies if p.tier == tier), key=lambda p: p.order)
