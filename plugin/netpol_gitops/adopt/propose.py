"""Per namespace with hand-written NetworkPolicies: the annotations whose generated policies
allow exactly what those policies allow, proven by the analysis before they are proposed.

The proof: the repository analysed as it is (hand-written policies, and the policies generated
for the other namespaces) and as it would be with the proposal (the namespace annotated, the
policies it replaces removed, everything rendered again) give the same connections for every
(source, destination) pair, IP ranges compared on a common refinement. A namespace whose
proposal is not equal is reported with the pairs that differ, and nothing is proposed for it.
Pure."""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from netpol_gitops.adopt.translate import Flow, Inexpressible, flows_of, flows_yaml
from netpol_gitops.analysis.changes import compared
from netpol_gitops.analysis.documents import topology_of
from netpol_gitops.analysis.reach import Analysis
from netpol_gitops.errors import NetpolError, Problem
from netpol_gitops.generate.flows import parse_flows
from netpol_gitops.generate.labelled import Standing
from netpol_gitops.generate.namespaces import is_unmanaged
from netpol_gitops.generate.render import Rendered, namespace_objects, render
from netpol_gitops.model.connection import Change
from netpol_gitops.model.intent import Config
from netpol_gitops.model.kube import PREFIX as ANNOTATION_PREFIX
from netpol_gitops.model.kube import object_namespace
from netpol_gitops.model.location import Location
from netpol_gitops.yaml.document import Document
from netpol_gitops.yaml.embedded import parse_plain
from netpol_gitops.yaml.stream import read_documents

MAX_DIFFERENCES = 10  # differing pairs kept per namespace that could not be proven


@dataclass(frozen=True)
class PolicyRef:
    policy: str  # namespace/name
    location: str  # FILE:LINE:COL of its metadata.name
    why: str = ""  # kept: why it cannot be expressed


@dataclass
class Proposal:
    namespace: str
    annotations: dict[str, str]  # full key -> value
    namespace_at: str  # FILE:LINE:COL of the Namespace's metadata.name; "" when there is none
    replaced: list[PolicyRef] = field(default_factory=list)  # to remove by hand once annotated
    kept: list[PolicyRef] = field(default_factory=list)  # cannot be expressed: stay as written
    proven: bool = False
    connections: int = 0  # connections with an end in the namespace, equal before and after
    differences: list[Change] = field(default_factory=list)  # when not proven, the first few
    total_differences: int = 0
    problem: str = ""  # the proposal does not render (a bug of adopt, said rather than hidden)
    # (name, flows) of a repo-config profile it shares with other namespaces, proven in place
    # of its flows (its annotations then name the profile)
    profile: tuple[str, str] | None = None
    # the Namespace manifest to edit: a document of its own (None: there is none, or it is an
    # item of a List, see namespace_at)
    document: Document | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class _Written:
    namespace: str
    name: str
    spec: Any
    doc: Document
    location: str
    in_list: bool = False  # an item of a List


def _handwritten(result: Rendered) -> list[_Written]:
    """The input's NetworkPolicies that are not generated ones. An item of a List cannot be
    removed alone: it is marked, and kept as written."""
    current = {(id(x.doc), x.path) for x in result.labelled if x.standing is Standing.CURRENT}
    out = []
    for doc in result.documents:
        if doc.kind != "NetworkPolicy" and not (doc.kind or "").endswith("List"):
            continue
        for path, obj in doc.objects():
            if obj.get("kind") != "NetworkPolicy" or (id(doc), tuple(path)) in current:
                continue
            meta = obj.get("metadata")
            if not isinstance(meta, dict):
                continue
            ns = str(meta.get("namespace") or "default")
            where = doc.location([*path, "metadata", "name"]).prefix()
            spec = obj.get("spec")
            out.append(_Written(ns, str(meta.get("name")), spec, doc, where, in_list=bool(path)))
    return out


def _reopen(analysis: Analysis, namespace: str, directions: set[str]) -> list[Flow]:
    """Flows that keep open, in each direction the namespace will deny, the workloads no
    hand-written policy isolates there (a default deny isolates every pod)."""
    flows: list[Flow] = []
    for direction in ("Ingress", "Egress"):
        if direction not in directions:
            continue
        seen: list[dict[str, str]] = []
        for i in analysis.by_ns.get(namespace, ()):
            cls = analysis.classes[i]
            if getattr(cls, direction.lower()) is not None or dict(cls.labels) in seen:
                continue
            seen.append(dict(cls.labels))
            local = {"pods": dict(cls.labels)}
            pair = (
                ({"anywhere": True}, local)
                if direction == "Ingress"
                else (local, {"anywhere": True})
            )
            key = "in" if direction == "Ingress" else "out"
            flows.append({"name": f"open-{key}-{len(seen)}", "from": pair[0], "to": pair[1]})
    return flows


