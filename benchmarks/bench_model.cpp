// Reference transformer throughput on a model much larger than the L3 cache (random weights, built in
// memory): decode tokens/s, achieved weight bandwidth next to memory-copy / memory-read bandwidth measured
// by the same binary, and the cost of verifying k tokens in one pass relative to one token.
//
//   bench_model --benchmark_counters_tabular=true
//
// Weights are float32 or bfloat16 (the Arg); compute is float32 either way.
// Shape: Llama, vocab 32000, hidden 512, 8 layers, intermediate 1536, 8 heads / 4 KV heads, tied
// embeddings: 41 M parameters, 166 MB of float32 weights streamed per forward pass (5x a 32 MiB L3).
#include <benchmark/benchmark.h>

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <memory>
#include <numeric>
#include <vector>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include "bench_support.hpp"
#include "uag/model/transformer.hpp"

#if defined(UAG_SIMD_X86)
// The attention kernels as they were before session 15 (2-4 key tiles per pass for groups of 1-4 rows),
// compiled beside the library's for BM_attention_key_tiles: the same kernels.inc with only
// ops::score_tiles changed (results are bit-identical, so the benchmark also checks them).
UAG_TARGET_AVX512_BEGIN
namespace uag::detail::avx512_interleaved_tiles {
struct ops : avx512::ops {
  static constexpr int score_tiles(int g) { return g >= 8 ? 1 : g >= 4 ? 2 : 4 / g; }
};
#include "uag/model/detail/kernels.inc"
}  // namespace uag::detail::avx512_interleaved_tiles
UAG_TARGET_END
UAG_TARGET_AVX2_BEGIN
namespace uag::detail::avx2_interleaved_tiles {
struct ops : avx2::ops {
  static constexpr int score_tiles(int g) { return g >= 3 ? 1 : g == 2 ? 2 : 4; }
};
#include "uag/model/detail/kernels.inc"
}  // namespace uag::detail::avx2_interleaved_tiles
UAG_TARGET_END
// The weight prefetch as it was before session 23 (two blocks ahead, into L1), for BM_weight_prefetch: the
// matmul kernels only (matmul_kernels.inc): it uses nothing else.
UAG_TARGET_AVX512_BEGIN
namespace uag::detail::avx512_l1_prefetch {
struct ops : avx512::ops {
  static constexpr std::size_t weight_prefetch_blocks = 2;
  static void prefetch_weights(const void* p) noexcept { prefetch_l1(p); }
};
#include "uag/model/detail/matmul_kernels.inc"
}  // namespace uag::detail::avx512_l1_prefetch
UAG_TARGET_END
UAG_TARGET_AVX2_BEGIN
namespace uag::detail::avx2_l1_prefetch {
struct ops : avx2::ops {
  static constexpr std::size_t weight_prefetch_blocks = 2;
  static void prefetch_weights(const void* p) noexcept { prefetch_l1(p); }
};
#include "uag/model/detail/matmul_kernels.inc"
}  // namespace uag::detail::avx2_l1_prefetch
UAG_TARGET_END
#endif

