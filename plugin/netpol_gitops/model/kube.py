"""Kubernetes and netpol-gitops constants, one copy each, and the default-policyTypes rule."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PREFIX = "netpol-gitops.io/"  # every netpol-gitops annotation starts with it
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "netpol-gitops"
SOURCE_ANNOTATION = PREFIX + "generated-from"
NS_NAME_LABEL = "kubernetes.io/metadata.name"  # the label the API server puts on each Namespace
SYSTEM_NAMESPACES = ("kube-system", "kube-public", "kube-node-lease")

Labels = tuple[tuple[str, str], ...]

# The kinds a flavor emits beside NetworkPolicy (generate/cilium.py, generate/calico.py): (kind,
# apiVersion). Generated objects of these kinds carry the managed-by label like NetworkPolicies.
CILIUM_POLICY = ("CiliumNetworkPolicy", "cilium.io/v2")
STAGED_POLICY = ("StagedKubernetesNetworkPolicy", "projectcalico.org/v3")
FLAVOR_KINDS = frozenset(kind for kind, _ in (CILIUM_POLICY, STAGED_POLICY))
GENERATED_KINDS = frozenset({"NetworkPolicy", *FLAVOR_KINDS})


def object_key(kind: str, namespace: str, name: str) -> str:
    """How a generated object is named in reports: ``namespace/name`` for a NetworkPolicy,
    ``namespace/name[Kind]`` for another kind (a CiliumNetworkPolicy may share a name)."""
    return f"{namespace}/{name}" if kind == "NetworkPolicy" else f"{namespace}/{name}[{kind}]"


def policy_types(spec: Mapping[str, Any]) -> Any:
    """A NetworkPolicy spec's policyTypes, defaulted as the API server defaults them when none
    are given (missing, null or empty): Ingress, plus Egress when the spec has egress rules.
    Given ones are returned as they are (validated by whoever reads them)."""
    return spec.get("policyTypes") or (["Ingress"] + (["Egress"] if spec.get("egress") else []))
