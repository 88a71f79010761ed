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
import functools
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from netpol_gitops.adapters import build_cache
from netpol_gitops.adapters.kustomization import Closure, Kustomizations, real
from netpol_gitops.adapters.search_path import trusted_path
from netpol_gitops.errors import NetpolError, Problem
from netpol_gitops.model.location import Location

BUILD_TIMEOUT = 300
VERSION_TIMEOUT = 30
MAX_OUTPUT_BYTES = 512 << 20


def _argv(directory: Path, repo_root: Path) -> list[str]:
    """kustomize (else kubectl) from the trusted PATH, never a program inside the repository;
    the folder never an option (a folder named --kubeconfig=kc is a path: pathlib drops a
    leading ./)."""
    where = str(directory) if directory.is_absolute() else f"./{directory}"
    program = _program(trusted_path(), str(repo_root))
    if program is not None:
        return [*program, where]
    raise NetpolError(
        [
            Problem(
                Location(str(directory)),
                "has a kustomization, but neither kustomize nor kubectl is on PATH to build it",
            )
        ]
    )


@functools.lru_cache(maxsize=16)
def _program(search: str, repo_root: str) -> tuple[str, ...] | None:
    """The build command found on ``search`` outside ``repo_root``, looked up once per run (a
    repository of kustomizations builds hundreds)."""
    root = real(Path(repo_root))
    for name, verb in (("kustomize", ("build",)), ("kubectl", ("kustomize",))):
        found = shutil.which(name, path=search)
        if found and not real(Path(found)).is_relative_to(root):
            return (found, *verb)
    return None


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
        with _LIVE_LOCK:
            _LIVE.add(proc.pid)
        try:
            proc.wait(timeout=timeout)
        finally:
            _kill_group(proc.pid)  # on timeout, interruption, and children left behind (git)
            proc.wait()
            with _LIVE_LOCK:
                _LIVE.discard(proc.pid)
        if os.fstat(out.fileno()).st_size > MAX_OUTPUT_BYTES:
            return -1, b"", f"output larger than {MAX_OUTPUT_BYTES >> 20} MiB".encode()
        out.seek(0)
        err.seek(0)
        return proc.returncode, out.read(), err.read(64 << 10)


# process groups of builds running now (builds run side by side in threads, which no signal
# interrupts: the thread that gets the deadline kills them all)
_LIVE: set[int] = set()
_LIVE_LOCK = threading.Lock()


def kill_running() -> None:
    """Kill every build running now (their threads then return)."""
    with _LIVE_LOCK:
        groups = list(_LIVE)
    for pgid in groups:
        _kill_group(pgid)


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


@dataclass
class Prepared:
    """A build walked and checked, with its cache entry (and the cached output when the cache
    holds it): ``run`` builds it, in any thread."""

    directory: Path
    argv: list[str]
    entry: str | None
    kept: bytes | None
    label: Callable[[Path], str]

    def run(self, timeout: float = BUILD_TIMEOUT) -> bytes:
        """The build's output, built (and kept in the cache when there is one)."""
        argv, label = self.argv, self.label
        with tempfile.TemporaryDirectory(prefix="netpol-gitops-home-") as home:
            try:
                code, out, err = run_group(argv, sandbox_env(Path(home)), timeout)
            except subprocess.TimeoutExpired:
                raise NetpolError(
                    [
                        Problem(
                            Location(label(self.directory)),
                            f"`{Path(argv[0]).name} {argv[1]}` took longer than {timeout:g}s",
                        )
                    ]
                ) from None
        if code != 0:
            text = err.decode("utf-8", "replace").strip().replace("\n", " | ")
            raise NetpolError(
                [
                    Problem(
                        Location(label(self.directory)),
                        f"`{Path(argv[0]).name} {argv[1]}` failed: {text}",
                    )
                ]
            )
        if self.entry is not None:
            build_cache.store(self.entry, out)
        return out


def prepare(
    directory: Path,
    repo_root: Path,
    label: Callable[[Path], str] = str,
    walked: Kustomizations | None = None,
) -> Prepared:
    """The walk of ``directory`` checked (NetpolError with every refused entry), the command,
    and the cache entry looked up: cheap next to a build, and done where the result is needed
    (a cache hit never waits for a thread)."""
    found = (walked or Kustomizations(repo_root, label)).closure(directory)
    if found.problems:
        raise NetpolError(found.problems)
    argv = _argv(directory, repo_root)
    entry = _cache_key(directory, repo_root, found, argv, label)
    kept = build_cache.lookup(entry) if entry is not None else None
    return Prepared(directory, argv, entry, kept, label)


def _cache_key(
    directory: Path, repo_root: Path, found: Closure, argv: list[str], label: Callable[[Path], str]
) -> str | None:
    """The build cache's key for this build, or None (no cache, or not cacheable)."""
    if build_cache.location() is None:
        return None
    build_cache.refuse_inside(repo_root)
    version = tool_version(argv[0])
    if version is None:
        return None
    return build_cache.key(directory, repo_root, found, [Path(argv[0]).name, *argv[1:-1]], version)


_VERSIONS: dict[str, bytes | None] = {}
_VERSION_LOCK = threading.Lock()


def tool_version(program: str) -> bytes | None:
    """What ``kustomize version`` (``kubectl version --client``) says, asked once per run and
    program, in the sandbox (None: it cannot say)."""
    with _VERSION_LOCK:
        if program not in _VERSIONS:
            verb = ["version"] if Path(program).name == "kustomize" else ["version", "--client"]
            with tempfile.TemporaryDirectory(prefix="netpol-gitops-home-") as home:
                try:
                    code, out, _ = run_group(
                        [program, *verb], sandbox_env(Path(home)), VERSION_TIMEOUT
                    )
                except subprocess.TimeoutExpired:
                    code, out = -1, b""
            _VERSIONS[program] = out if code == 0 and out.strip() else None
        return _VERSIONS[program]
