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
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain

from ruamel.yaml.cyaml import CParser  # type: ignore[attr-defined]  # re-exported from clib
from ruamel.yaml.error import YAMLError

from netpol_gitops.yaml.document import Document
from netpol_gitops.yaml.expansion import MAX_DEPTH

_BLANK_OR_COMMENT = re.compile(r" *(#[^\n]*)?")
# a line that starts at column 0 and is not a comment: a top-level key, or an item of one's
# block sequence ("- ")
_TOP = re.compile(r"^[^ \n#][^\n]*", re.MULTILINE)
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-/]*:(?= |\Z)")
# (a comment needs a space before its "#": "Pod#x" is one plain word)
_KIND = re.compile(r"kind: *([A-Za-z][A-Za-z0-9]*)(?: +(?:#[^\n]*)?)?")
# Lines whose leading blanks and "- " / "? " indicators reach this many columns, and documents
# with more flow brackets than _FLOW, are measured by ``_deeper``; a document with neither
# nests at most 2 * _DEEP + 1 + _FLOW = MAX_DEPTH levels (see ``_deeper``).
_DEEP = 33
_FLOW = MAX_DEPTH - 3 - 2 * (_DEEP - 1)
# What fast_split looks for at the start of a line (each branch begins with a character, so
# that the search skips from one line break to the next and most lines fail at once): a
# marker ("rest" and "end" hold the rest of its line); a kind, plain ("kind") or not
# ("kindline"); a line that may nest deep; an item of a top-level block sequence; a line at
# column 0 that is none of these, nor blank, a comment or a plain key ("odd").
_LINE_START = (
    r"---(?=[ \n]|\Z)(?P<rest>[^\n]*)"
    r"|\.\.\.(?=[ \n]|\Z)(?P<end>[^\n]*)"
    r"|kind:(?P<kindline>)(?: +(?P<kind>[A-Za-z][A-Za-z0-9]*)(?: +(?:#[^\n]*)?)?(?=\n|\Z)(?!\n ))?"
    rf"|[ ?-]{{{_DEEP}}}(?P<deep>)"
    r"|- (?P<item>)"
    r"|[^ \n#](?!(?<=[A-Za-z0-9])[A-Za-z0-9_.\-/]*:(?=[ \n]|\Z))(?P<odd>)"
)
_LINE = re.compile(r"\n(?:" + _LINE_START + ")")
_FIRST_LINE = re.compile(_LINE_START)
# a block scalar's header: the column its key (or sequence item) starts at, then the indicator
_HEADER = re.compile(
    r"^( *(?:- +)*)(?:[^ #'\"\[{\n][^#\n]*?: +)?(?:[&!][^ \n]* +)*[|>][-+1-9]{0,2} *(?:#[^\n]*)?$",
    re.MULTILINE,
)
# its indicator, one pattern per indicator (each starts with it, so that the search skips ahead)
_HEADER_HINTS = tuple(re.compile(rf"\{c}[-+1-9]{{0,2}} *(?:#[^\n]*)?$", re.MULTILINE) for c in "|>")
# where a node may start: at a line's start, or after one of these
OPENS_AFTER = " \n[{,:"
# a quote there that does not close on its line (or ends it with an escaped line break); the
# lookbehinds follow the character they test so that the search scans for it first
_DQ_OPEN = re.compile(r'"(?<![^ \n\[{,:]")(?:[^"\\\n]++|\\.)*+\\?$', re.MULTILINE)
_SQ_OPEN = re.compile(r"'(?<![^ \n\[{,:]')(?:[^'\n]++|'')*+$", re.MULTILINE)
# a bracket there that does not open a flow collection that plainly closes (no nesting, quote
# or comment) on its line
_SQUARE = re.compile(r"\[(?<![^ \n\[{,:]\[)(?![^\[\]{}\"'#\n]*+[\]}])")
_CURLY = re.compile(r"\{(?<![^ \n\[{,:]\{)(?![^\[\]{}\"'#\n]*+[\]}])")
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
    not plain (then only the event loop can say what it holds).

    ``_document`` says what plain is, one document at a time. Scans of the whole text vouch
    for most documents instead, and ``_document`` looks only at the others. A document is
    vouched for when its lines hold exactly one ``kind`` at column 0, a plain word that no
    line goes on with; no other line at column 0 that is not blank, a comment, a plain key or
    a ``- `` item below the kind (so the first one is a key); no line whose block nodes may
    start _DEEP columns in, and at most _FLOW brackets (so ``_deeper`` finds nothing); and no
    quote or bracket that may open a construct spanning lines outside block scalars
    (``_opening``). Each is what ``_document`` requires, or more; the scans see the same
    lines, as a document's text (after its marker's line) begins with a line break or the
    stream and ends before a marker's line.
    """
    s = text.decode("ascii") if isinstance(text, bytes) else text
    if any(c in s for c in _UNUSUAL) or ("*" in s and _ALIAS.search(s)):
        return None
    scanned = _scan(s)
    if scanned is None:
        return None
    heads, starts, kinds, look = scanned
    bodies = [s[at : starts[d + 1]] for d, (at, _, _) in enumerate(heads)]
    for d, body in enumerate(bodies):
        brackets = body.count("[") + body.count("{")
        if brackets > MAX_DEPTH - 3:
            return None  # before the parse: libyaml's time grows with the square of nesting
        if brackets > _FLOW:
            look.add(d)
    try:
        CParser(text).raw_parse()
    except YAMLError:
        return None  # the event loop locates every problem
    for at in _opening(s):
        look.add(bisect_right(starts, at) - 1)
    cut = _Cut(source, [])
    for d, body in enumerate(bodies):
        kind = kinds[d]
        _, line, col = heads[d]
        if kind is not None and d not in look:
            cut.docs.append(Document(source, body, line, col, kind, len(cut.docs), plain=True))
        elif not _document(cut, body, line, col):
            return None
    return cut.docs


def _scan(
    s: str,
) -> tuple[list[tuple[int, int, int]], list[int], list[str | None], set[int]] | None:
    """One pass over the starts of lines: per document, the (offset, line, column) of its
    text, where its lines begin (at its marker, or the stream's start; then the stream's end)
    and the kind it is vouched for with (or None); and the documents that ``_document`` has to
    look at. None when a marker's line holds content, a tag or an anchor."""
    heads: list[tuple[int, int, int]] = [(0, 0, 0)]
    starts = [0]
    kinds: list[str | None] = [None]
    look: set[int] = set()
    counted, lines = 0, 0  # lines before ``counted``
    first = _FIRST_LINE.match(s)
    for m in _LINE.finditer(s) if first is None else chain((first,), _LINE.finditer(s)):
        what = m.lastgroup
        if what == "kind" and kinds[-1] is None:
            kinds[-1] = m.group("kind")
        elif what in {"rest", "end"}:
            rest = m.group(what)
            if rest and _BLANK_OR_COMMENT.fullmatch(rest) is None:
                return None
            at = m.start(what) - 3
            lines += s.count("\n", counted, at)
            counted = at
            heads.append((at + 3, lines, 3))
            starts.append(at)
            kinds.append(None)
        elif what != "item" or kinds[-1] is None:
            # a second kind, one that is not a plain word, a line that may nest deep, an odd
            # line, an item above the kind
            look.add(len(starts) - 1)
    starts.append(len(s))
    return heads, starts, kinds, look


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
    # (after the depth: fewer than MAX_DEPTH brackets to follow)
    if next(_opening(rest), None) is not None:
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
    """A line break before a line that is not blank and is indented ``column`` or less."""
    return re.compile(rf"\n {{0,{column}}}[^ \n]")


