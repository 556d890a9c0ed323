// What uag adds around llama.cpp (issue 15): the same GGUF target decoded three ways in one process, one
// token per llama_decode from an empty cache, 64 tokens per iteration:
//   raw_llama_decode   llama-bench's tg loop: llama_batch_get_one on a context with llama-bench's defaults
//   adapter_forward    llama_cpp_model::forward (uag's adapter: its batch, logits for the row, bookkeeping)
//   target_only        baseline_generator over llama_cpp_model: argmax, commit, stop checks, text streaming
// Each reports items_per_second = tokens/s (decode only). Same process and file, so the ratios are free of
// the ±5-15% that separate processes differ by here. Run (built with UAG_WITH_LLAMA_CPP and benchmarks):
//   build/bin/bench_llama_cpp --benchmark_repetitions=10 --benchmark_enable_random_interleaving=true
// Model: $UAG_BENCH_GGUF, else the test fixture <build>/tests/gguf/target-f16.gguf; threads: $UAG_BENCH_THREADS (1).
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>

#include "uag/adapters/llama_cpp.hpp"
#include "uag/generation/assisted_generator.hpp"

namespace {
constexpr int kTokens = 64;

std::string model_path() {
  if (const char* p = std::getenv("UAG_BENCH_GGUF")) return p;
  return std::string(UAG_BINARY_DIR) + "/tests/gguf/target-f16.gguf";
}
int threads() {
  const char* t = std::getenv("UAG_BENCH_THREADS");
  return t ? std::atoi(t) : 1;
}

uag::llama_cpp_model& model() {
  static uag::llama_cpp_model m = [] {
    uag::llama_cpp_options o;
    o.n_threads = threads();
    return uag::llama_cpp_model::from_file(model_path(), o);
  }();
  return m;
}

// kTokens one-token llama_decode calls from an empty cache per iteration, on ids that walk the vocabulary
// (llama-bench feeds random ids); the cache is cleared before each iteration.
void decode_loop(benchmark::State& state, llama_context* ctx) {
  const int vocab = llama_vocab_n_tokens(llama_model_get_vocab(model().model()));
  for (auto _ : state) {
    llama_memory_clear(llama_get_memory(ctx), true);
    const auto t0 = std::chrono::steady_clock::now();
    llama_token tok = 1;
    for (int i = 0; i < kTokens; ++i) {
      if (llama_decode(ctx, llama_batch_get_one(&tok, 1)) != 0) state.SkipWithError("llama_decode failed");
      tok = static_cast<llama_token>((tok * 31 + 7) % vocab);
    }
    state.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  llama_memory_clear(llama_get_memory(ctx), true);
  state.SetItemsProcessed(state.iterations() * kTokens);
}

// llama-bench's context for `-p 0 -n 64 -fa 0`: n_ctx = 64 (llama.cpp pads it), n_batch 2048, n_ubatch 512,
// F16 KV cache, flash attention off, no performance counters read.
void raw_llama_decode(benchmark::State& state) {
  llama_context_params cp = llama_context_default_params();
  cp.n_ctx = static_cast<uint32_t>(state.range(0));
  cp.n_batch = static_cast<uint32_t>(state.range(1));
  cp.n_ubatch = 512;
  cp.n_threads = cp.n_threads_batch = threads();
  cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
  cp.no_perf = true;
  std::unique_ptr<llama_context, decltype(&llama_free)> ctx(
      llama_init_from_model(const_cast<llama_model*>(model().model()), cp), &llama_free);
  if (!ctx) {
    state.SkipWithError("llama_init_from_model failed");
    return;
  }
  decode_loop(state, ctx.get());
}

void raw_on_adapter_context(benchmark::State& state) {
  model().truncate(0);  // the adapter's cache is empty, and stays so: the loop clears what it decodes
  decode_loop(state, model().context());
}

void adapter_forward(benchmark::State& state) {
  uag::llama_cpp_model& m = model();
  for (auto _ : state) {
    m.truncate(0);
    const auto t0 = std::chrono::steady_clock::now();
    uag::token_id tok = 1;
    for (int i = 0; i < kTokens; ++i) {
      benchmark::DoNotOptimize(m.forward(uag::token_span(&tok, 1)).data);
      tok = static_cast<uag::token_id>((tok * 31 + 7) % static_cast<int>(m.vocab_size()));
    }
    state.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  state.SetItemsProcessed(state.iterations() * kTokens);
}

void target_only(benchmark::State& state) {
  uag::generation_config cfg;
  cfg.max_new_tokens = kTokens;
  cfg.stop_at_eos = false;
  uag::baseline_generator<uag::llama_cpp_model> gen(model(), cfg);
  std::size_t tokens = 0;
  for (auto _ : state) {
    gen.generate("def main():");  // 4 prompt tokens: a near-empty context, as llama-bench tg
    state.SetIterationTime(gen.stats().decode_seconds());
    tokens += gen.stats().new_tokens;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(tokens));
}

// llama-bench's settings, then the adapter's (n_ctx = the model's training context, n_batch = n_ctx).
BENCHMARK(raw_llama_decode)->Args({kTokens, 2048})->Args({1024, 1024})->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(raw_on_adapter_context)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(adapter_forward)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(target_only)->UseManualTime()->Unit(benchmark::kMillisecond);
}  // namespace
