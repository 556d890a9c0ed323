#!/usr/bin/env python3
"""Per prompt: the mean and median step time of the baseline, of adaptive's target-only steps and of g1,
from a `uag bench --trace` file (.jsonl or .jsonl.xz). usage: per_prompt_steps.py TRACE
Bad input (a missing file, a line that is not a trace step, no baseline or no target-only adaptive steps):
one line naming the problem, exit status 2."""
import collections
import json
import lzma
import statistics
import sys



def fail(message):
    print(f"per_prompt_steps.py: {message}", file=sys.stderr)
    sys.exit(2)


if len(sys.argv) != 2:
    fail("usage: per_prompt_steps.py TRACE.jsonl[.xz]")
path = sys.argv[1]
try:
    f = lzma.open(path, "rt") if path.endswith(".xz") else open(path)
    lines = f.readlines()
except (OSError, lzma.LZMAError) as e:
    fail(f"cannot read {path}: {e}")
by = collections.defaultdict(lambda: collections.defaultdict(list))
for n, line in enumerate(lines, 1):
    try:
        j = json.loads(line)
        run, step, asked, prompt, s = j["run"], j["step"], j["asked"], j["prompt"], j["step_s"]
    except (ValueError, KeyError, TypeError):
        fail(f"{path}:{n}: not a `uag bench --trace` step")
    if step == 0:
        continue  # the prefill's step
    if run == "adaptive":
        run = "adaptive_off" if asked == 0 else "adaptive_on"
    by[run][prompt].append(s * 1e3)
if not by["baseline"] or not by["adaptive_off"]:
    fail(f"{path} has no baseline or no target-only adaptive steps")
for k in ("baseline", "adaptive_off", "adaptive_on", "g1"):
    v = sorted(x for p in by[k].values() for x in p)
    if v:
        print(f"{k:13s} steps {len(v):5d}  mean {statistics.mean(v):.3f} ms  median {statistics.median(v):.3f}"
              f"  p90 {v[int(0.9 * len(v))]:.3f}")
print("prompt  baseline mean/median  adaptive off mean/median  off / baseline (mean)")
for p in sorted(by["baseline"]):
    b = by["baseline"][p]
    a = by["adaptive_off"].get(p, [])
    if a:
        print(f"{p:6d}  {statistics.mean(b):8.3f} {statistics.median(b):7.3f}  {statistics.mean(a):12.3f} "
              f"{statistics.median(a):7.3f}  {statistics.mean(a) / statistics.mean(b):8.3f}")