def _annotations(directions: set[str], flows: list[Flow]) -> dict[str, str]:
    deny = (
        "all"
        if directions >= {"Ingress", "Egress"}
        else "ingress"
        if "Ingress" in directions
        else "egress"
    )
    out = {
        f"{ANNOTATION_PREFIX}default-deny": deny,
        f"{ANNOTATION_PREFIX}allow-dns": "false",
        f"{ANNOTATION_PREFIX}allow-same-namespace": "false",
    }
    if flows:
        out[f"{ANNOTATION_PREFIX}flows"] = flows_yaml(flows)
    return out


def _draft(
    namespace: str,
    written: list[_Written],
    analysis: Analysis,
    where: str,
    document: Document | None,
) -> Proposal:
    """The annotations for one namespace, not yet proven."""
    directions: set[str] = set()
    flows: list[Flow] = []
    replaced, kept = [], []
    for w in sorted(written, key=lambda w: w.name):
        if w.in_list:
            why = "an item of a List, which cannot be removed alone"
            kept.append(PolicyRef(f"{namespace}/{w.name}", w.location, why))
            continue
        try:
            isolates, found = flows_of(w.name, namespace, w.spec)
        except Inexpressible as exc:
            kept.append(PolicyRef(f"{namespace}/{w.name}", w.location, str(exc)))
            continue
        directions |= set(isolates)
        seen = [{k: v for k, v in f.items() if k != "name"} for f in flows]
        flows += [f for f in found if {k: v for k, v in f.items() if k != "name"} not in seen]
        replaced.append(PolicyRef(f"{namespace}/{w.name}", w.location))
    flows += _reopen(analysis, namespace, directions)
    proposal = Proposal(namespace, {}, where, replaced, kept, document=document)
    if directions:
        proposal.annotations = _annotations(directions, flows)
    return proposal


def _namespace_doc(namespace: str, original: dict[str, Any] | None, notes: dict[str, str]) -> str:
    """A Namespace manifest with the proposed annotations in place of any netpol-gitops.io/
    ones (JSON, which is YAML)."""
    obj: dict[str, Any] = (
        copy.deepcopy(original) if original else {"apiVersion": "v1", "kind": "Namespace"}
    )
    meta: dict[str, Any] = obj.setdefault("metadata", {})
    meta["name"] = namespace
    kept = {
        k: v
        for k, v in (meta.get("annotations") or {}).items()
        if not str(k).startswith(ANNOTATION_PREFIX)
    }
    meta["annotations"] = {**kept, **notes}
    return json.dumps(obj)


def _candidate(
    docs: list[Document], proposals: list[Proposal], written: list[_Written], config: Config
) -> Rendered:
    """The input as it would be: the namespaces annotated, the policies they replace removed."""
    adopted = {p.namespace: p for p in proposals}
    gone = {
        id(w.doc)
        for w in written
        if w.namespace in adopted
        and f"{w.namespace}/{w.name}" in {r.policy for r in adopted[w.namespace].replaced}
    }
    out: list[Document] = []
    done: set[str] = set()
    for doc in docs:
        if id(doc) in gone:
            continue
        named = [
            (path, obj)
            for path, obj in (
                doc.objects()
                if doc.kind in ("Namespace", "List") or (doc.kind or "").endswith("List")
                else []
            )
            if obj.get("kind") == "Namespace"
            and str((obj.get("metadata") or {}).get("name")) in adopted
        ]
        if not named:
            out.append(doc)
            continue
        data = copy.deepcopy(doc.data())
        for path, obj in named:
            name = str(obj["metadata"]["name"])
            new = json.loads(_namespace_doc(name, obj, adopted[name].annotations))
            if not path:
                data = new
            else:
                holder = data
                for step in path[:-1]:
                    holder = holder[step]
                holder[path[-1]] = new
            done.add(name)
        out += read_documents([(doc.source, json.dumps(data))])
    for name in sorted(set(adopted) - done):
        out += read_documents(
            [(f"<adopt {name}>", _namespace_doc(name, None, adopted[name].annotations))]
        )
    return render(out, config)


def _prove(
    result: Rendered, proposals: list[Proposal], written: list[_Written], config: Config
) -> None:
    """Marks each proposal proven or not, comparing every pair before and after."""
    mine = {p.namespace for p in proposals}
    others = [p for p in result.generated if object_namespace(p) not in mine]
    before = Analysis(topology_of(result.documents).with_policies(others))
    try:
        after_result = _candidate(result.documents, proposals, written, config)
    except NetpolError as exc:
        for p in proposals:
            p.problem = "; ".join(x.line() for x in exc.problems[:3])
        return
    after = Analysis(topology_of(after_result.documents).with_policies(after_result.generated))
    counts = dict.fromkeys(mine, 0)
    for c in before.iter_connections():
        for ns in c.namespaces & mine:
            counts[ns] += 1
    differing: dict[str, list[Change]] = {ns: [] for ns in mine}
    totals = dict.fromkeys(mine, 0)
    for change in compared(before, after):
        for ns in change.namespaces & mine or mine:  # a pair of IP ranges blames everyone
            totals[ns] += 1
            if len(differing[ns]) < MAX_DIFFERENCES:
                differing[ns].append(change)
    for p in proposals:
        p.connections = counts[p.namespace]
        p.differences, p.total_differences = differing[p.namespace], totals[p.namespace]
        p.proven = not totals[p.namespace]


