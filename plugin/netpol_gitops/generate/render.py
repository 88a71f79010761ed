"""The one pipeline every adapter calls: documents + config -> the same documents + policies."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from netpol_gitops.errors import NetpolError, Problem
from netpol_gitops.generate.baseline import baseline
from netpol_gitops.generate.labelled import Labelled, Made, Standing, carries_label, classify
from netpol_gitops.generate.namespaces import Setting, namespace_intent
from netpol_gitops.generate.policies import PolicyObject, build
from netpol_gitops.model.intent import Config, Mode, NamespaceIntent
from netpol_gitops.model.kube import (
    GENERATED_KINDS,
    SOURCE_ANNOTATION,
    object_namespace,
    object_order,
)
from netpol_gitops.model.location import Location
from netpol_gitops.yaml.document import Document
from netpol_gitops.yaml.emit import document_text, dump_json, dump_objects

# Kinds whose documents are parsed; every other document passes through as text.
READ_KINDS = frozenset({"Namespace", "List", "NamespaceList", *GENERATED_KINDS})


@dataclass(frozen=True)
class Rendered:
    """The kept input documents (previously generated policies removed), and what was made.

    ``labelled`` is every input object of a generated kind that carries the managed-by label,
    classified; the documents among them are replaced in the output whatever their standing (kpt's
    in-place workflow feeds the last output back), which is why the ones that are not
    ``CURRENT`` must be reported (check, the PR report) rather than dropped silently."""

    documents: list[Document]
    intents: list[NamespaceIntent]
    generated: list[PolicyObject]
    labelled: list[Labelled] = field(default_factory=list)
    # the policies the namespaces in audit mode would get if enforced (nothing deploys them):
    # what `check` and the PR report compare against, to say what enforcing would block
    audited: list[PolicyObject] = field(default_factory=list)

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


@dataclass
class _Read:
    """What one pass over the documents finds."""

    config: Config
    overrides: Mapping[str, Sequence[Setting]]
    default_namespace: str
    problems: list[Problem] = field(default_factory=list)
    kept: list[Document] = field(default_factory=list)
    intents: list[NamespaceIntent] = field(default_factory=list)
    namespaces: dict[str, Location] = field(default_factory=dict)
    # (kind, namespace, name) of the input objects of a generated kind without the label
    handwritten: dict[tuple[str, str, str], Location] = field(default_factory=dict)
    labelled: list[tuple[Document, list[str | int], dict[str, Any]]] = field(default_factory=list)
    # reuse each Namespace's intent and policies through its document (Document.memo), keyed
    # by the config: two revisions of a review share their unchanged files' documents
    reuse: bool = False
    origins: dict[int, tuple[Document, tuple[Any, ...]]] = field(default_factory=dict)

    def document(self, doc: Document) -> None:
        if doc.kind not in READ_KINDS:
            self.kept.append(doc)
            return
        try:
            objs = doc.objects()
        except NetpolError as exc:
            self.problems.extend(exc.problems)
            return
        if doc.kind in GENERATED_KINDS and carries_label(objs[0][1]):
            # ours, from an earlier run: regenerated below, never duplicated; classified
            # against what is generated now, since the label alone proves nothing
            self.labelled.append((doc, *objs[0]))
            return
        self.kept.append(doc)
        for path, obj in objs:
            self.object(doc, path, obj)
        doc.forget_nodes()  # its locations are taken; thousands of node trees cost memory

    def object(self, doc: Document, path: list[str | int], obj: dict[str, Any]) -> None:
        kind = obj.get("kind")
        meta: dict[str, Any] = obj["metadata"] if isinstance(obj.get("metadata"), dict) else {}
        if kind == "Namespace":
            name = meta.get("name")
            if name in self.namespaces:
                self.problems.append(
                    Problem(
                        doc.location([*path, "metadata", "name"]),
                        f"Namespace '{name}' is also declared at {self.namespaces[name].prefix()}",
                    )
                )
                return
            intent = self.intent(doc, obj, path, str(name))
            self.namespaces[str(name)] = doc.location(path)
            if intent is not None:
                self.intents.append(intent)
        elif kind in GENERATED_KINDS and carries_label(obj):
            self.labelled.append((doc, path, obj))  # inside a List: kept as it is
        elif kind in GENERATED_KINDS:
            key = (str(kind), object_namespace(obj, self.default_namespace), str(meta.get("name")))
            self.handwritten[key] = doc.location([*path, "metadata", "name"])

    def intent(
        self, doc: Document, obj: dict[str, Any], path: list[str | int], name: str
    ) -> NamespaceIntent | None:
        overrides = self.overrides.get(name, ())

        def make() -> NamespaceIntent | None:
            return namespace_intent(doc, obj, path, self.config, self.problems, overrides=overrides)

        if not self.reuse or overrides:
            return make()
        key = ("intent", tuple(path), self.config)
        before = len(self.problems)
        intent: NamespaceIntent | None = doc.memo(key, make)
        if len(self.problems) != before:  # a problem is reported on every read: not kept
            doc.forget(key)
        elif intent is not None:
            self.origins[id(intent)] = (doc, key)
        return intent

    def policies(self, intent: NamespaceIntent) -> list[PolicyObject]:
        """``build(intent)``, reused through the intent's document; callers do not mutate them."""
        origin = self.origins.get(id(intent))
        if origin is None:
            return build(intent, self.config)
        doc, key = origin
        made: list[PolicyObject] = doc.memo(("policies", *key), lambda: build(intent, self.config))
        return made

    def generate(self) -> list[PolicyObject]:
        """The policies of every intent (and its cluster baseline when configured); a
        hand-written object of the same kind and name is a problem."""
        generated: list[PolicyObject] = []
        for intent in self.intents:
            made: dict[tuple[str, str], str] = {}  # (kind, name) -> what it is generated from
            flows = {f"Namespace/{intent.name} {f.origin}": f.location for f in intent.flows}
            for policy in self.policies(intent):
                meta, kind = policy["metadata"], policy["kind"]
                origin = meta["annotations"][SOURCE_ANNOTATION]
                if (kind, meta["name"]) in made:
                    self.problems.append(
                        Problem(
                            flows.get(origin, intent.location),
                            f"{kind} {meta['namespace']}/{meta['name']} would be "
                            f"generated twice, from {made[kind, meta['name']]} and from "
                            f"{origin}; rename a flow or a default-deny-pods entry",
                            rule="name-clash",
                        )
                    )
                made[kind, meta["name"]] = origin
                self.clash(policy, intent.location)
                generated.append(policy)
            fallback = baseline(intent, self.config) if self.config.cluster_baseline else None
            if fallback is not None:
                self.clash(fallback, intent.location)
                generated.append(fallback)
        return generated

    def clash(self, obj: PolicyObject, source: Location) -> None:
        """A hand-written object of the same kind, namespace and name as a generated one."""
        kind, namespace, name = obj["kind"], object_namespace(obj), obj["metadata"]["name"]
        where = self.handwritten.get((kind, namespace, name))
        if where is not None:
            shown = f"{namespace}/{name}" if namespace else name
            self.problems.append(
                Problem(
                    where,
                    f"{kind} {shown} is hand-written here and also generated from "
                    f"{source.prefix()}; rename the hand-written one or set a namePrefix in "
                    "the config",
                    rule="name-clash",
                )
            )


