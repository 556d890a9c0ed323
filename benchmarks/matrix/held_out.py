#!/usr/bin/env python3
"""Adaptive against the best static γ, chosen in-run and held out (issue 14).

The best of several static lengths measured in one run is biased upward: it is the maximum of noisy
figures. This script also picks each cell's best static γ on the *other* runs given (mean log speedup)
and reads its speedup in the evaluated run, which is free of that bias. A last table pools the runs: each
configuration's speedup is its geometric mean over the runs that hold the cell, and adaptive is read
against the best pooled static length (one run's cell moves by +-5-7%; the pooled figure by less) and
against target-only (its pooled speedup: the do-no-harm figure, 0.97x in issue 14), in decode and, where
every run's file holds it, end to end (speedup_end_to_end).

usage: benchmarks/matrix/held_out.py RUN_DIR RUN_DIR [...]   (each a matrix.sh output with json/)
"""
import glob
import json
import math
import os
import sys

from summarize import CELL, geomean, positive  # CELL: the cell-name pattern matrix.sh writes


def is_static(name):
    """A static length's configuration (g1..g16), not a twin such as g2:slem."""
    return name.startswith("g") and ":" not in name


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
        for name, cfg in cells[os.path.basename(path)].items():
            if name == "adaptive" or is_static(name):
                v = cfg.get("speedup")  # the ratios and logs below need a positive number
                if not positive(v):
                    sys.exit(f"held_out.py: {path}: configuration {name}: speedup must be a positive number, "
                             f"got {v!r}")
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
            static = {n: c["speedup"] for n, c in cfg.items() if is_static(n)}
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
    pooled(data)


def pooled(data):
    groups, below, harm, harm_e2e = {}, [], [], []
    for name in sorted(set().union(*data)):
        m = CELL.match(name[:-len(".json")])
        have = [cells[name] for cells in data if name in cells]
        if not m or len(have) < 2 or any("adaptive" not in cfg for cfg in have):
            continue
        names = set.intersection(*({n for n in cfg if is_static(n)} for cfg in have))
        if not names:
            continue
        pool = {n: geomean([cfg[n]["speedup"] for cfg in have]) for n in names | {"adaptive"}}
        best = max(names, key=lambda n: pool[n])
        ratio = pool["adaptive"] / pool[best]
        e2e = [cfg["adaptive"].get("speedup_end_to_end") for cfg in have]
        e2e = geomean(e2e) if all(positive(v) for v in e2e) else None
        key = f"{m.group(1)}, T {m.group(4)}"
        groups.setdefault(key, []).append((ratio, len(have), pool["adaptive"], e2e))
        where = f"{m.group(1)} {m.group(2)} {m.group(3)} T {m.group(4)}"
        if ratio < 0.97:
            below.append(f"{where} {ratio:.3f} (of {best})")
        if pool["adaptive"] < 0.97:
            harm.append(f"{where} {pool['adaptive']:.3f}x")
        if e2e is not None and e2e < 0.97:
            harm_e2e.append(f"{where} {e2e:.3f}x")
    if not groups:
        return
    print()
    print("| runs per cell | pair, T | cells | pooled adaptive / best pooled static | within 3% | "
          "pooled adaptive vs target-only: worst cell | end to end: worst cell |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for key in sorted(groups):
        r = [x for x, _, _, _ in groups[key]]
        lo, hi = min(k for _, k, _, _ in groups[key]), max(k for _, k, _, _ in groups[key])
        e2e = [e for _, _, _, e in groups[key] if e is not None]
        print(f"| {lo if lo == hi else f'{lo}-{hi}'} | {key} | {len(r)} | {geomean(r):.3f} | "
              f"{sum(x >= 0.97 for x in r)} / {len(r)} | {min(a for _, _, a, _ in groups[key]):.3f}x | "
              f"{f'{min(e2e):.3f}x' if e2e else 'n/a'} |")
    print("- pooled, below 3% of the best static length: " + (", ".join(below) if below else "none"))
    print("- pooled, adaptive below 0.97x of target-only: " + (", ".join(harm) if harm else "none"))
    print("- pooled, adaptive below 0.97x of target-only end to end: " + (", ".join(harm_e2e) if harm_e2e else "none"))


if __name__ == "__main__":
    main(sys.argv[1:])
