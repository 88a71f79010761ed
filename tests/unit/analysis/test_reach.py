"""Connectivity semantics, each rule on its own, plus the conformance corpus and properties."""

from __future__ import annotations

import csv
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netpol_gitops.adapters.inputs import read_manifests
from netpol_gitops.analysis.documents import topology, topology_of
from netpol_gitops.analysis.reach import Analysis, analyse, iter_analyse
from netpol_gitops.model.portsets import ALL, Conns
from netpol_gitops.output.connections import fanout_lines, span_lines, txt_lines
from tests.helpers import EXAMPLE, cli, require_shared


def ns(name: str, **labels: str) -> dict[str, Any]:
    return {"kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def pod(
    namespace: str, name: str, ports: list[dict[str, Any]] | None = None, **labels: str
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {"containers": [{"name": "c", "ports": ports or []}]},
    }


def policy(namespace: str, spec: dict[str, Any], name: str = "p") -> dict[str, Any]:
    return {
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def pods_only(objs: list[dict[str, Any]]) -> set[str]:
    return {c.line() for c in analyse(topology(objs)) if "[External]" not in c.line()}


def lines(objs: list[dict[str, Any]]) -> set[str]:
    return {c.line() for c in analyse(topology(objs))}


BASE = [
    ns("a", team="x"),
    ns("b", team="y"),
    pod("a", "web", app="web"),
    pod("a", "db", app="db"),
    pod("b", "client", app="client"),
]
DENY_ING = {"podSelector": {}, "policyTypes": ["Ingress"]}


def test_no_policies_means_everything_reaches_everything() -> None:
    got = pods_only(BASE)
    assert "a/web[Pod] => a/db[Pod] : All Connections" in got
    assert len(got) == 6  # 3 workloads, every ordered pair, no self lines


def test_empty_selector_selects_all_but_a_missing_from_admits_all() -> None:
    empty_from = policy("a", {"podSelector": {}, "ingress": [{"from": []}]})
    assert "b/client[Pod] => a/db[Pod] : All Connections" in pods_only([*BASE, empty_from])
    # an empty podSelector in a peer means every pod of the policy's own namespace only
    same_ns = policy("a", {"podSelector": {}, "ingress": [{"from": [{"podSelector": {}}]}]})
    got = pods_only([*BASE, same_ns])
    assert "a/web[Pod] => a/db[Pod] : All Connections" in got
    assert not any(line.startswith("b/client") for line in got)


def test_selectors_in_one_peer_are_anded_across_peers_ored() -> None:
    both = {
        "namespaceSelector": {"matchLabels": {"team": "y"}},
        "podSelector": {"matchLabels": {"app": "web"}},
    }
    anded = policy(
        "a", {"podSelector": {"matchLabels": {"app": "db"}}, "ingress": [{"from": [both]}]}
    )
    assert not [x for x in pods_only([*BASE, anded]) if x.endswith("a/db[Pod] : All Connections")]
    ored = policy(
        "a",
        {
            "podSelector": {"matchLabels": {"app": "db"}},
            "ingress": [
                {
                    "from": [
                        {"namespaceSelector": {"matchLabels": {"team": "y"}}},
                        {"podSelector": {"matchLabels": {"app": "web"}}},
                    ]
                }
            ],
        },
    )
    got = {x for x in pods_only([*BASE, ored]) if "=> a/db" in x}
    assert got == {
        "a/web[Pod] => a/db[Pod] : All Connections",
        "b/client[Pod] => a/db[Pod] : All Connections",
    }


def test_omitted_policy_types_imply_ingress_and_egress_only_with_egress_rules() -> None:
    ingress_only = policy("a", {"podSelector": {}})  # no rules: isolates ingress only
    got = pods_only([*BASE, ingress_only])
    assert not any("=> a/" in x for x in got)
    assert "a/web[Pod] => b/client[Pod] : All Connections" in got
    with_egress = policy("a", {"podSelector": {}, "egress": [{"to": [{"podSelector": {}}]}]})
    got = pods_only([*BASE, with_egress])
    assert "a/web[Pod] => b/client[Pod] : All Connections" not in got
    assert "b/client[Pod] => a/web[Pod] : All Connections" not in got  # ingress implied too


def test_ip_blocks_with_except_never_match_pods() -> None:
    p = policy(
        "a",
        {
            "podSelector": {},
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}]}],
        },
    )
    got = {x for x in lines([*BASE, p]) if "=> a/web" in x}
    assert got == {
        "10.0.0.0-10.0.255.255[External] => a/web[Pod] : All Connections",
        "10.2.0.0-10.255.255.255[External] => a/web[Pod] : All Connections",
    }


