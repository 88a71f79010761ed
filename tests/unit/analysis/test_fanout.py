"""reach's fanout as runs of shared blocks (analysis/fanout.py) says exactly what the
straightforward fanout says: every destination of every class row expanded member by member,
the IP ranges added, and the whole sorted per source; and what a pair-by-pair oracle says."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from netpol_gitops.analysis.documents import topology
from netpol_gitops.analysis.fanout import Block, spans
from netpol_gitops.analysis.reach import Analysis
from netpol_gitops.model.connection import Fanout
from netpol_gitops.model.portsets import ALL, Conns
from netpol_gitops.output.connections import fanout_lines, span_lines, txt_lines
from tests.unit.analysis.pairwise import pair_by_pair
from tests.unit.analysis.test_reach import POLICY, _named, ns, pod, policy
from tests.unit.analysis.test_stack import CLUSTER, _cnp

WEB = [{"name": "web", "containerPort": 8080}]
# classes of one and of several members (twins share namespace, labels and ports)
WORLD = [
    ns("a", team="x"),
    ns("b", team="y"),
    pod("a", "p1", WEB, app="x"),
    pod("a", "p1-twin", WEB, app="x"),
    pod("a", "p2", app="y", tier="x"),
    pod("b", "p3", app="x"),
    pod("b", "p3-twin", app="x"),
    pod("b", "p3-triplet", app="x"),
    pod("b", "p4"),
    pod("b", "p5", [{"name": "web", "containerPort": 80}], app="y"),
]
# an Admin tier that admits everyone, and a NetworkPolicy that names its own class: a source's
# own class is in its base row and changed by its policies
ACCEPT_ALL: tuple[Any, ...] = (
    "Admin",
    {"namespaces": {}},
    [{"action": "Accept", "peers": [{"namespaces": {}}]}],
    [],
)
SAME_CLASS = policy(
    "b",
    {
        "podSelector": {"matchLabels": {"app": "x"}},
        "policyTypes": ["Ingress"],
        "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "x"}}}]}],
    },
)
ONLY = st.one_of(st.none(), st.frozensets(st.sampled_from(["a", "b", "c"])))


def straightforward(analysis: Analysis, only: frozenset[str] | None = None) -> list[Fanout]:
    """Every source's row made whole, each destination class expanded member by member (not
    the source itself), its IP ranges added, and the lot sorted: what reach did before
    fanouts shared blocks."""
    open_in, into = analysis._ingress_index()
    keep = None
    open_kept = open_in
    if only is not None:
        keep = frozenset(i for n in only for i in analysis.by_ns.get(n, ()))
        open_kept = {p: [(d, c) for d, c in m if d in keep] for p, m in open_in.items()}
    ext_in, ext_out = analysis._external(analysis.cuts(), keep)
    classes = analysis.classes
    by_src: dict[str, list[int]] = {ip: [] for ip in ext_in}
    for i, cls in enumerate(classes):
        for w in cls.members:
            by_src[w.peer] = [i]
    out = []
    for src in sorted(by_src):
        found: list[tuple[str, Conns]] = []
        for i in by_src[src]:
            if keep is None or i in keep:
                row = analysis._class_row(i, open_in, into)
            else:
                row = analysis._class_row(i, open_kept, into, keep)
            for d, conns in row.items():
                found += [(w.peer, conns) for w in classes[d].members if w.peer != src]
            found += ext_out.get(i, ())
        found += [(w.peer, c) for i, c in ext_in.get(src, ()) for w in classes[i].members]
        if found or keep is None:
            out.append(Fanout(src, sorted(found)))
    return out


@settings(max_examples=200, deadline=None)
@given(st.lists(POLICY, max_size=5), st.one_of(st.just([]), CLUSTER), ONLY)
@example([SAME_CLASS], [ACCEPT_ALL], frozenset({"b"}))
def test_the_shared_block_fanout_equals_the_straightforward_one(
    policies: list[dict[str, Any]], cluster: list[Any], only: frozenset[str] | None
) -> None:
    topo = topology([*WORLD, *_named(policies), *(_cnp(i, *c) for i, c in enumerate(cluster))])
    analysis = Analysis(topo)
    fanouts = list(analysis.iter_fanouts())
    assert fanouts == straightforward(analysis)
    pairs = {(f.src, d): c for f in fanouts for d, c in f.dsts if "[External]" not in d + f.src}
    assert pairs == pair_by_pair(topo)
    # the records reach writes from, and what it writes
    found = list(analysis.iter_spans())
    assert [(s.src, s.pairs()) for s in found] == [tuple(f) for f in fanouts]
    assert [s.size() for s in found] == [len(f.dsts) for f in fanouts]
    text = "".join(span_lines(found))
    assert text == "".join(fanout_lines(fanouts))
    assert text == "".join(txt_lines(analysis.iter_connections()))
    # with ``only`` (the PR diff): the same fanouts as the straightforward ones
    assert list(analysis.iter_fanouts(only=only)) == straightforward(analysis, only)


NAMES = st.lists(st.text("abc/[]", min_size=1, max_size=4), unique=True, max_size=12)
CONNS = st.sampled_from([ALL, Conns.of([("TCP", 80, 80)]), Conns.of([("UDP", 53, 53)])])


@settings(max_examples=300, deadline=None)
@given(NAMES, NAMES, st.randoms(use_true_random=False), CONNS)
def test_spans_are_the_block_without_what_is_dropped_with_what_is_added(
    held: list[str], others: list[str], rnd: Any, conns: Conns
) -> None:
    block = Block((n, ALL) for n in held)
    dropped = rnd.sample(held, rnd.randint(0, len(held)))
    # added: destinations the block lacks, or dropped ones with other connections
    fresh = [n for n in others if n not in block.at]
    added = [(n, conns) for n in [*fresh, *rnd.sample(dropped, rnd.randint(0, len(dropped)))]]
    rnd.shuffle(added)
    found = spans("src", block, dropped, added)
    expected = sorted([*((n, ALL) for n in held if n not in dropped), *added])
    assert found.pairs() == expected
    assert found.size() == len(expected)
    assert all(hi > lo or own for lo, hi, own in found.pieces)  # no empty piece
    # the runs are the block's, in order, and never overlap
    ends = list(itertools.chain.from_iterable((lo, hi) for lo, hi, _ in found.pieces))
    assert ends == sorted(ends) and all(0 <= e <= len(block) for e in ends)
