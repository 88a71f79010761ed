"""Who can reach whom under Kubernetes NetworkPolicy semantics and the cluster policy tiers
around it (AdminNetworkPolicy / ClusterNetworkPolicy Admin, then NetworkPolicy, then
BaselineAdminNetworkPolicy / ClusterNetworkPolicy Baseline, then allow: see stack.py). Pure.

Work is done on classes of workloads with equal namespace, labels and named ports (they are
indistinguishable to every policy), so rules are matched once per class, not once per pod pair.
A connection needs the source's egress AND the destination's ingress; a pod is isolated for a
direction iff a policy of its own namespace selects it for that direction.

Each direction of a class decides its peers in two parts: ``explicit``, the peer classes some
rule selects by name or label (what the rules select, never every pair), and a ``default`` for
every other peer, decided by the rules that match every pod (``namespaces: {}``, a peer-less
NetworkPolicy rule) alone. A connection is the source's egress decision for the destination
AND the destination's ingress decision for the source. A source's fanout is made as runs of a
sorted block that the sources alike share and the pairs its own policies change (fanout.py):
never pair by pair.

A DNS name that a CiliumNetworkPolicy allows (``toFQDNs``, flavor cilium) is an external peer
of its own, ``name[FQDN]``, never an IP range (its addresses are not in the manifests): every
name some rule names is a destination, which a class's egress admits when it is not isolated, or
through a rule that names it (or a pattern that matches it), a rule without peers, or an IP
block of all of IPv4; a narrower IP block or cluster-tier network never decides a name.
"""

from __future__ import annotations

import functools
import itertools
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from netpol_gitops.analysis.cluster import ADMIN, BASELINE, TierRule, ordered
from netpol_gitops.analysis.fanout import EMPTY, Block, Blocks, Spans, changes, spans
from netpol_gitops.analysis.model import Peer, Policy, Rule, Selector, Workload
from netpol_gitops.analysis.stack import NO_TIERS, Tiers, covers, decide, tiers_of
from netpol_gitops.analysis.topology import Topology
from netpol_gitops.model import fqdn
from netpol_gitops.model.connection import Connection, Fanout, fqdn_peer, ip_peer
from netpol_gitops.model.portsets import ALL, NONE, Conns

MAX_IP = 2**32 - 1
ClassKey = tuple[str, tuple[tuple[str, str], ...], tuple[tuple[str, int, str], ...]]
Rules = list[tuple[str, Rule]]  # (the policy's namespace, one of its rules)
# where the IPv4 space is cut into ranges: (for ingress sources, for egress destinations), and the
# DNS names that are egress destinations; the union of two analyses' cuts is a common
# refinement, on which their external peers compare
Cuts = tuple[frozenset[int], frozenset[int], frozenset[str]]
Ports = tuple[tuple[str, int, str], ...]  # a class's named container ports
ROW_CACHE = 256  # rows kept for reuse by classes alike (see _class_delta)
BLOCK_CACHE = 16  # sorted base rows kept by iter_spans (each the size of a row)
Admitted = dict[int, dict[int, Conns]]  # src class -> dst class -> what dst's ingress admits
_NO_ROW: dict[int, Conns] = {}  # the base of a row made whole by its own peers (never changed)


@dataclass(frozen=True, slots=True)
class WorkloadClass:
    """Workloads no policy can tell apart (same namespace, labels and named ports), with the
    rules that select them; ``None`` for a direction in which they are not isolated."""

    namespace: str
    labels: tuple[tuple[str, str], ...]
    ports: tuple[tuple[str, int, str], ...]
    members: list[Workload]  # sorted by peer name
    ingress: Rules | None
    egress: Rules | None


def boundaries(blocks: list[tuple[tuple[int, int], ...]]) -> frozenset[int]:
    """Every first address of a range and first after it, of every block, and the space's."""
    points = {0, MAX_IP + 1}
    for block in blocks:
        for lo, hi in block:
            points.update((lo, hi + 1))
    return frozenset(points)


def cut(points: frozenset[int]) -> list[tuple[int, int]]:
    """The IPv4 space cut at ``points`` (boundaries)."""
    edges = sorted(points | {0, MAX_IP + 1})
    return [(a, b - 1) for a, b in itertools.pairwise(edges)]


def _blocks(per_class: Iterable[Rules | None]) -> list[tuple[tuple[int, int], ...]]:
    """The ipBlocks of every rule (of one direction) of every class."""
    return [
        p.block
        for rules in per_class
        if rules
        for _, r in rules
        for p in r.peers or ()
        if p.block is not None
    ]


