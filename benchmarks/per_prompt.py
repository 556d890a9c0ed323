#!/usr/bin/env python3
"""Per-prompt view of `uag bench --json` files: for each configuration, the geometric mean and median of
its per-prompt decode speedups, the first prompt's (a process's first generation pays the adaptive
controller's one-time warm-up), and the geometric mean without it.

usage: benchmarks/per_prompt.py BENCH.json [...]"""
import json
import math
import statistics
import sys


def geomean(xs):
    return math.exp(sum(math.log(max(x, 1e-12)) for x in xs) / len(xs)) if xs else float("nan")


def read_bench_json(path):
    """A `uag bench --json` file, or exit with a one-line message naming the file and the problem."""
    try:
        with open(path) as f:
            d = json.load(f)
    except (OSError, ValueError) as e:
        sys.exit(f"per_prompt.py: {path}: {e}")
    missing = [k for k in ("prompts", "max_new_tokens", "temperature", "configs") if not isinstance(d, dict) or k not in d]
    if missing:
        sys.exit(f"per_prompt.py: {path}: not a `uag bench --json` file (no '{missing[0]}')")
    return d


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for path in sys.argv[1:]:
        d = read_bench_json(path)
        # With --repeats N the per-prompt lists hold prompt runs (prompt p's at p*N..p*N+N-1); the first is
        # still the process's first generation.
        runs = f" x {d['repeats']} repeats" if d.get("repeats", 1) > 1 else ""
        print(f"{path}: {d['prompts']} prompts{runs} x {d['max_new_tokens']} tokens, T={d['temperature']:g}")
        print(f"  {'config':<16} {'geomean':>8} {'median':>7} {'first':>6} {'w/o first':>9}")
        for c in d["configs"]:
            s = c.get("speedup_by_prompt")
            if not s:
                print(f"  {c['name']:<16} (no per-prompt speedups: written by an older uag)")
                continue
            rest = f"{geomean(s[1:]):8.3f}x" if len(s) > 1 else f"{'-':>9}"
            print(f"  {c['name']:<16} {geomean(s):7.3f}x {statistics.median(s):6.3f}x {s[0]:5.2f}x {rest}")


if __name__ == "__main__":
    main()
