"""One document of a stream, composed and constructed on demand (the fast constructor for
plain str/map/seq nodes, ruamel.yaml's safe one for everything else)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import ruamel.yaml
from ruamel.yaml import YAML
from ruamel.yaml.constructor import ConstructorError, DuplicateKeyError, SafeConstructor
from ruamel.yaml.cyaml import CParser  # type: ignore[attr-defined]  # re-exported from clib
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.tag import Tag

from netpol_gitops.errors import NetpolError, Problem
from netpol_gitops.model.location import Location, field_path
from netpol_gitops.yaml.locate import locate, yaml_problem


class _Yaml12Resolver(VersionedResolver):
    """ruamel.yaml's YAML 1.2 resolver with the version fixed: its lookup of the processing
    version per scalar (through two caught AttributeErrors) cost more than the C parse itself.
    ``%YAML`` directives are therefore not honoured; documents resolve as YAML 1.2."""

    @property
    def processing_version(self) -> Any:
        return (1, 2)

    _table: Any = None  # the implicit resolvers by first character, for every composer

    @property
    def versioned_resolver(self) -> Any:
        """The implicit resolvers by first character, made once (not once per composer)."""
        if _Yaml12Resolver._table is None:
            _Yaml12Resolver._table = VersionedResolver.versioned_resolver.fget(self)  # type: ignore[attr-defined]
        return _Yaml12Resolver._table

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        """The tag of a node; a plain scalar's depends on its text alone (the version is
        fixed and no path resolvers are set), so it is looked up once per text, and a text
        whose first character starts no implicit resolver is a string at once."""
        if kind is not ScalarNode or not implicit[0] or self.yaml_path_resolvers:
            return super().resolve(kind, value, implicit)
        suffix = _RESOLVED.get(value)
        if suffix is None:
            table = self.versioned_resolver
            if value and value[0] not in table and None not in table:
                suffix = _STR
            else:
                suffix = super().resolve(kind, value, implicit).suffix
            # bounded in count and size: the texts come from repositories
            if len(_RESOLVED) < MAX_RESOLVED and len(value) <= MAX_RESOLVED_TEXT:
                _RESOLVED[value] = suffix
        tag = _TAGS.get(suffix)
        if tag is None:  # one Tag per tag, shared as ruamel.yaml shares its default str tag
            tag = _TAGS[suffix] = Tag(suffix=suffix)
        return tag


MAX_RESOLVED = 1 << 16
MAX_RESOLVED_TEXT = 256  # a longer scalar is resolved each time, never kept
_RESOLVED: dict[str, str] = {}
_TAGS: dict[str, Tag] = {}


LOADER = YAML(typ="safe", pure=False)
LOADER.Resolver = _Yaml12Resolver


class _Composer(CParser, SafeConstructor, _Yaml12Resolver):  # type: ignore[misc]
    """libyaml's composer with the resolver above, made once (``YAML.compose`` makes a class,
    a constructor and a resolver's tables per call, and keeps a record of every call)."""

    def __init__(self, text: str) -> None:
        CParser.__init__(self, text)
        self._parser = self._composer = self
        SafeConstructor.__init__(self, loader=self)
        self.allow_duplicate_keys = False
        _Yaml12Resolver.__init__(self, loadumper=self)


def compose(text: str) -> Node | None:
    """The node tree of a stream of one document (None when it holds none), as
    ``LOADER.compose`` makes it; a YAMLError as it raises them."""
    composer = _Composer(text)
    try:
        node: Node | None = composer.get_single_node()
    finally:
        composer.dispose()
        # it refers to itself (as parser, composer, constructor's and resolver's loader): a
        # cycle that would keep its buffers until a collection; freed now instead
        composer.__dict__.clear()
    return node


