#!/bin/bash
# sim_s25's 31 cells, the two greedy ~100 cells recorded in session 26 (bundled pair, bfloat16 products)
# and the five T = 0.7 cells (t07/, tables from each cell's g12 run: benchmarks/sampled_table.py).
# Prints one line per cell: group, cell, adaptive / best static, adaptive, best static, % of steps off.
cd "$(dirname "$0")/../../.."
SIM=${SIM:-build/bin/simulate_controller}
benchmarks/results/sim_s25/simulate_all.sh
run() {  # table costs
  [ -f $1.jsonl ] || xz -dk $1.jsonl.xz; [ -f $2.jsonl ] || xz -dk $2.jsonl.xz
  $SIM $1.jsonl $2.jsonl --noise 0.1 --seeds ${SEEDS:-20} --open-last | tail -1 |
    sed -E 's/adaptive ([0-9.]+)x = ([0-9.]+) of best static \((g[0-9]+~?) ([0-9.]+)x\).*off on ([0-9.]+)%.*/\2 \1 \3 \4 off\5/'
}
D=benchmarks/results/sim_s26
for c in bundled_python_100 bundled_prose_100; do echo "s26p $c $(run $D/$c.table $D/$c.costs)"; done
for c in bundled_python_500 bundled_c_500 bundled_prose_500 weak_c_500 qwen_python_500; do
  echo "t07 $c $(run $D/t07/$c.table $D/t07/$c.costs)"; done
