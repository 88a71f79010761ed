"""The forms real policies need (issue 14 item 3): LabelSelectors, lists of ends, default denies
of some pods, allow-from-namespaces with a pod label, the built-in istio profile."""

from __future__ import annotations

import json
from typing import Any

import pytest

from netpol_gitops.errors import NetpolError
from netpol_gitops.generate.config import parse_config
from netpol_gitops.generate.flows import derive_flow_name
from netpol_gitops.generate.render import render
from netpol_gitops.model.intent import Config, Endpoint, EndpointKind
from netpol_gitops.yaml.stream import read_documents


def namespace(annotations: dict[str, str], name: str = "shop") -> str:
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": name, "annotations": annotations},
        }
    )


def policies(text: str, config: Config | None = None) -> dict[str, dict[str, Any]]:
    """The generated policies by name."""
    result = render(read_documents([("ns.yaml", text)]), config or Config())
    return {p["metadata"]["name"]: p for p in result.generated}


def errors(text: str, config: Config | None = None) -> list[str]:
    with pytest.raises(NetpolError) as err:
        render(read_documents([("ns.yaml", text)]), config or Config())
    return [p.message for p in err.value.problems]


def flows(*items: dict[str, Any], **more: str) -> str:
    return namespace({"netpol-gitops.io/flows": json.dumps(list(items)), **more})


# ---------------------------------------------------------------------------- selectors
def test_a_label_selector_with_only_matchlabels_is_the_plain_map() -> None:
    plain = policies(flows({"name": "f", "from": {"pods": {"a": "b"}}, "to": {"pods": {"c": "d"}}}))
    full = policies(
        flows(
            {
                "name": "f",
                "from": {"pods": {"matchLabels": {"a": "b"}}},
                "to": {"pods": {"matchLabels": {"c": "d"}}},
            }
        )
    )
    assert plain == full


def test_match_expressions_reach_the_pod_and_namespace_selectors() -> None:
    exprs = [
        {"key": "tier", "operator": "In", "values": ["web", "api"]},
        {"key": "legacy", "operator": "DoesNotExist"},
    ]
    made = policies(
        flows(
            {
                "name": "f",
                "from": {
                    "namespaces": {"matchExpressions": [{"key": "team", "operator": "Exists"}]},
                    "pods": {"matchExpressions": exprs},
                },
                "to": {"pods": {"matchLabels": {"app": "db"}, "matchExpressions": exprs[:1]}},
            }
        )
    )
    spec = made["allow-f-ingress"]["spec"]
    assert spec["podSelector"] == {
        "matchLabels": {"app": "db"},
        "matchExpressions": [{"key": "tier", "operator": "In", "values": ["web", "api"]}],
    }
    assert spec["ingress"][0]["from"] == [
        {
            "namespaceSelector": {"matchExpressions": [{"key": "team", "operator": "Exists"}]},
            "podSelector": {"matchExpressions": exprs},
        }
    ]


def test_a_label_named_like_a_selector_key_needs_the_full_form() -> None:
    found = errors(flows({"from": {"pods": {"matchLabels": "x"}}, "to": {"pods": {}}}))
    assert found == ["expected a mapping; got 'x'"]


def test_derived_names_say_the_expressions() -> None:
    end = Endpoint(
        EndpointKind.PODS,
        pods=(("app", "web"),),
        pod_expressions=(
            ("tier", "In", ("a", "b")),
            ("env", "NotIn", ("dev",)),
            ("canary", "Exists", ()),
            ("legacy", "DoesNotExist", ()),
        ),
    )
    assert derive_flow_name(end, Endpoint(EndpointKind.INTERNET)) == (
        "web-a-b-not-dev-canary-no-legacy-to-internet"
    )


