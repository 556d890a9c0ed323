#!/usr/bin/env bash
# Side-by-side, single-thread encode throughput on this machine in one run: uag (bench_tokenizer) and
# HF tokenizers in Rust (hf_rust_throughput.mjs, through @anush008/tokenizers), same corpus lines.
# usage: benchmarks/compare_tokenizers.sh BUILD_DIR HF_NODE_MODULES OUT_DIR
set -euo pipefail
build=${1:-build}; modules=${2:-/tmp/hfrs/node_modules}; out=${3:-benchmarks/results}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
"$build/bin/bench_tokenizer" --benchmark_filter='encode' --benchmark_min_time=0.5 \
  --benchmark_format=json > "$out/uag_tokenizer.json"
RAYON_NUM_THREADS=1 node "$here/hf_rust_throughput.mjs" --modules "$modules" --out "$out/hf_rust_tokenizer.json" >/dev/null
python3 - "$out/uag_tokenizer.json" "$out/hf_rust_tokenizer.json" <<'PY'
import json, sys
uag = {b["name"]: b["bytes_per_second"] / 1e6 for b in json.load(open(sys.argv[1]))["benchmarks"]}
hf = json.load(open(sys.argv[2]))["tokenizers"]
print(f"{'tokenizer':12} {'uag code':>9} {'HF code':>8} {'ratio':>6} {'uag prose':>10} {'HF prose':>9} {'ratio':>6}  (MB/s, 1 thread)")
for name, r in hf.items():
    uc, up = uag[f"encode/{name}/code"], uag[f"encode/{name}/prose"]
    print(f"{name:12} {uc:9.2f} {r['code_MBps']:8.2f} {uc / r['code_MBps']:5.1f}x {up:10.2f} {r['prose_MBps']:9.2f} {up / r['prose_MBps']:5.1f}x"
          f"  (HF fixture mismatches: {r['fixture_mismatches']})")
PY
