#!/usr/bin/env bash
# Issue 16, GPU half: uag + llama.cpp's CUDA backend on one NVIDIA GPU (measured on an H200), side by side
# with HF transformers' assisted generation on the same GPU, pairs and prompts.
#
#   benchmarks/gpu/h200.sh build            llama.cpp (GGML_CUDA=ON, sm_90) + uag's CLI and adapter tests
#   benchmarks/gpu/h200.sh tests OUT        adapter tests with every layer on the GPU (UAG_TEST_GPU_LAYERS=all)
#   benchmarks/gpu/h200.sh bundled OUT      bundled pair: uag bench (100 prompts: identical outputs; 20: speed)
#                                           and HF transformers on the same 20 prompts
#   benchmarks/gpu/h200.sh qwen OUT DIR     the same for the 151k-vocabulary target in DIR + the bundled draft
#   benchmarks/gpu/h200.sh qwen100 OUT DIR  only its 100-prompt identical-output run
#   benchmarks/gpu/h200.sh sbs OUT          bundled pair, 20 prompts, twice: g1, adaptive and adaptive:hold in
#                                           one run each, with per-prompt figures (benchmarks/per_prompt.py)
#
# The GPU machine has CUDA, CMake, ninja, PyTorch and transformers but no network and no Debian packages, so
# everything else comes in $CARRY (default .carry16, made by benchmarks/gpu/make_carry.sh): the pinned
# llama.cpp source (the same node-llama-cpp 3.22.1 bundle as cmake/fetch_llama_cpp.sh), the Debian 12 .debs
# of Eigen, nlohmann-json, PCRE2, utf8proc and GoogleTest, and the bundled target's pinned tokenizer.json.
# Builds go to $WORK (default build-gpu/) and are reused while the machine is warm.
#
# llama.cpp flags: GGML_CUDA_FA=OFF (the adapter runs without flash attention; skips ~60 kernel files),
# GGML_LLAMAFILE=OFF as on the CPU, CMAKE_CUDA_ARCHITECTURES=90 (Hopper only: a short build).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
carry=${CARRY:-$repo/.carry16}
work=${WORK:-$repo/build-gpu}
step=${1:?build|tests|bundled|qwen}
jobs=$(nproc)
deps=$work/deps
export LD_LIBRARY_PATH=$deps/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export UAG_TOKENIZER_CACHE=$carry/tokenizers
# make_carry.sh ships the tokenizer xz-compressed (the call's working tree is limited to 64 MiB)
tj=$carry/tokenizers/llama2/tokenizer.json
[[ -f $tj || ! -f $tj.xz ]] || xz -dk "$tj.xz"
uag=$work/uag/bin/uag
prompts=$repo/examples/prompts/eval.jsonl
tokens=${TOKENS:-64}

