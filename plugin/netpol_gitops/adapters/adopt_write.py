"""`adopt --write`: the proven proposals written into the Namespace manifests, in place (only
that document of its file changes), or as new files; nothing is deleted. Every edit is planned
before the first file is written: a problem with one writes none."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from netpol_gitops.adapters.files import write_atomic
from netpol_gitops.adopt.propose import Proposal
from netpol_gitops.errors import NetpolError, Problem
from netpol_gitops.model.kube import PREFIX
from netpol_gitops.model.location import Location
from netpol_gitops.yaml.edit import new_namespace, with_annotations

DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


def _offset(text: str, line: int, col: int) -> int:
    lines = text.splitlines(keepends=True)
    return sum(len(x) for x in lines[:line]) + col


def _text(path: Path, texts: dict[Path, str]) -> str:
    """``path``'s text, read once per plan."""
    if path not in texts:
        texts[path] = path.read_text(encoding="utf-8")
    return texts[path]


def plan(proposals: list[Proposal], target: Path) -> dict[Path, str]:
    """File -> its new text, for every proven proposal; raises NetpolError (nothing planned is
    written) when one cannot be written where it belongs."""
    edits: dict[Path, list[tuple[int, int, str]]] = defaultdict(list)
    texts: dict[Path, str] = {}  # each file read once: checked and edited from that text
    created: dict[Path, str] = {}
    problems: list[Problem] = []
    folder = target if target.is_dir() else target.parent
    for p in proposals:
        if not (p.proven and p.annotations):
            continue
        notes = dict(p.annotations)
        if p.profile is not None:  # the repo config is yours: the flows go into the Namespace
            del notes[f"{PREFIX}profiles"]
            notes[f"{PREFIX}flows"] = p.profile[1]
        doc = p.document
        if doc is None and p.namespace_at:
            problems.append(
                Problem(
                    Location(p.namespace_at),
                    f"namespace {p.namespace}: its Namespace is an item of a List; add the "
                    "annotations shown by hand",
                )
            )
            continue
        if doc is None:
            if not DNS_LABEL.fullmatch(p.namespace):
                problems.append(
                    Problem(Location(str(folder)), f"{p.namespace!r}: not a namespace name")
                )
                continue
            path = folder / f"namespace-{p.namespace}.yaml"
            if path.exists():
                problems.append(
                    Problem(Location(str(path)), "exists: adopt creates a Namespace file only anew")
                )
                continue
            created[path] = new_namespace(p.namespace, notes)
            continue
        path = Path(doc.source)
        if not doc.lined or not path.is_file():
            problems.append(
                Problem(
                    Location(doc.source),
                    f"namespace {p.namespace}: its Namespace comes from a build or a stream, not "
                    "a file; add the annotations shown to its source by hand",
                )
            )
            continue
        text = _text(path, texts)
        start = _offset(text, doc.line, doc.col)
        if text[start : start + len(doc.text)] != doc.text:
            problems.append(
                Problem(Location(str(path)), "changed while adopt read it; run it again")
            )
            continue
        edits[path].append(
            (start, start + len(doc.text), with_annotations(doc.text, PREFIX, notes))
        )
    if problems:
        raise NetpolError(problems)
    out = dict(created)
    for path, changes in edits.items():
        text = texts[path]
        for start, end, new in sorted(changes, reverse=True):
            text = text[:start] + new + text[end:]
        out[path] = text
    return out


def write(proposals: list[Proposal], target: Path) -> list[Path]:
    """Writes the planned files (each whole or not at all); returns them in order."""
    planned = plan(proposals, target)
    for path in sorted(planned):
        write_atomic(path, planned[path])
    return sorted(planned)
