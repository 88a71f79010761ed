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
import os
import re
from collections.abc import Mapping
from pathlib import Path

from netpol_gitops.annotations import KEYS, Setting, check_setting, parse_config
from netpol_gitops.errors import Location, NetpolError, Problem, did_you_mean
from netpol_gitops.inputs import (
    CONFIG_FILE,
    SUFFIXES,
    build_kustomization,
    kustomization,
    manifest_files,
    read_file,
)
from netpol_gitops.intent import Config
from netpol_gitops.progress import progress
from netpol_gitops.render import Rendered, namespace_objects, render
from netpol_gitops.yamlio import Document, read_documents, split_stream

ENV_PREFIX = "ARGOCD_ENV_"
CONFIG_KEYS = ("opt-in", "name-prefix")  # settings of the repo config rather than a namespace
ALL_KEYS = (*KEYS, *CONFIG_KEYS)
_NAME_PREFIX = re.compile(r"^([a-z0-9][-a-z0-9]*)?$")
DESTINATION = "<ARGOCD_APP_NAMESPACE>"


def env_name(key: str) -> str:
    """``default-deny`` -> ``ARGOCD_ENV_DEFAULT_DENY``."""
    return ENV_PREFIX + key.upper().replace("-", "_")


DEFAULT_DEADLINE = 55  # seconds: under the repo-server's 60 s exec timeout, for a clean exit


def deadline_seconds(environ: Mapping[str, str]) -> int:
    """NETPOL_GITOPS_DEADLINE (whole seconds), else 55."""
    raw = environ.get("NETPOL_GITOPS_DEADLINE", "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else DEFAULT_DEADLINE


def repo_root(app_dir: Path, source_path: str | None) -> Path:
    """The repository copy's root: the app directory minus ARGOCD_APP_SOURCE_PATH."""
    root = app_dir.resolve()
    for part in Path(source_path or ".").parts:
        if part not in (".", "/"):
            root = root.parent
    return root


def find_config(app_dir: Path, root: Path) -> Path | None:
    here = app_dir.resolve()
    while True:
        if (here / CONFIG_FILE).is_file():
            return here / CONFIG_FILE
        if here in (root, here.parent):
            return None
        here = here.parent


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
            if not _NAME_PREFIX.match(value) or len(value) > 20:
                problems.append(
                    Problem(
                        loc,
                        f"'{value}' is not a valid name prefix (lowercase letters, digits and '-')",
                    )
                )
            else:
                config = dataclasses.replace(config, name_prefix=value)
        else:
            bad = check_setting(key, value, loc)
            problems.extend(bad)
            if not bad:
                namespace[key] = (key, value, loc, origin)
    return config, list(namespace.values()), problems


def read_app(app_dir: Path, root: Path) -> list[Document]:
    if kustomization(app_dir) is not None:
        text = build_kustomization(app_dir)
        return read_documents([("<kustomize build>", text)])
    paths = manifest_files(app_dir, root)
    # one file's text at a time: split, then dropped (its documents keep their own text)
    files = (
        read_file(f, str(f.relative_to(app_dir))) for f in progress(paths, len(paths), "reading")
    )
    return read_documents(files)


def generate(app_dir: Path, environ: Mapping[str, str]) -> Rendered:
    """What Argo CD applies (write its ``yaml_parts()``). Raises NetpolError; never returns an
    empty stream."""
    root = repo_root(app_dir, environ.get("ARGOCD_APP_SOURCE_PATH"))
    settings, problems = _settings(environ)
    config_path = find_config(app_dir, root)
    config = (
        parse_config(
            read_documents([read_file(config_path, str(config_path.relative_to(root)))])[0]
        )
        if config_path
        else Config()
    )
    config, namespace_settings, more = _apply(config, settings)
    problems += more
    if problems:
        raise NetpolError(problems)
    docs = read_app(app_dir, root)
    if not docs:
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
    synthetic: list[Document] = []
    if destination and destination not in {
        (obj.get("metadata") or {}).get("name") for _, _, obj in namespace_objects(docs)
    }:
        text = f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {json.dumps(destination)}\n"
        synthetic = split_stream(text, DESTINATION)
    overrides = {destination: namespace_settings} if destination else {}
    result = render(
        [*docs, *synthetic], config, overrides, default_namespace=destination or "default"
    )
    kept = [d for d in result.documents if d.source != DESTINATION]
    return dataclasses.replace(result, documents=kept)


def discover(app_dir: Path) -> str | None:
    """The first file that makes this app ours (a repo config, or YAML naming the annotation
    prefix), or None. Narrow on purpose: other apps must not be captured."""
    if (app_dir / CONFIG_FILE).is_file():
        return CONFIG_FILE
    for dirpath, dirnames, filenames in os.walk(app_dir):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.endswith(SUFFIXES):
                continue
            path = Path(dirpath) / name
            try:
                if b"netpol-gitops.io/" in path.read_bytes():
                    return str(path.relative_to(app_dir))
            except OSError:
                continue
    return None
