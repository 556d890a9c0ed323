#!/bin/bash
# The prompts (not committed) are the ones benchmarks/matrix.sh writes with benchmarks/matrix/make_prompts.py.
# The text bridge holding back its last re-encoded token (":close": the last candidate is always followed
# by a token boundary; one more draft token per step) against the default, per pair, one run per cell.
# UAG: a uag binary that knows the ":close" suffix.
cd "$(dirname "$0")/../../../.."
UAG=${UAG:-build/bin/uag}
P=benchmarks/results/matrix/s27_products_weak_151k_greedy/prompts
O=benchmarks/results/matrix/s27_close_last
M=$HOME/.cache/uag/matrix
cell() {  # name pair-args prompts configs
  echo "== $1 (load $(cut -d' ' -f1-3 /proc/loadavg))"
  $UAG bench $2 --prompts $P/$3.jsonl --limit 16 --max-new-tokens 256 --configs $4 --threads 1 \
    --weights bf16-products --json $O/$1.json 2>/dev/null | grep -E "^(baseline|g[0-9]+|adaptive)"
}
cell weak_python_100 "--draft $M/weak_draft" python_100 g1,g1:close,g2,g2:close,adaptive,adaptive:close
cell weak_prose_100 "--draft $M/weak_draft" prose_100 g1,g1:close,g2,g2:close,adaptive,adaptive:close
cell weak_c_500 "--draft $M/weak_draft" c_500 g1,g1:close,g2,g2:close,adaptive,adaptive:close
cell qwen_python_100 "--target $M/qwen_target" python_100 g3,g3:close,g4,g4:close,adaptive,adaptive:close
cell qwen_c_500 "--target $M/qwen_target" c_500 g3,g3:close,g4,g4:close,adaptive,adaptive:close
cell qwen_prose_500 "--target $M/qwen_target" prose_500 g3,g3:close,g4,g4:close,adaptive,adaptive:close
cell bundled_c_500 "" c_500 g5,g5:close,g6,g6:close,adaptive,adaptive:close
cell bundled_prose_500 "" prose_500 g5,g5:close,g6,g6:close,adaptive,adaptive:close
