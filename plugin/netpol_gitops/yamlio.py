"""YAML in and out: one C-parser pass splits and checks a stream, documents that matter are
composed to nodes (which carry line and column), the rest pass through as the text they came as.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.cyaml import CParser  # type: ignore[attr-defined]  # re-exported from clib
from ruamel.yaml.error import MarkedYAMLError, YAMLError
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
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.resolver import VersionedResolver

from netpol_gitops.errors import Location, NetpolError, Problem, field_path

MAX_ALIASES = 100  # per document: manifests rarely use anchors; alias bombs use thousands
MAX_DEPTH = 100  # nesting levels per document, aliases expanded: real manifests stay under 30
# Nodes that aliases add to a document once expanded (an alias counts every node of what it
# names, aliases inside that included). Few aliases can stand for billions of nodes (9 anchors
# of 9 aliases each: 10^9), and whatever walks the built objects (JSON output, schema checks,
# the dumper) expands them. Shared label maps or ``<<: *defaults`` add hundreds; the bound
# keeps the worst document to about a tenth of a second of walking.
MAX_ALIAS_NODES = 100_000


class _Yaml12Resolver(VersionedResolver):
    """ruamel.yaml's YAML 1.2 resolver with the version fixed: its lookup of the processing
    version per scalar (through two caught AttributeErrors) cost more than the C parse itself.
    ``%YAML`` directives are therefore not honoured; documents resolve as YAML 1.2."""

    @property
    def processing_version(self) -> Any:
        return (1, 2)


LOADER = YAML(typ="safe", pure=False)
LOADER.Resolver = _Yaml12Resolver


@dataclass
class Document:
    """One document of a stream: its text as it came, where it starts, its top-level kind."""

    source: str
    text: str
    line: int  # 0-based line of text's first character in the source
    col: int  # 0-based column of text's first character (first line only)
    kind: str | None
    index: int = 0
    lined: bool = True  # False for items of a ResourceList: their files' lines are unknown
    _node: Node | None = field(default=None, repr=False)
    _data: Any = field(default=None, repr=False)
    _derived: dict[str, Any] = field(default_factory=dict, repr=False)

    def node(self) -> Node:
        if self._node is None:
            self._node = self._compose()
        return self._node

    def _compose(self) -> Node:
        try:
            node: Node = LOADER.compose(self.text)
        except YAMLError as exc:  # pragma: no cover - the split pass parsed it already
            raise NetpolError([self._yaml_problem(exc)]) from None
        return node

    def derived(self, key: str, make: Callable[[str], Any]) -> Any:
        """``make(text)``, made once per document (revisions that share a file share it)."""
        if key not in self._derived:
            self._derived[key] = make(self.text)
        return self._derived[key]

    def forget_nodes(self) -> None:
        """Drop the composed nodes (heavy); a later location composes them again."""
        self._node = None

    @property
    def built(self) -> bool:
        """Whether the document's objects have been constructed already."""
        return self._data is not None

    def data(self) -> Any:
        if self._data is None:
            try:
                # an unlined document's locations need no nodes: they are not kept (heavy)
                self._data = construct(self.node() if self.lined else self._compose())
            except YAMLError as exc:
                raise NetpolError([self._yaml_problem(exc)]) from None
        return self._data

    def objects(self) -> list[tuple[list[str | int], dict[str, Any]]]:
        """(path inside the document, object) for the document, or each item of a ``*List``
        (items of a typed list such as PodList may omit their kind)."""
        return list_items(self.data())

    def mark(self, line: int, col: int) -> tuple[int, int]:
        """A 0-based mark inside ``text`` as a 1-based (line, col) in the source."""
        return self.line + line + 1, (self.col if line == 0 else 0) + col + 1

    def location(self, path: Sequence[str | int], key: bool = False) -> Location:
        """Where the field at ``path`` is (its key when ``key``), or its nearest parent."""
        if not self.lined:
            return Location(self.source, 0, 0, field_path(path))
        node, key_node = locate(self.node(), path)
        target = key_node if key and key_node is not None else node
        line, col = self.mark(target.start_mark.line, target.start_mark.column)
        return Location(self.source, line, col, field_path(path))

    def _yaml_problem(self, exc: YAMLError) -> Problem:
        return yaml_problem(exc, self.source, self.line, self.col)


