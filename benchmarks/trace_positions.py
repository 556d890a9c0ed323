#!/usr/bin/env python3
"""Did the adaptive controller draft where drafting paid? Reads a `uag bench --trace FILE` of a run whose
configurations all generate the same text (greedy, or `--mode slem` at T > 0: every configuration commits
the baseline's tokens) and, for each step of `adaptive` (grouped by the length it asked for: off, 1, 2, 3,
4+), prints how a static run fared at the same position of the same prompt: its acceptance (accepted over
proposed) and tokens per pass. If the positions where adaptive stopped drafting accept as well as those
where it drafted, its stops carried no information about the text.

usage: benchmarks/trace_positions.py TRACE.jsonl [STATIC_CONFIG]   (default g2; TRACE may be .xz)
"""
import collections
import sys

from trace_summary import fail, load


def main():
    if len(sys.argv) not in (2, 3):
        fail("usage: trace_positions.py TRACE.jsonl [STATIC_CONFIG]")
    path, ref = sys.argv[1], sys.argv[2] if len(sys.argv) == 3 else "g2"
    runs = collections.defaultdict(list)
    for s in load(path):
        if not {"accepted", "proposed"} <= s.keys():
            fail(f"{path}: a step without accepted / proposed (not a `uag bench --trace` file)")
        runs[(s["run"], s["prompt"])].append(s)
    prompts = sorted({p for (run, p) in runs if run == "adaptive"})
    if not prompts or not any((ref, p) in runs for p in prompts):
        fail(f"{path}: needs runs 'adaptive' and '{ref}'")
    # [group] = [adaptive steps matched, static's accepted, static's proposed, static's committed]
    groups = collections.defaultdict(lambda: [0, 0, 0, 0])
    for p in prompts:
        at = {}  # position (committed tokens before the step) -> the static run's step there
        pos = 0
        for s in runs[(ref, p)]:
            at[pos] = s
            pos += s["committed"]
        pos = 0
        for s in runs[("adaptive", p)]:
            group = "off" if s["asked"] == 0 else "4+" if s["asked"] >= 4 else str(s["asked"])
            if pos in at:
                g, r = groups[group], at[pos]
                g[0] += 1
                g[1] += r["accepted"]
                g[2] += r["proposed"]
                g[3] += r["committed"]
            pos += s["committed"]
    print(f"adaptive asked | steps matched | {ref} at the same positions: acceptance, tokens per pass")
    for name in sorted(groups, key=lambda k: (k != "off", k)):
        n, acc, prop, com = groups[name]
        print(f"{name:>14} | {n:13d} | {acc / max(1, prop):.2f}, {com / max(1, n):.2f}")


if __name__ == "__main__":
    main()
