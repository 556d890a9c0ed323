#!/bin/bash
# The prompts (not committed) are the ones benchmarks/matrix.sh wrote with benchmarks/matrix/make_prompts.py
# for the s28 weak/151k run. The kept controller (uag_s29base: bfa3ba1) against session 29's (uag_s29settle:
# drafting stops only on a settled timing, kSettleSamples samples, of the length it gives up), alternated,
# two runs each, weak pair with bfloat16 products and one thread, on the matrix models rebuilt in session 28.
cd "$(dirname "$0")/../../../.."
P=benchmarks/results/matrix/s28_products_weak_151k_greedy/prompts
O=benchmarks/results/matrix/s29_ab_settled_stop
M=$HOME/.cache/uag/matrix; mkdir -p $O/json
for run in 1 2; do
  for cell in python_100 c_100 prose_1500 python_500; do
    for bin in uag_s29base uag_s29settle; do
      echo "== run $run weak $cell $bin (load $(cut -d' ' -f1-3 /proc/loadavg))"
      ./build/bin/$bin bench --draft $M/weak_draft --prompts $P/$cell.jsonl --limit 16 --max-new-tokens 256 \
        --configs g1,g2,adaptive --threads 1 --weights bf16-products --json $O/json/${bin}_weak_${cell}_run$run.json 2>/dev/null |
        grep -E "^(baseline|g[0-9]+|adaptive) "
    done
  done
done
# Outputs packed into json.tar.xz (tree size): tar -xJf json.tar.xz; pooled.py prints the pooled figures (pooled.txt).
