"""The cyclic garbage collector, tuned for the long runs that build millions of small objects."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Allocations between two young-generation collections while reading a repository. Python's
# default (700) made a 1,000-namespace review spend a fifth of its time in collections that
# find almost nothing (parsed documents, events and workload records are not cyclic), measured
# in benchmarks/README.md; cyclic garbage is still collected, about 300 x less often.
THRESHOLD = 200_000


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Run the body with the young generation collected every THRESHOLD allocations."""
    before = gc.get_threshold()
    gc.set_threshold(THRESHOLD, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
