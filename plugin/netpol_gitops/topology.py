"""Kubernetes objects -> what the analysis needs: workloads, namespace labels, policies."""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from netpol_gitops.conns import ALL, Conns
from netpol_gitops.errors import NetpolError, Problem, printable
from netpol_gitops.pruned import ANY, Unusual, pruned
from netpol_gitops.yamlio import Document

NS_NAME_LABEL = "kubernetes.io/metadata.name"
TEMPLATE_KINDS = (
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
)
WORKLOAD_KINDS = frozenset({*TEMPLATE_KINDS, "CronJob", "Pod"})
PROTOCOLS = ("TCP", "UDP", "SCTP")
# IANA_SVC_NAME, as the API server validates a named port: at most 15 characters, lowercase
# letters, digits and inner single hyphens, at least one letter
SERVICE_NAME = re.compile(r"(?=[a-z0-9-]*[a-z])(?!.*--)[a-z0-9](?:[a-z0-9-]{0,13}[a-z0-9])?")
Labels = tuple[tuple[str, str], ...]
Port = tuple[str, int, str]  # (name, containerPort, protocol)


class Malformed(ValueError):
    """A field of a NetworkPolicy that the API server would refuse (``path`` inside it)."""

    def __init__(self, path: Sequence[str | int], message: str) -> None:
        super().__init__(message)
        self.path = list(path)


@dataclass(frozen=True)
class Workload:
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
    pods: Selector | None = None
    namespaces: Selector | None = None
    block: tuple[tuple[int, int], ...] | None = None  # IPv4 intervals of cidr minus except


@dataclass(frozen=True)
class PortRule:
    protocol: str
    port: int | str | None
    end_port: int | None


@dataclass(frozen=True)
class Rule:
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


@dataclass(frozen=True)
class Policy:
    namespace: str
    name: str
    selector: Selector
    ingress: tuple[Rule, ...] | None  # None: the policy does not affect ingress
    egress: tuple[Rule, ...] | None


@dataclass
class Topology:
    workloads: list[Workload] = field(default_factory=list)
    namespaces: dict[str, dict[str, str]] = field(default_factory=dict)
    policies: list[Policy] = field(default_factory=list)

    _seen: set[tuple[str, str, str]] = field(default_factory=set)

    def namespace_labels(self, name: str) -> dict[str, str]:
        return self.namespaces.get(name) or {NS_NAME_LABEL: name}

    def with_policies(self, objects: Sequence[dict[str, Any]]) -> Topology:
        """The same workloads and namespaces, with these NetworkPolicies added."""
        return dataclasses.replace(
            self, policies=[*self.policies, *(compile_policy(o) for o in objects)]
        )

    def add(self, obj: dict[str, Any]) -> None:
        kind = obj.get("kind")
        if kind == "Namespace":
            meta = obj.get("metadata") or {}
            name = str(meta.get("name"))
            labels = {str(k): str(v) for k, v in (meta.get("labels") or {}).items()}
            self.namespaces[name] = {**labels, NS_NAME_LABEL: name}
        elif kind == "NetworkPolicy":
            self.policies.append(compile_policy(obj))
        elif kind in WORKLOAD_KINDS:
            w = workload(obj)
            if w is not None and (w.namespace, w.name, w.kind) not in self._seen:
                self._seen.add((w.namespace, w.name, w.kind))
                self.workloads.append(w)


def ip_intervals(cidr: str, excepts: list[str]) -> tuple[tuple[int, int], ...] | None:
    """cidr minus excepts as IPv4 intervals; None for IPv6 (ignored by the analysis)."""
    net = ipaddress.ip_network(cidr, strict=False)
    if net.version != 4:
        return None
    parts = [(int(net.network_address), int(net.broadcast_address))]
    for text in excepts:
        ex = ipaddress.ip_network(text, strict=False)
        if ex.version != 4:
            continue
        lo, hi = int(ex.network_address), int(ex.broadcast_address)
        cut: list[tuple[int, int]] = []
        for a, b in parts:
            if hi < a or lo > b:
                cut.append((a, b))
                continue
            if a < lo:
                cut.append((a, lo - 1))
            if hi < b:
                cut.append((hi + 1, b))
        parts = cut
    return tuple(parts)


