"""Pull-request review: render and analyse both revisions, compare them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import git

from netpol_gitops.annotations import parse_config
from netpol_gitops.diff import Diff, Side, compare, not_generated
from netpol_gitops.errors import Location, NetpolError, Problem
from netpol_gitops.gitrev import Revision, open_repo, read_revision
from netpol_gitops.intent import Mode
from netpol_gitops.reach import Analysis
from netpol_gitops.render import namespace_objects, render_units
from netpol_gitops.topology import topology_of
from netpol_gitops.yamlio import Shared, dump_objects


def side(rev: Revision, shared: Shared | None = None) -> Side:
    """One revision rendered (each unit under its own config) and analysed; ``shared`` lets
    revisions share unchanged files' documents (and their parsed workloads)."""
    result = render_units([(parse_config(cfg), docs) for cfg, docs in rev.units])
    intents = {i.name: i for i in result.intents}
    protection = {}
    for _, _, obj in namespace_objects(result.documents):
        name = str((obj.get("metadata") or {}).get("name"))
        intent = intents.get(name)
        if intent is None or intent.mode is Mode.OFF:
            protection[name] = "off"
        elif intent.mode is Mode.AUDIT:
            protection[name] = "audit"
        else:
            protection[name] = intent.deny.value
    topo = topology_of(result.documents, keep=shared is not None)
    analysis = Analysis(topo.with_policies(result.generated))

    def lines() -> Iterator[str]:
        return (line[:-1] for line in analysis.iter_lines())

    policies = {
        f"{p['metadata']['namespace']}/{p['metadata']['name']}": dump_objects([p])
        for p in result.generated
    }
    # policies labelled as generated that are not: the analysis above has what the deliveries
    # apply (the generated policies); these are listed apart, with what they open as written
    return Side(rev.sha, protection, lines, policies, not_generated(result, topo, analysis))


def repo_relative(repo: git.Repo, config: str) -> str:
    """--config as a path inside the repository (it is read from each revision's tree): a
    relative path is taken from the repository's root."""
    top = Path(str(repo.working_tree_dir)).resolve()
    given = Path(os.path.normpath(top / config))
    if not given.is_relative_to(top):
        raise NetpolError(
            [Problem(Location(config), "--config must name a file inside the repository")]
        )
    return given.relative_to(top).as_posix()


def review(
    repo_dir: str, base: str, head: str, paths: list[str], config_file: str | None = None
) -> Diff:
    repo = open_repo(repo_dir)
    config = repo_relative(repo, config_file) if config_file else None
    shared: Shared = {}
    before = side(read_revision(repo, base, paths, config, shared), shared)
    after = side(read_revision(repo, head, paths, config, shared), shared)
    shared.clear()  # the analyses hold what compare needs; the documents can go
    return compare(before, after)
