"""How serious a problem is; each renderer maps it to its own vocabulary."""

from __future__ import annotations

from enum import StrEnum


class Severity(StrEnum):
    """``error``, ``warning`` or ``note``: the words of the text format."""

    NOTE = "note"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def at_least(self, other: Severity) -> bool:
        return self.rank >= other.rank


_RANK = {Severity.NOTE: 0, Severity.WARNING: 1, Severity.ERROR: 2}
