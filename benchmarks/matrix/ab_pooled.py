#!/usr/bin/env python3
"""Pools benchmarks/matrix/ab_runs.sh's JSON files (DIR/json/<binary>_<label>_<cell>_run<n>.json; unpack a
json.tar.xz first): per cell and binary, each configuration's geometric mean speedup over the runs, adaptive's
end to end, adaptive against the best pooled static length, and the share of adaptive's steps that drafted (mean
over the runs).
usage: ab_pooled.py DIR [LABEL]   (LABEL: weak by default)"""
import glob, json, math, os, re, sys

if len(sys.argv) not in (2, 3):
    sys.exit("usage: ab_pooled.py DIR [LABEL]")
label = sys.argv[2] if len(sys.argv) == 3 else "weak"
files = sorted(glob.glob(os.path.join(sys.argv[1], "json", "*.json")))
if not files:
    sys.exit(f"ab_pooled.py: no {sys.argv[1]}/json/*.json (unpack json.tar.xz there first)")
name = re.compile(rf"^(?P<bin>.+)_{re.escape(label)}_(?P<cell>.+)_run\d+\.json$")
runs, cells, bins = {}, [], []
for f in files:
    m = name.match(os.path.basename(f))
    if not m:
        sys.exit(f"ab_pooled.py: {f}: not <binary>_{label}_<cell>_run<n>.json")
    try:
        configs = {c["name"]: c for c in json.load(open(f))["configs"]}
    except (OSError, ValueError, KeyError, TypeError) as e:
        sys.exit(f"ab_pooled.py: {f}: not a uag bench --json file ({e})")
    runs.setdefault((m["cell"], m["bin"]), []).append(configs)
    cells += [m["cell"]] * (m["cell"] not in cells)
    bins += [m["bin"]] * (m["bin"] not in bins)
gm = lambda xs: math.exp(sum(map(math.log, xs)) / len(xs))
width = max(map(len, bins))
for cell in cells:
    for b in bins:
        rs = runs.get((cell, b), [])
        if not rs or "adaptive" not in rs[0]:
            continue
        static = [n for n in rs[0] if re.fullmatch(r"g\d+", n)]
        sp = {n: gm([r[n]["speedup"] for r in rs]) for n in static + ["adaptive"]}
        e2e = gm([r["adaptive"]["speedup_end_to_end"] for r in rs])
        best = max(sp[n] for n in static) if static else float("nan")
        parts = ", ".join(f"{n} {sp[n]:.3f}x" for n in static)
        shares = [r["adaptive"].get("drafting_share") for r in rs]  # of adaptive's steps (absent in old files)
        share = "" if None in shares else f", drafting {sum(shares) / len(shares):.2f}"
        print(f"{label} {cell:10s} {b:{width}s} runs {len(rs)}: adaptive {sp['adaptive']:.3f}x (e2e {e2e:.3f}x), "
              f"{parts}, adaptive / best static {sp['adaptive'] / best:.3f}{share}")
