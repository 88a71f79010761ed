"""YAML streams in: one C-parser pass splits and checks a stream into documents; documents that
matter are composed to nodes (which carry line and column), the rest pass through as text.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ruamel.yaml.cyaml import CParser  # type: ignore[attr-defined]  # re-exported from clib
from ruamel.yaml.error import YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)

from netpol_gitops.errors import NetpolError, Problem
from netpol_gitops.model.location import Location
from netpol_gitops.yaml.document import Document, Shared
from netpol_gitops.yaml.expansion import MAX_ALIASES, MAX_DEPTH, checked_expansion, too_deep
from netpol_gitops.yaml.fastsplit import fast_split
from netpol_gitops.yaml.locate import refusal, yaml_problem


def split_stream(text: str | bytes, source: str, *, objects: bool = True) -> list[Document]:
    """Split a YAML stream into documents with one C-parser pass.

    ``text`` may be bytes only when they are ASCII (the parser's marks count characters).

    Every document is checked for YAML syntax and, before anything is built (the composer
    recurses, and whatever walks the built objects expands aliases), for at most MAX_ALIASES
    aliases and MAX_DEPTH levels of nesting; a document with aliases is then measured with
    them expanded (``alias_expansion``). Empty documents are dropped; with ``objects``, a
    document that is not a mapping is an error.
    """
    if objects:
        plain = fast_split(text, source)
        if plain is not None:
            return plain
    return split_events(text, source, objects=objects)


def split_events(  # noqa: PLR0912, PLR0915 - one event loop, kept flat for speed
    text: str | bytes, source: str, *, objects: bool = True
) -> list[Document]:
    """``split_stream`` by the parser's events, whatever the stream holds (yaml.fastsplit
    splits the plain ones without them, and must agree with this)."""
    docs: list[Document] = []
    problems: list[Problem] = []
    try:
        parser = CParser(text)
        prev_end: Any = parser.get_event().end_mark  # StreamStartEvent
    except YAMLError as exc:  # the reader refuses some characters before any event
        raise NetpolError([yaml_problem(exc, source, text=_str(text))]) from None
    root_mark: Any = prev_end
    depth = 0
    start = start_line = start_col = 0
    kind: str | None = None
    root_ok = True
    empty = False
    expect_key = True
    last_key: str | None = None
    aliases = 0
    try:
        while True:
            ev = parser.get_event()
            t = type(ev)
            if t is ScalarEvent:
                if depth == 1:
                    if expect_key:
                        last_key = ev.value
                    elif last_key == "kind":
                        kind = ev.value
                    expect_key = not expect_key
                elif depth == 0:
                    root_ok, root_mark = not objects, ev.start_mark
                    empty = ev.value == "" and ev.tag is None
            elif t is MappingStartEvent or t is SequenceStartEvent:
                if depth == 0:
                    root_ok, root_mark = t is MappingStartEvent or not objects, ev.start_mark
                elif depth == 1:
                    expect_key = not expect_key
                depth += 1
                if depth > MAX_DEPTH:
                    problems.append(too_deep(source, ev.start_mark))
                    break
            elif t is MappingEndEvent or t is SequenceEndEvent:
                depth -= 1
            elif t is AliasEvent:
                aliases += 1
                if depth == 1:
                    expect_key = not expect_key
                if aliases > MAX_ALIASES:
                    problems.append(
                        refusal(
                            source,
                            ev.start_mark,
                            f"more than {MAX_ALIASES} YAML aliases "
                            "in one document; refused (a Kubernetes "
                            "manifest needs none)",
                        )
                    )
                    break
            elif t is DocumentStartEvent:
                # an implicit start begins where the previous document ended (its comments too)
                mark = ev.end_mark if ev.explicit else prev_end
                start, start_line, start_col = mark.index, mark.line, mark.column
                kind, root_ok, empty, expect_key, last_key, aliases = (
                    None,
                    True,
                    False,
                    True,
                    None,
                    0,
                )
            elif t is DocumentEndEvent:
                prev_end = ev.end_mark
                if empty:
                    continue
                if not root_ok:
                    problems.append(
                        Problem(
                            Location(source, root_mark.line + 1, root_mark.column + 1, ""),
                            "expected a Kubernetes object (a YAML mapping) as the document",
                            rule="invalid-yaml",
                        )
                    )
                    continue
                body = _str(text[start : ev.start_mark.index])
                if aliases:  # rare: measured in a second pass, the loop stays lean
                    refused = checked_expansion(body, source, start_line, start_col).refused
                    if refused is not None:
                        problems.append(refused)
                        break
                docs.append(Document(source, body, start_line, start_col, kind, len(docs)))
            elif t is StreamEndEvent:
                break
    except YAMLError as exc:
        problems.append(yaml_problem(exc, source, text=_str(text)))
    if problems:
        raise NetpolError(problems)
    return docs


def _digest(text: str | bytes) -> bytes:
    import hashlib  # noqa: PLC0415 - start-up: only a diff (shared documents) pays for it

    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    return hashlib.blake2b(data, digest_size=20).digest()


def _str(text: str | bytes) -> str:
    return text.decode("ascii") if isinstance(text, bytes) else text


def read_documents(
    sources: Iterable[tuple[str, str | bytes]], shared: Shared | None = None
) -> list[Document]:
    """Documents of several (source name, text) pairs, in order, numbered across all of them.

    Every source is split before any problem is raised, so all syntax errors are reported.
    With ``shared``, a source read before (same name and text) gives the same documents, with
    what was derived from them, and keeps their numbering (two revisions of a repository).
    """
    problems: list[Problem] = []
    docs: list[Document] = []
    for name, text in sources:
        key = (name, _digest(text)) if shared is not None else None
        if shared is not None and key in shared:
            docs.extend(shared[key])
            continue
        try:
            split = split_stream(text, name)
        except NetpolError as exc:
            problems.extend(exc.problems)
            continue
        for doc in split:  # numbered across the sources; shared ones keep their first number
            doc.index += len(docs)
        if shared is not None and key is not None:
            shared[key] = split
        docs.extend(split)
    if problems:
        raise NetpolError(problems)
    return docs