namespace {

/// The benchmark model with float32 (bf16 = false) or bfloat16 projection weights.
uag::transformer& bench_model(bool bf16 = false) {
  static uag::transformer f32(uag_bench::llama_bench_config(), uag::random_weights(uag_bench::llama_bench_config(), 1),
                              {.max_context = 1024, .weights = uag::weight_format::f32});
  if (!bf16) return f32;
  static uag::transformer b16(uag_bench::llama_bench_config(), uag::random_weights(uag_bench::llama_bench_config(), 1),
                              {.max_context = 1024, .weights = uag::weight_format::bf16});
  return b16;
}

constexpr std::size_t context = 128;  // tokens in the cache before each measured pass

/// CPU time of the calling thread. The *_1thread_cpu benchmarks time one thread by its own CPU time, so
/// that other processes on this shared 2-core machine (which deschedule a thread, and stall the other
/// thread of a pair at every OpenMP barrier) do not distort the figures; memory stalls still count.
double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

/// Sets the model's threads for one benchmark and restores them after.
struct thread_scope {
  uag::transformer& m;
  int saved;
  thread_scope(uag::transformer& model, int n) : m(model), saved(model.n_threads()) { m.set_n_threads(n); }
  ~thread_scope() { m.set_n_threads(saved); }
};  // tokens in the cache before each measured pass

std::vector<uag::token_id> some_ids(std::size_t n, uag::token_id seed = 0) {
  std::vector<uag::token_id> ids(n);
  for (std::size_t i = 0; i < n; ++i) ids[i] = static_cast<uag::token_id>((seed + 7919 * (i + 1)) % 32000);
  return ids;
}

/// ids folded into m's vocabulary (some_ids are < 32000; the bundled draft's vocabulary is smaller).
std::vector<uag::token_id> in_vocab(std::vector<uag::token_id> v, const uag::transformer& m) {
  for (auto& t : v) t %= static_cast<uag::token_id>(m.vocab_size());
  return v;
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

/// Memory-read bandwidth with all threads (vectorised sum of floats), the access pattern of weight streaming.
void BM_memread(benchmark::State& state) {
  const std::size_t n = std::size_t{64} << 20;  // 256 MB of floats
  std::vector<float> v(n, 1.0f);
  int threads = 1;
#if defined(_OPENMP)
  threads = omp_get_max_threads();
#endif
  std::vector<float> partial(static_cast<std::size_t>(threads) * 16);
  for (auto _ : state) {
#pragma omp parallel num_threads(threads)
    {
      int t = 0, nt = 1;
#if defined(_OPENMP)
      t = omp_get_thread_num();
      nt = omp_get_num_threads();
#endif
      const std::size_t chunk = n / static_cast<std::size_t>(nt);
      partial[static_cast<std::size_t>(t) * 16] =
          Eigen::Map<const Eigen::VectorXf>(v.data() + chunk * static_cast<std::size_t>(t), static_cast<Eigen::Index>(chunk)).sum();
    }
    benchmark::DoNotOptimize(partial.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n * sizeof(float)));
}
BENCHMARK(BM_memread)->UseRealTime()->Unit(benchmark::kMillisecond);

/// Memory-read bandwidth of one thread, timed by its CPU time.
void BM_memread_1thread_cpu(benchmark::State& state) {
  const std::size_t n = std::size_t{64} << 20;  // 256 MB of floats
  std::vector<float> v(n, 1.0f);
  for (auto _ : state) {
    const double a = thread_cpu_seconds();
    float total = Eigen::Map<const Eigen::VectorXf>(v.data(), static_cast<Eigen::Index>(n)).sum();
    benchmark::DoNotOptimize(total);
    state.SetIterationTime(thread_cpu_seconds() - a);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n * sizeof(float)));
}
BENCHMARK(BM_memread_1thread_cpu)->UseManualTime()->Unit(benchmark::kMillisecond);

/// Decoding: one token per forward pass with all logits, cache held at `context` tokens.
/// Arg: 0 = float32 weights, 1 = bfloat16 weights.
void BM_decode(benchmark::State& state) {
  auto& m = bench_model(state.range(0) != 0);
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
BENCHMARK(BM_decode)->Arg(0)->Arg(1)->UseRealTime()->Unit(benchmark::kMillisecond);

/// Decoding with one thread, timed by its CPU time. Arg: 0 = float32 weights, 1 = bfloat16.
void BM_decode_1thread_cpu(benchmark::State& state) {
  auto& m = bench_model(state.range(0) != 0);
  thread_scope one(m, 1);
  prefill(m);
  const auto ids = some_ids(1, 3);
  for (auto _ : state) {
    const double a = thread_cpu_seconds();
    auto l = m.forward(ids);
    benchmark::DoNotOptimize(l.data);
    m.truncate(context);
    state.SetIterationTime(thread_cpu_seconds() - a);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * m.streamed_weight_bytes()));
}
BENCHMARK(BM_decode_1thread_cpu)->Arg(0)->Arg(1)->UseManualTime()->Unit(benchmark::kMillisecond);

/// A k-token pass with logits for its last `rows` rows, side by side with a 1-token pass each iteration;
/// reports cost_vs_k1 = time(k) / time(1) and ms_k1. one_thread_cpu: one thread, timed by its CPU time.
void time_k_rows(benchmark::State& state, uag::transformer& m, std::size_t k, std::size_t rows,
                 bool one_thread_cpu) {
  thread_scope threads(m, one_thread_cpu ? 1 : m.n_threads());
  const auto now = [&] {
    return one_thread_cpu ? thread_cpu_seconds()
                          : std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  };
  prefill(m);
  const auto ids = some_ids(k, 11);
  const auto one = some_ids(1, 5);
  double t1 = 0.0, tk = 0.0;
  for (auto _ : state) {
    const double a = now();
    benchmark::DoNotOptimize(m.forward(one).data);
    m.truncate(context);
    const double b = now();
    benchmark::DoNotOptimize(m.forward(ids, rows).data);
    m.truncate(context);
    const double c = now();
    t1 += b - a;
    tk += c - b;
    state.SetIterationTime(c - b);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * k));
  state.counters["cost_vs_k1"] = tk / t1;
  state.counters["ms_k1"] = 1e3 * t1 / static_cast<double>(state.iterations());
}

/// Verification: k tokens in one pass, logits for all k rows (what a speculative verifier needs), or
/// for n_rows_wanted of them. Args: k, weights (0 = float32, 1 = bfloat16).
void verify(benchmark::State& state, std::size_t n_rows_wanted, bool one_thread_cpu = false) {
  const auto k = static_cast<std::size_t>(state.range(0));
  time_k_rows(state, bench_model(state.range(1) != 0), k, n_rows_wanted ? n_rows_wanted : k, one_thread_cpu);
}
void BM_verify_all_logits(benchmark::State& state) { verify(state, 0); }
void BM_verify_last_logits(benchmark::State& state) { verify(state, 1); }
void BM_verify_all_logits_1thread_cpu(benchmark::State& state) { verify(state, 0, true); }
BENCHMARK(BM_verify_all_logits)
    ->ArgsProduct({{1, 2, 4, 8, 16}, {0, 1}})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_verify_last_logits)->ArgsProduct({{8}, {0, 1}})->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_verify_all_logits_1thread_cpu)
    ->ArgsProduct({{1, 2, 4, 8}, {0, 1}})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

