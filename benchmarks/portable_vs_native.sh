#!/bin/sh
# The portable build (no -march: kernels chosen at run time) against a -march=native build, on the
# bundled target: bench_model's BM_bundled_target_1thread_cpu (one thread, timed by its CPU time) for a
# 1-token pass and an 8-token verification pass, the two binaries alternating ROUNDS times so that other
# jobs on the machine weigh on both alike. Prints every run, then the median of each and the ratios.
#
#   benchmarks/portable_vs_native.sh build build-native 6 > benchmarks/results/isa_portable_vs_native.txt
set -eu
portable=${1:-build}
native=${2:-build-native}
rounds=${3:-6}
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
for i in $(seq "$rounds"); do
  for b in "$portable" "$native"; do
    echo "### round $i: $b ($(uptime | sed 's/.*load/load/'))"
    "$b/bin/bench_model" --benchmark_filter='BM_bundled_target_1thread_cpu/(1/1|8/8)/' --benchmark_min_time=1 \
      --benchmark_counters_tabular=true 2>/dev/null | grep '^BM_' | tee -a "$tmp" | sed "s|^|$b |"
  done
done
python3 - "$tmp" "$portable" "$native" "$rounds" <<'EOF'
import statistics, sys
lines = open(sys.argv[1]).read().split("\n")
portable, native, rounds = sys.argv[2], sys.argv[3], int(sys.argv[4])
# Lines alternate portable (2 benchmarks), native (2 benchmarks) per round.
ms = {portable: {"1": [], "8": []}, native: {"1": [], "8": []}}
rows = [l.split() for l in lines if l.startswith("BM_")]
for i, r in enumerate(rows):
    build = portable if (i // 2) % 2 == 0 else native
    k = r[0].split("/")[1]
    ms[build][k].append(float(r[1]))  # manual time, ms
print("\nmedian ms over %d rounds (1-token pass, 8-token pass):" % rounds)
for b in (portable, native):
    print("  %-14s %.3f  %.3f" % (b, statistics.median(ms[b]["1"]), statistics.median(ms[b]["8"])))
for k in ("1", "8"):
    print("portable / native time, %s-token pass: %.3f" % (k, statistics.median(ms[portable][k]) / statistics.median(ms[native][k])))
EOF
