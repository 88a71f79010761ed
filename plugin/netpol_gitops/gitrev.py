"""Manifests at a git revision, read from the git objects (gitpython): no checkout, no worktree,
nothing from the revision executed. A kustomization is built from a temporary export
(``git archive``) with plugins disabled."""

from __future__ import annotations

import io
import posixpath
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import git
from gitdb.exc import BadName, BadObject  # type: ignore[import-untyped]  # no stubs

from netpol_gitops.errors import Location, NetpolError, Problem
from netpol_gitops.inputs import (
    CONFIG_FILE,
    KUSTOMIZATION_FILES,
    NOT_MANIFESTS,
    SUFFIXES,
    as_text,
    build_kustomization,
    decode,
)
from netpol_gitops.progress import progress

SYMLINK_MODE = 0o120000


@dataclass(frozen=True)
class Revision:
    sha: str
    sources: list[tuple[str, str | bytes]]  # (source name, text), in path order
    config: tuple[str, str] | None  # the repo config at the revision's root, if any


def open_repo(path: str) -> git.Repo:
    try:
        return git.Repo(path, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise NetpolError([Problem(Location(path), "not inside a git repository")]) from None


def resolve(repo: git.Repo, rev: str) -> git.Commit:
    try:
        return repo.commit(rev)
    except (BadName, BadObject, ValueError, git.GitCommandError):
        shallow = Path(repo.git_dir, "shallow").exists()
        hint = (
            (f"; this is a shallow clone: fetch it first, e.g. `git fetch --depth=1 origin {rev}`")
            if shallow
            else "; fetch it first, e.g. `git fetch origin " + rev + "`"
        )
        raise NetpolError(
            [Problem(Location(rev), f"revision '{rev}' is not in this repository" + hint)]
        ) from None


def _blob_text(repo: git.Repo, commit: git.Commit, path: str, label: str) -> str | bytes:
    """A file's text at the commit, following symlinks that stay inside the repository."""
    for _ in range(8):
        try:
            blob = commit.tree / path
        except KeyError:
            raise NetpolError([Problem(Location(label), "symlink target is missing")]) from None
        if blob.mode != SYMLINK_MODE:
            return as_text(blob.data_stream.read(), label)
        target = blob.data_stream.read().decode("utf-8", "replace")
        joined = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
        if target.startswith("/") or joined.startswith("../") or joined == "..":
            raise NetpolError(
                [Problem(Location(label), "symlink points outside the repository; refused")]
            )
        path = joined
    raise NetpolError([Problem(Location(label), "too many levels of symlinks")])


def _has_kustomization(commit: git.Commit, path: str) -> bool:
    for name in KUSTOMIZATION_FILES:
        try:
            commit.tree / (name if path == "." else posixpath.join(path, name))
        except KeyError:
            continue
        return True
    return False


def _export_and_build(repo: git.Repo, commit: git.Commit, path: str) -> str:
    with tempfile.TemporaryDirectory(prefix="netpol-gitops-") as tmp:
        data = repo.git.archive(commit.hexsha, format="tar", stdout_as_string=False)
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            tar.extractall(tmp, filter="data")  # refuses links and paths leaving tmp
        return build_kustomization(Path(tmp) / path)


def read_revision(repo: git.Repo, rev: str, paths: list[str]) -> Revision:
    """Every manifest under ``paths`` at ``rev`` (kustomizations built, plugins disabled)."""
    commit = resolve(repo, rev)
    short = commit.hexsha[:7]
    sources: list[tuple[str, str | bytes]] = []
    for given in paths or ["."]:
        path = posixpath.normpath(given.strip("/")) if given not in ("", ".") else "."
        if path.startswith(".."):
            raise NetpolError([Problem(Location(path), "--path must stay inside the repository")])
        if _has_kustomization(commit, path):
            sources.append(
                (f"{short}:<kustomize build {path}>", _export_and_build(repo, commit, path))
            )
            continue
        try:
            tree = commit.tree if path == "." else commit.tree / path
        except KeyError:
            continue  # the path does not exist at this revision: no manifests
        files = []
        for item in tree.traverse():
            if not isinstance(item, git.Blob):
                continue
            file = str(item.path)
            name = posixpath.basename(file)
            if any(part.startswith(".") for part in file.split("/")):
                continue
            if name in NOT_MANIFESTS or not name.endswith(SUFFIXES):
                continue
            files.append(file)
        for file in progress(sorted(files), len(files), f"reading {short}:{path}"):
            sources.append((file, _blob_text(repo, commit, file, f"{short}:{file}")))
    config = None
    try:
        blob = commit.tree / CONFIG_FILE
        config = (CONFIG_FILE, decode(blob.data_stream.read(), f"{short}:{CONFIG_FILE}"))
    except KeyError:
        pass
    return Revision(commit.hexsha, sources, config)
