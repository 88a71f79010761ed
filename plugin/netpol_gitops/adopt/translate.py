"""A hand-written NetworkPolicy as flows of the annotation vocabulary, or why it cannot be one.

A policy selecting pods S becomes, per rule, a flow between ``{pods: S}`` and the rule's peers
(one end, or a list of ends: one generated rule with those peers), with the rule's ports; a
rule without peers is the ``anywhere`` end. What the
vocabulary cannot say (a peer with other fields, a malformed selector) raises Inexpressible:
the policy is kept as written. Pure."""

from __future__ import annotations

from typing import Any

from netpol_gitops.generate.flows import dns_label
from netpol_gitops.model.kube import NS_NAME_LABEL, policy_types
from netpol_gitops.yaml.emit import scalar

Flow = dict[str, Any]
MAX_FLOW_NAME = 40  # generated policy names add allow- and -ingress/-egress, cut at 63


class Inexpressible(Exception):
    """Why a policy cannot be said with the vocabulary (it is kept as written)."""


def _labels(selector: Any, what: str) -> dict[str, Any]:
    """A selector as an end writes it: its matchLabels as a plain label map, or the whole
    LabelSelector when it has matchExpressions."""
    if selector is None:
        return {}
    if not isinstance(selector, dict) or set(selector) - {"matchLabels", "matchExpressions"}:
        raise Inexpressible(f"{what} is not a label selector")
    labels = selector.get("matchLabels") or {}
    if not isinstance(labels, dict):
        raise Inexpressible(f"{what}.matchLabels is not a mapping")
    plain = {str(k): str(v) for k, v in labels.items()}
    expressions = selector.get("matchExpressions") or []
    if not expressions:
        return plain
    if not isinstance(expressions, list):
        raise Inexpressible(f"{what}.matchExpressions is not a list")
    out: dict[str, Any] = {"matchLabels": plain} if plain else {}
    out["matchExpressions"] = [_expression(e, what) for e in expressions]
    return out


def _expression(raw: Any, what: str) -> dict[str, Any]:
    if not isinstance(raw, dict) or set(raw) - {"key", "operator", "values"}:
        raise Inexpressible(f"{what}.matchExpressions has an entry that is not an expression")
    out: dict[str, Any] = {"key": str(raw.get("key")), "operator": str(raw.get("operator"))}
    if raw.get("values"):
        out["values"] = [str(v) for v in raw["values"]]
    return out


def end_of(peer: Any, home: str) -> dict[str, Any]:
    """One peer of a rule as an end of a flow of namespace ``home``."""
    if not isinstance(peer, dict):
        raise Inexpressible("a peer is not a mapping")
    if "ipBlock" in peer:
        block = peer["ipBlock"]
        if len(peer) != 1 or not isinstance(block, dict) or "cidr" not in block:
            raise Inexpressible("an ipBlock peer with other fields")
        end: dict[str, Any] = {"cidr": str(block["cidr"])}
        if block.get("except"):
            end["except"] = [str(x) for x in block["except"]]
        return end
    if set(peer) - {"podSelector", "namespaceSelector"} or not peer:
        raise Inexpressible("a peer with fields other than podSelector and namespaceSelector")
    pods = _labels(peer.get("podSelector"), "podSelector") if "podSelector" in peer else None
    if "namespaceSelector" not in peer:
        return {"pods": pods or {}}
    spaces = _labels(peer["namespaceSelector"], "namespaceSelector")
    if set(spaces) == {NS_NAME_LABEL}:
        if spaces[NS_NAME_LABEL] == home:
            return {"pods": pods or {}}
        end = {"namespace": spaces[NS_NAME_LABEL]}
    else:
        end = {"namespaces": spaces}
    if pods is not None:
        end["pods"] = pods
    return end


def port_text(port: Any) -> str:
    """One entry of a rule's ports as the vocabulary writes it: ``8080/tcp``, ``http/tcp``,
    ``30000-32767/udp``, ``1-65535/tcp`` for every port of a protocol."""
    if not isinstance(port, dict) or set(port) - {"protocol", "port", "endPort"}:
        raise Inexpressible("a port entry with unknown fields")
    proto = str(port.get("protocol") or "TCP").lower()
    number = port.get("port")
    if number is None:
        return f"1-65535/{proto}"
    if isinstance(number, str) and not number.isdigit():
        return f"{number}/{proto}"
    end = port.get("endPort")
    return f"{number}-{end}/{proto}" if end else f"{number}/{proto}"


def flows_of(name: str, namespace: str, spec: Any) -> tuple[list[str], list[Flow]]:
    """(the directions it isolates, its flows) for one policy; raises Inexpressible."""
    if not isinstance(spec, dict):
        raise Inexpressible("spec is not a mapping")
    local = {"pods": _labels(spec.get("podSelector"), "podSelector")}
    directions = [str(t) for t in policy_types(spec)]
    flows: list[Flow] = []
    for direction, key, peers_key in (("Ingress", "ingress", "from"), ("Egress", "egress", "to")):
        if direction not in directions:
            continue
        for i, rule in enumerate(spec.get(key) or []):
            if not isinstance(rule, dict) or set(rule) - {peers_key, "ports"}:
                raise Inexpressible(f"{key}[{i}] has fields other than {peers_key} and ports")
            ports = [port_text(p) for p in rule.get("ports") or []]
            peers = rule.get(peers_key) or []
            others = [end_of(peer, namespace) for peer in peers]
            if not others:
                other: Any = {"anywhere": True}  # no peers: every peer
            elif len(others) == 1:
                other = others[0]
            else:
                other = others  # one rule with several peers: a list of ends
            pair = (other, local) if direction == "Ingress" else (local, other)
            flow: Flow = {"name": _flow_name(name, key, i), "from": pair[0], "to": pair[1]}
            if ports:
                flow["ports"] = ports
            flows.append(flow)
    return directions, flows


def _flow_name(policy: str, key: str, i: int) -> str:
    suffix = f"{'in' if key == 'ingress' else 'out'}-{i}"
    head = dns_label(policy)[: MAX_FLOW_NAME - len(suffix) - 1].rstrip("-")
    return f"{head}-{suffix}"


def flows_yaml(flows: list[Flow]) -> str:
    """The flows value: one flow per item, ends in flow style, keys in a fixed order."""

    def flow_style(v: Any) -> str:
        if isinstance(v, dict):
            return "{" + ", ".join(f"{scalar(str(k))}: {flow_style(x)}" for k, x in v.items()) + "}"
        if isinstance(v, list):
            return "[" + ", ".join(flow_style(x) for x in v) + "]"
        return "true" if v is True else scalar(str(v))

    out = []
    for f in flows:
        out.append(f"- name: {scalar(str(f['name']))}")
        for key in ("from", "to", "ports"):
            if key in f:
                out.append(f"  {key}: {flow_style(f[key])}")
    return "\n".join(out) + "\n"
