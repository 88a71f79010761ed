"""The PR report as JSON and as text, and its one-line verdict."""

from __future__ import annotations

import json

from netpol_gitops.errors import printable
from netpol_gitops.model.connection import Change, Connection, conns_text
from netpol_gitops.model.kube import key_namespace, key_text
from netpol_gitops.output.decisions import decisions
from netpol_gitops.output.peers import INTERNET, INTERNET_NOTE, folded
from netpol_gitops.review.compare import DIRECTIONS, Diff, Edit, NotGenerated, is_regression


# ----------------------------------------------------------------------------- renderers
def _change_json(c: Change) -> dict[str, str]:
    out = {"src": c.src, "dst": c.dst}
    if c.kind == "changed":
        out |= {"before": conns_text(c.before), "after": conns_text(c.after)}
    else:
        out["conns"] = conns_text(c.after if c.kind == "added" else c.before)
    return out | ({"info": c.info} if c.info else {})


def report_json(diff: Diff) -> str:
    shown = folded(diff.connections)
    return (
        json.dumps(
            {
                "base": diff.base,
                "head": diff.head,
                "verdict": verdict(diff, shown),
                "decisions": [
                    {"kind": kind, "message": text}
                    for kind, text in decisions(diff, shown, lambda s: s)
                ],
                "namespaces": [{"name": n, "before": b, "after": a} for n, b, a in diff.namespaces],
                # namespace losing protection -> direction -> its workloads no policy isolates
                "exposed": diff.exposed,
                "connections": {
                    kind: [_change_json(c) for c in diff.of_kind(kind)]
                    for kind in ("added", "removed", "changed")
                },
                "workloads": {"added": diff.workloads_added, "removed": diff.workloads_removed},
                "input_policies": [
                    {
                        "policy": e.policy,
                        "change": e.kind,
                        "location": e.location,
                        "selects_workloads": e.selects,
                        "labelled_current": e.current,
                        "why_no_effect": no_effect(e, diff),
                    }
                    for e in diff.inputs
                ],
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
                        "namespace": key_namespace(x.policy),
                        "policy": x.policy,
                        "message": f"{key_text(x.policy)} at {x.location} is labelled as "
                        f"generated, but {x.summary}",
                    }
                    for x in diff.not_generated
                ]
                + [
                    {
                        "rule": "deny-breaks-existing",
                        "severity": "error",
                        "namespace": ns,
                        "message": f"namespace {ns}: the generated policies block {n} connection"
                        f"{'s' if n != 1 else ''} that hand-written NetworkPolicies allow",
                        "examples": [Connection(c.src, c.dst, c.lost).line() for c in found],
                    }
                    for ns, (n, found) in sorted(diff.breaks.items())
                ]
                + [
                    {
                        "rule": "audit-would-block",
                        "severity": "note",
                        "namespace": ns,
                        "message": f"namespace {ns} is in audit mode: enforcing it would block "
                        f"or narrow {n} connection{'s' if n != 1 else ''}",
                        "examples": [Connection(c.src, c.dst, c.lost).line() for c in found],
                    }
                    for ns, (n, found) in sorted(diff.audit.items())
                ],
            },
            indent=2,
        )
        + "\n"
    )


def no_effect(e: Edit, diff: Diff) -> str:
    """Why an edited NetworkPolicy of the input changes no connection ("" when it may)."""
    if e.current:
        return (
            "labelled as generated and identical to what the generator makes: the generated "
            "policy is deployed in its place"
        )
    if not e.selects:
        return "it selects no workload in these manifests"
    if not diff.connections:
        return "no connection changes: what it allows is allowed (or not admitted) either way"
    return ""


def to_text(diff: Diff) -> str:
    shown = folded(diff.connections)
    out = [f"base {diff.base[:12]} -> head {diff.head[:12]}: {verdict(diff, shown)}"]
    out += [f"! {text}" for _, text in decisions(diff, shown, lambda s: s)]
    for name, before, after in diff.namespaces:
        mark = "  REGRESSION" if is_regression(before, after) else ""
        out.append(f"namespace {name}: {before} -> {after}{mark}")
    out += [f"workload added {w}" for w in diff.workloads_added]
    out += [f"workload removed {w}" for w in diff.workloads_removed]
    out += [c.line() + (f"  ({c.info})" if c.info else "") for c in shown]
    if any(INTERNET in (c.src, c.dst) for c in shown):
        out.append(f"({INTERNET_NOTE.replace('`', '')})")
    for e in diff.inputs:
        why = no_effect(e, diff)
        out.append(
            f"input policy {e.kind} {e.policy} at {e.location}" + (f": {why}" if why else "")
        )
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


def tally(changes: list[Change], noun: str = "") -> str:
    """``3 connections opened, 1 changed``: the kinds present, the noun on the first."""
    words = {"added": "opened", "removed": "closed", "changed": "changed"}
    counts = [(sum(1 for c in changes if c.kind == k), w) for k, w in words.items()]
    parts = [f"{n} {w}" for n, w in counts if n]
    if noun and parts:
        n = next(n for n, _ in counts if n)
        parts[0] = f"{n} {noun}{'s' if n != 1 else ''} {parts[0].split(' ', 1)[1]}"
    return ", ".join(parts)


def _n(n: int, word: str, plural: str = "") -> str:
    return f"{n} {word if n == 1 else plural or word + 's'}"


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


def verdict(diff: Diff, shown: list[Change] | None = None) -> str:
    """One line: what the change does, in counts (connections as the report shows them)."""
    if not diff.changed:
        return "no change to network policy"
    shown = folded(diff.connections) if shown is None else shown
    parts = []
    if diff.not_generated:
        n = len(diff.not_generated)
        parts.append(
            f"{_n(n, 'policy', 'policies')} labelled as generated but not what the generator makes"
        )
    if diff.regressions:
        n = len(diff.regressions)
        parts.append(f"{_n(n, 'namespace')} lose{'s' if n == 1 else ''} protection")
    if diff.breaks:
        n = len(diff.breaks)
        parts.append(
            f"{_n(n, 'namespace')} whose generated policies block what hand-written ones allow"
        )
    if diff.audit:
        n = len(diff.audit)
        parts.append(f"{_n(n, 'namespace')} in audit mode, with what enforcing would block")
    gained = [
        n
        for n, b, a in diff.namespaces
        if not is_regression(b, a) and DIRECTIONS.get(a, set()) > DIRECTIONS.get(b, set())
    ]
    if gained:
        parts.append(f"{len(gained)} gain{'s' if len(gained) == 1 else ''} protection")
    if shown:
        parts.append(tally(shown, "connection"))
    elif diff.inputs:
        parts.append(
            f"{_n(len(diff.inputs), 'NetworkPolicy', 'NetworkPolicies')} of the input "
            "edited, no connection changes"
        )
    if diff.workloads_added or diff.workloads_removed:
        parts.append(
            f"{_n(len(diff.workloads_added), 'workload')} added, "
            f"{len(diff.workloads_removed)} removed"
        )
    n_pol = len(diff.policies_added) + len(diff.policies_removed) + len(diff.policies_changed)
    if n_pol:
        parts.append(f"{_n(n_pol, 'generated policy', 'generated policies')} changed")
    if not parts:
        parts.append(f"{_n(len(diff.namespaces), 'namespace')} changed protection")
    return "; ".join(parts)