/// The bundled target (<build>/models/target, bf16, 26.5 M parameters, 46% of them in the tied lm_head),
/// one thread timed by its CPU time: a k-token pass with logits for `rows` of them (0 = trunk only), side
/// by side with a 1-token pass with logits. cost_vs_k1 = time(k, rows) / time(1 token, 1 row).
/// Args: k, rows. Trunk-only against all-rows gives the lm_head's share of a verification pass.
void BM_bundled_target_1thread_cpu(benchmark::State& state) {
  static uag::transformer m =
      uag::transformer::from_folder(std::filesystem::path(UAG_BUNDLED_MODELS_DIR) / "target", {.max_context = 1024});
  time_k_rows(state, m, static_cast<std::size_t>(state.range(0)), static_cast<std::size_t>(state.range(1)), true);
}
BENCHMARK(BM_bundled_target_1thread_cpu)
    ->ArgsProduct({{1, 4, 8}, {0, 1}})
    ->Args({2, 2})
    ->Args({3, 3})
    ->Args({4, 4})
    ->Args({8, 4})
    ->Args({8, 8})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

/// BM_bundled_target_1thread_cpu with bfloat16 products (weight_format::bf16_products, what
/// `uag bench --weights bf16-products` runs: vdpbf16ps from 5 rows where the CPU has AVX512_BF16), all
/// rows' logits, as a verification pass over k = γ + 1 rows computes them. Arg: k.
void products_passes(benchmark::State& state, const std::filesystem::path& folder) {
  static std::map<std::filesystem::path, uag::transformer> models;  // loaded once per folder
  auto it = models.find(folder);
  if (it == models.end())
    it = models.emplace(folder, uag::transformer::from_folder(folder, {.max_context = 1024, .weights = uag::weight_format::bf16_products})).first;
  const auto k = static_cast<std::size_t>(state.range(0));
  time_k_rows(state, it->second, k, k, true);
}
void BM_bundled_products_1thread_cpu(benchmark::State& state) {
  products_passes(state, std::filesystem::path(UAG_BUNDLED_MODELS_DIR) / "target");
}
BENCHMARK(BM_bundled_products_1thread_cpu)->DenseRange(2, 8)->UseManualTime()->Unit(benchmark::kMillisecond);

/// BM_bundled_products_1thread_cpu on any model folder: $UAG_BENCH_TARGET (e.g. the matrix's 151k target,
/// ~/.cache/uag/matrix/qwen_target, whose 151k-row output layer makes each verified row dear). Skipped,
/// with that message, when the variable is unset. Arg: k.
void BM_folder_products_1thread_cpu(benchmark::State& state) {
  const char* dir = std::getenv("UAG_BENCH_TARGET");
  if (!dir || !*dir) return state.SkipWithError("set UAG_BENCH_TARGET to a model folder");
  products_passes(state, dir);
}
BENCHMARK(BM_folder_products_1thread_cpu)->DenseRange(2, 8)->UseManualTime()->Unit(benchmark::kMillisecond);

/// What running the draft between two target passes costs the second one (the bundled pair, bfloat16
/// products, one thread by its CPU time): the target's k-row pass right after another target pass
/// (as in target-only decoding), right after γ draft tokens (as in assisted decoding), and right after
/// reading a buffer the size of the draft's weights γ times (the cache footprint alone). Interleaved per
/// iteration. Time = after the draft; counters: draft_vs_plain and read_vs_plain (each pass's time over
/// the pass after a target pass). Args: γ, k.
void BM_pass_after_draft(benchmark::State& state) {
  const auto gamma = static_cast<std::size_t>(state.range(0)), k = static_cast<std::size_t>(state.range(1));
  const auto dir = std::filesystem::path(UAG_BUNDLED_MODELS_DIR);
  const uag::transformer_options o{.max_context = 1024, .n_threads = 1, .weights = uag::weight_format::bf16_products};
  static uag::transformer target = uag::transformer::from_folder(dir / "target", o);
  static uag::transformer draft = uag::transformer::from_folder(dir / "draft", o);
  static std::vector<float> buffer(draft.streamed_weight_bytes() / sizeof(float), 1.0f);
  target.truncate(0), target.forward(some_ids(context), 0);
  draft.truncate(0), draft.forward(in_vocab(some_ids(context), draft), 0);
  const auto ids = some_ids(k, 11), one = some_ids(1, 5);
  std::vector<std::vector<uag::token_id>> drafted;
  for (std::size_t i = 0; i < gamma; ++i) drafted.push_back(in_vocab(some_ids(1, static_cast<uag::token_id>(20 + i)), draft));
  double t[3] = {};  // after a target pass, after the draft, after the read
  float sink = 0.0f;
  for (auto _ : state) {
    for (int mode = 0; mode < 3; ++mode) {
      benchmark::DoNotOptimize(target.forward(one).data);
      target.truncate(context);
      if (mode == 1) {
        for (const auto& d : drafted) benchmark::DoNotOptimize(draft.forward(d).data);
        draft.truncate(context);
      } else if (mode == 2) {
        for (std::size_t r = 0; r < gamma; ++r)
          for (std::size_t i = 0; i < buffer.size(); i += 16) sink += buffer[i];  // one load per cache line
      }
      const double a = thread_cpu_seconds();
      benchmark::DoNotOptimize(target.forward(ids).data);
      const double s = thread_cpu_seconds() - a;
      target.truncate(context);
      t[mode] += s;
      if (mode == 1) state.SetIterationTime(s);
    }
  }
  benchmark::DoNotOptimize(sink);
  state.counters["draft_vs_plain"] = t[1] / t[0];
  state.counters["read_vs_plain"] = t[2] / t[0];
}
BENCHMARK(BM_pass_after_draft)->Args({1, 1})->Args({1, 2})->Args({5, 1})->Args({5, 6})->UseManualTime()->Unit(benchmark::kMillisecond);

