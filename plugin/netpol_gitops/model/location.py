"""Where something is in the user's files: source, line, column and field path."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property, total_ordering


def natural(text: str) -> tuple[str | int, ...]:
    """A sort key that compares runs of digits as numbers: ``flows[2]`` before ``flows[19]``,
    ``ns2.yaml`` before ``ns10.yaml`` (strings at even places, numbers at odd ones)."""
    return tuple(int(part) if i % 2 else part for i, part in enumerate(_DIGITS.split(text)))


_DIGITS = re.compile(r"([0-9]+)")


@total_ordering
@dataclass(frozen=True)
class Location:
    """Where a problem is: source (a path, ``<stdin>``), 1-based line and column, field path.
    Ordered by source, line, column and field, numbers in names compared as numbers."""

    source: str
    line: int = 0
    col: int = 0
    field: str = ""

    @cached_property
    def _key(self) -> tuple[tuple[str | int, ...], int, int, tuple[str | int, ...]]:
        return natural(self.source), self.line, self.col, natural(self.field)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Location):
            return NotImplemented
        return self._key < other._key

    def with_field(self, name: str) -> Location:
        return Location(self.source, self.line, self.col, name)

    def prefix(self) -> str:
        if self.line:
            return f"{self.source}:{self.line}:{self.col}"
        return self.source


def field_path(parts: Iterable[str | int]) -> str:
    """Render a path as ``metadata.annotations."netpol-gitops.io/flows"[1].ports[0]``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            name = part if part.replace("-", "").replace("_", "").isalnum() else f'"{part}"'
            out += f".{name}" if out else name
    return out


# (path inside a document, whether the key is meant) -> its location
Locator = Callable[[Sequence[str | int], bool], Location]
