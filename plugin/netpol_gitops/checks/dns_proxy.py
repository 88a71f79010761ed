"""``fqdn-without-dns-proxy`` (flavor cilium): a CiliumNetworkPolicy's ``toFQDNs`` without the
DNS-proxy rule that makes it work. Pure."""

from __future__ import annotations

from typing import Any

from netpol_gitops.checks.rules import HandWritten, Repo, finding
from netpol_gitops.errors import Problem
from netpol_gitops.model.intent import Flavor
from netpol_gitops.model.kube import CILIUM_POLICY


def _names_dns(spec: dict[str, Any]) -> tuple[bool, bool]:
    """Whether a CiliumNetworkPolicy spec has egress to DNS names, and a DNS-proxy rule."""
    rules = [r for r in spec.get("egress") or () if isinstance(r, dict)]
    names = any(r.get("toFQDNs") for r in rules)
    proxy = any(
        isinstance(p, dict) and (p.get("rules") or {}).get("dns")
        for r in rules
        for p in r.get("toPorts") or ()
    )
    return names, proxy


def dns_proxy(repo: Repo) -> list[Problem]:
    """Warnings (flavor cilium): a CiliumNetworkPolicy with toFQDNs whose pods no
    CiliumNetworkPolicy of their namespace (selecting them all, or the same pods) sends through
    Cilium's DNS proxy. The policy denies those pods' other egress, and toFQDNs only learns the
    addresses of names whose lookups the proxy saw, so the names are never reached."""
    if repo.config.flavor is not Flavor.CILIUM:
        return []
    intents = {i.name: i for i in repo.intents}
    generated = [
        HandWritten(
            p["metadata"]["namespace"],
            p["metadata"]["name"],
            p["spec"],
            intents[p["metadata"]["namespace"]].location,
        )
        for p in repo.generated
        if p["kind"] == CILIUM_POLICY[0] and p["metadata"]["namespace"] in intents
    ]
    every = [*repo.cilium, *generated]
    proxied = [
        (c.namespace, c.spec.get("endpointSelector") or {}) for c in every if _names_dns(c.spec)[1]
    ]
    found = []
    for c in repo.cilium:
        selector = c.spec.get("endpointSelector") or {}
        if not _names_dns(c.spec)[0] or any(
            ns == c.namespace and sel in ({}, selector) for ns, sel in proxied
        ):
            continue
        found.append(
            finding(
                "fqdn-without-dns-proxy",
                c.location,
                f"CiliumNetworkPolicy {c.namespace}/{c.name} allows egress to DNS names "
                "(toFQDNs) and so denies its pods' other egress, but no CiliumNetworkPolicy of "
                f"namespace {c.namespace} sends their lookups through Cilium's DNS proxy, so "
                "the names are never resolved to addresses it allows; add an egress rule to the "
                'DNS pods with toPorts[].rules.dns: [{matchPattern: "*"}]',
            )
        )
    return found
