"""Editing one Namespace document's annotations in place, by a round trip that keeps its
comments, key order and quoting; multi-line values are written as literal blocks."""

from __future__ import annotations

import io

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.scalarstring import LiteralScalarString


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold a long value
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def with_annotations(text: str, prefix: str, annotations: dict[str, str]) -> str:
    """``text`` (one Namespace document) with every annotation under ``prefix`` replaced by
    ``annotations``; everything else as it was, as far as a YAML round trip keeps it."""
    yaml = _yaml()
    data = yaml.load(text)
    meta = data.setdefault("metadata", CommentedMap())
    notes = meta.get("annotations")
    if not isinstance(notes, dict):
        notes = CommentedMap()
        meta["annotations"] = notes
    for key in [k for k in notes if str(k).startswith(prefix)]:
        del notes[key]
    for key, value in annotations.items():
        notes[key] = LiteralScalarString(value) if "\n" in value else value
    out = io.StringIO()
    yaml.dump(data, out)
    body = out.getvalue()
    return body if text.endswith("\n") else body.rstrip("\n")


def new_namespace(name: str, annotations: dict[str, str]) -> str:
    """A Namespace manifest with these annotations (the name is data, never YAML text)."""
    notes = CommentedMap(
        (k, LiteralScalarString(v) if "\n" in v else v) for k, v in annotations.items()
    )
    data = CommentedMap(
        [
            ("apiVersion", "v1"),
            ("kind", "Namespace"),
            ("metadata", CommentedMap([("name", name), ("annotations", notes)])),
        ]
    )
    out = io.StringIO()
    _yaml().dump(data, out)
    return out.getvalue()
