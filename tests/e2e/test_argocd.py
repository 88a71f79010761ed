"""The Argo CD plugin through an emulation of argocd-cmp-server, with the shipped plugin.yaml."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.e2e.cmp import PLUGIN_YAML, cmp_generate
from tests.helpers import GOLDEN, ROOT, cli, require_tool

REPO = ROOT / "tests" / "argocd" / "repo"
MANAGED = "app.kubernetes.io/managed-by"


def policies(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [o for o in objects if (o.get("metadata", {}).get("labels") or {}).get(MANAGED)]


def names(objects: list[dict[str, Any]]) -> list[str]:
    return [f"{o['metadata']['namespace']}/{o['metadata']['name']}" for o in policies(objects)]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    shutil.copytree(REPO, tmp_path / "repo", symlinks=True)
    return tmp_path / "repo"


def test_a_kustomize_app_gets_what_render_gives(repo: Path) -> None:
    require_tool("kubectl")
    run = cmp_generate(repo, "apps/shop", app_namespace="shop")
    assert run.matched and run.code == 0, run.stderr
    expected = cli(
        "render", str(repo / "apps" / "shop"), "--config", str(repo / ".netpol-gitops.yaml")
    )
    assert run.stdout == expected.stdout
    assert names(run.objects) == [
        "shop/allow-dns",
        "shop/allow-ingress-nginx-to-web-ingress",
        "shop/allow-same-namespace",
        "shop/default-deny-all",
    ]


def test_a_plain_app_without_its_namespace_gets_policies_in_the_destination(repo: Path) -> None:
    run = cmp_generate(repo, "apps/plain", app_namespace="team-a")
    assert run.matched and run.code == 0, run.stderr
    assert [o["kind"] for o in run.objects] == ["Deployment", "NetworkPolicy"]  # no Namespace
    assert names(run.objects) == ["team-a/default-deny-ingress"]  # the app's own config


@pytest.mark.parametrize(
    ("env", "params", "expected"),
    [
        ({}, None, "team-a/default-deny-ingress"),  # .netpol-gitops.yaml
        ({"DEFAULT_DENY": "egress"}, None, "team-a/default-deny-egress"),  # env over the file
        (
            {"DEFAULT_DENY": "egress"},
            [{"name": "default-deny", "string": "all"}],
            "team-a/default-deny-all",
        ),  # parameters over env
    ],
)
def test_parameters_override_env_override_the_file(
    repo: Path, env: dict[str, str], params: list[dict[str, Any]] | None, expected: str
) -> None:
    run = cmp_generate(repo, "apps/plain", app_namespace="team-a", env_vars=env, parameters=params)
    assert run.code == 0, run.stderr
    assert expected in names(run.objects)


def test_array_parameters_and_config_parameters(repo: Path) -> None:
    run = cmp_generate(
        repo,
        "apps/plain",
        app_namespace="team-a",
        parameters=[
            {"name": "allow-from-namespaces", "array": ["ingress-nginx", "monitoring"]},
            {"name": "name-prefix", "string": "np-"},
        ],
    )
    assert run.code == 0, run.stderr
    assert names(run.objects) == [
        "team-a/np-allow-from-namespaces",
        "team-a/np-default-deny-ingress",
    ]


def test_discovery_is_narrow(repo: Path) -> None:
    assert cmp_generate(repo, "apps/shop", app_namespace="shop").matched  # the prefix
    assert cmp_generate(repo, "apps/plain", app_namespace="x").matched  # .netpol-gitops.yaml
    assert not cmp_generate(repo, "apps/other", app_namespace="x").matched


def test_a_bad_annotation_fails_with_the_message_on_stderr_and_nothing_on_stdout(
    repo: Path,
) -> None:
    require_tool("kubectl")
    ns = repo / "apps" / "shop" / "namespace.yaml"
    ns.write_text(ns.read_text().replace("default-deny: all", "default-deny: everything"))
    run = cmp_generate(repo, "apps/shop", app_namespace="shop")
    assert run.code == 1
    assert run.stdout == ""
    assert (
        'metadata.annotations."netpol-gitops.io/default-deny": expected one of all, '
        "ingress, egress, none; got 'everything'"
    ) in run.stderr


def test_bad_settings_name_their_source(repo: Path) -> None:
    run = cmp_generate(
        repo,
        "apps/plain",
        app_namespace="t",
        env_vars={"DEFUALT_DENY": "all"},
        parameters=[{"name": "allow-dns", "string": "yes"}],
    )
    assert run.code == 1 and run.stdout == ""
    assert run.stderr.splitlines()[:2] == [
        "ARGOCD_APP_PARAMETERS: error: [0] allow-dns: expected one of true, false; got 'yes'",
        "ARGOCD_ENV_DEFUALT_DENY: error: unknown setting (did you mean "
        "'ARGOCD_ENV_DEFAULT_DENY'?); known: "
        + ", ".join(
            sorted(
                "ARGOCD_ENV_" + k.upper().replace("-", "_")
                for k in (
                    "mode",
                    "default-deny",
                    "default-deny-pods",
                    "allow-dns",
                    "allow-same-namespace",
                    "allow-from-namespaces",
                    "allow-egress-internet",
                    "profiles",
                    "flows",
                    "opt-in",
                    "name-prefix",
                    "flavor",
                )
            )
        ),
    ]


def test_a_symlink_leaving_the_repository_is_refused(repo: Path, tmp_path: Path) -> None:
    secret = tmp_path / "outside.yaml"
    secret.write_text("apiVersion: v1\nkind: Secret\nmetadata: {name: stolen}\n")
    (repo / "apps" / "plain" / "leak.yaml").symlink_to(secret)
    run = cmp_generate(repo, "apps/plain", app_namespace="team-a")
    assert run.code == 1 and run.stdout == ""
    assert "symlink points outside" in run.stderr and "refused" in run.stderr


def test_a_symlink_inside_the_repository_is_followed(repo: Path) -> None:
    (repo / "apps" / "plain" / "shared.yaml").symlink_to(Path("../shop/deployment.yaml"))
    run = cmp_generate(repo, "apps/plain", app_namespace="team-a")
    assert run.code == 0, run.stderr
    assert [o["metadata"]["name"] for o in run.objects if o["kind"] == "Deployment"] == [
        "api",
        "web",
    ]


@pytest.mark.parametrize(
    "name", [c.name for c in sorted(GOLDEN.iterdir()) if not c.name.startswith("err-")]
)
def test_golden_cases_through_the_plugin(name: str, tmp_path: Path) -> None:
    case = GOLDEN / name
    repo = tmp_path / "repo"
    (repo / "app").mkdir(parents=True)
    shutil.copy(case / "input.yaml", repo / "app" / "input.yaml")
    if (case / "config.yaml").exists():
        shutil.copy(case / "config.yaml", repo / ".netpol-gitops.yaml")
    docs = [d for d in YAML(typ="safe").load_all((case / "input.yaml").read_text()) if d]
    objs = [i for d in docs for i in (d["items"] if d["kind"] == "List" else [d])]
    first_ns = next(o["metadata"]["name"] for o in objs if o["kind"] == "Namespace")
    run = cmp_generate(repo, "app", app_namespace=first_ns)
    assert run.matched and run.code == 0, run.stderr
    expected = [d for d in YAML(typ="safe").load_all((case / "expected.yaml").read_text()) if d]
    assert policies(run.objects) == policies(expected)


def test_the_repo_server_patch_adds_the_sidecar(tmp_path: Path) -> None:
    require_tool("kubectl")
    import subprocess  # noqa: PLC0415

    (tmp_path / "argocd.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: argocd-repo-server\n"
        "spec:\n  selector:\n    matchLabels: {app: repo}\n  template:\n    metadata:\n"
        "      labels: {app: repo}\n    spec:\n      containers:\n"
        "      - name: argocd-repo-server\n"
        "        image: quay.io/argoproj/argocd:v2.13.0\n      volumes:\n"
        "      - name: var-files\n        emptyDir: {}\n      - name: plugins\n"
        "        emptyDir: {}\n"
    )
    shutil.copy(ROOT / "plugin" / "argocd" / "repo-server-patch.yaml", tmp_path)
    (tmp_path / "kustomization.yaml").write_text(
        (ROOT / "plugin" / "argocd" / "kustomization.yaml").read_text()
        + "resources:\n- argocd.yaml\n"
    )
    done = subprocess.run(
        ["kubectl", "kustomize", str(tmp_path)], capture_output=True, text=True, check=True
    )
    deployment = YAML(typ="safe").load(done.stdout)
    pod = deployment["spec"]["template"]["spec"]
    sidecar = next(c for c in pod["containers"] if c["name"] == "netpol-gitops")
    assert sidecar["command"] == ["/var/run/argocd/argocd-cmp-server"]
    assert sidecar["securityContext"]["runAsUser"] == 999
    assert {m["name"] for m in sidecar["volumeMounts"]} == {
        "var-files",
        "plugins",
        "netpol-gitops-tmp",
    }
    assert {v["name"] for v in pod["volumes"]} == {"var-files", "plugins", "netpol-gitops-tmp"}
    assert PLUGIN_YAML.exists()


FQDN_FLOWS = "[{from: {pods: {app: api}}, to: {fqdn: api.stripe.com}, ports: [443]}]"


@pytest.mark.parametrize(
    ("env", "params"),
    [
        ({"FLAVOR": "cilium"}, None),
        ({"FLAVOR": "kubernetes"}, [{"name": "flavor", "string": "cilium"}]),  # params win
    ],
)
def test_the_flavor_setting_reaches_the_generator(
    repo: Path, env: dict[str, str], params: list[dict[str, Any]] | None
) -> None:
    run = cmp_generate(
        repo,
        "apps/plain",
        app_namespace="team-a",
        env_vars={"DEFAULT_DENY": "all", "FLOWS": FQDN_FLOWS, **env},
        parameters=params,
    )
    assert run.code == 0, run.stderr
    kinds = {(o["kind"], o["metadata"]["name"]) for o in policies(run.objects)}
    assert ("CiliumNetworkPolicy", "allow-api-to-api-stripe-com-egress") in kinds


def test_a_flavor_that_cannot_enforce_names_is_an_error(repo: Path) -> None:
    run = cmp_generate(
        repo,
        "apps/plain",
        app_namespace="team-a",
        env_vars={"FLOWS": FQDN_FLOWS},
        parameters=[{"name": "flavor", "string": "calico"}],
    )
    assert run.code == 1 and run.stdout == ""
    assert "flavor calico cannot enforce egress to a DNS name" in run.stderr
    bad = cmp_generate(repo, "apps/plain", app_namespace="team-a", env_vars={"FLAVOR": "cilum"})
    assert bad.code == 1
    assert bad.stderr.startswith(
        "ARGOCD_ENV_FLAVOR: error: expected one of kubernetes, cilium, calico; got 'cilum' "
        "(did you mean 'cilium'?)"
    )
