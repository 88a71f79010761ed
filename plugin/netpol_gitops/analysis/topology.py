"""The analysis input: workloads (one per owner), namespaces with their labels, policies."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

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

    def namespace_labels(self, name: str) -> dict[str, str]:
        return self.namespaces.get(name) or {NS_NAME_LABEL: name}

    def with_policies(self, objects: Sequence[dict[str, Any]]) -> Topology:
        """A copy with the same workloads and namespaces and these NetworkPolicies (and cluster
        policies) added; it shares no container with this one (adding to either leaves the other
        as it was)."""
        return Topology(
            list(self.workloads),
            {name: dict(labels) for name, labels in self.namespaces.items()},
            [*self.policies, *(_compiled(o) for o in objects if _enforced(o))],
            [
                *self.cluster_policies,
                *(compile_cluster_policy(o) for o in objects if is_cluster_policy(o)),
            ],
            set(self._seen),
            list(self.warnings),
        )

    def add(self, obj: dict[str, Any]) -> None:
        kind = obj.get("kind")
        if kind == "Namespace":
            meta = obj.get("metadata") or {}
            name = str(meta.get("name"))
            labels = {str(k): str(v) for k, v in (meta.get("labels") or {}).items()}
            self.namespaces[name] = {**labels, NS_NAME_LABEL: name}
        elif kind == "NetworkPolicy":
            self.policies.append(compile_policy(obj))
        elif kind == CILIUM_POLICY[0]:  # generated (documents.reads passes none of the input)
            self.policies.append(compile_cilium(obj))
        elif is_cluster_policy(obj):
            self.cluster_policies.append(compile_cluster_policy(obj))
        elif is_workload(obj):
            w = workload(obj)
            if w is not None and (w.namespace, w.name, w.kind) not in self._seen:
                self._seen.add((w.namespace, w.name, w.kind))
                self.workloads.append(w)
