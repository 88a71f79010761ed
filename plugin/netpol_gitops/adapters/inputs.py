"""Where manifests come from: a file, a folder (recursive; kustomizations in it built safely),
stdin; and which repo config applies to each part (the nearest ``.netpol-gitops.yaml``)."""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from netpol_gitops.adapters.files import Budget, as_text, decode, read_file, read_stdin
from netpol_gitops.adapters.kustomization import (
    KUSTOMIZATION_FILES,
    Kustomizations,
    kustomization_file,
    real,
)
from netpol_gitops.adapters.progress import progress
from netpol_gitops.errors import NetpolError, Problem
from netpol_gitops.generate.config import parse_config
from netpol_gitops.model.intent import Config
from netpol_gitops.model.location import Location
from netpol_gitops.yaml.document import Document, Shared
from netpol_gitops.yaml.ident import object_id
from netpol_gitops.yaml.stream import read_documents

if TYPE_CHECKING:
    from concurrent.futures import Future

    from netpol_gitops.adapters.kustomize_build import Prepared

CONFIG_FILE = ".netpol-gitops.yaml"
NOT_MANIFESTS = frozenset({*KUSTOMIZATION_FILES, CONFIG_FILE, "Kptfile"})
SUFFIXES = (".yaml", ".yml", ".json")


def repo_root(path: Path) -> Path:
    """The repository ``path`` is in: the nearest folder up with a ``.git``, else ``path`` itself
    (its folder, for a file). Symlinks are followed only while they stay inside it."""
    start = real(path)
    here = start if start.is_dir() else start.parent
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return folder
    return here


def _outside(name: str) -> Problem:
    return Problem(
        Location(name), "symlink points outside the repository; refused", rule="outside-repo"
    )


@dataclass
class Scan:
    """What a folder holds: manifest files, kustomization folders and repo configs."""

    files: list[Path] = field(default_factory=list)
    kustomizations: list[Path] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    charts: list[Problem] = field(default_factory=list)  # Helm charts: not read (see scan)
    resolved: dict[Path, Path] = field(default_factory=dict)  # file -> its symlinks resolved


def _chart(label: str) -> Problem:
    return Problem(
        Location(label), "Helm chart: render it first (helm template ... | netpol-gitops render -)"
    )


def scan(root: Path, limit: Path, label: Callable[[Path], str] = str) -> Scan:
    """Walk ``root`` (hidden entries skipped); symlinks, folders included, are followed while
    they stay inside ``limit`` and refused when they leave it. A Helm chart folder (Chart.yaml
    beside templates/) is not entered: it is listed in ``charts``."""
    found = Scan()
    limit = real(limit)
    seen: set[Path] = set()
    resolved: dict[Path, Path] = {}  # folder as walked -> resolved (from its parent's: one lstat)
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        walked = Path(dirpath)
        parent = resolved.get(walked.parent)
        here = parent / walked.name if parent and not walked.is_symlink() else real(walked)
        resolved[walked] = here
        if here in seen or not here.is_relative_to(limit):
            if not here.is_relative_to(limit):
                found.problems.append(_outside(label(Path(dirpath))))
            dirnames[:] = []
            continue
        seen.add(here)
        if "Chart.yaml" in filenames and "templates" in dirnames:
            # its templates are not YAML until helm renders them, which never happens here
            found.charts.append(_chart(label(Path(dirpath))))
            dirnames[:] = []
            continue
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        if any(name in filenames for name in KUSTOMIZATION_FILES):
            found.kustomizations.append(Path(dirpath))
        for name in sorted(filenames):
            if name.startswith(".") or name in NOT_MANIFESTS or not name.endswith(SUFFIXES):
                continue
            path = Path(dirpath) / name
            target = real(path) if path.is_symlink() else here / name
            if not target.is_relative_to(limit):
                found.problems.append(_outside(label(path)))
                continue
            found.files.append(path)
            found.resolved[path] = target
    found.files.sort(key=lambda p: p.relative_to(root).as_posix())
    return found


