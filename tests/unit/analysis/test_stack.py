"""The policy stack: Admin tier, NetworkPolicy, Baseline tier, default allow; ANP/BANP (v1alpha1)
and ClusterNetworkPolicy (v1alpha2) read into one model; the network-policy-api conformance."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netpol_gitops.adapters.inputs import read_manifests
from netpol_gitops.analysis.cluster import compile_cluster_policy
from netpol_gitops.analysis.documents import topology, topology_of
from netpol_gitops.analysis.objects import Malformed
from netpol_gitops.analysis.reach import Analysis, analyse
from netpol_gitops.model.portsets import Conns
from netpol_gitops.yaml.stream import read_documents
from tests.helpers import SHARED, require_shared
from tests.unit.analysis.pairwise import pair_by_pair
from tests.unit.analysis.test_reach import ns, pod, policy

V1 = "policy.networking.k8s.io/v1alpha1"
V2 = "policy.networking.k8s.io/v1alpha2"
WORLD = [
    ns("a", team="x"),
    ns("b", team="y"),
    ns("c", team="y"),
    pod("a", "web", [{"name": "http", "containerPort": 8080}], app="web"),
    pod("b", "client", app="client"),
    pod("c", "other", app="other"),
]


def cnp(
    name: str, tier: str, priority: int, subject: dict[str, Any], **rules: Any
) -> dict[str, Any]:
    spec = {"tier": tier, "priority": priority, "subject": subject, **rules}
    return {
        "apiVersion": V2,
        "kind": "ClusterNetworkPolicy",
        "metadata": {"name": name},
        "spec": spec,
    }


def anp(name: str, priority: int, subject: dict[str, Any], **rules: Any) -> dict[str, Any]:
    spec = {"priority": priority, "subject": subject, **rules}
    return {
        "apiVersion": V1,
        "kind": "AdminNetworkPolicy",
        "metadata": {"name": name},
        "spec": spec,
    }


def banp(subject: dict[str, Any], **rules: Any) -> dict[str, Any]:
    spec = {"subject": subject, **rules}
    return {
        "apiVersion": V1,
        "kind": "BaselineAdminNetworkPolicy",
        "metadata": {"name": "default"},
        "spec": spec,
    }


def in_ns(name: str) -> dict[str, Any]:
    return {"namespaces": {"matchLabels": {"kubernetes.io/metadata.name": name}}}


def pairs(objs: list[dict[str, Any]]) -> dict[tuple[str, str], str]:
    return {
        (c.src.split("[")[0], c.dst.split("[")[0]): c.conns.text()
        for c in analyse(topology(objs))
        if "[External]" not in c.line()
    }


def test_admin_deny_overrides_a_networkpolicy_allow_and_accept_overrides_its_deny() -> None:
    allow_b = policy("a", {"podSelector": {}, "ingress": [{"from": [{"namespaceSelector": {}}]}]})
    deny = cnp("d", "Admin", 5, in_ns("a"), ingress=[{"action": "Deny", "from": [in_ns("b")]}])
    got = pairs([*WORLD, allow_b, deny])
    assert ("b/client", "a/web") not in got
    assert got[("c/other", "a/web")] == "All Connections"
    deny_all = policy("a", {"podSelector": {}, "policyTypes": ["Ingress"]}, "deny")
    accept = cnp("k", "Admin", 5, in_ns("a"), ingress=[{"action": "Accept", "from": [in_ns("b")]}])
    got = pairs([*WORLD, deny_all, accept])
    assert got[("b/client", "a/web")] == "All Connections"
    assert ("c/other", "a/web") not in got


def test_priority_orders_policies_and_the_first_matching_rule_decides() -> None:
    sub = in_ns("a")
    deny = anp("deny", 20, sub, ingress=[{"action": "Deny", "from": [in_ns("b")]}])
    allow = anp("allow", 10, sub, ingress=[{"action": "Allow", "from": [in_ns("b")]}])
    assert ("b/client", "a/web") in pairs([*WORLD, deny, allow])
    first = anp(
        "both",
        1,
        sub,
        ingress=[
            {"action": "Deny", "from": [in_ns("b")], "ports": [{"portNumber": {"port": 80}}]},
            {"action": "Allow", "from": [in_ns("b")]},
        ],
    )
    deny_all = policy("a", {"podSelector": {}, "policyTypes": ["Ingress"]}, "deny")
    got = pairs([*WORLD, first, deny_all])
    assert got[("b/client", "a/web")] == "SCTP 1-65535,TCP 1-79,81-65535,UDP 1-65535"


def test_pass_hands_to_networkpolicy_then_baseline_then_default_allow() -> None:
    sub = in_ns("a")
    passing = cnp("p", "Admin", 1, sub, ingress=[{"action": "Pass", "from": [in_ns("b")]}])
    later_deny = cnp("d", "Admin", 2, sub, ingress=[{"action": "Deny", "from": [in_ns("b")]}])
    base_deny = cnp("b", "Baseline", 1, sub, ingress=[{"action": "Deny", "from": [in_ns("b")]}])
    # no NetworkPolicy: Pass skips the later Admin deny, the Baseline decides
    assert ("b/client", "a/web") not in pairs([*WORLD, passing, later_deny, base_deny])
    assert ("b/client", "a/web") in pairs([*WORLD, passing, later_deny])
    # a NetworkPolicy isolating the pod decides what is passed; the Baseline is not reached
    np = policy("a", {"podSelector": {}, "ingress": [{"from": [{"namespaceSelector": {}}]}]})
    assert ("b/client", "a/web") in pairs([*WORLD, passing, later_deny, base_deny, np])


def test_baseline_decides_only_directions_networkpolicy_leaves_unisolated() -> None:
    base = banp(
        {"namespaces": {}},
        ingress=[{"action": "Deny", "from": [{"namespaces": {}}]}],
    )
    got = pairs([*WORLD, base])
    assert got == {}  # every pod-to-pod ingress is denied
    allow = policy("a", {"podSelector": {}, "ingress": [{"from": [{"namespaceSelector": {}}]}]})
    got = pairs([*WORLD, base, allow])
    assert set(got) == {("b/client", "a/web"), ("c/other", "a/web")}


def test_v1alpha2_protocols_and_named_ports_resolve_on_the_destination() -> None:
    sub = in_ns("b")
    rules = [
        {
            "action": "Accept",
            "to": [in_ns("a")],
            "protocols": [
                {"destinationNamedPort": "http"},
                {"udp": {"destinationPort": {"range": {"start": 5000, "end": 5010}}}},
                {"sctp": {}},
            ],
        },
        {"action": "Deny", "to": [{"namespaces": {}}]},
    ]
    got = pairs([*WORLD, cnp("e", "Admin", 3, sub, egress=rules)])
    assert got[("b/client", "a/web")] == "SCTP 1-65535,TCP 8080,UDP 5000-5010"
    assert ("b/client", "c/other") not in got


def test_pods_subject_and_pods_peer() -> None:
    subject = {"pods": {"namespaceSelector": {}, "podSelector": {"matchLabels": {"app": "web"}}}}
    peer = {"pods": {"namespaceSelector": {"matchLabels": {"team": "y"}}, "podSelector": {}}}
    deny = anp("p", 1, subject, egress=[{"action": "Deny", "to": [peer]}])
    got = pairs([*WORLD, deny])
    assert ("a/web", "b/client") not in got and ("a/web", "c/other") not in got
    assert ("b/client", "c/other") in got


def test_networks_peers_are_external_unless_they_cover_every_address() -> None:
    narrow = anp(
        "n",
        1,
        in_ns("b"),
        egress=[{"action": "Deny", "to": [{"networks": ["0.0.0.0/0", "10.0.0.0/8"]}]}],
    )
    got = {c.line() for c in analyse(topology([*WORLD, narrow]))}
    assert "b/client[Pod] => a/web[Pod] : All Connections" in got
    assert not any(x.startswith("b/client[Pod] => 0.0.0.0") for x in got)
    whole = anp(
        "w", 1, in_ns("b"), egress=[{"action": "Deny", "to": [{"networks": ["0.0.0.0/0", "::/0"]}]}]
    )
    got = {c.line() for c in analyse(topology([*WORLD, whole]))}
    assert not any(x.startswith("b/client[Pod]") for x in got)


def test_networks_cut_the_egress_ip_space() -> None:
    deny = anp(
        "n", 1, in_ns("b"), egress=[{"action": "Deny", "to": [{"networks": ["10.0.0.0/8"]}]}]
    )
    analysis = Analysis(topology([*WORLD, deny]))
    assert 10 << 24 in analysis.cuts()[1] and (11 << 24) in analysis.cuts()[1]
    got = {c.line() for c in analysis.iter_connections()}
    assert "b/client[Pod] => 10.0.0.0-10.255.255.255[External] : All Connections" not in got
    assert "a/web[Pod] => 10.0.0.0-10.255.255.255[External] : All Connections" in got


UNDECIDABLE = """\
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata:
  name: n
