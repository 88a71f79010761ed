"""`netpol-gitops render` of the stream vs a libyaml (PyYAML C) load+dump of the same stream.

    python benchmarks/render.py [--sizes 100,1000] [--rounds 5]

Target (issue 2/8): render <= 0.5 x libyaml load+dump at 1,000 namespaces.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import corpus
from harness import BASELINE_LOAD_DUMP, executable, machine, measure, median, ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    exe = executable()
    print(f"# render benchmark ({machine()})\n")
    print("| N namespaces | input MB | libyaml load+dump s | render s | ratio | render RSS MB |")
    print("|---:|---:|---:|---:|---:|---:|")
    for n in (int(s) for s in args.sizes.split(",")):
        stream = corpus(n) / "stream.yaml"
        variants = {
            "libyaml": ([sys.executable, "-c", BASELINE_LOAD_DUMP, str(stream)], None),
            "render": ([exe, "render", str(stream)], None),
        }
        s = measure(variants, args.rounds)
        print(
            f"| {n:,} | {stream.stat().st_size / 1e6:.1f} | {median(s['libyaml'].seconds):.2f}"
            f" | {median(s['render'].seconds):.2f} | {ratio(s, 'render', 'libyaml'):.2f} | "
            f"{max(s['render'].rss_mb):.0f} |"
        )


if __name__ == "__main__":
    main()