# ---------------------------------------------------------------------------- lists of ends
def test_a_list_of_ends_is_one_rule_with_every_peer() -> None:
    made = policies(
        flows(
            {
                "name": "clients",
                "from": [
                    {"pods": {"app": "web"}},
                    {"namespace": "jobs"},
                    {"cidr": "10.1.0.0/16"},
                ],
                "to": {"pods": {"app": "api"}},
                "ports": [8080],
            }
        )
    )
    ingress = made["allow-clients-ingress"]["spec"]["ingress"]
    assert len(ingress) == 1
    assert ingress[0]["from"] == [
        {"podSelector": {"matchLabels": {"app": "web"}}},
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "jobs"}}},
        {"ipBlock": {"cidr": "10.1.0.0/16"}},
    ]
    # the pods end of the list gets its egress side, named by its index
    egress = made["allow-clients-0-egress"]["spec"]
    assert egress["podSelector"] == {"matchLabels": {"app": "web"}}
    assert egress["egress"] == [
        {
            "to": [{"podSelector": {"matchLabels": {"app": "api"}}}],
            "ports": [{"protocol": "TCP", "port": 8080}],
        }
    ]
    assert set(made) == {
        "default-deny-all",
        "allow-dns",
        "allow-clients-ingress",
        "allow-clients-0-egress",
    }


def test_a_list_on_the_to_side_is_one_egress_rule() -> None:
    made = policies(
        flows(
            {
                "name": "out",
                "from": {"pods": {"app": "api"}},
                "to": [{"internet": True}, {"pods": {"app": "db"}}],
            },
            **{"netpol-gitops.io/default-deny": "egress"},
        )
    )
    assert [len(r["to"]) for r in made["allow-out-egress"]["spec"]["egress"]] == [3]
    assert "allow-out-1-ingress" not in made  # ingress is not denied: no allow


def test_a_one_item_list_is_the_single_end() -> None:
    single = {"name": "f", "from": {"pods": {"a": "b"}}, "to": {"pods": {"c": "d"}}}
    listed = {**single, "from": [{"pods": {"a": "b"}}]}
    assert policies(flows(single)) == policies(flows(listed))


# ---------------------------------------------------------------------------- default-deny-pods
def test_a_default_deny_of_some_pods_isolates_only_them() -> None:
    made = policies(
        flows(
            {"name": "web-api", "from": {"pods": {"app": "web"}}, "to": {"pods": {"app": "api"}}},
            {"name": "any-api", "from": {"pods": {}}, "to": {"pods": {"app": "api"}}},
            **{
                "netpol-gitops.io/default-deny": "none",
                "netpol-gitops.io/default-deny-pods": (
                    "[{name: web, pods: {app: web}, deny: egress}]"
                ),
            },
        )
    )
    assert made["default-deny-pods-web"]["spec"] == {
        "podSelector": {"matchLabels": {"app": "web"}},
        "policyTypes": ["Egress"],
    }
    selected = {n: p["spec"]["podSelector"] for n, p in made.items()}
    # every other policy selects web pods only, for egress only: no allow isolates the others
    assert selected == {
        "default-deny-pods-web": {"matchLabels": {"app": "web"}},
        "allow-dns-for-web": {"matchLabels": {"app": "web"}},
        "allow-web-api-egress-for-web": {"matchLabels": {"app": "web"}},
        "allow-any-api-egress-for-web": {"matchLabels": {"app": "web"}},
    }
    assert all(p["spec"]["policyTypes"] == ["Egress"] for p in made.values())


def test_an_allow_for_other_pods_than_the_denied_ones_is_not_generated() -> None:
    made = policies(
        flows(
            {"name": "f", "from": {"pods": {"app": "api"}}, "to": {"internet": True}},
            **{
                "netpol-gitops.io/default-deny": "none",
                "netpol-gitops.io/default-deny-pods": "[{pods: {app: web}}]",
            },
        )
    )
    assert sorted(made) == ["allow-dns-for-web", "default-deny-pods-web"]


