"""Conns is a set of (protocol, port): union, intersection and difference must be the set
operations, shortcuts (empty, full, the same object) included."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from netpol_gitops.model.portsets import ALL, NONE, PROTOCOLS, Conns

PORTS = st.integers(1, 12) | st.sampled_from([65534, 65535])
ITEM = st.tuples(st.sampled_from(PROTOCOLS), PORTS, PORTS).map(
    lambda t: (t[0], min(t[1], t[2]), max(t[1], t[2]))
)
CONNS = st.one_of(
    st.just(NONE), st.just(ALL), st.lists(ITEM, max_size=5).map(Conns.of)
)  # the shared constants, and built ones


def pairs(c: Conns) -> set[tuple[str, int]]:
    """Every (protocol, port) of ``c``, the full range folded to a few ports to stay small."""
    out = set()
    for proto, ranges in zip(PROTOCOLS, c.ports, strict=True):
        for lo, hi in ranges:
            out |= {(proto, p) for p in range(lo, hi + 1) if p <= 13 or p >= 65534}
    return out


@given(CONNS, CONNS)
def test_set_operations(a: Conns, b: Conns) -> None:
    assert pairs(a | b) == pairs(a) | pairs(b)
    assert pairs(a & b) == pairs(a) & pairs(b)
    assert pairs(a - b) == pairs(a) - pairs(b)
    assert pairs(a - a) == set() and pairs(a | a) == pairs(a)
    assert bool(a) == bool(pairs(a))
    # results stay canonical (sorted, merged ranges): equal sets are equal values
    for c in (a | b, a & b, a - b):
        for ranges in c.ports:
            assert all(lo <= hi for lo, hi in ranges)
            assert all(x[1] + 1 < y[0] for x, y in pairwise(ranges))
    assert (a | b) == (b | a) and (a & b) == (b & a)
