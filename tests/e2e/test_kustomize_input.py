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
