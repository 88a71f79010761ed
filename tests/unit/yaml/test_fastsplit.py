"""yaml.fastsplit cuts plain streams without parser events; whatever it accepts, it must cut
exactly as the event loop does (text, line, column, kind, number), and it must hand anything
else to the event loop (None)."""

from __future__ import annotations

from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netpol_gitops.errors import NetpolError
from netpol_gitops.yaml import fastsplit
from netpol_gitops.yaml.expansion import MAX_DEPTH
from netpol_gitops.yaml.fastsplit import fast_split
from netpol_gitops.yaml.stream import split_events, split_stream
from tests.helpers import EXAMPLE, yaml_at_hand


def cut(docs: list) -> list[tuple[str, int, int, str | None, int]]:  # type: ignore[type-arg]
    return [(d.text, d.line, d.col, d.kind, d.index) for d in docs]


def by_document(text: str) -> list | None:  # type: ignore[type-arg]
    """fast_split with ``_document`` looking at every document: what the scans of the whole
    text vouch for must be what it accepts, with the same kind."""
    scan = fastsplit._scan

    def look_at_all(s: str) -> tuple | None:  # type: ignore[type-arg]
        found = scan(s)
        return found and (*found[:3], set(range(len(found[0]))))

    with mock.patch.object(fastsplit, "_scan", look_at_all):
        return fast_split(text, "s.yaml")


def agrees(text: str) -> bool:
    """fast_split is None, or says what the event loop says; returns whether it took it."""
    fast = fast_split(text, "s.yaml")
    reference = by_document(text)
    assert (fast and cut(fast)) == (reference and cut(reference)), text
    try:
        events = split_events(text, "s.yaml")
    except NetpolError:
        assert fast is None, text
        return False
    if fast is None:
        return False
    assert cut(fast) == cut(events), text
    # only what fast_split vouched for is marked plain (blockscan relies on the mark)
    assert all(d.plain for d in fast) and not any(d.plain for d in events), text
    return True


def test_every_yaml_file_at_hand_is_cut_as_the_event_loop_cuts_it() -> None:
    taken = 0
    for _, text in yaml_at_hand():
        taken += agrees(text)
    assert taken > 100  # the fast path is the common one


def test_the_bundled_example_takes_the_fast_path() -> None:
    for path in sorted(EXAMPLE.rglob("*.yaml")):
        assert fast_split(path.read_text(), str(path)) is not None, path


@pytest.mark.parametrize(
    "text",
    [
        # a quoted scalar that goes on at column 0 with a line that looks like a key: the
        # document has no kind, whatever the line says
        'apiVersion: v1\na:\n  b: "open\nkind: Namespace\n  x"\n',
        "apiVersion: v1\na:\n  \"k'\": 'open\nkind: Namespace\nz: |\n  w'\n",
        'apiVersion: v1\na: # |\n  c: "open\nkind: Namespace\nz: # |\n  w"\n',
        "apiVersion: v1\na: [1,\nkind: Namespace]\n",
        "apiVersion: v1\na: [1,\nkind: Namespace\n\n  ]\n",
        "apiVersion: v1\na: {b: 1,\nkind: Namespace\n# c\n  }\n",
        'apiVersion: v1\na: "x\nkind: Namespace\n\n  y"\n',
        "apiVersion: v1\na: 'x\nkind: Namespace\n\n  y'\n",
        # ... and after a block scalar, whose content lines are the only ones exempt
        'a: |\n  x\nb: "open\nkind: Namespace\nc: y"\n',
        "a: >-\n  x\n  y\nb: 'open\nkind: Namespace\nc: y'\n",
        'apiVersion: v1\na: "line \\\nkind: Namespace"\n',
        # a plain kind that a line below goes on with
        "kind: Name\n  space\n",
        # content, tags and directives on markers; a root that is not a mapping
        "--- !!map\nkind: Namespace\n",
        "%YAML 1.2\n---\nkind: Namespace\n",
        "--- {kind: Namespace}\n",
        "- kind: Namespace\n",
        "  kind: Namespace\n  apiVersion: v1\n",
        "just text\n",
        # aliases, tabs, CR line breaks, a BOM, quoted keys, two kinds
        "a: &x {b: 1}\nc: *x\nkind: Pod\n",
        "kind:\tPod\n",
        "kind: Pod\r\napiVersion: v1\r\n",
        "\ufeffkind: Pod\n",
        '"kind": Namespace\n',
        "kind: Pod\nkind: Namespace\n",
        # a "#" without a space before it is part of the word, not a comment
        "kind: Pod#x\n",
        # deep nesting
        "a: " + "[" * 120 + "]" * 120 + "\n",
        "a:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 60)) + "  " * 60 + "x: 1\n",
    ],
)
def test_what_the_fast_path_must_not_take(text: str) -> None:
    assert fast_split(text, "s.yaml") is None
    split_stream(text, "s.yaml") if _parses(text) else None  # the event loop still decides


