"""The walk of a kustomization and everything it references: every entry must be a relative
path to something inside the repository; remotes, plugins and Helm are refused, located."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from netpol_gitops.adapters.kustomize_fields import (
    BUILTIN_KINDS,
    HELM_FIELDS,
    HELM_KINDS,
    INLINE_PATCHES,
    KUSTOMIZATIONS,
    PLUGINS,
    REMOTE_MARKERS,
    entries,
)
from netpol_gitops.errors import NetpolError, Problem
from netpol_gitops.model.location import Location, field_path
from netpol_gitops.yaml.document import Document
from netpol_gitops.yaml.stream import read_documents

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")

MAX_KUSTOMIZATION_BYTES = 1 << 20  # a kustomization file is a short list of references

NEVER_RUNS = "netpol-gitops never runs repository code"

Locate = Callable[[list[str | int]], Location]


def real(path: Path) -> Path:
    """``path`` with every symlink resolved; a symlink loop stays a path (which then neither
    exists nor reads) instead of the RuntimeError of ``Path.resolve``."""
    return Path(os.path.realpath(path))


def kustomization_file(directory: Path) -> Path | None:
    for name in KUSTOMIZATION_FILES:
        if (directory / name).is_file():
            return directory / name
    return None


@dataclass
class Closure:
    """What a kustomization reads: its own files, and every file and kustomization it names."""

    files: set[Path] = field(default_factory=set)  # resolved paths of every file read
    kustomizations: set[Path] = field(default_factory=set)  # resolved kustomization folders
    problems: list[Problem] = field(default_factory=list)
    linked: bool = False  # something was reached through a symlink (names != resolved paths)


def _remote(entry: str) -> bool:
    lower = entry.strip().lower()
    return (
        lower.startswith("/")
        or lower.startswith("github.com")
        or any(m in lower for m in REMOTE_MARKERS)
    )


@dataclass
class _Node:
    """One kustomization as read once: the files it reads itself, the kustomizations it names,
    the problems of its own entries."""

    files: set[Path] = field(default_factory=set)
    children: set[Path] = field(default_factory=set)
    problems: list[Problem] = field(default_factory=list)
    linked: bool = False  # an entry (or the kustomization file) is reached through a symlink
    # the folders it only aggregates, in order: it names nothing but `resources` that are
    # folders with kustomizations, and transforms nothing (None: it does more)
    aggregates: list[Path] | None = None


AGGREGATOR_KEYS = {"apiVersion", "kind", "resources"}


class _Walker:
    def __init__(self, repo_root: Path, label: Callable[[Path], str]) -> None:
        self.root = real(repo_root)
        self.label = label
        self.nodes: dict[Path, _Node | None] = {}  # None: the folder holds no kustomization
        self.node = _Node()  # the node being read (its entries add to it)
        self.read: set[Path] = set()  # resolved paths of the files whose content was read
        self._real: dict[Path, Path] = {}

    def real(self, path: Path) -> Path:
        """``real(path)``, resolved once per path: a walk lasts while its tree keeps its shape
        (a review's head is written over its base only when names, modes and links are the
        same), and the same folders are resolved again and again (each build, each closure)."""
        found = self._real.get(path)
        if found is None:
            parent = self._real.get(path.parent)
            if parent is not None and path.name not in ("", ".", "..") and not path.is_symlink():
                found = parent / path.name  # a name under a resolved folder, not a link
            else:
                found = real(path)
            self._real[path] = found
            self._real.setdefault(found, found)  # a resolved path resolves to itself
        return found

    def local(self, base: Path, entry: Any, loc: Location) -> Path | None:
        """The resolved path ``entry`` names relative to ``base``, or None (with a problem)."""
        if not isinstance(entry, str) or not entry:
            self.node.problems.append(Problem(loc, "expected a relative path"))
            return None
        if _remote(entry):
            self.node.problems.append(
                Problem(
                    loc,
                    f"'{entry}' is a remote or absolute reference; refused (netpol-gitops never "
                    "fetches: vendor it into the repository and name it by a relative path)",
                    rule="remote-reference",
                )
            )
            return None
        target = self.real(base / entry)
        if os.path.normpath(base / entry) != str(target):
            self.node.linked = True
        if not target.is_relative_to(self.root):
            self.node.problems.append(
                Problem(
                    loc, f"'{entry}' points outside the repository; refused", rule="outside-repo"
                )
            )
            return None
        if not target.exists():
            self.node.problems.append(
                Problem(
                    loc,
                    f"'{entry}' does not exist in the repository (remote bases such as "
                    "host/org/repo//path are refused)",
                    rule="remote-reference",
                )
            )
            return None
        return target

    def kustomization(self, directory: Path, loc: Location) -> None:
        """A kustomization named by an entry: a child of the node being read."""
        if kustomization_file(self.real(directory)) is None:
            self.node.problems.append(Problem(loc, "folder has no kustomization file"))
            return
        self.node.children.add(self.real(directory))

    def visit(self, directory: Path) -> _Node | None:
        """The kustomization in ``directory``, read once."""
        directory = self.real(directory)
        if directory in self.nodes:
            return self.nodes[directory]
        found = kustomization_file(directory)
        node = None if found is None else _Node()
        self.nodes[directory] = node
        if found is None or node is None:
            return None
        self.node = node
        path = real(found)
        node.linked = path != found
        if not path.is_relative_to(self.root):
            node.problems.append(
                Problem(
                    Location(self.label(found)), "symlink points outside the repository; refused"
                )
            )
            return node
        node.files.add(path)
        doc = self._read(found)
        if doc is not None:
            data = doc.data()
            self._entries_of(directory, data, doc.location)
            node.aggregates = self._aggregated(directory, data, node)
        return node

    def _aggregated(self, directory: Path, data: Any, node: _Node) -> list[Path] | None:
        """The folders a kustomization only aggregates (see _Node.aggregates), else None."""
        if not isinstance(data, dict) or set(data) - AGGREGATOR_KEYS or node.problems:
            return None
        entries = data.get("resources")
        if not isinstance(entries, list) or not entries or len(node.files) != 1:
            return None
        folders = [self.real(directory / str(e)) for e in entries]
        if len(set(folders)) != len(folders) or any(f not in node.children for f in folders):
            return None
        return folders

    def _read(self, path: Path) -> Document | None:
        """A kustomization file's (first) document: kustomize reads no other."""
        docs = self._read_all(path)
        return docs[0] if docs else None

    def _read_all(self, path: Path) -> list[Document]:
        """Every document of a kustomization or plugin config file, within 1 MiB."""
        self.read.add(real(path))
        try:
            if path.stat().st_size > MAX_KUSTOMIZATION_BYTES:
                raise NetpolError(
                    [Problem(Location(self.label(path)), "larger than 1 MiB; refused")]
                )
            return read_documents(
                [(self.label(path), path.read_bytes().decode("utf-8", "replace"))]
            )
        except NetpolError as exc:
            self.node.problems.extend(exc.problems)
        except OSError as exc:
            self.node.problems.append(
                Problem(Location(self.label(path)), f"cannot read: {exc.strerror}")
            )
        return []

    def _entries_of(self, base: Path, data: Any, locate: Locate, plugin: bool = False) -> None:
        if not isinstance(data, dict):
            return
        if plugin and data.get("kind") not in BUILTIN_KINDS:
            what = (
                "Helm chart inflation" if data.get("kind") in HELM_KINDS else "a plugin or function"
            )
            self.node.problems.append(
                Problem(
                    locate(["kind"]),
                    f"{what} ({data.get('kind')}); refused: {NEVER_RUNS} (build it yourself "
                    "and pipe it in: ... | netpol-gitops render -)",
                    rule="remote-reference",
                )
            )
            return
        for key, entry, path in entries(data):
            self._entry(base, key, entry, path, locate)

    def _entry(
        self, base: Path, key: str, entry: Any, path: list[str | int], locate: Locate
    ) -> None:
        loc = locate(path)
        if key in HELM_FIELDS:
            self.node.problems.append(
                Problem(
                    loc,
                    f"Helm charts run a program and fetch from the network; refused ({NEVER_RUNS}"
                    "; render the chart into the repository and name the files)",
                    rule="remote-reference",
                )
            )
            return
        if isinstance(entry, str) and "\n" in entry and key in (*PLUGINS, *INLINE_PATCHES):
            # inline when it reads as YAML objects (kustomize's rule); else a path, walked
            docs = _objects(loc.source, entry)
            if docs is not None:
                if key in PLUGINS:  # an inline plugin config
                    for doc in docs:
                        self._entries_of(base, doc.data(), _within(loc), plugin=True)
                return  # an inline patch: names no file

        target = self.local(base, entry, loc)
        if target is None:
            return
        if target.is_dir():
            if key in PLUGINS:  # kustomize builds it: the configs it yields are not these files
                self.node.problems.append(
                    Problem(
                        loc,
                        f"'{entry}' is a folder: the plugin configs its kustomization yields "
                        "cannot be checked before the build; refused (name the config files)",
                        rule="remote-reference",
                    )
                )
            elif key in KUSTOMIZATIONS:
                self.kustomization(target, loc)
            else:
                self.node.problems.append(Problem(loc, f"'{entry}' is a folder, not a file"))
            return
        self.node.files.add(target)
        if key in PLUGINS:  # builtin plugin configs, every document: their paths are read too
            for config in self._read_all(target):
                self._entries_of(base, config.data(), config.location, plugin=True)


