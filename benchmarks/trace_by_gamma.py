#!/usr/bin/env python3
"""Where a `uag bench --trace` (or `uag generate --trace`) run spent its steps, per draft length.

For every run name in the trace (baseline, g5, adaptive, ...): its steps, committed tokens and tokens/s,
then one line per draft length asked for: steps, share of the run's time, tokens per step, median step,
target and draft times, and tokens per millisecond. A run's lengths are its own text's: an adaptive run
drafts long where the text is easy, so its per-length rates are not those of a static run. Where a length
has both full steps and short ones (fewer candidates proposed than asked: the confidence stop, or a text
bridge's yield), two more lines split them: the controller times a step under the length asked for, so a
length whose short steps are cheap looks cheaper than its full steps are.
usage: benchmarks/trace_by_gamma.py TRACE.jsonl
"""
import collections
import json
import statistics
import sys


def main(argv):
    if len(argv) != 2:
        sys.exit("usage: benchmarks/trace_by_gamma.py TRACE.jsonl")
    runs = collections.defaultdict(list)
    try:
        with open(argv[1]) as f:
            for n, line in enumerate(f, 1):
                try:
                    s = json.loads(line)
                    runs[s["run"]].append((s["asked"], s["committed"], s["step_s"], s["target_s"], s["draft_s"],
                                           s.get("proposed", s["asked"])))
                except (ValueError, KeyError, TypeError) as e:
                    sys.exit(f"trace_by_gamma.py: {argv[1]}:{n} is not a trace step line ({e})")
    except OSError as e:
        sys.exit(f"trace_by_gamma.py: cannot read {argv[1]}: {e.strerror}")
    if not runs:
        sys.exit(f"trace_by_gamma.py: {argv[1]} holds no steps")
    for name, steps in runs.items():
        total = sum(s[2] for s in steps)
        committed = sum(s[1] for s in steps)
        rate = committed / total if total > 0 else 0.0
        print(f"{name}: {len(steps)} steps, {committed} tokens in {total * 1e3:.0f} ms ({rate:.0f} tokens/s)")
        by_gamma = collections.defaultdict(list)
        for s in steps:
            by_gamma[s[0]].append(s)
        for g in sorted(by_gamma):
            ss = by_gamma[g]
            t = sum(s[2] for s in ss)
            c = sum(s[1] for s in ss)
            med = lambda i: statistics.median(s[i] for s in ss) * 1e3
            print(f"  g={g:2d} steps {len(ss):5d}  time {t / total if total > 0 else 0:6.1%}  tokens/step {c / len(ss):5.2f}"
                  f"  median step {med(2):.2f} ms (target {med(3):.2f}, draft {med(4):.2f})"
                  f"  tokens/ms {c / t / 1e3 if t > 0 else 0:.3f}")
            parts = {"full": [s for s in ss if s[5] >= g], "short": [s for s in ss if s[5] < g]}
            if g > 0 and all(parts.values()):
                for kind, part in parts.items():
                    print(f"    {kind:<5} steps {len(part):5d}  proposed {statistics.mean(s[5] for s in part):5.2f}"
                          f"  tokens/step {statistics.mean(s[1] for s in part):5.2f}"
                          f"  median step {statistics.median(s[2] for s in part) * 1e3:.2f} ms")


if __name__ == "__main__":
    main(sys.argv)
