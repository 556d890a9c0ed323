#!/bin/bash
# The prompts (not committed) are the ones benchmarks/matrix.sh wrote with benchmarks/matrix/make_prompts.py
# for the s28 weak/151k run. The kept controller (uag_s29base: bfa3ba1) against session 29's (uag_s29settle:
# drafting stops only on a settled timing, kSettleSamples samples, of the length it gives up), alternated,
# two runs each, weak pair with bfloat16 products and one thread, on the matrix models rebuilt in session 28.
# Outputs packed into json.tar.xz (tree size); pooled.txt: benchmarks/matrix/ab_pooled.py on them.
cd "$(dirname "$0")/../../../.."
O=benchmarks/results/matrix/s29_ab_settled_stop
CELLS="python_100 c_100 prose_1500 python_500" benchmarks/matrix/ab_runs.sh $O benchmarks/results/matrix/s28_products_weak_151k_greedy/prompts \
  build/bin/uag_s29base build/bin/uag_s29settle
