"""The KRM function under the real tools: kpt 1.0 and kubectl 1.32 (kustomize v5.5)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.helpers import ROOT, cli, require_tool

KUSTOMIZE = ROOT / "kustomize"
BIN = Path(sys.executable).parent


def generated(text: str) -> list[dict[str, Any]]:
    docs = [d for d in YAML(typ="safe").load_all(text) if d]
    if len(docs) == 1 and docs[0].get("kind") == "ResourceList":
        docs = docs[0]["items"]
    return [
        d
        for d in docs
        if (d.get("metadata", {}).get("labels") or {}).get("app.kubernetes.io/managed-by")
        == "netpol-gitops"
    ]


def expected_policies(directory: Path) -> list[dict[str, Any]]:
    run = cli(
        "render",
        str(directory),
        "--only-generated",
        "--config",
        str(KUSTOMIZE / "base" / "netpol-gitops.yaml"),
    )
    assert run.code == 0, run.stderr
    return generated(run.stdout)


@pytest.fixture
def example(tmp_path: Path) -> Path:
    shutil.copytree(KUSTOMIZE, tmp_path / "kustomize")
    return tmp_path / "kustomize"


def env(extra_path: Path | None = None) -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(extra_path or ""), str(BIN), os.environ["PATH"]) if p)
    return {**os.environ, "PATH": path}


def run(
    argv: list[str], cwd: Path, extra_path: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=cwd, env=env(extra_path), capture_output=True, text=True, timeout=120, check=False
    )


def break_annotation(example: Path) -> None:
    ns = example / "base" / "namespaces.yaml"
    ns.write_text(ns.read_text().replace("default-deny: all", "default-deny: al"))


MESSAGE = (
    'metadata.annotations."netpol-gitops.io/default-deny": expected one of all, '
    "ingress, egress, none; got 'al' (did you mean 'all'?)"
)


def test_kpt_fn_eval_exec(example: Path) -> None:
    require_tool("kpt")
    done = run(
        [
            "kpt",
            "fn",
            "eval",
            "base",
            "--exec",
            "./netpol-gitops-krm",
            "--fn-config",
            "base/netpol-gitops.yaml",
            "-o",
            "unwrap",
        ],
        example,
    )
    assert done.returncode == 0, done.stderr
    assert generated(done.stdout) == expected_policies(KUSTOMIZE / "base")
    assert len(generated(done.stdout)) == 5


def package_text(directory: Path) -> str:
    """Every YAML file of a kpt package (kpt writes new resources to per-namespace folders)."""
    return "".join("---\n" + p.read_text() for p in sorted(directory.rglob("*.yaml")))


def test_kpt_fn_render_allow_exec_writes_the_policies(example: Path) -> None:
    require_tool("kpt")
    done = run(["kpt", "fn", "render", "--allow-exec", "."], example / "base")
    assert done.returncode == 0, done.stderr
    written = package_text(example / "base")
    assert sorted(p["metadata"]["name"] for p in generated(written)) == sorted(
        p["metadata"]["name"] for p in expected_policies(KUSTOMIZE / "base")
    )
    again = run(["kpt", "fn", "render", "--allow-exec", "."], example / "base")
    assert again.returncode == 0, again.stderr
    rewritten = package_text(example / "base")
    assert rewritten == written  # idempotent: generated policies replaced, not duplicated


def test_kpt_fails_with_our_message(example: Path) -> None:
    require_tool("kpt")
    break_annotation(example)
    done = run(["kpt", "fn", "render", "--allow-exec", "."], example / "base")
    assert done.returncode != 0
    assert MESSAGE in done.stdout + done.stderr


@pytest.fixture
def docker_stand_in(tmp_path: Path) -> Path:
    """A `docker` first on PATH that runs the function locally, as the image would."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    log = tmp_path / "docker-calls.log"
    script = bindir / "docker"
    script.write_text(f'#!/bin/sh\necho "$@" >> {log}\nexec {BIN / "netpol-gitops"} krm\n')
    script.chmod(0o755)
    return bindir


def test_kubectl_kustomize_container_transformer(example: Path, docker_stand_in: Path) -> None:
    require_tool("kubectl")
    done = run(
        ["kubectl", "kustomize", "--enable-alpha-plugins", "overlays/container"],
        example,
        docker_stand_in,
    )
    assert done.returncode == 0, done.stderr
    assert generated(done.stdout) == expected_policies(KUSTOMIZE / "base")
    kinds = [d["kind"] for d in YAML(typ="safe").load_all(done.stdout) if d]
    assert kinds.count("Deployment") == 2 and kinds.count("Namespace") == 1  # echoed
    calls = (docker_stand_in.parent / "docker-calls.log").read_text()
    assert "--network none" in calls and "netpol-gitops:0.1.0" in calls


def test_kubectl_kustomize_fails_the_build_with_our_message(
    example: Path, docker_stand_in: Path
) -> None:
    require_tool("kubectl")
    break_annotation(example)
    done = run(
        ["kubectl", "kustomize", "--enable-alpha-plugins", "overlays/container"],
        example,
        docker_stand_in,
    )
    assert done.returncode != 0
    assert done.stdout == ""
    assert MESSAGE in done.stderr


def test_kubectl_kustomize_generator(example: Path, docker_stand_in: Path) -> None:
    """kustomize passes a generator no items: the function reads spec.sources instead."""
    require_tool("kubectl")
    config = example / "generator" / "netpol-gitops.yaml"
    config.write_text(
        config.read_text().replace(
            "exec:\n        path: ../netpol-gitops-krm",
            "container:\n        image: netpol-gitops:0.1.0",
        )
    )
    done = run(
        ["kubectl", "kustomize", "--enable-alpha-plugins", "."],
        example / "generator",
        docker_stand_in,
    )
    assert done.returncode == 0, done.stderr
    names = sorted(p["metadata"]["name"] for p in generated(done.stdout))
    assert names == ["allow-from-namespaces", "default-deny-ingress"]
