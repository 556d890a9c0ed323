#!/bin/bash
# weak pair, Python ~100 and ~500, previous controller (build/bin/uag_old: uag built at d62ec85) against the new
# (build/bin/uag_s27: uag built at 5c4223f), alternated; the prompts are s25_products_bundled_g3_g6's (not committed: benchmarks/matrix.sh writes them with make_prompts.py)
cd "$(dirname "$0")/../../../.."
P=benchmarks/results/matrix/s25_products_bundled_g3_g6/prompts
O=benchmarks/results/matrix/s27_ab_weak_python
for run in 1 2; do
  for len in 100 500; do
    for bin in uag_old uag_s27; do
      echo "== run $run len $len $bin (load $(cut -d' ' -f1-3 /proc/loadavg))"
      ./build/bin/$bin bench --draft ~/.cache/uag/matrix/weak_draft --prompts $P/python_$len.jsonl --limit 16 --max-new-tokens 256 \
        --configs g1,g2,adaptive --threads 1 --weights bf16-products --json $O/${bin}_python_${len}_run$run.json 2>/dev/null | grep -E "^(baseline|g1|g2|adaptive) "
    done
  done
done
# Outputs packed into json.tar.xz (tree size): tar -xJf json.tar.xz
