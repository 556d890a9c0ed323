#!/usr/bin/env python3
"""Session 32: how costly adaptive's steps are around a change of draft length, from a `uag bench --trace`
file. Each step's target time is divided by the median target time of the baseline's steps within 8
positions of it in the same prompt, then by the median of that ratio over the static runs' steps at its
length; printed: the median of that over adaptive's steps k = -2..2 steps from a step whose length
differs from the previous one's (switch) or not (same).
  usage: trace_switches.py TRACE.jsonl
  trace: ./build/bin/uag bench --prompts examples/prompts/readme.jsonl --max-new-tokens 128 --threads 1 \
           --configs g5,g6,g7,adaptive --weights bf16-products --trace TRACE.jsonl"""
import collections
import json
import statistics as st
import sys

runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    r = json.loads(line)
    runs[(r["run"], r["prompt"])].append(r)
base = {p: [r["target_s"] for r in s] for (run, p), s in runs.items() if run == "baseline"}
typical = collections.defaultdict(list)
for (run, p), steps in runs.items():
    if run == "baseline":
        continue
    pos = 0
    for r in steps:
        near = base[p][max(0, pos - 8):pos + 8] or base[p][-8:]
        r["cost"] = r["target_s"] / st.median(near)
        pos += r["committed"]
        if run != "adaptive" and r["asked"] > 0:
            typical[r["asked"]].append(r["cost"])
typical = {g: st.median(v) for g, v in typical.items()}
around = collections.defaultdict(list)
for (run, p), steps in runs.items():
    if run != "adaptive":
        continue
    for i, r in enumerate(steps):
        if i < 3 or r["asked"] == 0 or steps[i - 1]["asked"] == 0:
            continue
        if r["asked"] not in typical or steps[i - 1]["asked"] not in typical:
            continue
        switch = r["asked"] != steps[i - 1]["asked"]
        for k in range(-2, 3):
            j = i + k
            if 0 <= j < len(steps) and steps[j]["asked"] in typical:
                around[(switch, k)].append(steps[j]["cost"] / typical[steps[j]["asked"]])
for (switch, k), v in sorted(around.items()):
    print(f"{'switch' if switch else 'same  '} k={k:+d} steps {len(v):5d} cost / static's {st.median(v):.3f}")
