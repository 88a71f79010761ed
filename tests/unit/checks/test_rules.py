"""Every rule of `check`, on the smallest stream that trips it and on one that does not: the pure
gate (render + rules + audit), no files, no subprocess."""

from __future__ import annotations

import pytest

from netpol_gitops.checks.gate import findings
from netpol_gitops.checks.rules import RULES
from netpol_gitops.model.intent import Config
from netpol_gitops.yaml.stream import read_documents


def ns_block(name: str, annotations: dict[str, str]) -> str:
    lines = "".join(f"\n    netpol-gitops.io/{k}: {v}" for k, v in annotations.items())
    return f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n  annotations:{lines}\n"


def pod(namespace: str, name: str, **labels: str) -> str:
    return (
        f"apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: {namespace}, "
        f"labels: {labels}}}\n".replace("'", "")
    )


def policy(namespace: str, name: str, spec: str) -> str:
    return (
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        f"metadata: {{name: {name}, namespace: {namespace}}}\nspec: {spec}\n"
    )


FLOW = "'[{name: web-to-pay, from: {pods: {app: web}}, to: {namespace: pay}, ports: [443]}]'"
NAMED = (
    "'[{{name: web-to-api, from: {{pods: {{app: web}}}}, to: {{pods: {{app: api}}}}, "
    "ports: [{port}]}}]'"
)
API_WITH_HTTP = (
    "apiVersion: v1\nkind: Pod\nmetadata: {name: api, namespace: shop, labels: {app: api}}\n"
    "spec: {containers: [{name: api, ports: [{name: http, containerPort: 8080}]}]}\n"
)
# rule -> (a stream that trips it, the same with the cause removed)
CASES: dict[str, tuple[list[str], list[str]]] = {
    "no-default-deny": (
        [ns_block("shop", {"default-deny": "none"})],
        [ns_block("shop", {"default-deny": "all"})],
    ),
    "egress-without-dns": (
        [ns_block("shop", {"default-deny": "egress", "allow-dns": '"false"'})],
        [ns_block("shop", {"default-deny": "egress"})],
    ),
    "half-open-flow": (
        [
            ns_block("shop", {"flows": FLOW}),
            ns_block("pay", {"default-deny": "ingress"}),
            pod("shop", "web", app="web"),
            pod("pay", "api", app="api"),
        ],
        [
            ns_block("shop", {"flows": FLOW}),
            ns_block("pay", {"default-deny": "ingress", "allow-from-namespaces": "shop"}),
            pod("shop", "web", app="web"),
            pod("pay", "api", app="api"),
        ],
    ),
    "selector-matches-nothing": (
        [ns_block("shop", {"flows": FLOW.replace("web", "ghost")}), ns_block("pay", {})],
        [ns_block("shop", {"flows": FLOW}), ns_block("pay", {}), pod("shop", "web", app="web")],
    ),
    "unresolved-named-port": (
        [
            ns_block("shop", {"flows": NAMED.format(port="htp")}),
            pod("shop", "web", app="web"),
            API_WITH_HTTP,
        ],
        [
            ns_block("shop", {"flows": NAMED.format(port="http")}),
            pod("shop", "web", app="web"),
            API_WITH_HTTP,
        ],
    ),
    "redundant-policy": (
        [
            ns_block("shop", {}),
            policy("shop", "mine", "{podSelector: {}, policyTypes: [Ingress, Egress]}"),
        ],
        [ns_block("shop", {}), policy("shop", "mine", "{podSelector: {}, policyTypes: [Ingress]}")],
    ),
    "name-clash": (
        [ns_block("shop", {}), policy("shop", "allow-dns", "{podSelector: {}}")],
        [ns_block("shop", {}), policy("shop", "my-dns", "{podSelector: {}}")],
    ),
    "invalid-annotation": (
        [ns_block("shop", {"default-deny": "al"})],
        [ns_block("shop", {"default-deny": "all"})],
    ),
    "invalid-flow": (
        [
            ns_block(
                "shop", {"flows": "'[{from: {pods: {a: b}}, to: {pods: {c: d}}, ports: [99999]}]'"}
            )
        ],
        [
            ns_block(
                "shop", {"flows": "'[{from: {pods: {a: b}}, to: {pods: {c: d}}, ports: [9999]}]'"}
            )
        ],
    ),
    "deny-breaks-existing": (
        [
            ns_block("shop", {"default-deny": "all"}),
            pod("shop", "a", app="a"),
            pod("shop", "b", app="b"),
            policy(
                "shop",
                "b-from-a",
                "{podSelector: {matchLabels: {app: b}}, "
                "ingress: [{from: [{podSelector: {matchLabels: {app: a}}}]}]}",
            ),
        ],
        [
            ns_block("shop", {"default-deny": "ingress"}),
            pod("shop", "a", app="a"),
            pod("shop", "b", app="b"),
            policy(
                "shop",
                "b-from-a",
                "{podSelector: {matchLabels: {app: b}}, "
                "ingress: [{from: [{podSelector: {matchLabels: {app: a}}}]}]}",
            ),
        ],
    ),
    "unmanaged-namespace": (
        [pod("shop", "a", app="a")],
        [ns_block("shop", {}), pod("shop", "a", app="a")],
    ),
    "audit-would-block": (
        [ns_block("shop", {"mode": "audit"}), pod("shop", "a", app="a"), pod("shop", "b", app="b")],
        [
            ns_block("shop", {"mode": "enforce"}),
            pod("shop", "a", app="a"),
            pod("shop", "b", app="b"),
        ],
    ),
}


