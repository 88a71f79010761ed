"""Pull-request review: open the repository, read both revisions, compare them."""

from __future__ import annotations

import os
import posixpath
from pathlib import Path

import git

from netpol_gitops.adapters.files import write_atomic
from netpol_gitops.adapters.gitrev import Blobs, open_repo, read_revisions, resolve
from netpol_gitops.adapters.heap import fewer_collections
from netpol_gitops.analysis.topology import ByObject
from netpol_gitops.errors import NetpolError, Problem
from netpol_gitops.model.location import Location
from netpol_gitops.output.report import report_json, to_text
from netpol_gitops.output.report_markdown import SUMMARY_LIMIT, to_markdown
from netpol_gitops.review.compare import Diff, compare
from netpol_gitops.review.side import side
from netpol_gitops.yaml.document import Shared


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


def _in_tree(commit: git.Commit, path: str) -> bool:
    path = path.strip("/")
    if path in ("", "."):
        return True
    try:
        commit.tree / path
    except KeyError:
        return False
    return True


def require_paths(repo: git.Repo, base: str, head: str, paths: list[str]) -> None:
    """A --path in neither revision is an error: a wrong `path:` in a workflow would otherwise
    pass every pull request as "no change"."""
    commits = [resolve(repo, base), resolve(repo, head)]
    for p in paths:
        if posixpath.normpath(p.strip("/") or ".").split("/")[0] == "..":
            raise NetpolError([Problem(Location(p), "--path must stay inside the repository")])
    missing = [p for p in paths if not any(_in_tree(c, p) for c in commits)]
    if missing:
        shas = " nor ".join(c.hexsha[:7] for c in commits)
        raise NetpolError(
            [
                Problem(
                    Location(p),
                    f"--path exists in neither revision ({shas}); a wrong path would report "
                    "no change on every pull request",
                )
                for p in missing
            ]
        )


def review(
    repo_dir: str, base: str, head: str, paths: list[str], config_file: str | None = None
) -> Diff:
    repo = open_repo(repo_dir)
    require_paths(repo, base, head, paths)
    config = repo_relative(repo, config_file) if config_file else None
    shared: Shared = {}
    blobs = Blobs()  # the head's unchanged files are not read from git again
    with fewer_collections():
        revisions = read_revisions(repo, [base, head], paths, config, shared, blobs=blobs)
        memo = ByObject()  # policies and workloads of shared objects, made once
        before, after = (side(rev, shared, memo) for rev in revisions)
        blobs.data.clear()
        shared.clear()  # the analyses hold what compare needs; the documents can go
        memo.clear()
        return compare(before, after)


def write_reports(diff: Diff, folder: str, limit: int) -> None:
    """comment.md (fits a comment of ``limit``), summary.md (fits GitHub's 1 MiB job summary),
    report.md (everything), report.json and report.txt, each written whole or not at all."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "comment.md", to_markdown(diff, limit))
    artifact = "The full report is in the workflow artifact."
    write_atomic(out / "summary.md", to_markdown(diff, SUMMARY_LIMIT, artifact))
    write_atomic(out / "report.md", to_markdown(diff, limit=2**62))
    write_atomic(out / "report.json", report_json(diff))
    write_atomic(out / "report.txt", to_text(diff))
