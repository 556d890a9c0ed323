#!/bin/bash
# The prompts (not committed) are the ones benchmarks/matrix.sh writes with benchmarks/matrix/make_prompts.py
# (the s28 weak/151k run's). Session 27's controller (uag_fc76: fc76d33) against this session's (uag_s28: a
# restart while off probes the new text after 4 steps), alternated, two runs each, weak pair with bfloat16
# products, on the matrix models rebuilt in session 28 (not the ones the simulator's recordings came from):
# the two cells where the s28 matrix run read adaptive below 0.97x of target-only, and C ~100.
# Outputs packed into json.tar.xz (tree size); pooled.txt: benchmarks/matrix/ab_pooled.py on them.
cd "$(dirname "$0")/../../../.."
O=benchmarks/results/matrix/s28_ab_new_text_probe
CELLS="python_100 prose_1500 c_100" benchmarks/matrix/ab_runs.sh $O benchmarks/results/matrix/s28_products_weak_151k_greedy/prompts \
  build/bin/uag_fc76 build/bin/uag_s28
