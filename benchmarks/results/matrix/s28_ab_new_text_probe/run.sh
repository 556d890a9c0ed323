#!/bin/bash
# The prompts (not committed) are the ones benchmarks/matrix.sh writes with benchmarks/matrix/make_prompts.py
# (the s28 weak/151k run's). Session 27's controller (uag_fc76: fc76d33) against this session's (uag_s28: a
# restart while off probes the new text after 4 steps), alternated, two runs each, weak pair with bfloat16
# products, on the matrix models rebuilt in session 28 (not the ones the simulator's recordings came from):
# the two cells where the s28 matrix run read adaptive below 0.97x of target-only, and C ~100.
cd "$(dirname "$0")/../../../.."
P=benchmarks/results/matrix/s28_products_weak_151k_greedy/prompts
O=benchmarks/results/matrix/s28_ab_new_text_probe
M=$HOME/.cache/uag/matrix; mkdir -p $O/json
for run in 1 2; do
  for cell in python_100 prose_1500 c_100; do
    for bin in uag_fc76 uag_s28; do
      echo "== run $run weak $cell $bin (load $(cut -d' ' -f1-3 /proc/loadavg))"
      ./build/bin/$bin bench --draft $M/weak_draft --prompts $P/$cell.jsonl --limit 16 --max-new-tokens 256 \
        --configs g1,g2,adaptive --threads 1 --weights bf16-products --json $O/json/${bin}_weak_${cell}_run$run.json 2>/dev/null |
        grep -E "^(baseline|g[0-9]+|adaptive) "
    done
  done
done
# Outputs packed into json.tar.xz (tree size): tar -xJf json.tar.xz; pooled.py prints the pooled figures (pooled.txt).
