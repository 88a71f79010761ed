"""Many problems in one document cost one parse of it, not one per problem: a Namespace whose
flows all name pods that no workload has gets a warning per flow, and `krm` parses the
Namespace item once to name it in every result (it parsed it again per result: 10,000 flows
ran for minutes)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from netpol_gitops.yaml import document, embedded
from tests.helpers import cli


def resource_list(flows: int) -> str:
    body = "".join(
        f"          - name: f{i}\n"
        f"            from: {{pods: {{app: a{i}}}}}\n"
        f"            to: {{pods: {{app: b{i}}}}}\n"
        f"            ports: [8080/tcp]\n"
        for i in range(flows)
    )
    return (
        "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"
        "  - apiVersion: v1\n    kind: Namespace\n    metadata:\n      name: shop\n"
        "      annotations:\n        netpol-gitops.io/default-deny: all\n"
        "        netpol-gitops.io/flows: |\n" + body + "  - apiVersion: v1\n    kind: Pod\n"
        "    metadata: {name: web, namespace: shop, labels: {app: web}}\n"
    )


@pytest.mark.parametrize("flows", [3, 60])
def test_krm_parses_the_namespace_once_for_all_its_warnings(
    flows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    composed: list[str] = []
    compose = document.compose

    def counting(text: Any) -> Any:
        composed.append(str(text))
        return compose(text)

    for module in (document, embedded):  # every composer of a document or a value
        monkeypatch.setattr(module, "compose", counting)
    run = cli("krm", stdin=resource_list(flows))
    assert run.code == 0, run.stderr
    warnings = re.findall(r"^items\[0\]: warning: Namespace/shop .*no workload", run.stderr, re.M)
    assert len(warnings) == 2 * flows  # from and to of every flow
    assert sum("kind: Namespace" in text for text in composed) == 1
    assert len(composed) == 2  # the Namespace item and its flows value