def test_named_ports_resolve_on_the_destination_with_protocol() -> None:
    dst = pod(
        "a",
        "dns",
        [
            {"name": "dns", "containerPort": 53, "protocol": "UDP"},
            {"name": "web", "containerPort": 8080},
        ],
        app="dns",
    )
    p = policy(
        "a",
        {
            "podSelector": {"matchLabels": {"app": "dns"}},
            "ingress": [
                {"ports": [{"port": "dns", "protocol": "UDP"}, {"port": "web"}, {"port": "dns"}]}
            ],
        },
    )
    got = {x for x in pods_only([*BASE, dst, p]) if x.startswith("b/client[Pod] => a/dns")}
    assert got == {"b/client[Pod] => a/dns[Pod] : TCP 8080,UDP 53"}  # dns/TCP resolves to nothing


def test_end_port_ranges_and_sctp() -> None:
    p = policy(
        "a",
        {
            "podSelector": {},
            "ingress": [
                {
                    "ports": [
                        {"port": 30000, "endPort": 32767},
                        {"protocol": "SCTP", "port": 3868},
                        {"protocol": "UDP"},
                    ]
                }
            ],
        },
    )
    got = {x for x in pods_only([*BASE, p]) if x.startswith("b/client[Pod] => a/web")}
    assert got == {"b/client[Pod] => a/web[Pod] : SCTP 3868,TCP 30000-32767,UDP 1-65535"}


def test_a_connection_needs_egress_and_ingress() -> None:
    egress = policy(
        "b",
        {
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [{"ports": [{"port": 80}, {"port": 443}]}],
        },
    )
    ingress = policy("a", {"podSelector": {}, "ingress": [{"ports": [{"port": 443}]}]}, "i")
    got = {x for x in pods_only([*BASE, egress, ingress]) if x.startswith("b/client[Pod] => a/")}
    assert got == {"b/client[Pod] => a/web[Pod] : TCP 443", "b/client[Pod] => a/db[Pod] : TCP 443"}


def test_policies_only_select_pods_of_their_own_namespace() -> None:
    deny_b = policy("b", {"podSelector": {"matchLabels": {"app": "web"}}, **DENY_ING})
    assert "b/client[Pod] => a/web[Pod] : All Connections" in pods_only([*BASE, deny_b])


def test_conns_render_canonically() -> None:
    assert Conns.of([("TCP", 1, 65535), ("UDP", 1, 65535), ("SCTP", 1, 65535)]) == ALL
    assert Conns.of([("TCP", 80, 80), ("TCP", 81, 90), ("UDP", 5, 5)]).text() == "TCP 80-90,UDP 5"


def test_three_tier_generate_allows_exactly_the_declared_flows_plus_dns() -> None:
    run = cli("reach", str(EXAMPLE), "--generate")
    assert run.code == 0, run.stderr
    mine = [x for x in run.stdout.splitlines() if "my-app/" in x]
    public = [
        "0.0.0.0-9.255.255.255",
        "100.128.0.0-169.253.255.255",
        "11.0.0.0-100.63.255.255",
        "169.255.0.0-172.15.255.255",
        "172.32.0.0-192.167.255.255",
        "192.169.0.0-255.255.255.255",
    ]
    dns = "kube-system/coredns[Deployment] : TCP 53,UDP 53"
    assert mine == sorted(
        [
            "ingress-nginx/ingress-nginx-controller[Deployment] => my-app/frontend[Deployment] : "
            "TCP 8080",
            *[f"my-app/backend[Deployment] => {ip}[External] : TCP 443" for ip in public],
            f"my-app/backend[Deployment] => {dns}",
            "my-app/backend[Deployment] => my-app/database[Deployment] : TCP 5432",
            f"my-app/database[Deployment] => {dns}",
            f"my-app/frontend[Deployment] => {dns}",
            "my-app/frontend[Deployment] => my-app/backend[Deployment] : TCP 8080",
        ],
        key=lambda x: tuple(x.split(" : ")[0].split(" => ")),
    )


def _conformance_cases() -> list[tuple[str, str]]:
    try:
        root = require_shared("conformance", "netpol-analyzer")
    except pytest.skip.Exception:
        return [("shared-absent", "core")]
    with (root / "INDEX.tsv").open() as f:
        # every group, AdminNetworkPolicy/BaselineAdminNetworkPolicy ones included (issue 20)
        return [(r["case"], r["group"]) for r in csv.DictReader(f, delimiter="\t")]


@pytest.mark.parametrize(("case", "group"), _conformance_cases())
def test_conformance(case: str, group: str) -> None:
    root = require_shared("conformance", "netpol-analyzer")
    expected = set((root / case / "expected.txt").read_text().splitlines())
    topo = topology_of(read_manifests(str(root / case / "input")))
    connections = analyse(topo)
    got = {c.line() for c in connections}
    assert sorted(expected - got) == [] and sorted(got - expected) == []
    streamed = list(txt_lines(iter_analyse(topo)))
    assert streamed == [c.line() + "\n" for c in connections]
    fast = "".join(fanout_lines(Analysis(topo).iter_fanouts()))
    assert fast == "".join(streamed)
    shared = "".join(span_lines(Analysis(topo).iter_spans()))  # the path of `reach` -o txt
    assert shared == fast


