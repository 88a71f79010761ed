"""Built kustomization roots kept by their content (opt-in: ``--build-cache DIR`` or
``NETPOL_GITOPS_BUILD_CACHE``), so that a review builds only what a pull request changed.

The key is a sha256 over this format's version, kustomize's version text, the build command, the
root's folder relative to the repository, the kustomization file names present in every
kustomization folder it reaches (kustomize refuses a folder with two), and every file it reads,
transitively (relative path, size and bytes, read with the bounds of any input). A root whose
set cannot be known exactly is built each time and never kept: one that reaches anything through
a symlink (the names kustomize reads are then not the paths hashed), a file that cannot be read
within the bounds, a kustomize whose version cannot be asked.

An entry is a header (format, key, sha256 and size of the body) and the build's bytes, written
through a temporary file and a rename in folders only the user can enter (0700, files 0600).
Reading one back goes through the bounded reader; an entry whose header or digest does not hold
is a miss, said on stderr, and is rebuilt: never an error, never other output. The folder is
bounded (``NETPOL_GITOPS_BUILD_CACHE_MB``, default 1024): past it the entries used least
recently go. A cache folder inside the repository being read is refused: the repository could
ship entries of its own.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import sys
import tempfile
import threading
from pathlib import Path

from netpol_gitops.adapters.files import MAX_INPUT_BYTES, read_regular
from netpol_gitops.adapters.kustomization import KUSTOMIZATION_FILES, Closure, real
from netpol_gitops.errors import NetpolError, Problem
from netpol_gitops.model.location import Location

ENV = "NETPOL_GITOPS_BUILD_CACHE"
ENV_MB = "NETPOL_GITOPS_BUILD_CACHE_MB"
DEFAULT_MB = 1024
FORMAT = b"netpol-gitops build cache 1"
MAX_ENTRY_BYTES = MAX_INPUT_BYTES  # what the reader takes back

_chosen: dict[str, str] = {}  # "dir": the --build-cache option (wins over the environment)
_lock = threading.Lock()
_size: dict[Path, int] = {}  # bytes in each folder, counted at its first write of a run


def configure(directory: str | None) -> None:
    """The cache folder of this run (None: the environment's, if any)."""
    if directory:
        _chosen["dir"] = directory
    else:
        _chosen.pop("dir", None)


def location() -> Path | None:
    """The cache folder, or None when the cache is off."""
    chosen = _chosen.get("dir") or os.environ.get(ENV, "")
    return Path(chosen).absolute() if chosen else None


@functools.lru_cache(maxsize=16)
def _resolved(path: str) -> str:
    """``real(path)`` as text, once per run (every key resolves the repository's root)."""
    return str(real(Path(path)))


@functools.lru_cache(maxsize=16)
def _inside(folder: str, repo: str) -> bool:
    """Whether ``folder`` resolves inside ``repo`` (asked once per run and pair: every build
    asks)."""
    return real(Path(folder)).is_relative_to(real(Path(repo)))


def refuse_inside(repo: Path) -> None:
    """A located error when the cache folder is inside ``repo`` (its entries could come from
    the repository)."""
    folder = location()
    if folder is not None and _inside(str(folder), str(repo)):
        raise NetpolError(
            [
                Problem(
                    Location("--build-cache"),
                    f"{folder} is inside the repository being read ({repo}); refused (a "
                    "repository could ship entries of its own: keep the cache outside it)",
                )
            ]
        )


def key(
    directory: Path, repo_root: Path, found: Closure, command: list[str], version: bytes
) -> str | None:
    """The key of the build of ``directory`` (its walk: ``found``), or None when what it reads
    cannot be known exactly (see the module's text)."""
    if found.linked:
        return None
    top = _resolved(str(repo_root))
    prefix = top.rstrip(os.sep) + os.sep
    digest = hashlib.sha256()

    def put(data: bytes) -> None:
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)

    def rel(path: Path) -> str:
        # the walk keeps resolved paths inside the repository (it refuses any other)
        text = str(path)
        return "." if text == top else text.removeprefix(prefix)

    put(FORMAT)
    put(version)
    put("\0".join(command).encode())
    put(os.fsencode(rel(real(directory))))
    for folder in sorted(found.kustomizations, key=rel):
        present = [n for n in KUSTOMIZATION_FILES if os.path.lexists(folder / n)]
        if any((folder / n).is_symlink() for n in present):
            return None
        put(os.fsencode(rel(folder)))
        put("\0".join(present).encode())
    for name, path in sorted((rel(p), p) for p in found.files):
        data = _read(path, MAX_INPUT_BYTES)
        if data is None:
            return None
        put(os.fsencode(name))
        put(data)
    return digest.hexdigest()


