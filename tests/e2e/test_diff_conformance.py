"""`diff` agrees with np-guard netpol-analyzer's own `diff` on its test pairs
(../shared/conformance/netpol-analyzer-diff): the base commit holds `dir1/`, the head `dir2/`.

IP ranges are each tool's own partition of the address space, so both sides are compared on a
common refinement (every range cut at every boundary either side uses), and ports as sets."""

from __future__ import annotations

import ipaddress
import itertools
import json
import shutil
from pathlib import Path

import pytest

from netpol_gitops.model.portsets import ALL, NONE, PROTOCOLS, Conns
from tests.builders import Repo
from tests.helpers import cli, require_shared, require_tool

EXTERNAL = "[External]"
Row = tuple[str, str, Conns, Conns]


def _cases() -> list[str]:
    try:
        root = require_shared("conformance", "netpol-analyzer-diff")
    except pytest.skip.Exception:
        return ["shared-absent"]
    return sorted(p.name for p in root.iterdir() if (p / "expected.json").is_file())


def parse_conns(text: str) -> Conns:
    """np-guard's connection text: `All Connections`, `No Connections`, `TCP 80,443,UDP 53`,
    ranges `a-b`."""
    if text == "All Connections":
        return ALL
    if text == "No Connections":
        return NONE
    items: list[tuple[str, int, int]] = []
    proto = ""
    for token in text.split(","):
        word = token.split(" ", 1)
        if word[0] in PROTOCOLS:
            proto = word[0]
        lo, _, hi = word[-1].partition("-")
        items.append((proto, int(lo), int(hi or lo)))
    return Conns.of(items)


def _ip_range(peer: str) -> tuple[int, int] | None:
    if not peer.endswith(EXTERNAL):
        return None
    lo, hi = peer[: -len(EXTERNAL)].split("-")
    return int(ipaddress.IPv4Address(lo)), int(ipaddress.IPv4Address(hi))


def refined(rows: list[Row], points: set[int]) -> set[Row]:
    """Each row whose end is an IP range cut at every boundary in ``points``."""
    out: set[Row] = set()
    for src, dst, before, after in rows:
        for end, other, is_src in ((src, dst, True), (dst, src, False)):
            span = _ip_range(end)
            if span is None:
                continue
            lo, hi = span
            cuts = sorted({lo, hi + 1} | {p for p in points if lo < p <= hi})
            for a, b in itertools.pairwise(cuts):
                piece = f"{ipaddress.IPv4Address(a)}-{ipaddress.IPv4Address(b - 1)}{EXTERNAL}"
                out.add((piece, other, before, after) if is_src else (other, piece, before, after))
            break
        else:
            out.add((src, dst, before, after))
    return out


def _boundaries(rows: list[Row]) -> set[int]:
    points: set[int] = set()
    for src, dst, _, _ in rows:
        for peer in (src, dst):
            span = _ip_range(peer)
            if span:
                points.update((span[0], span[1] + 1))
    return points


def reported_rows(report: dict[str, object]) -> tuple[list[Row], dict[tuple[str, str], str]]:
    """(rows, info by pair) from `diff -o json`."""
    conns = report["connections"]
    assert isinstance(conns, dict)
    rows: list[Row] = []
    info: dict[tuple[str, str], str] = {}
    for kind, entries in conns.items():
        for e in entries:
            if kind == "added":
                before, after = NONE, parse_conns(e["conns"])
            elif kind == "removed":
                before, after = parse_conns(e["conns"]), NONE
            else:
                assert kind == "changed", kind
                before, after = parse_conns(e["before"]), parse_conns(e["after"])
                assert before and after and before != after, e
            rows.append((e["src"], e["dst"], before, after))
            if "info" in e:
                info[(e["src"], e["dst"])] = e["info"]
    return rows, info


@pytest.mark.parametrize("case", _cases())
def test_diff_agrees_with_np_guard(case: str, tmp_path: Path) -> None:
    root = require_shared("conformance", "netpol-analyzer-diff")
    require_tool("git")
    repo = Repo(tmp_path / "repo")
    shutil.copy(root / "netpol-gitops.yaml", repo.path / "netpol-gitops.yaml")
    shutil.copytree(root / case / "dir1", repo.path / "app", copy_function=shutil.copy)
    base = repo.commit("base")
    # copies keep no timestamps, and the index forgets dir1: a file of dir2 with dir1's size
    # and time must not pass as unchanged
    repo.git("rm", "-rq", "--cached", "app")
    shutil.rmtree(repo.path / "app")
    shutil.copytree(root / case / "dir2", repo.path / "app", copy_function=shutil.copy)
    repo.commit("head")
    run = cli(
        "diff", "--repo", str(repo.path), "--base", base, "--config", "netpol-gitops.yaml",
        "-o", "json",
    )  # fmt: skip
    assert run.code == 0, run.stderr
    got, info = reported_rows(json.loads(run.stdout))

    upstream = json.loads((root / case / "expected.json").read_text())
    want: list[Row] = [
        (r["src"], r["dst"], parse_conns(r["before"]), parse_conns(r["after"])) for r in upstream
    ]
    points = _boundaries(got) | _boundaries(want)

    def show(rows: set[Row]) -> list[str]:
        return sorted(
            f"{s} => {d} : {b.text() or 'none'} -> {a.text() or 'none'}" for s, d, b, a in rows
        )

    ours, theirs = refined(got, points), refined(want, points)
    assert show(theirs - ours) == [] and show(ours - theirs) == []

    # np-guard's workloads-diff-info (a workload present in one revision only): the same text
    # per pair; where an end is an IP range, per workload end (the ranges differ by partition)
    def infos(rows: dict[tuple[str, str], str]) -> set[tuple[str, str, str]]:
        return {
            (s if _ip_range(s) is None else "IP", d if _ip_range(d) is None else "IP", text)
            for (s, d), text in rows.items()
        }

    want_info = {(r["src"], r["dst"]): r["info"] for r in upstream if "info" in r}
    assert infos(info) == infos(want_info)
