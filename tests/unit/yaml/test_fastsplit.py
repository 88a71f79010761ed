"""yaml.fastsplit cuts plain streams without parser events; whatever it accepts, it must cut
exactly as the event loop does (text, line, column, kind, number), and it must hand anything
else to the event loop (None)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netpol_gitops.errors import NetpolError
from netpol_gitops.yaml.fastsplit import fast_split
from netpol_gitops.yaml.stream import split_events, split_stream
from tests.helpers import EXAMPLE

ROOT = Path(__file__).resolve().parents[3]
SHARED = ROOT.parent / "shared"


def cut(docs: list) -> list[tuple[str, int, int, str | None, int]]:  # type: ignore[type-arg]
    return [(d.text, d.line, d.col, d.kind, d.index) for d in docs]


def agrees(text: str) -> bool:
    """fast_split is None, or says what the event loop says; returns whether it took it."""
    fast = fast_split(text, "s.yaml")
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


def corpus() -> list[Path]:
    files = sorted(ROOT.glob("tests/**/*.yaml")) + sorted(ROOT.glob("examples/**/*.yaml"))
    return files + (sorted(SHARED.rglob("*.yaml")) if SHARED.is_dir() else [])


def test_every_yaml_file_at_hand_is_cut_as_the_event_loop_cuts_it() -> None:
    taken = 0
    for path in corpus():
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
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
    ]
)


@settings(max_examples=1500, deadline=None)
@given(st.lists(LINE, max_size=14), st.booleans())
def test_any_stream_is_cut_as_the_event_loop_cuts_it_or_left_to_it(
    lines: list[str], newline: bool
) -> None:
    agrees("\n".join(lines) + ("\n" if newline else ""))
