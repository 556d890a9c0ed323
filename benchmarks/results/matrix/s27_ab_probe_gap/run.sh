#!/bin/bash
# The prompts (not committed) are the ones benchmarks/matrix.sh writes with benchmarks/matrix/make_prompts.py.
# kMaxProbeGap 64 (uag_s27: 5c4223f) against 32 (uag_gap32), alternated, two runs each, on weak-pair cells
# the simulator does not hold with bfloat16 products (C ~600 and prose ~400), and the 151k C ~500.
cd "$(dirname "$0")/../../../.."
P=benchmarks/results/matrix/s27_products_weak_151k_greedy/prompts
O=benchmarks/results/matrix/s27_ab_probe_gap
M=$HOME/.cache/uag/matrix
for run in 1 2; do
  for cell in "weak c_500 g1,g2,adaptive" "weak prose_500 g1,g2,adaptive" "qwen c_500 g3,g4,g5,adaptive"; do
    set -- $cell
    args=$([ "$1" = weak ] && echo "--draft $M/weak_draft" || echo "--target $M/qwen_target")
    for bin in uag_s27 uag_gap32; do
      echo "== run $run $1 $2 $bin (load $(cut -d' ' -f1-3 /proc/loadavg))"
      ./build/bin/$bin bench $args --prompts $P/$2.jsonl --limit 16 --max-new-tokens 256 --configs $3 --threads 1 \
        --weights bf16-products --json $O/${bin}_$1_$2_run$run.json 2>/dev/null | grep -E "^(baseline|g[0-9]+|adaptive) "
    done
  done
done
# Outputs packed into json.tar.xz (tree size): tar -xJf json.tar.xz
