"""Flavors (issue 15): ``mode: audit`` never changes traffic, ``fqdn`` ends become
CiliumNetworkPolicies under ``flavor: cilium``, audit is staged under ``flavor: calico``, and
every emitted kind validates against its vendored CRD."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ruamel.yaml import YAML

from netpol_gitops.analysis.documents import topology_of
from netpol_gitops.analysis.reach import Analysis
from netpol_gitops.checks.gate import findings
from netpol_gitops.generate.calico import unstaged
from netpol_gitops.generate.config import parse_config
from netpol_gitops.generate.render import Rendered, render
from netpol_gitops.model import fqdn
from netpol_gitops.model.intent import Config
from netpol_gitops.yaml.stream import read_documents, split_stream
from tests.helpers import GOLDEN, cli, require_shared

CONFIG = "apiVersion: netpol-gitops.io/v1alpha1\nkind: NetworkPolicyGenerator\nspec: {spec}\n"
LOAD = YAML(typ="safe")


def config(flavor: str) -> Config:
    text = CONFIG.format(spec="{flavor: " + flavor + "}")
    return parse_config(split_stream(text, "config.yaml")[0])


def rendered(stream: str, flavor: str = "kubernetes") -> Rendered:
    return render(read_documents([("<stdin>", stream)]), config(flavor))


def namespace(name: str, **annotations: str) -> str:
    lines = "".join(f"\n    netpol-gitops.io/{k}: {v!r}" for k, v in annotations.items())
    return (
        f"---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n  annotations:{lines}\n"
    )


def pod(ns: str, name: str, app: str) -> str:
    meta = f"{{name: {name}, namespace: {ns}, labels: {{app: {app}}}}}"
    return f"---\napiVersion: v1\nkind: Pod\nmetadata: {meta}\n"


PODS = "".join(
    [
        pod("trial", "web", "web"),
        pod("trial", "api", "api"),
        pod("trial", "db", "db"),
        pod("ingress-nginx", "controller", "nginx"),
        pod("kube-system", "coredns", "kube-dns").replace("app: kube-dns", "k8s-app: kube-dns"),
    ]
)
FLOWS = "[{from: {pods: {app: web}}, to: {pods: {app: api}}, ports: [8080]}]"
FQDN_FLOW = "[{from: {pods: {app: api}}, to: {fqdn: api.stripe.com}, ports: [443]}]"


def trial(mode: str, flavor: str) -> str:
    """A namespace asking for the allows that isolate every pod (the reason audit used to
    enforce), and an fqdn flow where the flavor can enforce it."""
    flows = FLOWS if flavor != "cilium" else FLOWS[:-1] + ", " + FQDN_FLOW[1:]
    return namespace(
        "trial",
        mode=mode,
        **{
            "allow-same-namespace": "true",
            "allow-from-namespaces": "ingress-nginx",
            "flows": flows,
        },
    )


def reach(stream: str, flavor: str) -> list[str]:
    result = rendered(stream, flavor)
    topo = topology_of(result.documents)
    return [c.line() for c in Analysis(topo.with_policies(result.generated)).connections()]


# ---------------------------------------------------------------------------- 1. audit
@pytest.mark.parametrize("flavor", ["kubernetes", "cilium", "calico"])
def test_audit_reaches_exactly_what_the_untouched_namespace_reaches(flavor: str) -> None:
    audited = reach(trial("audit", flavor) + PODS, flavor)
    untouched = reach(trial("off", flavor) + PODS, flavor)
    enforced = reach(trial("enforce", flavor) + PODS, flavor)
    assert audited == untouched
    assert enforced != untouched  # the comparison can tell a namespace that enforces


@pytest.mark.parametrize("flavor", ["kubernetes", "cilium"])
def test_audit_generates_nothing_where_nothing_can_be_staged(flavor: str) -> None:
    assert rendered(trial("audit", flavor) + PODS, flavor).generated == []
    assert rendered(trial("enforce", flavor) + PODS, flavor).generated != []


def test_check_says_what_enforcing_would_block_per_connection() -> None:
    docs = read_documents([("<stdin>", trial("audit", "kubernetes") + PODS)])
    notes = [f for f in findings(docs, Config()) if f.rule == "audit-would-block"]
    assert len(notes) == 1
    message = notes[0].message
    # 3 pods: from and to the outside (6), to ingress-nginx (3), from kube-dns (3), and to it
    # narrowed to port 53 (3); same-namespace traffic and ingress-nginx's ingress stay allowed
    assert message.startswith(
        "namespace trial is in audit mode: enforcing default-deny-all would block or narrow 15 "
        "connections: 0.0.0.0-255.255.255.255[External] => trial/api[Pod] : All Connections; "
    )


# ---------------------------------------------------------------------------- 4. calico
def test_calico_audit_is_the_enforce_policies_staged() -> None:
    staged = rendered(trial("audit", "calico") + PODS, "calico").generated
    enforced = rendered(trial("enforce", "calico") + PODS, "calico").generated
    assert {p["kind"] for p in staged} == {"StagedKubernetesNetworkPolicy"}
    assert {p["apiVersion"] for p in staged} == {"projectcalico.org/v3"}
    assert {p["spec"]["stagedAction"] for p in staged} == {"Set"}
    # switching to enforce turns each staged policy into the same NetworkPolicy
    assert [unstaged(p) for p in staged] == enforced
    assert [p["spec"] for p in map(unstaged, staged)] == [p["spec"] for p in enforced]


def test_calico_enforce_is_plain_networkpolicy() -> None:
    calico = rendered(trial("enforce", "calico") + PODS, "calico").generated
    assert calico == rendered(trial("enforce", "kubernetes") + PODS).generated


# ---------------------------------------------------------------------------- 3. fqdn
def test_fqdn_under_cilium_is_a_cilium_policy_with_the_dns_rule() -> None:
    stream = namespace("shop", flows=FQDN_FLOW) + pod("shop", "api", "api")
    made = rendered(stream, "cilium").generated
    cnp = [p for p in made if p["kind"] == "CiliumNetworkPolicy"]
    assert [p["metadata"]["name"] for p in cnp] == ["allow-api-to-api-stripe-com-egress"]
    spec = cnp[0]["spec"]
    assert spec["endpointSelector"] == {"matchLabels": {"app": "api"}}
    dns, names = spec["egress"]
    assert dns["toEndpoints"] == [
        {
            "matchLabels": {
                "k8s:io.kubernetes.pod.namespace": "kube-system",
                "k8s:k8s-app": "kube-dns",
            }
        }
    ]
    assert dns["toPorts"][0]["rules"] == {"dns": [{"matchPattern": "*"}]}
    assert names == {
        "toFQDNs": [{"matchName": "api.stripe.com"}],
        "toPorts": [{"ports": [{"port": "443", "protocol": "TCP"}]}],
    }
    # beside the ordinary NetworkPolicies, which Cilium enforces together
    kinds = sorted((p["kind"], p["metadata"]["name"]) for p in made)
    assert ("NetworkPolicy", "default-deny-all") in kinds
    assert ("NetworkPolicy", "allow-dns") in kinds


def test_fqdn_allow_is_only_made_where_egress_is_denied() -> None:
    stream = namespace("shop", **{"default-deny": "ingress", "flows": FQDN_FLOW})
    assert [p["kind"] for p in rendered(stream, "cilium").generated] == ["NetworkPolicy"]


@pytest.mark.parametrize("flavor", ["kubernetes", "calico"])
def test_fqdn_is_a_located_error_naming_the_flavors_that_can(flavor: str, tmp_path: Path) -> None:
    (tmp_path / "ns.yaml").write_text(namespace("shop", flows=FQDN_FLOW).removeprefix("---\n"))
    (tmp_path / "c.yaml").write_text(CONFIG.format(spec="{flavor: " + flavor + "}"))
    run = cli("render", str(tmp_path / "ns.yaml"), "--config", str(tmp_path / "c.yaml"))
    assert run.code == 1 and run.stdout == ""
    assert run.stderr.splitlines()[0] == (
        f"{tmp_path}/ns.yaml:6:69: error: "  # the name, inside the annotation
        'metadata.annotations."netpol-gitops.io/flows"[0].to.fqdn: '
        f"flavor {flavor} cannot enforce egress to a DNS name (core NetworkPolicy has no "
        "names); set 'flavor: cilium' in the repo config (flavors that can: cilium), or use a "
        "cidr end"
    )


@pytest.mark.parametrize(
    ("pattern", "name", "matched"),
    [
        ("*.example.com", "www.example.com", True),
        ("*.example.com", "example.com", False),
        ("*.example.com", "a.b.example.com", False),  # * stays inside one label
        ("**.example.com", "a.b.example.com", True),
        ("**.example.com", "example.com", False),
        ("sub*.example.com", "subdomain.example.com", True),
        ("sub*.example.com", "www.example.com", False),
        ("*example.com", "example.com", True),
        ("api.example.com", "api.example.com", True),
        ("*.example.com", "*.example.com", True),
        ("www.example.com", "*.example.com", False),  # a name never admits a pattern
    ],
)
def test_patterns_match_as_cilium_defines_them(pattern: str, name: str, matched: bool) -> None:
    assert fqdn.problem(pattern) is None
    assert fqdn.matches(pattern, name) is matched


# ---------------------------------------------------------------------------- 6. reach
def test_reach_names_the_fqdn_peer_and_never_all_external() -> None:
    flows = (
        "[{from: {pods: {app: api}}, to: {fqdn: '*.example.com'}, ports: [443]},"
        " {from: {pods: {app: web}}, to: {fqdn: www.example.com}, ports: [443]}]"
    )
    stream = "".join(
        [
            namespace("shop", flows=flows),
            pod("shop", "api", "api"),
            pod("shop", "web", "web"),
            namespace("open", **{"default-deny": "none"}),
            pod("open", "tool", "tool"),
        ]
    )
    lines = reach(stream, "cilium")
    mine = [line for line in lines if line.startswith("shop/")]
    assert mine == [
        "shop/api[Pod] => *.example.com[FQDN] : TCP 443",
        "shop/api[Pod] => www.example.com[FQDN] : TCP 443",  # the pattern matches the name
        "shop/web[Pod] => www.example.com[FQDN] : TCP 443",  # the name is not the pattern
    ]
    # a pod whose egress nothing isolates reaches every name, and every address
    assert "open/tool[Pod] => www.example.com[FQDN] : All Connections" in lines
    assert "open/tool[Pod] => 0.0.0.0-255.255.255.255[External] : All Connections" in lines


def test_reach_cli_prints_the_fqdn_peer(tmp_path: Path) -> None:
    (tmp_path / "in.yaml").write_text(
        namespace("shop", flows=FQDN_FLOW) + pod("shop", "api", "api")
    )
    (tmp_path / "c.yaml").write_text(CONFIG.format(spec="{flavor: cilium}"))
    run = cli(
        "reach", str(tmp_path / "in.yaml"), "--config", str(tmp_path / "c.yaml"), "--generate"
    )
    assert run.code == 0, run.stderr
    assert run.stdout == "shop/api[Pod] => api.stripe.com[FQDN] : TCP 443\n"


# ---------------------------------------------------------------------------- 5. CRDs
def _closed(schema: Any) -> Any:
    """Objects closed as the API server closes them (../shared/vendor/crds/README.md)."""
    if isinstance(schema, list):
        return [_closed(x) for x in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _closed(v) for k, v in schema.items()}
    if (
        out.get("type") == "object"
        and "properties" in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out.setdefault("additionalProperties", False)
    return out


CRDS = {
    "CiliumNetworkPolicy": ("cilium-v1.19.0-pre.4", "ciliumnetworkpolicies.yaml"),
    "StagedKubernetesNetworkPolicy": (
        "calico-v3.32.1",
        "projectcalico.org-v3",
        "projectcalico.org_stagedkubernetesnetworkpolicies.yaml",
    ),
}


def _validator(kind: str) -> jsonschema.Draft4Validator:
    crd = LOAD.load(require_shared("vendor", "crds", *CRDS[kind]).read_text())
    (version,) = [v for v in crd["spec"]["versions"] if v["served"] and v["storage"]]
    assert f"{crd['spec']['group']}/{version['name']}" in {"cilium.io/v2", "projectcalico.org/v3"}
    return jsonschema.Draft4Validator(_closed(version["schema"]["openAPIV3Schema"]))


def _flavor_objects() -> list[dict[str, Any]]:
    docs = []
    for case in sorted(GOLDEN.glob("flavor-*/expected.yaml")):
        docs += [d for d in LOAD.load_all(case.read_text()) if d and d["kind"] in CRDS]
    docs += rendered(trial("audit", "calico") + PODS, "calico").generated
    docs += rendered(trial("enforce", "cilium") + PODS, "cilium").generated
    return [d for d in docs if d["kind"] in CRDS]


OBJECTS = _flavor_objects()


def test_every_flavor_kind_is_covered() -> None:
    assert {o["kind"] for o in OBJECTS} == set(CRDS)


@pytest.mark.parametrize(
    "obj", OBJECTS, ids=lambda o: "{kind}:{0[namespace]}/{0[name]}".format(o["metadata"], **o)
)
def test_emitted_objects_validate_against_their_crd(obj: dict[str, Any]) -> None:
    errors = [e.message for e in _validator(obj["kind"]).iter_errors(obj)]
    assert errors == []
    assert obj["apiVersion"] == {"CiliumNetworkPolicy": "cilium.io/v2"}.get(
        obj["kind"], "projectcalico.org/v3"
    )


@pytest.mark.parametrize("kind", sorted(CRDS))
def test_the_crd_check_can_fail(kind: str) -> None:
    obj = copy.deepcopy(next(o for o in OBJECTS if o["kind"] == kind))
    if kind == "CiliumNetworkPolicy":
        obj["spec"]["egress"][-1]["toFQDN"] = obj["spec"]["egress"][-1].pop("toFQDNs")
    else:
        obj["spec"]["stagedAction"] = "Stage"
    assert list(_validator(kind).iter_errors(obj))
