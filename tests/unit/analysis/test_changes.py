"""The PR diff compares connection streams per pair by a merge (neither side held whole), on a
common refinement of both sides' IP ranges, then merges the ranges back: nothing whose meaning
did not change is listed, and what is listed covers exactly what changed."""

from __future__ import annotations

import ipaddress
import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netpol_gitops.adapters.pipeline import rendered
from netpol_gitops.analysis.changes import changes, coalesce, compared, touched, with_info
from netpol_gitops.analysis.documents import topology, topology_of
from netpol_gitops.analysis.reach import MAX_IP, Analysis, iter_analyse
from netpol_gitops.model.connection import Change, Connection, ip_peer, ip_span
from netpol_gitops.model.portsets import ALL, NONE, Conns
from tests.helpers import EXAMPLE
from tests.unit.analysis.test_reach import POLICY as POLICY_ANY
from tests.unit.analysis.test_reach import ns, pod, policy

PEERS = st.sampled_from(["a/web", "a/api", "b/db", "b/x-1", "0.0.0.0/0", "10.0.0.0/8"])
CONNS = st.sampled_from(
    [
        ALL,
        Conns.of([("TCP", 80, 80)]),
        Conns.of([("TCP", 80, 80), ("TCP", 443, 443)]),
        Conns.of([("UDP", 53, 53)]),
    ]
)
LINES = st.dictionaries(st.tuples(PEERS, PEERS), CONNS)


def stream(pairs: dict[tuple[str, str], Conns]) -> list[Connection]:
    return [Connection(s, d, pairs[(s, d)]) for s, d in sorted(pairs)]


@given(LINES, LINES)
def test_the_merge_equals_the_per_pair_comparison(
    base: dict[tuple[str, str], Conns], head: dict[tuple[str, str], Conns]
) -> None:
    found = list(changes(stream(base), stream(head)))
    expected = {
        (s, d): (base.get((s, d), NONE), head.get((s, d), NONE))
        for s, d in set(base) | set(head)
        if base.get((s, d)) != head.get((s, d))
    }
    assert {(c.src, c.dst): (c.before, c.after) for c in found} == expected
    assert len(found) == len(expected)
    for c in found:  # the kinds and deltas say the same
        assert c.kind == ("added" if not c.before else "removed" if not c.after else "changed")
        assert c.gained | c.before == c.after | c.before and not c.gained & c.before
        assert c.lost | c.after == c.before | c.after and not c.lost & c.after


def test_a_widened_pair_is_one_change_with_its_delta() -> None:
    before = Conns.of([("TCP", 5432, 5432)])
    after = Conns.of([("TCP", 5432, 5432), ("TCP", 6379, 6379)])
    (c,) = changes([Connection("x/be", "x/db", before)], [Connection("x/be", "x/db", after)])
    assert c.kind == "changed" and c.gained == Conns.of([("TCP", 6379, 6379)]) and not c.lost
    assert c.line() == "~ x/be => x/db : TCP 5432 -> TCP 5432,6379"


def test_lines_out_of_order_are_a_bug_not_a_wrong_answer() -> None:
    with pytest.raises(ValueError, match="out of order"):
        list(changes([Connection("b/x", "a/y", ALL), Connection("a/x", "a/y", ALL)], []))


def test_reach_emits_lines_in_strict_source_destination_order() -> None:
    result = rendered(str(EXAMPLE), None)
    keys = [(c.src, c.dst) for c in iter_analyse(topology_of(result.documents, result.generated))]
    assert len(keys) > 10
    assert all(a < b for a, b in itertools.pairwise(keys))


# ------------------------------------------------------------- a common refinement of ranges
CIDRS = st.sampled_from(
    ["0.0.0.0/0", "10.0.0.0/8", "10.0.0.0/9", "10.128.0.0/9", "172.16.0.0/12", "8.8.8.8/32"]
)


def _holes_inside(block: dict[str, Any]) -> bool:
    cidr = ipaddress.IPv4Network(block["cidr"])
    return all(
        ipaddress.IPv4Network(h).subnet_of(cidr) and h != block["cidr"]
        for h in block.get("except", [])
    )


BLOCK: st.SearchStrategy[dict[str, Any]] = st.builds(
    lambda cidr, holes: {"cidr": cidr, "except": holes} if holes else {"cidr": cidr},
    CIDRS,
    st.lists(st.sampled_from(["10.0.0.0/8", "10.1.0.0/16", "192.168.0.0/16"]), max_size=2),
).filter(_holes_inside)
EGRESS = st.lists(
    st.fixed_dictionaries(
        {"to": st.lists(st.fixed_dictionaries({"ipBlock": BLOCK}), min_size=1, max_size=2)},
        optional={"ports": st.just([{"port": 443}])},
    ),
    max_size=2,
)


def world(egress: list[dict[str, Any]], extra: list[dict[str, Any]]) -> Analysis:
    objs = [
        ns("a"),
        ns("b"),
        pod("a", "web", app="web"),
        pod("b", "db", app="db"),
        policy("a", {"podSelector": {}, "policyTypes": ["Egress"], "egress": egress}),
        *extra,
    ]
    return Analysis(topology(objs))