def manifest_files(root: Path, top: Path | None = None) -> list[Path]:
    """YAML/JSON files below ``root``, sorted by relative path; hidden entries and kustomize's
    own files skipped. Symlinks must stay inside ``top`` (default ``root``)."""
    found = scan(root, top or root)
    if found.problems or found.charts:
        raise NetpolError([*found.problems, *found.charts])
    return found.files


def nearest_config(directory: Path, root: Path, label: Callable[[Path], str] = str) -> Path | None:
    """The nearest ``.netpol-gitops.yaml`` from ``directory`` up to ``root`` (named relative to
    the working directory when ``directory`` is); refused when it is a symlink that leaves the
    repository."""
    here, root = directory.absolute(), real(root)
    while True:
        candidate = here / CONFIG_FILE
        if os.path.lexists(candidate):  # a folder of that name is refused when read, not skipped
            if not directory.is_absolute():
                candidate = Path(os.path.relpath(candidate))
            if not real(candidate).is_relative_to(root):
                raise NetpolError([_outside(label(candidate))])
            return candidate
        if real(here) == root or here.parent == here:
            return None
        here = here.parent


def _nearest(
    folder: Path, root: Path, label: Callable[[Path], str], known: dict[Path, Path | None]
) -> Path | None:
    """``nearest_config(folder)``, remembered in ``known`` with the folders above it: a folder
    inside ``root`` (by name), not a symlink and without a config of its own, has its
    parent's."""
    chain, here = [], folder
    while here not in known:
        if (
            here != root
            and here.is_relative_to(root)
            and not here.is_symlink()
            and not os.path.lexists(here / CONFIG_FILE)
        ):
            chain.append(here)
            here = here.parent
        else:
            known[here] = nearest_config(here, root, label)
    for below in chain:
        known[below] = known[here]
    return known[here]


@dataclass(frozen=True)
class Unit:
    """Manifests rendered under one config: plain files and kustomization builds, in path order.

    ``parts`` are files read as they are and folders built with kustomize."""

    where: Path  # the file or folder read
    config: Path | None
    parts: list[tuple[Path, bool]]  # (path, built with kustomize)
    split: bool = False  # some parts are the leaves of an aggregate: ids must not repeat


def plan(
    path: Path,
    root: Path,
    label: Callable[[Path], str] = str,
    walked: Kustomizations | None = None,
) -> list[Unit]:
    """The units of a file or folder: a folder with a kustomization is built; otherwise each
    kustomization under it that no other one references is built (what they reference is not
    read again as plain YAML), every other manifest is read as it is, and each part is rendered
    under its nearest ``.netpol-gitops.yaml``. Every refused reference or symlink is reported,
    once; each kustomization is read once (``walked``), however many overlays name it."""
    if path.is_file():
        return [Unit(path, nearest_config(path.parent, root, label), [(path, False)])]
    if not path.is_dir():
        raise NetpolError([Problem(Location(label(path)), "no such file or directory")])
    walked = walked or Kustomizations(root, label)
    if kustomization_file(path) is not None:
        parts = [(path, True)]
    else:
        found = scan(path, root, label)
        problems = [*found.problems, *found.charts]
        consumed: set[Path] = set()
        referenced: set[Path] = set()
        for directory in found.kustomizations:
            reach = walked.closure(directory)
            problems += reach.problems
            consumed |= reach.files
            referenced |= reach.kustomizations - {real(directory)}
        if problems:
            raise NetpolError(problems)
        parts = [(f, False) for f in found.files if found.resolved[f] not in consumed]
        parts += [(d, True) for d in found.kustomizations if real(d) not in referenced]
        parts.sort(key=lambda part: part[0].relative_to(path).as_posix())
    # a kustomization that only aggregates folders of kustomizations is built as those, one
    # by one (kustomize's cost grows faster than its input); each keeps the config of the
    # aggregate, and an id that two of them hold is refused as kustomize refuses it
    config_of: dict[Path, Path] = {}
    expanded: list[tuple[Path, bool]] = []
    for part, built in parts:
        leaves = _leaves(part, walked) if built else None
        if leaves is None or len(leaves) < split_at():
            expanded.append((part, built))
            continue
        for child in leaves:
            config_of[child] = part
            expanded.append((child, True))
    parts = expanded
    units: dict[Path | None, list[tuple[Path, bool]]] = {}
    configs: dict[Path, Path | None] = {}  # folder -> its nearest config, looked up once
    for part, built in parts:
        folder = config_of.get(part, part) if built else part.parent
        units.setdefault(_nearest(folder, root, label, configs), []).append((part, built))
    return [
        Unit(path, config, members, any(p in config_of for p, _ in members))
        for config, members in units.items()
    ]


