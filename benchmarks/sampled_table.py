#!/usr/bin/env python3
"""An acceptance table for a sampled cell (T > 0), from one static run of a `uag bench --trace`.

`uag bench --acceptance-table` needs greedy decoding: there every γ sees the same text. Under sampling
(speculative sampling, TLI) a draft of γ + 1 candidates starts with the γ a draft of γ would have made,
and with the same random numbers the first γ are accepted or rejected alike, so one long static run
(say g12) gives, at every committed position n, the run of candidates accepted from n on: L(n). A step
starting at n inside a recorded step that accepted `a` candidates from position m accepts
min(L(n), γ) = min(a - (n - m), γ); a step that accepted all it proposed censors L at that length
(rows past it are capped there). What this loses: the last candidate's bridge effect (a draft cut at γ
may end on the first piece of a longer target token), which the greedy tables keep; at T = 0.7 the
controller's last-candidate factor sat at 0.99-1.00 on the bundled pair (session 26's replays). And the
draw: where the recorded step's candidate was rejected, L = 0 for any step starting there, so a policy
that keeps landing on such positions sees only rejections and one that keeps missing them (g1 on a weak
pair, in step with the recorded run's accept-one-reject-one pattern) sees only acceptances. Judge weak
pairs' sampled cells with that in mind.

  sampled_table.py TRACE.jsonl RUN OUT.jsonl [--lengths N]   (RUN: a static run of the trace, e.g. g12)
"""
import json
import sys


def fail(msg):
    print(f"sampled_table.py: {msg}", file=sys.stderr)
    sys.exit(2)


def main(argv):
    args, lengths, k = [], 12, 1
    while k < len(argv):
        if argv[k] == "--lengths":
            try:
                lengths = int(argv[k + 1])
            except (IndexError, ValueError):
                lengths = 0
            if lengths < 1:
                fail("--lengths needs a positive integer")
            k += 2
        else:
            args.append(argv[k])
            k += 1
    if len(args) != 3:
        fail("usage: sampled_table.py TRACE.jsonl RUN OUT.jsonl [--lengths N]")
    trace, run, out = args
    prompts = {}
    try:
        with open(trace) as f:
            for number, line in enumerate(f, 1):
                try:
                    s = json.loads(line)
                    if s["run"] != run:
                        continue
                    prompts.setdefault(s["prompt"], []).append(
                        (s["step"], s["asked"], s["proposed"], s["accepted"], s["committed"]))
                except (ValueError, KeyError, TypeError):
                    fail(f"{trace}:{number}: not a `uag bench --trace` step (needs run, prompt, step, asked, proposed, "
                         "accepted, committed)")
    except OSError as e:
        fail(f"{trace}: {e.strerror}")
    if not prompts:
        fail(f"{trace}: no steps of run '{run}'")
    with open(out, "w") as o:
        for p in sorted(prompts):
            steps = sorted(prompts[p])
            runs = []  # [position] = candidates accepted from here on
            for _, asked, proposed, accepted, committed in steps:
                # A step commits its accepted candidates and the target's own token, or fewer where the
                # generation ends inside it (the token limit or an end-of-sequence token).
                if committed not in (accepted, accepted + 1) or accepted > proposed:
                    fail(f"{trace}: prompt {p}: a step commits {committed} tokens for {accepted} accepted")
                runs.extend(accepted - j for j in range(committed))
            new_tokens = len(runs)
            # Row k: a step after k + 1 generated ids starts at position k + 1 (the prefill commits one).
            acc, prop = [], []
            for n in range(1, new_tokens):
                acc.append([min(runs[n], g) for g in range(1, lengths + 1)])
                prop.append(list(range(1, lengths + 1)))
            o.write(json.dumps({"new_tokens": new_tokens, "lengths": lengths, "accepted": acc, "proposed": prop},
                               separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main(sys.argv)
