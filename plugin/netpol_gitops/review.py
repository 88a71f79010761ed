"""Pull-request review: render and analyse both revisions, compare them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from netpol_gitops.annotations import parse_config
from netpol_gitops.diff import Diff, Side, compare, not_generated
from netpol_gitops.gitrev import Revision, open_repo, read_revision
from netpol_gitops.inputs import read_file
from netpol_gitops.intent import Mode
from netpol_gitops.reach import Analysis
from netpol_gitops.render import namespace_objects, render
from netpol_gitops.topology import topology_of
from netpol_gitops.yamlio import Shared, dump_objects, read_documents


def side(rev: Revision, config_file: str | None, shared: Shared | None = None) -> Side:
    """One revision rendered and analysed; ``shared`` lets revisions share unchanged files'
    documents (and their parsed workloads)."""
    if config_file is not None:
        config_doc = read_documents([read_file(Path(config_file))])[0]
    elif rev.config is not None:
        config_doc = read_documents([rev.config])[0]
    else:
        config_doc = None
    config = parse_config(config_doc)
    docs = read_documents(rev.sources, shared)
    result = render(docs, config)
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


def review(
    repo_dir: str, base: str, head: str, paths: list[str], config_file: str | None = None
) -> Diff:
    repo = open_repo(repo_dir)
    shared: Shared = {}
    before = side(read_revision(repo, base, paths), config_file, shared)
    after = side(read_revision(repo, head, paths), config_file, shared)
    shared.clear()  # the analyses hold what compare needs; the documents can go
    return compare(before, after)