spec:
  tier: Admin
  priority: 1
  subject:
    namespaces: {matchLabels: {kubernetes.io/metadata.name: b}}
  egress:
  - action: Deny
    to:
    - nodes: {}
    - namespaces: {matchLabels: {kubernetes.io/metadata.name: c}}
  - action: Deny
    to:
    - domainNames: [example.com]
"""


def test_nodes_and_domain_names_peers_warn_and_are_skipped() -> None:
    docs = read_documents([("stdin", UNDECIDABLE)])
    topo = topology_of(
        [*docs, *read_documents([("w", json.dumps({"kind": "List", "items": WORLD}))])]
    )
    assert [w.line() for w in topo.warnings] == [
        "stdin:13:7: warning: spec.egress[0].to[0]: ClusterNetworkPolicy n: a nodes peer cannot"
        " be decided from manifests; it is skipped (the rule matches through its other peers)",
        "stdin:17:7: warning: spec.egress[1].to[0]: ClusterNetworkPolicy n: a domainNames peer"
        " cannot be decided from manifests; it is skipped, and so is the rule (no other peer)",
    ]
    got = {(c.src, c.dst) for c in analyse(topo)}
    assert ("b/client[Pod]", "c/other[Pod]") not in got
    assert ("b/client[Pod]", "a/web[Pod]") in got


@pytest.mark.parametrize(
    ("obj", "field", "message"),
    [
        (cnp("x", "Platform", 1, {"namespaces": {}}), ["spec", "tier"], "expected Admin or"),
        (
            anp("x", 1, {"namespaces": {}}, ingress=[{"action": "Accept", "from": []}]),
            ["spec", "ingress", 0, "action"],
            "expected one of Allow, Deny, Pass; got 'Accept'",
        ),
        (
            banp({"namespaces": {}}, egress=[{"action": "Pass", "to": []}]),
            ["spec", "egress", 0, "action"],
            "expected one of Allow, Deny; got 'Pass'",
        ),
        (anp("x", 1001, {"namespaces": {}}), ["spec", "priority"], "expected a number 0-1000"),
        (
            cnp(
                "x",
                "Admin",
                1,
                {"namespaces": {}},
                egress=[
                    {
                        "action": "Deny",
                        "to": [],
                        "protocols": [{"tcp": {"destinationPort": {"number": 0}}}],
                    }
                ],
            ),
            ["spec", "egress", 0, "protocols", 0, "tcp", "destinationPort", "number"],
            "expected a port number 1-65535; got 0",
        ),
    ],
)
def test_malformed_cluster_policies_are_located(
    obj: dict[str, Any], field: list[Any], message: str
) -> None:
    with pytest.raises(Malformed) as exc:
        compile_cluster_policy(obj)
    assert exc.value.path == field and str(exc.value).startswith(message)


def _probe_cases() -> list[str]:
    root = SHARED / "conformance" / "network-policy-api"
    if not root.exists():
        return ["shared-absent"]
    return sorted(p.name for p in root.iterdir() if (p / "probes.json").exists())


def _admits(conns: Conns, protocol: str, port: int) -> bool:
    ranges = dict(zip(("SCTP", "TCP", "UDP"), conns.ports, strict=True))[protocol]
    return any(lo <= port <= hi for lo, hi in ranges)


@pytest.mark.parametrize("case", _probe_cases())
def test_network_policy_api_conformance(case: str) -> None:
    root: Path = require_shared("conformance", "network-policy-api", case)
    topo = topology_of(read_manifests(str(root / "input")))
    assert topo.cluster_policies, "the case's policies were read"
    found = {(c.src, c.dst): c.conns for c in analyse(topo) if "[External]" not in c.line()}
    probes = json.loads((root / "probes.json").read_text())
    assert probes
    wrong = [
        p
        for p in probes
        if _admits(
            found.get((f"{p['from']}[StatefulSet]", f"{p['to']}[StatefulSet]"), Conns()),
            p["protocol"],
            p["port"],
        )
        is not p["allowed"]
    ]
    assert wrong == []


# ------------------------------------------------------------------ a brute-force oracle
SELECTORS = st.sampled_from(
    [
        {"namespaces": {}},
        {"namespaces": {"matchLabels": {"team": "y"}}},
        in_ns("a"),
        {"pods": {"namespaceSelector": {}, "podSelector": {"matchLabels": {"app": "web"}}}},
        {"networks": ["10.0.0.0/8"]},
        {"networks": ["0.0.0.0/0", "::/0"]},
    ]
)
PROTOCOLS = st.sampled_from(
    [
        [{"tcp": {"destinationPort": {"number": 80}}}],
        [{"destinationNamedPort": "http"}],
        [{"udp": {}}, {"tcp": {"destinationPort": {"range": {"start": 80, "end": 9000}}}}],
    ]
)
TIER_RULE = st.builds(
    lambda action, peers, protocols: {
        "action": action,
        "peers": peers,
        **({"protocols": protocols} if protocols else {}),
    },
    st.sampled_from(["Accept", "Deny", "Pass"]),
    st.lists(SELECTORS, min_size=1, max_size=2),
    st.one_of(st.none(), PROTOCOLS),
)


def _cnp(i: int, tier: str, subject: dict[str, Any], ing: list[Any], eg: list[Any]) -> Any:
    def side(rules: list[Any], key: str) -> list[Any]:
        out = []
        for r in rules:
            peers = [p for p in r["peers"] if key == "to" or "networks" not in p]
            action = "Deny" if tier == "Baseline" and r["action"] == "Pass" else r["action"]
            rule = {"action": action, key: peers or [{"namespaces": {}}]}
            if "protocols" in r:
                rule["protocols"] = r["protocols"]
            out.append(rule)
        return out

    return cnp(f"p{i}", tier, i, subject, ingress=side(ing, "from"), egress=side(eg, "to"))


CLUSTER = st.lists(
    st.builds(
        lambda tier, subject, ing, eg: (tier, subject, ing, eg),
        st.sampled_from(["Admin", "Baseline"]),
        st.sampled_from(
            [{"namespaces": {}}, in_ns("a"), {"namespaces": {"matchLabels": {"team": "y"}}}]
        ),
        st.lists(TIER_RULE, max_size=3),
        st.lists(TIER_RULE, max_size=3),
    ),
    max_size=4,
)
NPS = st.lists(
    st.sampled_from(
        [
            policy("a", {"podSelector": {}, "policyTypes": ["Ingress"]}, "deny-in"),
            policy("b", {"podSelector": {}, "policyTypes": ["Egress"]}, "deny-out"),
            policy(
                "a",
                {
                    "podSelector": {},
                    "ingress": [{"from": [{"namespaceSelector": {}}], "ports": [{"port": 80}]}],
                },
                "allow-80",
            ),
            policy(
                "c",
                {
                    "podSelector": {},
                    "policyTypes": ["Egress"],
                    "egress": [{"to": [{"podSelector": {}, "namespaceSelector": {}}]}],
                },
                "out-all-pods",
            ),
        ]
    ),
    max_size=3,
    unique_by=lambda p: (p["metadata"]["namespace"], p["metadata"]["name"]),
)


@settings(max_examples=120, deadline=None)
@given(CLUSTER, NPS)
def test_the_analysis_agrees_with_a_pair_by_pair_oracle(cluster: list[Any], nps: list[Any]) -> None:
    world = [
        *WORLD,
        pod("a", "api", [{"name": "http", "containerPort": 80}], app="api"),
        pod("c", "web", app="web"),
    ]
    objs = [*world, *nps, *(_cnp(i, *c) for i, c in enumerate(cluster))]
    topo = topology(objs)
    got = {(c.src, c.dst): c.conns for c in analyse(topo) if "[External]" not in c.line()}
    assert got == pair_by_pair(topo)
