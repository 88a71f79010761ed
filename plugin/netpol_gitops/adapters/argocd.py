"""The Argo CD Config Management Plugin: discover and generate in an app directory.

Settings, lowest to highest precedence: the repo config (``.netpol-gitops.yaml``, the nearest
one from the app directory up to the repository root), the Namespace's annotations, the
``ARGOCD_ENV_*`` variables, the Application's parameters (``ARGOCD_APP_PARAMETERS``). Env and
parameters apply to the destination namespace (``ARGOCD_APP_NAMESPACE``); when the app does not
carry that Namespace, its policies are generated all the same, and no Namespace is emitted.
"""

from __future__ import annotations

import dataclasses
import json
import posixpath
import re
import signal
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from netpol_gitops.adapters.files import Budget, read_bytes
from netpol_gitops.adapters.inputs import (
    CONFIG_FILE,
    configured_units,
    load_config,
    nearest_config,
    scan,
)
from netpol_gitops.adapters.kustomization import real
from netpol_gitops.errors import Deadline, NetpolError, Problem, did_you_mean
from netpol_gitops.generate.config import KEYS, check_setting
from netpol_gitops.generate.namespaces import Setting
from netpol_gitops.generate.render import Rendered, namespace_objects, render_units
from netpol_gitops.model.intent import Config, Flavor
from netpol_gitops.model.kube import PREFIX  # the annotation prefix discovery looks for
from netpol_gitops.model.location import Location
from netpol_gitops.yaml.stream import split_stream

ENV_PREFIX = "ARGOCD_ENV_"
_DISCOVERY_CODECS = ("utf-8", "utf-16-le", "utf-16-be")  # what files.decode reads
CONFIG_KEYS = ("opt-in", "name-prefix", "flavor")  # settings of the repo config, not a namespace
ALL_KEYS = (*KEYS, *CONFIG_KEYS)
_NAME_PREFIX = re.compile(r"([a-z0-9][-a-z0-9]*)?")
DESTINATION = "<ARGOCD_APP_NAMESPACE>"


def env_name(key: str) -> str:
    """``default-deny`` -> ``ARGOCD_ENV_DEFAULT_DENY``."""
    return ENV_PREFIX + key.upper().replace("-", "_")


DEFAULT_DEADLINE = 55  # seconds: under the repo-server's 60 s exec timeout, for a clean exit


