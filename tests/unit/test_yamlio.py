from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from netpol_gitops.errors import NetpolError
from netpol_gitops.yamlio import (
    MAX_ALIASES,
    Shared,
    document_text,
    dump_objects,
    read_documents,
    split_stream,
)


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
            return [p.render() for p in exc.problems]

    assert split(text.encode("ascii")) == split(text)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=80))
def test_any_ascii_input_splits_the_same_as_bytes_and_as_text(text: str) -> None:
    def split(data: str | bytes) -> object:
        try:
            return [(d.text, d.line, d.col, d.kind) for d in split_stream(data, "s")]
        except NetpolError as exc:
            return [p.render() for p in exc.problems]

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