POD_LABELS = st.dictionaries(
    st.sampled_from(["app", "tier"]), st.sampled_from(["x", "y"]), max_size=2
)
PEER = st.one_of(
    st.fixed_dictionaries({"podSelector": st.fixed_dictionaries({"matchLabels": POD_LABELS})}),
    st.fixed_dictionaries(
        {
            "namespaceSelector": st.fixed_dictionaries(
                {
                    "matchLabels": st.dictionaries(
                        st.just("team"), st.sampled_from(["x", "y"]), max_size=1
                    )
                }
            )
        }
    ),
    st.just({"ipBlock": {"cidr": "10.0.0.0/8"}}),
)
RULE = st.fixed_dictionaries(
    {},
    optional={
        "from": st.lists(PEER, max_size=2),
        "to": st.lists(PEER, max_size=2),
        "ports": st.lists(
            st.fixed_dictionaries(
                {"port": st.sampled_from([80, 443, "web"])},
                optional={"protocol": st.sampled_from(["TCP", "UDP"])},
            ),
            max_size=2,
        ),
    },
)
POLICY = st.builds(
    lambda n, sel, types, ing, eg: policy(
        n,
        {
            "podSelector": {"matchLabels": sel},
            "policyTypes": types,
            "ingress": [{k: v for k, v in r.items() if k != "to"} for r in ing],
            "egress": [{k: v for k, v in r.items() if k != "from"} for r in eg],
        },
    ),
    st.sampled_from(["a", "b"]),
    POD_LABELS,
    st.sampled_from([["Ingress"], ["Egress"], ["Ingress", "Egress"]]),
    st.lists(RULE, max_size=2),
    st.lists(RULE, max_size=2),
)
WORLD = [
    ns("a", team="x"),
    ns("b", team="y"),
    pod("a", "p1", [{"name": "web", "containerPort": 8080}], app="x"),
    pod("a", "p2", app="y", tier="x"),
    pod("b", "p3", app="x"),
    pod("b", "p4"),
]


def _named(objs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**o, "metadata": {**o["metadata"], "name": f"p{i}"}} for i, o in enumerate(objs)]


@settings(max_examples=80, deadline=None)
@given(st.lists(POLICY, max_size=4), POLICY, st.randoms())
def test_properties_monotone_and_order_independent(
    policies: list[dict[str, Any]], extra: dict[str, Any], rnd: random.Random
) -> None:
    base = [*WORLD, *_named(policies)]
    before = lines(base)
    # an allow-all policy for what `extra` selects never removes a connection
    allow = {
        **extra,
        "metadata": {"name": "zz", "namespace": extra["metadata"]["namespace"]},
        "spec": {**extra["spec"], "ingress": [{}], "egress": [{}]},
    }
    grown = {(c.src, c.dst): c.conns for c in analyse(topology([*base, allow]))}
    for c in analyse(topology(base)):
        assert (grown.get((c.src, c.dst), Conns()) & c.conns) == c.conns, c.line()
    shuffled = base[:]
    rnd.shuffle(shuffled)
    assert lines(shuffled) == before


def test_deny_all_both_ways_without_allows_gives_no_connection() -> None:
    deny = [
        policy(n, {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}, "d")
        for n in ("a", "b")
    ]
    assert lines([*WORLD, *deny]) == set()


def test_with_policies_shares_no_container_with_the_original() -> None:
    namespace = {"kind": "Namespace", "metadata": {"name": "a", "labels": {"team": "x"}}}
    meta: dict[str, Any] = {"name": "p", "namespace": "a", "labels": {"app": "p"}}
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": meta}
    deny = {
        "kind": "NetworkPolicy",
        "metadata": {"name": "deny", "namespace": "a"},
        "spec": {"podSelector": {}},
    }
    topo = topology([namespace, pod])
    before = (list(topo.workloads), dict(topo.namespaces["a"]), list(topo.policies))
    grown = topo.with_policies([deny])
    assert len(grown.policies) == 1 and topo.policies == []
    grown.add({**pod, "metadata": {**meta, "name": "q"}})
    grown.namespaces["a"]["team"] = "y"
    grown.policies.clear()
    assert (topo.workloads, topo.namespaces["a"], topo.policies) == before
    # the original still adds what the copy has seen: their records of seen workloads differ
    topo.add({**pod, "metadata": {**meta, "name": "q"}})
    assert [w.name for w in topo.workloads] == ["p", "q"]
