"""Hypothesis strategies the property tests share: Namespace streams with every annotation."""

from __future__ import annotations

import json

from hypothesis import strategies as st

NAMES = st.sampled_from(["shop", "billing", "web-1", "data", "ingress-nginx", "monitoring"])
LABEL = st.sampled_from(["tier", "app", "app.kubernetes.io/name"])
VALUE = st.sampled_from(["web", "api", "db", "cache"])
PODS = st.dictionaries(LABEL, VALUE, max_size=2)
PORT = st.sampled_from(["80", "443/tcp", "53/udp", "30000-32767/tcp", "http", "3868/sctp"])
LOCAL = st.fixed_dictionaries({"pods": PODS})
REMOTE = st.one_of(
    LOCAL,
    st.fixed_dictionaries({"namespace": NAMES}, optional={"pods": PODS}),
    st.fixed_dictionaries(
        {"namespaces": st.dictionaries(st.just("team"), VALUE, max_size=1)}, optional={"pods": PODS}
    ),
    st.fixed_dictionaries(
        {"cidr": st.just("10.1.0.0/16")}, optional={"except": st.just(["10.1.2.0/24"])}
    ),
    st.just({"internet": True}),
    st.just({"anywhere": True}),
)


@st.composite
def flows(draw: st.DrawFn) -> list[dict[str, object]]:
    out = []
    for i in range(draw(st.integers(0, 3))):
        remote = draw(REMOTE)
        ports = draw(st.lists(PORT, max_size=2, unique=True))
        if "cidr" in remote or "internet" in remote or "anywhere" in remote:
            ports = [p for p in ports if p != "http"]
        pair = [draw(LOCAL), remote] if draw(st.booleans()) else [remote, draw(LOCAL)]
        flow: dict[str, object] = {"name": f"f{i}", "from": pair[0], "to": pair[1]}
        if ports:
            flow["ports"] = ports
        out.append(flow)
    return out


@st.composite
def namespace(draw: st.DrawFn, name: str) -> str:
    anns = {
        "netpol-gitops.io/mode": draw(st.sampled_from(["enforce", "audit", "off"])),
        "netpol-gitops.io/default-deny": draw(
            st.sampled_from(["all", "ingress", "egress", "none"])
        ),
        "netpol-gitops.io/allow-same-namespace": draw(st.sampled_from(["true", "false"])),
        "netpol-gitops.io/allow-from-namespaces": draw(
            st.sampled_from(["", "ingress-nginx", "a,b"])
        ),
        "netpol-gitops.io/allow-egress-internet": draw(st.sampled_from(["", "443", "80,53/udp"])),
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
