"""The NetworkPolicyGenerator repo config -> Config; one annotation value checked against its
schema."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

from netpol_gitops.errors import NetpolError, Problem, did_you_mean
from netpol_gitops.generate import schemas
from netpol_gitops.generate.flows import parse_flows
from netpol_gitops.generate.ports import labels_of, parse_cidr, parse_ports
from netpol_gitops.model.intent import (
    Config,
    DnsConfig,
    Flavor,
    Flow,
)
from netpol_gitops.model.kube import PREFIX
from netpol_gitops.model.location import Location
from netpol_gitops.yaml.document import Document

KEYS = tuple(k.removeprefix(PREFIX) for k in schemas.load("annotations")["properties"])


def _value_validator(key: str) -> Any:
    return schemas.validator("annotations", "/properties/" + (PREFIX + key).replace("/", "~1"))


# ---------------------------------------------------------------------------- config
def parse_config(doc: Document | None, base: Sequence[str | int] = ()) -> Config:
    """The NetworkPolicyGenerator config at ``base`` in ``doc`` (None: all defaults).

    Raises NetpolError with every problem."""
    if doc is None:
        return Config()
    data = doc.data()
    for part in base:
        data = data[part]

    def at(path: Sequence[str | int], key: bool = False) -> Location:
        return doc.location([*base, *path], key)

    problems = schemas.problems(schemas.validator("config"), data, at, "invalid-config")
    if problems:
        raise NetpolError(problems)
    spec = data.get("spec") or {}
    path: list[str | int] = [*base, "spec"]
    defaults = tuple(
        (k, str(v), doc.location([*path, "defaults", k]))
        for k, v in (spec.get("defaults") or {}).items()
    )
    dns = _dns(doc, [*path, "dns"], spec.get("dns") or {}, problems)
    ranges = Config().private_ranges
    if "privateRanges" in spec:
        parsed = [
            parse_cidr(r, doc.location([*path, "privateRanges", j]), problems)
            for j, r in enumerate(spec["privateRanges"])
        ]
        ranges = tuple(r for r in parsed if r)
    flavor = Flavor(spec.get("flavor", Flavor.KUBERNETES.value))
    profiles = _profiles(doc, [*path, "profiles"], spec.get("profiles") or {}, problems, flavor)
    for key, value, loc in defaults:
        problems.extend(check_value(key, value, loc))
    if problems:
        raise NetpolError(problems)
    return Config(
        defaults=defaults,
        opt_in=bool(spec.get("optIn", False)),
        exclude=tuple(spec.get("exclude") or ()),
        dns=dns,
        private_ranges=ranges,
        profiles=tuple(profiles),
        name_prefix=spec.get("namePrefix", ""),
        sources=tuple(spec.get("sources") or ()),
        location=Location(doc.source, doc.line + 1, 1),
        probe=bool(spec.get("probe", False)),
        cluster_baseline=bool(spec.get("clusterBaseline", False)),
        flavor=flavor,
    )


def _dns(
    doc: Document, path: list[str | int], raw: dict[str, Any], problems: list[Problem]
) -> DnsConfig:
    """spec.dns, over the defaults (kube-system's kube-dns on port 53)."""
    dns = DnsConfig()
    ports = parse_ports(raw.get("ports", []), lambda j: doc.location([*path, "ports", j]), problems)
    node_ip = raw.get("nodeLocalIP")
    if node_ip is not None:
        try:
            node_ip = str(ipaddress.ip_address(node_ip))
        except ValueError:
            problems.append(
                Problem(doc.location([*path, "nodeLocalIP"]), f"'{node_ip}' is not an IP address")
            )
    return DnsConfig(
        namespace=raw.get("namespace", dns.namespace),
        pods=labels_of(raw["pods"]) if "pods" in raw else dns.pods,
        ports=ports or dns.ports,
        node_local_ip=node_ip,
    )


def _profiles(
    doc: Document,
    path: list[str | int],
    raw: dict[str, Any],
    problems: list[Problem],
    flavor: Flavor = Flavor.KUBERNETES,
) -> list[tuple[str, tuple[Flow, ...]]]:
    """spec.profiles: name -> its flows (named ``<profile>-<flow>``)."""
    profiles = []
    for name, flows in raw.items():

        def in_profile(p: Sequence[str | int], key: bool = False, name: str = name) -> Location:
            return doc.location([*path, name, *p], key)

        profiles.append(
            (
                name,
                parse_flows(
                    flows, in_profile, f"profile {name}", problems, f"{name}-", flavor=flavor
                ),
            )
        )
    return profiles


def check_setting(key: str, value: Any, loc: Location) -> list[Problem]:
    """Problems of one annotation value (key without the prefix), e.g. from an Argo CD
    parameter; an unknown key gets a did-you-mean."""
    if key not in KEYS:
        return [
            Problem(
                loc,
                f"unknown setting '{key}'{did_you_mean(key, KEYS)}; known: {', '.join(KEYS)}",
                rule="invalid-annotation",
            )
        ]
    return check_value(key, value, loc)


def check_value(key: str, value: Any, loc: Location) -> list[Problem]:
    return [
        Problem(loc, p.message, rule="invalid-annotation")
        for p in schemas.problems(_value_validator(key), value, lambda _p, _k: loc)
    ]
