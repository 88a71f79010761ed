"""`adopt`'s proposals as text (a Namespace annotation block per namespace) and as JSON."""

from __future__ import annotations

import json

from netpol_gitops.adopt.propose import Proposal
from netpol_gitops.errors import printable


def _value(text: str) -> list[str]:
    """An annotation value as YAML: a literal block for the flows, a quoted string else."""
    if "\n" in text:
        return ["|", *(f"  {line}" for line in text.rstrip("\n").split("\n"))]
    return [json.dumps(text)]


def to_text(proposals: list[Proposal]) -> str:
    out: list[str] = []
    for p in proposals:
        where = (
            f" ({p.namespace_at})" if p.namespace_at else " (no Namespace manifest: one is created)"
        )
        if not p.annotations:
            out.append(f"namespace {p.namespace}{where}: nothing to propose")
        elif p.problem:
            out.append(
                f"namespace {p.namespace}{where}: NOT PROVEN, it does not render: {p.problem}"
            )
        elif p.proven:
            out.append(
                f"namespace {p.namespace}{where}: proven: the {p.connections} connections with an "
                "end in it are the same, pair by pair, with these annotations as with the "
                "hand-written policies"
            )
        else:
            out.append(
                f"namespace {p.namespace}{where}: NOT PROVEN: {p.total_differences} pairs differ "
                "(nothing is proposed for it):"
            )
            out += [f"  {c.line()}" for c in p.differences]
            if p.total_differences > len(p.differences):
                out.append(f"  ... {p.total_differences - len(p.differences)} more")
        if p.annotations and p.proven:
            out += ["  metadata:", "    annotations:"]
            for key, value in p.annotations.items():
                lines = _value(value)
                out.append(f"      {key}: {lines[0]}")
                out += [f"        {line}" for line in lines[1:]]
            if p.profile is not None:
                name, flows = p.profile
                out += [
                    f"  shares profile {name} (add it to the repo config's spec.profiles; "
                    "`--write` writes these flows into the Namespace instead):",
                    f"    {name}:",
                    *(f"      {line}" for line in flows.rstrip("\n").split("\n")),
                ]
            if p.replaced:
                out.append(
                    "  replaces (remove these once the annotations are in; adopt never deletes):"
                )
                out += [f"    {r.policy} at {r.location}" for r in p.replaced]
        if p.kept:
            out.append("  keeps as written (the vocabulary cannot say them):")
            out += [f"    {r.policy} at {r.location}: {r.why}" for r in p.kept]
    if not proposals:
        out.append("no hand-written NetworkPolicies: nothing to adopt")
    return "\n".join(printable(line) for line in out) + "\n"


def to_json(proposals: list[Proposal]) -> str:
    rows = [
        {
            "namespace": p.namespace,
            "namespace_manifest": p.namespace_at or None,
            "proven": p.proven,
            "connections": p.connections,
            "annotations": p.annotations if p.proven else {},
            "proposed": p.annotations,
            "profile": (
                {"name": p.profile[0], "flows": p.profile[1]} if p.profile and p.proven else None
            ),
            "replaces": [{"policy": r.policy, "location": r.location} for r in p.replaced],
            "keeps": [{"policy": r.policy, "location": r.location, "why": r.why} for r in p.kept],
            "differences": [c.line() for c in p.differences],
            "differences_total": p.total_differences,
            "problem": p.problem,
        }
        for p in proposals
    ]
    return json.dumps(rows, indent=2) + "\n"
