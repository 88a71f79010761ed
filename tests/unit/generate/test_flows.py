from __future__ import annotations

import pytest

from netpol_gitops.errors import NetpolError, Problem
from netpol_gitops.generate.flows import derive_flow_name
from netpol_gitops.generate.ports import parse_port
from netpol_gitops.generate.render import render
from netpol_gitops.model.intent import Config, Endpoint, EndpointKind, PortSpec
from netpol_gitops.model.location import Location
from netpol_gitops.yaml.stream import read_documents

LOC = Location("f.yaml", 1, 1, "x")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (8080, PortSpec("TCP", 8080)),
        ("8080/tcp", PortSpec("TCP", 8080)),
        ("53/UDP", PortSpec("UDP", 53)),
        ("3868/sctp", PortSpec("SCTP", 3868)),
        ("30000-32767/udp", PortSpec("UDP", 30000, 32767)),
        ("80-80", PortSpec("TCP", 80)),
        ("http", PortSpec("TCP", "http")),
        ("dns/udp", PortSpec("UDP", "dns")),
        ("65535", PortSpec("TCP", 65535)),
    ],
)
def test_port_forms(raw: object, expected: PortSpec) -> None:
    problems: list[Problem] = []
    assert parse_port(raw, LOC, problems) == expected
    assert problems == []


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("0", "port 0 is out of range 1-65535"),
        ("70000", "port 70000 is out of range 1-65535"),
        ("9000-8000", "endPort 8000 is below port 9000"),
        ("80/icmp", "expected protocol tcp, udp or sctp; got 'icmp'"),
        (
            "a-very-long-port-name",
            "'a-very-long-port-name' is not a valid named port (at most 15 "
            "of a-z 0-9 -, with a letter)",
        ),
        ("80/", "expected a port like 8080/tcp; got '80/'"),
    ],
)
def test_bad_ports(raw: str, message: str) -> None:
    problems: list[Problem] = []
    assert parse_port(raw, LOC, problems) is None
    assert [p.message for p in problems] == [message]


def test_derived_flow_names() -> None:
    web = Endpoint(EndpointKind.PODS, pods=(("tier", "web"),))
    assert derive_flow_name(web, Endpoint(EndpointKind.INTERNET)) == "web-to-internet"
    assert (
        derive_flow_name(Endpoint(EndpointKind.NAMESPACE, namespace="ingress-nginx"), web)
        == "ingress-nginx-to-web"
    )
    assert (
        derive_flow_name(web, Endpoint(EndpointKind.CIDR, cidr="10.0.0.0/8"))
        == "web-to-cidr-10-0-0-0-8"
    )
    assert (
        derive_flow_name(
            Endpoint(EndpointKind.PODS, pods=()),
            Endpoint(EndpointKind.NAMESPACES, namespace_labels=(("team", "Pay_ments"),)),
        )
        == "all-pods-to-pay-ments"
    )


@pytest.mark.parametrize(
    "flow",
    [
        '{name: "allow-web\\n", from: {pods: {app: web}}, to: {pods: {app: api}}}',
        '{from: {namespace: "ingress\\n"}, to: {pods: {app: api}}}',
    ],
)
def test_a_name_that_ends_in_a_newline_is_refused(flow: str) -> None:
    """Python's `$` matches before a final newline; the schema's patterns mean the string's end."""
    text = (
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  annotations:\n"
        f"    netpol-gitops.io/flows: '[{flow.replace(chr(39), chr(39) * 2)}]'\n"
    )
    with pytest.raises(NetpolError) as err:
        render(read_documents([("ns.yaml", text)]), Config())
    assert "\\n'" in str(err.value) and "expected" in str(err.value)
