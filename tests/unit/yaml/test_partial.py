"""The pruned constructor builds exactly the kept paths, or steps aside."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from netpol_gitops.yaml.partial import ANY, Unusual, pruned

KEEP = [("kind",), ("metadata", "labels"), ("spec", "items", ANY, "port")]


def test_keeps_paths_and_what_leads_to_them() -> None:
    text = """kind: Pod
metadata: {name: x, labels: {app: "web", v: 1, on: true}}
spec:
  skip: {deep: [[1, 2], {a: b}]}
  items:
  - {port: 80, other: [1]}
  - port: "81"
    name: n
"""
    assert pruned(text, KEEP) == {
        "kind": "Pod",
        "metadata": {"labels": {"app": "web", "v": 1, "on": True}},
        "spec": {"items": [{"port": 80}, {"port": "81"}]},
    }


@pytest.mark.parametrize(
    "text",
    [
        "a: &x [1]\nkind: *x\n",
        "kind: !!python/object:os.system x\n",
        "kind: !custom x\n",
    ],
)
def test_aliases_and_explicit_tags_step_aside(text: str) -> None:
    with pytest.raises(Unusual):
        pruned(text, KEEP)


SCALAR = st.one_of(st.integers(0, 70000), st.booleans(), st.sampled_from(["x", "80", "a b"]))
DOC = st.fixed_dictionaries(
    {"kind": st.sampled_from(["Pod", "Deployment"])},
    optional={
        "metadata": st.dictionaries(
            st.sampled_from(["labels", "name", "x"]),
            st.dictionaries(st.sampled_from(["app", "tier"]), SCALAR, max_size=2),
            max_size=3,
        ),
        "spec": st.fixed_dictionaries(
            {},
            optional={
                "items": st.lists(
                    st.dictionaries(st.sampled_from(["port", "name"]), SCALAR, max_size=2),
                    max_size=3,
                ),
                "other": st.lists(SCALAR, max_size=3),
            },
        ),
    },
)


def _prune(data: object, keep: list[tuple[str, ...]], path: tuple[str, ...] = ()) -> object:
    """The reference: the same pruning applied to fully loaded data."""

    def status(p: tuple[str, ...]) -> str:
        for k in keep:
            n = min(len(k), len(p))
            if all(a in (b, ANY) for a, b in zip(k[:n], p[:n], strict=True)):
                return "keep" if len(p) >= len(k) else "descend"
        return "skip"

    if status(path) == "keep" or not isinstance(data, dict | list):
        return data
    if isinstance(data, dict):
        return {
            k: _prune(v, keep, (*path, k)) for k, v in data.items() if status((*path, k)) != "skip"
        }
    return [_prune(v, keep, (*path, ANY)) for v in data if status((*path, ANY)) != "skip"]


@settings(max_examples=200, deadline=None)
@given(DOC, st.sampled_from([None, True]))
def test_pruned_equals_pruning_a_full_load(doc: dict[str, object], flow: bool | None) -> None:
    import io  # noqa: PLC0415

    y = YAML(typ="safe")
    y.default_flow_style = flow
    buf = io.StringIO()
    y.dump(doc, buf)
    assert pruned(buf.getvalue(), KEEP) == _prune(y.load(buf.getvalue()), KEEP)
