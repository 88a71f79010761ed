"""What the commands run over PATH: read and render, check, analyse. Each returns data or an
iterator; the CLI writes it."""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from netpol_gitops.adapters.files import read_file
from netpol_gitops.adapters.inputs import configured_units, read_manifests, read_units, repo_root
from netpol_gitops.adapters.kustomization import kustomization_file
from netpol_gitops.errors import Failure, NetpolError, Problem, printable
from netpol_gitops.generate import render as render_pipeline
from netpol_gitops.generate.config import parse_config
from netpol_gitops.generate.render import Rendered
from netpol_gitops.model.connection import Connection
from netpol_gitops.model.location import Location
from netpol_gitops.model.severity import Severity
from netpol_gitops.yaml.document import Document
from netpol_gitops.yaml.stream import read_documents

if TYPE_CHECKING:  # start-up: render imports none of adopt/, checks/ or the analysis
    from netpol_gitops.adopt.propose import Proposal
    from netpol_gitops.analysis.reach import Analysis


def rendered(path: str, config: str | None) -> Rendered:
    """PATH read and rendered, each unit under the config that applies to it; every problem is
    found before anything is returned."""
    return render_pipeline.render_units(configured_units(path, config))


def render_warnings(result: Rendered) -> list[Problem]:
    """What render warns about and still renders: a flow's named port that no container of its
    destination pods declares (the flow would connect nothing on it, silently). The workloads
    are read only when some flow names a port."""
    if not any(p.named for i in result.intents for f in i.flows for p in f.ports):
        return []
    from netpol_gitops.analysis.documents import topology_of  # noqa: PLC0415 - start-up

    try:
        topo = topology_of(result.documents)
    except NetpolError:  # a workload too malformed to analyse: check reports it
        return []
    from netpol_gitops.checks.rules import unresolved_ports  # noqa: PLC0415 - start-up

    found = unresolved_ports(result.intents, topo.workloads, topo.namespaces)
    # a flow with a list of ends is a record per end: each would repeat the same warning
    return sorted({dataclasses.replace(p, severity=Severity.WARNING) for p in found})


def adopted(path: str, config: str | None) -> list[Proposal]:
    """`adopt`'s proposals for PATH, each part under the config that applies to it."""
    from netpol_gitops.adopt.propose import propose  # noqa: PLC0415 - start-up

    return [p for cfg, docs in configured_units(path, config) for p in propose(docs, cfg)]


def checked(path: str, config: str | None) -> list[Problem]:
    """Every finding of PATH: a problem of the input is a finding too, so every format prints a
    whole document. Each part is checked under the config that applies to it."""
    from netpol_gitops.checks.gate import findings  # noqa: PLC0415 - start-up

    try:
        units = read_units(path, config)
    except NetpolError as exc:
        return sorted(in_kustomization(p) for p in exc.problems)
    found: set[Problem] = set()
    built: dict[str, list[Document]] = {}
    for config_doc, docs in units:
        for doc in docs:
            if doc.source.startswith("<kustomize build "):
                built.setdefault(doc.source, []).append(doc)
        try:
            found.update(findings(docs, parse_config(config_doc)))
        except NetpolError as exc:
            found.update(exc.problems)
    origins: dict[Path, list[Document]] = {}  # each origin file read once, whatever the findings
    return sorted(in_kustomization(from_origin(p, built, origins)) for p in found)


_BUILT = re.compile(r"<kustomize build (.+)>")


ORIGIN = "config.kubernetes.io/origin"
_ORIGIN_PATH = re.compile(r"^path:\s*['\"]?([^'\"\n]+?)['\"]?\s*$", re.M)


