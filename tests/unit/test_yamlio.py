from __future__ import annotations

import pytest

from netpol_gitops.errors import NetpolError
from netpol_gitops.yamlio import MAX_ALIASES, document_text, split_stream


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
