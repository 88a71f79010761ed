"""Hypothesis strategies the property tests share: Namespace streams with every annotation."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

NAMES = st.sampled_from(["shop", "billing", "web-1", "data", "ingress-nginx", "monitoring"])
LABEL = st.sampled_from(["tier", "app", "app.kubernetes.io/name"])
VALUE = st.sampled_from(["web", "api", "db", "cache"])
LABELS = st.dictionaries(LABEL, VALUE, max_size=2)


@st.composite
def expression(draw: st.DrawFn, keys: st.SearchStrategy[str] = LABEL) -> dict[str, object]:
    op = draw(st.sampled_from(["In", "NotIn", "Exists", "DoesNotExist"]))
    out: dict[str, object] = {"key": draw(keys), "operator": op}
    if op in ("In", "NotIn"):
        out["values"] = draw(st.lists(VALUE, min_size=1, max_size=2, unique=True))
    return out


def selector(
    keys: st.SearchStrategy[str] = LABEL, size: int = 2, *, empty: bool = True
) -> st.SearchStrategy[dict[str, object]]:
    """A plain label map, or a LabelSelector with matchLabels and/or matchExpressions; one
    that selects every pod (``{}``) unless ``empty`` is False."""
    exprs = st.lists(expression(keys), min_size=1, max_size=2)
    full = st.one_of(
        st.fixed_dictionaries(
            {"matchLabels": st.dictionaries(keys, VALUE, max_size=size)},
            optional={"matchExpressions": exprs},
        ),
        st.fixed_dictionaries({"matchExpressions": exprs}),
    )
    plain = st.dictionaries(keys, VALUE, min_size=0 if empty else 1, max_size=size)
    return st.one_of(plain, full)


PODS = selector()
PORT = st.sampled_from(["80", "443/tcp", "53/udp", "30000-32767/tcp", "http", "3868/sctp"])
LOCAL = st.fixed_dictionaries({"pods": PODS})
PEERS = (  # every end but anywhere, which admits everything and is never listed with others
    LOCAL,
    st.fixed_dictionaries({"namespace": NAMES}, optional={"pods": PODS}),
    st.fixed_dictionaries({"namespaces": selector(st.just("team"), 1)}, optional={"pods": PODS}),
    st.fixed_dictionaries(
        {"cidr": st.just("10.1.0.0/16")}, optional={"except": st.just(["10.1.2.0/24"])}
    ),
    st.just({"internet": True}),
)
REMOTE = st.one_of(*PEERS, st.just({"anywhere": True}))
LISTED = st.lists(st.one_of(*PEERS), min_size=2, max_size=3)


def _ip(end: Any) -> bool:
    return "cidr" in end or "internet" in end or "anywhere" in end


@st.composite
def flows(draw: st.DrawFn) -> list[dict[str, object]]:
    out = []
    for i in range(draw(st.integers(0, 3))):
        remote: Any = draw(st.one_of(REMOTE, LISTED))  # an end, or a list of them
        ports = draw(st.lists(PORT, max_size=2, unique=True))
        pair = [draw(LOCAL), remote] if draw(st.booleans()) else [remote, draw(LOCAL)]
        to = pair[1] if isinstance(pair[1], list) else [pair[1]]
        if any(_ip(e) for e in to):  # named ports resolve on pods only
            ports = [p for p in ports if p != "http"]
        flow: dict[str, object] = {"name": f"f{i}", "from": pair[0], "to": pair[1]}
        if ports:
            flow["ports"] = ports
        out.append(flow)
    return out


@st.composite
def deny_pods(draw: st.DrawFn) -> list[dict[str, object]]:
    """default-deny-pods entries: a selector that picks some pods, a direction."""
    out = []
    for i in range(draw(st.integers(1, 2))):
        pods = draw(selector(empty=False))
        if pods == {"matchLabels": {}}:
            pods = {"tier": "web"}  # a selector of every pod is refused: default-deny says it
        entry: dict[str, object] = {"name": f"d{i}", "pods": pods}
        deny = draw(st.sampled_from([None, "all", "ingress", "egress"]))
        if deny:
            entry["deny"] = deny
        out.append(entry)
    return out


@st.composite
def namespace(draw: st.DrawFn, name: str) -> str:
    anns = {
        "netpol-gitops.io/mode": draw(st.sampled_from(["enforce", "audit", "off"])),
        "netpol-gitops.io/default-deny": draw(
            st.sampled_from(["all", "ingress", "egress", "none"])
        ),
        "netpol-gitops.io/allow-same-namespace": draw(st.sampled_from(["true", "false"])),
        "netpol-gitops.io/default-deny-pods": json.dumps(draw(deny_pods())),
        "netpol-gitops.io/allow-from-namespaces": draw(
            st.sampled_from(["", "ingress-nginx", "a,b", "monitoring/tier=web,shop,data/app=db"])
        ),
        "netpol-gitops.io/allow-egress-internet": draw(st.sampled_from(["", "443", "80,53/udp"])),
        "netpol-gitops.io/profiles": "istio",
        "netpol-gitops.io/flows": json.dumps(draw(flows())),
    }
    anns = {k: v for k, v in anns.items() if v and draw(st.booleans())}
    return json.dumps(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "annotations": anns}}
    )


@st.composite
def streams(draw: st.DrawFn) -> list[str]:
    names = draw(st.lists(NAMES, min_size=1, max_size=4, unique=True))
    return [draw(namespace(n)) for n in names]
