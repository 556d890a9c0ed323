#!/usr/bin/env python3
"""Session 46's reading of `uag bench --trace` files (the figures in its note that are not matrix cells).
usage: trace_checks.py TRACE.jsonl [RUN]   (RUN: the adaptive configuration's name, default adaptive)
Prints, for RUN:
  - the catch-up check: rows checked, mean score a row (sum of 'agreed' / 'checked'), against the first
    candidate's acceptance on the steps that drafted;
  - catch-up probes (asked 1 after target-only steps): median draft seconds by rows checked;
  - per prompt, the median of RUN's target-only steps over the baseline's steps, and of its one-token
    steps (no catch-up) over those of a g1 run if the trace has one (median over prompts, then each)."""
import json, statistics as st, sys
from collections import defaultdict

if len(sys.argv) not in (2, 3):
    sys.exit(__doc__.splitlines()[1])
run = sys.argv[2] if len(sys.argv) == 3 else "adaptive"
try:
    rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
except (OSError, ValueError) as e:
    sys.exit(f"trace_checks.py: {sys.argv[1]}: not a uag bench --trace file ({e})")
a = [r for r in rows if r.get("run") == run]
if not a:
    sys.exit(f"trace_checks.py: no steps of run '{run}' in {sys.argv[1]}")
checked = [r for r in a if r.get("checked", 0) > 0]
n = sum(r["checked"] for r in checked)
drafting = [r for r in a if r["proposed"] > 0]
first = sum(r["accepted"] > 0 for r in drafting) / len(drafting) if drafting else float("nan")
print(f"check: {n} rows, mean score {sum(r['agreed'] for r in checked) / n if n else float('nan'):.3f} a row; "
      f"first candidate accepted on {first:.3f} of {len(drafting)} drafting steps")
probes = defaultdict(list)
for r in a:
    if r["catch_up"] and r["step"] > 0 and r["asked"] == 1:
        probes[min(r.get("checked", 0), 16)].append(r["draft_s"] * 1e3)
print("catch-up probes, rows checked: count x median draft ms: " +
      " ".join(f"{k}:{len(v)}x{st.median(v):.2f}" for k, v in sorted(probes.items())))
def steps(name, pred):
    by = defaultdict(list)
    for r in rows:
        if r.get("run") == name and r["step"] > 0 and pred(r):
            by[r["prompt"]].append(r["step_s"])
    return by
base, g1 = steps("baseline", lambda r: True), steps("g1", lambda r: True)
zero, one = steps(run, lambda r: r["asked"] == 0), steps(run, lambda r: r["asked"] == 1 and not r["catch_up"])
for label, mine, ref in (("target-only steps / baseline's", zero, base), ("one-token steps / g1's", one, g1)):
    ratios = [st.median(mine[p]) / st.median(ref[p]) for p in sorted(mine) if len(mine[p]) > 5 and len(ref.get(p, [])) > 5]
    if ratios:
        print(f"per prompt, {run}'s {label}: median {st.median(ratios):.3f} (" + " ".join(f"{x:.2f}" for x in ratios) + ")")
