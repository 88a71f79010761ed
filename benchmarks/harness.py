"""Interleaved, repeated child-process timings reported as ratios to a baseline."""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

BASELINE_LOAD_DUMP = """
import sys, yaml
text = open(sys.argv[1]).read()
docs = list(yaml.load_all(text, Loader=yaml.CSafeLoader))
out = yaml.dump_all(docs, Dumper=yaml.CSafeDumper)
sys.stdout.write(out)
"""
BASELINE_LOAD = """
import sys, yaml
docs = list(yaml.load_all(open(sys.argv[1]).read(), Loader=yaml.CSafeLoader))
"""


@dataclass
class Sample:
    seconds: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)


def run_child(argv: Sequence[str], stdin_path: str | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one child process; output discarded."""
    with tempfile.TemporaryFile() as err, contextlib.ExitStack() as stack:
        stdin = stack.enter_context(Path(stdin_path).open("rb")) if stdin_path else None
        start = time.perf_counter()
        proc = subprocess.Popen(
            argv, stdin=stdin or subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err
        )
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            sys.exit(f"{' '.join(argv)} failed ({proc.returncode}): {err.read()[:2000]!r}")
    return elapsed, usage.ru_maxrss / 1024


def measure(variants: Mapping[str, tuple[list[str], str | None]], rounds: int) -> dict[str, Sample]:
    """Every variant once per round, in a rotated order; median taken by the caller."""
    samples = {name: Sample() for name in variants}
    names = list(variants)
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            argv, stdin = variants[name]
            seconds, rss = run_child(argv, stdin)
            samples[name].seconds.append(seconds)
            samples[name].rss_mb.append(rss)
    return samples


def ratio(samples: dict[str, Sample], name: str, base: str) -> float:
    """Median over rounds of the per-round ratio (robust on a noisy machine)."""
    pairs = zip(samples[name].seconds, samples[base].seconds, strict=True)
    return statistics.median(a / b for a, b in pairs)


def machine() -> str:
    import ruamel.yaml  # noqa: PLC0415

    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"ruamel.yaml {ruamel.yaml.__version__}"
    )


def median(values: list[float]) -> float:
    return statistics.median(values)


def executable() -> str:
    """The netpol-gitops next to this Python (the venv), else the one on PATH."""
    import shutil  # noqa: PLC0415

    local = Path(sys.executable).with_name("netpol-gitops")
    if local.exists():
        return str(local)
    return shutil.which("netpol-gitops") or sys.exit("netpol-gitops is not installed")