def propose(docs: list[Document], config: Config) -> list[Proposal]:
    """For each namespace with hand-written NetworkPolicies, the proposal, proven or not.
    Proposals are proven together; those that are not equal are dropped and the rest proven
    again without them, until every one left is proven (each round drops at least one)."""
    result = render(docs, config)
    written = [w for w in _handwritten(result) if not is_unmanaged(w.namespace, config)]
    if not written:
        return []
    analysis = Analysis(topology_of(result.documents))
    where: dict[str, tuple[str, Document | None]] = {}
    for doc, path, obj in namespace_objects(result.documents):
        name = str((obj.get("metadata") or {}).get("name"))
        at = doc.location([*path, "metadata", "name"]).prefix()
        where[name] = (at, None if path else doc)
    by_ns: dict[str, list[_Written]] = {}
    for w in written:
        by_ns.setdefault(w.namespace, []).append(w)
    none: tuple[str, Document | None] = ("", None)
    drafts = [_draft(ns, ws, analysis, *where.get(ns, none)) for ns, ws in sorted(by_ns.items())]
    trying = [d for d in drafts if d.annotations]
    while trying:
        _prove(result, trying, written, config)
        failed = [p for p in trying if not p.proven]
        if not failed or len(failed) == len(trying):
            break
        trying = [p for p in trying if p.proven]
        for p in trying:
            p.proven = False
    _share(result, [p for p in trying if p.proven], written, config)
    return drafts


FLOWS = f"{ANNOTATION_PREFIX}flows"
PROFILES = f"{ANNOTATION_PREFIX}profiles"


def _profile_name(namespaces: list[str], taken: set[str]) -> str:
    """The namespaces' common leading words (``accounts`` for accounts-dev and accounts-prod),
    else ``shared``; numbered when taken."""
    words = [ns.split("-") for ns in namespaces]
    common: list[str] = []
    for parts in zip(*words, strict=False):
        if len(set(parts)) != 1:
            break
        common.append(parts[0])
    base = "-".join(common) or "shared"
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}-{n}"
    return name


def _share(
    result: Rendered, proven: list[Proposal], written: list[_Written], config: Config
) -> None:
    """Namespaces whose proven flows are the same share them as a repo-config profile (its
    flows are relative to the namespace that names it): proven again with the profile in the
    config and the namespaces naming it; left as flows when that is not equal."""
    groups: dict[str, list[Proposal]] = {}
    for p in proven:
        if FLOWS in p.annotations and PROFILES not in p.annotations:
            groups.setdefault(p.annotations[FLOWS], []).append(p)
    shared = [(text, members) for text, members in groups.items() if len(members) > 1]
    if not shared:
        return
    taken = {name for name, _ in config.profiles}
    profiles = []
    before = {p.namespace: dict(p.annotations) for p in proven}
    for text, members in shared:
        name = _profile_name([p.namespace for p in members], taken)
        taken.add(name)
        problems: list[Problem] = []
        source = f"<adopt profile {name}>"
        data = parse_plain(text, Location(source), problems)

        def nowhere(_path: Sequence[str | int], _key: bool = False, at: str = source) -> Location:
            return Location(at)

        flows = parse_flows(
            data, nowhere, f"profile {name}", problems, f"{name}-", flavor=config.flavor
        )
        if problems:  # a bug of adopt: the flows were proven as annotations
            continue
        profiles.append((name, flows))
        for p in members:
            del p.annotations[FLOWS]
            p.annotations[PROFILES] = name
            p.profile = (name, text)
    with_profiles = dataclasses.replace(config, profiles=(*config.profiles, *profiles))
    for p in proven:
        p.proven = False
    _prove(result, proven, written, with_profiles)
    if all(p.proven for p in proven):
        return
    for p in proven:  # not equal with the profiles: the flows as they were proven
        p.annotations, p.profile = before[p.namespace], None
    _prove(result, proven, written, config)


def summary(proposals: Iterable[Proposal]) -> tuple[int, int]:
    """(proven, not proven) among proposals that propose something."""
    found = [p for p in proposals if p.annotations]
    return sum(p.proven for p in found), sum(not p.proven for p in found)