def _objects(source: str, text: str) -> list[Document] | None:
    """The documents of an inline entry when it reads as YAML objects, else None."""
    try:
        docs = read_documents([(source, text)])
    except NetpolError:
        return None
    return docs if docs and all(isinstance(d.data(), dict) for d in docs) else None


def _within(loc: Location) -> Locate:
    return lambda path: loc.with_field(f"{loc.field} {field_path(path)}")


class Kustomizations:
    """The kustomizations of one repository, each read once however many others name it: a
    closure is a walk of what was read."""

    def __init__(self, repo_root: Path, label: Callable[[Path], str] = str) -> None:
        self._walker = _Walker(repo_root, label)

    def closure(self, directory: Path) -> Closure:
        """The kustomization in ``directory`` and everything it reaches (problems collected)."""
        out = Closure()
        stack = [self._walker.real(directory)]
        while stack:
            folder = stack.pop()
            if folder in out.kustomizations:
                continue
            node = self._walker.visit(folder)
            if node is None:
                continue
            out.kustomizations.add(folder)
            out.files |= node.files
            out.problems += node.problems
            out.linked |= node.linked
            stack += sorted(node.children)
        return out

    @property
    def read(self) -> set[Path]:
        """The files whose content the walks so far read (kustomizations, plugin configs): what
        a plan made with these walks depends on, beyond names and folders."""
        return self._walker.read

    def aggregated(self, directory: Path) -> list[Path] | None:
        """The folders the kustomization in ``directory`` only aggregates, in order (each
        one's build is what the aggregate's build holds of it), or None."""
        node = self._walker.visit(self._walker.real(directory))
        return None if node is None else node.aggregates


def closure(directory: Path, repo_root: Path, label: Callable[[Path], str] = str) -> Closure:
    """Walk the kustomization in ``directory`` and everything it reaches (problems collected)."""
    return Kustomizations(repo_root, label).closure(directory)
