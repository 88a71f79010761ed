"""The flows value (and config profiles) -> Flow records: schema first, then meaning."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from typing import Any

from netpol_gitops.errors import Problem
from netpol_gitops.generate import schemas
from netpol_gitops.generate.ports import labels_of, parse_cidr, parse_ports
from netpol_gitops.model.intent import (
    Endpoint,
    EndpointKind,
    Flow,
)
from netpol_gitops.model.location import Location, Locator


# ---------------------------------------------------------------------------- flows
def parse_flows(
    data: Any, locate_at: Locator, origin: str, problems: list[Problem], name_prefix: str = ""
) -> tuple[Flow, ...]:
    """A flow list (already YAML-parsed) -> Flows; schema first, then meaning."""
    if not isinstance(data, list):
        problems.extend(schemas.problems(schemas.validator("flows"), data, locate_at))
        return ()
    flows: list[Flow] = []
    names: dict[str, int] = {}
    one = schemas.validator("flows", "/$defs/flow")
    for i, item in enumerate(data):
        loc = locate_at([i], False)
        before = len(problems)

        def at(path: Sequence[str | int], key: bool, i: int = i) -> Location:
            return locate_at([i, *path], key)

        found = schemas.problems(one, item, at, "invalid-flow")
        if found:
            problems.extend(found)
            continue
        src = _endpoint(item["from"], [i, "from"], locate_at, problems)
        dst = _endpoint(item["to"], [i, "to"], locate_at, problems)
        ports = parse_ports(item.get("ports", []), lambda j: at(["ports", j], False), problems)
        if src is None or dst is None or len(problems) > before:
            continue
        if not (src.local or dst.local):
            problems.append(
                Problem(
                    loc,
                    "a flow needs pods of this namespace at one end "
                    "(from: {pods: ...} or to: {pods: ...})",
                )
            )
            continue
        if any(p.named for p in ports) and dst.kind in (EndpointKind.CIDR, EndpointKind.INTERNET):
            problems.append(
                Problem(
                    locate_at([i, "ports"], False),
                    "a named port needs pods at the 'to' end, not an IP range",
                )
            )
            continue
        name = name_prefix + (item.get("name") or derive_flow_name(src, dst))
        if name in names:
            problems.append(
                Problem(
                    loc,
                    f"flow name '{name}' is already used by "
                    f"flows[{names[name]}]; give this flow a 'name'",
                )
            )
            continue
        names[name] = i
        flows.append(Flow(name, src, dst, ports, f"{origin}[{i}]", loc))
    return tuple(flows)


def _endpoint(
    raw: dict[str, Any], path: list[str | int], locate_at: Locator, problems: list[Problem]
) -> Endpoint | None:
    pods = labels_of(raw["pods"]) if "pods" in raw else None
    if "pods" in raw and len(raw) == 1:
        return Endpoint(EndpointKind.PODS, pods=pods)
    if "namespace" in raw:
        return Endpoint(EndpointKind.NAMESPACE, pods=pods, namespace=raw["namespace"])
    if "namespaces" in raw:
        return Endpoint(
            EndpointKind.NAMESPACES, pods=pods, namespace_labels=labels_of(raw["namespaces"])
        )
    if "internet" in raw:
        return Endpoint(EndpointKind.INTERNET)
    if "anywhere" in raw:
        return Endpoint(EndpointKind.ANYWHERE)
    cidr = parse_cidr(raw["cidr"], locate_at([*path, "cidr"], False), problems)
    excepts = []
    for j, text in enumerate(raw.get("except", [])):
        loc = locate_at([*path, "except", j], False)
        sub = parse_cidr(text, loc, problems)
        if cidr and sub and not _inside(sub, cidr):
            problems.append(Problem(loc, f"'{sub}' is not inside {cidr}"))
        excepts.append(sub or "")
    if cidr is None:
        return None
    return Endpoint(EndpointKind.CIDR, cidr=cidr, except_=tuple(excepts))


def _inside(sub: str, net: str) -> bool:
    a, b = ipaddress.ip_network(sub), ipaddress.ip_network(net)
    return a.version == b.version and a.subnet_of(b) and a != b  # type: ignore[arg-type]


def derive_flow_name(src: Endpoint, dst: Endpoint) -> str:
    return dns_label(f"{_end_name(src)}-to-{_end_name(dst)}")


def _end_name(end: Endpoint) -> str:
    pods = "-".join(v for _, v in end.pods) if end.pods else ""
    if end.kind is EndpointKind.PODS:
        return pods or "all-pods"
    if end.kind is EndpointKind.NAMESPACE:
        return "-".join(filter(None, [end.namespace, pods]))
    if end.kind is EndpointKind.NAMESPACES:
        sel = "-".join(v for _, v in end.namespace_labels or ()) or "all-namespaces"
        return "-".join(filter(None, [sel, pods]))
    if end.kind is EndpointKind.CIDR:
        return "cidr-" + str(end.cidr)
    return end.kind.value  # internet, anywhere


def dns_label(text: str) -> str:
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "-", text.lower())).strip("-") or "flow"
