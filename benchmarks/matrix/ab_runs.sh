#!/bin/bash
# Two or more uag binaries side by side on a few matrix cells of one pair (a controller change against the
# one it would replace): for each run, each cell, each binary in turn, `uag bench` on the cell's prompts
# (those benchmarks/matrix.sh wrote), one thread, into OUT/json/<binary>_<label>_<cell>_run<n>.json; the
# table lines go to stdout. benchmarks/matrix/ab_pooled.py OUT pools the runs.
#   usage: benchmarks/matrix/ab_runs.sh OUT PROMPTS_DIR UAG [UAG...]
#   env: CELLS (default "python_100 c_100"), RUNS (2), CONFIGS (g1,g2,adaptive), N (16), TOKENS (256),
#        WEIGHTS (bf16-products), DRAFT (a draft folder; default the matrix's weak draft), TARGET (a target
#        folder; default the bundled one), LABEL (weak), REPEATS (uag bench --repeats, 1), EXTRA (more
#        bench arguments, e.g. "--temperature 0.7 --mode tli"), SEEDS (a --seed per run, e.g. "0 1000 2000";
#        RUNS then defaults to their count)
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: benchmarks/matrix/ab_runs.sh OUT PROMPTS_DIR UAG [UAG...]" >&2; exit 2; }
out=$1 prompts=$2; shift 2
M=${UAG_MATRIX_DIR:-$HOME/.cache/uag/matrix}
draft=${DRAFT:-$M/weak_draft}
[ -d "$draft" ] || { echo "ab_runs.sh: no draft folder $draft" >&2; exit 2; }
for cell in ${CELLS:-python_100 c_100}; do
  [ -f "$prompts/$cell.jsonl" ] || { echo "ab_runs.sh: missing $prompts/$cell.jsonl" >&2; exit 2; }
done
for b in "$@"; do [ -x "$b" ] && [ -f "$b" ] || { echo "ab_runs.sh: $b is not an executable" >&2; exit 2; }; done
read -r -a extra <<< "${EXTRA:-}"
read -r -a seeds <<< "${SEEDS:-}"
for s in "${seeds[@]}"; do
  case "$s" in *[!0-9]*) echo "ab_runs.sh: SEEDS must be non-negative integers, got '$s'" >&2; exit 2 ;; esac
done
if [ -n "${RUNS:-}" ]; then runs=$RUNS; elif [ ${#seeds[@]} -gt 0 ]; then runs=${#seeds[@]}; else runs=2; fi
case "$runs" in *[!0-9]*|0*) echo "ab_runs.sh: RUNS must be a positive integer, got '$runs'" >&2; exit 2 ;; esac
[ ${#seeds[@]} -eq 0 ] || [ ${#seeds[@]} -ge "$runs" ] || {
  echo "ab_runs.sh: SEEDS has ${#seeds[@]} seeds for $runs runs" >&2; exit 2; }
mkdir -p "$out/json"
target=()
[ -n "${TARGET:-}" ] && target=(--target "$TARGET")
for run in $(seq 1 "$runs"); do
  seed=()
  [ ${#seeds[@]} -eq 0 ] || seed=(--seed "${seeds[run - 1]}")
  for cell in ${CELLS:-python_100 c_100}; do
    for b in "$@"; do
      name=$(basename "$b")
      echo "== run $run ${LABEL:-weak} $cell $name (load $(cut -d' ' -f1-3 /proc/loadavg))"
      "$b" bench "${target[@]}" --draft "$draft" --prompts "$prompts/$cell.jsonl" --limit "${N:-16}" \
        --max-new-tokens "${TOKENS:-256}" --configs "${CONFIGS:-g1,g2,adaptive}" --threads 1 \
        --weights "${WEIGHTS:-bf16-products}" --repeats "${REPEATS:-1}" "${extra[@]}" "${seed[@]}" --json "$out/json/${name}_${LABEL:-weak}_${cell}_run$run.json" 2>/dev/null |
        grep -E "^(baseline|g[0-9]+|adaptive) "
    done
  done
done
