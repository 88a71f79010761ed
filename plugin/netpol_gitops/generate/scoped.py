"""The default-deny-pods value -> ScopedDeny records: default denies of some pods only."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from netpol_gitops.errors import Problem
from netpol_gitops.generate import schemas
from netpol_gitops.generate.flows import dns_label, selector_name
from netpol_gitops.generate.ports import selector_of
from netpol_gitops.model.intent import Deny, ScopedDeny
from netpol_gitops.model.location import Location, Locator


def parse_deny_pods(
    data: Any, locate_at: Locator, problems: list[Problem]
) -> tuple[ScopedDeny, ...]:
    """A list of ``{pods: <selector>, deny: all|ingress|egress, name: ...}`` (already
    YAML-parsed) -> ScopedDeny records; schema first, then meaning."""
    if not isinstance(data, list):
        problems.extend(
            schemas.problems(schemas.validator("flows", "/$defs/denyPods"), data, locate_at)
        )
        return ()
    one = schemas.validator("flows", "/$defs/denyPodsEntry")
    out: list[ScopedDeny] = []
    names: dict[str, int] = {}
    for i, item in enumerate(data):

        def at(path: Sequence[str | int], key: bool = False, i: int = i) -> Location:
            return locate_at([i, *path], key)

        found = schemas.problems(one, item, at, "invalid-annotation")
        if found:
            problems.extend(found)
            continue
        labels, expressions = selector_of(item["pods"])
        if not labels and not expressions:
            problems.append(
                Problem(
                    at(["pods"]),
                    "this selects every pod of the namespace: say it with "
                    "netpol-gitops.io/default-deny",
                    rule="invalid-annotation",
                )
            )
            continue
        name = item.get("name") or dns_label(selector_name(labels, expressions))
        if name in names:
            problems.append(
                Problem(
                    at([]),
                    f"name '{name}' is already used by [{names[name]}]; give this entry a 'name'",
                    rule="invalid-annotation",
                )
            )
            continue
        names[name] = i
        deny = Deny(item.get("deny", "all"))
        out.append(ScopedDeny(name, deny, labels, expressions, at([])))
    return tuple(out)
