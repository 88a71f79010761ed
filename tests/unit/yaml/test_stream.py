from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from netpol_gitops.errors import NetpolError
from netpol_gitops.yaml.document import Shared
from netpol_gitops.yaml.emit import document_text, dump_objects
from netpol_gitops.yaml.expansion import MAX_ALIAS_NODES, MAX_ALIASES, alias_expansion
from netpol_gitops.yaml.stream import read_documents, split_stream


def test_split_finds_kinds_and_keeps_text() -> None:
    text = (
        "# head\na: 1\nkind: Namespace\n---\n--- {kind: List, items: []}\n...\n---\n"
        "spec:\n  kind: Nested\nkind: 'Deployment'\n"
    )
    docs = split_stream(text, "s")
    assert [d.kind for d in docs] == ["Namespace", "List", "Deployment"]
    assert [document_text(d) for d in docs] == [
        "---\n# head\na: 1\nkind: Namespace\n",
        "--- {kind: List, items: []}\n",
        "---\nspec:\n  kind: Nested\nkind: 'Deployment'\n",
    ]


def test_empty_documents_are_dropped_and_lines_are_1_based() -> None:
    docs = split_stream("---\n# only a comment\n---\n\n---\nkind: A\nx: [1, 2]\n", "s")
    assert len(docs) == 1
    assert docs[0].location(["x", 1]).prefix() == "s:7:8"


def test_a_document_that_is_not_a_mapping_is_an_error() -> None:
    with pytest.raises(NetpolError) as err:
        split_stream("kind: A\n---\n- 1\n- 2\n", "s")
    assert (
        str(err.value) == "s:3:1: error: expected a Kubernetes object (a YAML mapping) as "
        "the document"
    )


def test_alias_bombs_are_refused_before_anything_is_built() -> None:
    bomb = "a: &a [x]\n" + "".join(f"k{i}: *a\n" for i in range(MAX_ALIASES + 1))
    with pytest.raises(NetpolError, match="aliases in one document; refused"):
        split_stream(bomb, "s")


def test_python_tags_are_never_constructed() -> None:
    docs = split_stream("kind: Namespace\nmetadata: !!python/object/apply:os.system [id]\n", "s")
    with pytest.raises(
        NetpolError,
        match="s:2:11: error: invalid YAML: could not determine a constructor for the tag",
    ):
        docs[0].data()


SCALARS = st.one_of(
    st.text(max_size=20),
    st.sampled_from(
        [
            "yes",
            "no",
            "on",
            "off",
            "~",
            "null",
            "1e3",
            "0x1F",
            "0o17",
            "12:30",
            "::/0",
            "- x",
            "a: b",
            "#c",
            "'q'",
            '"d"',
            "@x",
            "`x",
            "%x",
            "!x",
            "&a",
            "*a",
            "{}",
            "[]",
            "1_000",
            ".5",
            "+1",
            "-.inf",
            ".NaN",
            " lead",
            "tr ",
            "0001-01-01",
            "2001-12-14t21:59:43.10-05:00",
            "2002-12-14",
            "0000-00-00",
            "1:20",
            "0b101",
            "=",
            "<<",
            "?x",
            "- ",
            "x #y",
        ]
    ),
    st.integers(-(2**40), 2**40),
    st.booleans(),
)
DATA = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(min_size=1, max_size=10), inner, max_size=4),
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.dictionaries(st.text(min_size=1, max_size=10), DATA, max_size=5), min_size=1, max_size=3
    )
)
def test_emitter_round_trips_any_plain_data(objects: list[dict[str, object]]) -> None:
    text = dump_objects(objects)
    assert list(YAML(typ="safe").load_all(text)) == objects
    assert [d.data() for d in split_stream(text, "s")] == objects


ASCII_STREAMS = [
    "kind: Namespace\nmetadata: {name: a}\n---\n--- {kind: List, items: []}\n",
    "# c\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n...\n",
    "a: [1, 2\n",  # a syntax error
    "a: b\x01\n",  # a character the YAML reader refuses
    "a: 1\na: 2\n",
]


@pytest.mark.parametrize("text", ASCII_STREAMS)
def test_ascii_bytes_split_exactly_as_the_same_text(text: str) -> None:
    def split(data: str | bytes) -> object:
        try:
            return [(d.text, d.line, d.col, d.kind, d.data()) for d in split_stream(data, "s")]
        except NetpolError as exc:
            return [p.line() for p in exc.problems]

    assert split(text.encode("ascii")) == split(text)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=80))
def test_any_ascii_input_splits_the_same_as_bytes_and_as_text(text: str) -> None:
    def split(data: str | bytes) -> object:
        try:
            return [(d.text, d.line, d.col, d.kind) for d in split_stream(data, "s")]
        except NetpolError as exc:
            return [p.line() for p in exc.problems]

    assert split(text.encode("ascii")) == split(text)


