"""A ResourceList read in one C-parser pass, its items kept as spans of the input text.

kustomize and kpt send every resource of the build through a function. Building all of them as
objects only to write them back cost 30 x the input in memory (issue 8); here each item is the
text it came as, only the items that can matter are parsed, and the rest are echoed verbatim.

Only the plain layout kustomize and kpt write is taken this way: one document, a block mapping
with a block ``items`` sequence of untagged, unanchored mappings and no aliases anywhere.
Anything else (JSON, flow items, anchors, syntax errors) returns None and the caller parses the
whole list, which is also where its errors are reported.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ruamel.yaml.cyaml import CParser  # type: ignore[attr-defined]  # re-exported from clib
from ruamel.yaml.error import YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)

from netpol_gitops.yaml.document import Document
from netpol_gitops.yaml.emit import dump_block
from netpol_gitops.yaml.expansion import MAX_DEPTH

SOURCE = "<ResourceList>"


@dataclass(frozen=True)
class Span:
    """Where a mapping's text is: [start, end) of the input, its first line and column."""

    start: int
    end: int
    line: int
    col: int
    kind: str | None = None


@dataclass(frozen=True)
class ResourceList:
    """A ResourceList's layout: its items and functionConfig as spans of the text."""

    text: str | bytes  # bytes only when ASCII: marks count characters
    items: list[Span]
    dash_col: int  # the column of the items' "-" (every entry of a block sequence shares it)
    function_config: Span | None

    def _body(self, span: Span) -> str:
        """The span's text up to its last line break (a block mapping ends where the next
        token starts: after the indentation of the next line)."""
        raw = self.text[span.start : span.end]
        body = raw.decode("ascii") if isinstance(raw, bytes) else raw
        cut = body.rfind("\n") + 1
        if cut and not body[cut:].strip(" \t"):
            return body[:cut]
        return body + "\n"

    def document(self, index: int) -> Document:
        """Item ``index`` as a document that parses on its own (columns kept)."""
        span = self.items[index]
        text = " " * span.col + self._body(span)
        return Document(f"items[{index}]", text, span.line, 0, span.kind, index, lined=False)

    def config_document(self) -> Document | None:
        """The functionConfig under its key, so fields and lines read as in the whole list."""
        span = self.function_config
        if span is None:
            return None
        text = "functionConfig:\n" + " " * span.col + self._body(span)
        return Document(SOURCE, text, span.line - 1, 0, "ResourceList")

    def echo(self, index: int) -> str:
        """Item ``index`` as an entry of the output's items, exactly as it came."""
        span = self.items[index]
        gap = " " * (span.col - self.dash_col - 1)
        return " " * self.dash_col + "-" + gap + self._body(span)

    def output(
        self, kept: Iterator[int], generated: list[Any], results: list[dict[str, Any]]
    ) -> Iterator[str]:
        """The output ResourceList in pieces: kept items verbatim, then the generated ones in
        the same layout, then the results."""
        yield "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n"
        head = "items:\n"
        for index in kept:
            if head:
                yield head
                head = ""
            yield self.echo(index)
        if generated:
            yield head
            head = ""
            yield dump_block(generated, " " * self.dash_col)
        if head:
            yield "items: []\n"
        if results:
            yield dump_block({"results": results})


def read_resource_list(text: str | bytes) -> ResourceList | None:
    """The list's layout, or None when it is not the plain layout (see the module's doc).

    ``text`` may be bytes only when they are ASCII (the parser's marks count characters)."""
    try:
        return _walk(CParser(text), text)
    except YAMLError:
        return None


def _walk(parser: Any, text: str | bytes) -> ResourceList | None:  # noqa: PLR0912, PLR0915 - one loop
    items: list[Span] = []
    config: Span | None = None
    depth = 0
    documents = 0
    root_kind: str | None = None
    root_keys: set[str] = set()
    root_key: str | None = None
    root_expect_key = True
    in_items = flow_items = in_config = False
    dash_col = 0
    start = line = col = 0
    kind: str | None = None
    item_key: str | None = None
    item_expect_key = True
    while True:
        ev = parser.get_event()
        t = type(ev)
        if t is ScalarEvent:
            if depth == 3 and in_items:
                if item_expect_key:
                    item_key = ev.value
                elif item_key == "kind":
                    kind = ev.value
                item_expect_key = not item_expect_key
            elif depth == 1:
                if root_expect_key:
                    if ev.value in root_keys:
                        return None  # a duplicate key: the full parse reports it
                    root_keys.add(ev.value)
                    root_key = ev.value
                elif root_key == "kind":
                    root_kind = ev.value
                root_expect_key = not root_expect_key
            elif depth == 2 and in_items:
                return None  # an item that is not a mapping
        elif t is MappingStartEvent or t is SequenceStartEvent:
            mark = ev.start_mark
            if ev.anchor is not None or (depth < 3 and ev.tag is not None):
                return None
            if depth == 0:
                if t is not MappingStartEvent or ev.flow_style:
                    return None
            elif depth == 1:
                if root_expect_key:
                    return None  # a complex key
                root_expect_key = True
                if root_key == "items":
                    if t is not SequenceStartEvent:
                        return None
                    in_items, flow_items, dash_col = True, bool(ev.flow_style), mark.column
                elif root_key == "functionConfig" and t is MappingStartEvent:
                    in_config = True
                    start, line, col = mark.index, mark.line, mark.column
            elif depth == 2 and in_items:
                if t is not MappingStartEvent or flow_items:
                    return None
                start, line, col = mark.index, mark.line, mark.column
                kind, item_key, item_expect_key = None, None, True
            elif depth == 3 and in_items:
                item_expect_key = not item_expect_key
            depth += 1
            if depth > MAX_DEPTH:
                return None
        elif t is MappingEndEvent or t is SequenceEndEvent:
            depth -= 1
            if depth == 2 and in_items:
                items.append(Span(start, ev.end_mark.index, line, col, kind))
            elif depth == 1:
                if in_config:
                    config = Span(start, ev.end_mark.index, line, col)
                in_items = in_config = False
        elif t is AliasEvent:
            return None
        elif t is DocumentStartEvent:
            documents += 1
            if documents > 1:
                return None
        elif t is StreamEndEvent:
            break
    if documents != 1 or root_kind != "ResourceList":
        return None
    return ResourceList(text, items, dash_col, config)
