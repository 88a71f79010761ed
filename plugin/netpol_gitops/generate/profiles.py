"""Profiles every repository has without declaring them (a repo config profile of the same name
replaces one)."""

from __future__ import annotations

from typing import Any

from netpol_gitops.errors import Problem
from netpol_gitops.generate.flows import parse_flows
from netpol_gitops.model.intent import Config, Flow
from netpol_gitops.model.location import Location

# What a deny of every pod breaks in an Istio sidecar mesh, and nothing more: each sidecar
# (istio-proxy) fetches its configuration (xDS) and its workload certificate (CA) from istiod on
# 15012/tcp (Istio's "Ports used by Istio": gRPC XDS and CA services, TLS). Without it the
# sidecars never become ready. Not included, on purpose: 15010 (the same over plaintext, off
# by default), 15017 and 443 (istiod's webhooks, called by the API server in istio-system),
# 15020/15090 (metrics, for whoever scrapes them: a flow from the scraper), 15021 and the
# rewritten probes (the kubelet's, from the node, which NetworkPolicy always admits), 15008
# (HBONE, ambient mode), 15000/15004/15053 (inside the pod).
BUILTIN: dict[str, list[dict[str, Any]]] = {
    "istio": [
        {
            "name": "sidecar-to-istiod",
            "from": {"pods": {}},
            "to": {"namespace": "istio-system", "pods": {"app": "istiod"}},
            "ports": ["15012/tcp"],
        },
    ],
}


def profile_flows(
    name: str, config: Config, loc: Location, problems: list[Problem]
) -> tuple[Flow, ...] | None:
    """The flows of profile ``name``: the repo config's, else the built-in one (located at
    ``loc``, where it is named); None when there is neither."""
    declared = config.profile(name)
    if declared is not None:
        return declared
    if name not in BUILTIN:
        return None
    return parse_flows(
        BUILTIN[name], lambda _p, _k: loc, f"built-in profile {name}", problems, f"{name}-"
    )


def profile_names(config: Config) -> list[str]:
    return sorted({*(n for n, _ in config.profiles), *BUILTIN})
