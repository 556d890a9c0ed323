// The generator's own cost per step, model time excluded: the target returns precomputed logits rows
// and the draft proposes from a table, so what remains is verification, sampling, bookkeeping and
// text streaming. Run: build/bin/bench_generator
#include <benchmark/benchmark.h>

#include <chrono>
#include <random>
#include <string>
#include <vector>

#include "uag/draft/no_draft.hpp"
#include "uag/generation/assisted_generator.hpp"

namespace {
using uag::token_id;
using uag::token_span;

// A vocabulary of `n` short ASCII pieces; decode concatenates them.
class synthetic_tokenizer {
 public:
  explicit synthetic_tokenizer(std::size_t n) : pieces_(n) {
    for (std::size_t i = 0; i < n; ++i) pieces_[i] = " t" + std::to_string(i);
  }
  uag::token_vector encode(std::string_view, bool) const { return {1}; }
  std::string decode(token_span ids, bool) const {
    std::string s;
    for (token_id t : ids) s += pieces_[static_cast<std::size_t>(t)];
    return s;
  }
  std::string_view token_bytes(token_id id) const { return pieces_[static_cast<std::size_t>(id)]; }
  std::size_t vocab_size() const { return pieces_.size(); }
  std::optional<token_id> bos_id() const { return 1; }
  std::optional<token_id> eos_id() const { return std::nullopt; }
  bool is_special(token_id) const { return false; }

 private:
  std::vector<std::string> pieces_;
};

// Returns row (position mod 61) of a fixed random table: no compute, like an infinitely fast model.
class replay_model {
 public:
  replay_model(const synthetic_tokenizer& tok, std::size_t vocab) : tok_(&tok), vocab_(vocab), table_(kRows * vocab) {
    std::mt19937 r(1);
    std::normal_distribution<float> d(0.0f, 3.0f);
    for (auto& x : table_) x = d(r);
    out_.resize(32 * vocab);
  }
  std::size_t vocab_size() const { return vocab_; }
  std::size_t n_cached() const { return n_; }
  std::size_t max_context() const { return 1 << 20; }
  const synthetic_tokenizer& tokenizer() const { return *tok_; }
  uag::logits_view forward(token_span ids) {
    for (std::size_t i = 0; i < ids.size(); ++i) {
      const std::size_t src = (n_ + i) % kRows;
      std::copy_n(table_.begin() + static_cast<std::ptrdiff_t>(src * vocab_), vocab_,
                  out_.begin() + static_cast<std::ptrdiff_t>(i * vocab_));
    }
    n_ += ids.size();
    return {out_.data(), ids.size(), vocab_};
  }
  void truncate(std::size_t n) { n_ = n; }
  // The greedy token the model will produce at position `pos` (so the oracle draft is always right).
  token_id argmax_at(std::size_t pos) const {
    const float* row = table_.data() + (pos % kRows) * vocab_;
    return static_cast<token_id>(std::max_element(row, row + vocab_) - row);
  }
  static constexpr std::size_t kRows = 61;

 private:
  const synthetic_tokenizer* tok_;
  std::size_t vocab_;
  std::vector<float> table_;
  std::vector<float> out_;
  std::size_t n_ = 0;
};

// Proposes the target's greedy continuation (and, when asked, a one-hot-ish q).
class oracle_draft {
 public:
  explicit oracle_draft(const replay_model& m) : m_(&m) {}
  void reset() {}
  void propose(token_span committed, const uag::draft_request& req, uag::draft_proposal& out) {
    for (std::size_t i = 0; i < req.max_tokens; ++i) out.tokens.push_back(m_->argmax_at(committed.size() - 1 + i));
    if (req.want_q) {
      out.q.assign(out.tokens.size() * req.target_vocab_size, 0.0f);
      for (std::size_t i = 0; i < out.tokens.size(); ++i)
        out.q[i * req.target_vocab_size + static_cast<std::size_t>(out.tokens[i])] = 1.0f;
      out.has_q = true;
    }
  }

 private:
  const replay_model* m_;
};

template <class Draft>
void run(benchmark::State& state, bool sampling, bool use_draft) {
  const auto vocab = static_cast<std::size_t>(state.range(0));
  synthetic_tokenizer tok(vocab);
  replay_model target(tok, vocab);
  oracle_draft oracle(target);
  uag::generation_config cfg;
  cfg.max_new_tokens = 240;
  cfg.num_draft_tokens = 5;
  if (sampling) cfg.sampling.temperature = 0.7f, cfg.sampling.top_p = 0.95f;
  std::size_t steps = 0, tokens = 0;
  double seconds = 0, overhead = 0;  // decode steps only (begin() excluded)
  if (use_draft) {
    uag::AssistedGenerator<replay_model, oracle_draft> gen(target, oracle, cfg);
    for (auto _ : state) {
      gen.begin_ids(uag::token_vector{1, 2, 3});
      const auto t0 = std::chrono::steady_clock::now();
      while (!gen.done()) gen.step(), ++steps;
      seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      overhead += gen.stats().total_seconds - gen.stats().prefill_seconds - gen.stats().target_seconds -
                  gen.stats().draft_seconds - gen.stats().bridge_seconds;
      tokens += gen.stats().new_tokens;
    }
  } else {
    uag::baseline_generator<replay_model> gen(target, cfg);
    for (auto _ : state) {
      gen.begin_ids(uag::token_vector{1, 2, 3});
      const auto t0 = std::chrono::steady_clock::now();
      while (!gen.done()) gen.step(), ++steps;
      seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      overhead += gen.stats().total_seconds - gen.stats().prefill_seconds - gen.stats().target_seconds -
                  gen.stats().draft_seconds - gen.stats().bridge_seconds;
      tokens += gen.stats().new_tokens;
    }
  }
  // The generator's own time: everything but the target's forward and the draft's propose.
  state.counters["overhead_us_per_step"] = overhead * 1e6 / static_cast<double>(steps);
  state.counters["overhead_us_per_token"] = overhead * 1e6 / static_cast<double>(tokens);
  state.counters["tokens_per_step"] = static_cast<double>(tokens) / static_cast<double>(steps);
  state.SetItemsProcessed(static_cast<std::int64_t>(tokens));
}

void BM_baseline_greedy(benchmark::State& s) { run<uag::no_draft>(s, false, false); }
void BM_assisted_greedy_gamma5(benchmark::State& s) { run<oracle_draft>(s, false, true); }
void BM_baseline_sampling(benchmark::State& s) { run<uag::no_draft>(s, true, false); }
void BM_assisted_speculative_gamma5(benchmark::State& s) { run<oracle_draft>(s, true, true); }
}  // namespace

BENCHMARK(BM_baseline_greedy)->Arg(32000)->Arg(152064)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_assisted_greedy_gamma5)->Arg(32000)->Arg(152064)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_baseline_sampling)->Arg(32000)->Arg(152064)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_assisted_speculative_gamma5)->Arg(32000)->Arg(152064)->Unit(benchmark::kMicrosecond);
