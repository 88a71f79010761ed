"""The diff's cost follows the change (issue 17): the head is written over the base's folder and
read with its plan when only file contents differ, and unchanged namespaces' intents, policies,
locations and YAML are reused from the base. Whatever the edit, the result must be the one two
independent full reads and a full comparison give."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netpol_gitops.adapters import inputs
from netpol_gitops.adapters.gitrev import open_repo, read_revision, read_revisions
from netpol_gitops.adapters.review import review
from netpol_gitops.analysis.changes import coalesce, compared, with_info
from netpol_gitops.review.compare import Diff, compare
from netpol_gitops.review.side import side
from tests.builders import Repo
from tests.helpers import require_tool

NAMESPACE = """apiVersion: v1
kind: Namespace
metadata:
  name: {name}
  labels: {{team: {team}}}
  annotations:
    netpol-gitops.io/default-deny: {deny}
    netpol-gitops.io/allow-from-namespaces: "{peer}/app=web"
    netpol-gitops.io/flows: |
      - name: in
        from: {{namespace: {peer}, pods: {{app: web}}}}
        to: {{pods: {{app: api}}}}
        ports: [8080]
      - name: out
        from: {{pods: {{app: web}}}}
        to: {{namespace: {peer}, pods: {{app: api}}}}
        ports: [8080]
"""
PODS = """apiVersion: v1
kind: Pod
metadata: {{name: web, namespace: {ns}, labels: {{app: {web}}}}}
---
apiVersion: v1
kind: Pod
metadata: {{name: api, namespace: {ns}, labels: {{app: api}}}}
"""
EGRESS = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: out, namespace: {ns}}}
spec:
  podSelector: {{matchLabels: {{app: api}}}}
  policyTypes: [Egress]
  egress:
  - to: [{{ipBlock: {{cidr: {cidr}, except: [{hole}]}}}}]
  - to: [{{namespaceSelector: {{matchLabels: {{team: x}}}}}}]
    ports: [{{port: 5432}}]
"""
TIER = """apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {{name: tier}}
spec:
  tier: Admin
  priority: 5
  subject: {{namespaces: {{matchLabels: {{team: {team}}}}}}}
  ingress:
  - name: no
    action: Deny
    from: [{{namespaces: {{matchLabels: {{kubernetes.io/metadata.name: {ns}}}}}}}]
"""
NAMES = ("a", "b", "c")
PEER = {"a": "b", "b": "c", "c": "a"}


def base_files() -> dict[str, str]:
    files = {}
    for ns in NAMES:
        files[f"{ns}/namespace.yaml"] = NAMESPACE.format(
            name=ns, team="x" if ns != "c" else "y", deny="all", peer=PEER[ns]
        )
        files[f"{ns}/pods.yaml"] = PODS.format(ns=ns, web="web")
    files["a/egress.yaml"] = EGRESS.format(ns="a", cidr="10.0.0.0/8", hole="10.1.0.0/16")
    return files


# one edit: (what, namespace, value); every kind the issue names, and a file added, removed,
# renamed (the tree's shape changes: the head is written and planned afresh)
EDIT = st.tuples(
    st.sampled_from(
        ["deny", "team", "pod-label", "ip-block", "tier", "drop-policy", "new-file", "rename"]
    ),
    st.sampled_from(NAMES),
    st.sampled_from(["all", "ingress", "egress", "none"]),
)


def edited(files: dict[str, str], edits: list[tuple[str, str, str]]) -> dict[str, str]:
    out = dict(files)
    for what, ns, value in edits:
        name = f"{ns}/namespace.yaml"
        if what == "deny" and name in out:
            out[name] = re.sub(r"default-deny: \w+", f"default-deny: {value}", out[name])
        elif what == "team" and name in out:
            out[name] = out[name].replace("team: x", "team: z")
        elif what == "pod-label":
            out[f"{ns}/pods.yaml"] = PODS.format(ns=ns, web="gui" if value == "all" else "web")
        elif what == "ip-block":
            cidr = {"all": "0.0.0.0/0", "ingress": "10.0.0.0/9", "egress": "10.0.0.0/8"}
            out[f"{ns}/egress.yaml"] = EGRESS.format(
                ns=ns, cidr=cidr.get(value, "192.168.0.0/16"), hole="10.1.2.0/24"
            )
        elif what == "tier":
            out["cluster/tier.yaml"] = TIER.format(team="x" if value != "none" else "y", ns=ns)
        elif what == "drop-policy":
            out.pop(f"{ns}/egress.yaml", None)
        elif what == "new-file":
            out[f"{ns}/more/pods.yaml"] = (
                PODS.format(ns=ns, web="more")
                .replace("name: web", "name: web2")
                .replace("name: api", "name: api2")
            )
        elif what == "rename" and name in out:
            out[f"{ns}/ns.yaml"] = out.pop(name)
    return out


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="netpol-gitops-incremental-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def committed(folder: Path, before: dict[str, str], after: dict[str, str]) -> Repo:
    if folder.exists():
        shutil.rmtree(folder)
    repo = Repo(folder)
    for rel, text in before.items():
        repo.write(rel, text)
    repo.commit("base")
    for rel in before:
        if rel not in after:
            (folder / rel).unlink()
    for rel, text in after.items():
        repo.write(rel, text)
    repo.commit("head")
    return repo