/// The vector instruction sets this CPU runs (scalar left out: it is 10x slower and would dominate).
std::vector<uag::instruction_set> vector_isas() {
  auto all = uag::supported_instruction_sets();
  std::erase(all, uag::instruction_set::scalar);
  return all;
}

/// The bundled target with the kernels of isa (one model per instruction set, loaded once).
uag::transformer& bundled_target(uag::instruction_set isa) {
  static std::map<uag::instruction_set, std::unique_ptr<uag::transformer>> models;
  auto& m = models[isa];
  if (!m)
    m = std::make_unique<uag::transformer>(uag::transformer::from_folder(
        std::filesystem::path(UAG_BUNDLED_MODELS_DIR) / "target", {.max_context = 1024, .isa = isa}));
  return *m;
}

/// Instruction sets side by side on the bundled target: every iteration runs, for each vector ISA in
/// turn, a 1-token pass and a k-token pass with all k logits rows (verification), so that other jobs on
/// the machine weigh on every variant alike. Counters per ISA: <isa>_tok_s (1-token passes per second),
/// <isa>_k_cost (k-token pass time / 1-token pass time), and <isa>_vs_<best> (its tokens/s over the
/// best ISA's). Arg 0: k; arg 1: threads (1 = one thread timed by its CPU time, 2 = wall time).
void BM_bundled_isa(benchmark::State& state) {
  const auto k = static_cast<std::size_t>(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  const auto isas = vector_isas();
  std::vector<double> t1(isas.size()), tk(isas.size());
  for (auto isa : isas) {
    auto& m = bundled_target(isa);
    m.set_n_threads(threads);
    prefill(m);
  }
  const auto now = [&] {
    return threads == 1 ? thread_cpu_seconds()
                        : std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  };
  const auto ids = some_ids(k, 11);
  const auto one = some_ids(1, 5);
  for (auto _ : state) {
    double total = 0.0;
    for (std::size_t i = 0; i < isas.size(); ++i) {
      auto& m = bundled_target(isas[i]);
      const double a = now();
      benchmark::DoNotOptimize(m.forward(one).data);
      m.truncate(context);
      const double b = now();
      benchmark::DoNotOptimize(m.forward(ids).data);
      m.truncate(context);
      const double c = now();
      t1[i] += b - a;
      tk[i] += c - b;
      total += c - a;
    }
    state.SetIterationTime(total);
  }
  const double n = static_cast<double>(state.iterations());
  for (std::size_t i = 0; i < isas.size(); ++i) {
    const std::string name(uag::instruction_set_name(isas[i]));
    state.counters[name + "_tok_s"] = n / t1[i];
    state.counters[name + "_k_cost"] = tk[i] / t1[i];
    if (i > 0)
      state.counters[name + "_vs_" + std::string(uag::instruction_set_name(isas[0]))] = t1[0] / t1[i];
  }
}
BENCHMARK(BM_bundled_isa)->ArgsProduct({{2, 3, 4, 8}, {1, 2}})->UseManualTime()->Unit(benchmark::kMillisecond);

/// The bundled pair with its packed weights in huge pages (transformer_options::huge_pages, the default)
/// against 4 KiB pages, both placements interleaved per iteration: the target's k-row pass by the thread's
/// CPU time, one thread, optionally right after one bundled-draft token (as in assisted decoding; the draft
/// with the same placement). Time = huge pages; counters: small_vs_huge (4 KiB pages' time / huge pages'
/// time: above 1 = huge pages faster) for the target pass and for the draft token.
/// Args: k; 1 = a draft token before each target pass; tokens in the target's cache before each pass.
void BM_huge_pages(benchmark::State& state) {
  const auto k = static_cast<std::size_t>(state.range(0));
  const bool with_draft = state.range(1) != 0;
  const auto ctx = static_cast<std::size_t>(state.range(2));
  const auto dir = std::filesystem::path(UAG_BUNDLED_MODELS_DIR);
  static std::vector<uag::transformer> targets, drafts;  // [0] huge pages, [1] 4 KiB pages
  if (targets.empty())
    for (bool huge : {true, false}) {
      targets.push_back(uag::transformer::from_folder(dir / "target", {.max_context = 1024, .n_threads = 1, .huge_pages = huge}));
      drafts.push_back(uag::transformer::from_folder(dir / "draft", {.max_context = 1024, .n_threads = 1, .huge_pages = huge}));
    }
  for (auto& m : targets) m.truncate(0), m.forward(some_ids(ctx), 0);
  for (auto& m : drafts) m.truncate(0), m.forward(in_vocab(some_ids(context), m), 0);
  const auto ids = some_ids(k, 11);
  const auto one = in_vocab(some_ids(1, 5), drafts[0]);
  double target_s[2] = {}, draft_s[2] = {};
  for (auto _ : state) {
    double huge_s = 0.0;
    for (int i = 0; i < 2; ++i) {
      if (with_draft) {
        auto& d = drafts[i];
        const double a = thread_cpu_seconds();
        benchmark::DoNotOptimize(d.forward(one).data);
        draft_s[i] += thread_cpu_seconds() - a;
        if (d.n_cached() >= 4 * context) d.truncate(context);  // the draft advances, as in decoding
      }
      const double b = thread_cpu_seconds();
      benchmark::DoNotOptimize(targets[i].forward(ids).data);
      const double t = thread_cpu_seconds() - b;
      targets[i].truncate(ctx);
      target_s[i] += t;
      if (i == 0) huge_s = t;
    }
    state.SetIterationTime(huge_s);
  }
  state.counters["small_vs_huge"] = target_s[1] / target_s[0];
  if (with_draft) state.counters["draft_small_vs_huge"] = draft_s[1] / draft_s[0];
}
BENCHMARK(BM_huge_pages)
    ->ArgsProduct({{1, 2, 4}, {0, 1}, {context}})
    ->ArgsProduct({{1, 2, 4}, {1}, {1000}})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

#if defined(UAG_SIMD_X86)
/// A 48 MiB bfloat16 matrix (32768 x 768: larger than the 32 MiB L3, so it streams from memory as a model's
/// weights do), in huge pages; built once per process and kept (the benchmarks below share it).
const uag::detail::packed_matrix<std::uint16_t>& streamed_bf16_matrix() {
  using namespace uag::detail;
  constexpr std::size_t out = 32768, in = 768;
  static const auto* w = [] {
    std::vector<float> wf(out * in);
    for (std::size_t i = 0; i < wf.size(); ++i) wf[i] = 0.001f * static_cast<float>(i % 97);
    static bump_arena arena(packed_matrix<std::uint16_t>::storage_bytes(out, in), true);
    return new packed_matrix<std::uint16_t>(wf.data(), out, in, arena.take(packed_matrix<std::uint16_t>::storage_bytes(out, in)));
  }();
  return *w;
}

/// The weight prefetch, side by side: the library's (one block ahead, into L2) against session 22's (two
/// blocks ahead, into L1), each iteration timing both on a 48 MiB bfloat16 matrix (32768 x 768: larger than
/// the 32 MiB L3, so it streams from memory as a model's weights do), one thread by its CPU time, in huge
/// pages. Time = the library's; counter l1_vs_l2 = session 22's time / the library's (above 1: faster now).
/// Args: k rows; 0 = AVX-512, 1 = AVX2.
void BM_weight_prefetch(benchmark::State& state) {
  using namespace uag::detail;
  const auto k = static_cast<std::size_t>(state.range(0));
  const auto isa = state.range(1) == 0 ? uag::instruction_set::avx512 : uag::instruction_set::avx2;
  const auto isas = uag::supported_instruction_sets();
  if (std::find(isas.begin(), isas.end(), isa) == isas.end()) return state.SkipWithError("instruction set not supported here");
  const auto* w = &streamed_bf16_matrix();
  const std::size_t out = w->out(), in = w->in();
  const kernel_table& now_table = kernels_for(isa);
  kernel_table before = now_table;
  if (isa == uag::instruction_set::avx512)
    before.matmul_f32 = &avx512_l1_prefetch::matmul_f32, before.matmul_bf16 = &avx512_l1_prefetch::matmul_bf16;
  else
    before.matmul_f32 = &avx2_l1_prefetch::matmul_f32, before.matmul_bf16 = &avx2_l1_prefetch::matmul_bf16;
  std::vector<float> x(k * in, 0.01f), y(k * out);
  double t_now = 0.0, t_before = 0.0;
  for (auto _ : state) {
    const double a = thread_cpu_seconds();
    matmul(now_table, x.data(), in, k, *w, nullptr, y.data(), out, false, 1);
    benchmark::DoNotOptimize(y.data());
    const double b = thread_cpu_seconds();
    matmul(before, x.data(), in, k, *w, nullptr, y.data(), out, false, 1);
    benchmark::DoNotOptimize(y.data());
    const double c = thread_cpu_seconds();
    t_now += b - a;
    t_before += c - b;
    state.SetIterationTime(b - a);
  }
  state.SetLabel(std::string(uag::instruction_set_name(isa)));
  state.counters["l1_vs_l2"] = t_before / t_now;
  state.counters["GBs"] = benchmark::Counter(static_cast<double>(w->bytes()) * static_cast<double>(state.iterations()) / 1e9 / t_now);
}
BENCHMARK(BM_weight_prefetch)->ArgsProduct({{1, 2, 5}, {0, 1}})->UseManualTime()->Unit(benchmark::kMillisecond);
#endif

/// bfloat16 products against float32 products of the same bfloat16 weights, side by side: the bundled
/// target's k-row pass after `ctx` cached tokens, weight_format::bf16 and ::bf16_products interleaved per
/// iteration, one thread by its CPU time. Time = bf16_products; counter bf16_vs_products = bf16's time /
/// bf16_products' (above 1: products faster). Args: k; tokens in the cache before each pass.
void BM_bf16_products(benchmark::State& state) {
  const auto k = static_cast<std::size_t>(state.range(0));
  const auto ctx = static_cast<std::size_t>(state.range(1));
  const auto dir = std::filesystem::path(UAG_BUNDLED_MODELS_DIR);
  static std::vector<uag::transformer> targets;  // [0] bf16_products, [1] bf16
  if (targets.empty())
    for (auto f : {uag::weight_format::bf16_products, uag::weight_format::bf16})
      targets.push_back(uag::transformer::from_folder(dir / "target", {.max_context = 2048, .n_threads = 1, .weights = f}));
  for (auto& m : targets) m.truncate(0), m.forward(some_ids(ctx), 0);
  const auto ids = some_ids(k, 11);
  double t[2] = {};
  for (auto _ : state) {
    for (int i = 0; i < 2; ++i) {
      const double a = thread_cpu_seconds();
      benchmark::DoNotOptimize(targets[i].forward(ids).data);
      const double s = thread_cpu_seconds() - a;
      targets[i].truncate(ctx);
      t[i] += s;
      if (i == 0) state.SetIterationTime(s);
    }
  }
  state.counters["bf16_vs_products"] = t[1] / t[0];
}
BENCHMARK(BM_bf16_products)->ArgsProduct({{1, 2, 3, 4, 5, 6, 8}, {100, 1000}})->UseManualTime()->Unit(benchmark::kMillisecond);

#if defined(UAG_SIMD_X86)
/// The matmul alone: a 48 MiB bfloat16 matrix (32768 x 768, streamed from memory) times k rows, one thread,
/// interleaved: bfloat16 products in two FMAs (AVX-512, inputs as floats: what kernels_for picks where
/// vdpbf16ps is slow), with vdpbf16ps (where the CPU has AVX512_BF16), and float32 products of the same
/// bfloat16 weights. Time = two FMAs; counters: dot_vs_fma, f32_vs_fma (their time / its; above 1: the
/// FMAs faster), cost_vs_k1 (the two FMAs' time over their one-row time, also interleaved).
void BM_bf16_products_matmul(benchmark::State& state) {
  using namespace uag::detail;
  const auto k = static_cast<std::size_t>(state.range(0));
  if (detect_instruction_set() != uag::instruction_set::avx512) return state.SkipWithError("no AVX-512 here");
  const bool dot = cpu_has_avx512_bf16();
  const auto* w = &streamed_bf16_matrix();
  const std::size_t out = w->out(), in = w->in();
  std::vector<float> x(8 * in), y(8 * out);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = 0.01f * static_cast<float>(i % 13);
  std::vector<std::uint32_t> inputs(products_input_words(8, in));
  double t[4] = {};
  for (auto _ : state) {
    double s[5];
    s[0] = thread_cpu_seconds();
    matmul_products(avx512::table, x.data(), in, k, *w, nullptr, y.data(), out, false, 1,
                    weight_residence::memory, inputs.data());
    benchmark::DoNotOptimize(y.data());
    s[1] = thread_cpu_seconds();
    if (dot)
      matmul_products(avx512_bf16_table(), x.data(), in, k, *w, nullptr, y.data(), out, false, 1,
                      weight_residence::memory, inputs.data());
    benchmark::DoNotOptimize(y.data());
    s[2] = thread_cpu_seconds();
    matmul(avx512::table, x.data(), in, k, *w, nullptr, y.data(), out, false, 1);
    benchmark::DoNotOptimize(y.data());
    s[3] = thread_cpu_seconds();
    matmul_products(avx512::table, x.data(), in, 1, *w, nullptr, y.data(), out, false, 1,
                    weight_residence::memory, inputs.data());
    benchmark::DoNotOptimize(y.data());
    s[4] = thread_cpu_seconds();
    for (int i = 0; i < 4; ++i) t[i] += s[i + 1] - s[i];
    state.SetIterationTime(s[1] - s[0]);
  }
  if (dot) state.counters["dot_vs_fma"] = t[1] / t[0];
  state.counters["f32_vs_fma"] = t[2] / t[0];
  state.counters["cost_vs_k1"] = t[0] / t[3];
}
BENCHMARK(BM_bf16_products_matmul)->DenseRange(1, 8)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace
UAG_TARGET_AVX512_BF16_BEGIN
namespace {
/// `iterations` × 16 independent chains of one instruction, in registers: vdpbf16ps (dot) or vfmadd (fma).
template <bool Dot>
__attribute__((noinline)) float instruction_chains(long iterations) {
  __m512 acc[16];
  for (int i = 0; i < 16; ++i) acc[i] = _mm512_set1_ps(static_cast<float>(i));
  __m512 a = _mm512_set1_ps(1.0001f), b = _mm512_set1_ps(0.999f);
  for (long k = 0; k < iterations; ++k) {
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i)
      if constexpr (Dot)
        acc[i] = _mm512_dpbf16_ps(acc[i], (__m512bh)_mm512_castps_si512(a), (__m512bh)_mm512_castps_si512(b));
      else
        acc[i] = _mm512_fmadd_ps(a, b, acc[i]);
    __asm__ volatile("" : "+v"(a));  // keeps the loop from being folded
  }
  for (int i = 1; i < 16; ++i) acc[0] = _mm512_add_ps(acc[0], acc[i]);
  float lanes[16];
  _mm512_storeu_ps(lanes, acc[0]);
  return lanes[0];
}
}  // namespace
UAG_TARGET_END
namespace {

/// The instructions' peak rates on this core, side by side (one thread, CPU time): vdpbf16ps (32
/// multiply-adds) against vfmadd231ps (16) on 512-bit registers, 16 independent chains each (beyond any
/// latency). What decides whether bfloat16 products take the instruction (cpu_prefers_bf16_dot). Time =
/// the dot loop; counters: dot_G_per_s, fma_G_per_s (instructions), dot_work_vs_fma (multiply-adds per
/// second, dot / fma: below 1, two FMAs do a pair faster).
void BM_bf16_dot_peak(benchmark::State& state) {
  using namespace uag::detail;
  if (!cpu_has_avx512_bf16()) return state.SkipWithError("no AVX512_BF16 here");
  constexpr long iterations = 1'000'000;
  double t[2] = {};
  for (auto _ : state) {
    const double a = thread_cpu_seconds();
    benchmark::DoNotOptimize(instruction_chains<true>(iterations));
    const double b = thread_cpu_seconds();
    benchmark::DoNotOptimize(instruction_chains<false>(iterations));
    const double c = thread_cpu_seconds();
    t[0] += b - a, t[1] += c - b;
    state.SetIterationTime(b - a);
  }
  const double n = 16.0 * iterations * static_cast<double>(state.iterations());
  state.counters["dot_G_per_s"] = n / t[0] / 1e9;
  state.counters["fma_G_per_s"] = n / t[1] / 1e9;
  state.counters["dot_work_vs_fma"] = (2.0 * n / t[0]) / (n / t[1]);
}
BENCHMARK(BM_bf16_dot_peak)->UseManualTime()->Unit(benchmark::kMillisecond);
#endif

/// The bf16 kernel in cache for each vector ISA: (1024 x 512) weights (1 MiB) times k rows, one thread,
/// GFLOP/s by the thread's CPU time. Shows where k rows stop being free: the FMA throughput of the ISA.
/// Args: k; the ISA's index in vector_isas().
void BM_matmul_cached_isa(benchmark::State& state) {
  const auto k = static_cast<std::size_t>(state.range(0));
  const auto isas = vector_isas();
  const auto idx = static_cast<std::size_t>(state.range(1));
  if (idx >= isas.size()) return state.SkipWithError("ISA not supported here");
  const auto& kernels = uag::detail::kernels_for(isas[idx]);
  constexpr std::size_t out = 1024, in = 512;
  std::vector<float> wf(out * in);
  for (std::size_t i = 0; i < wf.size(); ++i) wf[i] = 0.001f * static_cast<float>(i % 97);
  const uag::detail::packed_matrix<std::uint16_t> w(wf.data(), out, in);
  std::vector<float> x(k * in, 0.01f), y(k * out);
  for (auto _ : state) {
    const double a = thread_cpu_seconds();
    uag::detail::matmul(kernels, x.data(), in, k, w, nullptr, y.data(), out, false, 1,
                        uag::detail::weight_residence::cache);
    benchmark::DoNotOptimize(y.data());
    state.SetIterationTime(thread_cpu_seconds() - a);
  }
  state.SetLabel(std::string(uag::instruction_set_name(isas[idx])));
  state.counters["GFLOPs"] = benchmark::Counter(static_cast<double>(2 * out * in * k) * static_cast<double>(state.iterations()) / 1e9,
                                                benchmark::Counter::kIsRate);
}
BENCHMARK(BM_matmul_cached_isa)->ArgsProduct({{1, 8}, {0, 1}})->UseManualTime()->Unit(benchmark::kMicrosecond);

/// The kernel alone: lm_head-sized product (32000 x 512 float32 = 65.5 MB) for k rows, with all threads.
void BM_matmul(benchmark::State& state) {
  const auto& e = bench_model().weights().embed;
  static const uag::detail::packed_matrix<float> w(e.data(), 32000, 512);
  const auto k = static_cast<std::size_t>(state.range(0));
  std::vector<float> x(k * 512, 0.01f), y(k * 32000);
  for (auto _ : state) {
    uag::detail::matmul(x.data(), 512, k, w, nullptr, y.data(), 32000, false, bench_model().n_threads());
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * w.bytes()));
}
BENCHMARK(BM_matmul)->Arg(1)->Arg(8)->UseRealTime()->Unit(benchmark::kMillisecond);

