#!/usr/bin/env python3
"""HF transformers' assisted generation on the same pair, prompts and GPU as `uag bench` (issue 16).

    hf_assisted.py --target DIR --draft DIR --prompts FILE.jsonl [--limit N] [--max-new-tokens N]
                   [--gammas 1,2,3,4,6] [--dtype float16|bfloat16] [--json OUT]

For each prompt (the "prompt" field, tokenized by the target's tokenizer as uag does) runs target-only
greedy generation and assisted generation with the draft (assistant_model + assistant_tokenizer: the
universal assisted path for different tokenizers), with the draft length fixed at each gamma
(num_assistant_tokens_schedule = "constant") and with transformers' default schedule ("heuristic").
Configurations are interleaved per prompt, as uag bench does. Reports per configuration: new tokens per
second end to end (prefill included: HF has no separate decode timer), tokens per target forward pass
(prefill pass excluded, as uag counts passes), and whether greedy outputs equal target-only outputs.
Needs: torch with CUDA, transformers (5.17 on the H200 machine), the models as HF folders.
"""
import argparse
import json
import math
import sys
import time

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer


def load(folder, dtype, device):
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype).to(device).eval()
    return model, AutoTokenizer.from_pretrained(folder)


class PassCounter:
    """Counts forward calls of the target (one per verification pass, plus one for the prefill)."""

    def __init__(self, model):
        self.calls = 0
        model.register_forward_pre_hook(self._hook)

    def _hook(self, module, args):
        self.calls += 1


def geomean(xs):
    xs = [x for x in xs if x > 0]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", required=True)
    ap.add_argument("--draft", required=True)
    ap.add_argument("--prompts", required=True)
    ap.add_argument("--limit", type=int, default=20)
    ap.add_argument("--max-new-tokens", type=int, default=64)
    ap.add_argument("--gammas", default="1,2,3,4,6")
    ap.add_argument("--dtype", default="float16")
    ap.add_argument("--json")
    a = ap.parse_args()
    device = "cuda"
    dtype = getattr(torch, a.dtype)
    target, tok_t = load(a.target, dtype, device)
    draft, tok_d = load(a.draft, dtype, device)
    counter = PassCounter(target)
    prompts = [json.loads(l)["prompt"] for l in open(a.prompts) if l.strip()][: a.limit]
    configs = ["baseline"] + [f"g{g}" for g in a.gammas.split(",")] + ["heuristic"]

    def run(cfg, prompt):
        ids = tok_t(prompt, return_tensors="pt").to(device)
        kw = dict(do_sample=False, max_new_tokens=a.max_new_tokens, pad_token_id=tok_t.eos_token_id)
        if cfg != "baseline":
            gc = draft.generation_config
            if cfg == "heuristic":  # transformers' defaults
                gc.num_assistant_tokens, gc.num_assistant_tokens_schedule = 20, "heuristic"
                gc.assistant_confidence_threshold = 0.4
            else:  # a fixed draft length: no early stop on low draft confidence
                gc.num_assistant_tokens, gc.num_assistant_tokens_schedule = int(cfg[1:]), "constant"
                gc.assistant_confidence_threshold = 0.0
            kw.update(assistant_model=draft, tokenizer=tok_t, assistant_tokenizer=tok_d)
        torch.cuda.synchronize()
        counter.calls = 0
        t0 = time.perf_counter()
        with torch.no_grad():
            out = target.generate(**ids, **kw)
        torch.cuda.synchronize()
        dt = time.perf_counter() - t0
        new = out[0, ids["input_ids"].shape[1]:].tolist()
        return new, dt, max(counter.calls - 1, 1)

    for cfg in configs:  # warm-up: CUDA kernels, caches, the assistant's vocabulary mapping
        run(cfg, prompts[0])
    res = {c: {"tokens": 0, "seconds": 0.0, "passes": 0, "tps": [], "identical": 0} for c in configs}
    base_out = {}
    for i, p in enumerate(prompts):
        order = configs[:1] + [configs[1:][(k + i) % (len(configs) - 1)] for k in range(len(configs) - 1)]
        for cfg in order:
            new, dt, passes = run(cfg, p)
            r = res[cfg]
            r["tokens"] += len(new)
            r["seconds"] += dt
            r["passes"] += passes
            r["tps"].append(len(new) / dt)
            if cfg == "baseline":
                base_out[i] = new
            r["identical"] += int(new == base_out[i])
        print(f"prompt {i + 1}/{len(prompts)}: " + ", ".join(
            f"{c} {res[c]['tokens'] / res[c]['seconds']:.1f} tok/s" for c in configs), file=sys.stderr, flush=True)
    base_tps = res["baseline"]["tps"]
    rows = []
    print(f"HF transformers assisted generation | target {a.target} | draft {a.draft} | {len(prompts)} prompts x "
          f"{a.max_new_tokens} new tokens | greedy | {a.dtype} | {torch.cuda.get_device_name()}")
    print(f"{'config':<10} {'tok/s':>8} {'speedup':>8} {'tok/pass':>8} {'identical':>10}")
    for cfg in configs:
        r = res[cfg]
        tps = r["tokens"] / r["seconds"]
        sp = geomean([x / b for x, b in zip(r["tps"], base_tps)])
        tpp = r["tokens"] / r["passes"]
        print(f"{cfg:<10} {tps:8.1f} {sp:7.2f}x {tpp:8.2f} {r['identical']:>4}/{len(prompts)}")
        rows.append({"name": cfg, "tokens_per_s": tps, "speedup": sp, "tokens_per_pass": tpp,
                     "identical_prompts": r["identical"], "tokens": r["tokens"], "seconds": r["seconds"]})
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"prompts": len(prompts), "max_new_tokens": a.max_new_tokens, "dtype": a.dtype,
                       "device": torch.cuda.get_device_name(), "configs": rows}, f, indent=2)


if __name__ == "__main__":
    main()
