"""The walk of a kustomization and everything it references: every entry must be a relative
path to something inside the repository; remotes, plugins and Helm are refused, located."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from netpol_gitops.errors import NetpolError, Problem
from netpol_gitops.model.location import Location, field_path
from netpol_gitops.yaml.document import Document
from netpol_gitops.yaml.stream import read_documents

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")

MAX_KUSTOMIZATION_BYTES = 1 << 20  # a kustomization file is a short list of references

# Fields whose entries are paths to kustomizations (folders) or resource files.
_KUSTOMIZATIONS = ("resources", "components", "bases")

# Fields whose entries are paths to plain files, read by kustomize itself.
_FILES = ("crds", "configurations")

# Fields whose entries are plugin configs: a path to a file (every document a builtin config)
# or inline YAML; a folder is refused (the configs its build yields are not its files).
_PLUGINS = ("generators", "transformers", "validators")

# Fields whose entries are strategic-merge patches: a path, or the patch inline (``paths`` of
# a PatchStrategicMergeTransformer config).
_INLINE_PATCHES = ("patchesStrategicMerge", "paths")

# Kinds and fields that run a program or fetch from the network: never built.
_HELM_FIELDS = ("helmCharts", "helmChartInflationGenerator", "helmGlobals")

_HELM_KINDS = frozenset({"HelmChartInflationGenerator"})

# kustomize's builtin plugins (apiVersion builtin): any other generator/transformer config is an
# external plugin or a KRM function, i.e. code from the repository
_BUILTIN_KINDS = frozenset(
    {
        "AnnotationsTransformer",
        "ConfigMapGenerator",
        "HashTransformer",
        "ImageTagTransformer",
        "LabelTransformer",
        "NamespaceTransformer",
        "PatchJson6902Transformer",
        "PatchStrategicMergeTransformer",
        "PatchTransformer",
        "PrefixSuffixTransformer",
        "PrefixTransformer",
        "SuffixTransformer",
        "ReplacementTransformer",
        "ReplicaCountTransformer",
        "SecretGenerator",
        "ValueAddTransformer",
        "SortOrderTransformer",
    }
)

NEVER_RUNS = "netpol-gitops never runs repository code"

# Compared case-insensitively: kustomize takes GitHub.com/org/repo, Git@host:repo and
# user@host/org/repo for remote bases (even when a folder of that name exists), and older
# kustomize gh:org/repo; a ':' names no relative path kustomize reads locally.
_REMOTE_MARKERS = ("://", "?", "@", ":", "//")

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


def _remote(entry: str) -> bool:
    lower = entry.strip().lower()
    return (
        lower.startswith("/")
        or lower.startswith("github.com")
        or any(m in lower for m in _REMOTE_MARKERS)
    )


class _Walker:
    def __init__(self, repo_root: Path, label: Callable[[Path], str]) -> None:
        self.root = real(repo_root)
        self.label = label
        self.closure = Closure()

    def local(self, base: Path, entry: Any, loc: Location) -> Path | None:
        """The resolved path ``entry`` names relative to ``base``, or None (with a problem)."""
        if not isinstance(entry, str) or not entry:
            self.closure.problems.append(Problem(loc, "expected a relative path"))
            return None
        if _remote(entry):
            self.closure.problems.append(
                Problem(
                    loc,
                    f"'{entry}' is a remote or absolute reference; refused (netpol-gitops never "
                    "fetches: vendor it into the repository and name it by a relative path)",
                    rule="remote-reference",
                )
            )
            return None
        target = real(base / entry)
        if not target.is_relative_to(self.root):
            self.closure.problems.append(
                Problem(
                    loc, f"'{entry}' points outside the repository; refused", rule="outside-repo"
                )
            )
            return None
        if not target.exists():
            self.closure.problems.append(
                Problem(
                    loc,
                    f"'{entry}' does not exist in the repository (remote bases such as "
                    "host/org/repo//path are refused)",
                    rule="remote-reference",
                )
            )
            return None
        return target

    def kustomization(self, directory: Path, loc: Location | None = None) -> None:
        directory = real(directory)
        if directory in self.closure.kustomizations:
            return
        found = kustomization_file(directory)
        if found is None:
            if loc is not None:
                self.closure.problems.append(Problem(loc, "folder has no kustomization file"))
            return
        self.closure.kustomizations.add(directory)
        path = real(found)
        if not path.is_relative_to(self.root):
            self.closure.problems.append(
                Problem(
                    Location(self.label(found)), "symlink points outside the repository; refused"
                )
            )
            return
        self.closure.files.add(path)
        doc = self._read(found)
        if doc is not None:
            self._entries_of(directory, doc.data(), doc.location)

    def _read(self, path: Path) -> Document | None:
        try:
            if path.stat().st_size > MAX_KUSTOMIZATION_BYTES:
                raise NetpolError(
                    [Problem(Location(str(path)), "larger than 1 MiB; refused (a kustomization?)")]
                )
            text = path.read_bytes().decode("utf-8", "replace")
            docs = read_documents([(self.label(path), text)])
        except NetpolError as exc:
            self.closure.problems.extend(exc.problems)
            return None
        except OSError as exc:
            self.closure.problems.append(
                Problem(Location(self.label(path)), f"cannot read: {exc.strerror}")
            )
            return None
        return docs[0] if docs else None

    def _read_all(self, path: Path) -> list[Document]:
        """Every document of a plugin config file (kustomize configures one plugin each)."""
        try:
            if path.stat().st_size > MAX_KUSTOMIZATION_BYTES:
                raise NetpolError(
                    [Problem(Location(str(path)), "larger than 1 MiB; refused (a plugin config?)")]
                )
            return read_documents(
                [(self.label(path), path.read_bytes().decode("utf-8", "replace"))]
            )
        except NetpolError as exc:
            self.closure.problems.extend(exc.problems)
        except OSError as exc:
            self.closure.problems.append(
                Problem(Location(self.label(path)), f"cannot read: {exc.strerror}")
            )
        return []

    def _entries_of(self, base: Path, data: Any, locate: Locate, plugin: bool = False) -> None:
        if not isinstance(data, dict):
            return
        if plugin and data.get("kind") not in _BUILTIN_KINDS:
            what = (
                "Helm chart inflation"
                if data.get("kind") in _HELM_KINDS
                else "a plugin or function"
            )
            self.closure.problems.append(
                Problem(
                    locate(["kind"]),
                    f"{what} ({data.get('kind')}); refused: {NEVER_RUNS} (build it yourself "
                    "and pipe it in: ... | netpol-gitops render -)",
                    rule="remote-reference",
                )
            )
            return
        for key, entry, path in _entries(data):
            self._entry(base, key, entry, path, locate)

    def _entry(
        self, base: Path, key: str, entry: Any, path: list[str | int], locate: Locate
    ) -> None:
        loc = locate(path)
        if key in _HELM_FIELDS:
            self.closure.problems.append(
                Problem(
                    loc,
                    f"Helm charts run a program and fetch from the network; refused ({NEVER_RUNS}"
                    "; render the chart into the repository and name the files)",
                    rule="remote-reference",
                )
            )
            return
        if isinstance(entry, str) and "\n" in entry and key in (*_PLUGINS, *_INLINE_PATCHES):
            # inline when it reads as YAML objects (kustomize's rule); else a path, walked
            docs = _objects(loc.source, entry)
            if docs is not None:
                if key in _PLUGINS:  # an inline plugin config
                    for doc in docs:
                        self._entries_of(base, doc.data(), _within(loc), plugin=True)
                return  # an inline patch: names no file

        target = self.local(base, entry, loc)
        if target is None:
            return
        if target.is_dir():
            if key in _PLUGINS:  # kustomize builds it: the configs it yields are not these files
                self.closure.problems.append(
                    Problem(
                        loc,
                        f"'{entry}' is a folder: the plugin configs its kustomization yields "
                        "cannot be checked before the build; refused (name the config files)",
                        rule="remote-reference",
                    )
                )
            elif key in _KUSTOMIZATIONS:
                self.kustomization(target, loc)
            else:
                self.closure.problems.append(Problem(loc, f"'{entry}' is a folder, not a file"))
            return
        self.closure.files.add(target)
        if key in _PLUGINS:  # builtin plugin configs, every document: their paths are read too
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


def _entries(data: dict[str, Any]) -> Iterator[tuple[str, Any, list[str | int]]]:
    """(field, entry, path in the document) of every entry of a kustomization (or a builtin
    plugin config) that names a file or folder."""
    for key in (*_KUSTOMIZATIONS, *_FILES, *_PLUGINS, *_INLINE_PATCHES):
        for i, entry in enumerate(_list(data.get(key))):
            yield key, entry, [key, i]
    for key in _HELM_FIELDS:
        if data.get(key):
            yield key, data[key], [key]
    for key in ("patches", "patchesJson6902", "replacements"):
        for i, item in enumerate(_list(data.get(key))):
            if isinstance(item, dict) and "path" in item:
                yield key, item["path"], [key, i, "path"]
    if isinstance(data.get("path"), str):  # a builtin plugin config (PatchTransformer, ...)
        yield "path", data["path"], ["path"]
    openapi = data.get("openapi")
    if isinstance(openapi, dict) and "path" in openapi:
        yield "openapi", openapi["path"], ["openapi", "path"]
    yield from _generator_entries(data)


def _generator_entries(data: dict[str, Any]) -> Iterator[tuple[str, Any, list[str | int]]]:
    """The files and envs of configMapGenerator/secretGenerator entries (or of such a
    builtin plugin config itself)."""
    generators: list[tuple[list[str | int], Any]] = [
        (["configMapGenerator", i], g) for i, g in enumerate(_list(data.get("configMapGenerator")))
    ]
    generators += [
        (["secretGenerator", i], g) for i, g in enumerate(_list(data.get("secretGenerator")))
    ]
    if data.get("kind") in ("ConfigMapGenerator", "SecretGenerator"):
        generators.append(([], data))
    for head, gen in generators:
        if not isinstance(gen, dict):
            continue
        for j, entry in enumerate(_list(gen.get("files"))):
            value = entry.split("=", 1)[-1] if isinstance(entry, str) else entry
            yield "files", value, [*head, "files", j]
        for j, entry in enumerate(_list(gen.get("envs"))):
            yield "envs", entry, [*head, "envs", j]
        if "env" in gen:
            yield "env", gen["env"], [*head, "env"]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def closure(directory: Path, repo_root: Path, label: Callable[[Path], str] = str) -> Closure:
    """Walk the kustomization in ``directory`` and everything it reaches (problems collected)."""
    walker = _Walker(repo_root, label)
    walker.kustomization(directory)
    return walker.closure
