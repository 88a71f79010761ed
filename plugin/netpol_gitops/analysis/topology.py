"""The analysis input: workloads (one per owner), namespaces with their labels, policies."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from netpol_gitops.analysis.cilium import compile_cilium
from netpol_gitops.analysis.cluster import ClusterPolicy, compile_cluster_policy, is_cluster_policy
from netpol_gitops.analysis.model import Policy, Workload
from netpol_gitops.analysis.objects import compile_policy, workload
from netpol_gitops.errors import Problem
from netpol_gitops.model.kube import CILIUM_POLICY, NS_NAME_LABEL

# The workloads of core Kubernetes, by kind and the one apiVersion the API serves them as. A
# custom resource of the same kind (OpenKruise's apps.kruise.io DaemonSet, Volcano's
# batch.volcano.sh Job) is not one: its spec is its own, and the analysis ignores it.
WORKLOAD_API_VERSIONS = {
    "Pod": "v1",
    "ReplicationController": "v1",
    "Deployment": "apps/v1",
    "StatefulSet": "apps/v1",
    "DaemonSet": "apps/v1",
    "ReplicaSet": "apps/v1",
    "Job": "batch/v1",
    "CronJob": "batch/v1",
}
WORKLOAD_KINDS = frozenset(WORKLOAD_API_VERSIONS)


def is_workload(obj: dict[str, Any]) -> bool:
    """Whether the object is a core workload (its kind and apiVersion both)."""
    kind = obj.get("kind")
    return isinstance(kind, str) and WORKLOAD_API_VERSIONS.get(kind) == obj.get("apiVersion")


def _enforced(obj: dict[str, Any]) -> bool:
    """A generated object that the analysis counts among NetworkPolicies: a NetworkPolicy or a
    CiliumNetworkPolicy; a staged policy (flavor calico, audit) enforces nothing."""
    return obj.get("kind") in ("NetworkPolicy", CILIUM_POLICY[0])


def _compiled(obj: dict[str, Any]) -> Policy:
    return compile_cilium(obj) if obj.get("kind") == CILIUM_POLICY[0] else compile_policy(obj)


Made = TypeVar("Made")


class ByObject:
    """What was made from an object (a policy compiled, a workload read), by the object's
    identity: the two revisions of a review share their unchanged documents' objects, and the
    generated policies of their unchanged Namespaces, so each is made once. The object is kept
    with what was made from it (its id is never reused meanwhile); what is made is immutable
    (frozen dataclasses), so sharing it is safe."""

    def __init__(self) -> None:
        self._made: dict[int, tuple[object, Any]] = {}

    def get(self, obj: dict[str, Any], make: Callable[[dict[str, Any]], Made]) -> Made:
        hit = self._made.get(id(obj))
        if hit is None or hit[0] is not obj:
            hit = self._made[id(obj)] = (obj, make(obj))
        made: Made = hit[1]
        return made

    def clear(self) -> None:
        """Forget everything (and let go of the objects)."""
        self._made.clear()


@dataclass
class Topology:
    """What the analysis reads from the input: workloads, namespace labels and policies."""

    workloads: list[Workload] = field(default_factory=list)
    namespaces: dict[str, dict[str, str]] = field(default_factory=dict)
    policies: list[Policy] = field(default_factory=list)
    # AdminNetworkPolicy, BaselineAdminNetworkPolicy and ClusterNetworkPolicy, as read
    cluster_policies: list[ClusterPolicy] = field(default_factory=list)

    _seen: set[tuple[str, str, str]] = field(default_factory=set)
    # what the analysis could not decide and skipped (a nodes or domainNames peer), located
    warnings: list[Problem] = field(default_factory=list)
    # policies and workloads made once per object across the topologies that share it
    memo: ByObject | None = field(default=None, repr=False, compare=False)

    def _made(self, obj: dict[str, Any], make: Callable[[dict[str, Any]], Made]) -> Made:
        return self.memo.get(obj, make) if self.memo is not None else make(obj)

    def namespace_labels(self, name: str) -> dict[str, str]:
        return self.namespaces.get(name) or {NS_NAME_LABEL: name}

    def with_policies(self, objects: Sequence[dict[str, Any]]) -> Topology:
        """A copy with the same workloads and namespaces and these NetworkPolicies (and cluster
        policies) added; it shares no container with this one (adding to either leaves the other
        as it was)."""
        return Topology(
            list(self.workloads),
            {name: dict(labels) for name, labels in self.namespaces.items()},
            [*self.policies, *(self._made(o, _compiled) for o in objects if _enforced(o))],
            [
                *self.cluster_policies,
                *(self._made(o, compile_cluster_policy) for o in objects if is_cluster_policy(o)),
            ],
            set(self._seen),
            list(self.warnings),
            self.memo,
        )

    def add(self, obj: dict[str, Any]) -> None:
        kind = obj.get("kind")
        if kind == "Namespace":
            meta = obj.get("metadata") or {}
            name = str(meta.get("name"))
            labels = {str(k): str(v) for k, v in (meta.get("labels") or {}).items()}
            self.namespaces[name] = {**labels, NS_NAME_LABEL: name}
        elif kind == "NetworkPolicy":
            self.policies.append(self._made(obj, compile_policy))
        elif kind == CILIUM_POLICY[0]:  # generated (documents.reads passes none of the input)
            self.policies.append(self._made(obj, compile_cilium))
        elif is_cluster_policy(obj):
            self.cluster_policies.append(self._made(obj, compile_cluster_policy))
        elif is_workload(obj):
            w = self._made(obj, workload)
            if w is not None and (w.namespace, w.name, w.kind) not in self._seen:
                self._seen.add((w.namespace, w.name, w.kind))
                self.workloads.append(w)
