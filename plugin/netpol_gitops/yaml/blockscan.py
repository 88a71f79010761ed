"""Kept paths of a plain document read straight from its text, by indentation.

``pruned`` still makes one Python step per parser event, so a Deployment costs what all its
fields cost, though the analysis reads a handful of them. For a document ``fast_split`` vouched
for (``Document.plain``: libyaml parsed the whole stream; no alias, tab, CR or BOM; every quote
and flow bracket that opens a node closes on its own line; a block mapping at the top), the
structure of the block parts is written in the indentation, and a subtree that is not kept is
one regex search, in C, for the line that ends it.

Why the indentation says where a node ends (YAML 1.2, chapter 8; libyaml's scanner agrees: it
ends a plain scalar at a line indented no deeper than the current block, and reads a block
scalar's content past that block's indentation). Call the
column of a mapping's keys, or of a sequence's dashes, the collection's column. Everything that
belongs to the value of a key at column ``c`` (or to an entry whose dash is at ``c``) lies on
lines indented past ``c``:
- a nested block mapping or sequence stands deeper (``l+block-mapping(n)`` takes ``n+m``,
  m >= 1), except a compact sequence under a key, whose dashes stand at the key's column
  (``seq-spaces(n, block-out) = n-1``): a ``-`` followed by a space or the line's end, at the
  key's column, continues the key's value; nothing else at that column can;
- a block scalar's content is indented past its parent's indentation (``|`` without an
  indicator takes the first non-empty line's, at least ``c+1``; ``|2`` takes ``c+2``); its
  lines with only spaces may be less indented but are blank;
- a plain scalar's next lines are indented at least ``c+1`` (``s-flow-folded(n+1)``) and never
  start with ``#``;
- quoted scalars and flow collections spanning lines are excluded by ``plain``;
- a comment line (``#`` after spaces) may stand at any column and belongs to nothing.
So the first line after a key at ``c`` that is neither blank nor a comment and is indented
``c`` or less (and is not a ``-`` entry at ``c``) is where the value ends; and a line at column
``c`` within a mapping's lines is one of its keys, or a dash of a key's compact sequence.
Within a descended mapping only the wanted keys are looked at: one search per mapping finds
them, any key at its column that could spell a wanted key another way (quoted, ``? ``, a tag or
an anchor), and the line that ends the mapping.

What is built (kept or descended into) is read only in a small grammar: plain keys
(``[A-Za-z0-9_][A-Za-z0-9_./-]*``, also ``key :``), block mappings and sequences (also
``-   key:`` and ``- - x``), one-line plain scalars resolved by ``partial.plain_scalar`` (the
same resolution as ``pruned``), one-line quoted scalars without a backslash, empty values
(None). Anything else there (a tag, an anchor, an alias, a block scalar, a flow collection, a
multi-line plain scalar, a quoted or complex key) returns None, and the caller uses ``pruned``,
which also decides what needs the full constructor. A ``!`` where a tag may start a node sends
the whole document there (``pruned`` refuses a tag on any child of what it reads, a skipped one
too). Duplicate keys: the last wins, in the first one's place, as in ``pruned``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from netpol_gitops.yaml.partial import ANY, DESCEND, KEEP, SKIP, Path, plain_scalar, status

_NAME = r"[A-Za-z0-9_][A-Za-z0-9_./\-]*"
_KEY = re.compile(rf"({_NAME}) *:(?= |\n|\Z) *")  # and the spaces after it
_SPACES = re.compile(r" *")
_HERE = re.compile(r"( *)(?=[^ \n#])")  # content on this line (not blank, not a comment)
_NEXT = re.compile(r"\n( *)(?=[^ \n#])")  # the next line with content
# where a tag may start a node (and more: it only sends the document to pruned)
_TAG = re.compile(r"(?:^ *(?:[-?] +)*|: +)(?:&[^ \n]+ +)?!", re.MULTILINE)
_SQ = re.compile(r"'((?:[^'\n]|'')*)'")
_DQ = re.compile(r'"([^"\\\n]*)"')  # no escapes
_AFTER_QUOTE = re.compile(r" *(?:\n|\Z)| +#")
# a key at a mapping's column that may spell a wanted key some other way, or is no plain key
_ODD = r"[\"'?:&!*\[\]{}|>%@`,]"
_NOT_PLAIN = frozenset(",[]{}#&*!|>'\"%@`")
# with a space or the line's end after them, these are indicators, not a plain scalar
_INDICATORS = frozenset("-?:")
# a one-line scalar of the common shapes: plain (no comment, no ": ", no indicator first),
# or quoted without escapes
_FLAT_VALUE = (
    r"""[^ \n#'"&*!|>%@`,\[\]{}?:\-](?:[^ \n:]|:(?![ \n]|\Z)| +(?=[^ \n#]))*"""
    r"""|"[^"\\\n]*"|'[^'\n]*'"""
)
_FLAT_LINE = rf"{_NAME} *: +(?:{_FLAT_VALUE}) *(?:\n|\Z)"
_FLAT_PAIR = re.compile(rf"({_NAME}) *: +({_FLAT_VALUE}) *(?:\n|\Z)")
Result = tuple[Any, int, int]  # (value, start of the next content line, its indentation)


