"""One problem type, located in the user's files, and the one error that carries them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from netpol_gitops.model.location import Location
from netpol_gitops.model.severity import Severity


@dataclass(frozen=True, order=True)
class Problem:
    """A located finding: ``FILE:LINE:COL: severity: FIELD: message``."""

    location: Location
    message: str
    severity: Severity = Severity.ERROR
    rule: str = field(default="invalid-input", compare=False)

    def line(self) -> str:
        fld = f"{self.location.field}: " if self.location.field else ""
        return printable(f"{self.location.prefix()}: {self.severity}: {fld}{self.message}")


class NetpolError(Exception):
    """Raised with every problem found, each once (a base that several overlays name is walked
    for each); the CLI prints them all and exits 1."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(set(problems))
        super().__init__("\n".join(p.line() for p in self.problems))


class Deadline(BaseException):
    """The run's time is up (the Argo CD deadline). A BaseException so that no handler of
    problems or of errors can catch it: it ends the run, killing what it started on the way."""


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str) -> str:
    """Text with control characters escaped: one output line per item, so nothing from the
    input can start a line of its own (e.g. a GitHub ``::workflow-command::``)."""
    return _CONTROL.sub(
        lambda m: (
            f"\\x{ord(m.group()):02x}" if ord(m.group()) < 256 else f"\\u{ord(m.group()):04x}"
        ),
        text,
    )


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, or an empty string."""
    import difflib  # noqa: PLC0415 - start-up: only a problem pays for it

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


class Failure(Exception):
    """A failure outside the user's files (a remote API, a missing environment variable): one
    line ``netpol-gitops: message`` on stderr and ``exit_code``."""

    exit_code = 1


class UsageFailure(Failure):
    """The command cannot run as invoked (exit 2, as for a usage error)."""

    exit_code = 2
