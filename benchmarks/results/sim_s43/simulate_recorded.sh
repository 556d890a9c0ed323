#!/bin/bash
# Every recorded cell of sim_s26..sim_s36 that has its own acceptance table (18 cells: greedy ~100-1,500
# tokens of the three pairs, and the five T = 0.7 cells), through one simulator with the given options.
# One line per cell: cell, adaptive / best static, adaptive, best static, % of steps off; then the mean of
# the ratios over the weak pair's cells and over the others, and the lowest. (Since session 45 the loop
# is sim_s45/simulate_all_recorded.sh's, narrowed to these cells.)
#   usage: SIM=… SEEDS=40 benchmarks/results/sim_s43/simulate_recorded.sh "--noise 0.1 [--stalls P --drift SD]"
GLOBS="benchmarks/results/sim_s2[6-9]/*.costs.jsonl.xz benchmarks/results/sim_s3*/*.costs.jsonl.xz" \
  exec "$(dirname "$0")/../sim_s45/simulate_all_recorded.sh" "$@"
