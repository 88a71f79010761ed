"""Bugs found on real repositories (issue 14): each through the command where users met it, with
a manifest like the one in the wild."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import EXAMPLE, cli, require_tool

# An unrendered template (Helm, cookiecutter) carries `{{cell}}`: YAML reads a flow mapping whose
# key is a flow mapping.
TEMPLATED_NS = """\
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels:
    cell: {{cell}}
"""
COMPLEX_KEY_WORKLOAD = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels:
    ? [team, tier]
    : web
spec:
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}
"""
MAPPING_KEY = (
    "error: invalid YAML: a mapping as a mapping key (an unrendered template's '{{ ... }}'? "
    "render it first); keys must be scalars, as kubectl requires"
)
SEQUENCE_KEY = (
    "error: invalid YAML: a sequence as a mapping key; keys must be scalars, as kubectl requires"
)


def assert_located(command: str, path: Path, where: str, message: str) -> None:
    """One located error, exit 1: on stderr with nothing on stdout, or as check's finding."""
    run = cli(command, str(path))
    assert run.code == 1, run.stderr
    if command == "check":  # a finding in its report
        assert run.stdout == f"{path}:{where}: {message.replace(': ', ': [invalid-yaml] ', 1)}\n"
    else:
        assert run.stdout == ""
        assert run.stderr.splitlines()[0] == f"{path}:{where}: {message}"


@pytest.mark.parametrize("command", ["render", "check", "reach"])
def test_a_template_key_in_a_namespace_is_a_located_error(tmp_path: Path, command: str) -> None:
    path = tmp_path / "ns.yaml"
    path.write_text(TEMPLATED_NS)
    assert_located(command, path, "6:12", MAPPING_KEY)


@pytest.mark.parametrize("command", ["check", "reach"])
def test_a_sequence_key_in_a_workload_is_a_located_error(tmp_path: Path, command: str) -> None:
    path = tmp_path / "web.yaml"
    path.write_text(COMPLEX_KEY_WORKLOAD)
    assert_located(command, path, "7:7", SEQUENCE_KEY)


def test_render_passes_a_document_it_does_not_read_through_untouched(tmp_path: Path) -> None:
    """render parses only Namespaces, NetworkPolicies and Lists: a workload or ConfigMap with a
    complex key is the API server's to refuse, exactly as it came."""
    path = tmp_path / "web.yaml"
    path.write_text(COMPLEX_KEY_WORKLOAD)
    run = cli("render", str(path))
    assert run.code == 0, run.stderr
    assert run.stdout == "---\n" + COMPLEX_KEY_WORKLOAD


def test_krm_reports_a_template_key_as_an_error_result() -> None:
    items = "".join("  " + line + "\n" for line in TEMPLATED_NS.splitlines())
    items = "- " + items[2:]
    resource_list = f"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n{items}"
    run = cli("krm", stdin=resource_list)
    assert run.code == 1
    assert "items[0]:9:14: " + MAPPING_KEY in run.stderr
    assert "severity: error" in run.stdout and "keys must be scalars" in run.stdout


def test_a_sequence_key_inside_the_flows_value_is_located_there(tmp_path: Path) -> None:
    path = tmp_path / "ns.yaml"
    path.write_text(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  annotations:\n"
        "    netpol-gitops.io/flows: |\n"
        "      - from: {pods: {app: web}}\n"
        "        to: {pods: {? [a]: b}}\n"
    )
    run = cli("render", str(path))
    assert run.code == 1 and run.stdout == ""
    assert run.stderr.splitlines()[0] == (
        f'{path}:8:23: error: metadata.annotations."netpol-gitops.io/flows": invalid YAML in the '
        "flows value: a sequence as a mapping key; keys must be scalars, as kubectl requires"
    )


KRUISE_DAEMONSET = """\
apiVersion: apps.kruise.io/v1alpha1
kind: DaemonSet
metadata: {name: agent, namespace: shop}
spec:
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers:
        agent: {image: "agent:1"}
"""
VOLCANO_JOB = """\
apiVersion: batch.volcano.sh/v1alpha1
kind: Job
metadata: {name: train, namespace: shop}
spec:
  tasks:
  - name: worker
    replicas: 2
    template:
      metadata: {labels: {app: worker}}
      spec: {containers: [{name: worker, image: "trainer:1"}]}
  template:
    metadata: {labels: {app: volcano}}
    spec: {containers: [{name: x, image: x}]}
"""
WEB_POD = "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop, labels: {app: web}}\n"


def test_custom_resources_named_like_workloads_are_not_workloads(tmp_path: Path) -> None:
    path = tmp_path / "crds.yaml"
    path.write_text("---\n".join([KRUISE_DAEMONSET, VOLCANO_JOB, WEB_POD]))
    run = cli("reach", str(path))
    assert run.code == 0, run.stderr
    assert run.stdout == (
        "0.0.0.0-255.255.255.255[External] => shop/web[Pod] : All Connections\n"
        "shop/web[Pod] => 0.0.0.0-255.255.255.255[External] : All Connections\n"
    )


