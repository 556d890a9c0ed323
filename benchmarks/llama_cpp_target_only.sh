#!/usr/bin/env bash
# uag's llama.cpp backend target-only decode against llama-bench tg on the same GGUF file, 1 thread,
# alternated REPEATS times so that the shared machine's drift hits both alike.
#   benchmarks/llama_cpp_target_only.sh MODEL.gguf [REPEATS] [N_TOKENS]
# uag side: `uag generate --no-draft` on a 5-token prompt (llama-bench tg starts from an empty context).
set -euo pipefail
cd "$(dirname "$0")/.."
model=$1 repeats=${2:-5} n=${3:-64}
rel=$(cmake/fetch_llama_cpp.sh release --bench-tools | tail -1)
for i in $(seq 1 "$repeats"); do
  u=$(build/bin/uag generate --target "$model" --no-draft --prompt 'def main():' --max-new-tokens "$n" \
      --threads 1 --json 2>/dev/null | /usr/bin/python3 -c "import json,sys; s=json.load(sys.stdin)['stats']; print(round(s['new_tokens']/(s['total_s']-s['prefill_s']),1))")
  b=$("$rel/bin/llama-bench" -m "$model" -p 0 -n "$n" -t 1 -r 3 -fa 0 -ngl 0 -o json 2>/dev/null \
      | /usr/bin/python3 -c "import json,sys; print(round(json.load(sys.stdin)[0]['avg_ts'],1))")
  echo "run $i: uag target-only $u tok/s, llama-bench tg$n $b tok/s, ratio $(/usr/bin/python3 -c "print(f'{$u/$b:.3f}')")"
done