class _Fail(Exception):
    """Outside the grammar read here: the caller uses ``pruned``."""


class _Node:
    """What is read at one path: its state (KEEP, DESCEND or SKIP) and, for a descended mapping
    whose wanted keys are known, those keys. Made once per ``keep`` and path."""

    __slots__ = ("_children", "_searches", "keep", "names", "path", "state")

    def __init__(self, keep: tuple[Path, ...], path: Path, state: int) -> None:
        self.keep, self.path, self.state = keep, path, state
        self.names = _names(keep, path) if state == DESCEND else None
        self._children: dict[str, _Node] = {}
        self._searches: dict[int, re.Pattern[str]] = {}

    def child(self, key: str) -> _Node:
        """The node of a key (or of a sequence's items: ANY)."""
        node = self._children.get(key)
        if node is None:
            if self.state == KEEP:
                return self
            sub = (*self.path, key)
            node = _Node(self.keep, sub, status(self.keep, sub))
            if len(self._children) < _MAX_CHILDREN:  # keys seen under a wildcard: bounded
                self._children[key] = node
        return node

    def search(self, col: int) -> re.Pattern[str]:
        """For a mapping at ``col`` with ``names``: the next wanted key (group 1) with its value
        (group 2) when that is a one-line scalar of the common shapes and the next content line
        is not deeper (it ends there), a key that may spell one some other way (no group), or
        the mapping's end (group 3: indentation)."""
        found = self._searches.get(col)
        if found is None:
            assert self.names is not None
            names = "|".join(re.escape(x) for x in sorted(self.names))
            not_dash = rf"(?! {{{col}}}-(?:[ \n]|\Z))"
            ends = rf"(?=(?:\n *(?:#[^\n]*)?)*(?:\Z|\n{not_dash} {{0,{col}}}[^ \n#]))"
            value = rf"(?: +({_FLAT_VALUE}) *{ends}|(?=[ \n]|\Z) *)"
            end = rf"|( {{0,{col - 1}}})(?=[^ \n#])" if col else ""
            found = self._searches[col] = re.compile(
                rf"\n(?: {{{col}}}(?:({names}) *:{value}|{_ODD}){end})"
            )
        return found


_MAX_CHILDREN = 1024


def _names(keep: tuple[Path, ...], path: Path) -> frozenset[str] | None:
    """The keys that matter in the mapping at ``path``; None when any key may (a wildcard, or
    ``path`` itself kept) or one is no plain name."""
    n = len(path)
    leading = [k for k in keep if all(a in (b, ANY) for a, b in zip(k, path, strict=False))]
    names = {k[n] for k in leading if len(k) > n}
    if any(len(k) <= n for k in leading) or ANY in names:
        return None
    if not all(re.fullmatch(_NAME, x) for x in names):
        return None
    return frozenset(names)


@lru_cache(maxsize=64)
def _root(keep: tuple[Path, ...]) -> _Node:
    return _Node(keep, (), DESCEND)


def blockscan(text: str, keep: Sequence[Path]) -> dict[str, Any] | None:
    """What ``pruned(text, keep)`` returns, read from the text of a plain document (see
    ``Document.plain``); None when the document is outside the grammar read here."""
    if "!" in text and _TAG.search(text):
        return None  # pruned refuses a tag on any child of what it reads, skipped or not
    first = _HERE.match(text) or _NEXT.search(text)
    if first is None:
        return {}  # blanks and comments only: no document, as pruned says
    at, col = first.end(), len(first.group(1))
    if _KEY.match(text, at) is None:
        return None  # the root is not a block mapping with a plain first key
    try:
        out, _, indent = _mapping(text, at, col, _root(tuple(keep)), first.re is _NEXT)
    except _Fail:
        return None
    return out if indent < 0 else None


