"""`adopt`: annotations proposed from hand-written policies, proven, written; checked here
independently of adopt's own proof: after `--write` and the removal of the policies it lists,
`reach --generate` gives the connectivity the policies' authors wrote (issue 14 item 1)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from netpol_gitops.adapters.inputs import read_manifests
from netpol_gitops.adopt.propose import propose
from netpol_gitops.model.intent import Config
from netpol_gitops.yaml.emit import document_text
from netpol_gitops.yaml.stream import read_documents
from tests.builders import API_FROM_WEB, SHOP_PODS
from tests.e2e.test_diff_conformance import parse_conns, refined
from tests.helpers import cli, require_shared

Row = tuple[str, str, Any, Any]


def rows(lines: list[str]) -> list[Row]:
    out = []
    for line in lines:
        pair, conns = line.split(" : ", 1)
        src, dst = pair.split(" => ")
        out.append((src, dst, parse_conns(conns), None))
    return out


def boundaries(found: list[Row]) -> set[int]:
    from tests.e2e.test_diff_conformance import _boundaries  # noqa: PLC0415

    return _boundaries(found)


def same_connectivity(ours: list[str], theirs: list[str]) -> tuple[list[str], list[str]]:
    """(missing, extra) lines after cutting both on a common refinement of their ranges."""
    a, b = rows(ours), rows(theirs)
    points = boundaries(a) | boundaries(b)
    mine, want = refined(a, points), refined(b, points)

    def show(found: set[Row]) -> list[str]:
        return sorted(f"{s} => {d} : {c.text()}" for s, d, c, _ in found)

    return show(want - mine), show(mine - want)


def remove_policies(folder: Path, names: set[str]) -> None:
    """What a user does after adopt: delete the NetworkPolicies it says it replaces."""
    for path in sorted(folder.rglob("*.yaml")):
        docs = read_documents([(str(path), path.read_text())])
        kept = []
        for doc in docs:
            meta = (doc.data() or {}).get("metadata") or {}
            key = f"{meta.get('namespace') or 'default'}/{meta.get('name')}"
            if not (doc.kind == "NetworkPolicy" and key in names):
                kept.append(doc)
        if len(kept) != len(docs):
            path.write_text("".join(document_text(d) for d in kept))


@pytest.mark.parametrize("corpus", ["argo-cd-namespace-install", "microservices-demo"])
def test_real_policy_sets_are_adopted_exactly(corpus: str, tmp_path: Path) -> None:
    root = require_shared("realworld", corpus)
    work = tmp_path / corpus
    shutil.copytree(root / "handwritten", work)
    run = cli("adopt", str(work), "--write", "-o", "json")
    assert run.code == 0, run.stderr
    (proposal,) = json.loads(run.stdout)
    assert proposal["proven"] and proposal["annotations"]
    assert proposal["keeps"] == []
    assert "wrote " in run.stderr
    remove_policies(work, {r["policy"] for r in proposal["replaces"]})
    reach = cli("reach", "--generate", str(work))
    assert reach.code == 0, reach.stderr
    expected = (root / "expected-reach.txt").read_text().splitlines()
    missing, extra = same_connectivity(reach.stdout.splitlines(), expected)
    assert (missing, extra) == ([], [])
    again = cli("adopt", str(work), "-o", "json")  # nothing hand-written is left to adopt
    assert json.loads(again.stdout) == []


INGRESS_ONLY_ON_API = (
    "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop  # the team's namespace\n"
    "  labels: {team: shop}\n---\n" + SHOP_PODS + "---\n" + API_FROM_WEB
)


def test_write_edits_only_the_namespace_document_and_keeps_comments(tmp_path: Path) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(INGRESS_ONLY_ON_API)
    run = cli("adopt", str(tmp_path), "--write")
    assert run.code == 0, run.stderr
    assert "namespace shop" in run.stdout and "proven" in run.stdout
    assert "replaces (remove these" in run.stdout and "shop/api-from-web at" in run.stdout
    text = path.read_text()
    before, after = INGRESS_ONLY_ON_API.split("---\n", 1), text.split("---\n", 1)
    assert after[1] == before[1]  # every other document byte for byte, the policy included
    assert "name: shop  # the team's namespace" in after[0]
    assert "netpol-gitops.io/default-deny: ingress" in after[0]
    assert "to: {pods: {app: api}}" in after[0]
    # the annotations render, and the policy they replace is listed, never deleted
    assert "kind: NetworkPolicy" in text
    assert cli("render", str(path)).code == 0


def test_a_proposal_that_is_not_equal_is_shown_and_not_written(tmp_path: Path) -> None:
    # deny-all and an ingress allow without the egress side: web cannot reach api as written,
    # and a flow would open both sides, so no annotation can say exactly this
    text = INGRESS_ONLY_ON_API + (
        "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: deny-all, namespace: shop}\n"
        "spec: {podSelector: {}, policyTypes: [Ingress, Egress]}\n"
    )
    path = tmp_path / "shop.yaml"
    path.write_text(text)
    run = cli("adopt", str(tmp_path), "--write", "-o", "json")
    assert run.code == 1
    (proposal,) = json.loads(run.stdout)
    assert not proposal["proven"] and proposal["annotations"] == {}
    assert "+ shop/web[Pod] => shop/api[Pod] : TCP 8080" in proposal["differences"]
    assert path.read_text() == text  # nothing written


def test_a_policy_that_cannot_be_removed_alone_is_kept(tmp_path: Path) -> None:
    head, policy_doc = INGRESS_ONLY_ON_API.rsplit("---\n", 1)
    listed = (
        "apiVersion: v1\nkind: List\nitems:\n- " + policy_doc.replace("\n", "\n  ").rstrip() + "\n"
    )
    (tmp_path / "shop.yaml").write_text(head + "---\n" + listed)
    run = cli("adopt", str(tmp_path), "-o", "json")
    (proposal,) = json.loads(run.stdout)
    assert proposal["keeps"][0]["policy"] == "shop/api-from-web"
    assert proposal["keeps"][0]["why"] == "an item of a List, which cannot be removed alone"
    assert proposal["proposed"] == {} and run.code == 0


def test_match_expressions_are_adopted_as_full_selectors(tmp_path: Path) -> None:
    text = INGRESS_ONLY_ON_API.replace(
        "  podSelector: {matchLabels: {app: api}}",
        "  podSelector: {matchExpressions: [{key: app, operator: In, values: [api]}]}",
    )
    (tmp_path / "shop.yaml").write_text(text)
    run = cli("adopt", str(tmp_path), "-o", "json")
    (proposal,) = json.loads(run.stdout)
    assert proposal["proven"] and proposal["keeps"] == []
    assert (
        "matchExpressions: [{key: app, operator: In, values: [api]}]"
        in (proposal["annotations"]["netpol-gitops.io/flows"])
    )


def test_write_needs_files(tmp_path: Path) -> None:
    run = cli("adopt", "-", "--write", stdin=INGRESS_ONLY_ON_API)
    assert run.code == 2 and "--write" in run.stderr


def test_a_namespace_without_a_manifest_gets_one(tmp_path: Path) -> None:
    text = INGRESS_ONLY_ON_API.split("---\n", 1)[1]
    (tmp_path / "apps.yaml").write_text(text)
    run = cli("adopt", str(tmp_path), "--write")
    assert run.code == 0, run.stderr
    created = tmp_path / "namespace-shop.yaml"
    first = created.read_text()
    assert "kind: Namespace" in first
    # once it exists it is edited in place like any Namespace: a second run changes nothing
    assert cli("adopt", str(tmp_path), "--write").code == 0
    assert created.read_text() == first


def test_every_conformance_case_is_proven_or_says_why() -> None:
    """Every namespace with policies among the netpol-analyzer cases: proven, or the pairs
    that differ, or the policies it keeps and why; never an error. Measured: 74 proven."""
    root = require_shared("conformance", "netpol-analyzer")
    with (root / "INDEX.tsv").open() as f:
        cases = [
            r["case"] for r in csv.DictReader(f, delimiter="\t") if not r["group"].startswith("anp")
        ]
    proven = 0
    for case in cases:
        for p in propose(read_manifests(str(root / case / "input")), Config(opt_in=True)):
            assert not p.problem, (case, p.problem)
            assert p.proven or p.differences or (p.kept and not p.annotations), (case, p.namespace)
            proven += p.proven
    assert proven >= 74


def test_namespaces_with_the_same_policies_share_a_profile(tmp_path: Path) -> None:
    for env in ("dev", "prod"):
        (tmp_path / f"shop-{env}.yaml").write_text(
            INGRESS_ONLY_ON_API.replace("shop", f"shop-{env}")
        )
    run = cli("adopt", str(tmp_path), "-o", "json")
    assert run.code == 0, run.stderr
    proposals = json.loads(run.stdout)
    assert [p["namespace"] for p in proposals] == ["shop-dev", "shop-prod"]
    for p in proposals:  # proven with the profile in the config and the namespace naming it
        assert p["proven"] and p["annotations"]["netpol-gitops.io/profiles"] == "shop"
        assert "netpol-gitops.io/flows" not in p["annotations"]
        assert p["profile"]["name"] == "shop" and "to: {pods: {app: api}}" in p["profile"]["flows"]
    text = cli("adopt", str(tmp_path)).stdout
    assert "shares profile shop (add it to the repo config's spec.profiles" in text
    # --write puts the flows themselves into each Namespace (the repo config stays yours)
    assert cli("adopt", str(tmp_path), "--write").code == 0
    written = (tmp_path / "shop-dev.yaml").read_text()
    assert "netpol-gitops.io/flows: |" in written and "profiles" not in written
    assert cli("render", str(tmp_path)).code == 0
