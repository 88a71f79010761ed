"""Namespace annotations and the repo config -> intents, validated against schemas/.

Every problem is collected with its location; nothing here raises for user input except through
``NetpolError`` at the end of a call.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from collections.abc import Callable, Sequence
from typing import Any

from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import Node, ScalarNode

from netpol_gitops import PREFIX, schemas
from netpol_gitops.errors import Location, NetpolError, Problem, did_you_mean, field_path
from netpol_gitops.intent import (
    SYSTEM_NAMESPACES,
    Config,
    Deny,
    DnsConfig,
    Endpoint,
    Flow,
    Labels,
    Mode,
    NamespaceIntent,
    PortSpec,
)
from netpol_gitops.yamlio import LOADER, Document, locate, split_stream, yaml_problem

KEYS = tuple(k.removeprefix(PREFIX) for k in schemas.load("annotations")["properties"])
Locator = Callable[[Sequence[str | int], bool], Location]
Setting = tuple[str, str, Location, str]  # (key without prefix, value, where, origin)
_PORT = re.compile(r"^(?:(\d+)(?:-(\d+))?|([a-z0-9][-a-z0-9]*))(?:/([A-Za-z]+))?$")
_ANN = ("metadata", "annotations")
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


def _value_validator(key: str) -> Any:
    return schemas.validator("annotations", "/properties/" + (PREFIX + key).replace("/", "~1"))


# ---------------------------------------------------------------------------- ports and CIDRs
def parse_port(raw: Any, loc: Location, problems: list[Problem]) -> PortSpec | None:
    """``8080``, ``8080/tcp``, ``30000-32767/udp``, ``http``, ``dns/udp`` -> PortSpec."""
    m = _PORT.match(str(raw).strip())
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


def _labels(value: Any) -> Labels:
    return tuple(sorted((str(k), str(v)) for k, v in (value or {}).items()))


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
        if any(p.named for p in ports) and dst.kind in ("cidr", "internet"):
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
    pods = _labels(raw["pods"]) if "pods" in raw else None
    if "pods" in raw and len(raw) == 1:
        return Endpoint("pods", pods=pods)
    if "namespace" in raw:
        return Endpoint("namespace", pods=pods, namespace=raw["namespace"])
    if "namespaces" in raw:
        return Endpoint("namespaces", pods=pods, namespace_labels=_labels(raw["namespaces"]))
    if "internet" in raw:
        return Endpoint("internet")
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
    return Endpoint("cidr", cidr=cidr, except_=tuple(excepts))


def _inside(sub: str, net: str) -> bool:
    a, b = ipaddress.ip_network(sub), ipaddress.ip_network(net)
    return a.version == b.version and a.subnet_of(b) and a != b  # type: ignore[arg-type]


def derive_flow_name(src: Endpoint, dst: Endpoint) -> str:
    return dns_label(f"{_end_name(src)}-to-{_end_name(dst)}")


def _end_name(end: Endpoint) -> str:
    pods = "-".join(v for _, v in end.pods) if end.pods else ""
    if end.kind == "pods":
        return pods or "all-pods"
    if end.kind == "namespace":
        return "-".join(filter(None, [end.namespace, pods]))
    if end.kind == "namespaces":
        sel = "-".join(v for _, v in end.namespace_labels or ()) or "all-namespaces"
        return "-".join(filter(None, [sel, pods]))
    if end.kind == "cidr":
        return "cidr-" + str(end.cidr)
    return "internet"


def dns_label(text: str) -> str:
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "-", text.lower())).strip("-") or "flow"


# ---------------------------------------------------------------------------- embedded YAML
class EmbeddedLocator:
    """Locations inside a YAML value embedded in a string (the flows annotation), mapped back
    to the file: exact for block scalars (``|``) and one-line values, else the value's start."""

    def __init__(self, doc: Document, outer: Sequence[str | int], inner: Node | None) -> None:
        self.doc, self.outer, self.inner = doc, list(outer), inner
        # an unlined document (a ResourceList item) locates nothing: its nodes are not built
        self.value = locate(doc.node(), outer)[0] if doc.lined else None
        self.base = doc.location(outer)
        self.style = getattr(self.value, "style", None)
        self.indent = 0
        if self.value is not None and self.style in ("|", ">"):
            for line in doc.text.splitlines()[self.value.start_mark.line + 1 :]:
                if line.strip():
                    self.indent = len(line) - len(line.lstrip(" "))
                    break

    def __call__(self, path: Sequence[str | int], key: bool = False) -> Location:
        name = field_path([*self.outer, *path])
        if self.inner is None or not self.doc.lined:
            return self.base.with_field(name)
        node, key_node = locate(self.inner, path)
        target = key_node if key and key_node is not None else node
        return self.shift(target.start_mark.line, target.start_mark.column, name)

    def shift(self, line: int, col: int, name: str) -> Location:
        value = self.value
        if value is None:
            return self.base.with_field(name)
        start = value.start_mark
        if self.style in ("|", ">"):
            out = self.doc.mark(start.line + 1 + line, self.indent + col)
        elif line == 0 and isinstance(value, ScalarNode) and start.line == value.end_mark.line:
            out = self.doc.mark(start.line, start.column + col + (1 if self.style else 0))
        else:
            return self.base.with_field(name)
        return Location(self.doc.source, out[0], out[1], name)