def test_revisions_share_the_documents_of_unchanged_files() -> None:
    shared: Shared = {}
    a = ("a.yaml", "kind: A\n---\nkind: B\n")
    base = read_documents([a, ("b.yaml", "kind: C\n")], shared)
    head = read_documents([a, ("b.yaml", "kind: D\n")], shared)
    assert head[0] is base[0] and head[1] is base[1]  # same file, same text: same documents
    assert head[2] is not base[2] and head[2].kind == "D"
    assert [d.index for d in base] == [0, 1, 2]
    with pytest.raises(NetpolError, match=r"c\.yaml:2:1: error: invalid YAML"):
        read_documents([a, ("c.yaml", "a: [\n")], shared)


# ------------------------------------------------------------------ alias expansion
def _count(data: Any) -> int:
    """Nodes of built data: one per scalar, mapping and sequence (keys count)."""
    if isinstance(data, dict):
        return 1 + sum(_count(k) + _count(v) for k, v in data.items())
    if isinstance(data, list):
        return 1 + sum(_count(item) for item in data)
    return 1


def _levels(data: Any) -> int:
    if isinstance(data, dict | list):
        items = list(data.values()) if isinstance(data, dict) else data
        return 1 + max((_levels(item) for item in items), default=0)
    return 0


@st.composite
def _anchored(draw: st.DrawFn) -> str:
    """A flow-style YAML value whose nodes may carry anchors and whose values may be aliases
    of anchors already closed (so sizes compound, and anchors sit on scalars too)."""
    closed: list[str] = []

    def node(depth: int) -> str:
        choices = ["scalar"] + (["seq", "map"] if depth < 4 else []) + (["alias"] if closed else [])
        kind = draw(st.sampled_from(choices))
        if kind == "alias":
            return "*" + draw(st.sampled_from(closed))
        anchor = f"a{len(closed)}x{depth}{draw(st.integers(0, 10**6))}"
        anchored = draw(st.booleans())
        if kind == "scalar":
            text = draw(st.sampled_from(["v", "1", "true", "''"]))
        else:
            n = draw(st.integers(0, 3))
            if kind == "seq":
                text = "[" + ", ".join(node(depth + 1) for _ in range(n)) + "]"
            else:
                text = "{" + ", ".join(f"k{i}: {node(depth + 1)}" for i in range(n)) + "}"
        if not anchored or anchor in closed:
            return text
        closed.append(anchor)  # an alias may name it once it is closed
        return f"&{anchor} {text}"

    return "root: " + node(0) + "\n"


@settings(max_examples=200, deadline=None)
@given(_anchored())
def test_the_expansion_counted_is_the_size_of_what_is_built(text: str) -> None:
    measured = alias_expansion(text, "s")
    data = YAML(typ="safe").load(text)
    assert measured.refused is None
    assert measured.nodes == _count(data)
    assert measured.depth == _levels(data)
    assert split_stream(text, "s")[0].data() == data


def test_merge_keys_count_no_less_than_they_build() -> None:
    text = "d: &d {a: 1, b: 2}\nx:\n  <<: *d\n  b: 3\n"
    assert alias_expansion(text, "s").nodes >= _count(YAML(typ="safe").load(text))


def test_a_bomb_under_the_alias_count_is_refused_at_the_alias_that_crosses() -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    pairs = zip("abcdef", "bcdefg", strict=True)
    lines += [f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]" for p, c in pairs]
    text = "kind: ConfigMap\n---\nkind: ConfigMap\n" + "\n".join(lines) + "\n"
    with pytest.raises(NetpolError) as err:
        split_stream(text, "s")
    # sizes 10, 91, 820, 7381, 66430: the first *e pushes the nodes added past the bound
    assert [p.line() for p in err.value.problems] == [
        f"s:9:8: error: YAML aliases expand to more than {MAX_ALIAS_NODES:,} nodes in one "
        "document; refused (a Kubernetes manifest needs no aliases)"
    ]


def test_an_alias_inside_the_node_it_names_is_refused() -> None:
    with pytest.raises(NetpolError, match=r"s:2:11: error: the YAML alias \*a is inside"):
        split_stream("kind: A\nx: &a {y: *a}\n", "s")


def test_nesting_is_counted_with_aliases_expanded() -> None:
    text = "a: &a " + "[" * 60 + "]" * 60 + "\nb: " + "[" * 50 + "*a" + "]" * 50 + "\n"
    with pytest.raises(NetpolError, match=r"s:2:54: error: nested deeper than 100 levels"):
        split_stream(text, "s")
    assert alias_expansion("a: &a [[x]]\nb: [*a]\n", "s").depth == 4


def test_a_tag_directive_before_a_document_with_aliases_is_no_crash() -> None:
    text = "%TAG !e! tag:example.com,2000:\n---\nkind: A\nx: &a !e!t v\ny: *a\n"
    try:
        split_stream(text, "s")
    except NetpolError as err:
        assert all(p.location.line >= 3 for p in err.problems)
