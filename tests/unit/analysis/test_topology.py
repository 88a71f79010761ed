"""ByObject makes what an object yields once per object (identity, never equality), and a
topology that carries it hands the same policy and workload to every revision sharing the
object."""

from __future__ import annotations

from typing import Any

from netpol_gitops.analysis.documents import topology_of
from netpol_gitops.analysis.topology import ByObject, Topology
from netpol_gitops.yaml.stream import split_stream

POLICY = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "NetworkPolicy",
    "metadata": {"name": "deny", "namespace": "shop"},
    "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
}
POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
    "spec": {"containers": [{"name": "c", "ports": [{"containerPort": 80}]}]},
}


def test_made_once_per_object_and_again_for_an_equal_copy() -> None:
    memo, calls = ByObject(), []

    def make(obj: dict[str, Any]) -> str:
        calls.append(obj)
        return str(len(calls))

    a, b = {"x": 1}, {"x": 1}
    assert memo.get(a, make) == memo.get(a, make) == "1"
    assert memo.get(b, make) == "2"  # equal, not the same: made afresh
    memo.clear()
    assert memo.get(a, make) == "3"


def test_revisions_sharing_objects_share_what_is_made_of_them() -> None:
    memo = ByObject()
    first, second = Topology(memo=memo), Topology(memo=memo)
    for topo in (first, second):
        topo.add(POLICY)
        topo.add(POD)
    assert first.policies[0] is second.policies[0]
    assert first.workloads[0] is second.workloads[0]
    extra = {**POLICY, "metadata": {"name": "other", "namespace": "shop"}}
    a, b = first.with_policies([extra]), second.with_policies([extra])
    assert a.policies[1] is b.policies[1] and a.memo is memo
    # without a memo, each topology makes its own (equal) ones
    alone = Topology()
    alone.add(POLICY)
    assert alone.policies[0] == first.policies[0] and alone.policies[0] is not first.policies[0]


def test_a_merge_key_is_merged_as_kubectl_merges_it() -> None:
    """Labels given through ``<<`` are the pod's labels: the partial readers (pruned, blockscan)
    do not merge, so such a document is built whole."""
    text = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\n"
        "spec:\n  template:\n    metadata:\n      labels:\n        <<: {app: web, tier: front}\n"
        "        team: a\n    spec:\n      containers:\n      - name: c\n        ports:\n"
        "        - containerPort: 80\n"
    )
    docs = split_stream(text, "d.yaml")
    for keep in (False, True):
        (found,) = topology_of(docs, keep=keep).workloads
        assert dict(found.labels) == {"app": "web", "tier": "front", "team": "a"}