def _mapping(text: str, at: int, col: int, node: _Node, fresh: bool = True) -> Result:
    """A block mapping whose first key is at ``at``, column ``col`` (at a line's start when
    ``fresh``, else after a dash)."""
    if node.names is not None:
        return _descend(text, at, col, node, fresh=fresh)
    if node.state == KEEP and (flat := _flat(text, at, col)) is not None:
        return flat
    return _walk(text, at, col, node)


def _descend(text: str, at: int, col: int, node: _Node, *, fresh: bool) -> Result:
    """A mapping at ``col`` of which only ``names`` matter: the lines between them are jumped.
    ``fresh``: ``at`` is preceded by a line break and ``col`` spaces (the search can read the
    first key too)."""
    out: dict[str, Any] = {}
    names, search = node.names, node.search(col)
    if fresh:
        m = search.search(text, at - col - 1)
    else:
        first = _KEY.match(text, at)
        if first is None:
            raise _Fail
        key = first.group(1)
        if names is not None and key in names:
            out[key], at, indent = _value(text, first.end(), col, node.child(key))
            if indent < col:
                return out, at, indent
            m = search.search(text, at - indent - 1)
        else:
            m = search.search(text, at)
    while m is not None:
        key = m.group(1)
        if key is None:
            if m.group(3) is None:
                raise _Fail  # a key that may be a wanted one spelled otherwise
            return out, m.end(), len(m.group(3))  # the mapping's end
        if (value := m.group(2)) is not None:  # read by the search
            out[key] = value[1:-1] if value[0] in "'\"" else plain_scalar(value)
            m = search.search(text, m.end())
            continue
        out[key], at, indent = _value(text, m.end(), col, node.child(key))
        if indent < col:
            return out, at, indent
        m = search.search(text, at - indent - 1)
    return out, len(text), -1


def _walk(text: str, at: int, col: int, node: _Node) -> Result:
    """A mapping at ``col`` whose keys are all looked at (kept whole, or a wildcard key)."""
    out: dict[str, Any] = {}
    while True:
        m = _KEY.match(text, at)
        if m is None:
            raise _Fail
        key = m.group(1)
        sub = node.child(key)
        if sub.state == SKIP:
            at, indent = _skip(text, m.end(), col)
        else:
            out[key], at, indent = _value(text, m.end(), col, sub)
        if indent != col:
            if indent > col:
                raise _Fail
            return out, at, indent


def _flat(text: str, at: int, col: int) -> Result | None:
    """A kept mapping at ``col`` that is only lines of ``key: scalar`` of the common shapes
    (labels, ports), read in two C calls; None when it is not."""
    m = _flat_lines(col).match(text, at)
    if m is None:
        return None
    end = m.end()
    if end == len(text):
        below, indent = end, -1
    else:
        n = _NEXT.search(text, end - 1)
        below, indent = (n.end(), len(n.group(1))) if n else (len(text), -1)
        if indent >= col:
            return None  # more lines of this mapping (a comment, a blank or another shape)
    out = {
        k: v[1:-1] if v[0] in "'\"" else plain_scalar(v)
        for k, v in _FLAT_PAIR.findall(text, at, end)
    }
    return out, below, indent


@lru_cache(maxsize=256)
def _flat_lines(col: int) -> re.Pattern[str]:
    return re.compile(rf"{_FLAT_LINE}(?: {{{col}}}{_FLAT_LINE})*")