def _read(path: Path, bound: int) -> bytes | None:
    """A regular file's bytes (``files.read_regular``), or None: not a regular file, past
    ``bound``, unreadable, or grown or shrunk while read."""
    try:
        found = read_regular(path, bound)
    except OSError:
        return None
    return found[0] if found is not None and len(found[0]) == found[1] <= bound else None


def _path(folder: Path, entry: str) -> Path:
    return folder / entry[:2] / entry


def _header(entry: str, body: bytes) -> bytes:
    return b"%s\nkey %s\nsha256 %s\nsize %d\n\n" % (
        FORMAT,
        entry.encode(),
        hashlib.sha256(body).hexdigest().encode(),
        len(body),
    )


def _note(message: str) -> None:
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(f"netpol-gitops: warning: build cache: {message}\n")
        sys.stderr.flush()


def lookup(entry: str) -> bytes | None:
    """The build kept under ``entry``, or None (absent, unreadable, corrupt: said on stderr)."""
    folder = location()
    if folder is None:
        return None
    path = _path(folder, entry)
    if not path.exists():
        return None
    data = _read(path, MAX_ENTRY_BYTES + 4096)  # the body and its header
    if data is None:
        _note(f"{path} cannot be read as a regular file within the bounds; built again")
        return None
    head, sep, body = data.partition(b"\n\n")
    if sep and head + sep == _header(entry, body):
        with contextlib.suppress(OSError):
            os.utime(path)  # used now: the last to go when the folder is pruned
        return body
    _note(f"{path} is corrupt or truncated (its header or digest does not hold); built again")
    return None


def store(entry: str, body: bytes) -> None:
    """Keep ``body`` under ``entry`` (written whole or not at all); a folder that cannot be
    written is said on stderr, never an error."""
    folder = location()
    if folder is None or len(body) > MAX_ENTRY_BYTES:
        return
    target = _path(folder, entry)
    tmp = None
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        target.parent.mkdir(mode=0o700, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)  # 0600
        with os.fdopen(fd, "wb") as out:
            out.write(_header(entry, body))
            out.write(body)
        Path(tmp).replace(target)
        tmp = None
    except OSError as exc:
        _note(f"cannot write {target}: {exc.strerror or exc}")
        return
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                Path(tmp).unlink()
    _prune(folder, target.stat().st_size)


def max_bytes() -> int:
    raw = os.environ.get(ENV_MB, "")
    return (int(raw) if raw.isdigit() and int(raw) > 0 else DEFAULT_MB) << 20


def _entries(folder: Path) -> list[tuple[float, int, str]]:
    """(last use, size, path) of every entry in the folder."""
    out = []
    with contextlib.suppress(OSError):
        for sub in os.scandir(folder):
            if not sub.is_dir(follow_symlinks=False) or len(sub.name) != 2:
                continue
            with contextlib.suppress(OSError):
                for item in os.scandir(sub.path):
                    if item.is_file(follow_symlinks=False) and not item.name.startswith("."):
                        info = item.stat(follow_symlinks=False)
                        out.append((info.st_mtime, info.st_size, item.path))
    return out


def _prune(folder: Path, added: int) -> None:
    """Past the bound, the entries used least recently go (down to nine tenths of it)."""
    with _lock:
        if folder not in _size:
            _size[folder] = sum(size for _, size, _ in _entries(folder))
        else:
            _size[folder] += added
        bound = max_bytes()
        if _size[folder] <= bound:
            return
        for _, size, path in sorted(_entries(folder)):
            if _size[folder] <= bound * 9 // 10:
                break
            with contextlib.suppress(OSError):
                Path(path).unlink()
                _size[folder] -= size
