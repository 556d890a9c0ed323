#!/usr/bin/env python3
"""One table from benchmarks/matrix.sh's `uag bench --json` files: per pair x domain x length x T,
the best static gamma (g1..g4) and adaptive, as decode speedups (geometric mean over prompts of
tokens/s ratios against the interleaved target-only baseline) and end-to-end speedups (prefill
included), tokens per target pass, c (draft-side seconds per drafted token / target seconds per pass,
of the best static configuration) beside the models' one-token forward-time ratio, Leviathan's bound
from the measured alpha and c (the best over the static lengths) beside the same bound with a
verification pass priced at its measured cost, identical greedy outputs, and the machine's load average
when the cell started. Adaptive over the best static length carries its 95% interval paired by prompt
(paired()), and each pair's summary line counts the cells more than 3% below it whose interval still
reaches 0.97. Usage: summarize.py JSON_DIR"""
import glob
import json
import math
import os
import re
import sys


# A cell's file name (matrix.sh's tag): pair, domain, prompt length, temperature.
CELL = re.compile(r"(.+)_(python|c|prose)_(\d+)_t([\d.]+)$")


def geomean(xs):
    return math.exp(sum(math.log(max(x, 1e-9)) for x in xs) / len(xs))


def positive(x):
    """Whether x is a positive finite number (a speedup a ratio or a log can take)."""
    return isinstance(x, (int, float)) and not isinstance(x, bool) and 0 < x < math.inf


def interval(c):
    """ (lo–hi): a configuration's 95% interval of its decode geomean (uag bench's speedup_interval_95;
    absent in runs before session 36 and with a single prompt run)."""
    i = c.get("speedup_interval_95")
    return f" ({i[0]:.2f}–{i[1]:.2f})" if i else ""


def floor_verdict(sel, floor=0.97):
    """Where the do-no-harm floor stands given the noise: cells whose adaptive decode interval lies wholly
    below it (a loss the run shows), wholly at or above it, or across it (the run cannot tell)."""
    iv = [r["ad"].get("speedup_interval_95") for r in sel]
    if not all(iv):
        return ""
    below = sum(i[1] < floor for i in iv)
    above = sum(i[0] >= floor for i in iv)
    return (f"; 95% intervals of adaptive decode vs {floor:.2f}×: {above} above, {below} below, "
            f"{len(iv) - above - below} across")


# Two-sided 95% quantiles of Student's t, df = 1..30 (uag bench's ratio_stats.hpp table); 1.96 past it.
T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
        2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
        2.045, 2.042]


def miss_verdict(sel, floor=0.97):
    """Of the cells below 3% of their best static length, those whose paired interval (paired()) still
    reaches it: the run cannot tell them from a tie within 3%."""
    miss = [r for r in sel if r["ad"]["speedup"] < floor * r["best"]["speedup"]]
    if not miss or not all(r["vs"] for r in miss):
        return ""
    return f"; of the {len(miss)} below, {sum(r['vs'][1] >= floor for r in miss)} with a paired 95% interval reaching 0.97"


def paired(a, b):
    """(lo, hi): 95% interval of a's decode geomean over b's, paired by prompt (a t-interval on the logs of
    the per-prompt ratios, from uag bench's speedup_by_prompt; both ran every prompt side by side, so the
    prompts' own spread cancels and what is left is the noise between their runs and the controller's
    choices). None where a run lacks per-prompt figures or has fewer than two prompts; ValueError where
    they are not positive numbers. The best static
    length is picked on the same run, so its figure leans high (the best of several noisy figures)."""
    pa, pb = a.get("speedup_by_prompt"), b.get("speedup_by_prompt")
    for c, p in ((a, pa), (b, pb)):
        if p is not None and not (isinstance(p, list) and all(positive(x) for x in p)):
            raise ValueError(f"{c.get('name', '?')}: speedup_by_prompt is not a list of positive numbers")
    if not pa or not pb or len(pa) != len(pb) or len(pa) < 2:
        return None
    logs = [math.log(x / y) for x, y in zip(pa, pb)]  # positive: checked above
    n = len(logs)
    mean = sum(logs) / n
    sd = math.sqrt(sum((x - mean) ** 2 for x in logs) / (n - 1))
    half = (T975[n - 2] if n - 1 <= len(T975) else 1.96) * sd / math.sqrt(n)
    return math.exp(mean - half), math.exp(mean + half)


def statics(cfg, suffix=""):
    """Decode speedups of a cell's static lengths (g1..g16) carrying exactly `suffix` ("" or ":slem")."""
    k = len(suffix)
    return [c["speedup"] for n, c in cfg.items()
            if n.startswith("g") and n.endswith(suffix) and ":" not in n[:len(n) - k]]