def split_at() -> int:
    """Leaves from which an aggregate is built as its leaves: kustomize's time grows faster
    than its input (measured here: 100 folders 2 s, 300 folders 23 s, 1,000 over 300 s), while
    each separate build costs a process start (about 60 ms)."""
    raw = os.environ.get("NETPOL_GITOPS_SPLIT_AT", "")
    return int(raw) if raw.isdigit() and int(raw) > 1 else 150  # as NETPOL_GITOPS_MAX_INPUT_MB


def refuse_repeated_ids(docs: list[Document]) -> None:
    """Builds of an aggregate's leaves, read apart, must not hold one object twice: the
    aggregate's own build refuses that ("may not add resource with an already registered
    id"), so the split one does too."""
    seen: dict[tuple[str, str, str, str], str] = {}
    problems = []
    for doc in docs:
        if not doc.source.startswith("<kustomize build "):
            continue
        for key in _ids(doc):
            if key in seen and seen[key] != doc.source:
                problems.append(
                    Problem(
                        Location(doc.source),
                        f"{key[1]} {'/'.join(filter(None, key[2:]))} is also built by "
                        f"{seen[key]}; kustomize refuses an id twice in one build",
                    )
                )
            seen.setdefault(key, doc.source)
    if problems:
        raise NetpolError(problems)


def _ids(doc: Document) -> list[tuple[str, str, str, str]]:
    """(group, kind, namespace, name) of each object of a built document, read once per
    document (a review's two revisions share the documents of the builds they share)."""
    ids: list[tuple[str, str, str, str]] = doc.memo(("ids",), lambda: _read_ids(doc))
    return ids


ID_PATHS = (("apiVersion",), ("kind",), ("metadata", "namespace"), ("metadata", "name"))


def _read_ids(doc: Document) -> list[tuple[str, str, str, str]]:
    """``_ids``, parsed only as far as the metadata (a full parse of every document cost more
    than the rest of a review of 1,000 built namespaces); lists and unusual documents (aliases,
    tags) the full way."""
    single = doc.kind is not None and not doc.kind.endswith("List")
    found = _scanned_id(doc) if single and doc.plain else None
    if found is None and single:
        found = object_id(doc.text)
    if found is not None:
        api, kind, namespace, name = found
        return [(api.rpartition("/")[0], kind, namespace, name)]
    out = []
    for _, obj in doc.objects():
        meta = obj.get("metadata") or {}
        group = str(obj.get("apiVersion") or "").rpartition("/")[0]
        out.append(
            (group, str(obj.get("kind")), str(meta.get("namespace") or ""), str(meta.get("name")))
        )
    return out


def _scanned_id(doc: Document) -> tuple[str, str, str, str] | None:
    """``object_id`` of a plain document, read by indentation (``yaml.blockscan``): kustomize
    writes a ConfigMap's ``data`` before its ``kind`` and ``metadata``, which the parser's
    events walk through and a scan skips. None (read it by events) unless every name is a
    string as written (a value that resolves to a number, a boolean or null is not)."""
    from netpol_gitops.yaml.blockscan import blockscan  # noqa: PLC0415 - start-up: builds only

    got = blockscan(doc.text, ID_PATHS)
    if got is None:
        return None
    meta = got.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    names = (
        got.get("apiVersion", ""),
        got.get("kind", ""),
        meta.get("namespace", ""),
        meta.get("name", ""),
    )
    if not all(isinstance(n, str) for n in names):
        return None
    return names[0], names[1], names[2], names[3]


