"""A Namespace's annotations (over the config's defaults) -> its intent, validated against
schemas/.

Every problem is collected with its location; nothing here raises for user input except through
``NetpolError`` at the end of a call.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from typing import Any

from netpol_gitops.errors import Problem, did_you_mean
from netpol_gitops.generate.config import KEYS, check_value
from netpol_gitops.generate.flows import parse_flows
from netpol_gitops.generate.ports import parse_ports
from netpol_gitops.generate.profiles import profile_flows, profile_names
from netpol_gitops.generate.scoped import parse_deny_pods
from netpol_gitops.model.intent import (
    Config,
    Deny,
    Flow,
    Mode,
    NamespaceIntent,
    PortSpec,
    ScopedDeny,
)
from netpol_gitops.model.kube import PREFIX, SYSTEM_NAMESPACES, Labels
from netpol_gitops.model.location import Location, Locator
from netpol_gitops.yaml.document import Document
from netpol_gitops.yaml.embedded import parse_embedded, parse_plain

Setting = tuple[str, str, Location, str]  # (key without prefix, value, where, origin)
_ANN = ("metadata", "annotations")
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


# ---------------------------------------------------------------------------- namespaces
def is_unmanaged(name: str, config: Config) -> bool:
    return name in SYSTEM_NAMESPACES or any(fnmatch.fnmatchcase(name, g) for g in config.exclude)


Values = dict[str, tuple[Any, Location, str]]  # setting -> (value, where, where it came from)


def namespace_intent(
    doc: Document,
    obj: dict[str, Any],
    base: list[str | int],
    config: Config,
    problems: list[Problem],
    *,
    overrides: Sequence[Setting] = (),
) -> NamespaceIntent | None:
    """The intent of one Namespace object (at ``base`` inside ``doc``); None if unmanaged.

    Precedence, lowest to highest: config defaults, the annotations, ``overrides`` (Argo CD
    environment and parameters, already validated by the caller)."""
    meta = obj.get("metadata") or {}
    name = _name(doc, base, meta, problems)
    if name is None:
        return None
    anns = meta.get("annotations") or {}
    if not isinstance(anns, dict):
        problems.append(Problem(doc.location([*base, *_ANN]), "expected a mapping"))
        return None
    ours = {k: v for k, v in anns.items() if isinstance(k, str) and k.startswith(PREFIX)}
    if is_unmanaged(name, config) or (config.opt_in and not ours and not overrides):
        return None
    before = len(problems)
    values = _values(doc, base, name, ours, config=config, problems=problems)
    for key, value, loc, origin in overrides:
        values[key] = (value, loc, origin)

    def get(key: str, default: str) -> str:
        return str(values[key][0]) if key in values else default

    deny = Deny(get("default-deny", "all"))
    deny_pods = _deny_pods(doc, base, values, problems)
    flows = _flows(doc, base, values, config, problems)
    internet_ports = _internet_ports(values, problems)
    _unique_names(flows, problems)
    if len(problems) > before:
        return None
    egress_denied = deny.egress or any(d.deny.egress for d in deny_pods)
    whole, some = _from_namespaces(get("allow-from-namespaces", ""))
    return NamespaceIntent(
        name=name,
        mode=Mode(get("mode", "enforce")),
        deny=deny,
        allow_dns=get("allow-dns", "true" if egress_denied else "false") == "true",
        allow_same_namespace=get("allow-same-namespace", "false") == "true",
        allow_from_namespaces=whole,
        egress_internet=internet_ports,
        flows=tuple(flows),
        location=doc.location(base),
        sources=tuple((k, origin) for k, (_, _, origin) in sorted(values.items())),
        deny_pods=deny_pods,
        allow_from_pods=some,
    )


def _from_namespaces(value: str) -> tuple[tuple[str, ...], tuple[tuple[str, Labels], ...]]:
    """allow-from-namespaces (schema-checked): the whole namespaces, and the
    ``NAMESPACE/KEY=VALUE`` entries (namespace, its pods' label), each sorted, once."""
    whole, some = set(), set()
    for entry in _split(value):
        namespace, _, label = entry.partition("/")
        if label:
            key, _, val = label.partition("=")
            some.add((namespace, ((key, val),)))
        else:
            whole.add(namespace)
    return tuple(sorted(whole)), tuple(sorted(some))


def _name(
    doc: Document, base: list[str | int], meta: dict[str, Any], problems: list[Problem]
) -> str | None:
    """The Namespace's name, when it is a valid one."""
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        problems.append(
            Problem(doc.location([*base, "metadata"]), "a Namespace needs metadata.name")
        )
        return None
    if not _DNS_LABEL.fullmatch(name):
        problems.append(
            Problem(
                doc.location([*base, "metadata", "name"]),
                f"{name!r} is not a valid namespace name (at most 63 of a-z 0-9 "
                "and '-', starting and ending with a letter or digit)",
            )
        )
        return None
    return name


def _values(
    doc: Document,
    base: list[str | int],
    name: str,
    ours: dict[str, Any],
    *,
    config: Config,
    problems: list[Problem],
) -> Values:
    """The config's defaults, overridden by the valid ones of the namespace's annotations."""
    values: Values = {
        key: (value, loc, f"repo config spec.defaults.{key}") for key, value, loc in config.defaults
    }
    for key, value in ours.items():
        short = key.removeprefix(PREFIX)
        loc = doc.location([*base, *_ANN, key])
        if short not in KEYS:
            hint = did_you_mean(short, KEYS)
            problems.append(
                Problem(
                    doc.location([*base, *_ANN, key], key=True),
                    f"unknown annotation{hint}; known: {', '.join(KEYS)}",
                    rule="invalid-annotation",
                )
            )
            continue
        bad = check_value(short, value, loc)
        problems.extend(bad)
        if bad:
            values.pop(short, None)  # keep checking the rest; no intent is returned anyway
        else:
            values[short] = (value, loc, f"Namespace/{name} {key}")
    return values


def _flows(
    doc: Document, base: list[str | int], values: Values, config: Config, problems: list[Problem]
) -> list[Flow]:
    """The flows of the named profiles, then those of the flows value."""
    flows: list[Flow] = []
    names = _split(str(values["profiles"][0])) if "profiles" in values else []
    for pname in names:
        profile = profile_flows(pname, config, values["profiles"][1], problems)
        if profile is None:
            hint = did_you_mean(pname, profile_names(config))
            problems.append(
                Problem(
                    values["profiles"][1],
                    f"no profile '{pname}' in the repo config, nor a built-in one{hint}",
                    rule="invalid-annotation",
                )
            )
        else:
            flows.extend(profile)
    if "flows" in values:
        data = _embedded(doc, base, "flows", values["flows"], problems)
        if data is not None:
            flows.extend(parse_flows(data[0], data[1], data[2], problems, flavor=config.flavor))
    return flows


def _deny_pods(
    doc: Document, base: list[str | int], values: Values, problems: list[Problem]
) -> tuple[ScopedDeny, ...]:
    if "default-deny-pods" not in values:
        return ()
    data = _embedded(doc, base, "default-deny-pods", values["default-deny-pods"], problems)
    return parse_deny_pods(data[0], data[1], problems) if data is not None else ()


def _internet_ports(values: Values, problems: list[Problem]) -> tuple[PortSpec, ...]:
    if "allow-egress-internet" not in values:
        return ()
    raw, loc, _ = values["allow-egress-internet"]
    ports = parse_ports(_split(str(raw)), lambda _j: loc, problems)
    if any(p.named for p in ports):
        problems.append(Problem(loc, "named ports need pods at the other end; use numbers"))
    return ports


def _unique_names(flows: list[Flow], problems: list[Problem]) -> None:
    seen: dict[str, Flow] = {}
    for flow in flows:
        if flow.name in seen and seen[flow.name].origin != flow.origin:  # not one list's ends
            problems.append(
                Problem(
                    flow.location,
                    f"flow name '{flow.name}' is also used by {seen[flow.name].origin}; rename one",
                )
            )
        seen[flow.name] = flow


def _embedded(
    doc: Document,
    base: list[str | int],
    key: str,
    value: tuple[Any, Location, str],
    problems: list[Problem],
) -> tuple[Any, Locator, str] | None:
    """A YAML-valued setting (flows, default-deny-pods) parsed: (data, where its parts are,
    its origin for the records made of it); None when it is not YAML."""
    raw, loc, origin = value
    if not origin.startswith("Namespace/"):  # a default from the config file, or an override
        parsed = parse_plain(str(raw), loc, problems)
        if parsed is None:
            return None
        return parsed, lambda _p, _k: loc, f"defaults {key}"
    outer: list[str | int] = [*base, *_ANN, PREFIX + key]
    result = parse_embedded(str(raw), doc, outer, problems)
    if result is None:
        return None
    data, at = result
    return data, at, f"{PREFIX}{key}"


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]
