"""The PATH that programs (git, kustomize) are found on: a module of its own, so that setting it
at start-up (commands.prepare) imports no process machinery."""

from __future__ import annotations

import os
from pathlib import Path


def trusted_path() -> str:
    """PATH without its relative and empty entries: those name the working directory (a
    repository checkout, in the Action and the Argo CD sidecar), where a `kubectl` or `git`
    shipped by a pull request would otherwise be found first."""
    entries = os.environ.get("PATH", "/usr/bin:/bin").split(os.pathsep)
    return os.pathsep.join(e for e in entries if Path(e).is_absolute())
