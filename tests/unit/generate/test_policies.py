from __future__ import annotations

import kubernetes_validate
import pytest
from hypothesis import given
from hypothesis import strategies as st
from ruamel.yaml import YAML

from netpol_gitops.generate.policies import MAX_NAME, policy_name
from tests.helpers import EXAMPLE, GOLDEN, cli


def test_short_names_are_kept() -> None:
    assert policy_name("np-", "default-deny-all") == "np-default-deny-all"


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=200))
def test_long_names_are_cut_stably_with_a_hash(base: str) -> None:
    base = "a" + base
    name = policy_name("", base)
    assert len(name) <= MAX_NAME
    if len(base) > MAX_NAME:
        assert name != policy_name("", base + "x")  # the hash tells them apart
        assert name[-9] == "-"


def _generated() -> list[dict[str, object]]:
    docs = []
    for case in [*sorted(GOLDEN.glob("*/expected.yaml"))]:
        docs += [d for d in YAML(typ="safe").load_all(case.read_text()) if d]
    run = cli("render", str(EXAMPLE), "--only-generated")
    docs += [d for d in YAML(typ="safe").load_all(run.stdout) if d]
    return [d for d in docs if d["kind"] == "NetworkPolicy"]


@pytest.mark.parametrize(
    "policy", _generated(), ids=lambda p: "{namespace}/{name}".format(**p["metadata"])
)
def test_generated_policies_are_valid_kubernetes_1_32(policy: dict[str, object]) -> None:
    kubernetes_validate.validate(policy, "1.32", strict=True)
    assert len(policy["metadata"]["name"]) <= MAX_NAME  # type: ignore[index]


def test_hand_written_policy_clash_names_both_places() -> None:
    stream = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n"
    stream += "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n"
    stream += "  name: allow-dns\n  namespace: shop\nspec:\n  podSelector: {}\n"
    run = cli("render", "-", stdin=stream)
    assert run.code == 1 and run.stdout == ""
    assert run.stderr.startswith(
        "<stdin>:9:9: error: metadata.name: NetworkPolicy "
        "shop/allow-dns is hand-written here and also generated from "
        "<stdin>:1:1"
    )
