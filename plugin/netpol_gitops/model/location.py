"""Where something is in the user's files: source, line, column and field path."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Location:
    """Where a problem is: source (a path, ``<stdin>``), 1-based line and column, field path."""

    source: str
    line: int = 0
    col: int = 0
    field: str = ""

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
