"""`check`: read, render, and collect findings, with render's own problems as findings."""

from __future__ import annotations

from typing import Any

from netpol_gitops.check import HandWritten, Repo, check
from netpol_gitops.errors import NetpolError, Problem
from netpol_gitops.intent import Config
from netpol_gitops.render import is_generated, render
from netpol_gitops.topology import NS_NAME_LABEL, topology_of
from netpol_gitops.yamlio import Document


def findings(docs: list[Document], config: Config) -> list[Problem]:
    try:
        result = render(docs, config)
    except NetpolError as exc:
        return exc.problems
    namespaces = {}
    labels: dict[str, dict[str, str]] = {}
    handwritten = []
    for doc in result.documents:
        if doc.kind not in ("Namespace", "NetworkPolicy") and not (doc.kind or "").endswith("List"):
            continue
        for path, obj in doc.objects():
            meta: dict[str, Any] = obj.get("metadata") or {}
            if obj.get("kind") == "Namespace":
                name = str(meta.get("name"))
                namespaces[name] = doc.location([*path, "metadata", "name"])
                labels[name] = {
                    **{str(k): str(v) for k, v in (meta.get("labels") or {}).items()},
                    NS_NAME_LABEL: name,
                }
            elif obj.get("kind") == "NetworkPolicy" and not is_generated(obj):
                handwritten.append(
                    HandWritten(
                        str(meta.get("namespace") or "default"),
                        str(meta.get("name")),
                        obj.get("spec") or {},
                        doc.location([*path, "metadata", "name"]),
                    )
                )
    workloads = topology_of(result.documents).workloads
    return check(
        Repo(config, result.intents, namespaces, labels, workloads, handwritten, result.generated)
    )
