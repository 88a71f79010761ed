"""Manifests at a git revision, materialised from the git objects (gitpython) into a temporary
folder: bytes as stored, no attribute processing (no export-subst, filters, smudge or eol
conversion), no checkout, nothing from the revision executed. Then read exactly as ``render``
reads a folder (the same units, configs, symlink rule and safe kustomize build)."""

from __future__ import annotations

import dataclasses
import os
import posixpath
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import git
from gitdb.exc import BadName, BadObject  # type: ignore[import-untyped]  # no stubs

from netpol_gitops.adapters.inputs import read_units
from netpol_gitops.errors import NetpolError, Problem
from netpol_gitops.model.location import Location
from netpol_gitops.review.side import Revision
from netpol_gitops.yaml.document import Document, Shared

SYMLINK_MODE = 0o120000
MAX_REVISION_BYTES = 2 << 30  # what one revision may write to the temporary folder
MAX_REVISION_ENTRIES = 500_000  # files and folders: GitOps repositories hold thousands
MAX_BLOB_CACHE = 256 << 20  # bytes of blobs one review keeps to write the other revision


@dataclasses.dataclass
class Blobs:
    """Blob sha -> its bytes, read from git once for both revisions of a review (bounded)."""

    data: dict[str, bytes] = dataclasses.field(default_factory=dict)
    size: int = 0

    def read(self, blob: git.Blob) -> bytes:
        found = self.data.get(blob.hexsha)
        if found is None:
            found = blob.data_stream.read()
            if self.size + len(found) <= MAX_BLOB_CACHE:
                self.data[blob.hexsha] = found
                self.size += len(found)
        return found


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


def _safe_parts(path: str) -> bool:
    parts = path.split("/")
    return all(p not in ("", ".", "..") and p.lower() != ".git" and "\0" not in p for p in parts)


def _scratch() -> str | None:
    """Where to write a revision: $TMPDIR when set, else /dev/shm (memory: creating thousands of
    files there is 10 to 60 x faster than on a disk-backed /tmp, measured), else the default."""
    if os.environ.get("TMPDIR"):
        return None
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK) else None


@contextmanager
def materialised(commit: git.Commit, blobs: Blobs | None = None) -> Iterator[Path]:
    """The commit's tree written under a temporary folder, removed afterwards. ``blobs`` keeps
    what was read (up to MAX_BLOB_CACHE bytes) so that the other revision of a review reads
    from git only the blobs that differ."""
    with tempfile.TemporaryDirectory(prefix="netpol-gitops-rev-", dir=_scratch()) as tmp:
        root = Path(tmp)
        written = 0
        for count, item in enumerate(commit.tree.traverse()):
            if not isinstance(item, git.Tree | git.Blob | git.Submodule):
                continue
            name = str(item.path)
            if count >= MAX_REVISION_ENTRIES:
                raise NetpolError(
                    [Problem(Location(name), f"revision passes {MAX_REVISION_ENTRIES} entries")]
                )
            if not _safe_parts(name):
                raise NetpolError(
                    [Problem(Location(name), "path not allowed in a repository; refused")]
                )
            target = root / name
            # a crafted tree can name one path twice (a symlink, then a folder of that name) or,
            # on a case-insensitive disk, twice in two cases: nothing is written through a link
            if os.path.lexists(target) or _under_link(root, name):
                raise NetpolError(
                    [
                        Problem(
                            Location(name),
                            "named twice in the tree, or under a symlink; refused (the tree "
                            "was not made by git add)",
                        )
                    ]
                )
            if not isinstance(item, git.Blob):  # a folder, or a submodule (not in this repo)
                _write(name, target.mkdir)
                continue
            written += item.size
            if written > MAX_REVISION_BYTES:
                raise NetpolError(
                    [Problem(Location(name), f"revision passes {MAX_REVISION_BYTES >> 30} GiB")]
                )
            data = blobs.read(item) if blobs is not None else item.data_stream.read()
            if item.mode == SYMLINK_MODE:  # kept as a link: readers refuse one that leaves
                _write(name, target.symlink_to, data.decode("utf-8", "surrogateescape"))
                continue
            _write(name, _create, target, data)
        yield root


def _under_link(root: Path, name: str) -> bool:
    here = root
    for part in name.split("/")[:-1]:
        here = here / part
        if here.is_symlink():
            return True
    return False


def _create(target: Path, data: bytes) -> None:
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _write(name: str, create: Callable[..., object], *args: object) -> None:
    """``create(*args)``; a name or link target the disk refuses is a located error."""
    try:
        create(*args)
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in a link target
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise NetpolError([Problem(Location(name), f"cannot be written: {reason}")]) from None


def read_revision(
    repo: git.Repo,
    rev: str,
    paths: list[str],
    config: str | None = None,
    shared: Shared | None = None,
    *,
    blobs: Blobs | None = None,
) -> Revision:
    """Every manifest under ``paths`` at ``rev``, read as ``render`` reads a folder; ``config``
    (repository-relative) and every ``.netpol-gitops.yaml`` come from the revision's own tree."""
    commit = resolve(repo, rev)
    units: list[tuple[Document | None, list[Document]]] = []
    with materialised(commit, blobs) as root:

        def label(path: Path) -> str:
            return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)

        config_path = None
        if config is not None:
            config_path = root / config
            if not config_path.is_file():
                raise NetpolError(
                    [Problem(Location(config), f"--config: no such file at {commit.hexsha[:7]}")]
                )
        for given in paths or ["."]:
            path = posixpath.normpath(given.strip("/")) if given not in ("", ".") else "."
            if path != "." and not _safe_parts(path):
                raise NetpolError(
                    [Problem(Location(given), "--path must stay inside the repository")]
                )
            if not (root / path).exists():
                continue  # the path does not exist at this revision: no manifests
            try:
                units += read_units(
                    str(root / path),
                    str(config_path) if config_path else None,
                    root,
                    label,
                    shared,
                )
            except NetpolError as exc:  # say which revision: both are read
                at = f" (at {commit.hexsha[:7]})"
                raise NetpolError(
                    [dataclasses.replace(p, message=p.message + at) for p in exc.problems]
                ) from None
    return Revision(commit.hexsha, units)
