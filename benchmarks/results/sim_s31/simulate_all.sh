#!/bin/bash
# sim_s28's 46 cells and the bundled pair on the README's 60 prompts recorded in session 31 (Zen 5, one
# thread, bfloat16 products, 128 tokens), simulated with a drifting load: DRIFT (the load's stationary
# log deviation, default 0: no drift) over DRIFT_MS (its correlation time, default 50). One line per cell
# as sim_s28's; sim_s28/geomean.py groups them (the new cell counts with the bundled pair's). STALLS (session
# 34, default 0): the probability that a step is descheduled (simulate_controller --stalls).
#   usage: [SIM=…] [SEEDS=…] [DRIFT=… DRIFT_MS=…] [STALLS=…] benchmarks/results/sim_s31/simulate_all.sh > FILE
set -euo pipefail
cd "$(dirname "$0")/../../.."
sim=$(realpath "${SIM:-build/bin/simulate_controller}")
wrap=$(mktemp)
trap 'rm -f "$wrap"' EXIT
printf '#!/bin/bash\nexec %q "$@" --drift %q --drift-ms %q --stalls %q\n' "$sim" "${DRIFT:-0}" "${DRIFT_MS:-50}" \
  "${STALLS:-0}" > "$wrap"
chmod +x "$wrap"
SIM=$wrap benchmarks/results/sim_s28/simulate_all.sh
D=benchmarks/results/sim_s31
echo "s31z5 bundled_python_readme $(SIM=$wrap benchmarks/sim_cell.sh $D/bundled_python_readme.table $D/bundled_python_readme.costs)"
