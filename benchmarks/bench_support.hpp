#pragma once
// Shared by the benchmarks: where the fetched reference tokenizers live, a loader that keeps each one
// for the process, and the random Llama shape the backend and bridge benchmarks time.
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "uag/model/model_config.hpp"
#include "uag/tokenizer/hf_tokenizer.hpp"

namespace uag_bench {

/// $UAG_TOKENIZER_CACHE, else ~/.cache/uag/tokenizers (what tests/data/tokenizers/fetch_tokenizers.sh fills).
inline std::filesystem::path tokenizer_cache_dir() {
  if (const char* env = std::getenv("UAG_TOKENIZER_CACHE"); env && *env) return env;
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home ? home : ".") / ".cache" / "uag" / "tokenizers";
}

/// The cached tokenizer `name` (loaded once), or null when it has not been fetched.
inline const uag::hf_tokenizer* cached_tokenizer(const std::string& name) {
  static std::map<std::string, std::unique_ptr<uag::hf_tokenizer>> cache;
  auto& slot = cache[name];
  const auto dir = tokenizer_cache_dir() / name;
  if (!slot && std::filesystem::exists(dir / "tokenizer.json"))
    slot = std::make_unique<uag::hf_tokenizer>(uag::hf_tokenizer::from_file(dir));
  return slot.get();
}

/// Llama, vocab 32000, hidden 512, 8 layers, GQA 8/4: 41.6 M parameters, 166 MB as f32 (> 3 × 32 MiB L3).
inline uag::model_config llama_bench_config() {
  uag::model_config c;
  c.architecture_name = "LlamaForCausalLM";
  c.arch = uag::architecture::llama;
  c.vocab_size = 32000;
  c.hidden_size = 512;
  c.intermediate_size = 1536;
  c.n_layers = 8;
  c.n_heads = 8;
  c.n_kv_heads = 4;
  c.head_dim = 64;
  c.max_position_embeddings = 2048;
  c.rms_norm_eps = 1e-5;
  c.tie_word_embeddings = true;
  c.sliding_layers.assign(c.n_layers, false);
  return c;
}

}  // namespace uag_bench