_CORE = "tag:yaml.org,2002:"
_STR, _MAP, _SEQ = _CORE + "str", _CORE + "map", _CORE + "seq"


class _Unusual(Exception):
    """A node the fast constructor leaves to ruamel.yaml's (tags, merge keys, timestamps)."""


def construct(node: Node) -> Any:
    """Python data of a composed document: the fast path for plain str/map/seq nodes with
    duplicate-key checks, and ruamel.yaml's safe constructor for everything else (so explicit
    tags such as ``!!python/object`` are refused exactly as the safe loader refuses them)."""
    try:
        return _fast(node)
    except _Unusual:
        return LOADER.constructor.construct_document(node)


def _fast(node: Node) -> Any:
    if node.anchor is not None:
        raise _Unusual  # shared by aliases: ruamel.yaml builds it once, never expands it
    tag = node.ctag
    uri = tag.suffix if tag.handle is None else None
    if uri == _STR:
        return node.value
    if uri == _MAP:
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _fast(key_node)
            if key in out:
                raise DuplicateKeyError(
                    "while constructing a mapping",
                    node.start_mark,
                    f'found duplicate key "{key}"',
                    key_node.start_mark,
                )
            out[key] = _fast(value_node)
        return out
    if uri == _SEQ:
        return [_fast(item) for item in node.value]
    if (
        uri is not None
        and uri.startswith(_CORE)
        and uri[len(_CORE) :] in ("int", "bool", "null", "float")
    ):
        return LOADER.constructor.construct_object(node, deep=True)
    raise _Unusual


def list_items(data: dict[str, Any]) -> list[tuple[list[str | int], dict[str, Any]]]:
    """(path, object) for an object, or for each item of a ``*List`` (items of a typed list such
    as PodList may omit their kind)."""
    kind = data.get("kind")
    if isinstance(kind, str) and kind.endswith("List") and isinstance(data.get("items"), list):
        implied = kind.removesuffix("List") or None
        return [
            (["items", i], item if "kind" in item or implied is None else {**item, "kind": implied})
            for i, item in enumerate(data["items"])
            if isinstance(item, dict)
        ]
    return [([], data)]


def locate(root: Node, path: Sequence[str | int]) -> tuple[Node, Node | None]:
    """Walk ``path`` through a node tree; stops at the deepest node that exists."""
    node, key_node = root, None
    for part in path:
        if isinstance(node, MappingNode) and isinstance(part, str):
            for k, v in node.value:
                if isinstance(k, ScalarNode) and k.value == part:
                    node, key_node = v, k
                    break
            else:
                return node, key_node
        elif isinstance(node, SequenceNode) and isinstance(part, int) and part < len(node.value):
            node, key_node = node.value[part], None
        else:
            break
    return node, key_node


