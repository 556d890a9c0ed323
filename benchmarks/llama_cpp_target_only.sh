#!/usr/bin/env bash
# uag's llama.cpp backend, target-only decode, against llama-bench tg on the same GGUF file and threads
# (issue 15: "uag adds no overhead around llama.cpp"). Both sides warm up first: llama-bench runs a warm-up
# generation; `uag bench` warms up before it measures, and its baseline is uag's target-only decode
# (baseline_generator over llama_cpp_model: the verify/commit/stop/stream path a user runs, decode time
# only). Alternated ROUNDS times, since one process to the next moves by up to ±15% on this shared machine.
#   benchmarks/llama_cpp_target_only.sh MODEL.gguf [ROUNDS] [N_TOKENS] [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
model=$1 rounds=${2:-8} n=${3:-64} threads=${4:-1}
rel=$(cmake/fetch_llama_cpp.sh release --bench-tools | tail -1)
uag=${UAG:-build-llama/bin/uag}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Short prompts, as llama-bench tg decodes from an (almost) empty context: the same attention lengths.
for p in 'def main():' 'import os' 'class A:' 'int main() {' '# Notes' 'x = 1'; do echo "{\"prompt\": \"$p\"}"; done > "$tmp/p.jsonl"
py=/usr/bin/python3
ratios=()
for i in $(seq 1 "$rounds"); do
  "$uag" bench --target "$model" --prompts "$tmp/p.jsonl" --max-new-tokens "$n" \
    --threads "$threads" --configs g1 --json "$tmp/u.json" > /dev/null 2>&1
  u=$($py -c "import json; print(round(json.load(open('$tmp/u.json'))['baseline']['tokens_per_s'], 1))")
  b=$("$rel/bin/llama-bench" -m "$model" -p 0 -n "$n" -t "$threads" -r 3 -fa 0 -ngl 0 -o json 2>/dev/null |
      $py -c "import json,sys; print(round(json.load(sys.stdin)[0]['avg_ts'], 1))")
  r=$($py -c "print(f'{$u/$b:.3f}')")
  ratios+=("$r")
  echo "round $i: uag target-only $u tok/s, llama-bench tg$n $b tok/s, ratio $r"
done
$py -c "import statistics as s; r=[float(x) for x in '${ratios[*]}'.split()]; print(f'median ratio {s.median(r):.3f} (min {min(r):.3f}, max {max(r):.3f}) over {len(r)} rounds')"
