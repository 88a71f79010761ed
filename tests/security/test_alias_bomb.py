"""Alias expansion is bounded in nodes, not in aliases: a billion laughs of 81 aliases (under
MAX_ALIASES) is refused at once, located at the alias that crosses MAX_ALIAS_NODES, by every
command and output format, through the real CLI in a child process (a hang is a timeout)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from netpol_gitops.yaml.expansion import MAX_ALIAS_NODES, MAX_ALIASES
from tests.builders import Repo
from tests.helpers import require_tool

TIMEOUT = 20  # seconds; the unbounded expansion ran until killed
EXPANDS = f"YAML aliases expand to more than {MAX_ALIAS_NODES:,} nodes"
LOAD = YAML(typ="safe")


def laughs(indent: str, *, scalar: bool) -> tuple[str, str]:
    """Ten anchors, nine of them a list of nine aliases of the one before (81 aliases, 10^8 to
    10^9 nodes expanded), at ``indent``; the first is a list of nine strings, or with ``scalar``
    one string (an anchor on a scalar). Returns the lines and the alias that crosses the
    bound: sizes grow ninefold, so it is the first alias of the first level past it."""
    first = '&a "lol"' if scalar else "&a [" + ",".join(['"lol"'] * 9) + "]"
    lines = [f"{indent}a: {first}"]
    size, added, crossing = (1 if scalar else 10), 0, ""
    for prev, name in zip("abcdefghi", "bcdefghij", strict=True):
        lines.append(f"{indent}{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
        if not crossing and added + size > MAX_ALIAS_NODES:
            crossing = f"{name}: &{name} [*{prev}"
        added += 9 * size
        size = 1 + 9 * size
    assert MAX_ALIASES >= 9 * 9 and size > 10**8
    return "".join(line + "\n" for line in lines), crossing


def position(text: str, crossing: str) -> str:
    """``LINE:COL`` (1-based) of the alias that ends ``crossing`` in ``text``."""
    at = text.index(crossing) + len(crossing) - len(crossing.rsplit("[", maxsplit=1)[-1])
    line = text.count("\n", 0, at) + 1
    return f"{line}:{at - (text.rfind(chr(10), 0, at) + 1) + 1}"


def configmap(*, scalar: bool = False) -> tuple[str, str]:
    body, crossing = laughs("  ", scalar=scalar)
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: laughs\ndata:\n" + body
    return text, position(text, crossing)


def namespace(*, scalar: bool = True) -> tuple[str, str]:
    """A Namespace whose flows annotation (a block scalar) holds the laughs."""
    body, crossing = laughs("      ", scalar=scalar)
    text = (
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  annotations:\n"
        "    netpol-gitops.io/default-deny: all\n    netpol-gitops.io/flows: |\n" + body
    )
    return text, position(text, crossing)


def cli(
    *args: str, stdin: str = "", cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "netpol_gitops", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        check=False,
    )


def refused(done: subprocess.CompletedProcess[str], where: str, *, stdout: bool = False) -> str:
    """Exit 1, no traceback, nothing on stdout; the located line (on stdout with ``stdout``,
    for check's findings) is returned."""
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    if not stdout:
        assert done.stdout == ""
    out = done.stdout if stdout else done.stderr
    line = re.search(rf"^{re.escape(where)}: error: .*{EXPANDS}.*$", out, re.MULTILINE)
    assert line is not None, out
    return line.group()


@pytest.fixture
def bomb(tmp_path: Path) -> tuple[Path, str]:
    text, at = configmap()
    path = tmp_path / "laughs.yaml"
    path.write_text(text)
    return path, f"{path}:{at}"


@pytest.mark.parametrize("args", [["render"], ["render", "-o", "json"], ["reach"]])
def test_render_and_reach_refuse_it(args: list[str], bomb: tuple[Path, str]) -> None:
    path, where = bomb
    refused(cli(*args, str(path)), where)


@pytest.mark.parametrize("scalar", [False, True], ids=["list", "scalar"])
def test_from_stdin_and_inside_the_flows_annotation(scalar: bool) -> None:
    text, at = configmap(scalar=scalar)
    refused(cli("render", "-o", "json", "-", stdin=text), f"<stdin>:{at}")
    text, at = namespace(scalar=scalar)
    line = refused(cli("render", "-", stdin=text), f"<stdin>:{at}")
    assert 'metadata.annotations."netpol-gitops.io/flows"' in line


def test_check_refuses_it_in_every_format(bomb: tuple[Path, str]) -> None:
    path, where = bomb
    refused(cli("check", str(path)), where, stdout=True)
    for fmt in ("json", "sarif"):
        done = cli("check", "--format", fmt, str(path))
        assert done.returncode == 1, done.stderr
        assert "Traceback" not in done.stderr
        report = json.loads(done.stdout)
        text = json.dumps(report)
        assert EXPANDS in text and "invalid-yaml" in text
    findings = json.loads(cli("check", "--format", "json", str(path)).stdout)
    assert [(f["line"], f["column"]) for f in findings] == [
        tuple(int(n) for n in where.rsplit(":", 2)[1:])
    ]


def resource_list(items: str) -> str:
    return "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n" + items


def as_item(text: str) -> str:
    lines = text.splitlines()
    return "".join(("- " if i == 0 else "  ") + line + "\n" for i, line in enumerate(lines))


def test_krm_refuses_it_as_an_item_and_in_an_items_annotation() -> None:
    text, _ = configmap()
    rl = resource_list(as_item(text))
    at = position(rl, laughs("    ", scalar=False)[1])
    done = cli("krm", stdin=rl)
    refused(done, f"<ResourceList>:{at}")
    # the flows annotation holds the laughs (anchors on scalars): as YAML, then as JSON
    ns, _ = namespace(scalar=True)
    done = cli("krm", stdin=resource_list(as_item(ns)))
    assert done.returncode == 1, done.stderr
    assert re.search(rf"^items\[0\]: error: Namespace/shop .*{EXPANDS}", done.stderr, re.M)
    item = LOAD.load(ns)
    rl_json = {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": [item]}
    done = cli("krm", stdin=json.dumps(rl_json))
    assert done.returncode == 1, done.stderr
    assert done.stdout == "" or EXPANDS in done.stdout
    assert "Traceback" not in done.stderr
    assert re.search(rf"^items\[0\]: error: Namespace/shop .*{EXPANDS}", done.stderr, re.M)


def test_argocd_generate_refuses_it(bomb: tuple[Path, str], tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    ns, _ = namespace(scalar=False)
    (app / "namespace.yaml").write_text(ns.split("    netpol-gitops.io/flows")[0])
    (app / "laughs.yaml").write_text(bomb[0].read_text())
    env = {"ARGOCD_APP_NAMESPACE": "", "ARGOCD_APP_NAME": "laughs"}
    refused(cli("argocd", "generate", cwd=app, env=env), f"laughs.yaml:{bomb[1].split(':', 1)[1]}")
    # the flows plugin parameter is YAML too
    body, _ = laughs("", scalar=True)
    params = json.dumps([{"name": "flows", "string": body}])
    (app / "laughs.yaml").unlink()
    env = {**env, "ARGOCD_APP_NAMESPACE": "shop", "ARGOCD_APP_PARAMETERS": params}
    done = cli("argocd", "generate", cwd=app, env=env)
    assert done.returncode == 1 and done.stdout == "", done.stderr
    assert EXPANDS in done.stderr and "Traceback" not in done.stderr


def test_diff_refuses_a_head_that_adds_it(tmp_path: Path) -> None:
    require_tool("git")
    repo = Repo(tmp_path / "repo")
    ns, _ = namespace()
    repo.write("apps/shop/ns.yaml", ns.split("    netpol-gitops.io/flows")[0])
    base = repo.commit("base")
    text, at = configmap()
    repo.write("apps/shop/laughs.yaml", text)
    head = repo.commit("head adds the laughs")
    done = cli("diff", "--repo", str(repo.path), "--base", base, "--head", head)
    refused(done, f"apps/shop/laughs.yaml:{at}")


# ----------------------------------------------------------------- what stays allowed
SHARED_ANCHORS = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: &labels {app: web, tier: frontend}
spec:
  selector:
    matchLabels: *labels
  template:
    metadata:
      labels: *labels
    spec:
      containers:
        - &container
          name: web
          image: nginx
          ports: [{containerPort: 8080}]
          env:
            - &common {name: LOG, value: info}
        - <<: *container
          name: sidecar
          env: [*common, {name: ROLE, value: sidecar}]
"""

FLOWS = """\
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  annotations:
    netpol-gitops.io/default-deny: all
    netpol-gitops.io/flows: |
      - name: web-in
        from: {namespace: ingress}
        to: {pods: &web {app: web}}
        ports: &http [8080/tcp]
      - name: web-to-api
        from: {pods: *web}
        to: {pods: {app: api}}
        ports: *http
"""


def expanded(text: str) -> str:
    """The same documents with every alias written out (and merge keys merged)."""
    from netpol_gitops.yaml.emit import dump_objects  # noqa: PLC0415

    return dump_objects([d for d in LOAD.load_all(text) if d])


def test_a_few_shared_anchors_and_merge_keys_still_render(tmp_path: Path) -> None:
    src = tmp_path / "in.yaml"
    src.write_text(FLOWS + "---\n" + SHARED_ANCHORS)
    plain = tmp_path / "plain.yaml"
    plain.write_text(expanded(src.read_text()))
    done = cli("render", str(src))
    assert done.returncode == 0, done.stderr
    assert SHARED_ANCHORS in done.stdout  # passed through as it came
    generated = cli("render", "--only-generated", str(src))
    assert generated.stdout == cli("render", "--only-generated", str(plain)).stdout
    assert "allow-web-to-api" in generated.stdout
    as_json: list[dict[str, Any]] = json.loads(cli("render", "-o", "json", str(src)).stdout)
    deployment = next(o for o in as_json if o["kind"] == "Deployment")
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert deployment["spec"]["selector"]["matchLabels"] == {"app": "web", "tier": "frontend"}
    assert containers[1] == {
        "name": "sidecar",
        "image": "nginx",
        "ports": [{"containerPort": 8080}],
        "env": [{"name": "LOG", "value": "info"}, {"name": "ROLE", "value": "sidecar"}],
    }
    assert cli("check", str(src)).returncode == 0
