"""The cluster baseline (config clusterBaseline): what it generates, that the ClusterNetworkPolicy
CRD accepts it, that it changes nothing while the namespaces' own policies exist, and that each
namespace keeps its own denies when they are deleted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ruamel.yaml import YAML

from netpol_gitops.generate.baseline import baseline
from netpol_gitops.model.intent import Config, Deny, DnsConfig, Mode, NamespaceIntent, PortSpec
from netpol_gitops.model.location import Location
from tests.helpers import GOLDEN, cli, require_shared

LOAD = YAML(typ="safe")
CONFIG = """apiVersion: netpol-gitops.io/v1alpha1
kind: NetworkPolicyGenerator
spec: {clusterBaseline: true}
"""
SHOP = "{}"
BATCH = "{netpol-gitops.io/default-deny: egress}"
# flows that open what the denies close, in and between the namespaces
SHOP_FLOWS = """
    netpol-gitops.io/flows: |
      - {from: {namespace: web}, to: {pods: {app: api}}, ports: [8080]}
      - {from: {pods: {app: api}}, to: {namespace: batch}, ports: [8080]}"""
BATCH_FLOWS = """
    netpol-gitops.io/default-deny: egress
    netpol-gitops.io/flows: "[{from: {pods: {app: job}}, to: {namespace: legacy}}]"
"""


def namespaces(shop: str = SHOP, batch: str = BATCH) -> str:
    """shop denies all, web ingress, batch egress; legacy is off."""
    return f"""apiVersion: v1
kind: Namespace
metadata:
  name: shop
  annotations: {shop}
---
apiVersion: v1
kind: Namespace
metadata: {{name: web, annotations: {{netpol-gitops.io/default-deny: ingress}}}}
---
apiVersion: v1
kind: Namespace
metadata:
  name: batch
  annotations: {batch}
---
apiVersion: v1
kind: Namespace
metadata: {{name: legacy, annotations: {{netpol-gitops.io/mode: "off"}}}}
"""


NAMESPACES = namespaces()
PODS = "".join(
    f"""---
apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: {ns}, labels: {{{label}: {name}}}}}
spec: {{containers: [{{name: c, image: i, ports: [{{containerPort: {port}, protocol: {proto}}}]}}]}}
"""
    for ns, name, label, port, proto in [
        ("shop", "api", "app", 8080, "TCP"),
        ("web", "front", "app", 8080, "TCP"),
        ("batch", "job", "app", 8080, "TCP"),
        ("legacy", "old", "app", 8080, "TCP"),
        ("kube-system", "kube-dns", "k8s-app", 53, "UDP"),
    ]
)


def _write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _reach(path: str, *args: str) -> list[str]:
    run = cli("reach", path, *args)
    assert run.code == 0, run.stderr
    return run.stdout.splitlines()


def _generated(path: str, config: str) -> list[dict[str, Any]]:
    run = cli("render", path, "--only-generated", "--config", config, "-o", "json")
    assert run.code == 0, run.stderr
    return list(json.loads(run.stdout))


def _intent(deny: Deny, mode: Mode = Mode.ENFORCE, allow_dns: bool = True) -> NamespaceIntent:
    return NamespaceIntent("shop", mode, deny, allow_dns, False, (), (), (), Location("t"))


# ----------------------------------------------------------------------------- what it is
@pytest.mark.parametrize(
    ("deny", "ingress", "egress"),
    [
        (Deny.ALL, ["deny-ingress"], ["accept-dns", "deny-egress"]),
        (Deny.INGRESS, ["deny-ingress"], None),
        (Deny.EGRESS, None, ["accept-dns", "deny-egress"]),
    ],
)
def test_only_the_directions_the_namespace_denies(
    deny: Deny, ingress: list[str] | None, egress: list[str] | None
) -> None:
    obj = baseline(_intent(deny), Config(cluster_baseline=True))
    assert obj is not None
    spec = obj["spec"]
    assert (spec["tier"], spec["priority"]) == ("Baseline", 1000)
    assert spec["subject"] == {
        "namespaces": {"matchLabels": {"kubernetes.io/metadata.name": "shop"}}
    }
    names = {d: [r["name"] for r in spec[d]] if d in spec else None for d in ("ingress", "egress")}
    assert names == {"ingress": ingress, "egress": egress}


@pytest.mark.parametrize(
    "intent",
    [_intent(Deny.NONE), _intent(Deny.ALL, Mode.OFF), _intent(Deny.ALL, Mode.AUDIT)],
    ids=["deny-none", "off", "audit"],
)
def test_no_subject_without_an_enforced_deny(intent: NamespaceIntent) -> None:
    assert baseline(intent, Config(cluster_baseline=True)) is None


def test_dns_follows_allow_dns_and_the_dns_config() -> None:
    dns = DnsConfig(
        "dns-system",
        (("app", "coredns"),),
        (PortSpec("UDP", 53), PortSpec("TCP", 5300, 5310), PortSpec("UDP", "dns")),
        "fd00::10",
    )
    obj = baseline(_intent(Deny.EGRESS), Config(dns=dns, name_prefix="np-"))
    assert obj is not None
    assert obj["metadata"]["name"] == "np-baseline-shop"
    assert obj["spec"]["egress"][0] == {
        "name": "accept-dns",
        "action": "Accept",
        "to": [
            {
                "pods": {
                    "namespaceSelector": {
                        "matchLabels": {"kubernetes.io/metadata.name": "dns-system"}
                    },
                    "podSelector": {"matchLabels": {"app": "coredns"}},
                }
            },
            {"networks": ["fd00::10/128"]},
        ],
        "protocols": [
            {"udp": {"destinationPort": {"number": 53}}},
            {"tcp": {"destinationPort": {"range": {"start": 5300, "end": 5310}}}},
            {"destinationNamedPort": "dns"},
        ],
    }
    closed = baseline(_intent(Deny.EGRESS, allow_dns=False), Config())
    assert closed is not None
    assert [r["name"] for r in closed["spec"]["egress"]] == ["deny-egress"]


# ------------------------------------------------------------------------ the CRD accepts it
def _closed(s: Any) -> Any:
    """Object schemas closed, as the API server prunes or rejects unknown fields (see
    ../shared/vendor/crds/README.md)."""
    if isinstance(s, list):
        return [_closed(x) for x in s]
    if not isinstance(s, dict):
        return s
    s = {k: _closed(v) for k, v in s.items()}
    if s.get("type") == "object" and "properties" in s:
        s.setdefault("additionalProperties", False)
    return s


def test_every_baseline_validates_against_the_crd(tmp_path: Path) -> None:
    crd_path = require_shared(
        "vendor",
        "crds",
        "network-policy-api-v0.2.0",
        "standard",
        "policy.networking.k8s.io_clusternetworkpolicies.yaml",
    )
    crd = LOAD.load(crd_path.read_text())
    (version,) = crd["spec"]["versions"]
    schema = _closed(version["schema"]["openAPIV3Schema"])
    check = jsonschema.Draft4Validator(schema)
    case = GOLDEN / "cluster-baseline"
    objects = [d for d in LOAD.load_all((case / "expected.yaml").read_text()) if d]
    ours = [o for o in objects if o["kind"] == "ClusterNetworkPolicy" and "labels" in o["metadata"]]
    dns = DnsConfig(
        ports=(PortSpec("UDP", 53), PortSpec("TCP", 5300, 5310), PortSpec("UDP", "dns"))
    )
    extra = baseline(_intent(Deny.ALL), Config(dns=dns))
    assert len(ours) == 3 and extra is not None
    for obj in [*ours, extra]:
        assert [e.message for e in check.iter_errors(obj)] == [], obj["metadata"]["name"]
    # the validator is not blind: the v1alpha1 spelling of an action is refused
    wrong = json.loads(json.dumps(extra).replace('"Accept"', '"Allow"'))
    assert list(check.iter_errors(wrong))


# ---------------------------------------------------------------- what it does (reach --generate)
def test_reach_with_the_baseline_equals_reach_without(tmp_path: Path) -> None:
    """While the namespaces' own policies exist the baseline decides nothing: they isolate
    every direction it denies, and it denies no other (web keeps its egress, batch its
    ingress, legacy everything)."""
    app = _write(tmp_path, "app.yaml", namespaces(SHOP_FLOWS, BATCH_FLOWS) + PODS)
    config = _write(tmp_path, "config.yaml", CONFIG)
    kinds = {o["kind"] for o in _generated(app, config)}
    assert kinds == {"NetworkPolicy", "ClusterNetworkPolicy"}
    without = _reach(app, "--generate")
    assert _reach(app, "--generate", "--config", config) == without
    assert "web/front[Pod] => legacy/old[Pod] : All Connections" in without  # open egress
    assert "web/front[Pod] => shop/api[Pod] : TCP 8080" in without  # a flow's allow
    assert "batch/job[Pod] => legacy/old[Pod] : All Connections" in without


def test_an_egress_deny_for_an_ingress_only_namespace_would_change_reach(tmp_path: Path) -> None:
    """The test above can fail: a blanket baseline (egress denied for web too) cuts web's
    egress, which its own policies leave open."""
    app = _write(tmp_path, "app.yaml", NAMESPACES + PODS)
    config = _write(tmp_path, "config.yaml", CONFIG)
    web = next(o for o in _generated(app, config) if o["metadata"]["name"] == "baseline-web")
    web["metadata"] = {"name": "blanket-web"}  # hand-written: not replaced
    web["spec"]["egress"] = [{"action": "Deny", "to": [{"namespaces": {}}]}]
    both = _write(tmp_path, "both.yaml", NAMESPACES + PODS + _stream([web]))
    with_blanket = _reach(both, "--generate")
    assert with_blanket != _reach(app, "--generate")
    assert not any(line.startswith("web/front[Pod] => legacy") for line in with_blanket)


def _stream(objects: list[dict[str, Any]]) -> str:
    return "".join("---\n" + json.dumps(o) + "\n" for o in objects)


def test_with_their_policies_deleted_each_namespace_keeps_its_own_denies(tmp_path: Path) -> None:
    """Only the ClusterNetworkPolicies applied: every in-cluster connection is what the
    namespaces' own policies give (shop: nothing in, DNS out; web: nothing in; batch: DNS out;
    legacy: everything). From outside the cluster, the baseline cannot deny ingress (a
    ClusterNetworkPolicy has no ingress peer for addresses): those lines are the difference."""
    app = _write(tmp_path, "app.yaml", NAMESPACES + PODS)
    config = _write(tmp_path, "config.yaml", CONFIG)
    generated = _generated(app, config)
    cluster = [o for o in generated if o["kind"] == "ClusterNetworkPolicy"]
    assert sorted(o["metadata"]["name"] for o in cluster) == [
        "baseline-batch",
        "baseline-shop",
        "baseline-web",
    ]
    fallback = _write(tmp_path, "fallback.yaml", NAMESPACES + PODS + _stream(cluster))
    own = _reach(app, "--generate")
    left = _reach(fallback)
    external_in = [
        "0.0.0.0-255.255.255.255[External] => shop/api[Pod] : All Connections",
        "0.0.0.0-255.255.255.255[External] => web/front[Pod] : All Connections",
    ]
    assert sorted(set(left) - set(own)) == external_in
    assert set(own) <= set(left)
    nothing = _reach(_write(tmp_path, "bare.yaml", NAMESPACES + PODS))
    assert "web/front[Pod] => shop/api[Pod] : All Connections" in nothing  # what it denies
    assert "web/front[Pod] => shop/api[Pod] : All Connections" not in left