def test_a_core_workload_with_containers_as_a_mapping_is_a_located_error(tmp_path: Path) -> None:
    path = tmp_path / "ds.yaml"
    path.write_text(KRUISE_DAEMONSET.replace("apps.kruise.io/v1alpha1", "apps/v1"))
    run = cli("reach", str(path))
    assert run.code == 1 and run.stdout == ""
    assert run.stderr.splitlines()[0] == (
        f"{path}:9:9: error: spec.template.spec.containers: expected a list; got a mapping"
    )


TYPO_PORT = """\
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  annotations:
    netpol-gitops.io/flows: |
      - name: web-to-api
        from: {pods: {app: web}}
        to: {pods: {app: api}}
        ports: [8080, htp]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
      - name: api
        image: api
        ports: [{name: http, containerPort: 8080}, {name: metrics, containerPort: 9090}]
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
"""
UNRESOLVED = (
    "{path}:7:9: {severity} metadata.annotations.\"netpol-gitops.io/flows\"[0]: flow 'web-to-api': "
    "ports[1] 'htp': no container of the pods it goes to declares a TCP port of that name (they "
    "declare http, metrics), so it connects nothing (did you mean 'http'?)"
)


def test_check_reports_a_typo_in_a_named_port(tmp_path: Path) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(TYPO_PORT)
    run = cli("check", str(path))
    assert run.code == 1
    assert (
        run.stdout == UNRESOLVED.format(path=path, severity="error: [unresolved-named-port]") + "\n"
    )
    sarif = cli("check", str(path), "--format", "sarif").stdout
    assert '"id": "unresolved-named-port"' in sarif
    path.write_text(TYPO_PORT.replace("htp", "http"))
    assert cli("check", str(path)).stdout == ""


def test_render_warns_about_a_typo_in_a_named_port_and_still_renders(tmp_path: Path) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(TYPO_PORT)
    run = cli("render", str(path), "--only-generated")
    assert run.code == 0
    assert run.stderr == UNRESOLVED.format(path=path, severity="warning:") + "\n"
    assert "port: htp" in run.stdout  # rendered as declared
    path.write_text(TYPO_PORT.replace("htp", "http"))
    assert cli("render", str(path)).stderr == ""


def test_krm_warns_about_a_typo_in_a_named_port_and_still_generates() -> None:
    items = "".join(
        "- " + doc.replace("\n", "\n  ").rstrip(" ") for doc in TYPO_PORT.split("---\n")
    )
    run = cli(
        "krm", stdin=f"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n{items}"
    )
    assert run.code == 0
    assert "kind: NetworkPolicy" in run.stdout
    assert "severity: warning" in run.stdout and "ports[1] 'htp'" in run.stdout
    assert "items[0]: warning: Namespace/shop" in run.stderr


# A chart's "allow-all" policy: it selects every pod for ingress, and lets everything in.
ALLOW_ALL = """\
apiVersion: v1
kind: Namespace
metadata:
  name: legacy
  annotations:
    netpol-gitops.io/default-deny: none
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-all
  namespace: legacy
spec:
  podSelector: {}
  ingress:
  - {}
"""


@pytest.mark.parametrize(
    "rule",
    [
        "  - {}\n",
        "  - from: [{namespaceSelector: {}}, {ipBlock: {cidr: 0.0.0.0/0}}]\n",
        "  - ports: [{protocol: TCP}, {protocol: UDP}, {protocol: SCTP}]\n",
    ],
)
def test_an_allow_all_policy_is_no_default_deny(tmp_path: Path, rule: str) -> None:
    path = tmp_path / "legacy.yaml"
    path.write_text(ALLOW_ALL.replace("  - {}\n", rule))
    run = cli("check", str(path))
    assert run.code == 1
    assert run.stdout == (
        f"{path}:4:9: error: [no-default-deny] metadata.name: namespace legacy has no default deny "
        "(default-deny is none; NetworkPolicy legacy/allow-all allows all ingress to every pod); "
        "every pod accepts and sends all traffic\n"
    )


@pytest.mark.parametrize(
    "rule",
    [
        "  - from: [{podSelector: {}}]\n",  # its own namespace only
        "  - from: [{namespaceSelector: {}}]\n",  # no IP outside the cluster
        "  - ports: [{protocol: TCP}]\n",  # TCP only
        "  []\n",  # a deny
    ],
)
def test_a_policy_that_admits_less_than_everyone_denies(tmp_path: Path, rule: str) -> None:
    path = tmp_path / "legacy.yaml"
    path.write_text(ALLOW_ALL.replace("  - {}\n", rule).replace("ingress:\n  []", "ingress: []"))
    run = cli("check", str(path))
    assert run.code == 0, run.stdout


