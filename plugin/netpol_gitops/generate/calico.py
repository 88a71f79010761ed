"""Flavor ``calico``: ``mode: audit`` as StagedKubernetesNetworkPolicy (projectcalico.org/v3).
Pure.

Calico evaluates a staged policy against live traffic and reports what it would do (flow logs,
the policy board) without enforcing it. ``stagedAction: Set`` stages the policy as it is; the
spec is otherwise a Kubernetes NetworkPolicy spec, so switching the namespace to ``enforce``
turns each staged policy into the NetworkPolicy of the same name and spec.
"""

from __future__ import annotations

from typing import Any

from netpol_gitops.model.kube import STAGED_POLICY


def staged(policy: dict[str, Any]) -> dict[str, Any]:
    """The enforce-mode NetworkPolicy ``policy`` as a staged policy of the same name."""
    kind, api_version = STAGED_POLICY
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": policy["metadata"],
        "spec": {**policy["spec"], "stagedAction": "Set"},
    }


def unstaged(policy: dict[str, Any]) -> dict[str, Any]:
    """The NetworkPolicy a staged policy stands for (the inverse of ``staged``)."""
    spec = {k: v for k, v in policy["spec"].items() if k != "stagedAction"}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": policy["metadata"],
        "spec": spec,
    }
