"""fqdn-without-dns-proxy (flavor cilium): toFQDNs without the DNS-proxy rule that makes it work."""

from __future__ import annotations

from netpol_gitops.checks.gate import findings
from netpol_gitops.generate.config import parse_config
from netpol_gitops.model.intent import Config
from netpol_gitops.yaml.stream import read_documents, split_stream

CILIUM = parse_config(
    split_stream(
        "apiVersion: netpol-gitops.io/v1alpha1\nkind: NetworkPolicyGenerator\n"
        "spec: {flavor: cilium}\n",
        "config.yaml",
    )[0]
)
NS = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n"
NAMES = """---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: to-stripe, namespace: shop}
spec:
  endpointSelector: {matchLabels: {app: api}}
  egress:
  - toFQDNs: [{matchName: api.stripe.com}]
    toPorts: [{ports: [{port: "443", protocol: TCP}]}]
"""
PROXY = """---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: dns-visibility, namespace: shop}
spec:
  endpointSelector: {SELECTOR}
  egress:
  - toEndpoints: [{matchLabels: {"k8s:io.kubernetes.pod.namespace": kube-system}}]
    toPorts: [{ports: [{port: "53", protocol: ANY}], rules: {dns: [{matchPattern: "*"}]}}]
"""


def rules(stream: str, config: Config = CILIUM) -> list[str]:
    found = findings(read_documents([("in.yaml", stream)]), config)
    return [
        f"{f.location.prefix()} {f.rule}: {f.message}"
        for f in found
        if f.rule == "fqdn-without-dns-proxy"
    ]


def test_to_fqdns_without_a_dns_rule_is_a_located_warning() -> None:
    assert rules(NS + NAMES) == [
        "in.yaml:8:18 fqdn-without-dns-proxy: CiliumNetworkPolicy shop/to-stripe allows egress "
        "to DNS names (toFQDNs) and so denies its pods' other egress, but no "
        "CiliumNetworkPolicy of namespace shop sends their lookups through Cilium's DNS proxy, "
        "so the names are never resolved to addresses it allows; add an egress rule to the DNS "
        'pods with toPorts[].rules.dns: [{matchPattern: "*"}]'
    ]


def test_a_dns_rule_for_every_pod_or_the_same_pods_is_enough() -> None:
    assert rules(NS + NAMES + PROXY.replace("{SELECTOR}", "{}")) == []
    assert rules(NS + NAMES + PROXY.replace("{SELECTOR}", "{matchLabels: {app: api}}")) == []
    other = PROXY.replace("{SELECTOR}", "{matchLabels: {app: web}}")
    assert len(rules(NS + NAMES + other)) == 1  # other pods' lookups do not count


def test_only_under_flavor_cilium() -> None:
    assert rules(NS + NAMES, Config()) == []


def test_generated_fqdn_policies_carry_their_dns_rule() -> None:
    ns = NS + (
        "  annotations:\n    netpol-gitops.io/flows: "
        "'[{from: {pods: {app: api}}, to: {fqdn: api.stripe.com}, ports: [443]}]'\n"
    )
    assert rules(ns) == []