@contextmanager
def deadline(environ: Mapping[str, str]) -> Iterator[None]:
    """Raise Deadline in whatever runs when NETPOL_GITOPS_DEADLINE seconds are up (SIGALRM).
    A BaseException: no problem handler catches it, the kustomize process group is killed and
    temporary folders are removed on its way out."""
    limit = deadline_seconds(environ)

    def expired(_signum: int, _frame: object) -> None:
        raise Deadline(
            "argocd generate",
            f"took longer than {limit}s (NETPOL_GITOPS_DEADLINE); stopped, nothing written",
        )

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(limit)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def deadline_seconds(environ: Mapping[str, str]) -> int:
    """NETPOL_GITOPS_DEADLINE (whole seconds), else 55."""
    raw = environ.get("NETPOL_GITOPS_DEADLINE", "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else DEFAULT_DEADLINE


def repo_root(app_dir: Path, source_path: str | None) -> Path:
    """The repository copy's root: the app directory minus ARGOCD_APP_SOURCE_PATH, which must
    lead back to the app directory from there (a source path with ``..``, or an app path through
    a symlink, would otherwise put the boundary above the repository copy)."""
    app = real(app_dir)
    given = posixpath.normpath((source_path or ".").strip("/") or ".")
    if given == ".":
        return app
    root = app
    for _ in given.split("/"):
        root = root.parent
    if given.split("/")[0] == ".." or real(root / given) != app:
        raise NetpolError(
            [
                Problem(
                    Location("ARGOCD_APP_SOURCE_PATH"),
                    f"'{source_path}' does not lead from the repository's root to the app "
                    "directory (a '..' or a symlink on the way); refused",
                    rule="outside-repo",
                )
            ]
        )
    return root


def _settings(
    environ: Mapping[str, str],
) -> tuple[list[tuple[str, str, Location, str]], list[Problem]]:
    """(key, value, location, origin) from ARGOCD_ENV_* then ARGOCD_APP_PARAMETERS."""
    found: list[tuple[str, str, Location, str]] = []
    problems: list[Problem] = []
    by_env = {env_name(k): k for k in ALL_KEYS}
    for name in sorted(environ):
        if not name.startswith(ENV_PREFIX):
            continue
        loc = Location(name)
        if name not in by_env:
            problems.append(
                Problem(
                    loc,
                    f"unknown setting{did_you_mean(name, list(by_env))}; "
                    f"known: {', '.join(sorted(by_env))}",
                )
            )
        elif environ[name] != "":
            key = by_env[name]
            found.append((key, environ[name], loc, f"Argo CD env {name}"))
    raw = environ.get("ARGOCD_APP_PARAMETERS", "").strip()
    if raw:
        try:
            params = json.loads(raw)
        except json.JSONDecodeError as exc:
            return found, [
                *problems,
                Problem(Location("ARGOCD_APP_PARAMETERS"), f"not JSON: {exc.msg}"),
            ]
        for i, param in enumerate(params if isinstance(params, list) else []):
            loc = Location("ARGOCD_APP_PARAMETERS", 0, 0, f"[{i}]")
            name = str(param.get("name")) if isinstance(param, dict) else ""
            if name not in ALL_KEYS:
                hint = did_you_mean(str(name), ALL_KEYS)
                problems.append(
                    Problem(loc, f"unknown parameter '{name}'{hint}; known: {', '.join(ALL_KEYS)}")
                )
                continue
            if "map" in param:
                problems.append(
                    Problem(loc, f"parameter '{name}': expected a string or an array, got a map")
                )
                continue
            value = (
                ",".join(map(str, param["array"]))
                if "array" in param
                else str(param.get("string", ""))
            )
            if value != "":
                found.append(
                    (name, value, loc.with_field(f"[{i}] {name}"), f"Argo CD parameter {name}")
                )
    return found, problems


def _apply(
    config: Config, settings: list[tuple[str, str, Location, str]]
) -> tuple[Config, list[Setting], list[Problem]]:
    problems: list[Problem] = []
    namespace: dict[str, Setting] = {}
    for key, value, loc, origin in settings:  # later entries win: env, then parameters
        if key == "opt-in":
            if value not in ("true", "false"):
                problems.append(Problem(loc, f"expected true or false; got '{value}'"))
            else:
                config = dataclasses.replace(config, opt_in=value == "true")
        elif key == "name-prefix":
            if not _NAME_PREFIX.fullmatch(value) or len(value) > 20:
                problems.append(
                    Problem(
                        loc,
                        f"'{value}' is not a valid name prefix (lowercase letters, digits and '-')",
                    )
                )
            else:
                config = dataclasses.replace(config, name_prefix=value)
        elif key == "flavor":
            flavors = [f.value for f in Flavor]
            if value not in flavors:
                hint = did_you_mean(value, flavors)
                problems.append(
                    Problem(loc, f"expected one of {', '.join(flavors)}; got '{value}'{hint}")
                )
            else:
                config = dataclasses.replace(config, flavor=Flavor(value))
        else:
            bad = check_setting(key, value, loc)
            problems.extend(bad)
            if not bad:
                namespace[key] = (key, value, loc, origin)
    return config, list(namespace.values()), problems


def generate(app_dir: Path, environ: Mapping[str, str]) -> Rendered:
    """What Argo CD applies (write its ``yaml_parts()``). Raises NetpolError; never returns an
    empty stream. Read as ``render`` reads a folder: each part under its nearest repo config."""
    root = repo_root(app_dir, environ.get("ARGOCD_APP_SOURCE_PATH"))
    settings, problems = _settings(environ)

    def label(path: Path) -> str:
        for top in (app_dir, root):
            if path.is_relative_to(top):
                return str(path.relative_to(top))
        return str(path)

    here = nearest_config(app_dir, root, label)
    base_config = load_config(here, label(here) if here else None)
    config, namespace_settings, more = _apply(base_config, settings)
    problems += more
    if problems:
        raise NetpolError(problems)
    units = [
        (_apply(unit_config, settings)[0], docs)
        for unit_config, docs in configured_units(str(app_dir), None, root, label)
    ]
    if not any(docs for _, docs in units):
        raise NetpolError(
            [
                Problem(
                    Location(str(app_dir)),
                    "no manifests in the app directory; "
                    "refusing to print an empty stream (Argo CD would prune "
                    "the app)",
                )
            ]
        )
    destination = environ.get("ARGOCD_APP_NAMESPACE", "")
    carried = {
        (obj.get("metadata") or {}).get("name")
        for _, docs in units
        for _, _, obj in namespace_objects(docs)
    }
    if destination and destination not in carried:
        text = f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {json.dumps(destination)}\n"
        units.append((config, split_stream(text, DESTINATION)))
    overrides = {destination: namespace_settings} if destination else {}
    result = render_units(units, overrides, default_namespace=destination or "default")
    kept = [d for d in result.documents if d.source != DESTINATION]
    extra: list[dict[str, Any]] = []
    if any(unit_config.probe for unit_config, _ in units):  # the probe Jobs, as PostSync hooks
        from netpol_gitops.adapters.probes import (  # noqa: PLC0415 - start-up: only here
            PROBE_HOOKS,
            earlier_probes,
            probe_objects,
        )

        namespace = destination or "default"
        probes = probe_objects(result.documents, result.generated, PROBE_HOOKS, namespace=namespace)
        extra = probes.objects
        earlier = earlier_probes(kept)  # committed output of an earlier `probe`: replaced
        kept = [d for d in kept if id(d) not in earlier]
    return dataclasses.replace(result, documents=kept, generated=[*result.generated, *extra])


def discover(app_dir: Path, root: Path | None = None) -> str | None:
    """The first file that makes this app ours (a repo config, or YAML naming the annotation
    prefix), or None. Narrow on purpose: other apps must not be captured. Reads regular files
    inside the repository only, within the input bound; a symlink that leaves the repository is
    a problem (raised), never an answer about a file outside."""
    limit = real(root or app_dir)
    config = app_dir / CONFIG_FILE
    if config.is_symlink() or config.exists():
        if not real(config).is_relative_to(limit):
            raise NetpolError(
                [Problem(Location(CONFIG_FILE), "symlink points outside the repository; refused")]
            )
        if config.is_file():
            return CONFIG_FILE
    found = scan(app_dir, limit, lambda p: str(p.relative_to(app_dir)))
    if found.problems:
        raise NetpolError(found.problems)
    budget = Budget()
    for path in found.files:
        data = read_bytes(path, str(path.relative_to(app_dir)), budget)
        if any(PREFIX.encode(code) in data for code in _DISCOVERY_CODECS):
            return str(path.relative_to(app_dir))
    return None