def _parses(text: str) -> bool:
    try:
        split_events(text, "s.yaml")
    except NetpolError:
        return False
    return True


@pytest.mark.parametrize(
    "text",
    [
        "kind: Namespace\nmetadata:\n  name: a\n",
        "# leading comment\n---\nkind: A\n---\n# only a comment\n---\nkind: B\n...\n",
        "kind: A\n...\n---\nkind: B\n",
        '---\n---\nkind: A # trailing comment\nspec:\n  x: |\n    events {\n      y "\n',
        "a: 1\n...\n# after the end\n---\nkind: B\n",
        "kind: ConfigMap\ndata:\n  nginx.conf: |\n    http {\n    server { listen 80; }\n",
        "rules:\n- apiGroups: ['']\n  verbs: [\"*\"]\nkind: Role\n",
        'kind: Pod\nspec: {containers: [{name: a, args: ["--x=*", "{y}"]}]}\n',
        "",
        "\n\n# nothing\n",
        "kind: Pod",
    ],
)
def test_what_the_fast_path_takes_is_cut_as_the_event_loop_cuts_it(text: str) -> None:
    assert agrees(text) or text.strip("\n#nothig ") == ""


DEEP, FLOW = fastsplit._DEEP, fastsplit._FLOW


def _block(indent: int, brackets: int = 0, kind: str = "kind: A\n") -> str:
    """A document whose block scalar holds a line indented ``indent`` and ``brackets``
    brackets (none of which nests anything)."""
    return f"{kind}a: |\n  {'[' * brackets}\n{' ' * indent}x\n"


