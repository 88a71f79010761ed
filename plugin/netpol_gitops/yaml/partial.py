"""Build only the parts of a document that a caller names, straight from C parser events.

The analysis needs a handful of fields of each workload (kind, metadata, pod template labels,
container ports), and building the whole of every Deployment cost two thirds of `reach`.
A document with aliases or explicit tags is left to the full constructor."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from ruamel.yaml.cyaml import CParser  # type: ignore[attr-defined]  # re-exported from clib
from ruamel.yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)

ANY = "*"  # any sequence index
Path = tuple[str, ...]
_INT = re.compile(r"[-+]?[0-9]+")
KEEP, DESCEND, SKIP = 0, 1, 2


class Unusual(Exception):
    """Aliases or explicit tags: build this document the full way."""


@lru_cache(maxsize=4096)  # across documents: workloads repeat the same few paths
def status(keep: tuple[Path, ...], path: Path) -> int:
    """KEEP when a ``keep`` path leads to ``path`` or is ``path``, DESCEND when one goes on
    below it, else SKIP."""
    descend = False
    for k in keep:
        n = min(len(k), len(path))
        if all(a in (b, ANY) for a, b in zip(k[:n], path[:n], strict=True)):
            if len(path) >= len(k):
                return KEEP
            descend = True
    return DESCEND if descend else SKIP


def plain_scalar(value: str) -> Any:
    """A plain scalar's value, as far as the analysis resolves it (quoted and block scalars are
    strings); yaml/blockscan.py resolves with it too."""
    if value in _WORDS:
        return _WORDS[value]
    if value[:1] in _INT_FIRST and _INT.fullmatch(value):
        return int(value)
    return value


_WORDS: dict[str, Any] = {
    **dict.fromkeys(("true", "True", "TRUE"), True),
    **dict.fromkeys(("false", "False", "FALSE"), False),
    **dict.fromkeys(("", "~", "null", "Null", "NULL"), None),
}
_INT_FIRST = frozenset("+-0123456789")


def pruned(text: str, keep: Sequence[Path]) -> dict[str, Any]:  # noqa: PLR0912, PLR0915 - one flat event loop
    """The document's mapping with only the ``keep`` paths (and what leads to them)."""
    paths = tuple(keep)
    parser = CParser(text)
    root: dict[str, Any] = {}
    # frames: [container, path, pending key or None, status]
    stack: list[list[Any]] = []
    skip = 0
    while True:
        ev = parser.get_event()
        t = type(ev)
        if t is StreamEndEvent:
            return root
        if skip:
            if t is MappingStartEvent or t is SequenceStartEvent:
                skip += 1
            elif t is MappingEndEvent or t is SequenceEndEvent:
                skip -= 1
            elif t is AliasEvent:
                raise Unusual
            continue
        if t is AliasEvent or (getattr(ev, "tag", None) and not getattr(ev, "implicit", True)):
            raise Unusual
        if t is ScalarEvent:
            if ev.tag is not None and not (ev.implicit[0] or ev.implicit[1]):
                raise Unusual
            frame = stack[-1]
            if type(frame[0]) is dict:
                if frame[2] is None:
                    frame[2] = ev.value
                    continue
                path = (*frame[1], frame[2])
                if frame[3] == KEEP or status(paths, path) != SKIP:
                    frame[0][frame[2]] = ev.value if ev.style else plain_scalar(ev.value)
                frame[2] = None
            else:
                path = (*frame[1], ANY)
                if frame[3] == KEEP or status(paths, path) != SKIP:
                    frame[0].append(ev.value if ev.style else plain_scalar(ev.value))
            continue
        if t is MappingStartEvent or t is SequenceStartEvent:
            new: Any = {} if t is MappingStartEvent else []
            if not stack:
                if t is not MappingStartEvent:
                    raise Unusual
                stack.append([root, (), None, DESCEND])
                continue
            frame = stack[-1]
            if type(frame[0]) is dict:
                if frame[2] is None:
                    raise Unusual  # a collection as a mapping key
                path, key = (*frame[1], frame[2]), frame[2]
                frame[2] = None
            else:
                path, key = (*frame[1], ANY), None
            state = KEEP if frame[3] == KEEP else status(paths, path)
            if state == SKIP:
                skip = 1
                continue
            if key is None:
                frame[0].append(new)
            else:
                frame[0][key] = new
            stack.append([new, path, None, state])
            continue
        if t is MappingEndEvent or t is SequenceEndEvent:
            stack.pop()
