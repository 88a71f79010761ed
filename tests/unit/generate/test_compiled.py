"""The schemas compiled to Python (generate/compiled.py) decide validity exactly as jsonschema
does: on every instance the golden cases, the examples and the hostile inputs validate, and on
random mutations of them."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netpol_gitops.generate import compiled, schemas
from tests.helpers import EXAMPLE, GOLDEN, cli

Seen = list[tuple[schemas.Validator, Any]]


_IS_VALID = schemas.Validator.is_valid  # the compiled decision (the fixture below wraps it)


def _agree(v: schemas.Validator, instance: Any) -> None:
    assert v.compiled, (v.name, v.pointer)
    reference = v.jsonschema().is_valid(instance)
    assert _IS_VALID(v, instance) is reference, (v.name, v.pointer, instance)


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> Iterator[Seen]:
    """Every (validator, instance) the code under test validates, each checked against
    jsonschema as it happens."""
    found: Seen = []

    def spy(self: schemas.Validator, instance: Any) -> bool:
        _agree(self, instance)
        found.append((self, copy.deepcopy(instance)))
        return _IS_VALID(self, instance)

    monkeypatch.setattr(schemas.Validator, "is_valid", spy)
    yield found


def _render_all(monkeypatch: pytest.MonkeyPatch) -> None:
    for case in sorted(p for p in GOLDEN.iterdir() if p.is_dir()):
        monkeypatch.chdir(case)
        args = ["render", "input" if (case / "input").is_dir() else "input.yaml"]
        if (case / "config.yaml").exists():
            args += ["--config", "config.yaml"]
        assert cli(*args).code == (1 if case.name.startswith("err-") else 0), case
    monkeypatch.chdir(EXAMPLE.parent.parent)
    assert cli("render", "examples/").code == 0


def test_keywords_match_jsonschema() -> None:
    """The compiler knows every keyword jsonschema's Draft 2020-12 validates: each is either
    implemented or makes the schema fall back to jsonschema."""
    known = set(jsonschema.Draft202012Validator.VALIDATORS)
    assert known - compiled.IMPLEMENTED - compiled.NOT_IMPLEMENTED == set()
    assert known >= compiled.IMPLEMENTED


def test_every_schema_compiles() -> None:
    """Today's schemas use only implemented keywords: none falls back (a new keyword must be
    implemented, with a case here, or the start-up pays jsonschema's import)."""
    for name in schemas.NAMES:
        assert schemas.validator(name).compiled
        for pointer in schemas.load(name).get("$defs", {}):
            assert schemas.validator(name, f"/$defs/{pointer}").compiled
        for key in schemas.load(name).get("properties", {}):
            assert schemas.validator(name, "/properties/" + key.replace("/", "~1")).compiled


def test_golden_and_examples_agree(seen: Seen, monkeypatch: pytest.MonkeyPatch) -> None:
    _render_all(monkeypatch)
    assert len(seen) > 100
    assert any(not _IS_VALID(v, i) for v, i in seen)  # the err- cases reach invalid instances
    assert {v.name for v, _ in seen} == set(schemas.NAMES)


HOSTILE: list[Any] = [
    None,
    True,
    False,
    0,
    1,
    1.0,
    -1,
    2**70,
    float("nan"),
    "",
    "all",
    "all\n",
    "allow-web\n",
    "\u00e9",
    [],
    [None],
    [True, 1],
    {},
    {1: "x"},
    {True: "x"},
    {"name": "web\n"},
    {"name": "web", "from": {"pods": {}}, "to": {"pods": {"app": "x"}}, "ports": [80]},
    {"name": "web", "from": {"pods": {}}, "to": {"pods": {"app": "x"}}, "ports": [True]},
    {"name": "web", "from": {"pods": {}}, "to": {"pods": {"app": "x"}}, "ports": [8080.0]},
    {"name": "web", "from": {"pods": {}}, "to": {"pods": {"app": "x"}}, "ports": ["99999"]},
    {"apiVersion": "netpol-gitops.io/v1alpha1", "kind": "NetworkPolicyGenerator"},
    {"apiVersion": "netpol-gitops.io/v1alpha1", "kind": "NetworkPolicyGenerator", "x": 1},
    {"netpol-gitops.io/default-deny": True},
    {"netpol-gitops.io/unknown": "x"},
]


def _validators() -> list[schemas.Validator]:
    out = []
    for name in schemas.NAMES:
        doc = schemas.load(name)
        out.append(schemas.validator(name))
        out += [schemas.validator(name, f"/$defs/{d}") for d in doc.get("$defs", {})]
        out += [
            schemas.validator(name, "/properties/" + k.replace("/", "~1"))
            for k in doc.get("properties", {})
        ]
    return out


@pytest.mark.parametrize("instance", HOSTILE, ids=repr)
def test_hostile_instances_agree(instance: Any) -> None:
    for v in _validators():
        _agree(v, instance)


def _examples() -> list[Any]:
    """Valid-looking instances to mutate: each schema's own examples and the golden configs."""
    found: list[Any] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            found.extend(node.get("examples", []))
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    for name in schemas.NAMES:
        walk(schemas.load(name))
    for path in sorted(Path(GOLDEN).glob("*/config.yaml")):
        from ruamel.yaml import YAML  # noqa: PLC0415

        found.append(json.loads(json.dumps(YAML(typ="safe").load(path.read_text()))))
    return found or [{}]


LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 70000),
    st.floats(allow_nan=False),
    st.sampled_from(["", "all", "none", "ingress", "web", "80/tcp", "x\n", "a" * 300, "*"]),
    st.text(max_size=8),
)
JSONISH = st.recursive(
    LEAF,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(["name", "from", "to", "ports", "pods", "namespace", "x", "apiVersion"])
            | st.text(max_size=6),
            inner,
            max_size=3,
        ),
    ),
    max_leaves=12,
)


def _mutate(node: Any, data: st.DataObject) -> Any:
    """``node`` with one random change somewhere: a value replaced, a key added or removed."""
    if isinstance(node, dict) and node and data.draw(st.booleans()):
        key = data.draw(st.sampled_from(sorted(node, key=str)))
        out = dict(node)
        choice = data.draw(st.integers(0, 2))
        if choice == 0:
            del out[key]
        elif choice == 1:
            out[data.draw(st.text(max_size=6))] = data.draw(JSONISH)
        else:
            out[key] = _mutate(node[key], data)
        return out
    if isinstance(node, list) and node and data.draw(st.booleans()):
        i = data.draw(st.integers(0, len(node) - 1))
        return [*node[:i], _mutate(node[i], data), *node[i + 1 :]]
    return data.draw(JSONISH)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_random_instances_agree(data: st.DataObject) -> None:
    validators = _validators()
    v = data.draw(st.sampled_from(validators))
    seeds = _examples()
    instance = data.draw(st.one_of(JSONISH, st.sampled_from(seeds)))
    for _ in range(data.draw(st.integers(0, 3))):
        instance = _mutate(instance, data)
    _agree(v, instance)
