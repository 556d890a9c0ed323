#!/bin/bash
# sim_s28's 46 cells, plus the weak pair's prose ~1,200 cell recorded in session 36 (Intel Xeon, one thread,
# bfloat16 products, the matrix models retrained that session): the cell where adaptive read below 0.97x
# of target-only side by side in sessions 28-36. One line per cell, as sim_s28's; its geomean.py groups them.
cd "$(dirname "$0")/../../.."
SIM=${SIM:-build/bin/simulate_controller}
SIM=$SIM benchmarks/results/sim_s28/simulate_all.sh
D=benchmarks/results/sim_s36
c=weak_prose_1500
[ -f $D/$c.costs.jsonl.xz ] && echo "s36xe $c $(SIM=$SIM benchmarks/sim_cell.sh $D/$c.table $D/$c.costs)"