# Windows PowerShell 5's `Out-File` and `>` write UTF-16 LE with a byte order mark.
SHOP = """\
apiVersion: v1
kind: Namespace
metadata:
  name: shop  # café
  annotations:
    netpol-gitops.io/default-deny: ingress
"""


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_utf16_with_a_byte_order_mark_is_read_as_kubectl_reads_it(
    tmp_path: Path, encoding: str
) -> None:
    bom = b"\xfe\xff" if encoding == "utf-16-be" else b""  # Python's utf-16 writes its own
    (tmp_path / "shop.yaml").write_bytes(bom + SHOP.encode(encoding))
    (tmp_path / "utf8.yaml").write_text(SHOP)
    run = cli("render", str(tmp_path / "shop.yaml"))
    assert run.code == 0, run.stderr
    assert run.stdout == cli("render", str(tmp_path / "utf8.yaml")).stdout
    assert "# café" in run.stdout and "default-deny-ingress" in run.stdout
    piped = subprocess.run(
        [sys.executable, "-m", "netpol_gitops.cli", "render", "-"],
        input=bom + SHOP.encode(encoding),
        capture_output=True,
        check=False,
    )
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout.decode() == run.stdout


def test_utf32_which_kubectl_refuses_is_refused_with_how_to_fix(tmp_path: Path) -> None:
    path = tmp_path / "shop.yaml"
    path.write_bytes(SHOP.encode("utf-32"))
    run = cli("render", str(path))
    assert run.code == 1 and run.stdout == ""
    assert run.stderr.splitlines()[0] == (
        f"{path}:1:1: error: UTF-32 text (by its byte order mark); kubectl reads UTF-8 and "
        "UTF-16 only: save it as UTF-8"
    )


def test_utf16_without_a_byte_order_mark_is_refused_as_before(tmp_path: Path) -> None:
    path = tmp_path / "shop.yaml"
    path.write_bytes(SHOP.encode("utf-16-le"))
    run = cli("render", str(path))
    assert run.code == 1 and run.stdout == ""


def test_argocd_discovers_an_app_whose_namespace_is_utf16(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".git").mkdir()
    app = tmp_path / "apps" / "shop"
    app.mkdir(parents=True)
    (app / "namespace.yaml").write_bytes(SHOP.encode("utf-16"))
    monkeypatch.chdir(app)
    run = cli("argocd", "discover")
    assert (run.code, run.stdout) == (0, "namespace.yaml\n")


def test_problems_sort_numbers_as_numbers() -> None:
    """A kustomize build hands the function its items without files or lines: the items and the
    flows are told apart by their numbers only."""
    flows = ", ".join(
        f"{{name: f{i}, from: {{pods: {{}}}}, to: {{pods: {{}}}}, ports: [99999]}}"
        for i in range(20)
    )
    items = "".join(
        f"- apiVersion: v1\n  kind: Namespace\n  metadata:\n    name: ns{i}\n"
        f"    annotations: {{netpol-gitops.io/default-deny: al}}\n"
        for i in range(11)
    )
    items += (
        "- apiVersion: v1\n  kind: Namespace\n  metadata:\n    name: shop\n"
        f"    annotations:\n      netpol-gitops.io/flows: '[{flows}]'\n"
    )
    run = cli(
        "krm", stdin=f"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n{items}"
    )
    assert run.code == 1
    where = [line.split(": error: ")[0] for line in run.stderr.splitlines()]
    assert where[:11] == [f"items[{i}]" for i in range(11)]
    fields = [line.split(": ")[2] for line in run.stderr.splitlines()[11:]]
    flows_field = 'Namespace/shop metadata.annotations."netpol-gitops.io/flows"'
    assert fields == [f"{flows_field}[{i}].ports[0]" for i in range(20)]


HELM_TEMPLATE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "web.fullname" . }}
  labels:
    {{- include "web.labels" . | nindent 4 }}