def independent(repo: Repo) -> Diff:
    """Each revision read alone, nothing shared, and every pair compared."""
    handle = open_repo(str(repo.path))
    base = side(read_revision(handle, "HEAD~1", ["."]))
    head = side(read_revision(handle, "HEAD", ["."]))
    diff = compare(base, head)
    full = with_info(
        coalesce(compared(base.analysis, head.analysis)),
        set(diff.workloads_added),
        set(diff.workloads_removed),
    )
    assert diff.connections == full  # the touched namespaces are all the comparison needs
    return diff


def counted(monkeypatch: pytest.MonkeyPatch, name: str) -> list[str]:
    """The folder names ``inputs.<name>`` (plan, prepare_build) is called with, from
    now on."""
    calls: list[str] = []
    real = getattr(inputs, name)

    def counting(path: Path, *args: object, **kwargs: object) -> object:
        calls.append(path.name)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(inputs, name, counting)
    return calls


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(EDIT, min_size=1, max_size=3))
def test_a_review_equals_two_independent_reads_and_a_full_comparison(
    scratch: Path, edits: list[tuple[str, str, str]]
) -> None:
    files = base_files()
    repo = committed(scratch / "repo", files, edited(files, edits))
    assert review(str(repo.path), "HEAD~1", "HEAD", ["."]) == independent(repo)


def test_a_content_edit_reuses_the_plan_and_a_new_file_does_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plans = counted(monkeypatch, "plan")
    files = base_files()
    for edit, expected in (("deny", 1), ("new-file", 2), ("rename", 2)):
        plans.clear()
        repo = committed(tmp_path / edit, files, edited(files, [(edit, "a", "ingress")]))
        handle = open_repo(str(repo.path))
        both = read_revisions(handle, ["HEAD~1", "HEAD"], ["."], shared={})
        assert len(plans) == expected, edit
        alone = [read_revision(handle, rev, ["."]) for rev in ("HEAD~1", "HEAD")]
        for together, apart in zip(both, alone, strict=True):  # the same documents either way
            texts = [[(d.source, d.text, d.line) for d in docs] for _, docs in together.units]
            assert texts == [[(d.source, d.text, d.line) for d in docs] for _, docs in apart.units]


def test_a_file_a_plan_read_is_planned_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kustomization file's content decides what is built: its edit re-plans the head."""
    require_tool("kubectl")
    repo = Repo(tmp_path / "repo")
    repo.write("k/kustomization.yaml", "resources: [a.yaml]\n")
    repo.write("k/a.yaml", PODS.format(ns="a", web="web"))
    repo.write("k/b.yaml", PODS.format(ns="b", web="web"))
    repo.commit("base")
    repo.write("k/kustomization.yaml", "resources: [a.yaml, b.yaml]\n")
    repo.commit("head")
    plans = counted(monkeypatch, "plan")
    handle = open_repo(str(repo.path))
    assert len(plans) == 0
    units = [
        docs for rev in read_revisions(handle, ["HEAD~1", "HEAD"], ["."]) for docs in rev.units
    ]
    assert len(plans) == 2
    # base: b.yaml is read as a file of its own; head: the build holds it
    assert [[d.source for d in docs] for _, docs in units] == [
        ["<kustomize build k>"] * 2 + ["k/b.yaml"] * 2,
        ["<kustomize build k>"] * 4,
    ]


def test_the_head_builds_only_the_kustomizations_whose_files_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An aggregate built as its leaves: a head written over its base rebuilds the leaf whose
    file changed and takes the others' builds from the base; the review is the one two
    independent reads give."""
    require_tool("kubectl")
    monkeypatch.setenv("NETPOL_GITOPS_SPLIT_AT", "2")
    repo = Repo(tmp_path / "repo")
    leaves = ("a", "b", "c")
    repo.write("kustomization.yaml", "resources: [a, b, c]\n")
    for ns in leaves:
        repo.write(f"{ns}/kustomization.yaml", "resources: [namespace.yaml, pods.yaml]\n")
        repo.write(f"{ns}/namespace.yaml", base_files()[f"{ns}/namespace.yaml"])
        repo.write(f"{ns}/pods.yaml", PODS.format(ns=ns, web="web"))
    repo.commit("base")
    repo.write(
        "b/namespace.yaml", edited(base_files(), [("deny", "b", "none")])["b/namespace.yaml"]
    )
    repo.commit("head")
    built = counted(monkeypatch, "prepare_build")
    found = review(str(repo.path), "HEAD~1", "HEAD", ["."])
    assert sorted(built) == ["a", "b", "b", "c"]  # the base's three, and the head's b
    assert found.namespaces == [("b", "all", "none")]
    built.clear()
    assert found == independent(repo)
    assert sorted(built) == ["a", "a", "b", "b", "c", "c"]  # read apart: every leaf twice
