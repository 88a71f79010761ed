"""Problems as KRM function results (kpt's ``results``), and as the stderr lines kustomize
shows (it never shows results)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from netpol_gitops.errors import Problem, printable
from netpol_gitops.model.severity import Severity
from netpol_gitops.yaml.resourcelist import SOURCE

KRM_SEVERITY = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "info"}
PATH_KEYS = ("internal.config.kubernetes.io/path", "config.kubernetes.io/path")


INDEX_KEYS = ("internal.config.kubernetes.io/index", "config.kubernetes.io/index")


def _annotation(item: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    anns = (item.get("metadata") or {}).get("annotations") or {}
    for key in keys:
        if isinstance(anns, dict) and key in anns:
            return str(anns[key])
    return None


def krm_result(problem: Problem, item_at: Callable[[int], Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"message": problem.message, "severity": KRM_SEVERITY[problem.severity]}
    src = problem.location.source
    item = item_at(int(src[6:-1])) if src.startswith("items[") and src.endswith("]") else None
    if isinstance(item, dict):
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


def krm_stderr_line(problem: Problem, result: dict[str, Any]) -> str:
    where = result.get("file", {}).get("path") or problem.location.source
    ref = result.get("resourceRef")
    what = f"{ref['kind']}/{ref['name']} " if ref else ""
    fld = f"{problem.location.field}: " if problem.location.field else ""
    line = f":{problem.location.line}:{problem.location.col}" if problem.location.line else ""
    return printable(f"{where}{line}: {problem.severity}: {what}{fld}{problem.message}")