def _parse_embedded(
    text: str, doc: Document, outer: list[str | int], problems: list[Problem]
) -> tuple[Any, Locator] | None:
    try:
        split_stream(text, "flows", objects=False)  # depth and alias limits before composing
        node = LOADER.compose(text)
        data = LOADER.constructor.construct_document(node) if node is not None else None
    except NetpolError as err:  # located inside the value, like a syntax error below
        at = EmbeddedLocator(doc, outer, None)
        name = field_path(outer)
        problems.extend(
            Problem(at.shift(p.location.line - 1, p.location.col - 1, name), p.message, rule=p.rule)
            for p in err.problems
        )
        return None
    except YAMLError as exc:
        p = yaml_problem(exc, "x")
        loc = EmbeddedLocator(doc, outer, None).shift(
            p.location.line - 1, p.location.col - 1, field_path(outer)
        )
        problems.append(
            Problem(loc, p.message.replace("invalid YAML", "invalid YAML in the flows value"))
        )
        return None
    return data, EmbeddedLocator(doc, outer, node)


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
    dns_raw = spec.get("dns") or {}
    dns = DnsConfig()
    ports = parse_ports(
        dns_raw.get("ports", []), lambda j: doc.location([*path, "dns", "ports", j]), problems
    )
    node_ip = dns_raw.get("nodeLocalIP")
    if node_ip is not None:
        try:
            node_ip = str(ipaddress.ip_address(node_ip))
        except ValueError:
            problems.append(
                Problem(
                    doc.location([*path, "dns", "nodeLocalIP"]), f"'{node_ip}' is not an IP address"
                )
            )
    dns = DnsConfig(
        namespace=dns_raw.get("namespace", dns.namespace),
        pods=_labels(dns_raw["pods"]) if "pods" in dns_raw else dns.pods,
        ports=ports or dns.ports,
        node_local_ip=node_ip,
    )
    ranges = Config().private_ranges
    if "privateRanges" in spec:
        parsed = [
            parse_cidr(r, doc.location([*path, "privateRanges", j]), problems)
            for j, r in enumerate(spec["privateRanges"])
        ]
        ranges = tuple(r for r in parsed if r)
    profiles = []
    for name, flows in (spec.get("profiles") or {}).items():

        def in_profile(p: Sequence[str | int], key: bool = False, name: str = name) -> Location:
            return doc.location([*path, "profiles", name, *p], key)

        profiles.append(
            (
                name,
                parse_flows(flows, in_profile, f"profile {name}", problems, f"{name}-"),
            )
        )
    for key, value, loc in defaults:
        problems.extend(_check_value(key, value, loc))
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
    )


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
    return _check_value(key, value, loc)


def _check_value(key: str, value: Any, loc: Location) -> list[Problem]:
    return [
        Problem(loc, p.message, rule="invalid-annotation")
        for p in schemas.problems(_value_validator(key), value, lambda _p, _k: loc)
    ]


