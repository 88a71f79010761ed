"""`netpol-gitops reach` and `reach --generate` of the stream vs a libyaml load of it.

    python benchmarks/reach.py [--sizes 100,1000,5000] [--rounds 3]

Target (issue 8): reach --generate at 5,000 namespaces finishes; <= 3 x libyaml load; RSS <= 2 GB.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import corpus
from harness import BASELINE_LOAD, executable, machine, measure, median, ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,5000")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-plain", action="store_true", help="skip reach without --generate")
    args = parser.parse_args()
    exe = executable()
    print(f"# reach benchmark ({machine()})\n")
    print("| N namespaces | input MB | variant | libyaml load s | reach s | ratio | RSS MB |")
    print("|---:|---:|---|---:|---:|---:|---:|")
    for n in (int(s) for s in args.sizes.split(",")):
        stream = corpus(n) / "stream.yaml"
        variants: dict[str, tuple[list[str], str | None]] = {
            "libyaml": ([sys.executable, "-c", BASELINE_LOAD, str(stream)], None),
            "reach --generate": ([exe, "reach", "--generate", str(stream)], None),
        }
        if not args.no_plain and n <= 1000:  # without --generate the output is quadratic
            variants["reach"] = ([exe, "reach", str(stream)], None)
        s = measure(variants, args.rounds)
        for name in variants:
            if name == "libyaml":
                continue
            print(
                f"| {n:,} | {stream.stat().st_size / 1e6:.1f} | `{name}` | "
                f"{median(s['libyaml'].seconds):.2f} | {median(s[name].seconds):.2f} | "
                f"{ratio(s, name, 'libyaml'):.2f} | {max(s[name].rss_mb):.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
