#!/usr/bin/env python3
"""Summarises benchmarks/llama_cpp_side_by_side.sh logs: tokens/s per contender and round (aggregate over
prompts: new tokens / decode seconds, prefill excluded on both sides), acceptance, and the ratios."""
import glob
import json
import os
import re
import sys

out = sys.argv[1]
logs = os.path.join(out, "logs")


def spec_stats(path):
    tokens = secs = drafted = accepted = 0
    failed = 0
    for line in open(path, errors="replace"):
        m = re.search(r"decoded\s+(\d+) tokens in\s+([\d.]+) seconds", line)
        if m:
            tokens += int(m.group(1))
            secs += float(m.group(2))
        m = re.match(r".*n_drafted\s*=\s*(\d+)", line)
        if m:
            drafted += int(m.group(1))
        m = re.match(r".*n_accept\s*=\s*(\d+)", line)
        if m:
            accepted += int(m.group(1))
        if line.startswith("FAILED"):
            failed += 1
    return (tokens / secs if secs else 0.0), (accepted / drafted if drafted else 0.0), tokens, failed


rounds = sorted({int(m.group(1)) for f in glob.glob(f"{logs}/*_r*.*") for m in [re.search(r"_r(\d+)\.", f)] if m})
rows = {}  # name -> [(round, tok/s, acceptance, note)]


def add(name, r, tps, acc=None, note=""):
    rows.setdefault(name, []).append((r, tps, acc, note))


for r in rounds:
    for tag, label in (("uag_cross_gguf", "uag (llama.cpp target + llama.cpp draft)"),
                       ("uag_cross_mixed", "uag (llama.cpp target + reference-transformer draft)"),
                       ("uag_self", "uag self-draft (F16 target + Q4_K_M draft)")):
        p = f"{logs}/{tag}_r{r}.json"
        if not os.path.exists(p):
            continue
        j = json.load(open(p))
        base = j["baseline"]["tokens_per_s"]
        add(f"{label}: target-only", r, base)
        for c in j["configs"]:
            add(f"{label}: {c['name']}", r, c["tokens_per_s"], c["acceptance"],
                "identical" if j["identical_outputs"] else "NOT IDENTICAL")
    for p in sorted(glob.glob(f"{logs}/*_k*_r{r}.log")):
        tag = os.path.basename(p)[:-len(f"_r{r}.log")]
        tps, acc, toks, failed = spec_stats(p)
        who, pair, k = tag.split("_")
        label = ("llama.cpp b7698" if who == "b7698" else "llama.cpp release") + \
            f" llama-speculative-simple {'cross-vocab' if pair == 'cross' else 'self-draft'} --draft-max {k[1:]}"
        add(label, r, tps, acc, f"{toks} tokens" + (f", {failed} runs FAILED" if failed else ""))
    p = f"{logs}/llama_bench_r{r}.json"
    if os.path.exists(p):
        try:
            for e in json.load(open(p)):
                add(f"llama-bench tg (target-only) {os.path.basename(e['model_filename'])}", r, e["avg_ts"])
        except Exception as ex:  # noqa: BLE001
            add("llama-bench", r, 0.0, None, f"unreadable: {ex}")

print(f"{'contender':92s} " + " ".join(f"{'r' + str(r) + ' tok/s':>10s}" for r in rounds) + "  acceptance  note")
for name, vals in rows.items():
    by_r = {r: (t, a, n) for r, t, a, n in vals}
    cells = " ".join(f"{by_r[r][0]:10.1f}" if r in by_r else f"{'-':>10s}" for r in rounds)
    accs = [a for _, _, a, _ in vals if a is not None]
    acc = f"{sum(accs) / len(accs):10.3f}" if accs else f"{'':10s}"
    print(f"{name:92s} {cells}  {acc}  {vals[-1][3]}")


def mean(name):
    v = [t for _, t, _, _ in rows.get(name, []) if t > 0]  # failed runs (0 tok/s) do not count
    return sum(v) / len(v) if v else 0.0


def best(prefix):
    cands = [(mean(n), n) for n in rows if n.startswith(prefix)]
    return max(cands) if cands else (0.0, "")


print()
u_cross = best("uag (llama.cpp target + llama.cpp draft): adaptive")
u_cross_any = max(best("uag (llama.cpp target + llama.cpp draft): g"), u_cross)
u_mixed = best("uag (llama.cpp target + reference-transformer draft): adaptive")
old_cross = best("llama.cpp b7698 llama-speculative-simple cross-vocab")
lb = best("llama-bench tg (target-only) target-bf16")
u_base = mean("uag (llama.cpp target + llama.cpp draft): target-only")
u_self = best("uag self-draft (F16 target + Q4_K_M draft): adaptive")
u_self_any = max(best("uag self-draft (F16 target + Q4_K_M draft): g"), u_self)
old_self = best("llama.cpp b7698 llama-speculative-simple self-draft")
rel_self = best("llama.cpp release llama-speculative-simple self-draft")
u_self_base = mean("uag self-draft (F16 target + Q4_K_M draft): target-only")
lb16 = best("llama-bench tg (target-only) target-f16")


def ratio(a, b):
    return a / b if b else float("nan")


print("means over rounds:")
print(f"cross-vocab: uag adaptive {u_cross[0]:.1f} tok/s / b7698 best ({old_cross[1].split('--')[-1]}) {old_cross[0]:.1f}"
      f" = {ratio(u_cross[0], old_cross[0]):.2f}x   (goal >= 3x)")
print(f"cross-vocab: uag best static ({u_cross_any[1].split(': ')[-1]}) {u_cross_any[0]:.1f} tok/s = "
      f"{ratio(u_cross_any[0], old_cross[0]):.2f}x b7698 best")
print(f"cross-vocab: uag adaptive with the reference-transformer draft {u_mixed[0]:.1f} tok/s = "
      f"{ratio(u_mixed[0], old_cross[0]):.2f}x b7698 best")
print(f"cross-vocab: uag adaptive / llama-bench tg (bf16 target-only) {lb[0]:.1f} = {ratio(u_cross[0], lb[0]):.2f}x"
      f"   (goal >= 1.0x)")
print(f"target-only: uag llama.cpp backend {u_base:.1f} / llama-bench tg {lb[0]:.1f} = {ratio(u_base, lb[0]):.3f}"
      f"   (goal within 5%)")
print(f"target-only F16: uag {u_self_base:.1f} / llama-bench tg {lb16[0]:.1f} = {ratio(u_self_base, lb16[0]):.3f}")
print(f"self-draft: uag adaptive {u_self[0]:.1f} (best static {u_self_any[0]:.1f}) / b7698 best {old_self[0]:.1f} = "
      f"{ratio(u_self[0], old_self[0]):.2f}x (best static {ratio(u_self_any[0], old_self[0]):.2f}x); "
      f"/ release best {rel_self[0]:.1f} = {ratio(u_self[0], rel_self[0]):.2f}x "
      f"(best static {ratio(u_self_any[0], rel_self[0]):.2f}x); / its own target-only {ratio(u_self[0], u_self_base):.2f}x")