def _opening(s: str) -> Iterator[int]:
    """Where in ``s`` (documents, each from a line break or the stream's start) a quote or
    bracket that may open a construct spanning lines stands: one that does not close on its
    own line, outside block scalars' content."""
    spans: tuple[list[int], list[int]] | None = None
    for pattern in (_DQ_OPEN, _SQ_OPEN, _SQUARE, _CURLY):
        for m in pattern.finditer(s):
            at = m.start()
            if spans is None:
                spans = _block_scalars(s)
            starts, ends = spans
            k = bisect_right(starts, at) - 1
            if k >= 0 and at < ends[k]:
                continue  # a block scalar's content
            if pattern is _SQUARE or pattern is _CURLY:
                line = s.rfind("\n", 0, at) + 1
                end = s.find("\n", at)
                if _end(s[line : len(s) if end < 0 else end], at - line) is not None:
                    continue
            yield at


def _block_scalars(s: str) -> tuple[list[int], list[int]]:
    """The spans of the lines that follow a block scalar's header and are indented past the
    column its key starts at: the scalar's content (a line of that indentation that is not its
    content would not parse). Sorted starts, and the ends. A document's last span ends at the
    next marker's line (at column 0) at the latest, so the spans of a stream are those of its
    documents."""
    starts: list[int] = []
    ends: list[int] = []
    hints = sorted(m.start() for hint in _HEADER_HINTS for m in hint.finditer(s))
    for at in hints:
        header = _HEADER.match(s, s.rfind("\n", 0, at) + 1)
        if header is None:
            continue
        start = header.end() + 1
        if ends and start < ends[-1]:
            continue  # inside the previous one's content
        below = _outdented(len(header.group(1))).search(s, start - 1)
        starts.append(start)
        ends.append(below.start() + 1 if below else len(s))
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
