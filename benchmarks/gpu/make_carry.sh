#!/usr/bin/env bash
# Makes the folders benchmarks/gpu/h200.sh needs on a GPU machine without network (run here, on Debian 12):
#   .carry16/   llama-src.tar.xz (pinned llama.cpp source, as cmake/fetch_llama_cpp.sh builds it, without
#               models/, docs/, tests/, the web UI and miniaudio.h), deb/ (Debian 12 .debs: Eigen, nlohmann-json, PCRE2,
#               utf8proc, GoogleTest), tokenizers/llama2 (the bundled target's pinned tokenizer.json)
#   .carry16b/  qwen_target.tar.xz: the 151k-vocabulary matrix target (examples/models/train/make_matrix_models.sh)
# Both folders are ignored by git (.git/info/exclude) and travel with the device call's `carry`.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
mkdir -p .carry16/deb .carry16/tokenizers .carry16b
prefix=$(cmake/fetch_llama_cpp.sh release | tail -1)
src=$(readlink -f "$prefix/src")
[[ -f .carry16/llama-src.tar.xz ]] ||
  tar -C "$src" -cf - --exclude=.git --exclude=./models --exclude=./docs --exclude=./tools/ui --exclude=./benches \
    --exclude=./media --exclude=./tests --exclude=./vendor/miniaudio/miniaudio.h . | xz -T2 -6 > .carry16/llama-src.tar.xz
(cd .carry16/deb && apt-get download libeigen3-dev nlohmann-json3-dev libpcre2-dev libpcre2-8-0 libutf8proc-dev \
   libutf8proc2 libgtest-dev)
tok=$(tests/data/tokenizers/fetch_tokenizers.sh llama2 | tail -1)
cp -r "$tok/llama2" .carry16/tokenizers/
xz -T2 -6 -f .carry16/tokenizers/llama2/tokenizer.json  # 1.8 MB -> ~0.4 MB; h200.sh unpacks it
m=${UAG_MATRIX_DIR:-$HOME/.cache/uag/matrix}
[[ -f .carry16b/qwen_target.tar.xz ]] ||
  tar -C "$m" -cf - qwen_target/config.json qwen_target/generation_config.json qwen_target/tokenizer_config.json \
    qwen_target/tokenizer.json qwen_target/model.safetensors | xz -T2 -6 > .carry16b/qwen_target.tar.xz
du -sh .carry16 .carry16b
