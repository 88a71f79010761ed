"""Manifests at a git revision, materialised from the git objects (gitpython) into a temporary
folder: bytes as stored, no attribute processing (no export-subst, filters, smudge or eol
conversion), no checkout, nothing from the revision executed. Then read exactly as ``render``
reads a folder (the same units, configs, symlink rule and safe kustomize build)."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import posixpath
import subprocess
import tempfile
import threading
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from pathlib import Path

import git
from gitdb.exc import BadName, BadObject  # type: ignore[import-untyped]  # no stubs

from netpol_gitops.adapters.inputs import Planned, read_units
from netpol_gitops.adapters.kustomization import real
from netpol_gitops.errors import NetpolError, Problem
from netpol_gitops.model.location import Location
from netpol_gitops.review.side import Revision
from netpol_gitops.yaml.document import Document, Shared

SYMLINK_MODE = 0o120000
REGULAR_MODES = (0o100644, 0o100755)
MAX_REVISION_BYTES = 2 << 30  # what one revision may write to the temporary folder
MAX_REVISION_ENTRIES = 500_000  # files and folders: GitOps repositories hold thousands
MAX_BLOB_CACHE = 256 << 20  # bytes of blobs one review keeps to write the other revision


@dataclasses.dataclass
class Blobs:
    """Blob sha -> its bytes, read from git once for both revisions of a review (bounded)."""

    data: dict[str, bytes] = dataclasses.field(default_factory=dict)
    size: int = 0

    def keep(self, sha: str, data: bytes) -> None:
        if self.size + len(data) <= MAX_BLOB_CACHE:
            self.data[sha] = data
            self.size += len(data)


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
        entries = _entries(commit)
        wanted = _checked(entries)
        with contextlib.closing(_blob_data(commit.repo, wanted, blobs)) as contents:
            _write_entries(root, entries, contents)
        yield root


def _checked(entries: list[Entry]) -> list[str]:
    """The blobs to write, in order, once the tree is within bounds and every path allowed."""
    written = 0
    wanted = []
    for count, (_mode, kind, sha, size, name) in enumerate(entries):
        if count >= MAX_REVISION_ENTRIES:
            raise NetpolError(
                [Problem(Location(name), f"revision passes {MAX_REVISION_ENTRIES} entries")]
            )
        if not _safe_parts(name):
            raise NetpolError(
                [Problem(Location(name), "path not allowed in a repository; refused")]
            )
        if kind == "blob":
            written += size
            if written > MAX_REVISION_BYTES:
                raise NetpolError(
                    [Problem(Location(name), f"revision passes {MAX_REVISION_BYTES >> 30} GiB")]
                )
            wanted.append(sha)
    return wanted


def _write_entries(root: Path, entries: list[Entry], contents: Iterator[bytes]) -> None:
    """Each entry under ``root``, folders before what they hold (blob bytes from ``contents``,
    in order)."""
    base = str(root)
    links = False  # no symlink written yet: nothing can be under one
    for mode, kind, _sha, _size, name in entries:
        target = f"{base}/{name}"
        # a crafted tree can name one path twice (a symlink, then a folder of that name) or,
        # on a case-insensitive disk, twice in two cases: every create below is exclusive
        # (O_EXCL, mkdir, symlink: EEXIST), and nothing is written through a link
        if links and _under_link(root, name):
            raise NetpolError([Problem(Location(name), TWICE)])
        if kind != "blob":  # a folder, or a submodule (not in this repo)
            _write(name, os.mkdir, target)
            continue
        data = next(contents)
        if mode == SYMLINK_MODE:  # kept as a link: readers refuse one that leaves
            links = True
            _write(name, os.symlink, data.decode("utf-8", "surrogateescape"), target)
            continue
        _write(name, _create, target, data)


TWICE = "named twice in the tree, or under a symlink; refused (the tree was not made by git add)"


Entry = tuple[int, str, str, int, str]  # mode, type, sha, size, path


def _entries(commit: git.Commit) -> list[Entry]:
    """Every entry of the commit's tree, folders before what they hold: one `git ls-tree`
    (paths as stored, NUL-separated; nothing of the tree is interpreted)."""
    out: bytes = commit.repo.git.ls_tree(
        "-r", "-t", "-l", "-z", "--full-tree", commit.hexsha, stdout_as_string=False
    )
    entries = []
    for record in out.split(b"\0"):
        if not record:
            continue
        meta, _, path = record.partition(b"\t")
        mode, kind, sha, size = meta.split()
        entries.append(
            (
                int(mode, 8),
                kind.decode(),
                sha.decode(),
                int(size) if size.isdigit() else 0,
                os.fsdecode(path),
            )
        )
    return entries


def _blob_data(
    repo: git.Repo, shas: list[str], blobs: Blobs | None
) -> Generator[bytes, None, None]:
    """The blobs' bytes in order, streamed: from ``blobs`` where it has them, the rest through
    one `git cat-file --batch` fed by a thread (no round trip per object)."""
    cache = blobs if blobs is not None else Blobs()
    missing = [sha for sha in dict.fromkeys(shas) if sha not in cache.data]
    if not missing:
        yield from (cache.data[sha] for sha in shas)
        return
    proc = repo.git.cat_file("--batch", as_process=True, istream=subprocess.PIPE)

    def feed() -> None:
        with contextlib.suppress(BrokenPipeError, ValueError):
            proc.stdin.write("".join(f"{sha}\n" for sha in missing).encode())
            proc.stdin.close()

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    pending = set(missing)
    try:
        for sha in shas:
            if sha not in pending:  # cached, or read before (again from git if not kept)
                found = cache.data.get(sha)
                yield found if found is not None else repo.odb.stream(bytes.fromhex(sha)).read()
                continue
            header = proc.stdout.readline().split()
            if len(header) != 3 or header[0].decode() != sha or header[1] != b"blob":
                raise NetpolError([Problem(Location(sha), "git cannot read this blob")])
            data = proc.stdout.read(int(header[2]))
            proc.stdout.read(1)  # the newline after each object
            pending.discard(sha)
            cache.keep(sha, data)
            yield data
    finally:  # on every way out, git included: a killed git is no error of ours
        with contextlib.suppress(Exception):
            proc.kill()
        writer.join()
        with contextlib.suppress(Exception):
            proc.wait()


def _under_link(root: Path, name: str) -> bool:
    here = root
    for part in name.split("/")[:-1]:
        here = here / part
        if here.is_symlink():
            return True
    return False


def _create(target: str | Path, data: bytes) -> None:
    """A new file (never an existing one, never through a link) holding ``data``."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def _write(name: str, create: Callable[..., object], *args: object) -> None:
    """``create(*args)``; a name that exists already is named twice, and a name or link target
    the disk refuses is a located error."""
    try:
        create(*args)
    except FileExistsError:
        raise NetpolError([Problem(Location(name), TWICE)]) from None
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
    return read_revisions(repo, [rev], paths, config, shared, blobs=blobs)[0]


