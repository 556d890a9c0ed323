#!/bin/bash
# Session 32: the T = 0.7 side-by-side runs (one run each, each prompt twice), the controller before the
# confidence stop (uag_s31) against the stop as it was then (uag_stop30c: floor 0.3 past the first
# candidate where the choice is γ >= 3, sampled runs too). Run from the repository root; the prompts are
# the matrix's (benchmarks/matrix.sh writes them into its output folder's prompts/).
#   usage: t07_runs.sh OUT BIN_BEFORE BIN_AFTER
set -euo pipefail
out=$1; shift
M=${UAG_MATRIX_DIR:-$HOME/.cache/uag/matrix}
P=benchmarks/results/matrix/s31_weak_greedy_repeats2/prompts
Q=benchmarks/results/matrix/s31_151k_greedy_repeats2/prompts
mkdir -p "$out"
run() {  # label, prompts file, configs, extra bench args...
  local label=$1 prompts=$2 configs=$3; shift 3
  for b in "${BINS[@]}"; do
    echo "== $label T0.7 $(basename "$b")"
    "$b" bench "$@" --prompts "$prompts" --limit 16 --max-new-tokens 256 --configs "$configs" --threads 1 \
      --weights bf16-products --repeats 2 --temperature 0.7 --seed 0 --json "$out/$(basename "$b")_${label// /_}.json" 2>/dev/null |
      grep -E "^(baseline|g[0-9]+|adaptive) "
  done
}
BINS=("$@")
run "weak prose_500" "$P/prose_500.jsonl" g1,g2,adaptive --draft "$M/weak_draft"
run "qwen prose_500" "$Q/prose_500.jsonl" g1,g2,adaptive --target "$M/qwen_target" --draft build/models/draft
run "bundled python_500" "$P/python_500.jsonl" g2,g3,g4,adaptive
