"""yaml.blockscan reads the kept paths of a plain document from its text: whatever it returns
must be exactly what ``pruned`` returns (types and key order too), and on the common shapes it
must return something (else the fast path is never taken)."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from netpol_gitops.analysis import documents
from netpol_gitops.analysis.documents import WORKLOAD_PATHS, topology, topology_of
from netpol_gitops.yaml.blockscan import blockscan
from netpol_gitops.yaml.fastsplit import fast_split
from netpol_gitops.yaml.partial import ANY, SKIP, Unusual, pruned, status
from netpol_gitops.yaml.partial import Path as KeepPath
from tests.helpers import yaml_at_hand

# a wildcard key (walked, not searched), a whole subtree, a sequence's items' key
SECOND: tuple[KeepPath, ...] = (
    ("metadata",),
    ("spec", ANY, "name"),
    ("spec", "template", "spec", "containers", ANY, "name"),
    ("items", ANY),
)
KEEPS = (WORKLOAD_PATHS, SECOND, ((),))


def _exact(value: object) -> str:
    """Types and key order count: 1 == True and {a, b} == {b, a} in Python, not here."""
    return json.dumps(value)


def agrees(text: str, keep: tuple[KeepPath, ...]) -> bool:
    """blockscan is None, or returns exactly what pruned returns; returns whether it read."""
    got = blockscan(text, keep)
    if got is None:
        return False
    try:
        want = pruned(text, keep)
    except Unusual:
        raise AssertionError(f"blockscan read what pruned refuses:\n{text}") from None
    assert _exact(got) == _exact(want), text
    return True


# ---------------------------------------------------------------- documents from pieces

KEYS = [
    "apiVersion",
    "metadata",
    "labels",
    "name",
    "namespace",
    "ownerReferences",
    "spec",
    "template",
    "containers",
    "ports",
    "jobTemplate",
    "annotations",
    "env",
    "items",
    "app.kubernetes.io/name",
    "x_1",
    "80",
    "true",
]
ODD_KEYS = ['"labels"', "'name'", "&k spec", "a b", "labels :"]
PLAIN = [
    "x",
    "80",
    "-1",
    "+7",
    "012",
    "1.5",
    "0x1F",
    "true",
    "False",
    "~",
    "null",
    "NULL",
    "a b",
    "a  b",
    "x#y",
    "a:b",
    "http://x:80/y",
    ":x",
    "?x",
    "-x",
    "TCP",
]
QUOTED = ["'a b'", "'it''s'", "''", "'80'", '"x"', '""', '"true"', '"a # b"', "'#'"]
TAGS = ["!!str 80", "!custom x", "&a !!int 1"]  # pruned refuses them on any child it sees
HOSTILE_INLINE = [
    '"a\\tb"',
    "&a x",
    "[a, b]",
    "{a: 1, b: [x]}",
    "[]",
    "{}",
]
COMMENT = st.sampled_from(["", "", "", " # c", "  #: - x"])


@st.composite
def _scalar(draw: st.DrawFn, wild: bool, hostile: bool) -> str:
    pool = PLAIN + QUOTED + (HOSTILE_INLINE if wild else []) + (TAGS if hostile else [])
    text = draw(st.sampled_from(pool))
    return text + draw(COMMENT) + draw(st.sampled_from(["", "", "  "]))


def _block_scalar(draw: st.DrawFn, col: int, hostile: bool) -> tuple[str, list[str]]:
    """A block scalar's header and content, for a key or dash at ``col``."""
    header = draw(st.sampled_from(["|", ">", "|-", ">+", "|2", "|1-", ">2"]))
    base = col + (int(header[1]) if header[1:2].isdigit() else draw(st.integers(1, 3)))
    lines: list[str] = []
    for _ in range(draw(st.integers(0, 3))):
        pool = ["labels: x", "- a", "# no comment", "x", ""] + (["name: 'x"] if hostile else [])
        text = draw(st.sampled_from(pool))
        extra = draw(st.sampled_from([0, 0, 1, 3])) if any(lines) else 0  # the first sets it
        lines.append(" " * (base + extra) + text if text else "")
    return " " + header, lines


def _comments(draw: st.DrawFn, col: int) -> list[str]:
    """Blank and comment lines, at any column (column 0 too)."""
    out = []
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, col + 4))
        out.append(draw(st.sampled_from(["", " " * at, " " * at + "# c", " " * at + "#"])))
    return out


def _free(path: KeepPath) -> bool:
    """Whether anything may stand at ``path`` in a document that must be read (WORKLOAD_PATHS
    skip it)."""
    return status(WORKLOAD_PATHS, path) == SKIP


