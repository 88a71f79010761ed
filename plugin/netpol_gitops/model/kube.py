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


def policy_types(spec: Mapping[str, Any]) -> Any:
    """A NetworkPolicy spec's policyTypes, defaulted as the API server defaults them when none
    are given (missing, null or empty): Ingress, plus Egress when the spec has egress rules.
    Given ones are returned as they are (validated by whoever reads them)."""
    return spec.get("policyTypes") or (["Ingress"] + (["Egress"] if spec.get("egress") else []))


# ------------------------------------------------------------------ generated objects
# The kinds the generator emits (any flavor, the cluster baseline included). An input object of
# one of them that carries the managed-by label claims to be ours from an earlier run: it is
# classified against what is generated now and replaced, never duplicated.
GENERATED_KINDS = frozenset({"NetworkPolicy", "ClusterNetworkPolicy", *FLAVOR_KINDS})
# Of those, the cluster-scoped ones: they have no metadata.namespace (none is defaulted).
CLUSTER_SCOPED_KINDS = frozenset({"ClusterNetworkPolicy"})
NETWORK_POLICY = "NetworkPolicy"  # the one kind keyed without its kind (``namespace/name``)


def object_namespace(obj: Mapping[str, Any], default_namespace: str = "default") -> str:
    """An object's namespace; ``""`` for a cluster-scoped kind (whatever its metadata says)."""
    if obj.get("kind") in CLUSTER_SCOPED_KINDS:
        return ""
    meta = obj.get("metadata")
    namespace = meta.get("namespace") if isinstance(meta, Mapping) else None
    return str(namespace or default_namespace)


def object_key(kind: str, namespace: str, name: str) -> str:
    """How an object is keyed and shown in reports: ``namespace/name`` for a NetworkPolicy,
    ``namespace/Kind/name`` for another namespaced kind, ``Kind/name`` for a cluster-scoped one.
    The first part is the namespace unless it is a kind (kinds start with a capital letter;
    namespace names cannot)."""
    if not namespace:
        return f"{kind}/{name}"
    if kind == NETWORK_POLICY:
        return f"{namespace}/{name}"
    return f"{namespace}/{kind}/{name}"


def key_of(obj: Mapping[str, Any], default_namespace: str = "default") -> str:
    """``object_key`` of an object."""
    meta = obj.get("metadata")
    name = meta.get("name") if isinstance(meta, Mapping) else None
    return object_key(str(obj.get("kind")), object_namespace(obj, default_namespace), str(name))


def key_namespace(key: str) -> str | None:
    """The namespace of an ``object_key``; None for a cluster-scoped object."""
    first = key.split("/", 1)[0]
    return None if first[:1].isupper() else first


def object_order(obj: Mapping[str, Any]) -> tuple[str, str, str]:
    """The order of generated objects: by namespace (cluster-scoped ones first), name, kind."""
    meta = obj["metadata"]
    return (str(meta.get("namespace") or ""), str(meta["name"]), str(obj["kind"]))


def key_text(key: str) -> str:
    """An ``object_key`` for messages: ``NetworkPolicy shop/web``, ``ClusterNetworkPolicy
    baseline-shop``, ``CiliumNetworkPolicy shop/web``."""
    parts = key.split("/")
    if len(parts) == 3:  # namespace/Kind/name
        return f"{parts[1]} {parts[0]}/{parts[2]}"
    if key_namespace(key) is None:
        return f"{parts[0]} {parts[1]}"
    return f"{NETWORK_POLICY} {key}"