#if defined(UAG_SIMD_X86)
/// Attention's key tiles per pass, side by side: the library's kernel (one 4 KiB key tile per pass)
/// against the interleaved tiling it replaced, each iteration timing both on the same data after the same
/// cache flush (a forward pass reaches each layer's KV cache after streaming the weights, so it is cold).
/// 48 heads (the bundled target's 8 layers x 6), head_dim 64, `rows` query rows at `context` positions.
/// Time = the library's kernel; counter interleaved_vs_current = interleaved time / library time.
/// Args: 0 = AVX-512, 1 = AVX2; rows; context.
void BM_attention_key_tiles(benchmark::State& state) {
  using namespace uag::detail;
  const bool avx512 = state.range(0) == 0;
  const auto rows = static_cast<std::size_t>(state.range(1)), ctx = static_cast<std::size_t>(state.range(2));
  const auto isas = uag::supported_instruction_sets();
  if (std::find(isas.begin(), isas.end(), avx512 ? uag::instruction_set::avx512 : uag::instruction_set::avx2) ==
      isas.end())
    return state.SkipWithError("instruction set not supported here");
  using attend_fn = void (*)(const attention_rows&, std::size_t, const float*, const float*, std::size_t,
                             std::size_t, float);
  const attend_fn current = avx512 ? &avx512::attend : &avx2::attend;
  const attend_fn interleaved = avx512 ? &avx512_interleaved_tiles::attend : &avx2_interleaved_tiles::attend;
  constexpr std::size_t heads = 48, hd = 64, capacity = 1536;
  std::vector<std::vector<float>> keys(heads), values(heads);
  std::vector<float> k(hd);
  for (std::size_t h = 0; h < heads; ++h) {
    keys[h].assign(key_cache_floats(capacity, hd), 0.0f);
    values[h].resize(capacity * hd);
    for (std::size_t p = 0; p < capacity; ++p) {
      for (std::size_t d = 0; d < hd; ++d) {
        k[d] = 0.01f * static_cast<float>((h * 131 + p * 31 + d * 7) % 97) - 0.5f;
        values[h][p * hd + d] = 0.02f * static_cast<float>((h * 17 + p * 13 + d * 5) % 89) - 0.9f;
      }
      store_key(keys[h].data(), p, k.data(), hd);
    }
  }
  std::vector<float> q(rows * hd), out(rows * hd), out_interleaved(rows * hd),
      scratch(rows * attention_scratch(capacity));
  for (std::size_t i = 0; i < q.size(); ++i) q[i] = 0.03f * static_cast<float>(i % 37) - 0.5f;
  std::vector<std::size_t> lo(rows, 0), hi(rows);
  for (std::size_t r = 0; r < rows; ++r) hi[r] = ctx + r;
  const attention_rows a{q.data(), hd, lo.data(), hi.data(), out.data(), hd, scratch.data(),
                         attention_scratch(capacity)};
  attention_rows b = a;
  b.out = out_interleaved.data();
  std::vector<float> flush(16u << 20);  // 64 MiB: as the weight stream between two layers' attention
  const auto run = [&](attend_fn f, const attention_rows& r) {
    for (std::size_t i = 0; i < flush.size(); i += 16) flush[i] += 1.0f;
    benchmark::ClobberMemory();
    const auto t0 = std::chrono::steady_clock::now();
    for (std::size_t h = 0; h < heads; ++h) f(r, rows, keys[h].data(), values[h].data(), hd, hd, 0.125f);
    benchmark::ClobberMemory();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  double t_current = 0.0, t_interleaved = 0.0;
  for (auto _ : state) {
    const double c = run(current, a);
    t_interleaved += run(interleaved, b);
    t_current += c;
    state.SetIterationTime(c);
  }
  if (out != out_interleaved) return state.SkipWithError("the two tilings disagree");
  state.counters["interleaved_vs_current"] = t_interleaved / t_current;
}
BENCHMARK(BM_attention_key_tiles)
    ->ArgsProduct({{0, 1}, {1, 2, 3, 4, 8}, {700}})
    ->Args({0, 1, 1400})
    ->Args({0, 2, 1400})
    ->Args({1, 1, 1400})
    ->Args({1, 2, 1400})
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);
#endif

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
