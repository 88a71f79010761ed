"""What names one object (apiVersion, kind, metadata.namespace and .name), read from C parser
events only as far as it takes: kustomize writes apiVersion, kind and metadata first, so the
rest of a built object (a Deployment's spec, a ConfigMap's data) is never parsed."""

from __future__ import annotations

from ruamel.yaml.cyaml import CParser  # type: ignore[attr-defined]  # re-exported from clib
from ruamel.yaml.events import (
    AliasEvent,
    CollectionStartEvent,
    DocumentEndEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    StreamEndEvent,
)

_WANTED = {(1, "apiVersion"), (1, "kind"), (2, "namespace"), (2, "name")}  # (depth, key)
Ident = tuple[str, str, str, str]  # apiVersion, kind, namespace, name ("" when absent)


def object_id(text: str | bytes) -> Ident | None:  # noqa: PLR0912 - one flat event loop
    """The names of the one object ``text`` holds, or None when it is not a plain mapping
    (aliases, explicit tags, a list, a scalar): read it the full way then."""
    parser = CParser(text)
    found = {"apiVersion": "", "kind": "", "namespace": "", "name": ""}
    depth = 0  # 1: the object's mapping; 2: inside metadata (or another value)
    key: str | None = None  # the pending key at depth 1 or inside metadata
    in_metadata = metadata_done = False
    while True:
        ev = parser.get_event()
        t = type(ev)
        if t is StreamEndEvent or t is DocumentEndEvent:
            break
        if t is AliasEvent or (getattr(ev, "anchor", None) is not None):
            return None
        if t is ScalarEvent:
            if ev.tag is not None and not (ev.implicit[0] or ev.implicit[1]):
                return None
            if depth == 0:
                return None  # a scalar document
            top = depth == 1 or (depth == 2 and in_metadata)
            if not top:
                continue
            if key is None:
                key = ev.value
                continue
            if (depth, key) in _WANTED:
                found[key] = ev.value
            key = None
        elif isinstance(ev, CollectionStartEvent):
            if ev.tag is not None and not ev.implicit:
                return None
            if depth == 0 and t is not MappingStartEvent:
                return None  # a list document
            if depth == 1:
                if key is None:
                    return None  # a collection as a key
                in_metadata = key == "metadata" and t is MappingStartEvent
                key = None
            elif depth == 2 and in_metadata:
                key = None  # a collection value inside metadata: skipped
            depth += 1
        elif t is MappingEndEvent or t is SequenceEndEvent:
            depth -= 1
            if depth == 1 and in_metadata:
                in_metadata, metadata_done = False, True
            if depth == 0:
                break
        if metadata_done and found["apiVersion"] and found["kind"] and depth == 1:
            break
    return found["apiVersion"], found["kind"], found["namespace"], found["name"]