def rules_found(stream: list[str]) -> set[str]:
    docs = read_documents([("s.yaml", "---\n".join(stream))])
    return {p.rule for p in findings(docs, Config())}


@pytest.mark.parametrize("rule", sorted(CASES))
def test_the_rule_fires_on_its_cause_and_only_there(rule: str) -> None:
    tripped, fixed = CASES[rule]
    assert rule in rules_found(tripped)
    assert rule not in rules_found(fixed)


def test_every_rule_has_a_case() -> None:
    # elsewhere: stale-generated-policy in tests/security/test_forged_generated.py; the reading
    # problems (invalid-yaml, -config, -input) in tests/security/test_check_always_valid.py
    elsewhere = {"stale-generated-policy", "invalid-yaml", "invalid-config", "invalid-input"}
    elsewhere |= {"overridden-allow", "undecidable-peer"}  # tests/unit/checks/test_tiers.py
    elsewhere |= {"fqdn-without-dns-proxy"}  # tests/unit/checks/test_dns_proxy.py
    assert set(RULES) == {*CASES, *elsewhere}


def test_allow_from_namespaces_with_a_pod_label_is_consent() -> None:
    """`pay` lets shop's web pods in by `shop/app=web`: the flow is not half-open."""
    stream = [
        ns_block("shop", {"flows": FLOW}),
        ns_block("pay", {"default-deny": "ingress", "allow-from-namespaces": "shop/app=web"}),
        pod("shop", "web", app="web"),
        pod("pay", "api", app="api"),
    ]
    assert "half-open-flow" not in rules_found(stream)


def test_a_deny_of_some_pods_makes_a_flow_to_them_half_open() -> None:
    """`pay` denies ingress only to its api pods (default-deny-pods): a flow to them needs its
    consent, a flow to its other pods does not."""
    scoped = "'[{name: api, pods: {app: api}, deny: ingress}]'"
    other = ns_block("pay", {"default-deny": "none", "default-deny-pods": scoped})

    def flow(app: str) -> str:
        return (
            f"'[{{name: to-pay, from: {{pods: {{app: web}}}}, "
            f"to: {{namespace: pay, pods: {{app: {app}}}}}, ports: [443]}}]'"
        )

    world = [
        pod("shop", "web", app="web"),
        pod("pay", "api", app="api"),
        pod("pay", "ui", app="ui"),
    ]
    assert "half-open-flow" in rules_found(
        [ns_block("shop", {"flows": flow("api")}), other, *world]
    )
    assert "half-open-flow" not in rules_found(
        [ns_block("shop", {"flows": flow("ui")}), other, *world]
    )
