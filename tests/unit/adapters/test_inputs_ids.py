"""The id check of split builds reads a plain document's names by indentation; whatever it
reads must be what the event reader (yaml.ident.object_id) reads, and it must step aside
where a name is not written as a string."""

from __future__ import annotations

import pytest

from netpol_gitops.adapters.inputs import _scanned_id
from netpol_gitops.errors import NetpolError
from netpol_gitops.yaml.ident import object_id
from netpol_gitops.yaml.stream import split_stream
from tests.helpers import yaml_at_hand


def plain_documents(text: str, name: str) -> list:  # type: ignore[type-arg]
    try:
        return [d for d in split_stream(text, name) if d.plain]
    except NetpolError:  # files that do not parse are not this test's
        return []


def test_every_plain_document_at_hand_is_named_as_the_event_reader_names_it() -> None:
    read = 0
    for path, text in yaml_at_hand():
        for doc in plain_documents(text, str(path)):
            if doc.kind is None or doc.kind.endswith("List"):
                continue
            found = _scanned_id(doc)
            if found is not None:
                read += 1
                assert found == object_id(doc.text), (path, doc.text[:200])
    assert read > 200  # the scan is the common path


CONFIGMAP = (
    "apiVersion: v1\ndata:\n  nginx.conf: |\n    kind: Fake\n    metadata: {name: no}\n"
    "  other: x\nkind: ConfigMap\nmetadata:\n  labels: {a: b}\n  name: {name}\n"
    "  namespace: shop\n"
)


@pytest.mark.parametrize(
    ("name", "scanned"),
    [
        ("web", True),
        ('"007"', True),
        ("'true'", True),
        ("007", False),  # resolves to a number: the event reader keeps the text
        ("true", False),
        ("~", False),
    ],
)
def test_names_as_written(name: str, scanned: bool) -> None:
    (doc,) = split_stream(CONFIGMAP.replace("{name}", name), "b.yaml")
    assert doc.plain
    found = _scanned_id(doc)
    assert (found is not None) is scanned
    expected = object_id(doc.text)
    assert expected is not None and expected[1] == "ConfigMap"
    if found is not None:
        assert found == expected
