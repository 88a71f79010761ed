"""The KRM adapter: same generated objects as render on every golden case; results; modes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from netpol_gitops.adapters.krm import run
from tests.helpers import GOLDEN, cli

LOAD = YAML(typ="safe")


def resource_list(items: list[Any], config: Any = None) -> str:
    rl: dict[str, Any] = {
        "apiVersion": "config.kubernetes.io/v1",
        "kind": "ResourceList",
        "items": items,
    }
    if config is not None:
        rl["functionConfig"] = config
    return json.dumps(rl)


def out_items(text: str) -> list[dict[str, Any]]:
    return list(json.loads(text)["items"]) if text.startswith("{") else LOAD.load(text)["items"]


def case_items(case: Path) -> list[Any]:
    return [d for d in LOAD.load_all((case / "input.yaml").read_text()) if d]


def case_config(case: Path) -> Any:
    path = case / "config.yaml"
    return LOAD.load(path.read_text()) if path.exists() else None


LOADABLE_ERRORS = ["err-annotations", "err-clash", "err-config"]


@pytest.mark.parametrize(
    "name", [c.name for c in sorted(GOLDEN.iterdir()) if not c.name.startswith("err-")]
)
def test_krm_generates_what_render_generates(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    case = GOLDEN / name
    monkeypatch.chdir(case)
    items = case_items(case)
    result = run(resource_list(items, case_config(case)), case)
    assert result.exit_code == 0, result.stderr
    args = ["render", "input.yaml", "--only-generated"]
    if (case / "config.yaml").exists():
        args += ["--config", "config.yaml"]
    rendered = [d for d in LOAD.load_all(cli(*args).stdout) if d]
    got = out_items(result.output)
    generated_before = [
        i
        for i in items
        if i.get("kind") in ("NetworkPolicy", "ClusterNetworkPolicy")
        and (i["metadata"].get("labels") or {}).get("app.kubernetes.io/managed-by")
    ]
    kept = [i for i in items if i not in generated_before]
    assert got == kept + rendered  # items echoed unchanged and in order, then the policies


@pytest.mark.parametrize("name", LOADABLE_ERRORS)
def test_krm_reports_the_same_problems_as_render(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = GOLDEN / name
    monkeypatch.chdir(case)
    items = case_items(case)
    result = run(resource_list(items, case_config(case)), case)
    assert result.exit_code == 1
    assert out_items(result.output) == items  # unchanged on error
    expected = (case / "expected.err").read_text().splitlines()[:-1]

    def message(line: str) -> str:  # drop the location: KRM items have no file lines
        line = re.sub(r"(input\.yaml:\d+:\d+|items\[\d+\])", "LOC", line)
        return re.sub(r"^\S+?(:\d+:\d+)?: error: ", "", line).split(": ", 1)[-1]

    assert sorted(map(message, result.stderr)) == sorted(map(message, expected))
    results = json.loads(result.output)["results"]
    assert len(results) == len(expected)
    assert all(r["severity"] == "error" for r in results)


def test_results_carry_resource_ref_field_and_file() -> None:
    ns = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": "shop",
            "annotations": {
                "netpol-gitops.io/mode": "on",
                "config.kubernetes.io/path": "ns/shop.yaml",
                "config.kubernetes.io/index": "2",
            },
        },
    }
    result = run(resource_list([ns]), Path.cwd())
    assert result.exit_code == 1
    assert json.loads(result.output)["results"] == [
        {
            "message": "expected one of enforce, audit, off; got 'on'",
            "severity": "error",
            "resourceRef": {"apiVersion": "v1", "kind": "Namespace", "name": "shop"},
            "file": {"path": "ns/shop.yaml", "index": 2},
            "field": {"path": 'metadata.annotations."netpol-gitops.io/mode"'},
        }
    ]
    assert result.stderr == [
        "ns/shop.yaml: error: Namespace/shop metadata.annotations."
        '"netpol-gitops.io/mode": expected one of enforce, audit, off; got '
        "'on'"
    ]


def test_a_flow_matching_no_workload_is_a_warning_with_exit_0() -> None:
    ns = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": "shop",
            "annotations": {
                "netpol-gitops.io/flows": "[{from: {pods: {app: web}}, to: {pods: {app: ghost}}}]"
            },
        },
    }
    web = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
    }
    result = run(resource_list([ns, web]), Path.cwd())
    assert result.exit_code == 0
    assert [r["severity"] for r in json.loads(result.output)["results"]] == ["warning"]
    assert result.stderr == [
        "items[0]: warning: Namespace/shop metadata.annotations."
        "\"netpol-gitops.io/flows\"[0]: flow 'web-to-ghost': no workload in "
        "namespace shop has labels {'app': 'ghost'}"
    ]


def test_a_configmap_function_config_is_accepted_and_yaml_in_gives_yaml_out() -> None:
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}
    cm = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "cfg"},
        "data": {"namePrefix": "np-", "defaults": "default-deny: ingress\n"},
    }
    text = (
        "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- "
        + json.dumps(ns)
        + "\nfunctionConfig: "
        + json.dumps(cm)
        + "\n"
    )
    result = run(text, Path.cwd())
    assert result.exit_code == 0, result.stderr
    assert not result.output.startswith("{")
    names = [i["metadata"]["name"] for i in out_items(result.output)]
    assert names == ["shop", "np-default-deny-ingress"]


def test_generator_sources_cannot_leave_the_kustomization(tmp_path: Path) -> None:
    (tmp_path / "k").mkdir()
    (tmp_path / "secret.yaml").write_text("kind: Namespace\nmetadata: {name: x}\n")
    config = {
        "apiVersion": "netpol-gitops.io/v1alpha1",
        "kind": "NetworkPolicyGenerator",
        "spec": {"sources": ["../secret.yaml"]},
    }
    result = run(resource_list([], config), tmp_path / "k")
    assert result.exit_code == 1
    assert result.stderr == [
        "<ResourceList>: error: functionConfig.spec.sources: "
        "'../secret.yaml' leaves the kustomization directory; refused"
    ]


def test_generator_reads_sources_and_emits_only_policies(tmp_path: Path) -> None:
    (tmp_path / "ns.yaml").write_text(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n"
        "  annotations:\n    netpol-gitops.io/default-deny: ali\n"
    )
    config = {
        "apiVersion": "netpol-gitops.io/v1alpha1",
        "kind": "NetworkPolicyGenerator",
        "spec": {"sources": ["ns.yaml"]},
    }
    bad = run(resource_list([], config), tmp_path)
    assert bad.exit_code == 1
    assert bad.stderr[0].startswith("ns.yaml:6:36: error: ")  # real file lines for sources
    (tmp_path / "ns.yaml").write_text((tmp_path / "ns.yaml").read_text().replace("ali", "all"))
    good = run(resource_list([], config), tmp_path)
    names = [i["metadata"]["name"] for i in out_items(good.output)]
    assert names == ["allow-dns", "default-deny-all"]


def test_not_a_resource_list() -> None:
    result = run("kind: Namespace\nmetadata: {name: x}\n", Path.cwd())
    assert result.exit_code == 1
    assert result.output == ""
    assert result.stderr == ["<ResourceList>: error: expected one ResourceList on stdin"]
