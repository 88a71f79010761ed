"""The PR diff compares connection streams by a merge (neither side held whole): it must equal
the set difference, and reach must emit connections in the order the merge relies on."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netpol_gitops.adapters.pipeline import rendered
from netpol_gitops.analysis.changes import changed
from netpol_gitops.analysis.documents import topology_of
from netpol_gitops.analysis.reach import iter_analyse
from netpol_gitops.model.connection import Connection
from netpol_gitops.model.portsets import ALL, Conns
from tests.helpers import EXAMPLE

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
def test_the_merge_equals_the_set_difference(
    base: dict[tuple[str, str], Conns], head: dict[tuple[str, str], Conns]
) -> None:
    old, new = stream(base), stream(head)
    added, removed = changed(iter(old), iter(new))
    assert sorted(added, key=Connection.line) == sorted(set(new) - set(old), key=Connection.line)
    assert sorted(removed, key=Connection.line) == sorted(set(old) - set(new), key=Connection.line)


def test_lines_out_of_order_are_a_bug_not_a_wrong_answer() -> None:
    with pytest.raises(ValueError, match="out of order"):
        changed([Connection("b/x", "a/y", ALL), Connection("a/x", "a/y", ALL)], [])


def test_reach_emits_lines_in_strict_source_destination_order() -> None:
    result = rendered(str(EXAMPLE), None)
    keys = [(c.src, c.dst) for c in iter_analyse(topology_of(result.documents, result.generated))]
    assert len(keys) > 10
    assert all(a < b for a, b in itertools.pairwise(keys))