def main():
    d = sys.argv[1]
    rows = []
    for path in sorted(glob.glob(os.path.join(d, "*.json"))):
        tag = os.path.basename(path)[:-5]
        m = CELL.match(tag)
        if not m:
            continue
        # A cell still being written (matrix.sh running) or a stray file: named, not a traceback.
        try:
            with open(path) as f:
                j = json.load(f)
            cfg = {c["name"]: c for c in j["configs"]}
        except (OSError, ValueError) as e:
            sys.exit(f"{path}: not readable as JSON ({e}); a cell still being written? rerun when it is done")
        except (KeyError, TypeError):
            sys.exit(f"{path}: not a `uag bench --json` file (no configs with names)")
        static = [c for n, c in cfg.items() if n.startswith("g") and ":" not in n]  # the plain side
        if not static or "adaptive" not in cfg:
            sys.exit(f"{path}: the table needs a static configuration (g1..g16) and adaptive in --configs")
        best = max(static, key=lambda c: c["speedup"])
        ad = cfg["adaptive"]
        try:
            vs = paired(ad, best)
        except ValueError as e:
            sys.exit(f"{path}: {e}")
        load = ""
        txt = os.path.join(d, tag + ".txt")
        if os.path.exists(txt):
            mm = re.search(r"load: ([\d.]+)", open(txt).read())
            load = mm.group(1) if mm else ""
        rows.append(dict(pair=m.group(1), dom=m.group(2), len=int(m.group(3)), t=float(m.group(4)),
                         base=j["baseline"]["tokens_per_s"], ptok=j.get("prompt_tokens_mean", 0),
                         best=best, ad=ad, vs=vs, fwd=j.get("forward_time_ratio", 0),
                         same=j["identical_outputs"], load=load, cfg=cfg, bounds=bounds(cfg),
                         # greedy cells, and SLEM twins of sampled ones (same seed, same text)
                         checked=any(c.get("identical_expected", j["temperature"] == 0) for c in j["configs"])))
    order = {"bundled": 0, "weak_draft": 1, "qwen_target": 2}
    dom_order = {"python": 0, "c": 1, "prose": 2}
    rows.sort(key=lambda r: (r["t"], order.get(r["pair"], 9), dom_order[r["dom"]], r["len"]))
    print("| pair | domain | prompt tok | T | target-only tok/s | best static: γ, decode, e2e | adaptive: decode, e2e "
          "| adaptive vs best | tok/pass (best / adaptive) | c (best) | fwd ratio | bound: α, c / at pass cost "
          "| identical | load |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        b, a = r["best"], r["ad"]
        lev, at_cost = r["bounds"]
        print(f"| {r['pair']} | {r['dom']} | {r['ptok']:.0f} | {r['t']:g} | {r['base']:.0f} | "
              f"{b['name']} {b['speedup']:.2f}× / {b['speedup_end_to_end']:.2f}× | "
              f"{a['speedup']:.2f}×{interval(a)} / {a['speedup_end_to_end']:.2f}× | {a['speedup'] / b['speedup']:.2f}"
              + (" ({:.2f}–{:.2f})".format(*r["vs"]) if r["vs"] else "") + " | "
              f"{b['tokens_per_step']:.2f} / {a['tokens_per_step']:.2f} | {b['cost_ratio']:.2f} | {r['fwd']:.2f} | "
              f"{lev:.2f}× / {at_cost:.2f}× | "
              f"{('yes' if r['same'] else 'NO') if r['checked'] else 'n/a'} | {r['load']} |")
    # Summary lines: geometric means and worst cells, per pair and temperature.
    print()
    for t in sorted({r["t"] for r in rows}):
        for pair in sorted({r["pair"] for r in rows}, key=lambda p: order.get(p, 9)):
            sel = [r for r in rows if r["t"] == t and r["pair"] == pair]
            if not sel:
                continue
            ad = [r["ad"]["speedup"] for r in sel]
            ae = [r["ad"]["speedup_end_to_end"] for r in sel]
            bs = [r["best"]["speedup"] for r in sel]
            # Issue 14: adaptive within 3% of the best static length, per cell.
            vs = [a / b for a, b in zip(ad, bs)]
            print(f"- {pair}, T={t:g}, {len(sel)} cells: adaptive decode geomean {geomean(ad):.2f}× (worst {min(ad):.2f}×), "
                  f"end to end {geomean(ae):.2f}× (worst {min(ae):.2f}×); best static decode geomean {geomean(bs):.2f}×; "
                  f"adaptive over the best static length {geomean(vs):.3f} ({sum(v >= 0.97 for v in vs)} of {len(vs)} "
                  f"cells within 3%" + miss_verdict(sel) + ")" + floor_verdict(sel))
    # Issue 14: adaptive >= 1.05x wherever the measured alpha and c allow a bound above 1.2x. Leviathan's
    # bound prices a pass over 1 + gamma rows like a one-token pass; on a CPU it costs 1.1-1.5x that
    # (verify_pass_cost), so the bound at that cost is shown beside each cell that misses.
    high = [r for r in rows if r["bounds"][0] > 1.2]
    miss = [r for r in high if r["ad"]["speedup"] < 1.05]
    print(f"- bound (α, c) above 1.2x on {len(high)} cells; adaptive >= 1.05x on {len(high) - len(miss)}"
          + ("" if not miss else "; below: " + ", ".join(
              f"{r['pair']} {r['dom']} ~{r['ptok']:.0f} T={r['t']:g} {r['ad']['speedup']:.2f}x "
              f"(bound {r['bounds'][0]:.2f}x, at pass cost {r['bounds'][1]:.2f}x)" for r in miss)))
    # Configurations run with and without a suffix (":hold": the text bridge holding back the last word;
    # ":slem": SLEM over the text bridge where the run samples with TLI): the plain configuration's decode
    # speedup over its twin's, per cell, from the same interleaved run.
    for suffix in (":hold", ":slem"):
        compare_twins(rows, suffix)


def bounds(cfg):
    """The best Leviathan bound over a cell's plain static lengths, and the best with the verification
    pass priced at its measured cost (uag bench's bound / verify_pass_cost)."""
    st = [c for n, c in cfg.items() if n.startswith("g") and ":" not in n]
    return (max(c.get("bound", 0.0) for c in st),
            max(c.get("bound", 0.0) / max(c.get("verify_pass_cost", 1.0), 1e-9) for c in st))


def compare_twins(rows, suffix):
    k = len(suffix)
    twins = sorted({n[:-k] for r in rows for n in r["cfg"] if n.endswith(suffix) and n[:-k] in r["cfg"]},
                   key=lambda n: (n[0] != "g", int(n[1:]) if n[0] == "g" and n[1:].isdigit() else 0, n))
    if not twins:
        return
    print()
    print("| pair | domain | prompt tok | T | " + " | ".join(f"{n} vs {n}{suffix} (tok/pass, c)" for n in twins) + " |")
    print("| --- | --- | --- | --- | " + " | ".join("---" for _ in twins) + " |")
    for r in rows:
        if not any(n in r["cfg"] and n + suffix in r["cfg"] for n in twins):
            continue
        cells = []
        for n in twins:
            a, h = r["cfg"].get(n), r["cfg"].get(n + suffix)
            cells.append("–" if a is None or h is None else
                         f"{a['speedup']:.2f}× vs {h['speedup']:.2f}× ({a['tokens_per_step']:.2f} vs "
                         f"{h['tokens_per_step']:.2f}, {a['cost_ratio']:.2f} vs {h['cost_ratio']:.2f})")
        print(f"| {r['pair']} | {r['dom']} | {r['ptok']:.0f} | {r['t']:g} | " + " | ".join(cells) + " |")
    for n in twins:
        ratios = [r["cfg"][n]["speedup"] / r["cfg"][n + suffix]["speedup"] for r in rows
                  if n in r["cfg"] and n + suffix in r["cfg"]]
        print(f"- {n} over {n}{suffix}: geomean {geomean(ratios):.3f}, {sum(x >= 1 for x in ratios)} of {len(ratios)} cells >= 1")
    # The best static length on each side, per cell (each side's own best γ).
    best = [max(statics(r["cfg"])) / max(statics(r["cfg"], suffix)) for r in rows
            if statics(r["cfg"]) and statics(r["cfg"], suffix)]
    if best:
        print(f"- best static over best static{suffix}: geomean {geomean(best):.3f}, {sum(x >= 1 for x in best)} of {len(best)} cells >= 1")
    # The controller on the twin side alone: adaptive against that side's best static length. With
    # ":slem" every configuration samples the baseline's own text (same seed, same text), so this ratio
    # has none of the text-to-text spread that TLI-sampled cells have.
    own = [(r, r["cfg"]["adaptive" + suffix]["speedup"] / max(statics(r["cfg"], suffix)))
           for r in rows if "adaptive" + suffix in r["cfg"] and statics(r["cfg"], suffix)]
    if own:
        cells = ", ".join(f"{r['pair']} {r['dom']} {x:.3f}" for r, x in own)
        print(f"- adaptive{suffix} over best static{suffix}: geomean {geomean([x for _, x in own]):.3f}, "
              f"{sum(x >= 0.97 for _, x in own)} of "
              f"{len(own)} cells >= 0.97 ({cells}); adaptive{suffix} over target-only: worst "
              f"{min(r['cfg']['adaptive' + suffix]['speedup'] for r, _ in own):.2f}x")

if __name__ == "__main__":
    main()
