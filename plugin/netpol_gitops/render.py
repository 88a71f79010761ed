"""The one pipeline every adapter calls: documents + config -> the same documents + policies."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any

from netpol_gitops import MANAGED_BY_LABEL, MANAGED_BY_VALUE
from netpol_gitops.annotations import Setting, namespace_intent
from netpol_gitops.builder import Policy, build
from netpol_gitops.errors import Location, NetpolError, Problem, field_path
from netpol_gitops.intent import Config, NamespaceIntent
from netpol_gitops.yamlio import Document, document_text, dump_json, dump_objects

# Kinds whose documents are parsed; every other document passes through as text.
READ_KINDS = frozenset({"Namespace", "NetworkPolicy", "List", "NamespaceList"})


# Annotations KRM orchestrators (kpt, kustomize) add for their own bookkeeping (file paths,
# indexes); they are not part of what the generator makes, and are ignored when comparing.
BOOKKEEPING = ("config.kubernetes.io/", "internal.config.kubernetes.io/")
SHOWN_DIFFERENCES = 5


class Standing(StrEnum):
    """How a NetworkPolicy that carries the managed-by label stands against the generator."""

    CURRENT = "current"  # exactly what the generator makes now: it is generated
    STALE = "stale"  # the generator makes a policy of that namespace and name, but not this one
    ORPHAN = "orphan"  # the generator makes no policy of that namespace and name


@dataclass(frozen=True)
class Labelled:
    """A NetworkPolicy of the input that carries ``app.kubernetes.io/managed-by:
    netpol-gitops``. The label proves nothing (anyone can write it): the object counts as
    generated only when it is ``CURRENT``, i.e. equal, as data, to the policy the generator
    makes now from the same input: same apiVersion, kind, spec, metadata.name,
    metadata.namespace, metadata.labels and metadata.annotations (ignoring the annotations in
    ``BOOKKEEPING``), and no other top-level or metadata field."""

    obj: dict[str, Any]
    namespace: str
    name: str
    standing: Standing
    differences: tuple[str, ...]  # STALE: the fields that differ from the generated one
    summary: str  # what is wrong, for messages ("" when CURRENT)
    replaced: bool  # a document of its own, left out of the output; False: a List item, kept
    doc: Document = field(repr=False, compare=False)
    path: tuple[str | int, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @cached_property
    def location(self) -> Location:
        """Where its metadata.name is (made on demand: most are current and never cited)."""
        return self.doc.location([*self.path, "metadata", "name"])


@dataclass(frozen=True)
class Rendered:
    """The kept input documents (previously generated policies removed), and what was made.

    ``labelled`` is every input NetworkPolicy that carries the managed-by label, classified;
    the documents among them are replaced in the output whatever their standing (kpt's
    in-place workflow feeds the last output back), which is why the ones that are not
    ``CURRENT`` must be reported (check, the PR report) rather than dropped silently."""

    documents: list[Document]
    intents: list[NamespaceIntent]
    generated: list[Policy]
    labelled: list[Labelled] = field(default_factory=list)

    @property
    def not_generated(self) -> list[Labelled]:
        """The labelled policies that are not what the generator makes now."""
        return [x for x in self.labelled if x.standing is not Standing.CURRENT]

    def yaml(self, only_generated: bool = False) -> str:
        return "".join(self.yaml_parts(only_generated))

    def yaml_parts(self, only_generated: bool = False) -> Iterator[str]:
        """The YAML stream in pieces, to write without holding it whole."""
        if not only_generated:
            yield from (document_text(d) for d in self.documents)
        yield dump_objects(self.generated)

    def json(self, only_generated: bool = False) -> str:
        head = [] if only_generated else [d.data() for d in self.documents]
        return dump_json([*head, *self.generated])


def namespace_objects(
    docs: Sequence[Document],
) -> Iterator[tuple[Document, list[str | int], dict[str, Any]]]:
    """(document, path, object) of every Namespace object: a document, or an item of a List."""
    for doc in docs:
        if doc.kind == "Namespace" or (doc.kind or "").endswith("List"):
            for path, obj in doc.objects():
                if obj.get("kind") == "Namespace":
                    yield doc, path, obj


def carries_label(obj: Any) -> bool:
    """A NetworkPolicy labelled as ours: a claim, checked by ``classify``."""
    if not isinstance(obj, dict) or obj.get("kind") != "NetworkPolicy":
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
    """The policies generated now, by (namespace, name), and their names per namespace."""

    by_key: dict[tuple[str, str], Policy]
    names: dict[str, list[str]]

    @staticmethod
    def of(generated: Sequence[Policy]) -> Made:
        made = Made({}, {})
        for p in generated:
            meta = p["metadata"]
            made.by_key[(meta["namespace"], meta["name"])] = p
            made.names.setdefault(meta["namespace"], []).append(meta["name"])
        return made


def classify(
    doc: Document,
    path: Sequence[str | int],
    obj: dict[str, Any],
    made: Made,
    default_namespace: str,
) -> Labelled:
    """How a labelled NetworkPolicy stands against the policies generated now."""
    meta = obj["metadata"]
    namespace = str(meta.get("namespace") or default_namespace)
    name = str(meta.get("name"))
    replaced = doc.kind == "NetworkPolicy"
    twin = made.by_key.get((namespace, name))
    if twin is None:
        names = made.names.get(namespace)
        where = f"it makes {_some(names)} there" if names else f"none in namespace {namespace}"
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


def render(  # noqa: PLR0912 - one pass
    docs: list[Document],
    config: Config,
    overrides: Mapping[str, Sequence[Setting]] | None = None,
    default_namespace: str = "default",
) -> Rendered:
    """Read intents from the Namespaces, build their policies, check name clashes.

    Raises NetpolError with every problem found; nothing is returned half-done.
    """
    problems: list[Problem] = []
    kept: list[Document] = []
    intents: list[NamespaceIntent] = []
    namespaces: dict[str, Location] = {}
    handwritten: dict[tuple[str, str], Location] = {}
    labelled: list[tuple[Document, list[str | int], dict[str, Any]]] = []
    for doc in docs:
        if doc.kind not in READ_KINDS:
            kept.append(doc)
            continue
        try:
            objs = doc.objects()
        except NetpolError as exc:
            problems.extend(exc.problems)
            continue
        if doc.kind == "NetworkPolicy" and carries_label(objs[0][1]):
            # ours, from an earlier run: regenerated below, never duplicated; classified
            # against what is generated now, since the label alone proves nothing
            labelled.append((doc, *objs[0]))
            continue
        kept.append(doc)
        for path, obj in objs:
            kind = obj.get("kind")
            meta: dict[str, Any] = obj["metadata"] if isinstance(obj.get("metadata"), dict) else {}
            if kind == "Namespace":
                name = meta.get("name")
                if name in namespaces:
                    problems.append(
                        Problem(
                            doc.location([*path, "metadata", "name"]),
                            f"Namespace '{name}' is also declared at {namespaces[name].prefix()}",
                        )
                    )
                    continue
                intent = namespace_intent(
                    doc, obj, path, config, problems, overrides=(overrides or {}).get(str(name), ())
                )
                namespaces[str(name)] = doc.location(path)
                if intent is not None:
                    intents.append(intent)
            elif kind == "NetworkPolicy" and carries_label(obj):
                labelled.append((doc, path, obj))  # inside a List: kept as it is
            elif kind == "NetworkPolicy":
                key = (str(meta.get("namespace") or default_namespace), str(meta.get("name")))
                handwritten[key] = doc.location([*path, "metadata", "name"])
        doc.forget_nodes()  # its locations are taken; thousands of node trees cost memory
    generated: list[Policy] = []
    for intent in intents:
        for policy in build(intent, config):
            meta = policy["metadata"]
            clash = handwritten.get((meta["namespace"], meta["name"]))
            if clash is not None:
                problems.append(
                    Problem(
                        clash,
                        f"NetworkPolicy {meta['namespace']}/{meta['name']} is hand-written here "
                        "and "
                        f"also generated from {intent.location.prefix()}; rename the hand-written "
                        "one or set a namePrefix in the config",
                        rule="name-clash",
                    )
                )
            generated.append(policy)
    if problems:
        raise NetpolError(problems)
    generated.sort(key=lambda p: (p["metadata"]["namespace"], p["metadata"]["name"]))
    made = Made.of(generated)
    classified = [classify(d, path, obj, made, default_namespace) for d, path, obj in labelled]
    return Rendered(kept, intents, generated, classified)


def render_units(
    units: Sequence[tuple[Config, list[Document]]],
    overrides: Mapping[str, Sequence[Setting]] | None = None,
    default_namespace: str = "default",
) -> Rendered:
    """``render`` of each unit under its own config, as one result: the documents in unit order,
    the generated policies sorted together. Every unit's problems are reported."""
    parts: list[Rendered] = []
    problems: list[Problem] = []
    for config, docs in units:
        try:
            parts.append(render(docs, config, overrides, default_namespace))
        except NetpolError as exc:
            problems.extend(exc.problems)
    if problems:
        raise NetpolError(problems)
    if len(parts) == 1:
        return parts[0]
    generated = [p for part in parts for p in part.generated]
    generated.sort(key=lambda p: (p["metadata"]["namespace"], p["metadata"]["name"]))
    made = Made.of(generated)  # a labelled policy may stand in another unit than its Namespace
    labelled = [
        dataclasses.replace(
            classify(x.doc, x.path, x.obj, made, default_namespace), replaced=x.replaced
        )
        for part in parts
        for x in part.labelled
    ]
    return Rendered(
        [d for part in parts for d in part.documents],
        [i for part in parts for i in part.intents],
        generated,
        labelled,
    )
