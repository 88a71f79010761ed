"""Ports (``8080/tcp``, ``30000-32767/udp``, ``http``), CIDRs, label maps and selectors of
annotations."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence
from typing import Any

from netpol_gitops.errors import Problem
from netpol_gitops.model.intent import (
    Expressions,
    PortSpec,
)
from netpol_gitops.model.kube import Labels
from netpol_gitops.model.location import Location

_PORT = re.compile(r"(?:(\d+)(?:-(\d+))?|([a-z0-9][-a-z0-9]*))(?:/([A-Za-z]+))?")


# ---------------------------------------------------------------------------- ports and CIDRs
def parse_port(raw: Any, loc: Location, problems: list[Problem]) -> PortSpec | None:
    """``8080``, ``8080/tcp``, ``30000-32767/udp``, ``http``, ``dns/udp`` -> PortSpec."""
    m = _PORT.fullmatch(str(raw).strip())
    if m is None:
        problems.append(Problem(loc, f"expected a port like 8080/tcp; got {raw!r}"))
        return None
    first, last, name, proto = m.groups()
    protocol = (proto or "tcp").upper()
    if protocol not in ("TCP", "UDP", "SCTP"):
        problems.append(Problem(loc, f"expected protocol tcp, udp or sctp; got '{proto}'"))
        return None
    if name is not None:
        if len(name) > 15 or not re.search("[a-z]", name) or "--" in name or name.endswith("-"):
            problems.append(
                Problem(
                    loc,
                    f"'{name}' is not a valid named port (at most 15 of a-z 0-9 -, with a letter)",
                )
            )
            return None
        return PortSpec(protocol, name)
    port, end = int(first), int(last) if last else None
    for value in (port, end):
        if value is not None and not 1 <= value <= 65535:
            problems.append(Problem(loc, f"port {value} is out of range 1-65535"))
            return None
    if end is not None and end < port:
        problems.append(Problem(loc, f"endPort {end} is below port {port}"))
        return None
    return PortSpec(protocol, port, end if end != port else None)


def parse_ports(
    items: Sequence[Any], locate_item: Callable[[int], Location], problems: list[Problem]
) -> tuple[PortSpec, ...]:
    ports = [parse_port(item, locate_item(i), problems) for i, item in enumerate(items)]
    return tuple(p for p in ports if p is not None)


def parse_cidr(raw: str, loc: Location, problems: list[Problem]) -> str | None:
    try:
        net = ipaddress.ip_network(raw.strip(), strict=False)
    except ValueError:
        problems.append(Problem(loc, f"'{raw}' is not a valid CIDR (e.g. 10.0.0.0/8)"))
        return None
    if str(net) != raw.strip():
        problems.append(Problem(loc, f"'{raw}' has host bits set; did you mean '{net}'?"))
        return None
    return str(net)


def labels_of(value: Any) -> Labels:
    return tuple(sorted((str(k), str(v)) for k, v in (value or {}).items()))


SELECTOR_KEYS = ("matchLabels", "matchExpressions")


def selector_of(value: Any) -> tuple[Labels, Expressions]:
    """A selector of the vocabulary (schema-checked) -> (matchLabels, matchExpressions).

    A mapping with a ``matchLabels`` or ``matchExpressions`` key is a LabelSelector (the schema
    allows no other key beside them); any other mapping is a plain label map."""
    if not any(k in (value or {}) for k in SELECTOR_KEYS):
        return labels_of(value), ()
    expressions = tuple(
        (str(e["key"]), str(e["operator"]), tuple(str(v) for v in e.get("values") or ()))
        for e in value.get("matchExpressions") or ()
    )
    return labels_of(value.get("matchLabels")), expressions
