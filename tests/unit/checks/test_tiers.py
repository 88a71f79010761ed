"""The rules that see the cluster policy tiers, each on the smallest stream that trips it and on
one that does not: overridden-allow, undecidable-peer, and no-default-deny counting a tier's
deny as protection."""

from __future__ import annotations

import pytest

from netpol_gitops.checks.gate import findings
from netpol_gitops.errors import Problem
from netpol_gitops.model.intent import Config
from netpol_gitops.yaml.stream import read_documents
from tests.unit.checks.test_rules import ns_block, pod

ADMIN_DENY = """apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {{name: no-ops}}
spec:
  tier: Admin
  priority: 3
  subject: {{namespaces: {{matchLabels: {{kubernetes.io/metadata.name: shop}}}}}}
  ingress:
  - action: {action}
    from: [{peer}]
"""
OPS = "{namespaces: {matchLabels: {kubernetes.io/metadata.name: ops}}}"
SHOP = [
    ns_block("shop", {"allow-from-namespaces": "ops"}),
    ns_block("ops", {"default-deny": "all"}),
    pod("shop", "web", app="web"),
    pod("ops", "tool", app="tool"),
]
BASELINE = """apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {{name: default}}
spec:
  subject: {{namespaces: {{}}}}
  {direction}:
  - action: Allow
    {peers}: [{{namespaces: {{matchLabels: {{kubernetes.io/metadata.name: kube-system}}}}}}]
  - action: Deny
    {peers}: [{{namespaces: {{}}}}]
"""


def found(stream: list[str]) -> list[Problem]:
    return findings(read_documents([("s.yaml", "---\n".join(stream))]), Config())


def rules(stream: list[str]) -> set[str]:
    return {p.rule for p in found(stream)}


CASES: dict[str, tuple[list[str], list[str]]] = {
    "overridden-allow": (
        [*SHOP, ADMIN_DENY.format(action="Deny", peer=OPS)],
        [*SHOP, ADMIN_DENY.format(action="Pass", peer=OPS)],
    ),
    "undecidable-peer": (
        [*SHOP, ADMIN_DENY.format(action="Deny", peer="{nodes: {}}")],
        [*SHOP, ADMIN_DENY.format(action="Deny", peer=OPS)],
    ),
}


@pytest.mark.parametrize("rule", sorted(CASES))
def test_the_rule_fires_on_its_cause_and_only_there(rule: str) -> None:
    tripped, fixed = CASES[rule]
    assert rule in rules(tripped)
    assert rule not in rules(fixed)


def test_an_allow_that_the_admin_tier_denies_only_in_part_names_those_ports() -> None:
    deny_80 = ADMIN_DENY.format(action="Deny", peer=OPS) + (
        "    protocols: [{tcp: {destinationPort: {number: 80}}}]\n"
    )
    (warning,) = [p for p in found([*SHOP, deny_80]) if p.rule == "overridden-allow"]
    assert warning.line() == (
        "s.yaml:4:9: warning: metadata.name: NetworkPolicy shop/allow-from-namespaces allows what"
        " ClusterNetworkPolicy no-ops (Admin tier) denies first, so the flow cannot work:"
        " ops/tool[Pod] => shop/web[Pod] (TCP 80)"
    )


@pytest.mark.parametrize("direction", ["ingress", "egress"])
def test_a_tier_deny_is_protection_and_named(direction: str) -> None:
    bare = ns_block("shop", {"default-deny": "none"})
    before = [p for p in found([bare]) if p.rule == "no-default-deny"]
    assert [p.severity.value for p in before] == ["error"]
    peers = "from" if direction == "ingress" else "to"
    after = found([bare, BASELINE.format(direction=direction, peers=peers)])
    assert [(p.rule, p.severity.value, p.message) for p in after] == [
        (
            "no-default-deny",
            "note",
            "namespace shop has no default deny of its own (default-deny is none); "
            f"{direction} is denied by Baseline BaselineAdminNetworkPolicy default",
        )
    ]


def test_a_tier_deny_of_some_pods_or_ports_is_not_a_default_deny() -> None:
    bare = ns_block("shop", {"default-deny": "none"})
    some_ports = BASELINE.format(direction="ingress", peers="from") + (
        "    ports: [{portNumber: {protocol: TCP, port: 80}}]\n"
    )
    some_pods = BASELINE.format(direction="ingress", peers="from").replace(
        "subject: {namespaces: {}}",
        "subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: x}}}}",
    )
    for stream in ([bare, some_ports], [bare, some_pods]):
        assert [p.severity.value for p in found(stream) if p.rule == "no-default-deny"] == ["error"]
