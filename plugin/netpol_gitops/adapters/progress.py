"""A progress line on stderr for long work, only when stderr is a terminal."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import TextIO, TypeVar

T = TypeVar("T")
MIN_ITEMS = 200  # below this, work is too quick to be worth a progress line
INTERVAL = 0.1  # seconds between redraws


def progress(
    items: Iterable[T], total: int, label: str, stream: TextIO | None = None
) -> Iterator[T]:
    """Yield ``items``, drawing ``label done/total`` on a terminal stderr; erased at the end."""
    out = stream or sys.stderr
    enabled = total >= MIN_ITEMS and out.isatty()
    last = 0.0
    done = 0
    try:
        for item in items:
            yield item
            done += 1
            now = time.monotonic()
            if enabled and now - last >= INTERVAL:
                out.write(f"\r{label} {done}/{total}")
                out.flush()
                last = now
    finally:
        if enabled:
            out.write("\r\x1b[K")
            out.flush()
