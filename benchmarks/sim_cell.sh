#!/bin/bash
# One simulated cell as the sim_s*/simulate_all.sh scripts print it: adaptive / best static, adaptive,
# best static, % of steps off.   usage: SIM=… SEEDS=… benchmarks/sim_cell.sh TABLE COSTS  (paths without
# .jsonl; the .jsonl.xz recordings are unpacked beside them on first use). FLAGS: the simulator's noise
# options (default --noise 0.1)
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: benchmarks/sim_cell.sh TABLE COSTS (paths without .jsonl)" >&2; exit 2; }
for f in "$1" "$2"; do
  [ -f "$f.jsonl" ] || [ -f "$f.jsonl.xz" ] || { echo "sim_cell.sh: missing $f.jsonl(.xz)" >&2; exit 2; }
  [ -f "$f.jsonl" ] || xz -dk "$f.jsonl.xz"
done
# shellcheck disable=SC2086  # FLAGS: the simulator's noise options, word-split on purpose
"${SIM:-build/bin/simulate_controller}" "$1.jsonl" "$2.jsonl" ${FLAGS:---noise 0.1} --seeds "${SEEDS:-20}" --open-last | tail -1 |
  sed -E 's/adaptive ([0-9.]+)x = ([0-9.]+) of best static \((g[0-9]+~?) ([0-9.]+)x\).*off on ([0-9.]+)%.*/\2 \1 \3 \4 off\5/'