def yaml_problem(
    exc: YAMLError, source: str, line0: int = 0, col0: int = 0, text: str | None = None
) -> Problem:
    """A ruamel.yaml error as a located problem (offset by where the text starts)."""
    position = getattr(exc, "position", None)
    if text is not None and isinstance(position, int):  # a ReaderError: a character position
        line = text.count("\n", 0, position)
        col = position - (text.rfind("\n", 0, position) + 1)
        char = getattr(exc, "character", 0)
        code = char if isinstance(char, int) else ord(str(char)[:1] or "?")
        return Problem(
            Location(source, line0 + line + 1, col + 1, ""),
            f"invalid YAML: {getattr(exc, 'reason', 'unacceptable character')} "
            f"(character #x{code:04x})",
            rule="invalid-yaml",
        )
    if isinstance(exc, MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        if isinstance(exc, DuplicateKeyError):
            key = str(exc.problem).split('"')[1] if '"' in str(exc.problem) else "?"
            first = exc.context_mark
            message = f"duplicate key '{key}' in the mapping at line {line0 + first.line + 1}"
            return Problem(
                Location(source, line0 + mark.line + 1, _col(mark, col0), ""),
                message + " (YAML keys must be unique)",
                rule="invalid-yaml",
            )
        problem = str(exc.problem or "invalid YAML")
        context = f" ({exc.context})" if exc.context else ""
        return Problem(
            Location(source, line0 + mark.line + 1, _col(mark, col0), ""),
            f"invalid YAML: {problem}{context}",
            rule="invalid-yaml",
        )
    return Problem(Location(source), f"invalid YAML: {exc}", rule="invalid-yaml")


def _col(mark: Any, col0: int) -> int:
    return int((col0 if mark.line == 0 else 0) + mark.column + 1)


def _refused(source: str, mark: Any, message: str) -> Problem:
    return Problem(
        Location(source, mark.line + 1, mark.column + 1, ""), message, rule="invalid-yaml"
    )


def split_stream(  # noqa: PLR0912, PLR0915 - one event loop, kept flat for speed
    text: str | bytes, source: str, *, objects: bool = True
) -> list[Document]:
    """Split a YAML stream into documents with one C-parser pass.

    ``text`` may be bytes only when they are ASCII (the parser's marks count characters).

    Every document is checked for YAML syntax and, before anything is built (the composer
    recurses, and whatever walks the built objects expands aliases), for at most MAX_ALIASES
    aliases and MAX_DEPTH levels of nesting; a document with aliases is then measured with
    them expanded (``alias_expansion``). Empty documents are dropped; with ``objects``, a
    document that is not a mapping is an error.
    """
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
                    problems.append(_too_deep(source, ev.start_mark))
                    break
            elif t is MappingEndEvent or t is SequenceEndEvent:
                depth -= 1
            elif t is AliasEvent:
                aliases += 1
                if depth == 1:
                    expect_key = not expect_key
                if aliases > MAX_ALIASES:
                    problems.append(
                        _refused(
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
                    refused = _expansion(body, source, start_line, start_col).refused
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


@dataclass(frozen=True)
class Expansion:
    """A document with its aliases expanded: how many nodes (one per scalar, mapping and
    sequence; keys count), how deeply nested, or the problem at the alias that crosses a bound
    (``nodes`` and ``depth`` then stop there)."""

    nodes: int
    depth: int
    refused: Problem | None = None


def _expansion(text: str, source: str, line0: int, col0: int) -> Expansion:
    try:
        return alias_expansion(text, source, line0, col0)
    except YAMLError as exc:  # e.g. a %TAG directive before the document's "---"
        return Expansion(0, 0, yaml_problem(exc, source, line0, col0))


def alias_expansion(text: str, source: str, line0: int = 0, col0: int = 0) -> Expansion:
    """Measure one document as if its aliases were expanded, without building anything: an
    alias counts the nodes and nesting levels of the node it names (known when that node
    closes; aliases inside it included, so sizes compound). Refused: more than
    MAX_ALIAS_NODES nodes added by aliases, more than MAX_DEPTH levels, or an alias inside
    the node it names (a cycle: it would expand without end). ``line0`` and ``col0`` are
    where ``text`` starts in ``source`` (0-based), for the problem's location.

    A merge key (``<<: *defaults``) counts as the key and the whole mapping it merges: the
    built mapping has no more nodes than that, so the bound holds on what is built."""
    nodes = depth = peak = added = 0
    sizes: dict[str, tuple[int, int]] = {}  # anchor -> (nodes, levels) of the node it names
    # anchored collections still open: (their level, anchor, nodes before them, outer peak);
    # ``peak`` is the deepest level reached inside the innermost of them
    opened: list[tuple[int, str, int, int]] = []

    def refuse(ev: Any, message: str) -> Expansion:
        mark = ev.start_mark
        line = line0 + mark.line + 1
        col = (col0 if mark.line == 0 else 0) + mark.column + 1
        return Expansion(
            nodes, peak, Problem(Location(source, line, col, ""), message, rule="invalid-yaml")
        )

    parser = CParser(text)
    while True:
        ev = parser.get_event()
        t = type(ev)
        if t is ScalarEvent:
            nodes += 1
            if ev.anchor is not None:
                sizes[ev.anchor] = (1, 0)
        elif t is MappingStartEvent or t is SequenceStartEvent:
            nodes += 1
            depth += 1
            if ev.anchor is not None:
                opened.append((depth, ev.anchor, nodes - 1, peak))
                peak = depth
            peak = max(peak, depth)
        elif t is MappingEndEvent or t is SequenceEndEvent:
            if opened and opened[-1][0] == depth:
                _, anchor, before, outer = opened.pop()
                sizes[anchor] = (nodes - before, peak - depth + 1)
                peak = max(peak, outer)
            depth -= 1
        elif t is AliasEvent:
            if any(anchor == ev.anchor for _, anchor, _, _ in opened):
                return refuse(
                    ev,
                    f"the YAML alias *{ev.anchor} is inside the node it names, so it "
                    "expands without end; refused",
                )
            size, levels = sizes.get(ev.anchor, (1, 0))  # undefined: the composer says so
            nodes += size
            added += size
            peak = max(peak, depth + levels)
            if added > MAX_ALIAS_NODES:
                return refuse(
                    ev,
                    f"YAML aliases expand to more than {MAX_ALIAS_NODES:,} nodes in one "
                    "document; refused (a Kubernetes manifest needs no aliases)",
                )
            if peak > MAX_DEPTH:
                return refuse(ev, _DEEPER + " (aliases expanded)" + _DEEPER_HINT)
        elif t is StreamEndEvent or t is DocumentEndEvent:
            return Expansion(nodes, peak)


_DEEPER = f"nested deeper than {MAX_DEPTH} levels"
_DEEPER_HINT = "; refused (a Kubernetes manifest needs far fewer)"


def _too_deep(source: str, mark: Any) -> Problem:
    return _refused(source, mark, _DEEPER + _DEEPER_HINT)


def _digest(text: str | bytes) -> bytes:
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    return hashlib.blake2b(data, digest_size=20).digest()


def _str(text: str | bytes) -> str:
    return text.decode("ascii") if isinstance(text, bytes) else text


def document_text(doc: Document) -> str:
    """The document as it came, ready to follow a ``---`` line."""
    body = doc.text
    if body.startswith((" ", "\t")):
        body = body.lstrip(" \t")
        head = "--- "
    else:
        head = "---\n"
        body = body.lstrip("\n")
    if not body.endswith("\n"):
        body += "\n"
    return head + body


_PLAIN = re.compile(r"[A-Za-z0-9_/](?:[-A-Za-z0-9_./:]*[-A-Za-z0-9_./])?")
_NOT_PLAIN = re.compile(  # what a YAML 1.1 or 1.2 reader would take for a non-string
    r"^(?:[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?|0[xXoObB][0-9a-fA-F_]+|"
    r"[-+]?\.(?:inf|Inf|INF|nan|NaN|NAN)|~|null|Null|NULL|true|True|TRUE|false|False|FALSE|"
    r"yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF|y|Y|n|N|[0-9][0-9:_.]*|"
    r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}.*)$"  # timestamps (and anything that starts like one)
)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if value is None:
        return "null"
    text = str(value)
    if _PLAIN.fullmatch(text) and not _NOT_PLAIN.fullmatch(text):
        return text
    return '"' + _ESCAPE.sub(_escape, text) + '"'


# YAML double-quoted escapes for what YAML may not hold raw (outside its printable set)
_ESCAPE = re.compile(r'["\\]|[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]')


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in '"\\':
        return "\\" + char
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def _emit(value: Any, indent: str, out: list[str]) -> None:
    """Block-style YAML of plain data (dict, list, str, int, bool) in kustomize's layout."""
    if isinstance(value, dict):
        for key, item in value.items():
            head = f"{indent}{_scalar(key)}:"
            if isinstance(item, dict | list) and item:
                out.append(head + "\n")
                _emit(item, indent + "  " if isinstance(item, dict) else indent, out)
            else:
                out.append(f"{head} {_flow_empty(item)}\n")
    else:
        for item in value:
            if isinstance(item, dict | list) and item:
                sub: list[str] = []
                _emit(item, indent + "  ", sub)
                first = sub[0]
                out.append(f"{indent}- {first[len(indent) + 2 :]}")
                out.extend(sub[1:])
            else:
                out.append(f"{indent}- {_flow_empty(item)}\n")


def _flow_empty(value: Any) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return _scalar(value)


def dump_objects(objects: Sequence[Any]) -> str:
    """Generated objects as a YAML stream, every document after a ``---`` line."""
    out: list[str] = []
    for obj in objects:
        out.append("---\n")
        if obj:
            _emit(obj, "", out)
        else:
            out.append("{}\n")
    return "".join(out)


def dump_block(value: Any, indent: str = "") -> str:
    """Block-style YAML of a mapping, or of a non-empty list whose "-" sit at ``indent``."""
    out: list[str] = []
    _emit(value, indent, out)
    return "".join(out)


def dump_json(objects: Sequence[Any]) -> str:
    return json.dumps(list(objects), indent=2, ensure_ascii=False) + "\n"


Shared = dict[tuple[str, bytes], list[Document]]  # (name, digest of the text) -> documents


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
