"""`reach PATH` without its output: the same read and analysis, every source's fanout made as
reach makes it (runs of shared blocks and its own pairs, analysis/fanout.py), the lines counted
and not written (a row of run.py: what reach costs besides its output)."""

from __future__ import annotations

import sys

from netpol_gitops.adapters.commands import prepare
from netpol_gitops.adapters.pipeline import analysis


def main() -> None:
    prepare()
    analysed = analysis(sys.argv[1], None, generate=False)
    lines = sum(f.size() for f in analysed.iter_spans())
    sys.stdout.write(f"{lines}\n")


if __name__ == "__main__":
    main()
