"""YAML embedded in a string value (the flows annotation, a default in the config): parsed
with the stream's limits, its locations mapped back to the file."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import Node, ScalarNode

from netpol_gitops.errors import NetpolError, Problem
from netpol_gitops.model.location import Location, Locator, field_path
from netpol_gitops.yaml.document import Document, compose, construct
from netpol_gitops.yaml.locate import locate, yaml_problem
from netpol_gitops.yaml.stream import split_stream


# ---------------------------------------------------------------------------- embedded YAML
class EmbeddedLocator:
    """Locations inside a YAML value embedded in a string (the flows annotation), mapped back
    to the file: exact for block scalars (``|``) and one-line values, else the value's start."""

    def __init__(self, doc: Document, outer: Sequence[str | int], inner: Node | None) -> None:
        self.doc, self.outer, self.inner = doc, list(outer), inner
        # an unlined document (a ResourceList item) locates nothing: its nodes are not built
        self.value = locate(doc.node(), outer)[0] if doc.lined else None
        self.base = doc.location(outer)
        self.style = getattr(self.value, "style", None)
        self.indent = 0
        if self.value is not None and self.style in ("|", ">"):
            for line in doc.text.splitlines()[self.value.start_mark.line + 1 :]:
                if line.strip():
                    self.indent = len(line) - len(line.lstrip(" "))
                    break

    def __call__(self, path: Sequence[str | int], key: bool = False) -> Location:
        name = field_path([*self.outer, *path])
        if self.inner is None or not self.doc.lined:
            return self.base.with_field(name)
        node, key_node = locate(self.inner, path)
        target = key_node if key and key_node is not None else node
        return self.shift(target.start_mark.line, target.start_mark.column, name)

    def shift(self, line: int, col: int, name: str) -> Location:
        value = self.value
        if value is None:
            return self.base.with_field(name)
        start = value.start_mark
        if self.style in ("|", ">"):
            out = self.doc.mark(start.line + 1 + line, self.indent + col)
        elif line == 0 and isinstance(value, ScalarNode) and start.line == value.end_mark.line:
            out = self.doc.mark(start.line, start.column + col + (1 if self.style else 0))
        else:
            return self.base.with_field(name)
        return Location(self.doc.source, out[0], out[1], name)


def parse_embedded(
    text: str, doc: Document, outer: list[str | int], problems: list[Problem]
) -> tuple[Any, Locator] | None:
    try:
        split_stream(text, "flows", objects=False)  # depth and alias limits before composing
        node = compose(text)
        data = construct(node) if node is not None else None
    except NetpolError as err:  # located inside the value, like a syntax error below
        at = EmbeddedLocator(doc, outer, None)
        name = field_path(outer)
        problems.extend(
            Problem(at.shift(p.location.line - 1, p.location.col - 1, name), p.message, rule=p.rule)
            for p in err.problems
        )
        return None
    except YAMLError as exc:
        p = yaml_problem(exc, "x")
        loc = EmbeddedLocator(doc, outer, None).shift(
            p.location.line - 1, p.location.col - 1, field_path(outer)
        )
        problems.append(
            Problem(loc, p.message.replace("invalid YAML", "invalid YAML in the flows value"))
        )
        return None
    return data, EmbeddedLocator(doc, outer, node)


def parse_plain(text: str, loc: Location, problems: list[Problem]) -> Any:
    try:
        split_stream(text, "flows", objects=False)  # depth and alias limits before composing
        node = compose(text)
        return construct(node) if node is not None else None
    except NetpolError as err:
        problems.extend(Problem(loc, p.message, rule=p.rule) for p in err.problems)
        return None
    except YAMLError as exc:
        problems.append(Problem(loc, yaml_problem(exc, "x").message))
        return None
