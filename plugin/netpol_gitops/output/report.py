"""The PR report as JSON and as text, and its one-line verdict."""

from __future__ import annotations

import json

from netpol_gitops.errors import printable
from netpol_gitops.review.compare import DIRECTIONS, Diff, NotGenerated, is_regression


# ----------------------------------------------------------------------------- renderers
def report_json(diff: Diff) -> str:
    return (
        json.dumps(
            {
                "base": diff.base,
                "head": diff.head,
                "namespaces": [{"name": n, "before": b, "after": a} for n, b, a in diff.namespaces],
                "connections": {
                    "added": [c.line() for c in diff.added],
                    "removed": [c.line() for c in diff.removed],
                },
                "policies": {
                    "added": diff.policies_added,
                    "removed": diff.policies_removed,
                    "changed": diff.policies_changed,
                    "not_generated": [x.policy for x in diff.not_generated],
                },
                "not_generated": [
                    {
                        "policy": x.policy,
                        "location": x.location,
                        "standing": x.standing,
                        "message": x.summary,
                        "differences": list(x.differences),
                        "replaced": x.replaced,
                        "opens": [c.line() for c in x.opens],
                        "opens_total": x.opens_total,
                    }
                    for x in diff.not_generated
                ],
                "findings": [
                    {
                        "rule": "protection-reduced",
                        "severity": "error",
                        "namespace": n,
                        "message": f"namespace {n}: protection {b} -> {a}",
                    }
                    for n, b, a in diff.namespaces
                    if is_regression(b, a)
                ]
                + [
                    {
                        "rule": "stale-generated-policy",
                        "severity": "error",
                        "namespace": x.policy.split("/", 1)[0],
                        "policy": x.policy,
                        "message": f"NetworkPolicy {x.policy} at {x.location} is labelled as "
                        f"generated, but {x.summary}",
                    }
                    for x in diff.not_generated
                ],
            },
            indent=2,
        )
        + "\n"
    )


def to_text(diff: Diff) -> str:
    out = [f"base {diff.base[:12]} -> head {diff.head[:12]}: {verdict(diff)}"]
    for name, before, after in diff.namespaces:
        mark = "  REGRESSION" if is_regression(before, after) else ""
        out.append(f"namespace {name}: {before} -> {after}{mark}")
    out += [f"+ {c.line()}" for c in diff.added] + [f"- {c.line()}" for c in diff.removed]
    out += [f"policy added {k}" for k in diff.policies_added]
    out += [f"policy removed {k}" for k in diff.policies_removed]
    out += [f"policy changed {k}" for k in diff.policies_changed]
    for x in diff.not_generated:
        out.append(f"policy not generated {x.policy} at {x.location}: {x.summary}")
        out.append(f"  {fate(x)}{':' if x.opens else ''}")
        out += [f"  + {c.line()}" for c in x.opens]
        if x.opens_total > len(x.opens):
            out.append(f"  ... {x.opens_total - len(x.opens)} more")
    return "\n".join(printable(line) for line in out) + "\n"


def fate(x: NotGenerated) -> str:
    """What happens to a policy labelled as generated that is not generated."""
    if not x.replaced:
        return "an item of a List: deployed as written, and analysed as such above"
    n = x.opens_total
    opens = f"opens or widens {n} connection{'s' if n != 1 else ''}" if n else "opens nothing"
    return (
        "left out where netpol-gitops renders (the generated policies apply); applied as "
        f"written, without the generator, it {opens} that the generated policies do not"
    )


def verdict(diff: Diff) -> str:
    if not diff.changed:
        return "no change to network policy"
    parts = []
    if diff.not_generated:
        n = len(diff.not_generated)
        parts.append(
            f"{n} polic{'ies' if n != 1 else 'y'} labelled as generated but not what the "
            "generator makes"
        )
    if diff.regressions:
        n = len(diff.regressions)
        parts.append(f"{n} namespace{'s' if n != 1 else ''} lose{'s' if n == 1 else ''} protection")
    gained = [
        n
        for n, b, a in diff.namespaces
        if not is_regression(b, a) and DIRECTIONS.get(a, set()) > DIRECTIONS.get(b, set())
    ]
    if gained:
        parts.append(f"{len(gained)} gain{'s' if len(gained) == 1 else ''} protection")
    parts.append(
        f"{len(diff.added)} connection{'s' if len(diff.added) != 1 else ''} opened, "
        f"{len(diff.removed)} closed"
    )
    n_pol = len(diff.policies_added) + len(diff.policies_removed) + len(diff.policies_changed)
    parts.append(f"{n_pol} generated polic{'ies' if n_pol != 1 else 'y'} changed")
    return "; ".join(parts)