def _port(p: Any, at: tuple[str | int, ...]) -> PortRule:
    """One entry of a rule's ports, as the API server validates it."""
    if not isinstance(p, dict):
        raise Malformed(at, f"expected a mapping with protocol, port and endPort; got {p!r}")
    protocol = p.get("protocol") or "TCP"
    if protocol not in PROTOCOLS:
        raise Malformed((*at, "protocol"), f"expected TCP, UDP or SCTP; got {protocol!r}")
    port, end = p.get("port"), p.get("endPort")
    if isinstance(port, int) and not isinstance(port, bool):
        if not 1 <= port <= 65535:
            raise Malformed((*at, "port"), f"port {port} is out of range 1-65535")
    elif port is not None and not (isinstance(port, str) and SERVICE_NAME.fullmatch(port)):
        raise Malformed(
            (*at, "port"),
            f"expected a port number 1-65535 or a port name (IANA_SVC_NAME); got {port!r}",
        )
    if end is not None and not (
        isinstance(port, int)
        and isinstance(end, int)
        and not isinstance(end, bool)
        and port <= end <= 65535
    ):
        raise Malformed(
            (*at, "endPort"),
            f"expected a number from port ({port!r}) to 65535, with a numeric port; got {end!r}",
        )
    return PortRule(str(protocol), port, end)


def _ports(raw: Any, at: tuple[str | int, ...]) -> tuple[PortRule, ...] | None:
    if not raw:
        return None
    if not isinstance(raw, list):
        raise Malformed(at, f"expected a list; got {raw!r}")
    return tuple(_port(p, (*at, i)) for i, p in enumerate(raw))


def _block(block: Any, at: tuple[str | int, ...]) -> tuple[tuple[int, int], ...] | None:
    if not isinstance(block, dict):
        raise Malformed(at, f"expected a mapping with cidr and except; got {block!r}")
    excepts = block.get("except") or []
    for i, text in enumerate([block.get("cidr"), *excepts]):
        where = (*at, "cidr") if i == 0 else (*at, "except", i - 1)
        try:
            ipaddress.ip_network(str(text), strict=False)
        except ValueError:
            raise Malformed(where, f"expected a CIDR such as 10.0.0.0/8; got {text!r}") from None
    return ip_intervals(str(block["cidr"]), [str(e) for e in excepts])


def _peers(raw: Any, at: tuple[str | int, ...]) -> tuple[Peer, ...] | None:
    if not raw:
        return None
    peers = []
    for i, item in enumerate(raw):
        if "ipBlock" in item:
            intervals = _block(item["ipBlock"], (*at, i, "ipBlock"))
            peers.append(Peer(block=intervals or ()))
        else:
            pods = Selector.parse(item["podSelector"]) if "podSelector" in item else None
            nss = Selector.parse(item["namespaceSelector"]) if "namespaceSelector" in item else None
            peers.append(
                Peer(
                    pods=pods if pods is not None or nss is not None else Selector(), namespaces=nss
                )
            )
    return tuple(peers)


def compile_policy(obj: dict[str, Any]) -> Policy:
    meta, spec = obj.get("metadata") or {}, obj.get("spec") or {}
    types = spec.get("policyTypes")
    if types is None:
        types = ["Ingress"] + (["Egress"] if spec.get("egress") else [])
    key = {"Ingress": "from", "Egress": "to"}

    def rules(direction: str) -> tuple[Rule, ...] | None:
        if direction not in types:
            return None
        at = ("spec", direction.lower())
        return tuple(
            Rule(
                _peers(r.get(key[direction]), (*at, i, key[direction])),
                _ports(r.get("ports"), (*at, i, "ports")),
            )
            for i, r in enumerate(spec.get(direction.lower()) or ())
        )

    return Policy(
        str(meta.get("namespace") or "default"),
        str(meta.get("name")),
        Selector.parse(spec.get("podSelector")),
        rules("Ingress"),
        rules("Egress"),
    )


