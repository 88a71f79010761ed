"""`netpol-gitops check`: one case per rule with exact text, every format, the pre-commit hook."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from ruamel.yaml import YAML

from tests.helpers import ROOT, cli, require_shared

CHECK = ROOT / "tests" / "check"
EXPECTED = """\
repo/namespaces.yaml:4:9: error: [no-default-deny] metadata.name: namespace open has no default deny (default-deny is none); every pod accepts and sends all traffic
repo/namespaces.yaml:8:1: error: [egress-without-dns] namespace nodns denies egress but not allow-dns: its pods cannot resolve names (set netpol-gitops.io/allow-dns: "true")
repo/namespaces.yaml:21:9: error: [half-open-flow] metadata.annotations."netpol-gitops.io/flows"[0]: flow 'web-to-payments' of namespace shop needs namespace payments (repo/namespaces.yaml:29:1) to allow it, but payments denies ingress and declares no matching flow or allow
repo/namespaces.yaml:25:9: warning: [selector-matches-nothing] metadata.annotations."netpol-gitops.io/flows"[1]: flow 'ghost-to-web': no workload in namespace shop has labels {'app': 'ghost'}
repo/policies.yaml:5:9: warning: [redundant-policy] metadata.name: NetworkPolicy shop/deny-everything does what the generated shop/default-deny-all does; delete it
"""  # noqa: E501 - the exact lines users see
INVALID = """\
invalid/namespaces.yaml:6:36: error: [invalid-annotation] metadata.annotations."netpol-gitops.io/default-deny": expected one of all, ingress, egress, none; got 'everything'
invalid/namespaces.yaml:11:9: error: [name-clash] metadata.name: NetworkPolicy payments/allow-dns is hand-written here and also generated from invalid/namespaces.yaml:16:1; rename the hand-written one or set a namePrefix in the config
"""  # noqa: E501


@pytest.fixture(autouse=True)
def in_check_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CHECK)


def test_one_finding_per_rule_exact_text() -> None:
    run = cli("check", "repo")
    assert run.stdout == EXPECTED
    assert run.code == 1


def test_render_problems_are_findings() -> None:
    run = cli("check", "invalid")
    assert run.stdout == INVALID
    assert run.code == 1


@pytest.mark.parametrize(("fail_on", "code"), [("error", 1), ("warning", 1), ("never", 0)])
def test_fail_on(fail_on: str, code: int, tmp_path: Path) -> None:
    assert cli("check", "repo", "--fail-on", fail_on).code == code


def test_warnings_alone_pass_the_default_gate(tmp_path: Path) -> None:
    (tmp_path / "ns.yaml").write_text(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  annotations:\n"
        "    netpol-gitops.io/flows: '[{from: {pods: {x: y}}, to: {pods: {}}}]'\n"
    )
    run = cli("check", str(tmp_path))
    assert run.code == 0
    assert "[selector-matches-nothing]" in run.stdout
    assert cli("check", str(tmp_path), "--fail-on", "warning").code == 1


def test_github_annotations_are_escaped(tmp_path: Path) -> None:
    hostile = "evil%0A::set-output name=x::y"
    (tmp_path / "ns.yaml").write_text(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  annotations:\n"
        f'    netpol-gitops.io/mode: "x\\n::add-mask::{hostile},:"\n'
    )
    run = cli("check", str(tmp_path), "--format", "github")
    lines = run.stdout.splitlines()
    assert len(lines) == 1  # a newline in the value cannot start a second command
    assert lines[0].startswith(
        f"::error file={tmp_path}/ns.yaml,line=6,col=28,title=netpol-gitops invalid-annotation::"
    )
    assert "evil%250A::set-output" in lines[0]  # the % is escaped


def test_workflow_command_escaping_of_real_newlines() -> None:
    from netpol_gitops.errors import Problem  # noqa: PLC0415
    from netpol_gitops.model.location import Location  # noqa: PLC0415
    from netpol_gitops.output.problems import to_github  # noqa: PLC0415

    f = Problem(
        Location("a,b:c.yaml", 1, 2, ""), "x\r\n::add-mask::secret 100%", rule="invalid-input"
    )
    assert to_github([f]) == (
        "::error file=a%2Cb%3Ac.yaml,line=1,col=2,title=netpol-gitops "
        "invalid-input::x%0D%0A::add-mask::secret 100%25\n"
    )


def test_sarif_validates_and_fingerprints_survive_moved_lines(tmp_path: Path) -> None:
    schema = json.loads(require_shared("vendor", "sarif-schema-2.1.0.json").read_text())
    sarif = json.loads(cli("check", "repo", "--format", "sarif").stdout)
    jsonschema.validators.validator_for(schema)(schema).validate(sarif)
    results = sarif["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == [
        "no-default-deny",
        "egress-without-dns",
        "half-open-flow",
        "selector-matches-nothing",
        "redundant-policy",
    ]
    rules = sarif["runs"][0]["tool"]["driver"]["rules"]
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in results)
    shutil.copytree(CHECK / "repo", tmp_path / "repo")
    for f in (tmp_path / "repo").iterdir():
        f.write_text("# a comment that moves every line\n\n" + f.read_text())
    os.chdir(tmp_path)
    moved = json.loads(cli("check", "repo", "--format", "sarif").stdout)["runs"][0]["results"]
    assert [r["partialFingerprints"] for r in moved] == [r["partialFingerprints"] for r in results]
    assert moved[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 6


def test_json_format() -> None:
    data = json.loads(cli("check", "repo", "--format", "json").stdout)
    assert data[0] == {
        "rule": "no-default-deny",
        "severity": "error",
        "file": "repo/namespaces.yaml",
        "line": 4,
        "column": 9,
        "field": "metadata.name",
        "message": "namespace open has no default deny (default-deny is none); "
        "every pod accepts and sends all traffic",
    }


def test_the_pre_commit_hook_entry_on_a_temporary_repo(tmp_path: Path) -> None:
    hook = YAML(typ="safe").load((ROOT / ".pre-commit-hooks.yaml").read_text())[0]
    assert hook["id"] == "netpol-gitops-check"
    repo = tmp_path / "gitops"
    shutil.copytree(CHECK / "repo", repo)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    argv = [*hook["entry"].split(), *hook.get("args", [])]
    bad = subprocess.run(argv, cwd=repo, env=env, capture_output=True, text=True, check=False)
    assert bad.returncode == 1
    assert "[half-open-flow]" in bad.stdout
    (repo / "namespaces.yaml").write_text(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: fine\n"
    )
    (repo / "policies.yaml").unlink()
    (repo / "workloads.yaml").unlink()
    good = subprocess.run(argv, cwd=repo, env=env, capture_output=True, text=True, check=False)
    assert good.returncode == 0, good.stdout + good.stderr
    assert good.stdout == ""


def test_audit_mode_reports_what_the_deny_would_block() -> None:
    run = cli("check", "audit", "--fail-on", "never")
    assert run.code == 0
    notes = [line for line in run.stdout.splitlines() if "[audit-would-block]" in line]
    assert notes == [
        "audit/namespace.yaml:1:1: note: [audit-would-block] namespace trial is in audit mode: "
        # audit generates nothing, so nothing is isolated yet: each of the 3 pods' 4
        # connections (to and from the 2 others and the outside) is blocked or narrowed
        "enforcing default-deny-all would block or narrow 12 connections: "
        "0.0.0.0-255.255.255.255[External] => trial/api[Pod] : All Connections; "
        "0.0.0.0-255.255.255.255[External] => trial/db[Pod] : All Connections; "
        "0.0.0.0-255.255.255.255[External] => trial/web[Pod] : All Connections; ..."
    ]
    sarif = json.loads(cli("check", "audit", "--format", "sarif").stdout)
    levels = {r["ruleId"]: r["level"] for r in sarif["runs"][0]["results"]}
    assert levels["audit-would-block"] == "note"
