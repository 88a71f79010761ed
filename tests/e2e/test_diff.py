"""`netpol-gitops diff` between real commits of temporary git repositories."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from netpol_gitops.output.report_markdown import COMMENT_LIMIT, MARKER
from tests.builders import APPS, FLOW, NS, Repo, shop_repo
from tests.helpers import EXAMPLE, ROOT, change_lines, cli, require_tool

GOLDEN_COMMENT = ROOT / "tests" / "diff-comment.expected.md"
GOLDEN_DIFFS = ROOT / "tests" / "golden-diff"
# edits of the bundled example's namespaces.yaml, each with its golden comment
EXAMPLE_EDITS = {
    "widen-backend-to-database": ("ports: [5432/tcp]", "ports: [5432/tcp, 6379/tcp]"),
    "deny-ingress-only": ("default-deny: all", "default-deny: ingress"),
    "drop-the-annotations": ("netpol-gitops.io/default-deny: all", "netpol-gitops.io/mode: 'off'"),
}


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    require_tool("git")
    return shop_repo(tmp_path / "repo")


def diff(repo: Repo, base: str, *extra: str) -> str:
    run = cli("diff", "--repo", str(repo.path), "--base", base, *extra)
    assert run.code == 0, run.stderr
    return run.stdout


def test_a_namespace_losing_its_annotation_is_a_regression(repo: Repo) -> None:
    base = repo.git("rev-parse", "HEAD")
    repo.write("apps/shop/ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n")
    head = repo.commit("drop the annotations")
    report = json.loads(diff(repo, base, "-o", "json"))
    assert report["base"] == base and report["head"] == head
    assert report["namespaces"] == [{"name": "shop", "before": "all", "after": "off"}]
    assert report["policies"]["removed"] == [
        "shop/allow-dns",
        "shop/allow-web-to-api-egress",
        "shop/allow-web-to-api-ingress",
        "shop/default-deny-all",
    ]
    assert "~ shop/web[Pod] => shop/api[Pod] : TCP 8080 -> All Connections" in change_lines(report)
    assert report["exposed"] == {
        "shop": {
            "egress": ["shop/api[Pod]", "shop/web[Pod]"],
            "ingress": ["shop/api[Pod]", "shop/web[Pod]"],
        }
    }
    assert report["decisions"][:2] == [
        {
            "kind": "protection",
            "message": "shop: egress no longer denied by default; api, web may reach anything",
        },
        {
            "kind": "protection",
            "message": "shop: ingress no longer denied by default; api, web may be reached "
            "by anything",
        },
    ]
    assert report["findings"][0]["rule"] == "protection-reduced"
    failing = cli("diff", "--repo", str(repo.path), "--base", base, "--fail-on", "unprotected")
    assert failing.code == 1
    assert "less protection in: shop" in failing.stderr


def test_a_new_flow_opens_a_connection(repo: Repo) -> None:
    base = repo.git("rev-parse", "HEAD")
    flows = FLOW.format(name="web-to-api", port="8080") + FLOW.format(name="metrics", port="9090")
    repo.write("apps/shop/ns.yaml", NS.format(name="shop", flows=flows))
    repo.commit("add a flow")
    report = json.loads(diff(repo, base, "-o", "json"))
    assert report["namespaces"] == []
    assert change_lines(report) == ["~ shop/web[Pod] => shop/api[Pod] : TCP 8080 -> TCP 8080,9090"]
    assert report["verdict"].startswith("1 connection changed;")
    assert report["policies"]["added"] == [
        "shop/allow-metrics-egress",
        "shop/allow-metrics-ingress",
    ]


def test_a_removed_flow_closes_it_and_a_rename_is_remove_plus_add(repo: Repo) -> None:
    base = repo.git("rev-parse", "HEAD")
    repo.write(
        "apps/shop/ns.yaml",
        NS.format(name="shop", flows=FLOW.format(name="web-calls-api", port="8080")),
    )
    repo.commit("rename")
    renamed = json.loads(diff(repo, base, "-o", "json"))
    assert change_lines(renamed) == []
    assert renamed["policies"]["removed"] == [
        "shop/allow-web-to-api-egress",
        "shop/allow-web-to-api-ingress",
    ]
    assert renamed["policies"]["added"] == [
        "shop/allow-web-calls-api-egress",
        "shop/allow-web-calls-api-ingress",
    ]
    repo.write("apps/shop/ns.yaml", NS.format(name="shop", flows="      []\n"))
    repo.commit("remove the flow")
    removed = json.loads(diff(repo, base, "-o", "json"))
    assert change_lines(removed) == ["- shop/web[Pod] => shop/api[Pod] : TCP 8080"]


def test_the_comment_is_golden(repo: Repo) -> None:
    base = repo.git("rev-parse", "HEAD")
    repo.write(
        "apps/shop/ns.yaml",
        NS.format(name="shop", flows=FLOW.format(name="web-to-api", port="8443")),
    )
    repo.write(
        "apps/billing/ns.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n"
        "  name: billing\n  annotations:\n    netpol-gitops.io/default-deny: ingress\n",
    )
    repo.write(  # labelled as generated, but the generator makes no such policy
        "apps/shop/allow-all.yaml",
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n"
        "  name: allow-all\n  namespace: shop\n"
        "  labels: {app.kubernetes.io/managed-by: netpol-gitops}\n"
        "spec:\n  podSelector: {}\n  policyTypes: [Ingress, Egress]\n"
        "  ingress: [{}]\n  egress: [{}]\n",
    )
    repo.commit("change")
    text = diff(repo, base, "-o", "md")
    text = text.replace(base[:12], "BASE").replace(repo.git("rev-parse", "HEAD")[:12], "HEAD")
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN_COMMENT.write_text(text)
    assert text == GOLDEN_COMMENT.read_text()
    assert text.startswith(MARKER)


@pytest.mark.parametrize("case", sorted(EXAMPLE_EDITS))
def test_comments_on_the_bundled_example_are_golden(case: str, tmp_path: Path) -> None:
    """The cases a reviewer tried: a widened pair is one changed connection; a namespace
    that stops denying egress leads the comment, in words, and the internet is one peer."""
    require_tool("git")
    repo = Repo(tmp_path / "repo")
    shutil.copytree(EXAMPLE, repo.path / "apps")
    base = repo.commit("base")
    old, new = EXAMPLE_EDITS[case]
    manifest = repo.path / "apps" / "namespaces.yaml"
    assert old in manifest.read_text()
    manifest.write_text(manifest.read_text().replace(old, new, 1))
    head = repo.commit(case)
    text = diff(repo, base, "-o", "md").replace(base[:12], "BASE").replace(head[:12], "HEAD")
    golden = GOLDEN_DIFFS / f"{case}.expected.md"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text)
    assert text == golden.read_text()
    report = json.loads(diff(repo, base, "-o", "json"))
    # nothing whose meaning did not change: ingress-nginx and coredns reach addresses outside
    # the cluster as before, whatever the change does to the IP partition
    unchanged = [
        c
        for kind in ("added", "removed", "changed")
        for c in report["connections"][kind]
        if c["src"].startswith(("ingress-nginx/", "kube-system/")) and "/" not in c["dst"]
    ]
    assert unchanged == []


def test_a_huge_change_is_cut_to_fit_a_comment(repo: Repo) -> None:
    base = repo.git("rev-parse", "HEAD")
    for i in range(150):
        name = f"team-{i:03d}"
        repo.write(
            f"apps/{name}/ns.yaml",
            NS.format(name=name, flows=FLOW.format(name="web-to-api", port="8080")),
        )
        repo.write(f"apps/{name}/pods.yaml", APPS.format(ns=name))
    repo.commit("many namespaces")
    text = diff(repo, base, "-o", "md")
    assert len(text) <= COMMENT_LIMIT
    assert "left out to fit GitHub's comment limit" in text or "more lines in the full" in text
    assert "| `team-149` | absent | all |" in text  # the summary is never cut


def test_kustomizations_are_built_from_an_export_with_plugins_refused(repo: Repo) -> None:
    require_tool("kubectl")
    base = repo.git("rev-parse", "HEAD")
    repo.write(
        "apps/shop/kustomization.yaml", "resources: [ns.yaml, pods.yaml]\ngenerators: [gen.yaml]\n"
    )
    repo.write(
        "apps/shop/gen.yaml",
        "apiVersion: x/v1\nkind: Evil\nmetadata:\n  name: e\n"
        "  annotations:\n    config.kubernetes.io/function: |\n      exec:\n"
        "        path: ./evil.sh\n",
    )
    repo.commit("a kustomization that asks for an exec function")
    run = cli("diff", "--repo", str(repo.path), "--base", base, "--path", "apps/shop")
    assert run.code == 1
    assert "never runs repository code" in run.stderr


def test_a_revision_missing_from_a_shallow_clone_says_to_fetch_it(
    repo: Repo, tmp_path: Path
) -> None:
    base = repo.git("rev-parse", "HEAD")
    repo.write("apps/shop/extra.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    repo.commit("head")
    clone = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth=1", f"file://{repo.path}", str(clone)], check=True
    )
    run = cli("diff", "--repo", str(clone), "--base", base)
    assert run.code == 1
    assert (
        f"revision '{base}' is not in this repository; this is a shallow clone: fetch it "
        f"first, e.g. `git fetch --depth=1 origin {base}`" in run.stderr
    )


def _step(name: str) -> dict[str, object]:
    from ruamel.yaml import YAML  # noqa: PLC0415

    action = YAML(typ="safe").load((ROOT / "action.yml").read_text())
    return next(s for s in action["runs"]["steps"] if s.get("name") == name)


def test_the_action_review_step_writes_outputs_and_reports(repo: Repo, tmp_path: Path) -> None:
    """Run action.yml's own script as the runner would, with the expressions resolved."""
    import sys  # noqa: PLC0415

    base = repo.git("rev-parse", "HEAD")
    repo.write("apps/shop/ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n")
    repo.commit("drop the annotations")
    step = _step("Review the change")
    outputs = tmp_path / "github_output"
    env = {
        **os.environ,
        "BASE": base,
        "REVIEW_PATHS": "apps",
        "REVIEW_CONFIG": "",
        "REPORT_DIR": str(tmp_path / "report"),
        "GITHUB_OUTPUT": str(outputs),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    done = subprocess.run(
        ["bash", "-e", "-c", str(step["run"])],
        cwd=repo.path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert outputs.read_text() == "changed=true\nregressions=shop\n"
    assert sorted(p.name for p in (tmp_path / "report").iterdir()) == [
        "comment.md",
        "report.json",
        "report.md",
        "report.txt",
        "summary.md",
    ]
    assert "namespace shop: all -> off  REGRESSION" in done.stdout


def test_many_policies_labelled_as_generated_stay_within_the_comment() -> None:
    from netpol_gitops.model.connection import Connection  # noqa: PLC0415
    from netpol_gitops.model.portsets import ALL  # noqa: PLC0415
    from netpol_gitops.output.report_markdown import to_markdown  # noqa: PLC0415
    from netpol_gitops.review.compare import Diff, NotGenerated  # noqa: PLC0415

    src = "ns/" + "w" * 250 + "{}[Pod]"
    opens = tuple(Connection(src.format(j), "ns/b[Pod]", ALL) for j in range(20))
    many = [
        NotGenerated(f"ns/p{i}", f"f{i}.yaml:1:1", "orphan", "", (), True, opens, 500)
        for i in range(100)
    ]
    text = to_markdown(Diff("a" * 40, "b" * 40, not_generated=many))
    assert len(text) <= COMMENT_LIMIT // 2
    assert "`ns/p0` at `f0.yaml:1:1`" in text  # the first is always shown
    shown = text.count("- `ns/p")
    assert f"- ... and {100 - shown} more: `netpol-gitops check` lists them all" in text


def test_a_path_in_neither_revision_is_an_error(repo: Repo) -> None:
    base = repo.git("rev-parse", "HEAD")
    repo.write("apps/shop/ns.yaml", NS.format(name="shop", flows="      []\n"))
    repo.commit("change")
    run = cli("diff", "--repo", str(repo.path), "--base", base, "--path", "apps/shpo")
    assert run.code == 1 and run.stdout == ""
    assert "apps/shpo: error: --path exists in neither revision (" in run.stderr
    ok = cli("diff", "--repo", str(repo.path), "--base", base, "--path", "apps/shop")
    assert ok.code == 0, ok.stderr


def test_a_problem_at_one_revision_names_the_revision(repo: Repo) -> None:
    base = repo.git("rev-parse", "HEAD")
    repo.write("apps/shop/bad.yaml", "a: [\n")
    head = repo.commit("bad yaml")
    run = cli("diff", "--repo", str(repo.path), "--base", base)
    assert run.code == 1
    assert "apps/shop/bad.yaml:2:1: error: invalid YAML" in run.stderr
    assert f"(at {head[:7]})" in run.stderr


def test_deleting_a_hand_written_default_deny_is_a_regression(repo: Repo) -> None:
    repo.write("apps/legacy/ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: legacy}\n")
    repo.write(
        "apps/legacy/deny.yaml",
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: deny-all, namespace: legacy}\n"
        "spec: {podSelector: {}, policyTypes: [Ingress, Egress]}\n",
    )
    base = repo.commit("a namespace protected by hand")
    (repo.path / "apps/legacy/deny.yaml").unlink()
    repo.commit("delete the hand-written deny")
    report = json.loads(diff(repo, base, "-o", "json"))
    assert {"name": "legacy", "before": "all", "after": "off"} in report["namespaces"]
    failing = cli("diff", "--repo", str(repo.path), "--base", base, "--fail-on", "unprotected")
    assert failing.code == 1 and "less protection in: legacy" in failing.stderr


def test_added_network_policies_that_change_nothing_say_why(repo: Repo) -> None:
    """A NetworkPolicy file added under the path is never summarised as "no change" without
    a reason: one selecting no workload, one identical to what the generator makes."""
    base = repo.git("rev-parse", "HEAD")
    repo.write(
        "apps/shop/idle.yaml",
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n"
        "  name: idle\n  namespace: shop\n"
        "spec:\n  podSelector: {matchLabels: {app: nothing-has-this}}\n"
        "  policyTypes: [Ingress]\n",
    )
    rendered = cli("render", str(repo.path / "apps"), "--only-generated")
    assert rendered.code == 0, rendered.stderr
    twin = rendered.stdout.split("---\n")
    dns = next(doc for doc in twin if "name: allow-dns" in doc)
    repo.write("apps/shop/allow-dns.yaml", dns)
    repo.commit("two policies that change no connection")
    report = json.loads(diff(repo, base, "-o", "json"))
    assert change_lines(report) == []
    assert report["verdict"] == "2 NetworkPolicies of the input edited, no connection changes"
    assert [(p["policy"], p["change"], p["why_no_effect"]) for p in report["input_policies"]] == [
        (
            "shop/allow-dns",
            "added",
            "labelled as generated and identical to what the generator makes: the generated "
            "policy is deployed in its place",
        ),
        ("shop/idle", "added", "it selects no workload in these manifests"),
    ]
    text = diff(repo, base)
    assert "input policy added shop/idle at apps/shop/idle.yaml:4:9: it selects no workload" in text
    assert "no change to network policy" not in text
