"""action.yml's build cache: restored on any event, saved only in a scope no other branch reads
from (a pull request's own, or the default branch's on a push to it)."""

from __future__ import annotations

import re
from typing import Any

from ruamel.yaml import YAML

from tests.helpers import ROOT

CACHE_REPO = "actions/cache"
SAVE_EVENTS = {"pull_request", "push"}


def _steps() -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = YAML(typ="safe").load((ROOT / "action.yml").read_text())["runs"][
        "steps"
    ]
    return steps


def _index(steps: list[dict[str, Any]], uses: str) -> list[int]:
    return [i for i, s in enumerate(steps) if str(s.get("uses", "")).startswith(uses + "@")]


def test_the_cache_is_restored_before_the_review_and_saved_after_it() -> None:
    steps = _steps()
    review = next(i for i, s in enumerate(steps) if s.get("id") == "diff")
    [restore] = _index(steps, f"{CACHE_REPO}/restore")
    [save] = _index(steps, f"{CACHE_REPO}/save")
    assert restore < review < save
    # the combined action saves at the end of the job whatever the event: never used
    assert _index(steps, CACHE_REPO) == []
    path = steps[restore]["with"]["path"]
    assert path == steps[save]["with"]["path"] == "${{ runner.temp }}/netpol-gitops-build-cache"
    assert steps[save]["with"]["key"] == "${{ steps.build-cache.outputs.cache-primary-key }}"
    key, fallback = steps[restore]["with"]["key"], steps[restore]["with"]["restore-keys"]
    assert "runner.os" in key and "steps.kustomize.outputs.version" in key and "hashFiles(" in key
    assert key.startswith(fallback) and fallback.endswith("-")
    # the folder the review writes is the one saved, outside the checkout
    assert (
        path.replace("${{ runner.temp }}", "") in steps[review]["env"]["NETPOL_GITOPS_BUILD_CACHE"]
    )


def test_entries_are_saved_only_on_pull_request_and_on_pushes_to_the_default_branch() -> None:
    steps = _steps()
    [save] = _index(steps, f"{CACHE_REPO}/save")
    condition = " ".join(steps[save]["if"].split())
    events = set(re.findall(r"github\.event_name == '([a-z_]+)'", condition))
    assert events == SAVE_EVENTS
    assert "!=" not in condition.replace("cache-hit != 'true'", "")  # no "any event but ..."
    assert (
        "(github.event_name == 'pull_request' || (github.event_name == 'push' && github.ref =="
        " format('refs/heads/{0}', github.event.repository.default_branch)))"
    ) in condition
    assert condition.startswith("!cancelled() && inputs.build-cache == 'true'")
    # the only disjunction is between the two allowed scopes: nothing else can make it true
    assert condition.count("||") == 1
    for other in ("pull_request_target", "workflow_run", "issue_comment", "merge_group"):
        assert other not in condition