def _template(obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj.get("spec") or {}
    if obj.get("kind") == "CronJob":
        spec = ((spec.get("jobTemplate") or {}).get("spec")) or {}
    if obj.get("kind") == "Pod":
        return obj
    return spec.get("template") or {}


def workload(obj: dict[str, Any]) -> Workload | None:
    """A workload peer, named as the conformance format names it; None for skipped pods."""
    meta = obj.get("metadata") or {}
    kind, name = str(obj.get("kind")), str(meta.get("name"))
    if kind == "Pod":
        if name.startswith("virt-launcher-"):
            return None
        for ref in meta.get("ownerReferences") or ():
            if ref.get("controller") and ref.get("kind") != "Node":
                kind, name = str(ref.get("kind") or "Pod"), str(ref.get("name"))
                break
    template = _template(obj)
    labels = (template.get("metadata") or {}).get("labels") or {}
    ports: list[Port] = []
    for c in (template.get("spec") or {}).get("containers") or ():
        for p in c.get("ports") or ():
            number = p.get("containerPort")
            if p.get("name") and isinstance(number, int) and not isinstance(number, bool):
                ports.append((str(p["name"]), number, str(p.get("protocol") or "TCP")))
    return Workload(
        str(meta.get("namespace") or "default"),
        name,
        kind,
        tuple(sorted((str(k), str(v)) for k, v in labels.items())),
        tuple(ports),
    )


def topology(objects: Sequence[dict[str, Any]]) -> Topology:
    """Workloads (one per owner), namespaces with their labels, and policies."""
    topo = Topology()
    for obj in objects:
        topo.add(obj)
    return topo


def reads(kind: str | None) -> bool:
    """Whether a document of this top-level kind can matter to the analysis."""
    return kind is not None and (
        kind in WORKLOAD_KINDS or kind.endswith("List") or kind in ("Namespace", "NetworkPolicy")
    )


_TEMPLATE = ("metadata", "labels")
_PORTS = ("spec", "containers", ANY, "ports")
WORKLOAD_PATHS: tuple[tuple[str, ...], ...] = (
    ("kind",),
    ("apiVersion",),
    ("metadata", "name"),
    ("metadata", "namespace"),
    ("metadata", "labels"),
    ("metadata", "ownerReferences"),
    _PORTS,
    ("spec", "template", *_TEMPLATE),
    ("spec", "template", *_PORTS),
    ("spec", "jobTemplate", "spec", "template", *_TEMPLATE),
    ("spec", "jobTemplate", "spec", "template", *_PORTS),
)


def _pruned_workload(text: str) -> dict[str, Any]:
    return pruned(text, WORKLOAD_PATHS)


def _objects(doc: Document, keep: bool) -> list[tuple[list[str | int], dict[str, Any]]]:
    """A workload document is built only as far as the analysis reads it (see pruned.py), and
    kept on the document with ``keep``; everything else, or anything unusual, is built whole."""
    if doc.kind in WORKLOAD_KINDS and doc.text and not doc.built:
        try:
            if keep:
                return [([], doc.derived("workload", _pruned_workload))]
            return [([], _pruned_workload(doc.text))]
        except Unusual:
            pass
    return doc.objects()


def topology_of(
    docs: Iterable[Document], extra: Sequence[dict[str, Any]] = (), *, keep: bool = False
) -> Topology:
    """The topology of documents (plus extra objects, e.g. generated policies). With ``keep``
    the parsed workloads stay on their documents, for revisions that share them.

    An object too malformed to analyse is a located problem, never a traceback."""
    topo = Topology()
    problems: list[Problem] = []
    for doc in docs:
        if not reads(doc.kind):
            continue
        for path, obj in _objects(doc, keep):
            try:
                topo.add(obj)
            except Malformed as exc:
                problems.append(Problem(doc.location([*path, *exc.path]), str(exc)))
            except (TypeError, ValueError, AttributeError, KeyError) as exc:
                problems.append(
                    Problem(
                        doc.location(path),
                        f"cannot analyse this {obj.get('kind')}: {type(exc).__name__}: {exc}",
                    )
                )
    if problems:
        raise NetpolError(problems)
    for obj in extra:
        topo.add(obj)
    return topo
