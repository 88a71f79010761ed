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


def policy_types(spec: Mapping[str, Any]) -> Any:
    """A NetworkPolicy spec's policyTypes, defaulted as the API server defaults them when none
    are given (missing, null or empty): Ingress, plus Egress when the spec has egress rules.
    Given ones are returned as they are (validated by whoever reads them)."""
    return spec.get("policyTypes") or (["Ingress"] + (["Egress"] if spec.get("egress") else []))