def _value(
    draw: st.DrawFn, col: int, path: KeepPath, depth: int, hostile: bool
) -> tuple[str, list[str]]:
    """The rest of a key's (or a dash's) line and the lines below, for one at ``col``."""
    wild = hostile or _free(path)
    kinds = ["scalar", "scalar", "empty", "map", "seq"] if depth < 4 else ["scalar", "empty"]
    if wild:
        kinds += ["block", "multiline"] + (["anchored"] if depth < 4 else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "scalar":
        return " " + draw(_scalar(wild, hostile)), []
    if kind == "empty":
        return draw(st.sampled_from(["", " ", " # c"])), []
    if kind == "block":
        return _block_scalar(draw, col, hostile)
    if kind == "multiline":
        more = [" " * (col + draw(st.integers(1, 3))) + t for t in ("b", "c d")]
        return " " + draw(st.sampled_from(["a", "a b"])), more
    anchor = " &a" if kind == "anchored" else ""
    if kind == "seq" or (kind == "anchored" and draw(st.booleans())):
        at = col + draw(st.sampled_from([0, 0, 2, 4] if kind == "seq" else [2]))
        return anchor, _sequence(draw, at, path, depth + 1, hostile)
    at = col + draw(st.integers(1, 4))
    first, rest = _mapping(draw, at, path, depth + 1, hostile)
    return anchor + draw(COMMENT), [" " * at + first, *rest]


def _mapping(
    draw: st.DrawFn, col: int, path: KeepPath, depth: int, hostile: bool
) -> tuple[str, list[str]]:
    """A block mapping at ``col``: its first line without its indentation, and the others."""
    wild = hostile or _free(path)
    lines: list[str] = []
    for i in range(draw(st.integers(1, 4))):
        odd = (ODD_KEYS if wild and col else []) + (["!!str ports"] if hostile and col else [])
        key = draw(st.sampled_from(KEYS + odd))
        # (top-level keys are plain words: fast_split's condition)
        sep = draw(st.sampled_from([":", ":", " :"])) if col and " " not in key else ":"
        inline, below = _value(draw, col, (*path, key.strip("\"'")), depth, hostile)
        if i:
            lines += _comments(draw, col)
        lines += [" " * col * bool(i) + key + sep + inline, *below]
    return lines[0], lines[1:]


def _sequence(draw: st.DrawFn, col: int, path: KeepPath, depth: int, hostile: bool) -> list[str]:
    """A block sequence whose dashes stand at ``col``."""
    lines: list[str] = []
    item = (*path, ANY)
    for i in range(draw(st.integers(1, 3))):
        if i:
            lines += _comments(draw, col)
        gap = draw(st.sampled_from([1, 1, 2, 3]))
        at = col + 1 + gap
        kind = draw(st.sampled_from(["scalar", "map", "map", "empty", "nested"]))
        if kind == "scalar" or depth >= 4:
            inline, below = _value(draw, col, item, 4, hostile)
            lines += [" " * col + "-" + (inline or " x"), *below]
        elif kind == "map":
            first, rest = _mapping(draw, at, item, depth + 1, hostile)
            lines += [" " * col + "-" + " " * gap + first, *rest]
        elif kind == "empty":
            below = []
            if draw(st.booleans()):
                first, rest = _mapping(draw, col + 2, item, depth + 1, hostile)
                below = [" " * (col + 2) + first, *rest]
            empty = ["", " # c"] if col else [" ", " # c"]  # (fast_split's condition)
            lines += [" " * col + "-" + draw(st.sampled_from(empty)), *below]
        else:  # "- - a"
            inner = _sequence(draw, at, item, depth + 1, hostile)
            lines += [" " * col + "-" + " " * gap + inner[0].lstrip(" "), *inner[1:]]
    return lines


@st.composite
def streams(draw: st.DrawFn, hostile: bool) -> str:
    """A stream whose workload document is made of the pieces above; the document may be the
    first (its text starts at a key) or follow a ``---`` (its text starts with the rest of
    that line)."""
    first, rest = _mapping(draw, 0, (), 0, hostile)
    lines = [first, *rest]
    tops = [i for i, x in enumerate(lines) if x[:1].isalnum()]  # between top-level entries
    lines.insert(draw(st.sampled_from([*tops, len(lines)])), "kind: Deployment")
    before = draw(st.sampled_from(["", "---\n", "--- # c\n", "---   \n", "a: 1\n---\n", "#\n---"]))
    after = draw(st.sampled_from(["", "\n...", "\n---\nb: 2", "\n# end"]))
    sep = "\n" if before.endswith("---") else ""
    return before + sep + "\n".join(lines) + after + draw(st.sampled_from(["", "\n"]))


def _workloads(stream: str) -> list[str] | None:
    docs = fast_split(stream, "s.yaml")
    return None if docs is None else [d.text for d in docs if d.kind == "Deployment"]


@settings(suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(streams(hostile=True))
def test_what_it_reads_is_what_pruned_reads(stream: str) -> None:
    texts = _workloads(stream)
    assume(texts)  # libyaml accepted it, and fast_split vouched for it
    assert texts is not None
    for text in texts:
        for keep in KEEPS:
            event(f"read with {len(keep)} paths: {agrees(text, keep)}")


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(streams(hostile=False))
def test_it_reads_the_common_shapes(stream: str) -> None:
    """Anything at all in the parts it skips (block scalars, flow, tags, anchors, odd keys,
    comments at column 0), the common shapes where it reads."""
    texts = _workloads(stream)
    assert texts, stream  # common shapes are plain YAML
    for text in texts:
        assert agrees(text, WORKLOAD_PATHS), text
        agrees(text, SECOND)


# ---------------------------------------------------------------- every file at hand


def test_every_yaml_file_at_hand() -> None:
    read = dict.fromkeys(KEEPS, 0)
    for path, text in yaml_at_hand():
        for doc in fast_split(text, str(path)) or ():
            for keep in KEEPS:
                read[keep] += agrees(doc.text, keep)
    assert read[WORKLOAD_PATHS] > 100 and read[SECOND] > 100  # it reads the usual manifests


# ---------------------------------------------------------------- shapes one by one

READ = [
    # the first document of a file: its text starts at a key
    "kind: Pod\nmetadata:\n  name: a\n  labels:\n    app: web\n",
    # after a marker line: the text starts with the rest of that line
    " # c\nkind: Pod\nmetadata:\n  name: a\n",
    "\napiVersion: v1\nkind: Deployment\nmetadata:\n  labels:\n    app.kubernetes.io/name: x\n"
    "    tier: '1'\n    on: true\n    n: 012\n    z: ~\n",
    # compact and indented sequences, "-   key:", "- - a", empty entries
    "kind: Pod\nspec:\n  containers:\n  -   name: a\n      ports:\n      - containerPort: 80\n"
    "        name: http\n      -\n      - - 1\n        - 2\n  - ports:\n      - 8080\n",
    # comments at column 0 inside nested blocks, kept and descended
    "kind: Pod\nmetadata:\n  labels:\n# c\n    a: b\n#\n    c: d # e\n  name: n\n"
    "spec:\n# c\n  containers:\n# c\n  - ports:\n# c\n    - 1\n",
    # what it skips may be anything: block scalars (lines that look like keys or comments),
    # flow collections, tags, anchors, odd keys, multi-line plain scalars
    "kind: Pod\nmetadata:\n  annotations:\n    a: |\n      labels: x\n# not in it\n      "
    "# in it\n    b: >2\n       labels: y\n    '\"labels\"': [a, {b: c}]\n"
    "  x: &a multi\n    line\n  labels:\n    a: b\n  name: n\nspec:\n  x:\n    ? a\n    : b\n",
    # duplicate keys: the last wins, in the first one's place
    "kind: Pod\nmetadata:\n  name: a\n  labels:\n    a: 1\n  name: b\nmetadata:\n  name: c\n",
    # empty values, a space before the colon, key:value as a scalar, quotes without escapes
    "kind: Pod\nmetadata:\n  labels:\n  name :  x \nspec:\n  containers:\n  - a:b\n"
    "  - ports:\n    - 'it''s'\n    - \"a # b\"\n    -\n",
]

NOT_READ = [
    "kind: Pod\nmetadata:\n  labels: {a: b}\n",  # a flow collection to build
    "kind: Pod\nmetadata:\n  labels:\n    a: |\n      x\n",  # a block scalar to build
    "kind: Pod\nmetadata:\n  name: !!str x\n",  # a tag (pruned refuses it)
    "kind: Pod\nmetadata:\n  name: &a x\n",  # an anchor
    "kind: Pod\nmetadata:\n  name: a\n    b\n",  # a multi-line plain scalar
    'kind: Pod\nmetadata:\n  name: "a\\tb"\n',  # an escape
    'kind: Pod\nmetadata:\n  "labels":\n    a: b\n',  # a wanted key, quoted
    "kind: Pod\nmetadata:\n  ? labels\n  : a\n",  # a complex key
    'kind: Pod\nmetadata:\n  labels:\n    "a": b\n',  # a quoted key where all is kept
]


@pytest.mark.parametrize("text", READ)
def test_reads(text: str) -> None:
    assert fast_split(text, "s.yaml") is not None, "plain YAML, by fast_split's word"
    assert agrees(text, WORKLOAD_PATHS)
    agrees(text, SECOND)


@pytest.mark.parametrize("text", NOT_READ)
def test_steps_aside(text: str) -> None:
    assert blockscan(text, WORKLOAD_PATHS) is None


def test_the_analysis_reads_plain_workloads_without_the_parser(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stream = "---\n".join(READ[2:5])
    docs = fast_split(stream, "s.yaml")
    assert docs is not None
    full = topology([o for d in docs for _, o in d.objects()])
    docs = fast_split(stream, "s.yaml")
    assert docs is not None

    def refuse(text: str, keep: object) -> object:
        raise AssertionError("pruned was called")

    monkeypatch.setattr(documents, "pruned", refuse)
    assert topology_of(docs).workloads == full.workloads