def points(c: Change) -> set[tuple[str, str, int, Conns, Conns]]:
    """A change as the addresses it covers, sampled at every boundary used in these tests."""
    marks = {0, MAX_IP}
    for net in ["10.0.0.0/8", "10.0.0.0/9", "10.128.0.0/9", "172.16.0.0/12", "8.8.8.8/32",
                "10.1.0.0/16", "192.168.0.0/16"]:  # fmt: skip
        n = ipaddress.ip_network(net)
        marks |= {int(n.network_address) - 1, int(n.network_address), int(n.broadcast_address),
                  int(n.broadcast_address) + 1}  # fmt: skip
    out = set()
    for end, other, side in ((c.src, c.dst, "src"), (c.dst, c.src, "dst")):
        span = ip_span(end)
        if span:
            out |= {(side, other, m, c.before, c.after) for m in marks if span[0] <= m <= span[1]}
    return out


@given(EGRESS, EGRESS)
def test_ranges_compare_on_a_common_refinement_and_merge_back(
    base: list[dict[str, Any]], head: list[dict[str, Any]]
) -> None:
    old, new = world(base, []), world(head, [])
    raw = list(compared(old, new))
    merged = coalesce(raw)
    # merging back covers the same addresses with the same change, in fewer or as many rows
    assert set().union(*map(points, raw)) == set().union(*map(points, merged))
    assert len(merged) <= len(raw)

    # per address, the change is what the two analyses say on their own partitions
    def at(a: Analysis, address: int) -> Conns:
        for c in a.iter_connections():
            span = ip_span(c.dst)
            if c.src == "a/web[Pod]" and span and span[0] <= address <= span[1]:
                return c.conns
        return NONE

    for _, _, address, before, after in set().union(*map(points, merged)):
        assert (at(old, address), at(new, address)) == (before, after)


@given(EGRESS, st.lists(BLOCK, min_size=1, max_size=3))
def test_a_new_partition_alone_changes_nothing(
    egress: list[dict[str, Any]], blocks: list[dict[str, Any]]
) -> None:
    """A rule that an allow-all already covers cuts the IP space anew and allows nothing
    more: no change is reported (the bug was 'the same All Connections removed on 11 ranges
    and added on one')."""
    everywhere = [*egress, {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}]
    recut = [*everywhere, {"to": [{"ipBlock": b} for b in blocks], "ports": [{"port": 443}]}]
    old, new = world(everywhere, []), world(recut, [])
    assert list(compared(old, new)) == []


def test_coalesce_merges_only_what_is_alike_and_adjacent() -> None:
    tcp = Conns.of([("TCP", 443, 443)])
    found = [
        Change("a/web[Pod]", ip_peer(0, 99), NONE, ALL),
        Change("a/web[Pod]", ip_peer(100, 199), NONE, ALL),
        Change("a/web[Pod]", ip_peer(200, 299), NONE, tcp),  # another change: kept apart
        Change("a/web[Pod]", ip_peer(400, 499), NONE, ALL),  # not adjacent: kept apart
    ]
    assert [c.dst for c in coalesce(found)] == [
        ip_peer(0, 199),
        ip_peer(200, 299),
        ip_peer(400, 499),
    ]


def test_workloads_in_one_revision_are_said_so_as_np_guard_says_it() -> None:
    found = [
        Change("d/new[Pod]", "d/old[Pod]", NONE, ALL),
        Change("d/new[Pod]", "d/other[Pod]", NONE, ALL),
        Change("d/gone[Pod]", "d/x[Pod]", ALL, NONE),
    ]
    out = with_info(found, {"d/new[Pod]", "d/other[Pod]"}, {"d/gone[Pod]"})
    assert [c.info for c in out] == [
        "workload d/new[Pod] added",
        "workload d/new[Pod] and d/other[Pod] added",
        "workload d/gone[Pod] removed",
    ]


# ------------------------------------------------------ the cost of a review follows the change
EDITS = st.sampled_from(["policy", "namespace-labels", "pod-labels", "new-pod", "ip-block", "none"])


def _edited(
    policies: list[dict[str, Any]], edit: str, extra: dict[str, Any]
) -> list[dict[str, Any]]:
    from tests.unit.analysis.test_reach import WORLD, _named  # noqa: PLC0415

    world = [dict(o) for o in WORLD]
    objs = _named(policies)
    if edit == "policy":
        objs = _named([*policies, extra])
    elif edit == "namespace-labels":
        world[1] = ns("b", team="x")  # now selected where team=x is
    elif edit == "pod-labels":
        world[3] = pod("a", "p2", app="x")
    elif edit == "new-pod":
        world.append(pod("b", "p5", app="y"))
    elif edit == "ip-block":
        objs = _named(
            [
                *policies,
                policy(
                    "b",
                    {
                        "podSelector": {},
                        "policyTypes": ["Egress"],
                        "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/9"}}]}],
                    },
                ),
            ]
        )
    return [*world, *objs]


@settings(max_examples=300, deadline=None)
@given(st.lists(POLICY_ANY, min_size=1, max_size=3), EDITS, POLICY_ANY)
def test_comparing_only_touched_namespaces_equals_the_full_comparison(
    policies: list[dict[str, Any]], edit: str, extra: dict[str, Any]
) -> None:
    from tests.unit.analysis.test_reach import WORLD, _named  # noqa: PLC0415

    old = Analysis(topology([*WORLD, *_named(policies)]))
    new = Analysis(topology(_edited(policies, edit, extra)))
    only = touched(old, new)
    full = list(compared(old, new))
    assert list(compared(old, new, only)) == full
    assert all(c.namespaces & only for c in full)  # every changed pair has an end in one
