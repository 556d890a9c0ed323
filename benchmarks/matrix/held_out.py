#!/usr/bin/env python3
"""Adaptive against the best static γ, chosen in-run and held out (issue 14).

The best of several static lengths measured in one run is biased upward: it is the maximum of noisy
figures. This script also picks each cell's best static γ on the *other* runs given (mean log speedup)
and reads its speedup in the evaluated run, which is free of that bias.

usage: benchmarks/matrix/held_out.py RUN_DIR RUN_DIR [...]   (each a matrix.sh output with json/)
"""
import glob
import json
import math
import os
import sys

from summarize import CELL  # the cell-name pattern matrix.sh writes


def geomean(xs):
    return math.exp(sum(math.log(x) for x in xs) / len(xs))


def load(run):
    cells = {}
    for path in glob.glob(os.path.join(run, "json", "*.json")):
        try:
            with open(path) as f:
                cells[os.path.basename(path)] = {c["name"]: c for c in json.load(f)["configs"]}
        except (OSError, ValueError) as e:
            sys.exit(f"held_out.py: {path}: {e}")
        except (KeyError, TypeError):
            sys.exit(f"held_out.py: {path}: not a `uag bench --json` file (no configs with names)")
    if not cells:
        sys.exit(f"held_out.py: no json/*.json under {run}")
    return cells


def main(runs):
    if len(runs) < 2:
        sys.exit(__doc__.strip().splitlines()[-1])
    data = [load(r) for r in runs]
    print("| run | pair, T | cells | adaptive / in-run best | within 3% | adaptive / held-out best | within 3% | held-out / in-run best |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for k, cells in enumerate(data):
        groups = {}
        for name, cfg in cells.items():
            static = {n: c["speedup"] for n, c in cfg.items() if n.startswith("g") and ":" not in n}
            if "adaptive" not in cfg or not static:
                continue
            logs = {}
            for j, other in enumerate(data):
                if j != k and name in other:
                    for n, c in other[name].items():
                        if n in static:
                            logs.setdefault(n, []).append(math.log(c["speedup"]))
            if not logs:
                continue
            pick = max(logs, key=lambda n: sum(logs[n]) / len(logs[n]))
            adaptive, in_run = cfg["adaptive"]["speedup"], max(static.values())
            m = CELL.match(name[:-len(".json")])
            if not m:
                continue
            key = f"{m.group(1)}, T {m.group(4)}"
            g = groups.setdefault(key, {"in": [], "out": [], "bias": []})
            g["in"].append(adaptive / in_run)
            g["out"].append(adaptive / static[pick])
            g["bias"].append(static[pick] / in_run)
        for key in sorted(groups):
            g = groups[key]
            n = len(g["in"])
            print(f"| {os.path.basename(os.path.normpath(runs[k]))} | {key} | {n} | {geomean(g['in']):.3f} | "
                  f"{sum(x >= 0.97 for x in g['in'])} / {n} | {geomean(g['out']):.3f} | "
                  f"{sum(x >= 0.97 for x in g['out'])} / {n} | {geomean(g['bias']):.3f} |")


if __name__ == "__main__":
    main(sys.argv[1:])