build() {
  local t0=$SECONDS
  if [[ ! -d $deps/usr ]]; then
    mkdir -p "$deps"
    for f in "$carry"/deb/*.deb; do dpkg -x "$f" "$deps"; done
  fi
  if [[ ! -f $work/llama/.complete ]]; then
    mkdir -p "$work/llama-src"
    [[ -f $work/llama-src/CMakeLists.txt ]] || tar -xJf "$carry/llama-src.tar.xz" -C "$work/llama-src"
    local flags=(-DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90
                 -DGGML_CUDA_FA=OFF -DGGML_CUDA_NCCL=OFF -DGGML_NATIVE=ON -DGGML_LLAMAFILE=OFF -DGGML_RPC=OFF
                 -DGGML_OPENMP=ON -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF
                 -DLLAMA_BUILD_APP=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_EXAMPLES=OFF
                 -DCMAKE_INSTALL_PREFIX="$work/llama")
    cmake -S "$work/llama-src" -B "$work/llama-build" -G Ninja "${flags[@]}" -DLLAMA_BUILD_TOOLS=OFF >/dev/null
    cmake --build "$work/llama-build" -j "$jobs"
    cmake --install "$work/llama-build" >/dev/null
    cmake -S "$work/llama-src" -B "$work/llama-build" -G Ninja "${flags[@]}" -DLLAMA_BUILD_TOOLS=ON >/dev/null
    cmake --build "$work/llama-build" --target llama-bench llama-quantize -j "$jobs"
    mkdir -p "$work/llama/bin"
    cp "$work/llama-build/bin/llama-bench" "$work/llama-build/bin/llama-quantize" "$work/llama/bin/"
    ln -sfn "$work/llama-src" "$work/llama/src"  # gguf-py, found by cmake/uag_llama_cpp.cmake
    touch "$work/llama/.complete"
    echo "llama.cpp CUDA build: $((SECONDS - t0)) s"
  fi
  local extra=()
  # Without the bundled target's archive (a payload that leaves it out) only the CLI is built.
  [[ -f $repo/examples/models/target/model.safetensors.tar.xz ]] ||
    extra=(-DUAG_BUNDLED_MODELS=OFF -DUAG_BUILD_TESTS=OFF)
  # The bundled target's pinned tokenizer.json, placed where configure looks first (no npm there).
  mkdir -p "$work/uag/models/target"
  cp "$carry/tokenizers/llama2/tokenizer.json" "$work/uag/models/target/"
  cmake -S "$repo" -B "$work/uag" -G Ninja -DCMAKE_BUILD_TYPE=Release -DUAG_WITH_LLAMA_CPP=ON \
    -DUAG_BUILD_BENCHMARKS=OFF "-DCMAKE_PREFIX_PATH=$work/llama;$deps/usr" "${extra[@]}" >/dev/null
  local targets=(uag)
  [[ ${#extra[@]} -eq 0 ]] && targets+=(test_llama_cpp)
  cmake --build "$work/uag" --target "${targets[@]}" -j "$jobs"
  echo "build done: $((SECONDS - t0)) s"
}

bundled_draft() {  # prints a folder holding the bundled draft: the build's, or expanded from the source tree's archives
  if [[ -f $work/uag/models/draft/model.safetensors ]]; then echo "$work/uag/models/draft"; return; fi
  local d=$work/bundled_draft
  if [[ ! -f $d/model.safetensors ]]; then
    mkdir -p "$d"
    cp "$repo"/examples/models/draft/*.json "$d/"
    tar -xJf "$repo/examples/models/draft/model.safetensors.tar.xz" -C "$d"
    tar -xJf "$repo/examples/models/draft/tokenizer.json.tar.xz" -C "$d"
  fi
  echo "$d"
}

gguf() {  # gguf MODEL_DIR OUT.gguf: an F16 GGUF (llama.cpp's best-kept GPU path for float weights)
  [[ -f $2 ]] || python3 "$repo/tests/data/gguf/make_gguf.py" "$work/llama/src/gguf-py" "$1" "$2" --dtype f16
}

identical100() {  # identical100 TAG TARGET_GGUF DRAFT OUT: greedy outputs on 100 prompts against target-only
  # (GPU rows of a verification batch against single-row decoding; rows too close to call are re-decided).
  "$uag" bench --target "$2" --gpu-layers all --draft "$3" --prompts "$prompts" --limit 100 \
    --max-new-tokens "$tokens" --threads 4 --configs g1,g3,g6,adaptive --json "$4/${1}_uag_100.json" \
    > "$4/${1}_uag_100.txt" 2> "$4/${1}_uag_100.err" || echo "uag bench (100) rc=$?" >> "$4/${1}_uag_100.txt"
}

side_by_side() {  # side_by_side TAG TARGET_HF_DIR TARGET_GGUF DRAFT_DIR OUT
  local tag=$1 thf=$2 tg=$3 d=$4 out=$5
  nvidia-smi --query-gpu=name,driver_version,clocks.sm,memory.used --format=csv > "$out/${tag}_gpu.txt" || true
  "$work/llama/bin/llama-bench" -m "$tg" -ngl 99 -fa 0 -p 0 -n "$tokens" -r 5 > "$out/${tag}_llama_bench.txt" 2>&1 || true
  identical100 "$tag" "$tg" "$d" "$out"
  # Side by side on the first 20 prompts.
  "$uag" bench --target "$tg" --gpu-layers all --draft "$d" --prompts "$prompts" --limit 20 \
    --max-new-tokens "$tokens" --threads 4 --configs g1,g2,g3,g4,g6,adaptive --json "$out/${tag}_uag_20.json" \
    > "$out/${tag}_uag_20.txt" 2> "$out/${tag}_uag_20.err" || echo "uag bench (20) rc=$?" >> "$out/${tag}_uag_20.txt"
  # HF's assisted generation across tokenizers runs ~1-2 s per generation here: 10 prompts, bounded time.
  PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 timeout "${HF_SECONDS:-200}" python3 "$repo/benchmarks/gpu/hf_assisted.py" \
    --target "$thf" --draft "$d" --prompts "$prompts" --limit "${HF_PROMPTS:-10}" --max-new-tokens "$tokens" --gammas "${HF_GAMMAS:-1,3}" \
    --json "$out/${tag}_hf.json" > "$out/${tag}_hf.txt" 2> "$out/${tag}_hf.err" ||
    echo "hf rc=$?" >> "$out/${tag}_hf.txt"
  cat "$out/${tag}_uag_100.txt" "$out/${tag}_uag_20.txt" "$out/${tag}_hf.txt"
  python3 "$repo/benchmarks/per_prompt.py" "$out/${tag}_uag_100.json" "$out/${tag}_uag_20.json" || true
  tail -n 3 "$out/${tag}_hf.err" "$out/${tag}_uag_20.err" || true
}

case "$step" in
  build) build ;;
  tests)
    out=$(realpath -m "${2:?OUT}")
    (cd "$work/uag" && ctest -R make_gguf_fixtures --output-on-failure > "$out/fixtures.txt" 2>&1) || true
    UAG_TEST_GPU_LAYERS=all "$work/uag/tests/test_llama_cpp" --gtest_brief=0 > "$out/test_llama_cpp_gpu.txt" 2>&1 &&
      echo "test_llama_cpp on the GPU: passed" || echo "test_llama_cpp on the GPU: FAILED (rc=$?)"
    grep -E "^\[  (FAILED|PASSED) |\[ llama.cpp \]|Failure|Expected|Which is|max \|" "$out/test_llama_cpp_gpu.txt" | head -60
    ;;
  bundled)
    out=$(realpath -m "${2:?OUT}")
    models=$work/uag/models
    gguf "$models/target" "$work/target-f16.gguf"
    side_by_side bundled "$models/target" "$work/target-f16.gguf" "$models/draft" "$out"
    ;;
  qwen)
    out=$(realpath -m "${2:?OUT}") dir=${3:?DIR}
    gguf "$dir" "$work/qwen-target-f16.gguf"
    side_by_side qwen "$dir" "$work/qwen-target-f16.gguf" "$(bundled_draft)" "$out"
    ;;
  qwen100)  # the 100-prompt identical-output run alone, for the 151k-vocabulary target in DIR
    out=$(realpath -m "${2:?OUT}") dir=${3:?DIR}
    gguf "$dir" "$work/qwen-target-f16.gguf"
    identical100 qwen "$work/qwen-target-f16.gguf" "$(bundled_draft)" "$out"
    cat "$out/qwen_uag_100.txt"
    ;;
  sbs)  # the bridge's default against :hold and g1, side by side, twice (the GPU's do-no-harm figure)
    out=$(realpath -m "${2:?OUT}")
    models=$work/uag/models
    gguf "$models/target" "$work/target-f16.gguf"
    for i in 1 2; do
      "$uag" bench --target "$work/target-f16.gguf" --gpu-layers all --draft "$models/draft" --prompts "$prompts" \
        --limit 20 --max-new-tokens "$tokens" --threads 4 --configs g1,adaptive,adaptive:hold --json "$out/sbs$i.json" --trace "$out/sbs$i.trace.jsonl" \
        > "$out/sbs$i.txt" 2> "$out/sbs$i.err" || echo "uag bench (sbs $i) rc=$?" >> "$out/sbs$i.txt"
      grep -E "^(baseline|config|g1 |adaptive|greedy)|rc=" "$out/sbs$i.txt"
    done
    python3 "$repo/benchmarks/per_prompt.py" "$out/sbs1.json" "$out/sbs2.json"
    ;;
  *) echo "usage: $0 build|tests OUT|bundled OUT|qwen OUT DIR|qwen100 OUT DIR|sbs OUT" >&2; exit 2 ;;
esac
