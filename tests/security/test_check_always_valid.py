"""`check --format sarif|json` always prints a whole, valid document: a problem that stops the
analysis (an invalid cidr or port in a hand-written NetworkPolicy, a file that is not YAML, a
bad config, a path that cannot be read) is a located finding in it, and the exit is 1. A CI job
that uploads the SARIF never gets an empty file, and a traceback never stands in for a finding."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from tests.helpers import require_shared

NAMESPACE = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n"
POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: hand-written
  namespace: shop
spec:
  podSelector: {{}}
  ingress:
  - {rule}
"""
CONFIG = "apiVersion: netpol-gitops.io/v1alpha1\nkind: NetworkPolicyGenerator\n"

# name -> (files, extra arguments, (file, line, column, field, message start) of the finding)
CASES: dict[str, tuple[dict[str, str], list[str], tuple[str, int, int, str, str]]] = {
    "cidr-not-an-ip": (
        {"np.yaml": POLICY.format(rule="from: [{ipBlock: {cidr: not-an-ip}}]")},
        [],
        ("np.yaml", 9, 29, "spec.ingress[0].from[0].ipBlock.cidr", "expected a CIDR"),
    ),
    "except-not-an-ip": (
        {"np.yaml": POLICY.format(rule="from: [{ipBlock: {cidr: 10.0.0.0/8, except: [x]}}]")},
        [],
        ("np.yaml", 9, 50, "spec.ingress[0].from[0].ipBlock.except[0]", "expected a CIDR"),
    ),
    "port-out-of-range": (
        {"np.yaml": POLICY.format(rule="ports: [{port: 99999}]")},
        [],
        ("np.yaml", 9, 20, "spec.ingress[0].ports[0].port", "port 99999 is out of range"),
    ),
    "end-port-not-a-number": (
        {"np.yaml": POLICY.format(rule="ports: [{port: 80, endPort: x}]")},
        [],
        ("np.yaml", 9, 33, "spec.ingress[0].ports[0].endPort", "expected a number from port"),
    ),
    "protocol-unknown": (
        {"np.yaml": POLICY.format(rule="ports: [{port: 80, protocol: ICMP}]")},
        [],
        ("np.yaml", 9, 34, "spec.ingress[0].ports[0].protocol", "expected TCP, UDP or SCTP"),
    ),
    "malformed-yaml": (
        {"bad.yaml": "kind: ConfigMap\nmetadata: [\n"},
        [],
        ("bad.yaml", 3, 1, "", "invalid YAML"),
    ),
    "bad-config": (
        {".netpol-gitops.yaml": CONFIG + "spec:\n  flavour: cilium\n"},
        [],
        (".netpol-gitops.yaml", 4, 3, "spec.flavour", "unknown key 'flavour'"),
    ),
    "bad-config-file": (
        {"cfg.yaml": CONFIG + "spec: {optIn: maybe}\n"},
        ["--config", "cfg.yaml"],
        ("cfg.yaml", 3, 15, "spec.optIn", ""),
    ),
    "unreadable-path": ({}, ["missing/"], ("missing/", 0, 0, "", "")),
}


def check(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "netpol_gitops", "check", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def layout(tmp_path: Path, files: dict[str, str]) -> None:
    (tmp_path / "ns.yaml").write_text(NAMESPACE)
    for name, text in files.items():
        (tmp_path / name).write_text(text)


def path_of(args: list[str]) -> list[str]:
    """The PATH argument: the case's own, else the directory."""
    return args if args and not args[-1].endswith(".yaml") else [*args, "."]


@pytest.mark.parametrize("case", sorted(CASES))
def test_sarif_is_valid_and_holds_the_problem(case: str, tmp_path: Path) -> None:
    files, args, (file, line, col, fld, text) = CASES[case]
    layout(tmp_path, files)
    done = check(tmp_path, "--format", "sarif", *path_of(args))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    sarif = json.loads(done.stdout)
    schema = json.loads(require_shared("vendor", "sarif-schema-2.1.0.json").read_text())
    jsonschema.validators.validator_for(schema)(schema).validate(sarif)
    results = sarif["runs"][0]["results"]
    found = [
        r
        for r in results
        if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == file
        and r["level"] == "error"
    ]
    assert found, results
    region = found[0]["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (max(line, 1), max(col, 1))
    assert found[0]["message"]["text"].startswith(f"{fld}: {text}" if fld else text)


@pytest.mark.parametrize("case", sorted(CASES))
def test_json_is_valid_and_holds_the_problem(case: str, tmp_path: Path) -> None:
    files, args, (file, line, col, fld, text) = CASES[case]
    layout(tmp_path, files)
    done = check(tmp_path, "--format", "json", *path_of(args))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    found = [f for f in json.loads(done.stdout) if f["file"] == file]
    assert found
    assert (found[0]["severity"], found[0]["line"], found[0]["column"]) == ("error", line, col)
    assert found[0]["field"] == fld
    assert found[0]["message"].startswith(text)


def test_text_and_github_carry_it_too(tmp_path: Path) -> None:
    files, _, _ = CASES["cidr-not-an-ip"]
    layout(tmp_path, files)
    text = check(tmp_path, ".")
    assert (text.returncode, text.stdout) == (
        1,
        "np.yaml:9:29: error: [invalid-input] spec.ingress[0].from[0].ipBlock.cidr: expected a "
        "CIDR such as 10.0.0.0/8; got 'not-an-ip'\n",
    )
    github = check(tmp_path, ".", "--format", "github")
    assert github.returncode == 1
    assert github.stdout.startswith("::error file=np.yaml,line=9,col=29,")
