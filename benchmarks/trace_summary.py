#!/usr/bin/env python3
"""Where a run's time goes, from `uag bench --trace FILE` (one JSON object per step).

For every run (the baseline and each configuration) prints its steps, tokens and decode time, then
splits the time against the baseline's median step time (the price of one token without a draft):
  - target-only steps (asked = 0): their count and median time, and the time they take beyond the
    baseline's median (what running beside a switched-off draft costs per step);
  - drafting steps (asked > 0): their count, tokens, and their time beyond what the baseline would take
    for the same tokens (negative: the draft saved time), with catch-up steps (the draft ingesting the
    text committed while it was off) counted apart;
  - the run's time over the baseline's for the same prompts (> 1: slower), with and without prompt 0;
  - for runs that switch drafting off and on: their target-only steps by how many steps after a drafting
    step they ran (1st, 2nd, ... 6th and later), each step's target time (its step time where the trace
    has none) over the median of its prompt run's target-only steps: what running the draft costs the
    target passes after it (caches the draft evicted).
usage: benchmarks/trace_summary.py TRACE.jsonl   (or TRACE.jsonl.xz)
"""
import json
import lzma
import os
import statistics
import sys
from collections import defaultdict


def fail(msg):
    print(f"{os.path.basename(sys.argv[0])}: {msg}", file=sys.stderr)
    sys.exit(1)


def load(path):
    try:
        opener = lzma.open if path.endswith(".xz") else open
        with opener(path, "rt", encoding="utf-8") as f:
            lines = f.read().splitlines()
    except lzma.LZMAError as e:
        fail(f"cannot read {path}: {e}")
    except OSError as e:
        fail(f"cannot read {path}: {e.strerror}")
    steps = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            s = json.loads(line)
        except json.JSONDecodeError:
            fail(f"{path}:{n}: not JSON (expected one `uag bench --trace` step per line)")
        if not isinstance(s, dict) or not {"run", "prompt", "asked", "committed", "step_s"} <= s.keys():
            fail(f"{path}:{n}: not a `uag bench --trace` step (needs run, prompt, asked, committed, step_s)")
        steps.append(s)
    if not steps:
        fail(f"{path} holds no steps")
    return steps


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 1:
        fail("usage: trace_summary.py TRACE.jsonl")
    steps = load(args[0])
    runs = defaultdict(list)
    for s in steps:
        runs[s["run"]].append(s)
    if "baseline" not in runs:
        fail(f"{args[0]} has no baseline steps")
    # Step 0 of every generation is decided by the prefill (no draft in any run): left out of the split.
    base = [s for s in runs["baseline"] if s["step"] > 0]
    unit = statistics.median(s["step_s"] for s in base)
    base_time = defaultdict(float)
    for s in runs["baseline"]:
        base_time[s["prompt"]] += s["step_s"]
    print(f"baseline: {len(runs['baseline'])} steps, median step {unit * 1e3:.3f} ms (the price of a token below)")
    print(f"{'run':<16} {'steps':>6} {'time/base':>9} {'w/o p0':>7} | {'off steps':>9} {'median ms':>9} {'extra':>7} |"
          f" {'drafting':>8} {'tokens':>6} {'extra':>7} | {'catch-up':>8} {'extra':>7}")
    for name, rs in runs.items():
        if name == "baseline":
            continue
        t = defaultdict(float)
        for s in rs:
            t[s["prompt"]] += s["step_s"]
        prompts = sorted(t)
        ratio = sum(t[p] for p in prompts) / max(1e-12, sum(base_time[p] for p in prompts))
        rest = [p for p in prompts if p != prompts[0]]
        ratio_rest = f"{sum(t[p] for p in rest) / max(1e-12, sum(base_time[p] for p in rest)):.3f}" if rest else "-"
        total = sum(t.values())
        body = [s for s in rs if s["step"] > 0]
        off = [s for s in body if s["asked"] == 0]
        on = [s for s in body if s["asked"] > 0 and not s.get("catch_up")]
        cu = [s for s in body if s["asked"] > 0 and s.get("catch_up")]

        def extra(ss):  # time beyond the baseline's price of the same tokens, as a share of the run's time
            return sum(s["step_s"] - s["committed"] * unit for s in ss) / total

        off_med = statistics.median(s["step_s"] for s in off) * 1e3 if off else float("nan")
        print(f"{name:<16} {len(rs):>6} {ratio:>9.3f} {ratio_rest:>7} | {len(off):>9} {off_med:>9.3f} {extra(off):>+7.1%} |"
              f" {len(on):>8} {sum(s['committed'] for s in on):>6} {extra(on):>+7.1%} | {len(cu):>8} {extra(cu):>+7.1%}")

    for name, rs in runs.items():
        after_draft(name, rs)


def after_draft(name, rs, far=6):
    """One line: the run's target-only steps grouped by steps since the last drafting step (far = "or more")."""
    by_prompt = defaultdict(list)
    for s in rs:
        by_prompt[s["prompt"]].append(s)
    groups = defaultdict(list)
    for steps in by_prompt.values():
        off = [s.get("target_s", s["step_s"]) for s in steps if s["asked"] == 0 and s["step"] > 0]
        if not off or not any(s["asked"] > 0 for s in steps):
            continue
        median = statistics.median(off)
        since = None  # steps since the last drafting step (None: none yet in this prompt run)
        for s in steps:
            if s["asked"] > 0:
                since = 0
                continue
            if since is None:
                continue
            since += 1
            if s["step"] > 0 and median > 0:
                groups[min(since, far)].append(s.get("target_s", s["step_s"]) / median)
    if not groups:
        return
    parts = [f"{k}{'+' if k == far else ''}: {statistics.median(v):.3f} ({len(v)})" for k, v in sorted(groups.items())]
    print(f"{name}: target-only steps k steps after drafting, time over the prompt run's median: " + ", ".join(parts))


if __name__ == "__main__":
    main()
