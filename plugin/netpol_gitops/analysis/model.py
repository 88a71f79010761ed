"""The analysis' records: workloads, label selectors, policy peers, rules and policies."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from netpol_gitops.errors import printable
from netpol_gitops.model.kube import Labels
from netpol_gitops.model.portsets import ALL, Conns

Port = tuple[str, int, str]  # (name, containerPort, protocol)


@dataclass(frozen=True)
class Workload:
    """A workload's pods: namespace, name, kind, pod labels and container ports."""

    namespace: str
    name: str
    kind: str
    labels: Labels
    ports: tuple[Port, ...] = ()
    peer: str = field(init=False, compare=False)  # ns/name[Kind], control characters escaped

    def __post_init__(self) -> None:
        object.__setattr__(self, "peer", printable(f"{self.namespace}/{self.name}[{self.kind}]"))


@dataclass(frozen=True)
class Selector:
    """A LabelSelector: matchLabels and matchExpressions (In, NotIn, Exists, DoesNotExist)."""

    labels: Labels = ()
    expressions: tuple[tuple[str, str, tuple[str, ...]], ...] = ()

    @staticmethod
    def parse(raw: Any) -> Selector:
        raw = raw or {}
        labels = tuple(sorted((str(k), str(v)) for k, v in (raw.get("matchLabels") or {}).items()))
        exprs = tuple(
            (
                str(e.get("key")),
                str(e.get("operator")),
                tuple(str(v) for v in e.get("values") or ()),
            )
            for e in raw.get("matchExpressions") or ()
        )
        return Selector(labels, exprs)

    def matches(self, labels: dict[str, str]) -> bool:
        if any(labels.get(k) != v for k, v in self.labels):
            return False
        for key, op, values in self.expressions:
            present = key in labels
            if op == "In" and not (present and labels[key] in values):
                return False
            if op == "NotIn" and present and labels[key] in values:
                return False
            if op == "Exists" and not present:
                return False
            if op == "DoesNotExist" and present:
                return False
        return True


@dataclass(frozen=True)
class Peer:
    """One peer of a rule: pods and/or namespaces by selector, an IP block or a DNS name."""

    pods: Selector | None = None
    namespaces: Selector | None = None
    block: tuple[tuple[int, int], ...] | None = None  # IPv4 intervals of cidr minus except
    fqdn: str | None = None  # a DNS name or pattern (CiliumNetworkPolicy toFQDNs): selects no pod


@dataclass(frozen=True)
class PortRule:
    """One port of a rule: protocol, a number or a name (None: all), an optional end."""

    protocol: str
    port: int | str | None
    end_port: int | None


@dataclass(frozen=True)
class Rule:
    """One ingress or egress rule of a policy: its peers and its ports."""

    peers: tuple[Peer, ...] | None  # None: every peer (from/to empty or missing)
    ports: tuple[PortRule, ...] | None  # None: every port and protocol

    def conns(self, ports: tuple[Port, ...] | None) -> Conns:
        """Allowed connections to a destination with these container ports (None: an IP)."""
        if self.ports is None:
            return ALL
        items: list[tuple[str, int, int]] = []
        for p in self.ports:
            if p.port is None:
                items.append((p.protocol, 1, 65535))
            elif isinstance(p.port, int):
                items.append((p.protocol, p.port, p.end_port or p.port))
            else:
                items += [
                    (p.protocol, num, num)
                    for name, num, proto in ports or ()
                    if name == p.port and proto == p.protocol
                ]
        return Conns.of(items)

    def admits_everyone(self) -> bool:
        """Every peer on every port: all pods of all namespaces and all of IPv4, every port and
        protocol (``from: []``/missing, ``- {}``, or peers and ports that add up to that)."""
        if self.conns(None) != ALL:
            return False
        if self.peers is None:
            return True
        every_pod = any(
            p.block is None and p.namespaces == Selector() and p.pods in (None, Selector())
            for p in self.peers
        )
        reach, end = 0, 0  # how far from 0 the sorted intervals cover IPv4 without a gap
        for lo, hi in sorted(iv for p in self.peers for iv in p.block or ()):
            if lo > reach:
                break
            reach = end = max(end, hi + 1)
        return every_pod and end == IPV4_END


IPV4_END = 1 << 32


@dataclass(frozen=True)
class Policy:
    """A NetworkPolicy as the analysis reads it: the pods it selects and its rules."""

    namespace: str
    name: str
    selector: Selector
    ingress: tuple[Rule, ...] | None  # None: the policy does not affect ingress
    egress: tuple[Rule, ...] | None