def _leaves(directory: Path, walked: Kustomizations) -> list[Path] | None:
    """The kustomizations an aggregate (see Kustomizations.aggregated) ends in, in order,
    through aggregates of aggregates; None when ``directory`` is not one."""
    top = walked.aggregated(directory)
    if top is None:
        return None
    out: list[Path] = []
    stack = list(reversed(top))
    while stack:
        child = stack.pop()
        deeper = walked.aggregated(child)
        if deeper is None:
            out.append(child)
        else:
            stack += reversed(deeper)
    return out


def unit_sources(
    unit: Unit,
    label: Callable[[Path], str],
    budget: Budget,
    root: Path,
    walked: Kustomizations | None = None,
    *,
    planned: Planned | None = None,
) -> Iterator[tuple[str, str | bytes]]:
    """(source name, text) of a unit's parts, in order, read as they are consumed; several
    kustomizations are built side by side (one per core, a few ahead of the reader), and a
    build the cache holds is taken at once. ``planned`` keeps each build, and gives back the
    last one of a kustomization none of whose files was written since (a review's head,
    written over its base)."""
    walked = walked or Kustomizations(root, label)
    built = [part for part, is_built in unit.parts if is_built]
    for part in built:  # walked here, once, so that the builds only read the graph
        walked.closure(part)

    def name(part: Path) -> str:
        return f"<kustomize build {label(part)}>"

    def remember(part: Path, text: str) -> str:
        if planned is not None:
            planned.built[part] = text
        return text

    def start(part: Path) -> str | Callable[[], str]:
        """The build's text when it is known (the base's, or the cache's), else the build."""
        text = planned.kept(part, walked) if planned is not None else None
        if text is not None:
            return text
        ready = prepare_build(part, root, label, walked)
        if ready.kept is not None:
            return remember(part, decode(ready.kept, name(part)))
        return lambda: remember(part, decode(ready.run(), name(part)))

    def take(part: Path, text: str) -> tuple[str, str]:
        budget.take(len(text.encode("utf-8", "surrogatepass")), name(part))
        return name(part), text

    if len(built) < 2:  # one build runs in this thread: a deadline interrupts it directly
        for part, is_built in progress(unit.parts, len(unit.parts), f"reading {label(unit.where)}"):
            if is_built:
                found = start(part)
                yield take(part, found if isinstance(found, str) else found())
            else:
                yield read_file(part, label(part), budget)
        return
    yield from _ahead(unit, built, start, take, label=label, budget=budget)


def _ahead(
    unit: Unit,
    built: list[Path],
    start: Callable[[Path], str | Callable[[], str]],
    take: Callable[[Path, str], tuple[str, str]],
    *,
    label: Callable[[Path], str],
    budget: Budget,
) -> Iterator[tuple[str, str | bytes]]:
    """``unit_sources`` of a unit with several builds: up to two per worker run ahead of the
    reader, in threads; what ``start`` knows already waits for none."""
    # start-up: the threads and the process machinery only for a folder with kustomizations
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

    from netpol_gitops.adapters.kustomize_build import kill_running  # noqa: PLC0415

    workers = min(os.cpu_count() or 1, 4)
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        ahead: deque[str | Future[str]] = deque()  # known texts, and builds running
        running = 0
        queue = iter(built)
        for part, is_built in progress(unit.parts, len(unit.parts), f"reading {label(unit.where)}"):
            if not is_built:
                yield read_file(part, label(part), budget)
                continue
            while running < 2 * workers and (nxt := next(queue, None)) is not None:
                found = start(nxt)
                if isinstance(found, str):
                    ahead.append(found)
                else:
                    ahead.append(pool.submit(found))
                    running += 1
            first = ahead.popleft()
            if not isinstance(first, str):
                running -= 1
                first = first.result()
            yield take(part, first)
    except BaseException:  # a problem, or the deadline: nothing keeps running
        kill_running()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def prepare_build(
    directory: Path, root: Path, label: Callable[[Path], str], walked: Kustomizations
) -> Prepared:
    """The safe build of ``directory`` (kustomize_build), walked and looked up in the cache."""
    from netpol_gitops.adapters.kustomize_build import prepare  # noqa: PLC0415 - start-up

    return prepare(directory, root, label, walked)


