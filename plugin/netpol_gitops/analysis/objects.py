"""Kubernetes objects -> analysis records: a NetworkPolicy validated as the API server would,
a workload named as the conformance format names it."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from typing import Any

from netpol_gitops.analysis.model import Peer, Policy, Port, PortRule, Rule, Selector, Workload
from netpol_gitops.model.kube import policy_types

PROTOCOLS = ("TCP", "UDP", "SCTP")


# IANA_SVC_NAME, as the API server validates a named port: at most 15 characters, lowercase
# letters, digits and inner single hyphens, at least one letter
SERVICE_NAME = re.compile(r"(?=[a-z0-9-]*[a-z])(?!.*--)[a-z0-9](?:[a-z0-9-]{0,13}[a-z0-9])?")


class Malformed(ValueError):
    """A field of a NetworkPolicy that the API server would refuse (``path`` inside it)."""

    def __init__(self, path: Sequence[str | int], message: str) -> None:
        super().__init__(message)
        self.path = list(path)


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
    types = policy_types(spec)
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


def _template(obj: dict[str, Any]) -> tuple[tuple[str, ...], dict[str, Any]]:
    """The pod template (the Pod itself for a Pod) and its path in the object."""
    if obj.get("kind") == "Pod":
        return (), obj
    at: tuple[str, ...] = ("spec",)
    spec = obj.get("spec") or {}
    if obj.get("kind") == "CronJob":
        at = ("spec", "jobTemplate", "spec")
        spec = _mapping(_mapping(spec, ("spec",)).get("jobTemplate"), at[:2]).get("spec") or {}
    template = _mapping(spec, at).get("template") or {}
    return (*at, "template"), _mapping(template, (*at, "template"))


def _mapping(value: Any, at: tuple[str | int, ...]) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Malformed(at, f"expected a mapping; got {_what(value)}")
    return value


def _list(value: Any, at: tuple[str | int, ...]) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise Malformed(at, f"expected a list; got {_what(value)}")
    return value


def _what(value: Any) -> str:
    """What a value is (workloads are read pruned: their values are partial)."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}" if value is not None else "null"


def workload(obj: dict[str, Any]) -> Workload | None:
    """A workload peer, named as the conformance format names it; None for skipped pods. A pod
    template the API server would refuse (containers that are not a list, say) is Malformed."""
    meta = obj.get("metadata") or {}
    kind, name = str(obj.get("kind")), str(meta.get("name"))
    if kind == "Pod":
        if name.startswith("virt-launcher-"):
            return None
        for ref in meta.get("ownerReferences") or ():
            if ref.get("controller") and ref.get("kind") != "Node":
                kind, name = str(ref.get("kind") or "Pod"), str(ref.get("name"))
                break
    at, template = _template(obj)
    labels = _mapping((template.get("metadata") or {}).get("labels"), (*at, "metadata", "labels"))
    ports: list[Port] = []
    pod_spec = _mapping(template.get("spec"), (*at, "spec"))
    containers = _list(pod_spec.get("containers"), (*at, "spec", "containers"))
    for i, c in enumerate(containers):
        c_at: tuple[str | int, ...] = (*at, "spec", "containers", i)
        for j, p in enumerate(_list(_mapping(c, c_at).get("ports"), (*c_at, "ports"))):
            number = _mapping(p, (*c_at, "ports", j)).get("containerPort")
            if p.get("name") and isinstance(number, int) and not isinstance(number, bool):
                ports.append((str(p["name"]), number, str(p.get("protocol") or "TCP")))
    return Workload(
        str(meta.get("namespace") or "default"),
        name,
        kind,
        tuple(sorted((str(k), str(v)) for k, v in labels.items())),
        tuple(ports),
    )
