#!/usr/bin/env python3
"""Pooled figures of run.sh's JSON files (unpack json.tar.xz first): per cell and binary, each
configuration's geometric mean over the runs, and adaptive against the better pooled static length."""
import glob, json, math, os, sys
os.chdir(os.path.dirname(os.path.abspath(__file__)))
gm = lambda xs: math.exp(sum(map(math.log, xs)) / len(xs))
files = glob.glob("json/*.json")
if not files:
    sys.exit("pooled.py: no json/*.json here (tar -xJf json.tar.xz)")
for cell in ["python_100", "c_100", "prose_1500", "python_500"]:
    for b in ["uag_s29base", "uag_s29settle"]:
        runs = [{c["name"]: c for c in json.load(open(f))["configs"]} for f in sorted(glob.glob(f"json/{b}_weak_{cell}_run*.json"))]
        sp = {n: gm([r[n]["speedup"] for r in runs]) for n in ["g1", "g2", "adaptive"]}
        e2e = gm([r["adaptive"]["speedup_end_to_end"] for r in runs])
        print(f"weak {cell:10s} {b:13s} runs {len(runs)}: adaptive {sp['adaptive']:.3f}x (e2e {e2e:.3f}x), "
              f"g1 {sp['g1']:.3f}x, g2 {sp['g2']:.3f}x, adaptive / best static {sp['adaptive'] / max(sp['g1'], sp['g2']):.3f}")