def read_revisions(
    repo: git.Repo,
    revs: list[str],
    paths: list[str],
    config: str | None = None,
    shared: Shared | None = None,
    *,
    blobs: Blobs | None = None,
) -> list[Revision]:
    """``read_revision`` of each of ``revs``, in order, in one scratch folder.

    A revision whose tree holds the same names, folders, modes and symlinks as the one before,
    and differs only in the content of regular files that no plan read (kustomization files and
    plugin configs are read by the plan), is written over that one's folder, file by file, and
    read with its plans: the cost of a review follows the change. Any other is written whole
    into a folder of its own. Either way the folder holds the revision's tree byte for byte."""
    out = []
    with tempfile.TemporaryDirectory(prefix="netpol-gitops-rev-", dir=_scratch()) as tmp:
        last: tuple[Path, dict[str, Entry], Planned] | None = None
        for number, rev in enumerate(revs):
            commit = resolve(repo, rev)
            entries = _entries(commit)
            wanted = _checked(entries)
            edits = (
                None if last is None else _content_edits(last[1], entries, last[2].read, last[0])
            )
            if last is not None and edits is not None:
                root, planned = last[0], last[2]
                planned.edited = {real(root / e[4]) for e in edits}  # builds of the rest hold
                with contextlib.closing(_blob_data(repo, [e[2] for e in edits], blobs)) as data:
                    for (_mode, _kind, _sha, _size, name), content in zip(edits, data, strict=True):
                        (root / name).unlink()
                        _write(name, _create, root / name, content)
            else:
                root, planned = Path(tmp) / str(number), Planned()
                root.mkdir()
                with contextlib.closing(_blob_data(repo, wanted, blobs)) as contents:
                    _write_entries(root, entries, contents)
            out.append(
                _read_tree(root, commit, paths, config=config, shared=shared, planned=planned)
            )
            last = (root, {e[4]: e for e in entries}, planned)
    return out


def _content_edits(
    before: dict[str, Entry], entries: list[Entry], read: set[Path], root: Path
) -> list[Entry] | None:
    """The entries whose content alone differs from ``before``, or None when the tree's shape
    differs (a name added or removed, a mode or kind changed, a symlink retargeted) or a file
    that a plan read changed: then the revision is written and planned afresh."""
    if len(entries) != len(before):
        return None
    edits = []
    for entry in entries:
        mode, kind, sha, _size, name = entry
        was = before.get(name)
        if was is None or was[0] != mode or was[1] != kind:
            return None
        if was[2] == sha or kind == "tree":  # a folder's id changes with what it holds
            continue
        if mode not in REGULAR_MODES or real(root / name) in read:
            return None
        edits.append(entry)
    return edits


def _read_tree(
    root: Path,
    commit: git.Commit,
    paths: list[str],
    *,
    config: str | None,
    shared: Shared | None,
    planned: Planned,
) -> Revision:
    """The revision written under ``root``, read as ``render`` reads a folder."""
    units: list[tuple[Document | None, list[Document]]] = []

    prefix = f"{root}/"

    def label(path: Path) -> str:
        text = str(path)
        if text.startswith(prefix):  # a Path's text is normalised: the common case, cheaply
            return text[len(prefix) :]
        return path.relative_to(root).as_posix() if path.is_relative_to(root) else text

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
            raise NetpolError([Problem(Location(given), "--path must stay inside the repository")])
        if not (root / path).exists():
            continue  # the path does not exist at this revision: no manifests
        try:
            units += read_units(
                str(root / path),
                str(config_path) if config_path else None,
                root,
                label,
                shared,
                planned=planned,
            )
        except NetpolError as exc:  # say which revision: both are read
            at = f" (at {commit.hexsha[:7]})"
            raise NetpolError(
                [dataclasses.replace(p, message=p.message + at) for p in exc.problems]
            ) from None
    return Revision(commit.hexsha, units)