@pytest.mark.parametrize(
    "text",
    [
        # a hit in one document leaves its neighbours to the scans: quotes, brackets, an item
        # above the kind, a line deep in, another kind, a key that is not plain
        "kind: A\n---\nkind: B\nb: |\n  'open [ {\n  \"open\n---\nkind: C\n",
        "kind: A\nx: {a: [1, {b: 2}]}\n---\nkind: B\n",
        "rules:\n- a\nkind: Role\n---\nkind: B\nrules:\n- b\n",
        _block(DEEP) + "---\n" + _block(DEEP - 1),
        # quotes and brackets at markers: in a marker's comment, right before or after one
        "--- # 'open [\nkind: A\n",
        'kind: A\nb: \'x\'\n--- # "\nc: "y"\nkind: B\n',
        "kind: A\nb: [x]\n...\n---\nc: {y: z}\nkind: B\n",
        # a block scalar that ends a document ends at the next marker
        "kind: A\nb: |\n---\nkind: B\nc: '[x'\n",
        "kind: A\nb: >-\n  'open\n---\nkind: B\n",
        # keys that are not plain words below the kind
        "kind: A\n-x: 1\n",
        "kind: A\n.x: 1\n",
        "kind: A\n? x\n: 1\n",
        # the first line is a kind, or no line is
        "kind: A\nb: c\n",
        "b: c\n",
        "# c\nb: c\n---\nkind: B\n",
        # a kind that ends the stream, with or without a line break
        "b: c\nkind: A",
        "b: c\nkind: A # c",
        # at the bounds of the depth the scans vouch for, and past them
        _block(DEEP - 1),
        _block(DEEP),
        _block(DEEP - 1, FLOW),
        _block(DEEP - 1, FLOW + 1),
        _block(DEEP, FLOW),
        _block(2 * DEEP),
        _block(2, MAX_DEPTH - 3),
        _block(2, MAX_DEPTH - 2),
        "kind: A\na:\n" + "".join(" " * i + f"k{i}:\n" for i in range(1, DEEP + 1)) + "  x: 1\n",
        "kind: A\na:\n" + "- " * (DEEP // 2 + 1) + "x\n",
        "kind: A\na:\n" + "- " * DEEP + "x\n",
    ],
)
def test_the_scans_vouch_only_for_what_document_accepts(text: str) -> None:
    assert _parses(text), text  # (else raw_parse decides)
    agrees(text)


@pytest.mark.parametrize(
    "text",
    [
        # quotes and brackets that open nothing: in block scalars' content (of either style,
        # in any order, one header within another's content, content one column in), or
        # closed on their line
        "kind: A\na: |\n  server {\n    x;\n  }\nb: 1\n",
        "kind: A\na: >\n  'open\nb: |\n  [x\n",
        "kind: A\na: |\n  x: >\n  'open\n",
        "kind: A\na: |\n 'open\n",
        "kind: A\na:\n  - |\n      {open\n  - b\n",
        'kind: A\nb: "[{from: {pods: {}}, to: {namespace: x}}]"\nc: {a: [1, {b: 2}]}\n',
        # items below the kind, comments and blank lines at column 0
        "kind: Role\nrules:\n- a\n\n# c\n- b\n",
    ],
)
def test_the_fast_path_takes_what_opens_nothing(text: str) -> None:
    assert agrees(text), text


# lines that plain manifests and hostile ones are made of
LINE = st.sampled_from(
    [
        "kind: Namespace",
        "kind: Pod # c",
        "kind: Pod#c",
        "kind:",
        "apiVersion: v1",
        "metadata:",
        "  name: a",
        "  labels: {app: web, 'b': \"c\"}",
        '  x: "open',
        "  y: 'open",
        '  z: "closed"',
        "  w: it's",
        '  v: "a \\"b\\" c"',
        "  u: [1, 2",
        "  t: {a: [1, {b: 2}]}",
        "  s: |",
        "  r: >-",
        "    text { with \" and '",
        "    more",
        "- item",
        '- a: "b',
        "  - c",
        "? complex",
        "a: &anchor x",
        "b: *anchor",
        "c: !tag x",
        "---",
        "--- # c",
        "--- x",
        "...",
        "# comment",
        "",
        "  ",
        'close"',
        "close'",
        "]",
        "}",
        "  # indented comment",
        "key: value # with 'quote",
        '  env: [{name: A, value: "*"}]',
        'x: "open',
        "x: 'open",
        "x: [1,",
        'z: y"',
        "z: y'",
        "z: 1]",
        "x: |",
        # what the scans of the whole text look for at the start of a line
        "kind:Pod",
        'kind: "Pod"',
        "kind: Pod  ",
        "--- # 'open",
        "... # c",
        "-x: 1",
        "-",
        "?x: 1",
        "x y: 1",
        "  - [a, {b: c}]",
        '  f: {a: "["}',
        "  g: [\"{\", '{']",
        "  p: >",
        "    'q [ {",
        " " * (fastsplit._DEEP - 1) + "d",
        " " * fastsplit._DEEP + "d",
        "    " + "[{" * (fastsplit._FLOW // 2 + 1),
    ]
)


@settings(max_examples=1500, deadline=None)
@given(st.lists(LINE, max_size=14), st.booleans())
def test_any_stream_is_cut_as_the_event_loop_cuts_it_or_left_to_it(
    lines: list[str], newline: bool
) -> None:
    agrees("\n".join(lines) + ("\n" if newline else ""))
