"""render/reach of a directory with a kustomization: built by the real tool, plugins never on."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers import EXAMPLE, cli, require_tool


@pytest.fixture
def kustomization(tmp_path: Path) -> Path:
    require_tool("kubectl")
    for f in EXAMPLE.iterdir():
        shutil.copy(f, tmp_path / f.name)
    names = sorted(f.name for f in EXAMPLE.iterdir())
    (tmp_path / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"
        + "".join(f"- {n}\n" for n in names)
        + "commonLabels:\n  env: prod\n"
    )
    return tmp_path


def test_a_kustomization_is_built_then_rendered(kustomization: Path) -> None:
    run = cli("render", str(kustomization), "--only-generated")
    assert run.code == 0, run.stderr
    direct = cli("render", str(EXAMPLE), "--only-generated")
    assert run.stdout == direct.stdout  # same namespaces, same annotations, same policies
    full = cli("render", str(kustomization))
    assert "env: prod" in full.stdout  # the build's output, not the raw files


def test_exec_plugins_in_a_kustomization_are_never_run(kustomization: Path) -> None:
    marker = kustomization / "ran"
    script = kustomization / "evil.sh"
    script.write_text(f"#!/bin/sh\ntouch {marker}\necho 'kind: ConfigMap'\n")
    script.chmod(0o755)
    (kustomization / "gen.yaml").write_text(
        "apiVersion: example.com/v1\nkind: Evil\nmetadata:\n  name: evil\n  annotations:\n"
        "    config.kubernetes.io/function: |\n      exec:\n        path: ./evil.sh\n"
    )
    k = kustomization / "kustomization.yaml"
    k.write_text(k.read_text() + "generators:\n- gen.yaml\n")
    run = cli("render", str(kustomization))
    assert run.code == 1
    assert run.stdout == ""
    assert f"{kustomization}/gen.yaml:2:7: error: kind: a plugin or function (Evil); refused" in (
        run.stderr
    )
    assert not marker.exists()


# ------------------------------------------- an aggregate of kustomizations, built as its leaves
def aggregate(root: Path, names: list[str], extra: str = "") -> Path:
    """A root kustomization that names one folder per namespace, each a kustomization."""
    require_tool("kubectl")
    for n in names:
        (root / n).mkdir(parents=True)
        (root / n / "all.yaml").write_text(
            f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {n}\n"
            "  annotations: {netpol-gitops.io/default-deny: all}\n---\n"
            "apiVersion: v1\nkind: Pod\n"
            f"metadata: {{name: web, namespace: {n}, labels: {{app: web}}}}\n"
            "spec: {containers: [{name: c, image: x}]}\n"
        )
        (root / n / "kustomization.yaml").write_text("resources:\n- all.yaml\n")
    (root / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"
        + "".join(f"- {n}\n" for n in names)
        + extra
    )
    (root / ".git").mkdir()
    return root


def documents(text: str) -> list[str]:
    return sorted(d.strip() for d in text.split("---\n") if d.strip())


def test_an_aggregate_is_built_as_its_leaves_with_the_same_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = aggregate(tmp_path / "repo", ["a", "b", "c"])
    whole = cli("render", str(root))
    monkeypatch.setenv("NETPOL_GITOPS_SPLIT_AT", "2")
    split = cli("render", str(root))
    assert (whole.code, split.code) == (0, 0), split.stderr
    assert documents(split.stdout) == documents(whole.stdout)
    # the leaves are what was built: a problem in one is located in its build
    (root / "b" / "all.yaml").write_text(
        (root / "b" / "all.yaml").read_text().replace("default-deny: all", "default-deny: al")
    )
    assert f"<kustomize build {root}/b>" in cli("render", str(root)).stderr


def test_an_aggregate_keeps_its_config_and_refuses_an_id_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = aggregate(tmp_path / "repo", ["a", "b"])
    monkeypatch.setenv("NETPOL_GITOPS_SPLIT_AT", "2")
    # a config beside a leaf does not govern it: the aggregate's build would not read it
    (root / "b" / ".netpol-gitops.yaml").write_text(
        "apiVersion: netpol-gitops.io/v1alpha1\nkind: NetworkPolicyGenerator\n"
        "metadata: {name: x}\nspec: {namePrefix: leaf-}\n"
    )
    out = cli("render", str(root), "--only-generated")
    assert out.code == 0, out.stderr
    assert "leaf-" not in out.stdout and "name: default-deny-all" in out.stdout
    (root / "b" / "dup.yaml").write_text((root / "a" / "all.yaml").read_text().split("---\n")[1])
    (root / "b" / "kustomization.yaml").write_text("resources:\n- all.yaml\n- dup.yaml\n")
    refused = cli("render", str(root))
    assert refused.code == 1 and "Pod a/web is also built by" in refused.stderr


def test_a_root_that_transforms_is_built_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = aggregate(tmp_path / "repo", ["a", "b"], "commonLabels: {env: prod}\n")
    monkeypatch.setenv("NETPOL_GITOPS_SPLIT_AT", "2")
    (root / "b" / "all.yaml").write_text(
        (root / "b" / "all.yaml").read_text().replace("default-deny: all", "default-deny: al")
    )
    assert f"<kustomize build {root}>" in cli("render", str(root)).stderr