def render(
    docs: list[Document],
    config: Config,
    overrides: Mapping[str, Sequence[Setting]] | None = None,
    default_namespace: str = "default",
    *,
    reuse: bool = False,
) -> Rendered:
    """Read intents from the Namespaces, build their policies, check name clashes.

    With ``reuse``, a Namespace's intent and policies are kept with its document (under the
    config) and reused when the same document is rendered again under an equal config.
    Raises NetpolError with every problem found; nothing is returned half-done.
    """
    read = _Read(config, overrides or {}, default_namespace, reuse=reuse)
    for doc in docs:
        read.document(doc)
    generated = read.generate()
    if read.problems:
        raise NetpolError(read.problems)
    generated.sort(key=object_order)
    made = Made.of(generated)
    classified = [classify(d, path, obj, made, default_namespace) for d, path, obj in read.labelled]
    audited = [
        policy
        for i in read.intents
        if i.mode is Mode.AUDIT
        for policy in build(dataclasses.replace(i, mode=Mode.ENFORCE), config)
    ]
    audited.sort(key=object_order)
    return Rendered(read.kept, read.intents, generated, classified, audited)


def render_units(
    units: Sequence[tuple[Config, list[Document]]],
    overrides: Mapping[str, Sequence[Setting]] | None = None,
    default_namespace: str = "default",
    *,
    reuse: bool = False,
) -> Rendered:
    """``render`` of each unit under its own config, as one result: the documents in unit order,
    the generated policies sorted together. Every unit's problems are reported."""
    parts: list[Rendered] = []
    problems: list[Problem] = []
    for config, docs in units:
        try:
            parts.append(render(docs, config, overrides, default_namespace, reuse=reuse))
        except NetpolError as exc:
            problems.extend(exc.problems)
    if problems:
        raise NetpolError(problems)
    if len(parts) == 1:
        return parts[0]
    generated = [p for part in parts for p in part.generated]
    generated.sort(key=object_order)
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
        sorted((p for part in parts for p in part.audited), key=object_order),
    )