def test_default_deny_pods_from_the_config_defaults() -> None:
    config_text = (
        "apiVersion: netpol-gitops.io/v1alpha1\nkind: NetworkPolicyGenerator\nspec:\n"
        "  defaults:\n    default-deny: ingress\n"
        "    default-deny-pods: '[{pods: {app: web}, deny: egress}]'\n"
    )
    [doc] = read_documents([("config.yaml", config_text)])
    made = policies(namespace({}), parse_config(doc))
    assert sorted(made) == ["allow-dns-for-web", "default-deny-ingress", "default-deny-pods-web"]


def test_default_deny_pods_problems_are_located() -> None:
    text = (
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  annotations:\n"
        "    netpol-gitops.io/default-deny-pods: |\n"
        "      - pods: {matchLabels: {}}\n"
        "      - pods: {app: web}\n        deny: egres\n"
    )
    with pytest.raises(NetpolError) as err:
        render(read_documents([("ns.yaml", text)]), Config())
    assert [p.line() for p in err.value.problems] == [
        'ns.yaml:7:15: error: metadata.annotations."netpol-gitops.io/default-deny-pods"[0].pods: '
        "this selects every pod of the namespace: say it with netpol-gitops.io/default-deny",
        'ns.yaml:9:15: error: metadata.annotations."netpol-gitops.io/default-deny-pods"[1].deny: '
        "expected one of all, ingress, egress; got 'egres' (did you mean 'egress'?)",
    ]


# ---------------------------------------------------------------------------- allow-from-namespaces
def test_allow_from_namespaces_with_a_pod_label() -> None:
    made = policies(
        namespace(
            {
                "netpol-gitops.io/allow-from-namespaces": (
                    "monitoring/app.kubernetes.io/name=prometheus, ingress-nginx"
                )
            }
        )
    )
    assert made["allow-from-namespaces"]["spec"]["ingress"][0]["from"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}},
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
        },
    ]


@pytest.mark.parametrize("value", ["monitoring/app", "monitoring/=x", "monitoring/app=a b"])
def test_allow_from_namespaces_refuses_a_half_label(value: str) -> None:
    [message] = errors(namespace({"netpol-gitops.io/allow-from-namespaces": value}))
    assert message.startswith("expected a comma list of namespace names, each optionally with")


# ---------------------------------------------------------------------------- istio
def test_the_builtin_istio_profile_lets_sidecars_reach_istiod() -> None:
    made = policies(namespace({"netpol-gitops.io/profiles": "istio"}))
    policy = made["allow-istio-sidecar-to-istiod-egress"]
    assert policy["metadata"]["annotations"]["netpol-gitops.io/generated-from"] == (
        "Namespace/shop built-in profile istio[0]"
    )
    assert policy["spec"] == {
        "podSelector": {},
        "policyTypes": ["Egress"],
        "egress": [
            {
                "to": [
                    {
                        "namespaceSelector": {
                            "matchLabels": {"kubernetes.io/metadata.name": "istio-system"}
                        },
                        "podSelector": {"matchLabels": {"app": "istiod"}},
                    }
                ],
                "ports": [{"protocol": "TCP", "port": 15012}],
            }
        ],
    }


def test_a_repo_profile_named_istio_replaces_the_builtin() -> None:
    config_text = (
        "apiVersion: netpol-gitops.io/v1alpha1\nkind: NetworkPolicyGenerator\nspec:\n"
        "  profiles:\n    istio:\n"
        "      - {name: xds, from: {pods: {}}, to: {namespace: mesh}, ports: [15012]}\n"
    )
    [doc] = read_documents([("config.yaml", config_text)])
    made = policies(namespace({"netpol-gitops.io/profiles": "istio"}), parse_config(doc))
    assert "allow-istio-xds-egress" in made
    assert "allow-istio-sidecar-to-istiod-egress" not in made


def test_an_unknown_profile_suggests_the_builtin_one() -> None:
    assert errors(namespace({"netpol-gitops.io/profiles": "isito"})) == [
        "no profile 'isito' in the repo config, nor a built-in one (did you mean 'istio'?)"
    ]
