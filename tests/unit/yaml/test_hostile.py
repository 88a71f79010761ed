"""Hostile input: a clear error or bounded processing; never a traceback, code execution or
partial output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netpol_gitops.errors import NetpolError
from netpol_gitops.generate.render import render
from netpol_gitops.model.intent import Config
from netpol_gitops.yaml.stream import read_documents
from tests.helpers import cli


def refused(stdin: str | bytes, message: str) -> None:
    run = cli("render", "-", stdin=stdin)  # type: ignore[arg-type]
    assert run.code == 1, run.stderr
    assert run.stdout == ""
    assert message in run.stderr
    assert "Traceback" not in run.stderr


def test_billion_laughs() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]"
        for i in range(20)
    ]
    refused("kind: ConfigMap\n" + "\n".join(lines) + "\n", "aliases in one document; refused")


def test_deep_nesting() -> None:
    refused(
        "kind: ConfigMap\ndata: " + "[" * 100_000 + "]" * 100_000 + "\n",
        "nested deeper than 100 levels; refused",
    )


def test_deep_nesting_inside_the_flows_value() -> None:
    flows = "[" * 5000 + "]" * 5000
    refused(
        f"kind: Namespace\nmetadata:\n  name: a\n  annotations:\n"
        f"    netpol-gitops.io/flows: '{flows}'\n",
        "nested deeper than 100 levels",
    )


def test_alias_bomb_inside_the_flows_value() -> None:
    value = "{a: &a [x, x], " + ", ".join(f"k{i}: *a" for i in range(150)) + "}"
    refused(
        f"kind: Namespace\nmetadata:\n  name: a\n  annotations:\n"
        f"    netpol-gitops.io/flows: '{value}'\n",
        "aliases in one document",
    )


def test_python_tags_are_refused_not_run(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    refused(
        f"kind: Namespace\nmetadata: !!python/object/apply:os.system ['touch {marker}']\n",
        "could not determine a constructor for the tag",
    )
    assert not marker.exists()


def test_a_50_mb_document_passes_through() -> None:
    big = "x" * (50 << 20)
    run = cli(
        "render",
        "-",
        "--only-generated",
        stdin=f"kind: ConfigMap\nmetadata: {{name: big}}\ndata:\n  blob: {big}\n---\n"
        "kind: Namespace\nmetadata: {name: a}\n",
    )
    assert run.code == 0, run.stderr[:500]
    assert "name: default-deny-all" in run.stdout


def test_binary_junk_and_nul_bytes() -> None:
    refused(b"\xff\x00garbage\x00", "not UTF-8")
    refused(b"\xff\xfe\x00garbage\x00", "not UTF-16 text")  # a UTF-16 BOM, as kubectl reads it
    refused('kind: ConfigMap\ndata: {a: "\x00"}\n', "invalid YAML")


@settings(  # examples: the hypothesis profile's (ci 150, dev 50, fuzz 5,000; tests/conftest.py)
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.binary(max_size=200))
def test_random_bytes_never_crash(data: bytes) -> None:
    run = cli("render", "-", stdin=data)  # type: ignore[arg-type]
    assert run.code in (0, 1), run.stderr
    if run.code == 1:
        assert run.stdout == ""


KEYS = [
    "mode",
    "default-deny",
    "allow-dns",
    "allow-same-namespace",
    "allow-from-namespaces",
    "allow-egress-internet",
    "profiles",
    "flows",
    "flow",
    "defaultdeny",
]
SCALAR = st.one_of(
    st.text(max_size=12),
    st.integers(-5, 70000),
    st.booleans(),
    st.none(),
    st.sampled_from(
        ["all", "443/tcp", "0.0.0.0/0", "10.0.0.1/33", "http", "::/0", "1-2/udp", "a,b", "true"]
    ),
)
STRUCT = st.recursive(
    SCALAR,
    lambda s: st.one_of(
        st.lists(s, max_size=3),
        st.dictionaries(
            st.sampled_from(
                [
                    "from",
                    "to",
                    "ports",
                    "name",
                    "pods",
                    "namespace",
                    "namespaces",
                    "cidr",
                    "except",
                    "internet",
                    "x",
                ]
            ),
            s,
            max_size=4,
        ),
    ),
    max_leaves=12,
)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])  # the profile's examples
@given(
    st.dictionaries(
        st.sampled_from(KEYS),
        st.one_of(st.text(max_size=30), STRUCT.map(json.dumps), STRUCT),
        max_size=5,
    )
)
def test_fuzz_annotations_give_policies_or_located_errors(annotations: dict[str, Any]) -> None:
    """Random strings and random flow structures: valid policies or a located error."""
    ns = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": "fuzz",
            "annotations": {f"netpol-gitops.io/{k}": v for k, v in annotations.items()},
        },
    }
    try:
        result = render(read_documents([("f.yaml", json.dumps(ns, ensure_ascii=False))]), Config())
    except NetpolError as exc:
        assert exc.problems
        assert all(p.location.source == "f.yaml" and p.location.line >= 1 for p in exc.problems)
        return
    assert all(p["metadata"]["namespace"] == "fuzz" for p in result.generated)
