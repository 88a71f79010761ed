"""The PR report with flavors: flavor objects in the policy diff (keyed apart from a
NetworkPolicy of the same name), fqdn peers in the connections, and what enforcing an audited
namespace would block."""

from __future__ import annotations

import json

from netpol_gitops.output.report import report_json
from netpol_gitops.output.report_markdown import to_markdown
from netpol_gitops.review.compare import Diff, compare
from netpol_gitops.review.side import Revision, side
from netpol_gitops.yaml.stream import split_stream

CONFIG = (
    "apiVersion: netpol-gitops.io/v1alpha1\nkind: NetworkPolicyGenerator\nspec: {flavor: cilium}\n"
)
PODS = """---
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: shop, labels: {app: api}}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
"""


def namespace(annotations: str) -> str:
    return (
        f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  annotations:\n{annotations}"
    )


FLOWS = (
    "    netpol-gitops.io/flows: '[{name: out, from: {pods: {app: api}}, "
    "to: [{fqdn: api.stripe.com}, {cidr: 10.20.0.0/16}], ports: [443]}]'\n"
)


def diff(base: str, head: str) -> Diff:
    def revision(sha: str, text: str) -> Revision:
        cfg = split_stream(CONFIG, ".netpol-gitops.yaml")[0]
        return Revision(sha, [(cfg, split_stream(text + PODS, "ns.yaml"))])

    return compare(side(revision("a" * 40, base)), side(revision("b" * 40, head)))


def test_flavor_objects_are_in_the_policy_diff_keyed_by_kind() -> None:
    d = diff(namespace("    netpol-gitops.io/default-deny: all\n"), namespace(FLOWS))
    assert d.policies_added == [
        "shop/CiliumNetworkPolicy/allow-out-egress",
        "shop/allow-out-egress",
    ]
    text = d.policy_diffs["shop/CiliumNetworkPolicy/allow-out-egress"]
    assert "+kind: CiliumNetworkPolicy" in text
    assert "+    - matchName: api.stripe.com" in text
    lines = [f"{c.src} => {c.dst}" for c in d.connections if c.kind == "added"]
    assert "shop/api[Pod] => api.stripe.com[FQDN]" in lines
    md = to_markdown(d)
    assert "+kind: CiliumNetworkPolicy" in md
    assert "- 🌐 `shop`: `api` may now reach api.stripe.com[FQDN] (TCP 443)" in md


def test_the_report_says_what_enforcing_an_audited_namespace_would_block() -> None:
    d = diff(namespace(FLOWS), namespace("    netpol-gitops.io/mode: audit\n" + FLOWS))
    n, found = d.audit["shop"]
    # api and web: to each other (2), from the outside (2), to the outside cut at 10.20.0.0/16
    # (3 ranges each: 6) and to api.stripe.com[FQDN] (2)
    assert n == 12
    assert [f"{c.src} => {c.dst}" for c in found][:2] == [
        "0.0.0.0-255.255.255.255[External] => shop/api[Pod]",
        "0.0.0.0-255.255.255.255[External] => shop/web[Pod]",
    ]
    assert d.policies_removed  # audit generates nothing under cilium
    report = json.loads(report_json(d))
    audit = [f for f in report["findings"] if f["rule"] == "audit-would-block"]
    assert audit[0]["message"] == (
        "namespace shop is in audit mode: enforcing it would block or narrow 12 connections"
    )
    assert audit[0]["examples"][0] == (
        "0.0.0.0-255.255.255.255[External] => shop/api[Pod] : All Connections"
    )
    md = to_markdown(d)
    assert "🔍 `shop` is in audit mode (nothing enforced): enforcing it would block" in md
