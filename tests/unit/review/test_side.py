"""The protection a namespace ends up with, judged as `check` judges it."""

from __future__ import annotations

import pytest

from netpol_gitops.model.intent import Deny, Mode, NamespaceIntent
from netpol_gitops.model.location import Location
from netpol_gitops.review.side import protection_of

Spec = dict[str, object]
DENY_ALL: Spec = {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
DENY_IN: Spec = {"podSelector": {}}  # policyTypes default: Ingress
SOME_PODS: Spec = {"podSelector": {"matchLabels": {"app": "x"}}, "policyTypes": ["Ingress"]}


def intent(mode: Mode, deny: str) -> NamespaceIntent:
    return NamespaceIntent(
        name="shop",
        mode=mode,
        deny=Deny(deny),
        allow_dns=True,
        allow_same_namespace=False,
        allow_from_namespaces=(),
        egress_internet=(),
        flows=(),
        location=Location("ns.yaml"),
    )


@pytest.mark.parametrize(
    ("mode", "deny", "specs", "expected"),
    [
        (None, "", [], "off"),
        (None, "", [DENY_ALL], "all"),  # a hand-written default deny counts
        (None, "", [DENY_IN], "ingress"),
        (None, "", [SOME_PODS], "off"),  # a policy for some pods isolates only them
        (Mode.AUDIT, "all", [], "audit"),
        (Mode.ENFORCE, "ingress", [], "ingress"),
        (Mode.ENFORCE, "ingress", [DENY_ALL], "all"),
        (Mode.ENFORCE, "all", [DENY_IN], "all"),
        (Mode.ENFORCE, "none", [], "none"),
    ],
)
def test_protection(mode: Mode | None, deny: str, specs: list[Spec], expected: str) -> None:
    judged = protection_of(intent(mode, deny) if mode is not None else None, specs)
    assert judged == expected