def _value(text: str, at: int, col: int, node: _Node) -> Result:
    """The value after a key at ``col`` (``at`` past its colon and the spaces after it)."""
    start = at
    if start < len(text) and text[start] not in "\n#":
        value, end = _scalar(text, start)
        m = _NEXT.search(text, end)
        if m is None:
            return value, len(text), -1
        indent = len(m.group(1))
        if indent > col or (indent == col and _dash(text, m.end())):
            raise _Fail  # a plain scalar going on below
        return value, m.end(), indent
    m = _NEXT.search(text, start)  # on the lines below
    if m is None:
        return None, len(text), -1
    below, indent = m.end(), len(m.group(1))
    if _dash(text, below):
        if indent < col:
            return None, below, indent
        value, at, after = _sequence(text, below, indent, node)
    elif indent > col:
        if _KEY.match(text, below) is None:
            raise _Fail  # a scalar below its key, or an odd key
        value, at, after = _mapping(text, below, indent, node)
    else:
        return None, below, indent
    if after > col or (after == col and _dash(text, at)):
        raise _Fail
    return value, at, after


def _sequence(text: str, at: int, col: int, node: _Node) -> Result:
    """A block sequence whose first dash is at ``at``, column ``col``."""
    item = node.child(ANY)
    if item.state == SKIP:
        return [], *_skip(text, at, col)
    out: list[Any] = []
    while True:
        value, at, indent = _entry(text, at + 1, col, item)
        out.append(value)
        if indent != col or not _dash(text, at):
            if indent > col:
                raise _Fail
            return out, at, indent


def _entry(text: str, at: int, col: int, node: _Node) -> Result:
    """The entry after a dash at ``col`` (``at`` just past it)."""
    spaces = _SPACES.match(text, at)
    start = spaces.end() if spaces else at
    if start == len(text) or text[start] in "\n#":  # on the lines below
        m = _NEXT.search(text, start)
        if m is None:
            return None, len(text), -1
        below, indent = m.end(), len(m.group(1))
        if indent <= col:
            return None, below, indent
        if _dash(text, below):
            value, at, after = _sequence(text, below, indent, node)
        elif _KEY.match(text, below):
            value, at, after = _mapping(text, below, indent, node)
        else:
            raise _Fail  # a scalar below its dash, or an odd key
    elif _dash(text, start):  # "- - a"
        value, at, after = _sequence(text, start, col + 1 + start - at, node)
    elif _KEY.match(text, start):  # "-   key: a"
        value, at, after = _mapping(text, start, col + 1 + start - at, node, fresh=False)
    else:
        value, end = _scalar(text, start)
        m = _NEXT.search(text, end)
        if m is None:
            return value, len(text), -1
        at, after = m.end(), len(m.group(1))
    if after > col:
        raise _Fail
    return value, at, after


def _scalar(text: str, at: int) -> tuple[Any, int]:
    """A one-line scalar starting at ``at``: its value and where it ends on the line."""
    c = text[at]
    if c in "'\"":
        m = (_SQ if c == "'" else _DQ).match(text, at)
        if m is None or _AFTER_QUOTE.match(text, m.end()) is None:
            raise _Fail  # escapes, or more after the closing quote
        return (m.group(1).replace("''", "'") if c == "'" else m.group(1)), m.end()
    if c in _NOT_PLAIN or (c in _INDICATORS and text[at + 1 : at + 2] in (" ", "\n", "")):
        raise _Fail  # a tag, an anchor, an alias, a block scalar, a flow collection
    end = text.find("\n", at)
    end = len(text) if end < 0 else end
    line = text[at:end]
    comment = line.find(" #")
    if comment >= 0:
        line = line[:comment]
    line = line.rstrip(" ")
    if ": " in line or line.endswith(":"):
        raise _Fail  # not a scalar (libyaml would have refused it here)
    return plain_scalar(line), end


def _dash(text: str, at: int) -> bool:
    """Whether a sequence entry's dash is at ``at``."""
    return text.startswith("-", at) and text[at + 1 : at + 2] in (" ", "\n", "")


def _skip(text: str, at: int, col: int) -> tuple[int, int]:
    """The next content line indented less than ``col``, or at ``col`` and no dash: where the
    value of a key at ``col`` (or a sequence at ``col``) that starts on ``at``'s line ends."""
    m = _ending(col).search(text, at)
    if m is None:
        return len(text), -1
    return m.end(), len(m.group(1))


@lru_cache(maxsize=256)
def _ending(col: int) -> re.Pattern[str]:
    at_col = rf" {{{col}}}(?=[^ \n#\-]|-[^ \n])"
    if col == 0:
        return re.compile(rf"\n({at_col})")
    return re.compile(rf"\n( {{0,{col - 1}}}(?=[^ \n#])|{at_col})")
