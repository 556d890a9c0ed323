#!/bin/bash
# all recorded cells (default weights, 2 threads) + the s25 bundled products cells; prints ratio per cell and geomean per group
cd "$(dirname "$0")/../../.."
SIM=${SIM:-build/bin/simulate_controller}
run() { # table costs
  [ -f $1.jsonl ] || xz -dk $1.jsonl.xz; [ -f $2.jsonl ] || xz -dk $2.jsonl.xz
  $SIM $1.jsonl $2.jsonl --noise 0.1 --seeds ${SEEDS:-20} --open-last | tail -1 | sed -E 's/adaptive ([0-9.]+)x = ([0-9.]+) of best static \((g[0-9]+~?) ([0-9.]+)x\).*off on ([0-9.]+)%.*/\2 \1 \3 \4 off\5/'
}
R=benchmarks/results
for c in qwen_c_500 qwen_python_500 qwen_prose_500 qwen_c_1500 bundled_c_500 bundled_prose_1500 weak_c_500 qwen_python_100 qwen_c_100 bundled_python_500 weak_prose_500 weak_python_1500 weak_c_100 qwen_prose_100 bundled_c_1500 qwen_python_1500; do
  t=$R/sim_s19/$c.table; [ -f $t.jsonl.xz ] || t=$R/sim_s18/$c.table
  echo "s19 $c $(run $t $R/sim_s19/$c.costs)"
done
for c in qwen_c_500 qwen_python_1500 weak_prose_500 weak_c_1500 bundled_prose_500; do echo "s20 $c $(run $R/sim_s20/$c.table $R/sim_s20/$c.costs)"; done
for c in qwen_prose_1500 qwen_python_100 weak_python_500 bundled_c_100; do
  t=$R/sim_s20h/$c.table; [ -f $t.jsonl.xz ] || t=$R/sim_s18/$c.table
  echo "s20h $c $(run $t $R/sim_s20h/$c.costs)"; done
for cell in bundled_c_100:sim_s20h bundled_prose_500:sim_s20 bundled_c_1500:sim_s19 bundled_python_500:sim_s18 bundled_c_500:sim_s18 bundled_prose_1500:sim_s18; do
  c=${cell%%:*}; echo "s25p $c $(run $R/${cell##*:}/$c.table $R/sim_s25/$c.costs)"; done
