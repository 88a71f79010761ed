"""The span layout of a ResourceList (krm's fast path): items echoed exactly as they came, only
the plain kustomize/kpt layout taken, and the same objects out as the full parse."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from netpol_gitops.adapters.krm import run, run_parsed
from netpol_gitops.yaml.emit import dump_block
from netpol_gitops.yaml.resourcelist import read_resource_list
from tests.helpers import GOLDEN

LOAD = YAML(typ="safe")
# the cases whose input is loadable YAML (the others test the YAML reader itself)
CASES = [
    c
    for c in sorted(GOLDEN.iterdir())
    if (c / "input.yaml").exists()
    and c.name not in ("err-duplicate-key", "err-yaml", "err-not-utf8")
]


def case_items(case: Path) -> list[Any]:
    return [d for d in LOAD.load_all((case / "input.yaml").read_text()) if d]


def as_yaml(items: list[Any], config: Any = None, *, mapping: int = 2, offset: int = 0) -> str:
    """A ResourceList in block style, with the items' "-" at ``offset`` and content after it."""
    dumper = YAML(typ="rt")
    dumper.indent(mapping=mapping, sequence=offset + 2, offset=offset)
    rl: dict[str, Any] = {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList"}
    rl["items"] = items
    if config is not None:
        rl["functionConfig"] = config
    out = io.StringIO()
    dumper.dump(rl, out)
    return out.getvalue()


def case_config(case: Path) -> Any:
    path = case / "config.yaml"
    return LOAD.load(path.read_text()) if path.exists() else None


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@pytest.mark.parametrize("offset", [0, 2])
def test_spans_and_the_full_parse_give_the_same_result(
    case: Path, offset: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(case)
    items = case_items(case)
    if not items:
        pytest.skip("no items in this case")
    text = as_yaml(items, case_config(case), offset=offset)
    assert read_resource_list(text) is not None
    spans, parsed = run(text, case), run_parsed(text, case)
    assert spans.stderr == parsed.stderr
    assert spans.exit_code == parsed.exit_code
    assert LOAD.load(spans.output) == LOAD.load(parsed.output)
    if spans.exit_code == 0:  # idempotent, byte for byte (kpt passes the config every time)
        config = case_config(case)
        again = spans.output + (dump_block({"functionConfig": config}) if config else "")
        assert run(again, case).output == spans.output


@settings(max_examples=40, deadline=None)
@given(
    mapping=st.integers(min_value=1, max_value=4),
    offset=st.integers(min_value=0, max_value=3),
    case=st.sampled_from([c for c in CASES if not c.name.startswith("err-")]),
)
def test_any_block_indentation_reads_as_the_full_parse(
    mapping: int, offset: int, case: Path
) -> None:
    items = case_items(case)
    text = as_yaml(items, case_config(case), mapping=mapping, offset=offset)
    layout = read_resource_list(text)
    assert layout is not None
    assert [layout.document(i).data() for i in range(len(layout.items))] == items
    echoed = "items:\n" + "".join(layout.echo(i) for i in range(len(layout.items)))
    assert LOAD.load(echoed)["items"] == items


ITEMS = """\
apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
  # the first item
  - apiVersion: v1
    kind: ConfigMap   # a comment kept
    metadata:
      name: "quoted"
    data:
      script: |+
        keep

  - {apiVersion: v1, kind: Namespace, metadata: {name: shop,
      annotations: {netpol-gitops.io/default-deny: all}}}
functionConfig:
  apiVersion: netpol-gitops.io/v1alpha1
  kind: NetworkPolicyGenerator
  spec:
    namePrefix: np-
"""


def test_items_are_echoed_as_they_came_and_policies_follow_in_their_layout() -> None:
    out = run(ITEMS, Path.cwd())
    assert out.exit_code == 0, out.stderr
    assert out.output.startswith(
        "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"
        "  - apiVersion: v1\n"
        "    kind: ConfigMap   # a comment kept\n"
        "    metadata:\n"
        '      name: "quoted"\n'
        "    data:\n"
        "      script: |+\n"
        "        keep\n"
        "\n"
        "  - {apiVersion: v1, kind: Namespace, metadata: {name: shop,\n"
        "      annotations: {netpol-gitops.io/default-deny: all}}}\n"
        "  - apiVersion: networking.k8s.io/v1\n"
        "    kind: NetworkPolicy\n"
    )
    data = LOAD.load(out.output)
    assert data["items"][0]["data"]["script"] == "keep\n\n"
    assert [i["metadata"]["name"] for i in data["items"][2:]] == [
        "np-allow-dns",
        "np-default-deny-all",
    ]
    config = ITEMS[ITEMS.index("functionConfig:") :]
    assert run(out.output + config, Path.cwd()).output == out.output


def test_an_error_returns_the_items_unchanged_with_a_located_result() -> None:
    bad = ITEMS.replace("default-deny: all", "default-deny: al")
    out = run(bad, Path.cwd())
    assert out.exit_code == 1
    echoed = bad[: bad.index("functionConfig:")].replace("  # the first item\n", "")
    assert out.output.startswith(echoed)  # comments before an item's "-" are not its own
    results = LOAD.load(out.output)["results"]
    assert [r["resourceRef"]["name"] for r in results] == ["shop"]
    assert out.stderr == [
        "items[1]: error: Namespace/shop metadata.annotations."
        '"netpol-gitops.io/default-deny": expected one of all, ingress, egress, none; '
        "got 'al' (did you mean 'all'?)"
    ]


def test_function_config_problems_keep_their_lines_in_the_list() -> None:
    bad = ITEMS.replace("namePrefix: np-", "namePrefx: np-")
    out = run(bad, Path.cwd())
    assert out.exit_code == 1
    assert out.stderr == run_parsed(bad, Path.cwd()).stderr
    assert out.stderr[0].startswith("<ResourceList>:19:5: error: functionConfig.spec")


@pytest.mark.parametrize(
    "text",
    [
        json.dumps({"apiVersion": "v1", "kind": "ResourceList", "items": []}),
        "kind: ResourceList\nitems: [{kind: Namespace, metadata: {name: a}}]\n",
        "kind: ResourceList\nitems:\n- &a {kind: Namespace, metadata: {name: a}}\n- *a\n",
        "kind: ResourceList\nitems:\n- !!map {kind: Namespace}\n",
        "kind: ResourceList\nitems:\n- just a string\n",
        "kind: ResourceList\nitems: []\nitems: []\n",
        "kind: ResourceList\nitems:\n- a: [\n",
        "kind: Namespace\nmetadata: {name: a}\n",
        "kind: ResourceList\n---\nkind: ResourceList\n",
    ],
    ids=["json", "flow", "alias", "tag", "scalar", "duplicate", "syntax", "kind", "two-docs"],
)
def test_anything_but_the_plain_layout_is_parsed_whole(text: str) -> None:
    assert read_resource_list(text) is None
    assert run(text, Path.cwd()).stderr == run_parsed(text, Path.cwd()).stderr


def test_an_empty_list_of_items_stays_a_list() -> None:
    out = run("kind: ResourceList\nitems: []\n", Path.cwd())
    assert out.output == "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n"


def test_bytes_in_give_what_text_gives_ascii_or_not() -> None:
    for text in (ITEMS, ITEMS.replace('"quoted"', '"quoté"')):
        as_bytes = run(text.encode(), Path.cwd())
        assert (as_bytes.output, as_bytes.stderr) == (run(text, Path.cwd()).output, [])
    bad = run(b"kind: ResourceList\nitems: []\n# \xff\n", Path.cwd())
    assert bad.exit_code == 1
    assert bad.stderr == [
        "<stdin>:3:3: error: not UTF-8 text (byte 0xff); Kubernetes manifests must be UTF-8"
    ]
