"""The PR diff compares connection streams by a merge (neither side held whole): it must equal
the set difference, and reach must emit lines in the order the merge relies on."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netpol_gitops.adapters.inputs import config_document, read_manifests
from netpol_gitops.analysis.changes import _pair, changed_lines
from netpol_gitops.analysis.documents import topology_of
from netpol_gitops.analysis.reach import iter_lines
from netpol_gitops.generate.config import parse_config
from netpol_gitops.generate.render import render
from tests.helpers import EXAMPLE

PEERS = st.sampled_from(["a/web", "a/api", "b/db", "b/x-1", "0.0.0.0/0", "10.0.0.0/8"])
CONNS = st.sampled_from(["All", "TCP 80", "TCP 80,443", "UDP 53"])
LINES = st.dictionaries(st.tuples(PEERS, PEERS), CONNS)


def stream(pairs: dict[tuple[str, str], str]) -> list[str]:
    return [f"{s} => {d} : {pairs[(s, d)]}" for s, d in sorted(pairs)]


@given(LINES, LINES)
def test_the_merge_equals_the_set_difference(
    base: dict[tuple[str, str], str], head: dict[tuple[str, str], str]
) -> None:
    old, new = stream(base), stream(head)
    added, removed = changed_lines(iter(old), iter(new))
    assert sorted(added) == sorted(set(new) - set(old))
    assert sorted(removed) == sorted(set(old) - set(new))


def test_lines_out_of_order_are_a_bug_not_a_wrong_answer() -> None:
    with pytest.raises(ValueError, match="out of order"):
        changed_lines(["b/x => a/y : All", "a/x => a/y : All"], [])


def test_reach_emits_lines_in_strict_source_destination_order() -> None:
    docs = read_manifests(str(EXAMPLE))
    result = render(docs, parse_config(config_document(None, str(EXAMPLE))))
    keys = [_pair(line[:-1]) for line in iter_lines(topology_of(docs, result.generated))]
    assert len(keys) > 10
    assert all(a < b for a, b in itertools.pairwise(keys))
