"""What in a change needs a reviewer's decision, in words: namespaces that lose protection and
what that opens, new paths into a namespace from outside it, new egress to external addresses.
Shared by the text and the markdown report; names pass through the caller's escaper."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from netpol_gitops.analysis.changes import merge_spans
from netpol_gitops.analysis.reach import MAX_IP
from netpol_gitops.model.connection import Change, conns_text, ip_span
from netpol_gitops.output.peers import PUBLIC, is_external, range_peer
from netpol_gitops.review.compare import Diff

MAX_NAMES = 8  # workloads named in one sentence
MAX_EXAMPLES = 3  # connections named in one sentence
Name = Callable[[str], str]


def short(peer: str) -> str:
    """A workload without its namespace and kind (``frontend``); a range as it is."""
    if is_external(peer):
        return peer.removesuffix("[External]")
    return peer.split("/", 1)[-1].rsplit("[", 1)[0]


def group_of(peer: str) -> str:
    """The namespace of a workload; every IP range is ``external``."""
    return "external" if is_external(peer) else peer.split("/", 1)[0]


def _names(peers: list[str], name: Name) -> str:
    shown = ", ".join(name(short(p)) for p in peers[:MAX_NAMES])
    more = len(peers) - MAX_NAMES
    return shown + (f" and {more} more" if more > 0 else "")


def lost_protection(diff: Diff, name: Name) -> list[str]:
    """One sentence per direction a namespace no longer denies, naming what it opens."""
    out = []
    for ns in diff.regressions:
        for direction, peers in diff.exposed.get(ns, {}).items():
            head = f"{name(ns)}: {direction} no longer denied by default"
            if not peers:
                out.append(f"{head}; no workload of it is left unisolated in these manifests")
                continue
            verb = "may reach anything" if direction == "egress" else "may be reached by anything"
            out.append(f"{head}; {_names(peers, name)} {verb}")
    return out


def describe(c: Change) -> str:
    """What a pair allows now, and before where it allowed something."""
    if c.kind == "added":
        return conns_text(c.after)
    return f"{conns_text(c.before)} → {conns_text(c.after)}"


def _more(shown: list[str], total: int, sep: str = "; ") -> str:
    return sep.join(shown) + (f"{sep}and {total - len(shown)} more" if total > len(shown) else "")


def new_paths_in(folded: list[Change], name: Name) -> list[str]:
    """Per namespace and outside source (a namespace, or an IP range with the internet one):
    the connections into it that open or widen."""
    groups: dict[tuple[str, str], list[Change]] = defaultdict(list)
    for c in folded:
        if c.gained and not is_external(c.dst):
            source = short(c.src) if is_external(c.src) else group_of(c.src)
            if source != group_of(c.dst):
                groups[(group_of(c.dst), source)].append(c)
    out = []
    for (ns, source), found in sorted(groups.items()):
        examples = [
            ("" if is_external(c.src) else f"{name(short(c.src))} → ")
            + f"{name(short(c.dst))} ({describe(c)})"
            for c in found[:MAX_EXAMPLES]
        ]
        out.append(f"new into {name(ns)} from {name(source)}: {_more(examples, len(found))}")
    return out


def addresses(spans: list[tuple[int, int]]) -> str:
    """IP ranges in words: any address, the internet, or the ranges."""
    if spans == [(0, MAX_IP)]:
        return "any address"
    if spans == PUBLIC:
        return "the internet"
    shown = [range_peer(lo, hi).removesuffix("[External]") for lo, hi in spans[:MAX_EXAMPLES]]
    return _more(shown, len(spans), ", ")


def new_egress_out(changes: list[Change], name: Name) -> list[str]:
    """Per namespace: the workloads that may now send to addresses outside the cluster they
    could not reach before (or on more ports), with where and what they may send now."""
    spans: dict[str, list[tuple[int, int]]] = defaultdict(list)
    afters: dict[str, set[str]] = defaultdict(set)
    groups: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for c in changes:
        span = ip_span(c.dst)
        if c.gained and span is not None:
            spans[c.src].append(span)
            afters[c.src].add(conns_text(c.after))
        elif c.gained and is_external(c.dst):  # a DNS name (flavor cilium's fqdn allows)
            groups[(group_of(c.src), c.dst, conns_text(c.after))].append(c.src)
    for src, found in spans.items():
        conns = afters[src].pop() if len(afters[src]) == 1 else "on several port sets"
        groups[(group_of(src), addresses(merge_spans(found)), conns)].append(src)
    return [
        f"{name(ns)}: {_names(sorted(srcs), name)} may now reach {where} ({conns})"
        for (ns, where, conns), srcs in sorted(groups.items())
    ]


def breaks(diff: Diff, name: Name) -> list[str]:
    """Per namespace: what its generated policies block that hand-written ones allow."""
    out = []
    for ns, (n, found) in sorted(diff.breaks.items()):
        examples = [
            f"{name(short(c.src))} → {name(short(c.dst))} ({conns_text(c.lost)})"
            for c in found[:MAX_EXAMPLES]
        ]
        out.append(
            f"{name(ns)}: the generated policies block {n} connection{'s' if n != 1 else ''} "
            f"that hand-written NetworkPolicies allow: {_more(examples, n)}"
        )
    return out


def audit(diff: Diff, name: Name) -> list[str]:
    """Per namespace in audit mode: what enforcing it would block, per connection."""
    out = []
    for ns, (n, found) in sorted(diff.audit.items()):
        examples = [
            f"{name(short(c.src))} → {name(short(c.dst))} ({conns_text(c.lost)})"
            for c in found[:MAX_EXAMPLES]
        ]
        blocks = f"would block or narrow {n} connection{'s' if n != 1 else ''}"
        out.append(
            f"{name(ns)} is in audit mode (nothing enforced): enforcing it {blocks}"
            + (f": {_more(examples, n)}" if n else "")
        )
    return out


def decisions(diff: Diff, folded: list[Change], name: Name) -> list[tuple[str, str]]:
    """(kind, sentence) for everything that needs a decision, most serious first; kinds:
    protection, breaks, audit, inbound, egress."""
    return [
        *(("protection", s) for s in lost_protection(diff, name)),
        *(("breaks", s) for s in breaks(diff, name)),
        *(("audit", s) for s in audit(diff, name)),
        *(("inbound", s) for s in new_paths_in(folded, name)),
        *(("egress", s) for s in new_egress_out(diff.connections, name)),
    ]