@dataclass
class Planned:
    """The plans (units, and the kustomization walks they were made with) of each path read,
    kept so that the next revision of a review can reuse them: adapters.gitrev does so only
    when the two trees hold the same names, folders, modes and links, and differ only in the
    content of files no plan read (``read``)."""

    plans: dict[str, tuple[list[Unit], Kustomizations]] = field(default_factory=dict)
    # kustomization folder -> its last build; the files written over since (None: unknown)
    built: dict[Path, str] = field(default_factory=dict)
    edited: set[Path] | None = None

    def kept(self, part: Path, walked: Kustomizations) -> str | None:
        """The last build of ``part``, when no file it reads (``Kustomizations.closure``: the
        files the build cache keys on too) has been written over since."""
        if self.edited is None or part not in self.built:
            return None
        if walked.closure(part).files & self.edited:
            return None
        return self.built[part]

    @property
    def read(self) -> set[Path]:
        """The files whose content some plan depends on (kustomizations, plugin configs)."""
        return {f for _, walked in self.plans.values() for f in walked.read}


def read_units(
    path: str,
    config: str | None,
    root: Path | None = None,
    label: Callable[[Path], str] = str,
    shared: Shared | None = None,
    *,
    planned: Planned | None = None,
) -> list[tuple[Document | None, list[Document]]]:
    """(config document, documents) for each unit of PATH (or ``-``): the one config rule of every
    command (--config when given, else the nearest .netpol-gitops.yaml up to the repository root,
    for each part). ``planned`` keeps each path's plan, and supplies it when it holds one."""
    explicit = read_config(Path(config), config and label(Path(config))) if config else None
    if path == "-":
        return [(explicit, read_documents([("<stdin>", as_text(read_stdin(), "<stdin>"))]))]
    target = Path(path)
    if not target.exists():
        raise NetpolError([Problem(Location(path), "no such file or directory")])
    top = root or repo_root(target)
    budget = Budget()
    if planned is not None and path in planned.plans:
        units, walked = planned.plans[path]
    else:
        walked = Kustomizations(top, label)
        units = plan(target, top, label, walked)
        if planned is not None:
            planned.plans[path] = (units, walked)
    out: list[tuple[Document | None, list[Document]]] = []
    for unit in units:
        docs = read_documents(
            unit_sources(unit, label, budget, top, walked, planned=planned), shared
        )
        if unit.split:
            refuse_repeated_ids(docs)
        if config is None:
            found = read_config(unit.config, label(unit.config)) if unit.config else None
            out.append((found, docs))
        else:
            out.append((explicit, docs))
    return out


def read_manifests(path: str) -> list[Document]:
    return [doc for _, docs in read_units(path, None) for doc in docs]


def read_config(path: Path, name: str | None = None) -> Document:
    docs = read_documents([read_file(path, name)])
    if len(docs) != 1:
        raise NetpolError(
            [
                Problem(
                    Location(name or str(path)),
                    "expected exactly one YAML document (a NetworkPolicyGenerator)",
                )
            ]
        )
    return docs[0]


def load_config(path: Path | None, name: str | None = None) -> Config:
    """The repo config in the file ``path`` (None: all defaults)."""
    return parse_config(read_config(path, name) if path else None)


def configured_units(
    path: str, config: str | None, root: Path | None = None, label: Callable[[Path], str] = str
) -> list[tuple[Config, list[Document]]]:
    """``read_units`` with each unit's config parsed: what render, reach and Argo CD render."""
    return [(parse_config(cfg), docs) for cfg, docs in read_units(path, config, root, label)]
