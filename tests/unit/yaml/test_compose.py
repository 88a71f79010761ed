"""yaml.document.compose is ruamel.yaml's compose with the composer made once and plain
scalars' tags looked up once per text: it must build the very same node trees."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, SequenceNode
from ruamel.yaml.resolver import VersionedResolver

from netpol_gitops.yaml import document
from netpol_gitops.yaml.document import compose
from tests.helpers import yaml_at_hand


class _Version12(VersionedResolver):
    """ruamel.yaml's own resolver, the version fixed as document.py fixes it: the oracle."""

    @property
    def processing_version(self) -> Any:
        return (1, 2)


ORACLE = YAML(typ="safe", pure=False)
ORACLE.Resolver = _Version12


def tree(node: Node | None) -> Any:
    """Everything a reader of a node sees: tag, value, style, anchor and marks."""
    if node is None:
        return None
    marks = (node.start_mark.line, node.start_mark.column, node.end_mark.line, node.end_mark.column)
    head = (type(node).__name__, str(node.tag), node.anchor, marks)
    if isinstance(node, MappingNode):
        return (*head, [(tree(k), tree(v)) for k, v in node.value])
    if isinstance(node, SequenceNode):
        return (*head, [tree(item) for item in node.value])
    return (*head, node.value, getattr(node, "style", None))


def same(text: str) -> None:
    try:
        expected = tree(ORACLE.compose(text))
    except YAMLError as exc:
        with pytest.raises(type(exc)):
            compose(text)
        return
    assert tree(compose(text)) == expected, text
    assert tree(compose(text)) == expected, text  # and again, from the looked-up tags


def test_every_document_at_hand_composes_as_ruamel_composes_it() -> None:
    checked = 0
    for _, text in yaml_at_hand():
        for doc in text.split("\n---\n"):
            same(doc)
            checked += 1
    assert checked > 500


SCALARS = st.sampled_from(
    ["true", "True", "yes", "no", "on", "null", "~", "", "0", "012", "0o12", "0x1F", "1_000",
     "1.5", ".inf", "-.Inf", ".nan", "1e3", "2001-12-14", "2001-12-14t21:59:43.10-05:00",
     "web", "8080", "'8080'", '"true"', "!!str 1", "!!int '7'", "&a 1", "=", "<<"]
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.from_regex(r"[a-z]{1,3}", fullmatch=True), SCALARS), max_size=8))
def test_scalars_resolve_as_ruamel_resolves_them(pairs: list[tuple[str, str]]) -> None:
    same("".join(f"{k}: {v}\n" for k, v in pairs) or "a: b\n")


def test_the_lookup_of_tags_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(document, "MAX_RESOLVED", 3)
    monkeypatch.setattr(document, "_RESOLVED", {})
    for i in range(10):
        same(f"a: v{i}\nb: {i}\n")
    assert len(document._RESOLVED) == 3
    monkeypatch.setattr(document, "_RESOLVED", {})
    long = "x" * (document.MAX_RESOLVED_TEXT + 1)
    same(f"a: {long}\nb: '{long}'\n")
    assert long not in document._RESOLVED  # a long text is never kept


def test_composing_leaves_no_garbage_for_the_collector() -> None:
    """A composer refers to itself; left as a cycle it keeps its buffers until a collection
    (60 MB more at the peak of `argocd generate` of 5,000 namespaces). compose breaks it."""
    import gc  # noqa: PLC0415

    gc.collect()
    gc.disable()
    try:
        for i in range(50):
            compose(f"metadata:\n  name: n{i}\n  labels: {{app: web}}\n")
        assert gc.collect() == 0
    finally:
        gc.enable()