# ---------------------------------------------------------------------------- namespaces
def is_unmanaged(name: str, config: Config) -> bool:
    return name in SYSTEM_NAMESPACES or any(fnmatch.fnmatchcase(name, g) for g in config.exclude)


def namespace_intent(  # noqa: PLR0912 - one branch per annotation key
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
    anns = meta.get("annotations") or {}
    if not isinstance(anns, dict):
        problems.append(Problem(doc.location([*base, *_ANN]), "expected a mapping"))
        return None
    ours = {k: v for k, v in anns.items() if isinstance(k, str) and k.startswith(PREFIX)}
    if is_unmanaged(name, config) or (config.opt_in and not ours and not overrides):
        return None
    before = len(problems)
    values: dict[str, tuple[Any, Location, str]] = {
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
        bad = _check_value(short, value, loc)
        problems.extend(bad)
        if bad:
            values.pop(short, None)  # keep checking the rest; no intent is returned anyway
        else:
            values[short] = (value, loc, f"Namespace/{name} {key}")
    for key, value, loc, origin in overrides:
        values[key] = (value, loc, origin)

    def get(key: str, default: str) -> str:
        return str(values[key][0]) if key in values else default

    mode = Mode(get("mode", "enforce"))
    deny = Deny(get("default-deny", "all"))
    flows: list[Flow] = []
    for pname in _split(get("profiles", "")):
        profile = config.profile(pname)
        if profile is None:
            hint = did_you_mean(pname, [n for n, _ in config.profiles])
            problems.append(
                Problem(
                    values["profiles"][1],
                    f"no profile '{pname}' in the repo config{hint}",
                    rule="invalid-annotation",
                )
            )
        else:
            flows.extend(profile)
    if "flows" in values:
        flows.extend(_flows_value(doc, base, values["flows"], problems))
    internet_ports: tuple[PortSpec, ...] = ()
    if "allow-egress-internet" in values:
        raw, loc, _ = values["allow-egress-internet"]
        internet_ports = parse_ports(_split(str(raw)), lambda _j: loc, problems)
        if any(p.named for p in internet_ports):
            problems.append(Problem(loc, "named ports need pods at the other end; use numbers"))
    seen: dict[str, Flow] = {}
    for flow in flows:
        if flow.name in seen:
            problems.append(
                Problem(
                    flow.location,
                    f"flow name '{flow.name}' is also used by {seen[flow.name].origin}; rename one",
                )
            )
        seen[flow.name] = flow
    if len(problems) > before:
        return None
    return NamespaceIntent(
        name=name,
        mode=mode,
        deny=deny,
        allow_dns=get("allow-dns", "true" if deny.egress else "false") == "true",
        allow_same_namespace=get("allow-same-namespace", "false") == "true",
        allow_from_namespaces=tuple(sorted(set(_split(get("allow-from-namespaces", ""))))),
        egress_internet=internet_ports,
        flows=tuple(flows),
        location=doc.location(base),
        sources=tuple((k, origin) for k, (_, _, origin) in sorted(values.items())),
    )


def _flows_value(
    doc: Document, base: list[str | int], value: tuple[Any, Location, str], problems: list[Problem]
) -> tuple[Flow, ...]:
    raw, loc, origin = value
    if not origin.startswith("Namespace/"):  # a default from the config file
        parsed = _parse_plain(str(raw), loc, problems)
        return (
            parse_flows(parsed, lambda _p, _k: loc, "defaults flows", problems)
            if parsed is not None
            else ()
        )
    outer: list[str | int] = [*base, *_ANN, PREFIX + "flows"]
    result = _parse_embedded(str(raw), doc, outer, problems)
    if result is None:
        return ()
    data, at = result
    return parse_flows(data, at, f"{PREFIX}flows", problems)


def _parse_plain(text: str, loc: Location, problems: list[Problem]) -> Any:
    try:
        split_stream(text, "flows", objects=False)  # depth and alias limits before composing
        return LOADER.load(text)
    except NetpolError as err:
        problems.extend(Problem(loc, p.message, rule=p.rule) for p in err.problems)
        return None
    except YAMLError as exc:
        problems.append(Problem(loc, yaml_problem(exc, "x").message))
        return None


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]
