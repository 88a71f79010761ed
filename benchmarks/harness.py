"""What every benchmark row is compared with, and how the machine is described."""

from __future__ import annotations

import os
import platform
import statistics

BASELINE_LOAD_DUMP = """
import sys, yaml
text = open(sys.argv[1]).read()
docs = list(yaml.load_all(text, Loader=yaml.CSafeLoader))
out = yaml.dump_all(docs, Dumper=yaml.CSafeDumper)
sys.stdout.write(out)
"""
BASELINE_LOAD_FILES = """
import sys, yaml
for name in sys.argv[1:]:
    docs = list(yaml.load_all(open(name).read(), Loader=yaml.CSafeLoader))
"""
BASELINE_LOAD = """
import sys, yaml
docs = list(yaml.load_all(open(sys.argv[1]).read(), Loader=yaml.CSafeLoader))
"""


def machine() -> str:
    import ruamel.yaml  # noqa: PLC0415

    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"ruamel.yaml {ruamel.yaml.__version__}"
    )


def median(values: list[float]) -> float:
    return statistics.median(values)