def from_origin(
    problem: Problem, built: dict[str, list[Document]], origins: dict[Path, list[Document]]
) -> Problem:
    """A finding in a kustomize build, located in the source file of the object it is about,
    where the kustomization asks kustomize to say it (``buildMetadata: [originAnnotations]``
    puts ``config.kubernetes.io/origin: path: ...`` on each object): at that object's
    metadata.name there, citing the place in the built stream. Else as it was."""
    loc = problem.location
    match = _BUILT.fullmatch(loc.source)
    if match is None or not loc.line:
        return problem
    doc = next(
        (
            d
            for d in built.get(loc.source, ())
            if d.line < loc.line <= d.line + d.text.count("\n") + 1
        ),
        None,
    )
    obj = doc.data() if doc is not None else None
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    notes = meta.get("annotations") if isinstance(meta, dict) else None
    origin = notes.get(ORIGIN) if isinstance(notes, dict) else None
    found = _ORIGIN_PATH.search(origin) if isinstance(origin, str) else None
    if found is None or not isinstance(obj, dict):
        return problem
    folder = Path(match.group(1))
    source = Path(os.path.normpath(folder / found.group(1)))  # as the folder was named
    where = Path(os.path.realpath(source))
    if not where.is_relative_to(os.path.realpath(repo_root(folder))) or not where.is_file():
        return problem  # kustomize said a place outside the repository: not read
    if where not in origins:
        try:  # the bounded reader: a regular file within the input bound, or nothing
            origins[where] = read_documents([read_file(where, str(source))])
        except NetpolError:
            origins[where] = []
    docs = origins[where]
    name = meta.get("name") if isinstance(meta, dict) else None
    for candidate in docs:
        data = candidate.data()
        if not isinstance(data, dict) or data.get("kind") != obj.get("kind"):
            continue
        theirs = (data.get("metadata") or {}).get("name")
        if theirs == name or (isinstance(theirs, str) and str(name).endswith(theirs)):
            at = candidate.location(["metadata", "name"])
            return dataclasses.replace(
                problem,
                location=Location(str(source), at.line, at.col, loc.field),
                message=problem.message + f" (at {loc.prefix()})",
            )
    return problem


def in_kustomization(problem: Problem) -> Problem:
    """A finding in a kustomize build, located at the kustomization file (line 1), the place in
    the built stream cited in the message: `<kustomize build DIR>` is no file that code scanning
    or a GitHub annotation can point at.

    Not in the source file the object came from: kustomize says that only when the
    kustomization asks for it (``buildMetadata: [originAnnotations]``); it has no flag for it,
    the user's kustomization is never edited, and a wrapper kustomization of ours around it
    would be a build of a different root than the one reviewed and deployed. Where the user set
    it, ``from_origin`` has moved the finding to the source file first."""
    match = _BUILT.fullmatch(problem.location.source)
    if match is None:
        return problem
    folder = match.group(1)
    file = kustomization_file(Path(folder))
    loc = problem.location
    cited = f" (at {loc.prefix()})" if loc.line else f" (in {loc.source})"
    return dataclasses.replace(
        problem,
        location=Location(str(file) if file else folder, 1, 1, loc.field),
        message=problem.message + cited,
    )


def analysis(path: str, config: str | None, *, generate: bool) -> Analysis:
    """PATH (plus the generated policies with ``generate``) read and ready to analyse."""
    from netpol_gitops.analysis.documents import topology_of  # noqa: PLC0415 - start-up
    from netpol_gitops.analysis.reach import Analysis  # noqa: PLC0415 - start-up

    extra: list[dict[str, Any]] = []
    if generate:
        result = rendered(path, config)
        docs, extra = result.documents, result.generated
    else:
        docs = read_manifests(path)
    return Analysis(topology_of(docs, extra))


_RANGE = re.compile(r"[0-9.]+-[0-9.]+(\[External\])?")


def focused(analysed: Analysis, conns: Iterable[Connection], focus: str) -> Iterator[Connection]:
    """The connections from or to ``focus``, in any form reach prints a peer: a namespace,
    ``ns/name``, ``ns/name[Kind]``, or an IP range (``a-b[External]`` or ``a-b``). A focus that
    matches no workload of the input, or an IP range that is no peer of any connection, is a
    Failure (raised before anything is yielded, or once the connections are exhausted)."""
    want = printable(focus)

    def hits(peer: str) -> bool:
        return peer == want or peer.startswith((want + "[", want + "/"))

    ip_range = _RANGE.fullmatch(want) is not None
    if not ip_range and not any(hits(w.peer) for w in analysed.topo.workloads):
        raise Failure(_no_match(focus))
    found = 0
    for conn in conns:
        if hits(conn.src) or hits(conn.dst):
            found += 1
            yield conn
    if ip_range and not found:
        raise Failure(_no_match(focus))


def _no_match(focus: str) -> str:
    return (
        f"--focus {printable(focus)!r} matches no workload, namespace or IP range of the input "
        "(give a namespace, NS/NAME, NS/NAME[Kind] or an IP range as reach prints it, e.g. "
        "10.0.0.0-10.255.255.255[External])"
    )
