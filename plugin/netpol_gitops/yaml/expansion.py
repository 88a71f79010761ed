"""Alias bombs: measure a document as if its aliases were expanded, before anything is built."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ruamel.yaml.cyaml import CParser  # type: ignore[attr-defined]  # re-exported from clib
from ruamel.yaml.error import YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)

from netpol_gitops.errors import Problem
from netpol_gitops.model.location import Location
from netpol_gitops.yaml.locate import refusal, yaml_problem

MAX_ALIASES = 100  # per document: manifests rarely use anchors; alias bombs use thousands


MAX_DEPTH = 100  # nesting levels per document, aliases expanded: real manifests stay under 30


# Nodes that aliases add to a document once expanded (an alias counts every node of what it
# names, aliases inside that included). Few aliases can stand for billions of nodes (9 anchors
# of 9 aliases each: 10^9), and whatever walks the built objects (JSON output, schema checks,
# the dumper) expands them. Shared label maps or ``<<: *defaults`` add hundreds; the bound
# keeps the worst document to about a tenth of a second of walking.
MAX_ALIAS_NODES = 100_000


@dataclass(frozen=True)
class Expansion:
    """A document with its aliases expanded: how many nodes (one per scalar, mapping and
    sequence; keys count), how deeply nested, or the problem at the alias that crosses a bound
    (``nodes`` and ``depth`` then stop there)."""

    nodes: int
    depth: int
    refused: Problem | None = None


def checked_expansion(text: str, source: str, line0: int, col0: int) -> Expansion:
    try:
        return alias_expansion(text, source, line0, col0)
    except YAMLError as exc:  # e.g. a %TAG directive before the document's "---"
        return Expansion(0, 0, yaml_problem(exc, source, line0, col0))


def alias_expansion(text: str, source: str, line0: int = 0, col0: int = 0) -> Expansion:
    """Measure one document as if its aliases were expanded, without building anything: an
    alias counts the nodes and nesting levels of the node it names (known when that node
    closes; aliases inside it included, so sizes compound). Refused: more than
    MAX_ALIAS_NODES nodes added by aliases, more than MAX_DEPTH levels, or an alias inside
    the node it names (a cycle: it would expand without end). ``line0`` and ``col0`` are
    where ``text`` starts in ``source`` (0-based), for the problem's location.

    A merge key (``<<: *defaults``) counts as the key and the whole mapping it merges: the
    built mapping has no more nodes than that, so the bound holds on what is built."""
    nodes = depth = peak = added = 0
    sizes: dict[str, tuple[int, int]] = {}  # anchor -> (nodes, levels) of the node it names
    # anchored collections still open: (their level, anchor, nodes before them, outer peak);
    # ``peak`` is the deepest level reached inside the innermost of them
    opened: list[tuple[int, str, int, int]] = []

    def refuse(ev: Any, message: str) -> Expansion:
        mark = ev.start_mark
        line = line0 + mark.line + 1
        col = (col0 if mark.line == 0 else 0) + mark.column + 1
        return Expansion(
            nodes, peak, Problem(Location(source, line, col, ""), message, rule="invalid-yaml")
        )

    parser = CParser(text)
    while True:
        ev = parser.get_event()
        t = type(ev)
        if t is ScalarEvent:
            nodes += 1
            if ev.anchor is not None:
                sizes[ev.anchor] = (1, 0)
        elif t is MappingStartEvent or t is SequenceStartEvent:
            nodes += 1
            depth += 1
            if ev.anchor is not None:
                opened.append((depth, ev.anchor, nodes - 1, peak))
                peak = depth
            peak = max(peak, depth)
        elif t is MappingEndEvent or t is SequenceEndEvent:
            if opened and opened[-1][0] == depth:
                _, anchor, before, outer = opened.pop()
                sizes[anchor] = (nodes - before, peak - depth + 1)
                peak = max(peak, outer)
            depth -= 1
        elif t is AliasEvent:
            if any(anchor == ev.anchor for _, anchor, _, _ in opened):
                return refuse(
                    ev,
                    f"the YAML alias *{ev.anchor} is inside the node it names, so it "
                    "expands without end; refused",
                )
            size, levels = sizes.get(ev.anchor, (1, 0))  # undefined: the composer says so
            nodes += size
            added += size
            peak = max(peak, depth + levels)
            if added > MAX_ALIAS_NODES:
                return refuse(
                    ev,
                    f"YAML aliases expand to more than {MAX_ALIAS_NODES:,} nodes in one "
                    "document; refused (a Kubernetes manifest needs no aliases)",
                )
            if peak > MAX_DEPTH:
                return refuse(ev, _DEEPER + " (aliases expanded)" + _DEEPER_HINT)
        elif t is StreamEndEvent or t is DocumentEndEvent:
            return Expansion(nodes, peak)


_DEEPER = f"nested deeper than {MAX_DEPTH} levels"


_DEEPER_HINT = "; refused (a Kubernetes manifest needs far fewer)"


def too_deep(source: str, mark: Any) -> Problem:
    return refusal(source, mark, _DEEPER + _DEEPER_HINT)
