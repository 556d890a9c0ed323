#!/bin/bash
# Every recorded cell in benchmarks/results/sim_s*/ that has both an acceptance table and step costs (31
# cells of sessions 19-36: greedy ~100-1,500 tokens of the three pairs, five T = 0.7 cells), through one
# simulator with the given options. One line per cell: cell, adaptive / best static, adaptive, best static
# length and speedup, % of steps off; then the mean of the ratios over the weak pair's cells and over the
# others, and the lowest. GLOBS (git pathspecs of the costs files) narrows the set: sim_s43's script
# passes the 18 cells of sessions 26-36.
#   usage: SIM=… SEEDS=40 benchmarks/results/sim_s45/simulate_all_recorded.sh "--noise 0.1 [--stalls 0.05 --drift 0.15]"
cd "$(dirname "$0")/../../.." || exit 2
sim=${SIM:-build/bin/simulate_controller}; flags=${1:---noise 0.1}
[ -x "$sim" ] || { echo "$(basename "$0"): no simulator at $sim (SIM=…)" >&2; exit 2; }
read -r -a globs <<< "${GLOBS:-benchmarks/results/sim_s*/*.costs.jsonl.xz benchmarks/results/sim_s*/*/*.costs.jsonl.xz}"
for c in $(git ls-files "${globs[@]}"); do
  b=${c%.costs.jsonl.xz}
  [ -f "$b.table.jsonl.xz" ] || continue
  row=$(FLAGS=$flags SIM=$sim SEEDS=${SEEDS:-40} benchmarks/sim_cell.sh "$b.table" "$b.costs") || exit 1
  echo "${b#benchmarks/results/} $row"
done | awk '{print; r = $2; if ($1 ~ /weak/) { w += r; nw++ } else { o += r; no++ }; if (min == "" || r < min) { min = r; at = $1 } }
  END { printf "weak %d cells mean %.4f, others %d cells mean %.4f, lowest %.3f (%s)\n", nw, w / nw, no, o / no, min, at }'
