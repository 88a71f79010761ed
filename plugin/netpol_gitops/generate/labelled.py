"""Input NetworkPolicies that carry the managed-by label, classified against what the generator
makes now (the label is a claim anyone can write)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any

from netpol_gitops.generate.policies import PolicyObject
from netpol_gitops.model.kube import (
    GENERATED_KINDS,
    MANAGED_BY_LABEL,
    MANAGED_BY_VALUE,
    object_key,
    object_namespace,
)
from netpol_gitops.model.location import Location, field_path
from netpol_gitops.yaml.document import Document

# Annotations KRM orchestrators (kpt, kustomize) add for their own bookkeeping (file paths,
# indexes); they are not part of what the generator makes, and are ignored when comparing.
BOOKKEEPING = ("config.kubernetes.io/", "internal.config.kubernetes.io/")


SHOWN_DIFFERENCES = 5


class Standing(StrEnum):
    """How an object of a generated kind (a NetworkPolicy, the baseline's ClusterNetworkPolicy)
    that carries the managed-by label stands against the generator."""

    CURRENT = "current"  # exactly what the generator makes now: it is generated
    STALE = "stale"  # the generator makes an object of that kind, namespace and name, not this one
    ORPHAN = "orphan"  # the generator makes no object of that kind, namespace and name


@dataclass(frozen=True)
class Labelled:
    """An object of a generated kind (``GENERATED_KINDS``) of the input that carries
    ``app.kubernetes.io/managed-by: netpol-gitops``. The label proves nothing (anyone can
    write it): the object counts as generated only when it is ``CURRENT``, i.e. equal, as
    data, to the object the generator makes now from the same input: same apiVersion, kind,
    spec, metadata.name, metadata.namespace, metadata.labels and metadata.annotations
    (ignoring the annotations in ``BOOKKEEPING``), and no other top-level or metadata field."""

    obj: dict[str, Any]
    namespace: str  # "" for a cluster-scoped kind
    name: str
    standing: Standing
    differences: tuple[str, ...]  # STALE: the fields that differ from the generated one
    summary: str  # what is wrong, for messages ("" when CURRENT)
    replaced: bool  # a document of its own, left out of the output; False: a List item, kept
    doc: Document = field(repr=False, compare=False)
    path: tuple[str | int, ...] = ()

    @property
    def kind(self) -> str:
        return str(self.obj.get("kind"))

    @property
    def key(self) -> str:
        """``namespace/name`` for a NetworkPolicy, else ``namespace/Kind/name`` (object_key)."""
        return object_key(self.kind, self.namespace, self.name)

    @cached_property
    def location(self) -> Location:
        """Where its metadata.name is (made on demand: most are current and never cited)."""
        return self.doc.location([*self.path, "metadata", "name"])


def carries_label(obj: Any) -> bool:
    """An object of a generated kind labelled as ours: a claim, checked by ``classify``."""
    if not isinstance(obj, dict) or obj.get("kind") not in GENERATED_KINDS:
        return False
    meta = obj.get("metadata")
    labels = meta.get("labels") if isinstance(meta, dict) else None
    return isinstance(labels, dict) and labels.get(MANAGED_BY_LABEL) == MANAGED_BY_VALUE


def _comparable(obj: dict[str, Any]) -> dict[str, Any]:
    """The object without the orchestrators' bookkeeping annotations."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict) or not isinstance(meta.get("annotations"), dict):
        return obj
    notes = {k: v for k, v in meta["annotations"].items() if not str(k).startswith(BOOKKEEPING)}
    return {**obj, "metadata": {**meta, "annotations": notes}}


def differences(have: Any, want: Any, path: tuple[str | int, ...] = ()) -> list[str]:
    """The fields (as paths) where ``have`` is not ``want``: missing, extra or different.
    Types count (``true`` is not ``1``); lists of different lengths differ as a whole."""
    if isinstance(have, dict) and isinstance(want, dict):
        out: list[str] = []
        for key in [*want, *(k for k in have if k not in want)]:
            if key not in have or key not in want:
                out.append(field_path([*path, str(key)]))
            else:
                out += differences(have[key], want[key], (*path, str(key)))
        return out
    if isinstance(have, list) and isinstance(want, list) and len(have) == len(want):
        return [
            d
            for i, (a, b) in enumerate(zip(have, want, strict=True))
            for d in differences(a, b, (*path, i))
        ]
    if type(have) is not type(want) or have != want:
        return [field_path(path) or "(the whole object)"]
    return []


def _some(items: Sequence[str]) -> str:
    more = ", ..." if len(items) > SHOWN_DIFFERENCES else ""
    return ", ".join(items[:SHOWN_DIFFERENCES]) + more


@dataclass(frozen=True)
class Made:
    """The objects generated now, by (kind, namespace, name), and their names per kind and
    namespace (namespace "" for a cluster-scoped kind)."""

    by_key: dict[tuple[str, str, str], PolicyObject]
    names: dict[tuple[str, str], list[str]]

    @staticmethod
    def of(generated: Sequence[PolicyObject]) -> Made:
        made = Made({}, {})
        for p in generated:
            kind, namespace, name = p["kind"], object_namespace(p), p["metadata"]["name"]
            made.by_key[(kind, namespace, name)] = p
            made.names.setdefault((kind, namespace), []).append(name)
        return made


def classify(
    doc: Document,
    path: Sequence[str | int],
    obj: dict[str, Any],
    made: Made,
    default_namespace: str,
) -> Labelled:
    """How a labelled object of a generated kind stands against the objects generated now."""
    meta = obj["metadata"]
    kind = str(obj.get("kind"))
    namespace = object_namespace(obj, default_namespace)
    name = str(meta.get("name"))
    replaced = doc.kind == kind
    twin = made.by_key.get((kind, namespace, name))
    if twin is None:
        names = made.names.get((kind, namespace))
        scope = f"in namespace {namespace}" if namespace else "of that kind"
        where = f"it makes {_some(names)} there" if names else f"none {scope}"
        summary = f"the generator makes no such policy ({where})"
        return Labelled(
            obj, namespace, name, Standing.ORPHAN, (), summary, replaced, doc, tuple(path)
        )
    found = tuple(differences(_comparable(obj), twin))
    if not found:
        return Labelled(obj, namespace, name, Standing.CURRENT, (), "", replaced, doc, tuple(path))
    summary = f"it differs from the policy generated now in {_some(found)}"
    return Labelled(
        obj, namespace, name, Standing.STALE, found, summary, replaced, doc, tuple(path)
    )