def _in_block(peer: Peer, lo: int, hi: int) -> bool:
    return peer.block is not None and any(a <= lo and hi <= b for a, b in peer.block)


def _names(per_class: Iterable[Rules | None]) -> frozenset[str]:
    """The DNS names (and patterns) of every rule (of one direction) of every class."""
    return frozenset(
        p.fqdn for rules in per_class if rules for _, r in rules for p in r.peers or () if p.fqdn
    )


def _admits_name(peer: Peer, name: str) -> bool:
    """Whether a NetworkPolicy or CiliumNetworkPolicy peer admits the DNS name ``name``."""
    if peer.fqdn is not None:
        return fqdn.matches(peer.fqdn, name)
    return _in_block(peer, 0, MAX_IP)


class Analysis:
    def __init__(self, topo: Topology) -> None:
        self.topo = topo
        groups: dict[ClassKey, list[Workload]] = defaultdict(list)
        for w in topo.workloads:
            groups[(w.namespace, w.labels, w.ports)].append(w)
        policies: dict[str, list[Policy]] = defaultdict(list)
        for p in topo.policies:
            policies[p.namespace].append(p)
        tiered = [*ordered(topo.cluster_policies, ADMIN), *ordered(topo.cluster_policies, BASELINE)]
        self.classes: list[WorkloadClass] = []
        self.by_ns: dict[str, list[int]] = defaultdict(list)
        # the cluster-policy rules of each class: (ingress, egress), NO_TIERS for most
        self._tiers: list[tuple[Tiers, Tiers]] = []
        interned: dict[tuple[int, ...], tuple[Tiers, Tiers]] = {}  # equal tiers, one object
        for i, key in enumerate(sorted(groups)):
            ns, labels, ports = key
            lab = dict(labels)
            selecting = [p for p in policies.get(ns, ()) if p.selector.matches(lab)]
            ing = [p for p in selecting if p.ingress is not None]
            eg = [p for p in selecting if p.egress is not None]
            self.classes.append(
                WorkloadClass(
                    ns,
                    labels,
                    ports,
                    sorted(groups[key], key=lambda w: w.peer),
                    [(p.namespace, r) for p in ing for r in p.ingress or ()] if ing else None,
                    [(p.namespace, r) for p in eg for r in p.egress or ()] if eg else None,
                )
            )
            self._tiers.append(
                tiers_of(tiered, topo.namespace_labels(ns), lab, interned)
                if tiered
                else (NO_TIERS, NO_TIERS)
            )
            self.by_ns[ns].append(i)
        self._matched: dict[tuple[str, Peer], frozenset[int]] = {}
        self._index: tuple[dict[Ports, list[tuple[int, Conns]]], Admitted] | None = None
        self._sigs: dict[int, dict[int, int]] = {}  # id(Tiers) -> peer class -> rule bits
        self._decisions: dict[tuple[int, int, Conns | None, Ports], Conns] = {}
        self._rows: dict[tuple[int, bool, tuple[int, ...]], dict[int, Conns]] = {}
        # the row of an open-egress source under NetworkPolicy alone, but for what names it
        self._open_row: tuple[dict[Ports, list[tuple[int, Conns]]], dict[int, Conns]] | None = None
        # namespaces with workloads, indexed by label: a matchLabels selector intersects sets
        self._by_label: dict[tuple[str, str], set[str]] = defaultdict(set)
        for name in self.by_ns:
            for label in topo.namespace_labels(name).items():
                self._by_label[label].add(name)

    def _namespaces(self, selector: Selector) -> list[str]:
        """Namespaces (with workloads) that a namespaceSelector selects."""
        if selector.labels:
            candidates = set.intersection(
                *(self._by_label.get(lv, set()) for lv in selector.labels)
            )
        else:
            candidates = set(self.by_ns)
        return sorted(n for n in candidates if selector.matches(self.topo.namespace_labels(n)))

    def _matches(self, ns: str, peer: Peer) -> frozenset[int]:
        """Classes a policy peer (of a policy in ``ns``) selects; ipBlocks select none."""
        key = (ns, peer)
        found = self._matched.get(key)
        if found is None:
            if peer.block is not None or peer.fqdn is not None:
                found = frozenset()
            else:
                spaces = [ns] if peer.namespaces is None else self._namespaces(peer.namespaces)
                pods = peer.pods
                found = frozenset(
                    i
                    for n in spaces
                    for i in self.by_ns[n]
                    if pods is None or pods.matches(dict(self.classes[i].labels))
                )
            self._matched[key] = found
        return found

    def _selected(self, rule: TierRule) -> frozenset[int]:
        """Classes a cluster-policy rule selects by its selectors (not counting ``everyone``)."""
        return frozenset().union(*(self._matches("", p) for p in rule.peers))

    def tiers(self, i: int) -> tuple[Tiers, Tiers]:
        """The cluster-policy rules of class ``i``: (ingress, egress)."""
        return self._tiers[i]

    def admitted(self, rules: Rules, i: int, ingress: bool) -> dict[int, Conns]:
        """Peer class -> what these NetworkPolicy rules of class ``i`` admit, for the peers
        they select (ingress: from those sources; egress: to those destinations)."""
        return self._targets_ingress(rules, i) if ingress else self._targets(rules)

    def selected(self, rule: TierRule) -> frozenset[int]:
        """Classes a cluster-policy rule selects by its selectors (not counting ``everyone``)."""
        return self._selected(rule)

    def _allowed_ip(self, rules: Rules, lo: int, hi: int, dst: int | None) -> Conns:
        out = NONE
        ports = self.classes[dst].ports if dst is not None else None
        for _, rule in rules:
            if rule.peers is None or any(_in_block(p, lo, hi) for p in rule.peers):
                out = out | rule.conns(ports)
        return out

    def _decide_ip(self, i: int, ingress: bool, lo: int, hi: int) -> Conns:
        """What class ``i`` admits from (ingress) or to (egress) the IP range lo-hi."""
        cls = self.classes[i]
        rules = cls.ingress if ingress else cls.egress
        dst = i if ingress else None
        tiers = self._tiers[i][0 if ingress else 1]
        if not tiers:
            return ALL if rules is None else self._allowed_ip(rules, lo, hi, dst)
        ports = cls.ports if ingress else None

        def matched(tier: tuple[TierRule, ...]) -> list[tuple[str, Conns]]:
            return [
                (r.action, covers(r, ports))
                for r in tier
                if any(_in_block(p, lo, hi) for p in r.peers)
            ]

        np = None if rules is None else self._allowed_ip(rules, lo, hi, dst)
        return decide(matched(tiers.admin), np, matched(tiers.baseline))

    def _decide_name(self, i: int, name: str) -> Conns:
        """What class ``i``'s egress admits to the DNS name ``name`` (see the module docstring)."""
        rules = self.classes[i].egress
        np = None
        if rules is not None:
            np = NONE
            for _, rule in rules:
                if rule.peers is None or any(_admits_name(p, name) for p in rule.peers):
                    np = np | rule.conns(None)
        tiers = self._tiers[i][1]
        if not tiers:
            return ALL if np is None else np

        def matched(tier: tuple[TierRule, ...]) -> list[tuple[str, Conns]]:
            every = [r for r in tier if any(_in_block(p, 0, MAX_IP) for p in r.peers)]
            return [(r.action, covers(r, None)) for r in every]

        return decide(matched(tiers.admin), np, matched(tiers.baseline))

    def _targets(self, rules: Rules) -> dict[int, Conns]:
        """Class -> connections the rules admit, for the classes they select."""
        out: dict[int, Conns] = {}
        everyone = range(len(self.classes))
        for ns, rule in rules:
            if rule.peers is None:
                selected: Iterable[int] = everyone
            else:
                selected = set().union(*(self._matches(ns, p) for p in rule.peers))
            for c in selected:
                out[c] = out.get(c, NONE) | rule.conns(self.classes[c].ports)
        return out

    def _signatures(self, tiers: Tiers) -> dict[int, int]:
        """Peer class -> the rules of ``tiers`` (bit j: its j-th rule, Admin then Baseline) that
        select it by selectors, for every class some rule selects; made once per distinct
        ``tiers`` (classes with the same cluster policies share it)."""
        key = id(tiers)
        found = self._sigs.get(key)
        if found is None:
            found = {}
            for j, rule in enumerate(tiers.rules()):
                for peer in self._selected(rule):
                    found[peer] = found.get(peer, 0) | (1 << j)
            self._sigs[key] = found
        return found

    def _decision(self, tiers: Tiers, sig: int, np: Conns | None, ports: Ports) -> Conns:
        """What a direction with these cluster-policy rules admits of a peer that the rules in
        ``sig`` select (and the every-pod rules), NetworkPolicy admitting ``np`` (None: not
        isolated), towards a destination with ``ports``; few distinct keys, so cached."""
        key = (id(tiers), sig, np, ports)
        found = self._decisions.get(key)
        if found is None:
            n = len(tiers.admin)

            def matched(rules: tuple[TierRule, ...], first: int) -> list[tuple[str, Conns]]:
                return [
                    (r.action, covers(r, ports))
                    for j, r in enumerate(rules, first)
                    if r.everyone or sig >> j & 1
                ]

            found = decide(matched(tiers.admin, 0), np, matched(tiers.baseline, n))
            self._decisions[key] = found
        return found

    def _egress(self, s: int, d: int, named: dict[int, Conns]) -> Conns:
        """What class ``s``'s egress admits to class ``d`` (``named``: its NetworkPolicy
        targets)."""
        rules, tiers = self.classes[s].egress, self._tiers[s][1]
        np = None if rules is None else named.get(d, NONE)
        if not tiers:
            return ALL if np is None else np
        sig = self._signatures(tiers).get(d, 0)
        return self._decision(tiers, sig, np, self.classes[d].ports)

    def _ingress(self, d: int, s: int, admitted: dict[int, Conns]) -> Conns:
        """What class ``d``'s ingress admits from class ``s`` (``admitted``: what the
        NetworkPolicies of each class admit from ``s``)."""
        rules, tiers = self.classes[d].ingress, self._tiers[d][0]
        np = None if rules is None else admitted.get(d, NONE)
        if not tiers:
            return ALL if np is None else np
        sig = self._signatures(tiers).get(s, 0)
        return self._decision(tiers, sig, np, self.classes[d].ports)

    def _ingress_index(self) -> tuple[dict[Ports, list[tuple[int, Conns]]], Admitted]:
        """(container ports -> [(class, what its ingress admits from a source no rule of it
        names)] for non-empty ones, src class -> dst class -> what dst's NetworkPolicies
        admit from src, for the sources they select), made once (callers only read it).

        Cost follows what the rules select, not the number of class pairs."""
        if self._index is None:
            self._index = self._make_ingress_index()
        return self._index

    def _make_ingress_index(self) -> tuple[dict[Ports, list[tuple[int, Conns]]], Admitted]:
        open_in: dict[Ports, list[tuple[int, Conns]]] = defaultdict(list)
        into: Admitted = defaultdict(dict)
        # classes by their ingress cluster-policy rules: a source some rule selects must look
        # at each of them
        self._tiered_in: dict[int, tuple[Tiers, list[int]]] = {}
        for d, c in enumerate(self.classes):
            rules, tiers = c.ingress, self._tiers[d][0]
            if rules is not None:
                for src, conns in self._targets_ingress(rules, d).items():
                    into[src][d] = conns
            if tiers:
                self._tiered_in.setdefault(id(tiers), (tiers, []))[1].append(d)
                default = self._decision(tiers, 0, None if rules is None else NONE, c.ports)
            else:
                default = ALL if rules is None else NONE
            if default:
                open_in[c.ports].append((d, default))
        return open_in, into

    def _class_row(
        self,
        s: int,
        open_in: dict[Ports, list[tuple[int, Conns]]],
        into: Admitted,
        within: frozenset[int] | None = None,
    ) -> dict[int, Conns]:
        """dst class -> connections allowed from class ``s`` (non-empty only), among the
        classes ``within`` when given (``open_in`` must then hold only those): the row that
        _class_delta describes, made whole (a source's fanout never makes it)."""
        base, changed = self._class_delta(s, self._open_base(open_in), into, within)
        row = {d: c for d, c in base.items() if within is None or d in within}
        for d, conns in changed.items():
            if conns:
                row[d] = conns
            else:
                row.pop(d, None)
        return row

    def _open_base(self, open_in: dict[Ports, list[tuple[int, Conns]]]) -> dict[int, Conns]:
        """The row of an open-egress source under NetworkPolicy alone, but for the
        destinations that name it: every open ingress."""
        known = self._open_row
        if known is None or known[0] is not open_in:
            known = self._open_row = (open_in, {d: ALL for m in open_in.values() for d, _ in m})
        return known[1]

    def _class_delta(
        self,
        s: int,
        open_base: dict[int, Conns],
        into: Admitted,
        within: frozenset[int] | None = None,
    ) -> tuple[dict[int, Conns], dict[int, Conns]]:
        """(base, changed): class ``s``'s row is the row ``base`` (shared by the classes alike,
        never to be changed; with ``within``, only its classes ``within`` count) with the
        classes of ``changed`` set to its connections (NONE: removed), the peers its own and
        its peers' NetworkPolicies name (``open_base``: see _open_base, of the classes
        ``within`` when given). Work follows the peers named, one source at a time: open
        egress to open ingress is quadratic, and never made pair by pair."""
        cls, tiers = self.classes[s], self._tiers[s][1]
        named = {} if cls.egress is None else self._targets(cls.egress)
        admitted = into.get(s, {})
        if within is not None:
            named = {d: c for d, c in named.items() if d in within}
            admitted = {d: c for d, c in admitted.items() if d in within}
        if not tiers and not self._tiered_in:  # NetworkPolicy alone
            if cls.egress is None:  # what admits it is isolated: none of open_base
                return open_base, admitted
            return _NO_ROW, self._np_row(named, admitted)
        open_out = cls.egress is None
        # what decides a row, but for the peers this class's NetworkPolicies name: its egress
        # tiers, whether its egress is isolated, and which ingress tier rules select it
        key = (
            id(tiers),
            open_out,
            tuple(self._signatures(t).get(s, 0) for t, _ in self._tiered_in.values()),
        )
        base = self._rows.get(key)
        if base is None:
            if len(self._rows) >= ROW_CACHE:
                self._rows.clear()
            base = self._rows[key] = self._base_row(s)
        changed = {}
        for d in {*named, *admitted}:
            out = self._egress(s, d, named)
            changed[d] = out & self._ingress(d, s, admitted) if out else NONE
        return base, changed

    def _base_row(self, s: int) -> dict[int, Conns]:
        """The row of class ``s`` as if its own and its peers' NetworkPolicies named no peer
        (each isolated direction admits nothing it does not name): every class is looked at,
        once per distinct key of _class_row."""
        row = {}
        for d in range(len(self.classes)):
            out = self._egress(s, d, {})
            if out:
                conns = out & self._ingress(d, s, {})
                if conns:
                    row[d] = conns
        return row

    def _np_row(self, named: dict[int, Conns], admitted: dict[int, Conns]) -> dict[int, Conns]:
        """The row of an isolated-egress source under NetworkPolicy alone (no cluster policy
        anywhere)."""
        row = {}
        for d, out in named.items():
            conns = out if self.classes[d].ingress is None else out & admitted.get(d, NONE)
            if conns:
                row[d] = conns
        return row

    def _targets_ingress(self, rules: Rules, d: int) -> dict[int, Conns]:
        """Source class -> connections the ingress rules of class ``d`` admit."""
        out: dict[int, Conns] = {}
        everyone = range(len(self.classes))
        ports = self.classes[d].ports
        for ns, rule in rules:
            selected: Iterable[int] = (
                everyone
                if rule.peers is None
                else set().union(*(self._matches(ns, p) for p in rule.peers))
            )
            conns = rule.conns(ports)
            if not conns:
                continue
            for c in selected:
                out[c] = out.get(c, NONE) | conns
        return out

    def admitted_into(self) -> dict[int, dict[int, Conns]]:
        """src class -> dst class -> what the NetworkPolicy ingress rules of the (isolated)
        dst class admit from it; classes not isolated for ingress are absent as destinations."""
        return self._ingress_index()[1]

    def egress_targets(self, s: int) -> dict[int, Conns] | None:
        """dst class -> what the egress rules of class ``s`` allow to it; None when ``s`` is
        not isolated for egress (it may send anywhere)."""
        rules = self.classes[s].egress
        return None if rules is None else self._targets(rules)

    def cuts(self) -> Cuts:
        """Where this analysis cuts the IP space (ingress sources, egress destinations)."""
        networks = [
            p.block
            for _, eg in self._tiers
            for r in eg.rules()
            for p in r.peers
            if p.block is not None
        ]
        return (
            boundaries(_blocks(c.ingress for c in self.classes)),
            boundaries([*_blocks(c.egress for c in self.classes), *networks]),
            _names(c.egress for c in self.classes),
        )

    def iter_fanouts(
        self, cuts: Cuts | None = None, only: frozenset[str] | None = None
    ) -> Iterator[Fanout]:
        """(source, [(destination, connections)] sorted by destination), sources in order. IP
        ranges are cut where this analysis's ipBlocks cut them, or at ``cuts`` (which must
        refine them: pass the union of two analyses' cuts to compare their connections).

        With ``only``, just the connections with an end in one of those namespaces (IP ranges
        are in none), at a cost that follows them: what a change to those namespaces can
        alter, and nothing else."""
        for found in self.iter_spans(cuts, only):
            yield Fanout(found.src, found.pairs())

    def iter_spans(
        self, cuts: Cuts | None = None, only: frozenset[str] | None = None
    ) -> Iterator[Spans]:
        """The fanouts of iter_fanouts (the same sources, with the same arguments), each as runs
        of a sorted block of destinations that sources alike share, and the pairs its own
        policies change (see fanout.py): the work per source follows those pairs, not its
        output. One source at a time; blocks are few (one per distinct base row, a bounded
        number kept)."""
        open_in, into = self._ingress_index()
        keep: frozenset[int] | None = None
        open_kept = open_in
        if only is not None:
            keep = frozenset(i for ns in only for i in self.by_ns.get(ns, ()))
            open_kept = {
                ports: [(d, c) for d, c in members if d in keep]
                for ports, members in open_in.items()
            }
        open_all = {d: ALL for m in open_in.values() for d, _ in m}
        open_some = {d: ALL for m in open_kept.values() for d, _ in m}

        peers = [[w.peer for w in c.members] for c in self.classes]
        blocks = Blocks(peers, BLOCK_CACHE)

        @functools.lru_cache(maxsize=16)  # a class's members are mostly neighbours in order
        def row_of(i: int) -> tuple[Block, dict[int, Conns]]:
            if keep is None or i in keep:
                base, changed = self._class_delta(i, open_all, into)
                return blocks.of(base), changed
            base, changed = self._class_delta(i, open_some, into, keep)
            return blocks.of(base, keep), changed

        ext_in, ext_out = self._external(cuts or self.cuts(), keep)
        by_src: dict[str, tuple[int, Workload] | None] = {}
        for i, cls in enumerate(self.classes):
            for w in cls.members:
                by_src[w.peer] = (i, w)
        for ip in ext_in:
            by_src.setdefault(ip, None)
        for src in sorted(by_src):
            at = by_src[src]
            if at is None:  # an IP range: what admits it
                block = EMPTY
                dropped: list[str] = []
                added = [(p, conns) for i, conns in ext_in.get(src, ()) for p in peers[i]]
            else:
                block, changed = row_of(at[0])
                dropped, added = changes(src, at[0], block, changed, peers)
                added += ext_out.get(at[0], ())
            found = spans(src, block, dropped, added)
            if found.pieces or keep is None:
                yield found

    def iter_connections(
        self, cuts: Cuts | None = None, only: frozenset[str] | None = None
    ) -> Iterator[Connection]:
        """Every allowed connection in (source, destination) order, one source at a time (with
        ``only``: those with an end in one of these namespaces)."""
        for fanout in self.iter_fanouts(cuts, only):
            yield from fanout.connections()

    def connections(self) -> list[Connection]:
        return list(self.iter_connections())

    def _external(
        self, cuts: Cuts, keep: frozenset[int] | None = None
    ) -> tuple[dict[str, list[tuple[int, Conns]]], dict[int, list[tuple[str, Conns]]]]:
        """(ip source -> [(dst class, conns)], src class -> [(ip destination, conns)]), for the
        classes ``keep`` when given."""
        sources, targets = cut(cuts[0]), cut(cuts[1])
        ext_in: dict[str, list[tuple[int, Conns]]] = defaultdict(list)
        ext_out: dict[int, list[tuple[str, Conns]]] = defaultdict(list)
        for i in range(len(self.classes)):
            if keep is not None and i not in keep:
                continue
            for lo, hi in sources:
                conns = self._decide_ip(i, True, lo, hi)
                if conns:
                    ext_in[ip_peer(lo, hi)].append((i, conns))
            for lo, hi in targets:
                conns = self._decide_ip(i, False, lo, hi)
                if conns:
                    ext_out[i].append((ip_peer(lo, hi), conns))
            for name in sorted(cuts[2]):
                conns = self._decide_name(i, name)
                if conns:
                    ext_out[i].append((fqdn_peer(name), conns))
        return ext_in, ext_out


def analyse(topo: Topology) -> list[Connection]:
    """Every allowed connection, sorted by (source, destination); no self lines."""
    return Analysis(topo).connections()


def iter_analyse(topo: Topology) -> Iterator[Connection]:
    """The same, streamed one source at a time (for outputs too large to hold)."""
    return Analysis(topo).iter_connections()
