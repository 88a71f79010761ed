"""The KRM function: a ResourceList in, the same items plus the generated policies out.

Transformer: Namespaces are read from the items; every item is echoed unchanged; generated
policies already present are replaced. Generator: kustomize passes no items, so the Namespace
manifests come from the functionConfig's ``spec.sources`` (relative to the working directory,
which is the kustomization's; paths that leave it are refused).

Problems become ``results`` and stderr lines (kustomize never shows results) with exit 1, and
the items are returned unchanged. Warnings are results with exit 0.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from netpol_gitops.annotations import parse_config
from netpol_gitops.check import unmatched_selectors
from netpol_gitops.errors import Location, NetpolError, Problem
from netpol_gitops.inputs import manifest_files, read_file
from netpol_gitops.intent import Config
from netpol_gitops.render import render
from netpol_gitops.topology import topology_of
from netpol_gitops.yamlio import (
    Document,
    dump_objects,
    locate,
    read_documents,
    split_stream,
)

PATH_KEYS = ("internal.config.kubernetes.io/path", "config.kubernetes.io/path")
INDEX_KEYS = ("internal.config.kubernetes.io/index", "config.kubernetes.io/index")
SOURCE = "<ResourceList>"


@dataclass
class KrmResult:
    output: str
    stderr: list[str] = field(default_factory=list)
    exit_code: int = 0


def _annotation(item: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    anns = (item.get("metadata") or {}).get("annotations") or {}
    for key in keys:
        if isinstance(anns, dict) and key in anns:
            return str(anns[key])
    return None


def _item_views(rl: Document, items: list[Any]) -> list[Document]:
    views = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        kind = item.get("kind") if isinstance(item.get("kind"), str) else None
        node, _ = locate(rl.node(), ["items", i])
        views.append(
            Document(f"items[{i}]", "", 0, 0, kind, i, lined=False, _node=node, _data=item)
        )
    return views


def _config(rl: Document, data: dict[str, Any]) -> Config:
    fc = data.get("functionConfig")
    if not fc:
        return Config()
    if not isinstance(fc, dict):
        raise NetpolError(
            [
                Problem(
                    Location(SOURCE, 0, 0, "functionConfig"),
                    "expected a NetworkPolicyGenerator or a ConfigMap",
                )
            ]
        )
    if fc.get("kind") == "ConfigMap":
        return parse_config(_from_configmap(fc))
    return parse_config(rl, ["functionConfig"])


def _from_configmap(fc: dict[str, Any]) -> Document:
    """A ConfigMap's ``data`` (string values, YAML inside) as a NetworkPolicyGenerator."""
    spec: dict[str, Any] = {}
    for key, value in (fc.get("data") or {}).items():
        if key == "namePrefix":
            spec[key] = value
            continue
        docs = split_stream(
            f"v: {value}\n"
            if "\n" not in str(value)
            else "v:\n" + "".join(f"  {line}\n" for line in str(value).splitlines()),
            f"functionConfig.data.{key}",
        )
        spec[key] = docs[0].data()["v"] if docs else None
    config = {
        "apiVersion": "netpol-gitops.io/v1alpha1",
        "kind": "NetworkPolicyGenerator",
        "spec": spec,
    }
    text = dump_objects([config])
    return split_stream(text, "functionConfig (ConfigMap data)")[0]


def _sources(config: Config, cwd: Path) -> list[Document]:
    """Generator mode: the Namespace manifests named by ``spec.sources``."""
    top = cwd.resolve()
    files: list[tuple[str, str]] = []
    problems = []
    for entry in config.sources:
        path = cwd / entry
        if not path.resolve().is_relative_to(top):
            problems.append(
                Problem(
                    Location(SOURCE, 0, 0, "functionConfig.spec.sources"),
                    f"'{entry}' leaves the kustomization directory; refused",
                )
            )
            continue
        if path.is_dir():
            files += [read_file(f, str(f.relative_to(cwd))) for f in manifest_files(path)]
        elif path.is_file():
            files.append(read_file(path, entry))
        else:
            problems.append(
                Problem(
                    Location(SOURCE, 0, 0, "functionConfig.spec.sources"),
                    f"'{entry}': no such file or directory",
                )
            )
    if problems:
        raise NetpolError(problems)
    return [d for d in read_documents(files) if d.kind == "Namespace"]


def _result(problem: Problem, items: list[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"message": problem.message, "severity": problem.severity}
    src = problem.location.source
    if src.startswith("items[") and src.endswith("]"):
        item = items[int(src[6:-1])]
        meta = item.get("metadata") or {}
        ref = {
            "apiVersion": item.get("apiVersion"),
            "kind": item.get("kind"),
            "name": meta.get("name"),
        }
        if meta.get("namespace"):
            ref["namespace"] = meta["namespace"]
        out["resourceRef"] = ref
        path = _annotation(item, PATH_KEYS)
        if path:
            out["file"] = {"path": path}
            index = _annotation(item, INDEX_KEYS)
            if index is not None and index.isdigit():
                out["file"]["index"] = int(index)
    elif src != SOURCE:
        out["file"] = {"path": src}
    if problem.location.field:
        out["field"] = {"path": problem.location.field}
    return out


def _stderr_line(problem: Problem, result: dict[str, Any]) -> str:
    where = result.get("file", {}).get("path") or problem.location.source
    ref = result.get("resourceRef")
    what = f"{ref['kind']}/{ref['name']} " if ref else ""
    fld = f"{problem.location.field}: " if problem.location.field else ""
    line = f":{problem.location.line}:{problem.location.col}" if problem.location.line else ""
    return f"{where}{line}: {problem.severity}: {what}{fld}{problem.message}"


def run(text: str, cwd: Path) -> KrmResult:
    """The whole function: ResourceList text in, ResourceList text + stderr + exit code out."""
    as_json = text.lstrip().startswith("{")
    try:
        docs = split_stream(text, SOURCE)
        if len(docs) != 1 or docs[0].kind != "ResourceList":
            raise NetpolError([Problem(Location(SOURCE), "expected one ResourceList on stdin")])
        rl = docs[0]
        data = rl.data()
    except NetpolError as exc:
        return KrmResult("", [p.render() for p in exc.problems], 1)
    items = data.get("items") or []
    if not isinstance(items, list):
        items = []
    problems: list[Problem] = []
    out_items: list[Any] = items
    try:
        config = _config(rl, data)
        views = _item_views(rl, items)
        sources = _sources(config, cwd) if config.sources else []
        result = render([*views, *sources], config)
        kept = {id(d) for d in result.documents}
        out_items = [d.data() for d in views if id(d) in kept] + result.generated
        if items:
            workloads = topology_of(views).workloads
            problems = unmatched_selectors(result.intents, workloads)
    except NetpolError as exc:
        problems = list(exc.problems)
        out_items = items
    results = [_result(p, items) for p in problems]
    stderr = [_stderr_line(p, r) for p, r in zip(problems, results, strict=True)]
    rl_out: dict[str, Any] = {
        "apiVersion": "config.kubernetes.io/v1",
        "kind": "ResourceList",
        "items": out_items,
    }
    if results:
        rl_out["results"] = results
    failed = any(p.severity == "error" for p in problems)
    body = json.dumps(rl_out, indent=2) + "\n" if as_json else dump_objects([rl_out])
    return KrmResult(body, stderr, 1 if failed else 0)
