"""The probe plan on small hand-made inputs: which pairs, which Service, what is not probed."""

from __future__ import annotations

from typing import Any

from netpol_gitops.analysis.documents import topology
from netpol_gitops.analysis.reach import Analysis
from netpol_gitops.probe.inventory import inventory
from netpol_gitops.probe.plan import Plan, Role, plan


def deploy(ns: str, name: str, labels: dict[str, str], *ports: int | str) -> dict[str, Any]:
    declared = [
        {"containerPort": int(str(p).split("/")[0]), "protocol": [*str(p).split("/"), "TCP"][1]}
        for p in ports
    ]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "c", "image": "i", "ports": declared}]},
            }
        },
    }


def policy(ns: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": ns},
        "spec": spec,
    }


def service(ns: str, name: str, selector: dict[str, str], port: int, target: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"selector": selector, "ports": [{"port": port, "targetPort": target}]},
    }


def planned(*objs: dict[str, Any]) -> Plan:
    return plan(Analysis(topology(objs)), inventory(objs))


def lines(p: Plan) -> list[str]:
    return [f"{x.role} {x.what} {x.ports} {x.service.name if x.service else '-'}" for x in p.probes]


ALLOW_WEB_FROM_API = policy(
    "shop",
    "web",
    {
        "podSelector": {"matchLabels": {"app": "web"}},
        "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "api"}}}]}],
    },
)


def test_canary_allow_and_deny() -> None:
    p = planned(
        deploy("shop", "web", {"app": "web"}, 8080),
        deploy("shop", "api", {"app": "api"}),
        deploy("shop", "batch", {"app": "batch"}),
        ALLOW_WEB_FROM_API,
    )
    assert lines(p) == [
        "canary shop/batch[Deployment] => shop/web[Deployment] (8080,) -",
        "allow shop/api[Deployment] => shop/web[Deployment] (8080,) -",
        "deny shop/batch[Deployment] => shop/web[Deployment] (8080,) -",
    ]
    assert p.probes[0].role is Role.CANARY


def test_a_service_of_the_input_is_used_with_its_port() -> None:
    p = planned(
        deploy("shop", "web", {"app": "web"}, 8080),
        deploy("shop", "api", {"app": "api"}),
        service("shop", "web", {"app": "web"}, 80, 8080),
        ALLOW_WEB_FROM_API,
    )
    allow = next(x for x in p.probes if x.role is Role.ALLOW)
    assert (allow.service and allow.service.name, allow.dial) == ("web", (80,))


def test_a_service_that_also_selects_other_verdicts_is_not_used() -> None:
    p = planned(
        deploy("shop", "web", {"app": "web", "tier": "a"}, 8080),
        deploy("shop", "web-canary", {"app": "web", "tier": "b"}, 8080),
        deploy("shop", "api", {"app": "api"}),
        service("shop", "web", {"app": "web"}, 80, 8080),
        policy(
            "shop",
            "web",
            {
                "podSelector": {"matchLabels": {"tier": "a"}},
                "ingress": [
                    {
                        "from": [{"podSelector": {"matchLabels": {"app": "api"}}}],
                        "ports": [{"port": 8080}],
                    }
                ],
            },
        ),
        policy(
            "shop",
            "only-a",
            {"podSelector": {"matchLabels": {"tier": "b"}}, "policyTypes": ["Ingress"]},
        ),
    )
    allow = [x for x in p.probes if x.role is Role.ALLOW]
    assert [(x.dst.name if x.dst else "", x.service) for x in allow] == [("web", None)]


DNS_ONLY = {"podSelector": {}, "ingress": [{"ports": [{"port": 53, "protocol": "UDP"}]}]}


def test_system_sources_udp_and_portless_destinations_are_noted_not_probed() -> None:
    p = planned(
        deploy("kube-system", "agent", {"k8s-app": "agent"}),
        deploy("shop", "dns", {"app": "dns"}, "53/UDP"),
        deploy("shop", "web", {"app": "web"}),
        policy(
            "shop",
            "deny",
            {"podSelector": {}, "ingress": [{"ports": [{"port": 53, "protocol": "UDP"}]}]},
        ),
    )
    assert not [x for x in p.probes if x.role is Role.ALLOW]
    assert any("kube-system/agent[Deployment]" in n and "system namespace" in n for n in p.notes)
    assert any("UDP 53" in n for n in p.notes)
