#!/usr/bin/env bash
# uag + llama.cpp against llama.cpp's own speculative decoding, on the same GGUF files, prompts, threads.
#
#   benchmarks/llama_cpp_side_by_side.sh [OUT_DIR] [N_PROMPTS] [N_TOKENS] [ROUNDS]
#
# Needs a uag build with -DUAG_WITH_LLAMA_CPP=ON in build/ (build/bin/uag) and the GGUF fixtures
# (ctest -R make_gguf_fixtures). Builds b7698 (the last llama.cpp whose llama-speculative-simple drafts
# across vocabularies) and the current release's tools with cmake/fetch_llama_cpp.sh (cached).
# Each round runs every contender once over all prompts, one after another; rounds repeat the sequence so
# that drift of the shared machine shows up as round-to-round spread. All runs: 1 thread, greedy,
# CPU only, same prompt text (the prompt file's "prompt" field), N_TOKENS new tokens.
#
# Pairs:
#   cross-vocab  target-bf16.gguf (Mistral-tokenizer Llama, 26.5M) + draft-bf16.gguf (byte-level BPE, 8k)
#   same-vocab   target-f16.gguf + target-q4_k_m.gguf (its own Q4_K_M copy as draft)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-benchmarks/results/llama_cpp}
n_prompts=${2:-20}
n_tokens=${3:-64}
rounds=${4:-1}
prompts_file=${PROMPTS:-examples/prompts/readme.jsonl}
gguf=${GGUF_DIR:-build/tests/gguf}
uag=${UAG:-build/bin/uag}
mkdir -p "$out" "$out/logs"
rel=$(cmake/fetch_llama_cpp.sh release --bench-tools | tail -1)
old=$(cmake/fetch_llama_cpp.sh b7698 --bench-tools | tail -1)
bundled=${UAG_BUNDLED_MODELS_DIR:-build/models}
py=/usr/bin/python3
for m in target draft; do
  [[ -f "$gguf/$m-bf16.gguf" ]] || "$py" tests/data/gguf/make_gguf.py "$rel/src/gguf-py" "$bundled/$m" "$gguf/$m-bf16.gguf" --dtype bf16
done
for f in target-bf16 draft-bf16 target-f16 target-q4_k_m; do
  [[ -f "$gguf/$f.gguf" ]] || { echo "missing $gguf/$f.gguf (run ctest -R make_gguf_fixtures)" >&2; exit 1; }
done

# Prompt texts, one file each (llama-speculative-simple reads -f FILE).
"$py" - "$prompts_file" "$out/logs" "$n_prompts" <<'EOF'
import json, sys
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
lines = [json.loads(l)["prompt"] for l in open(src) if l.strip()][:n]
with open(f"{dst}/prompts.jsonl", "w") as f:
    for p in lines:
        f.write(json.dumps({"prompt": p}) + "\n")
for i, p in enumerate(lines):
    open(f"{dst}/prompt_{i:02d}.txt", "w").write(p)
EOF

{
  echo "date: $(date -u +%FT%TZ)"
  echo "machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), shared with other sessions; load: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "llama.cpp release: $rel"
  echo "llama.cpp b7698:   $old"
  echo "prompts: $n_prompts from $prompts_file, $n_tokens new tokens, 1 thread, greedy, rounds: $rounds"
} >"$out/setup.txt"

spec() {  # spec <prefix> <tag> <target> <draft> <draft-max>
  local prefix=$1 tag=$2 t=$3 d=$4 k=$5
  local log="$out/logs/$tag.log"
  # The release renamed the draft-length flags (--draft-max is refused there).
  local kflags=(--draft-max "$k" --draft-min 0)
  [[ "$prefix" == "$rel" ]] && kflags=(--spec-type draft-simple --spec-draft-n-max "$k" --spec-draft-n-min 0)
  : >"$log"
  for f in "$out"/logs/prompt_*.txt; do
    "$prefix/bin/llama-speculative-simple" -m "$t" -md "$d" -f "$f" -n "$n_tokens" "${kflags[@]}" \
      --temp 0 -t 1 -td 1 -c 2048 -ngl 0 -ngld 0 --seed 1 >>"$log" 2>&1 || echo "FAILED rc=$?" >>"$log"
  done
}

for r in $(seq "${START_ROUND:-1}" "$rounds"); do
  echo "round $r"
  "$uag" bench --target "$gguf/target-bf16.gguf" --draft "$gguf/draft-bf16.gguf" --prompts "$out/logs/prompts.jsonl" \
    --max-new-tokens "$n_tokens" --threads 1 --draft-threads 1 --configs g1,g2,g3,g4,g6,adaptive \
    --json "$out/logs/uag_cross_gguf_r$r.json" >"$out/logs/uag_cross_gguf_r$r.txt" 2>/dev/null || true
  "$uag" bench --target "$gguf/target-bf16.gguf" --draft "$bundled/draft" --prompts "$out/logs/prompts.jsonl" \
    --max-new-tokens "$n_tokens" --threads 1 --draft-threads 1 --configs g3,g4,g6,adaptive \
    --json "$out/logs/uag_cross_mixed_r$r.json" >"$out/logs/uag_cross_mixed_r$r.txt" 2>/dev/null || true
  for k in 1 2 4 8; do
    spec "$old" "b7698_cross_k${k}_r$r" "$gguf/target-bf16.gguf" "$gguf/draft-bf16.gguf" "$k"
  done
  "$rel/bin/llama-bench" -m "$gguf/target-bf16.gguf" -m "$gguf/target-f16.gguf" -p 0 -n "$n_tokens" -t 1 -r 5 \
    -fa 0 -ngl 0 -o json >"$out/logs/llama_bench_r$r.json" 2>/dev/null
  "$uag" bench --target "$gguf/target-f16.gguf" --draft "$gguf/target-q4_k_m.gguf" --prompts "$out/logs/prompts.jsonl" \
    --max-new-tokens "$n_tokens" --threads 1 --draft-threads 1 --configs g2,g4,g6,g8,adaptive \
    --json "$out/logs/uag_self_r$r.json" >"$out/logs/uag_self_r$r.txt" 2>/dev/null || true
  for k in 2 4 8; do
    spec "$old" "b7698_self_k${k}_r$r" "$gguf/target-f16.gguf" "$gguf/target-q4_k_m.gguf" "$k"
    spec "$rel" "release_self_k${k}_r$r" "$gguf/target-f16.gguf" "$gguf/target-q4_k_m.gguf" "$k"
  done
done
# Keep only the figures of llama.cpp's logs (its load messages are megabytes).
for f in "$out"/logs/*_k*_r*.log; do
  grep -E "decoded|encoded|n_draft|n_predict|n_accept|accept |FAILED|error" "$f" >"$f.tmp" || true
  mv "$f.tmp" "$f"
done
"$py" benchmarks/llama_cpp_summary.py "$out" | tee "$out/summary.txt"