def c_parser_in_use() -> bool:
    """Whether ruamel.yaml.clib (the C parser) is installed: without it everything runs 4x
    slower, silently."""
    return bool(getattr(ruamel.yaml, "__with_libyaml__", False))


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
    # cut by yaml/fastsplit.py: parsed by libyaml, block style at the top, no alias, tab or
    # CR, every quote and flow bracket closed on its own line (readers may rely on that)
    plain: bool = False
    _node: Node | None = field(default=None, repr=False)
    _data: Any = field(default=None, repr=False)
    _derived: dict[Any, Any] = field(default_factory=dict, repr=False)

    def node(self) -> Node:
        if self._node is None:
            self._node = self._compose()
        return self._node

    def _compose(self) -> Node:
        try:
            node = compose(self.text)
        except YAMLError as exc:  # pragma: no cover - the split pass parsed it already
            raise NetpolError([self._yaml_problem(exc)]) from None
        if node is None:  # pragma: no cover - the split pass yields no empty document
            raise NetpolError([Problem(Location(self.source, self.line + 1, 1), "empty document")])
        return node

    def derived(self, key: str, make: Callable[[str], Any]) -> Any:
        """``make(text)``, made once per document (revisions that share a file share it)."""
        if key not in self._derived:
            self._derived[key] = make(self.text)
        return self._derived[key]

    def memo(self, key: tuple[Any, ...], make: Callable[[], Any]) -> Any:
        """``make()``, made once per document and ``key``: what is computed from this document
        alone (with the rest of ``key``) and kept while the document is (two revisions of a
        review share their unchanged files' documents)."""
        if key not in self._derived:
            self._derived[key] = make()
        return self._derived[key]

    def forget(self, key: tuple[Any, ...]) -> None:
        """Drop what ``memo`` kept under ``key``."""
        self._derived.pop(key, None)

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
        memo = ("location", tuple(path), key)  # kept: nodes are dropped once read (forget_nodes)
        found: Location | None = self._derived.get(memo)
        if found is None:
            node, key_node = locate(self.node(), path)
            target = key_node if key and key_node is not None else node
            line, col = self.mark(target.start_mark.line, target.start_mark.column)
            found = self._derived[memo] = Location(self.source, line, col, field_path(path))
        return found

    def _yaml_problem(self, exc: YAMLError) -> Problem:
        return yaml_problem(exc, self.source, self.line, self.col)


_CORE = "tag:yaml.org,2002:"


_STR, _MAP, _SEQ = _CORE + "str", _CORE + "map", _CORE + "seq"


class _Unusual(Exception):
    """A node the fast constructor leaves to ruamel.yaml's (tags, merge keys, timestamps)."""


def construct(node: Node) -> Any:
    """Python data of a composed document: the fast path for plain str/map/seq nodes with
    duplicate-key checks, and ruamel.yaml's safe constructor for everything else (so explicit
    tags such as ``!!python/object`` are refused exactly as the safe loader refuses them).

    A mapping or sequence used as a mapping key (``cell: {{cell}}`` in an unrendered template,
    ``? [a, b]``) is a ConstructorError at the key: kubectl refuses such a document too."""
    try:
        return _fast(node)
    except _Unusual:
        _scalar_keys(node)  # ruamel.yaml's constructor would make a sequence key a tuple
        return LOADER.constructor.construct_document(node)


def _complex_key(key_node: Node) -> ConstructorError:
    if isinstance(key_node, MappingNode):  # ``{{cell}}`` is a flow mapping in a flow mapping
        what = "a mapping as a mapping key (an unrendered template's '{{ ... }}'? render it first)"
    else:
        what = "a sequence as a mapping key"
    return ConstructorError(
        problem=f"{what}; keys must be scalars, as kubectl requires",
        problem_mark=key_node.start_mark,
    )


def _scalar_keys(root: Node) -> None:
    """Raise at the first mapping key that is not a scalar (each node visited once: aliases
    share nodes)."""
    seen: set[int] = set()
    todo = [root]
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            for key_node, value_node in node.value:
                if not isinstance(key_node, ScalarNode):
                    raise _complex_key(key_node)
                todo.append(value_node)
        elif isinstance(node, SequenceNode):
            todo.extend(node.value)


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
            if not isinstance(key_node, ScalarNode):
                raise _complex_key(key_node)
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
    as PodList may omit their kind and apiVersion: the list's own)."""
    kind = data.get("kind")
    if isinstance(kind, str) and kind.endswith("List") and isinstance(data.get("items"), list):
        implied = kind.removesuffix("List") or None
        return [
            (
                ["items", i],
                item
                if "kind" in item or implied is None
                else {"apiVersion": data.get("apiVersion"), **item, "kind": implied},
            )
            for i, item in enumerate(data["items"])
            if isinstance(item, dict)
        ]
    return [([], data)]


Shared = dict[tuple[str, bytes], list[Document]]  # (name, digest of the text) -> documents
