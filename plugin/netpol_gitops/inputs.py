"""Where manifests come from: a file, a directory (recursive), stdin, or a kustomization built
with plugins disabled. Also finds the repo config."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from netpol_gitops.errors import Location, NetpolError, Problem
from netpol_gitops.progress import progress
from netpol_gitops.yamlio import Document, read_documents

CONFIG_FILE = ".netpol-gitops.yaml"
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
NOT_MANIFESTS = frozenset({*KUSTOMIZATION_FILES, CONFIG_FILE, "Kptfile"})
SUFFIXES = (".yaml", ".yml", ".json")
BUILD_TIMEOUT = 300
MAX_INPUT_BYTES = 512 << 20  # per file or stream


def decode(data: bytes, source: str) -> str:
    if len(data) > MAX_INPUT_BYTES:
        raise NetpolError(
            [Problem(Location(source), f"larger than {MAX_INPUT_BYTES >> 20} MiB; refused")]
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise NetpolError(
            [
                Problem(
                    Location(source, line, col),
                    f"not UTF-8 text (byte "
                    f"0x{data[exc.start]:02x}); Kubernetes manifests must be "
                    "UTF-8",
                )
            ]
        ) from None


def as_text(data: bytes, source: str) -> str | bytes:
    """``decode``, except that ASCII bytes are returned as they are: the YAML reader takes
    them without the UTF-8 copy it makes of a str, and documents are cut from them (issue 8:
    one copy of a large input fewer)."""
    if len(data) <= MAX_INPUT_BYTES and data.isascii():
        return data
    return decode(data, source)


def read_file(path: Path, name: str | None = None) -> tuple[str, str | bytes]:
    label = name or str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise NetpolError([Problem(Location(label), f"cannot read: {exc.strerror}")]) from None
    return label, as_text(data, label)


def manifest_files(root: Path, top: Path | None = None) -> list[Path]:
    """YAML/JSON files below ``root``, sorted by relative path; hidden entries and kustomize's
    own files skipped. Symlinks (files or directories) must stay inside ``top`` (default
    ``root``); one that leaves it is refused."""
    found: list[Path] = []
    limit = (top or root).resolve()
    seen: set[Path] = set()
    problems: list[Problem] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        real = Path(dirpath).resolve()
        if real in seen or not real.is_relative_to(limit):
            if not real.is_relative_to(limit):
                problems.append(
                    Problem(Location(dirpath), f"symlink points outside {limit}; refused")
                )
            dirnames[:] = []
            continue
        seen.add(real)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if name.startswith(".") or name in NOT_MANIFESTS or not name.endswith(SUFFIXES):
                continue
            if not path.resolve().is_relative_to(limit):
                problems.append(
                    Problem(Location(str(path)), f"symlink points outside {limit}; refused")
                )
                continue
            found.append(path)
    if problems:
        raise NetpolError(problems)
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def kustomization(directory: Path) -> Path | None:
    for name in KUSTOMIZATION_FILES:
        if (directory / name).is_file():
            return directory / name
    return None


def build_kustomization(directory: Path) -> str:
    """``kustomize build DIR`` (else ``kubectl kustomize DIR``), never with plugins or exec."""
    if shutil.which("kustomize"):
        argv = ["kustomize", "build", str(directory)]
    elif shutil.which("kubectl"):
        argv = ["kubectl", "kustomize", str(directory)]
    else:
        raise NetpolError(
            [
                Problem(
                    Location(str(directory)),
                    "has a kustomization, but neither kustomize nor kubectl is on PATH to build it",
                )
            ]
        )
    env = {k: v for k, v in os.environ.items() if k != "KUSTOMIZE_PLUGIN_HOME"}
    try:
        done = subprocess.run(
            argv,
            capture_output=True,
            timeout=BUILD_TIMEOUT,
            check=False,
            env=env,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        raise NetpolError(
            [
                Problem(
                    Location(str(directory)),
                    f"`{' '.join(argv)}` took longer than {BUILD_TIMEOUT}s",
                )
            ]
        ) from None
    if done.returncode != 0:
        err = done.stderr.decode("utf-8", "replace").strip().replace("\n", " | ")
        if any(s in err for s in ("plugins disabled", "plugins are disabled", "--enable-helm")):
            err += (
                " | the kustomization asks for a plugin or function; netpol-gitops never runs"
                " repository code, so build it yourself and pipe it in: ... | "
                "netpol-gitops render -"
            )
        raise NetpolError([Problem(Location(str(directory)), f"`{' '.join(argv)}` failed: {err}")])
    return decode(done.stdout, f"<{argv[0]} build {directory}>")


def read_sources(path: str) -> Iterable[tuple[str, str | bytes]]:
    """(source name, text) pairs for PATH or ``-``; a directory's files are read one at a time
    as the pairs are consumed (a file's text can go once its documents are cut)."""
    if path == "-":
        return [("<stdin>", as_text(sys.stdin.buffer.read(), "<stdin>"))]
    p = Path(path)
    if p.is_dir():
        if kustomization(p) is not None:
            return [(f"<kustomize build {path}>", build_kustomization(p))]
        files = manifest_files(p)
        return (read_file(f) for f in progress(files, len(files), f"reading {path}"))
    if p.is_file():
        return [read_file(p)]
    raise NetpolError([Problem(Location(path), "no such file or directory")])


def read_manifests(path: str) -> list[Document]:
    return read_documents(read_sources(path))


def config_document(config: str | None, path: str) -> Document | None:
    """The config named by --config, else PATH/.netpol-gitops.yaml when PATH is a directory."""
    if config is None:
        candidate = Path(path) / CONFIG_FILE
        if path == "-" or not candidate.is_file():
            return None
        config = str(candidate)
    docs = read_documents([read_file(Path(config))])
    if len(docs) != 1:
        raise NetpolError(
            [
                Problem(
                    Location(config),
                    "expected exactly one YAML document (a NetworkPolicyGenerator)",
                )
            ]
        )
    return docs[0]


def write_atomic(path: Path, text: str) -> None:
    """Write through a temporary file in the same folder, then rename: never half-written."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
