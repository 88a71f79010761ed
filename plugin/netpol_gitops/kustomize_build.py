"""A kustomize build of repository content that can neither run nor fetch anything.

Before kustomize sees a kustomization, every kustomization reachable from it is walked and every
entry that names a file or folder (resources, components, bases, patches of every form, generator
files and envs, replacements, openapi, crds, configurations, generators/transformers/validators
and their configs) must be a relative path to something that exists inside the repository; URLs,
``git@`` and ``host/org/repo//path`` remotes, ``?ref=`` queries, absolute paths, symlinks that
leave the repository and Helm charts are refused with a located error. Then kustomize runs in an
environment that could not reach out anyway (no git transport, no kubeconfig that points
anywhere, no CI secrets, a throw-away HOME), in its own process group, killed whole on timeout
or on any interruption (the Argo CD deadline).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from netpol_gitops.errors import Location, NetpolError, Problem, field_path
from netpol_gitops.yamlio import Document, read_documents

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
BUILD_TIMEOUT = 300
MAX_OUTPUT_BYTES = 512 << 20
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


def trusted_path() -> str:
    """PATH without its relative and empty entries: those name the working directory (a
    repository checkout, in the Action and the Argo CD sidecar), where a `kubectl` or `git`
    shipped by a pull request would otherwise be found first."""
    entries = os.environ.get("PATH", "/usr/bin:/bin").split(os.pathsep)
    return os.pathsep.join(e for e in entries if Path(e).is_absolute())


def _argv(directory: Path, repo_root: Path) -> list[str]:
    """kustomize (else kubectl) from the trusted PATH, never a program inside the repository;
    the folder never an option (a folder named --kubeconfig=kc is a path: pathlib drops a
    leading ./)."""
    where = str(directory) if directory.is_absolute() else f"./{directory}"
    for name, verb in (("kustomize", ["build"]), ("kubectl", ["kustomize"])):
        found = shutil.which(name, path=trusted_path())
        if found and not real(Path(found)).is_relative_to(real(repo_root)):
            return [found, *verb, where]
    raise NetpolError(
        [
            Problem(
                Location(str(directory)),
                "has a kustomization, but neither kustomize nor kubectl is on PATH to build it",
            )
        ]
    )


NOWHERE = "http://127.0.0.1:0"
_NOWHERE_KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters:
- name: none
  cluster: {server: "https://127.0.0.1:0"}
contexts:
- name: none
  context: {cluster: none, user: none}
users:
- name: none
  user: {}
current-context: none
"""


def sandbox_env(home: Path) -> dict[str, str]:
    """An environment built from nothing: PATH, a throw-away HOME, git that can reach no remote
    and reads no config, a kubeconfig whose server is nowhere; no tokens, no GITHUB_*/ARGOCD_*."""
    kubeconfig = home / "kubeconfig"
    kubeconfig.write_text(_NOWHERE_KUBECONFIG, encoding="utf-8")
    return {
        "PATH": trusted_path(),
        "HOME": str(home),
        "TMPDIR": str(home),
        "XDG_CONFIG_HOME": str(home),
        "LANG": "C.UTF-8",
        "KUBECONFIG": str(kubeconfig),
        "GIT_ALLOW_PROTOCOL": "",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_SSH_COMMAND": "false",
        "GIT_ASKPASS": "false",
        "SSH_ASKPASS": "false",
        # kustomize fetches http(s) URLs in patch and config paths itself: should an entry ever
        # pass the walk, every host but loopback goes to a proxy that is nowhere
        **dict.fromkeys(
            ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"),
            NOWHERE,
        ),
        "NO_PROXY": "",
        "no_proxy": "",
    }


def run_group(argv: list[str], env: dict[str, str], timeout: float) -> tuple[int, bytes, bytes]:
    """Run ``argv`` in a process group of its own; the whole group is killed when it ends, on
    timeout, or when anything (a signal handler's exception) interrupts the wait. Output goes
    through files in the sandbox HOME and is read back bounded (stdout up to MAX_OUTPUT_BYTES,
    stderr its first 64 KiB)."""
    home = Path(env["HOME"])
    with (home / "stdout").open("w+b") as out, (home / "stderr").open("w+b") as err:
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env, start_new_session=True
        )
        try:
            proc.wait(timeout=timeout)
        finally:
            _kill_group(proc.pid)  # on timeout, interruption, and children left behind (git)
            proc.wait()
        if os.fstat(out.fileno()).st_size > MAX_OUTPUT_BYTES:
            return -1, b"", f"output larger than {MAX_OUTPUT_BYTES >> 20} MiB".encode()
        out.seek(0)
        err.seek(0)
        return proc.returncode, out.read(), err.read(64 << 10)


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def build(
    directory: Path,
    repo_root: Path,
    label: Callable[[Path], str] = str,
    timeout: float = BUILD_TIMEOUT,
) -> bytes:
    """``kustomize build DIR`` (else ``kubectl kustomize DIR``) after the walk; never with
    plugins, exec, Helm or network. Raises NetpolError with every refused entry."""
    found = closure(directory, repo_root, label)
    if found.problems:
        raise NetpolError(found.problems)
    argv = _argv(directory, repo_root)
    with tempfile.TemporaryDirectory(prefix="netpol-gitops-home-") as home:
        try:
            code, out, err = run_group(argv, sandbox_env(Path(home)), timeout)
        except subprocess.TimeoutExpired:
            raise NetpolError(
                [
                    Problem(
                        Location(label(directory)),
                        f"`{Path(argv[0]).name} {argv[1]}` took longer than {timeout:g}s",
                    )
                ]
            ) from None
    if code != 0:
        text = err.decode("utf-8", "replace").strip().replace("\n", " | ")
        raise NetpolError(
            [
                Problem(
                    Location(label(directory)), f"`{Path(argv[0]).name} {argv[1]}` failed: {text}"
                )
            ]
        )
    return out
