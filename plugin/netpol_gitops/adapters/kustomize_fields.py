"""What kustomize reads: the fields of a kustomization (or of a builtin plugin config) that name
files or folders, the builtin plugin kinds, and what marks a reference as remote."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

# Fields whose entries are paths to kustomizations (folders) or resource files.
KUSTOMIZATIONS = ("resources", "components", "bases")

# Fields whose entries are paths to plain files, read by kustomize itself.
FILES = ("crds", "configurations")

# Fields whose entries are plugin configs: a path to a file (every document a builtin config)
# or inline YAML; a folder is refused (the configs its build yields are not its files).
PLUGINS = ("generators", "transformers", "validators")

# Fields whose entries are strategic-merge patches: a path, or the patch inline (``paths`` of
# a PatchStrategicMergeTransformer config).
INLINE_PATCHES = ("patchesStrategicMerge", "paths")

# Kinds and fields that run a program or fetch from the network: never built.
HELM_FIELDS = ("helmCharts", "helmChartInflationGenerator", "helmGlobals")

HELM_KINDS = frozenset({"HelmChartInflationGenerator"})

# kustomize's builtin plugins (apiVersion builtin): any other generator/transformer config is an
# external plugin or a KRM function, i.e. code from the repository
BUILTIN_KINDS = frozenset(
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

# Compared case-insensitively: kustomize takes GitHub.com/org/repo, Git@host:repo and
# user@host/org/repo for remote bases (even when a folder of that name exists), and older
# kustomize gh:org/repo; a ':' names no relative path kustomize reads locally.
REMOTE_MARKERS = ("://", "?", "@", ":", "//")


def entries(data: dict[str, Any]) -> Iterator[tuple[str, Any, list[str | int]]]:
    """(field, entry, path in the document) of every entry of a kustomization (or a builtin
    plugin config) that names a file or folder."""
    for key in (*KUSTOMIZATIONS, *FILES, *PLUGINS, *INLINE_PATCHES):
        for i, entry in enumerate(_as_list(data.get(key))):
            yield key, entry, [key, i]
    for key in HELM_FIELDS:
        if data.get(key):
            yield key, data[key], [key]
    for key in ("patches", "patchesJson6902", "replacements"):
        for i, item in enumerate(_as_list(data.get(key))):
            if isinstance(item, dict) and "path" in item:
                yield key, item["path"], [key, i, "path"]
    if isinstance(data.get("path"), str):  # a builtin plugin config (PatchTransformer, ...)
        yield "path", data["path"], ["path"]
    openapi = data.get("openapi")
    if isinstance(openapi, dict) and "path" in openapi:
        yield "openapi", openapi["path"], ["openapi", "path"]
    yield from generator_entries(data)


def generator_entries(data: dict[str, Any]) -> Iterator[tuple[str, Any, list[str | int]]]:
    """The files and envs of configMapGenerator/secretGenerator entries (or of such a
    builtin plugin config itself)."""
    generators: list[tuple[list[str | int], Any]] = [
        ([key, i], g)
        for key in ("configMapGenerator", "secretGenerator")
        for i, g in enumerate(_as_list(data.get(key)))
    ]
    if data.get("kind") in ("ConfigMapGenerator", "SecretGenerator"):
        generators.append(([], data))
    for head, gen in generators:
        if not isinstance(gen, dict):
            continue
        for j, entry in enumerate(_as_list(gen.get("files"))):
            value = entry.split("=", 1)[-1] if isinstance(entry, str) else entry
            yield "files", value, [*head, "files", j]
        for j, entry in enumerate(_as_list(gen.get("envs"))):
            yield "envs", entry, [*head, "envs", j]
        if "env" in gen:
            yield "env", gen["env"], [*head, "env"]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
