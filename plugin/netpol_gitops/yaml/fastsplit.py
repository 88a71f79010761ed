"""The common stream, split without a Python object per parser event.

``split_stream``'s event loop makes three Python calls per event (ruamel.yaml's event classes),
which cost more than the parse itself. Most manifests are plain: block mappings whose top-level
keys are plain words at column 0, ``---`` separators, a plain ``kind``. For those the C parser
only checks the syntax (``raw_parse``: no event reaches Python), and the documents are cut
where the YAML spec puts document markers: a line that starts with ``---`` or ``...`` followed
by a space or the line's end is a marker wherever it stands (no scalar may hold one), so in a
stream the parser accepts, those lines are exactly the boundaries.

Within a document, a line that starts at column 0 is a top-level key (or an item of a
top-level key's block sequence), except inside a quoted scalar or a flow collection that spans
lines (a plain scalar's next lines, and a block scalar's, are indented). Such a construct opens
where a node may start: at a line's start, or after a space, ``[``, ``{``, ``,`` or ``:``. So
every quote or bracket there must close on its own line (the lines of block scalars are exempt:
their content opens nothing); a closing quote after a space counts too, and sends the stream
to the event loop.

Anything else (a syntax error, possible aliases, directives, tags or content on a marker line,
a top-level key that is not a plain word, a ``kind`` that is not a plain word, a quote or
bracket that may open a construct spanning lines, a document that could nest past MAX_DEPTH,
tabs, line breaks other than ``\\n``) returns None, and the event loop splits the stream.
``tests/unit/yaml/test_fastsplit.py`` requires the two to agree.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

from ruamel.yaml.cyaml import CParser  # type: ignore[attr-defined]  # re-exported from clib
from ruamel.yaml.error import YAMLError

from netpol_gitops.yaml.document import Document
from netpol_gitops.yaml.expansion import MAX_DEPTH

_MARKER = re.compile(r"^(---|\.\.\.)(?=[ \n]|\Z)([^\n]*)", re.MULTILINE)
_BLANK_OR_COMMENT = re.compile(r" *(#[^\n]*)?")
# a line that starts at column 0 and is not a comment: a top-level key, or an item of one's
# block sequence ("- ")
_TOP = re.compile(r"^[^ \n#][^\n]*", re.MULTILINE)
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-/]*:(?= |\Z)")
# (a comment needs a space before its "#": "Pod#x" is one plain word)
_KIND = re.compile(r"kind: *([A-Za-z][A-Za-z0-9]*)(?: +(?:#[^\n]*)?)?")
# where block nodes start on a line: its indentation and any compact "- " or "? " entries
_STARTS = re.compile(r"^( *)((?:[-?] +)*)", re.MULTILINE)
# a block scalar's header: the column its key (or sequence item) starts at, then the indicator
_HEADER = re.compile(
    r"^( *(?:- +)*)(?:[^ #'\"\[{\n][^#\n]*?: +)?(?:[&!][^ \n]* +)*[|>][-+1-9]{0,2} *(?:#[^\n]*)?$",
    re.MULTILINE,
)
_HEADER_HINT = re.compile(r"[|>][-+1-9]{0,2} *(?:#[^\n]*)?$", re.MULTILINE)
# where a node may start: at a line's start, or after one of these
OPENS_AFTER = " \n[{,:"
# a quote there that does not close on its line (or ends it with an escaped line break); the
# lookbehinds follow the character they test so that the search scans for it first
_DQ_OPEN = re.compile(r'"(?<![^ \n\[{,:]")(?:[^"\\\n]++|\\.)*+\\?$', re.MULTILINE)
_SQ_OPEN = re.compile(r"'(?<![^ \n\[{,:]')(?:[^'\n]++|'')*+$", re.MULTILINE)
# a bracket there; a flow collection that plainly closes (no nesting, quote or comment) on its
# line
_BRACKET = re.compile(r"[\[{](?<![^ \n\[{,:][\[{])")
_SIMPLE_FLOW = re.compile(r"[\[{][^\[\]{}\"'#\n]*+[\]}]")
_DQ = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_SQ = re.compile(r"'(?:[^'\n]|'')*'")
# an alias where a node may start: counted and measured by the event loop only
_ALIAS = re.compile(r"\*(?<![^ \n\[{,:]\*)[^ \n,\[\]{}]")
_UNUSUAL = ("\r", "\t", "\x85", "\u2028", "\u2029", "\ufeff")


@dataclass
class _Cut:
    """The documents cut so far from one source (a docstring: see launch.defer)."""

    source: str
    docs: list[Document]


def fast_split(text: str | bytes, source: str) -> list[Document] | None:
    """The documents of a plain stream, as ``split_stream`` makes them; None when the stream is
    not plain (then only the event loop can say what it holds)."""
    s = text.decode("ascii") if isinstance(text, bytes) else text
    if any(c in s for c in _UNUSUAL) or ("*" in s and _ALIAS.search(s)):
        return None
    bodies: list[tuple[str, int, int]] = []  # (text, line, column) of each document
    start, line, col = 0, 0, 0  # where the current document begins
    counted, lines = 0, 0  # lines before ``counted``
    for marker in _MARKER.finditer(s):
        if _BLANK_OR_COMMENT.fullmatch(marker.group(2)) is None:
            return None  # content, a tag or an anchor on the marker line
        at = marker.start()
        bodies.append((s[start:at], line, col))
        lines += s.count("\n", counted, at)
        counted = at
        start, line, col = marker.end(1), lines, 3
    bodies.append((s[start:], line, col))
    # before the parse: libyaml's time grows with the square of flow nesting
    if any(b.count("[") + b.count("{") > MAX_DEPTH - 3 for b, _, _ in bodies):
        return None
    try:
        CParser(text).raw_parse()
    except YAMLError:
        return None  # the event loop locates every problem
    cut = _Cut(source, [])
    if not all(_document(cut, body, line, col) for body, line, col in bodies):
        return None
    return cut.docs


def _document(cut: _Cut, body: str, line: int, col: int) -> bool:
    """Add ``body`` as a document (none when it holds only blanks and comments); False when it
    is not plain."""
    # after a marker, the rest of its line is blank or a comment (checked): skip it
    rest = body[max(body.find("\n"), 0) :] if col else body
    tops = list(_TOP.finditer(rest))
    if not tops:
        # blanks and comments only (no document), or a root that does not start at column 0
        return all(_BLANK_OR_COMMENT.fullmatch(x) for x in rest.split("\n"))
    keys = [m for m in tops if not m.group(0).startswith("- ")]
    if keys[:1] != tops[:1] or any(_KEY.match(k.group(0)) is None for k in keys):
        return False  # a root that is not a block mapping, or a key that is not a plain word
    kind = None
    kinds = [k for k in keys if k.group(0).startswith("kind:")]
    if kinds:
        found = _KIND.fullmatch(kinds[-1].group(0))
        following = rest[kinds[-1].end() + 1 : kinds[-1].end() + 2]
        if len(kinds) > 1 or found is None or following == " ":
            return False  # a second kind, not a plain word, or one that may go on below
        kind = found.group(1)
    column = (MAX_DEPTH - 3 - rest.count("[") - rest.count("{")) // 2
    if column < 0 or _deeper(column).search(rest):
        return False  # could nest too deep: the event loop measures it
    if not _closed(rest):  # (after the depth: fewer than MAX_DEPTH brackets to follow)
        return False
    cut.docs.append(Document(cut.source, body, line, col, kind, len(cut.docs), plain=True))
    return True


@lru_cache(maxsize=256)
def _deeper(column: int) -> re.Pattern[str]:
    """A line whose block nodes may start past ``column``. Nesting in block context goes one
    column further at least every second level (a block sequence may stand at its key's
    column), and a flow collection adds at most one level per bracket, so a document without
    such a line nests at most 2 * (column + 1) + 1 + brackets levels."""
    return re.compile(rf"^[ ?-]{{{column + 1}}}", re.MULTILINE)


@lru_cache(maxsize=256)
def _outdented(column: int) -> re.Pattern[str]:
    """A line that is not blank and is indented ``column`` or less."""
    return re.compile(rf"^ {{0,{column}}}[^ \n]", re.MULTILINE)


def _closed(rest: str) -> bool:
    """Whether every quote and bracket that may open a construct closes on its own line,
    block scalars' lines aside."""
    starts, ends = _block_scalars(rest)

    def exempt(at: int) -> int | None:
        """The end of the block scalar content ``at`` is in, else None."""
        k = bisect_right(starts, at) - 1
        return ends[k] if k >= 0 and at < ends[k] else None

    for unclosed in (_DQ_OPEN, _SQ_OPEN):
        pos = 0
        while (m := unclosed.search(rest, pos)) is not None:
            end = exempt(m.start())
            if end is None:
                return False
            pos = end
    pos = 0
    while (m := _BRACKET.search(rest, pos)) is not None:
        at = pos = m.start() + 1
        at -= 1
        if _SIMPLE_FLOW.match(rest, at) or exempt(at) is not None:
            continue
        line = rest.rfind("\n", 0, at) + 1
        end = rest.find("\n", at)
        if _end(rest[line : len(rest) if end < 0 else end], at - line) is None:
            return False
    return True


