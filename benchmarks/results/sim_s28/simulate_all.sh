#!/bin/bash
# sim_s27's 44 cells, plus the weak pair's Python and C ~100-token cells recorded in session 28 on a Zen 5
# machine (CPU family 26), with the matrix models rebuilt that session (a new weak draft: g1 1.13x where
# the Zen 4 recordings' draft made 1.17x), bfloat16 products, one thread. One line per cell: group, cell,
# adaptive / best static, adaptive, best static, % of steps off. geomean.py groups them.
cd "$(dirname "$0")/../../.."
SIM=${SIM:-build/bin/simulate_controller}
SIM=$SIM benchmarks/results/sim_s27/simulate_all.sh
run() {  # table costs
  [ -f $1.jsonl ] || xz -dk $1.jsonl.xz; [ -f $2.jsonl ] || xz -dk $2.jsonl.xz
  $SIM $1.jsonl $2.jsonl --noise 0.1 --seeds ${SEEDS:-20} --open-last | tail -1 |
    sed -E 's/adaptive ([0-9.]+)x = ([0-9.]+) of best static \((g[0-9]+~?) ([0-9.]+)x\).*off on ([0-9.]+)%.*/\2 \1 \3 \4 off\5/'
}
D=benchmarks/results/sim_s28
for c in weak_python_100 weak_c_100; do
  [ -f $D/$c.costs.jsonl.xz ] && echo "s28z5 $c $(run $D/$c.table $D/$c.costs)"; done
