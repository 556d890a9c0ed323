#!/usr/bin/env bash
# GGUF fixtures for tests/test_llama_cpp.cpp, written into the build folder (never committed):
#   <out>/{llama,mistral,qwen2,qwen3}.gguf   F32 conversions of tests/data/models/* (random test models)
#   <out>/target-f32.gguf, draft-f32.gguf     the bundled pair (examples/models), F32
#   <out>/target-f16.gguf                     the bundled target, F16 (input for the quantized copies)
#   <out>/target-q8_0.gguf, target-q4_k_m.gguf  quantized with llama-quantize (when given)
# usage: make_fixtures.sh OUT GGUF_PY TEST_MODELS_DIR BUNDLED_MODELS_DIR [LLAMA_QUANTIZE]
# Reruns only for missing files (delete <out> to regenerate).
set -euo pipefail
out=$1 gguf_py=$2 test_models=$3 bundled=$4 quantize=${5:-}
here=$(cd "$(dirname "$0")" && pwd)
py=""
for p in python3 /usr/bin/python3; do
  if command -v "$p" >/dev/null && "$p" -c "import numpy" 2>/dev/null; then py=$p; break; fi
done
[[ -n "$py" ]] || { echo "make_fixtures.sh: needs python3 with numpy (apt-get install python3-numpy)" >&2; exit 1; }
mkdir -p "$out"
make() {  # make <model dir> <out file> [dtype]
  [[ -f "$2" ]] && return 0
  "$py" "$here/make_gguf.py" "$gguf_py" "$1" "$2.tmp" --dtype "${3:-f32}" && mv "$2.tmp" "$2"
}
for m in llama mistral qwen2 qwen3; do make "$test_models/$m" "$out/$m.gguf"; done
make "$bundled/target" "$out/target-f32.gguf"
make "$bundled/draft" "$out/draft-f32.gguf"
make "$bundled/target" "$out/target-f16.gguf" f16
if [[ -n "$quantize" && -x "$quantize" ]]; then
  for q in Q8_0 Q4_K_M; do
    f="$out/target-$(echo $q | tr 'A-Z' 'a-z').gguf"
    [[ -f "$f" ]] || { "$quantize" "$out/target-f16.gguf" "$f.tmp" "$q" 1 >"$f.log" 2>&1 && mv "$f.tmp" "$f"; }
  done
fi
echo "GGUF fixtures in $out"