def _block_scalars(rest: str) -> tuple[list[int], list[int]]:
    """The spans of the lines that follow a block scalar's header and are indented past the
    column its key starts at: the scalar's content (a line of that indentation that is not its
    content would not parse). Sorted starts, and the ends."""
    starts: list[int] = []
    ends: list[int] = []
    if "|" not in rest and ">" not in rest:
        return starts, ends
    for hint in _HEADER_HINT.finditer(rest):
        line_start = rest.rfind("\n", 0, hint.start()) + 1
        header = _HEADER.match(rest, line_start)
        if header is None:
            continue
        start = header.end() + 1
        if ends and start < ends[-1]:
            continue  # inside the previous one's content
        below = _outdented(len(header.group(1))).search(rest, start)
        starts.append(start)
        ends.append(below.start() if below else len(rest))
    return starts, ends


def _end(line: str, i: int) -> int | None:
    """Where the quoted scalar or flow collection that opens at ``line[i]`` ends on the line,
    or None."""
    c = line[i]
    if c in "\"'":
        m = (_DQ if c == '"' else _SQ).match(line, i)
        return m.end() if m else None
    depth, j = 0, i
    while j < len(line):
        c = line[j]
        if c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
            if depth == 0:
                return j + 1
        elif c == "#" and line[j - 1] == " ":
            return None  # a comment: the collection goes on below
        elif c in "\"'" and line[j - 1] in OPENS_AFTER:
            end = _end(line, j)
            if end is None:
                return None
            j = end
            continue
        j += 1
    return None
