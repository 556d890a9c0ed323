#!/bin/bash
# sim_s26's 38 cells, plus the ~100-token cells of the weak and 151k pairs recorded in session 27 with
# bfloat16 products and one thread (the matrix's setting; before, those pairs were recorded only with the
# default weights and two threads). One line per cell: group, cell, adaptive / best static, adaptive,
# best static, % of steps off. geomean.py groups them.
cd "$(dirname "$0")/../../.."
SIM=${SIM:-build/bin/simulate_controller}
SIM=$SIM benchmarks/results/sim_s26/simulate_all.sh
run() {  # table costs
  [ -f $1.jsonl ] || xz -dk $1.jsonl.xz; [ -f $2.jsonl ] || xz -dk $2.jsonl.xz
  $SIM $1.jsonl $2.jsonl --noise 0.1 --seeds ${SEEDS:-20} --open-last | tail -1 |
    sed -E 's/adaptive ([0-9.]+)x = ([0-9.]+) of best static \((g[0-9]+~?) ([0-9.]+)x\).*off on ([0-9.]+)%.*/\2 \1 \3 \4 off\5/'
}
D=benchmarks/results/sim_s27
for c in weak_python_100 weak_prose_100 weak_c_100 qwen_python_100 qwen_c_100 qwen_prose_100; do
  [ -f $D/$c.costs.jsonl.xz ] && echo "s27p $c $(run $D/$c.table $D/$c.costs)"; done
