// Reference transformer throughput on a model much larger than the L3 cache (random weights, built in
// memory): decode tokens/s, achieved weight bandwidth next to memory-copy / memory-read bandwidth measured
// by the same binary, and the cost of verifying k tokens in one pass relative to one token.
//
//   bench_model --benchmark_counters_tabular=true
//
// Shape: Llama, vocab 32000, hidden 512, 8 layers, intermediate 1536, 8 heads / 4 KV heads, tied
// embeddings: 41 M parameters, 166 MB of float32 weights streamed per forward pass (5x a 32 MiB L3).
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <numeric>
#include <vector>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include "uag/model/transformer.hpp"

namespace {

uag::model_config bench_config() {
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

uag::transformer& bench_model() {
  static uag::transformer m(bench_config(), uag::random_weights(bench_config(), 1), {.max_context = 1024});
  return m;
}

constexpr std::size_t context = 128;  // tokens in the cache before each measured pass

std::vector<uag::token_id> some_ids(std::size_t n, uag::token_id seed = 0) {
  std::vector<uag::token_id> ids(n);
  for (std::size_t i = 0; i < n; ++i) ids[i] = static_cast<uag::token_id>((seed + 7919 * (i + 1)) % 32000);
  return ids;
}

void prefill(uag::transformer& m) {
  m.truncate(0);
  m.forward(some_ids(context), 0);
}

/// Memory-copy bandwidth with all threads (each copies its own slice). Bytes = bytes copied (each is read
/// once and written once), the STREAM "copy" convention without the write-allocate.
void BM_memcpy(benchmark::State& state) {
  const std::size_t bytes = std::size_t{256} << 20;
  auto src = std::make_unique<char[]>(bytes), dst = std::make_unique<char[]>(bytes);
  std::memset(src.get(), 1, bytes);
  std::memset(dst.get(), 2, bytes);
  int threads = 1;
#if defined(_OPENMP)
  threads = omp_get_max_threads();
#endif
  for (auto _ : state) {
#pragma omp parallel num_threads(threads)
    {
      int t = 0, n = 1;
#if defined(_OPENMP)
      t = omp_get_thread_num();
      n = omp_get_num_threads();
#endif
      const std::size_t chunk = bytes / static_cast<std::size_t>(n);
      std::memcpy(dst.get() + chunk * static_cast<std::size_t>(t), src.get() + chunk * static_cast<std::size_t>(t), chunk);
    }
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
}
BENCHMARK(BM_memcpy)->UseRealTime()->Unit(benchmark::kMillisecond);

/// Memory-read bandwidth with all threads (sum of floats), the access pattern of weight streaming.
void BM_memread(benchmark::State& state) {
  const std::size_t n = std::size_t{64} << 20;  // 256 MB of floats
  std::vector<float> v(n, 1.0f);
  for (auto _ : state) {
    float total = 0.0f;
#pragma omp parallel for reduction(+ : total) schedule(static)
    for (std::size_t i = 0; i < n; ++i) total += v[i];
    benchmark::DoNotOptimize(total);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n * sizeof(float)));
}
BENCHMARK(BM_memread)->UseRealTime()->Unit(benchmark::kMillisecond);

/// Decoding: one token per forward pass with all logits, cache held at `context` tokens.
void BM_decode(benchmark::State& state) {
  auto& m = bench_model();
  prefill(m);
  const auto ids = some_ids(1, 3);
  for (auto _ : state) {
    auto l = m.forward(ids);
    benchmark::DoNotOptimize(l.data);
    m.truncate(context);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));  // tokens
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * m.streamed_weight_bytes()));
  state.counters["weights_MB"] = static_cast<double>(m.streamed_weight_bytes()) / 1e6;
  state.counters["threads"] = m.n_threads();
}
BENCHMARK(BM_decode)->UseRealTime()->Unit(benchmark::kMillisecond);

/// Verification: k tokens in one pass, logits for all k rows (what a speculative verifier needs).
/// Each iteration also times a 1-token pass, side by side, and reports cost_vs_k1 = time(k) / time(1).
void verify(benchmark::State& state, std::size_t n_rows_wanted) {
  auto& m = bench_model();
  const auto k = static_cast<std::size_t>(state.range(0));
  prefill(m);
  const auto ids = some_ids(k, 11);
  const auto one = some_ids(1, 5);
  double t1 = 0.0, tk = 0.0;
  for (auto _ : state) {
    auto a = std::chrono::steady_clock::now();
    auto l1 = m.forward(one);
    benchmark::DoNotOptimize(l1.data);
    m.truncate(context);
    auto b = std::chrono::steady_clock::now();
    auto lk = m.forward(ids, n_rows_wanted ? n_rows_wanted : k);
    benchmark::DoNotOptimize(lk.data);
    m.truncate(context);
    auto c = std::chrono::steady_clock::now();
    const double d1 = std::chrono::duration<double>(b - a).count(), dk = std::chrono::duration<double>(c - b).count();
    t1 += d1;
    tk += dk;
    state.SetIterationTime(dk);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * k));
  state.counters["cost_vs_k1"] = tk / t1;
  state.counters["ms_k1"] = 1e3 * t1 / static_cast<double>(state.iterations());
}
void BM_verify_all_logits(benchmark::State& state) { verify(state, 0); }
void BM_verify_last_logits(benchmark::State& state) { verify(state, 1); }
BENCHMARK(BM_verify_all_logits)->Arg(1)->Arg(2)->Arg(4)->Arg(8)->Arg(16)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_verify_last_logits)->Arg(8)->UseManualTime()->Unit(benchmark::kMillisecond);

/// Prefill throughput (tokens/s) for a 256-token prompt, logits for the last row only.
void BM_prefill(benchmark::State& state) {
  auto& m = bench_model();
  const auto ids = some_ids(256, 17);
  for (auto _ : state) {
    m.truncate(0);
    auto l = m.forward(ids, 1);
    benchmark::DoNotOptimize(l.data);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * ids.size()));
}
BENCHMARK(BM_prefill)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
