#!/bin/bash
# sim_s27's 44 cells, plus the weak pair's Python and C ~100-token cells recorded in session 28 on a Zen 5
# machine (CPU family 26), with the matrix models rebuilt that session (a new weak draft: g1 1.13x where
# the Zen 4 recordings' draft made 1.17x), bfloat16 products, one thread. One line per cell: group, cell,
# adaptive / best static, adaptive, best static, % of steps off. geomean.py groups them.
cd "$(dirname "$0")/../../.."
SIM=${SIM:-build/bin/simulate_controller}
SIM=$SIM benchmarks/results/sim_s27/simulate_all.sh
D=benchmarks/results/sim_s28
for c in weak_python_100 weak_c_100; do
  [ -f $D/$c.costs.jsonl.xz ] && echo "s28z5 $c $(SIM=$SIM benchmarks/sim_cell.sh $D/$c.table $D/$c.costs)"; done
