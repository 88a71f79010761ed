"""deny-breaks-existing works on classes and on the pairs hand-written policies select; it must
say exactly what a brute-force comparison of every pair says."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from netpol_gitops.analysis.changes import compared
from netpol_gitops.analysis.documents import topology
from netpol_gitops.analysis.reach import Analysis
from netpol_gitops.checks.brownfield import blocked_by_generated
from tests.unit.analysis.test_reach import POLICY, WORLD, _named, policy

DENIES = st.sampled_from([["Ingress"], ["Egress"], ["Ingress", "Egress"]])


def brute_force(objs: list[dict[str, Any]], generated: list[dict[str, Any]]) -> dict[str, int]:
    before = Analysis(topology(objs))
    after = Analysis(topology(objs).with_policies(generated))

    def isolated(a: Analysis, direction: str) -> set[str]:
        return {w.peer for c in a.classes if getattr(c, direction) is not None for w in c.members}

    in_b, out_b = isolated(before, "ingress"), isolated(before, "egress")
    new_in, new_out = isolated(after, "ingress") - in_b, isolated(after, "egress") - out_b
    counts: dict[str, int] = {}
    for c in compared(before, after):
        if c.lost and (c.dst in in_b or c.src in out_b):
            for peer in {p for p in (c.src,) if p in new_out} | {
                p for p in (c.dst,) if p in new_in
            }:
                ns = peer.split("/", 1)[0]
                counts[ns] = counts.get(ns, 0) + 1
    return counts


@given(st.lists(POLICY, min_size=1, max_size=4), DENIES, st.sampled_from(["a", "b"]))
def test_class_level_equals_every_pair(
    policies: list[dict[str, Any]], types: list[str], where: str
) -> None:
    objs = [*WORLD, *_named(policies)]
    generated = [policy(where, {"podSelector": {}, "policyTypes": types}, name="gen-deny")]
    found = blocked_by_generated(topology(objs), generated)
    assert {ns: n for ns, (n, _) in found.items()} == brute_force(objs, generated)
    for _ns, (n, examples) in found.items():
        assert 0 < len(examples) <= min(n, 5)
        assert all(c.lost for c in examples)
