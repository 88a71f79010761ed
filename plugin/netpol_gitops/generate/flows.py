"""The flows value (and config profiles) -> Flow records: schema first, then meaning."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from typing import Any

from netpol_gitops.errors import Problem
from netpol_gitops.generate import schemas
from netpol_gitops.generate.ports import parse_cidr, parse_ports, selector_of
from netpol_gitops.model import fqdn
from netpol_gitops.model.intent import (
    Endpoint,
    EndpointKind,
    Expressions,
    Flavor,
    Flow,
)
from netpol_gitops.model.kube import Labels
from netpol_gitops.model.location import Location, Locator


# ---------------------------------------------------------------------------- flows
def parse_flows(
    data: Any,
    locate_at: Locator,
    origin: str,
    problems: list[Problem],
    name_prefix: str = "",
    *,
    flavor: Flavor = Flavor.KUBERNETES,
) -> tuple[Flow, ...]:
    """A flow list (already YAML-parsed) -> Flows; schema first, then meaning (``flavor``:
    whether ``fqdn`` ends can be enforced).

    A flow whose ``from`` (or ``to``) is a list of several ends becomes one Flow per end of the
    list, each with the other side and ``listed`` set: together they make one rule."""
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
        srcs = _ends(item["from"], "from", at, problems, flavor)
        dsts = _ends(item["to"], "to", at, problems, flavor)
        ports = parse_ports(item.get("ports", []), lambda j: at(["ports", j], False), problems)
        if len(problems) > before:
            continue
        listed = _listed_side(srcs, dsts, at, problems)
        if len(problems) > before:
            continue
        if listed is None and not (srcs[0].local or dsts[0].local):
            problems.append(
                Problem(
                    loc,
                    "a flow needs pods of this namespace at one end "
                    "(from: {pods: ...} or to: {pods: ...})",
                )
            )
            continue
        if any(p.named for p in ports) and any(
            d.kind in (EndpointKind.CIDR, EndpointKind.INTERNET, EndpointKind.FQDN) for d in dsts
        ):
            named = any(d.kind is EndpointKind.FQDN for d in dsts)
            problems.append(
                Problem(
                    at(["ports"], False),
                    "a named port needs pods at the 'to' end, not "
                    + ("a DNS name" if named else "an IP range"),
                )
            )
            continue
        name = name_prefix + (item.get("name") or derive_flow_name(srcs, dsts))
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
        where = f"{origin}[{i}]"
        if listed is None:
            flows.append(Flow(name, srcs[0], dsts[0], ports, where, loc))
        elif listed == "from":
            flows += [
                Flow(name, s, dsts[0], ports, where, loc, ("from", j)) for j, s in enumerate(srcs)
            ]
        else:
            flows += [
                Flow(name, srcs[0], d, ports, where, loc, ("to", j)) for j, d in enumerate(dsts)
            ]
    return tuple(flows)


def _ends(
    raw: Any, side: str, at: Locator, problems: list[Problem], flavor: Flavor
) -> list[Endpoint]:
    """The ends of one side: a single end, or the items of a list of ends."""
    if not isinstance(raw, list):
        end = _endpoint(raw, [side], at, problems, flavor)
        return [end] if end is not None else []
    ends = []
    for j, item in enumerate(raw):
        end = _endpoint(item, [side, j], at, problems, flavor)
        if end is not None and end.kind is EndpointKind.ANYWHERE and len(raw) > 1:
            problems.append(
                Problem(
                    at([side, j], False),
                    "anywhere already admits every peer: write it alone, not in a list",
                )
            )
        elif end is not None:
            ends.append(end)
    return ends


def _listed_side(
    srcs: list[Endpoint], dsts: list[Endpoint], at: Locator, problems: list[Problem]
) -> str | None:
    """Which side is a list of several ends (None: neither), after checking that the other
    side is a single pods end of this namespace: the pods the one rule is for."""
    if len(srcs) > 1 and len(dsts) > 1:
        problems.append(
            Problem(
                at([], False),
                "'from' and 'to' cannot both be lists: one side is a single pods end of this "
                "namespace (the pods the rule is for), the other may list several ends",
            )
        )
        return None
    for listed, other, ends in (("from", "to", dsts), ("to", "from", srcs)):
        if len(srcs if listed == "from" else dsts) > 1:
            if not ends[0].local:
                problems.append(
                    Problem(
                        at([other], False),
                        f"when '{listed}' is a list of ends, '{other}' must be a single pods "
                        "end of this namespace ({pods: ...})",
                    )
                )
            return listed
    return None


def _endpoint(
    raw: dict[str, Any],
    path: list[str | int],
    locate_at: Locator,
    problems: list[Problem],
    flavor: Flavor = Flavor.KUBERNETES,
) -> Endpoint | None:
    pods, pod_exprs = selector_of(raw["pods"]) if "pods" in raw else (None, ())
    if "pods" in raw and len(raw) == 1:
        return Endpoint(EndpointKind.PODS, pods=pods, pod_expressions=pod_exprs)
    if "namespace" in raw:
        return Endpoint(
            EndpointKind.NAMESPACE,
            pods=pods,
            namespace=raw["namespace"],
            pod_expressions=pod_exprs,
        )
    if "namespaces" in raw:
        labels, exprs = selector_of(raw["namespaces"])
        return Endpoint(
            EndpointKind.NAMESPACES,
            pods=pods,
            namespace_labels=labels,
            pod_expressions=pod_exprs,
            namespace_expressions=exprs,
        )
    if "internet" in raw:
        return Endpoint(EndpointKind.INTERNET)
    if "anywhere" in raw:
        return Endpoint(EndpointKind.ANYWHERE)
    if "fqdn" in raw:
        return _fqdn(raw["fqdn"], path, locate_at, problems, flavor)
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


FQDN_FLAVORS = (Flavor.CILIUM,)  # the flavors that can enforce egress to a DNS name


def _fqdn(
    name: str, path: list[str | int], locate_at: Locator, problems: list[Problem], flavor: Flavor
) -> Endpoint | None:
    """An ``fqdn`` end: egress only, a valid name or Cilium pattern, a flavor that enforces it."""
    loc = locate_at([*path, "fqdn"], False)
    found = fqdn.problem(name)
    if path[0] != "to":
        found = "a DNS name can only be an egress destination: put the fqdn end under 'to'"
    elif found is None and flavor not in FQDN_FLAVORS:
        can = ", ".join(f.value for f in FQDN_FLAVORS)
        found = (
            f"flavor {flavor.value} cannot enforce egress to a DNS name (core NetworkPolicy "
            f"has no names); set 'flavor: {can}' in the repo config (flavors that can: {can}), "
            "or use a cidr end"
        )
    if found is not None:
        problems.append(Problem(loc, found, rule="invalid-flow"))
        return None
    return Endpoint(EndpointKind.FQDN, fqdn=name)


def _inside(sub: str, net: str) -> bool:
    a, b = ipaddress.ip_network(sub), ipaddress.ip_network(net)
    return a.version == b.version and a.subnet_of(b) and a != b  # type: ignore[arg-type]


def derive_flow_name(src: Endpoint | Sequence[Endpoint], dst: Endpoint | Sequence[Endpoint]) -> str:
    """``<from>-to-<to>``, each side named by its ends (a list: their names joined)."""
    sides = [[e] if isinstance(e, Endpoint) else list(e) for e in (src, dst)]
    src_name, dst_name = ("-".join(_end_name(e) for e in ends) for ends in sides)
    return dns_label(f"{src_name}-to-{dst_name}")


def selector_name(labels: Labels | None, expressions: Expressions) -> str:
    """A selector as a name: its label values, then per expression its values (In), ``not-``
    and its values (NotIn), its key (Exists) or ``no-`` and its key (DoesNotExist)."""
    parts = [v for _, v in labels or ()]
    for key, op, values in expressions:
        named = {"In": list(values), "NotIn": ["not", *values], "Exists": [key]}
        parts += named.get(op, ["no", key])
    return "-".join(parts)


def _end_name(end: Endpoint) -> str:
    pods = selector_name(end.pods, end.pod_expressions)
    if end.kind is EndpointKind.PODS:
        return pods or "all-pods"
    if end.kind is EndpointKind.NAMESPACE:
        return "-".join(filter(None, [end.namespace, pods]))
    if end.kind is EndpointKind.NAMESPACES:
        sel = selector_name(end.namespace_labels, end.namespace_expressions) or "all-namespaces"
        return "-".join(filter(None, [sel, pods]))
    if end.kind is EndpointKind.CIDR:
        return "cidr-" + str(end.cidr)
    if end.kind is EndpointKind.FQDN:
        return str(end.fqdn).replace("**.", "any-").replace("*", "any")
    return end.kind.value  # internet, anywhere


def dns_label(text: str) -> str:
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "-", text.lower())).strip("-") or "flow"