"""
CHART_ERROR = "error: Helm chart: render it first (helm template ... | netpol-gitops render -)"


def helm_chart(folder: Path) -> None:
    (folder / "templates").mkdir(parents=True)
    (folder / "Chart.yaml").write_text("apiVersion: v2\nname: web\nversion: 1.0.0\n")
    (folder / "values.yaml").write_text("replicaCount: 1\n")
    (folder / "templates" / "deployment.yaml").write_text(HELM_TEMPLATE)


@pytest.mark.parametrize("command", ["render", "reach"])
def test_a_helm_chart_folder_says_to_render_it_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    helm_chart(tmp_path / "web")
    monkeypatch.chdir(tmp_path)
    run = cli(command, "web")
    assert (run.code, run.stdout) == (1, "")
    assert run.stderr.splitlines() == [
        f"web: {CHART_ERROR}",
        "netpol-gitops: 1 problem; nothing written",
    ]


def test_a_helm_chart_inside_a_folder_read_as_yaml_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    helm_chart(tmp_path / "charts" / "web")
    (tmp_path / "ns.yaml").write_text(SHOP)
    monkeypatch.chdir(tmp_path)
    run = cli("render", ".")
    assert (run.code, run.stdout) == (1, "")
    assert run.stderr.splitlines()[0] == f"charts/web: {CHART_ERROR}"


@pytest.mark.parametrize(
    ("focus", "peer"),
    [
        ("my-app/backend", "my-app/backend[Deployment]"),
        ("my-app/backend[Deployment]", "my-app/backend[Deployment]"),  # as reach prints it
        ("my-app", "my-app/"),
        ("11.0.0.0-100.63.255.255[External]", "11.0.0.0-100.63.255.255[External]"),
        ("11.0.0.0-100.63.255.255", "11.0.0.0-100.63.255.255[External]"),
    ],
)
def test_reach_focus_takes_every_form_reach_prints(focus: str, peer: str) -> None:
    everything = cli("reach", str(EXAMPLE), "--generate").stdout.splitlines()
    run = cli("reach", str(EXAMPLE), "--generate", "--focus", focus)
    assert run.code == 0, run.stderr
    expected = [
        line
        for line in everything
        if any(end.startswith(peer) for end in line.split(" : ")[0].split(" => "))
    ]
    assert expected and run.stdout.splitlines() == expected


@pytest.mark.parametrize("focus", ["my-app/nope", "my", "my-app/backend[Pod]", "1.2.3.4-1.2.3.5"])
@pytest.mark.parametrize("output", ["txt", "md"])
def test_reach_focus_that_matches_nothing_is_an_error(focus: str, output: str) -> None:
    run = cli("reach", str(EXAMPLE), "--generate", "--focus", focus, "-o", output)
    assert (run.code, run.stdout) == (1, "")
    assert run.stderr == (
        f"netpol-gitops: --focus '{focus}' matches no workload, namespace or IP range of the "
        "input (give a namespace, NS/NAME, NS/NAME[Kind] or an IP range as reach prints it, "
        "e.g. 10.0.0.0-10.255.255.255[External])\n"
    )


def test_check_locates_kustomize_build_findings_at_the_kustomization(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_tool("kubectl")
    (tmp_path / ".git").mkdir()
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "kustomization.yaml").write_text("resources:\n- ns.yaml\n")
    (tmp_path / "base" / "ns.yaml").write_text(ALLOW_ALL.split("---\n", maxsplit=1)[0])
    (tmp_path / "overlays" / "prod").mkdir(parents=True)
    (tmp_path / "overlays" / "prod" / "kustomization.yaml").write_text("resources:\n- ../../base\n")
    monkeypatch.chdir(tmp_path)
    run = cli("check", "overlays/prod")
    assert run.code == 1
    assert run.stdout == (
        "overlays/prod/kustomization.yaml:1:1: error: [no-default-deny] metadata.name: namespace "
        "legacy has no default deny (default-deny is none); every pod accepts and sends all "
        "traffic (at <kustomize build overlays/prod>:6:9)\n"
    )
    sarif = json.loads(cli("check", "overlays/prod", "--format", "sarif").stdout)
    (result,) = sarif["runs"][0]["results"]
    physical = result["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == "overlays/prod/kustomization.yaml"
    assert physical["region"] == {"startLine": 1, "startColumn": 1}


def test_check_locates_findings_in_the_source_when_kustomize_says_the_origin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With `buildMetadata: [originAnnotations]` (the user's choice; never added by us) a
    finding lands in the file the object came from, at its metadata.name."""
    require_tool("kubectl")
    (tmp_path / ".git").mkdir()
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "kustomization.yaml").write_text("resources:\n- ns.yaml\n")
    (tmp_path / "base" / "ns.yaml").write_text(
        "# the legacy namespace\n" + ALLOW_ALL.split("---\n", maxsplit=1)[0]
    )
    (tmp_path / "overlays" / "prod").mkdir(parents=True)
    (tmp_path / "overlays" / "prod" / "kustomization.yaml").write_text(
        "resources:\n- ../../base\nbuildMetadata: [originAnnotations]\n"
    )
    monkeypatch.chdir(tmp_path)
    run = cli("check", "overlays/prod")
    assert run.code == 1
    line = run.stdout.splitlines()[0]
    assert line.startswith(
        "base/ns.yaml:5:9: error: [no-default-deny] metadata.name: namespace legacy"
    )
    assert line.endswith("(at <kustomize build overlays/prod>:8:9)")
    sarif = json.loads(cli("check", "overlays/prod", "--format", "sarif").stdout)
    (result,) = sarif["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "base/ns.yaml"
