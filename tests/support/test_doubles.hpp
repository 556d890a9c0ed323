#pragma once
// Test doubles for the generator: a tiny tokenizer and a deterministic "language model" whose logits
// are a pure function of its context, so baseline and assisted runs can be compared exactly.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "uag/core/error.hpp"
#include "uag/core/logits.hpp"
#include "uag/core/types.hpp"
#include "uag/core/utf8.hpp"
#include "uag/generation/draft_source.hpp"
#include "uag/model/concepts.hpp"
#include "uag/tokenizer/concepts.hpp"

namespace uag_test {
using uag::token_id;
using uag::token_span;
using uag::token_vector;

// Vocabulary: 0 <s> (BOS), 1 </s> (EOS), then single letters, a few words, and the two bytes of "é"
// as separate tokens (so ids can end inside a UTF-8 character).
class test_tokenizer {
 public:
  explicit test_tokenizer(std::size_t n_letters = 6, bool with_bos = true) : with_bos_(with_bos) {
    pieces_ = {"", ""};
    for (std::size_t i = 0; i < n_letters; ++i) pieces_.push_back(std::string(1, static_cast<char>('a' + i)));
    for (const char* w : {" ", "ab", " the", "\n", "\xC3", "\xA9"}) pieces_.push_back(w);
  }
  uag::token_vector encode(std::string_view text, bool add_special) const {
    if (!uag::utf8::is_valid(text)) throw uag::input_error("input.utf8", "invalid UTF-8");
    token_vector out;
    if (add_special && with_bos_) out.push_back(0);
    std::size_t i = 0;
    while (i < text.size()) {  // greedy longest match
      std::size_t best_len = 0;
      token_id best = -1;
      for (std::size_t id = 2; id < pieces_.size(); ++id) {
        const auto& p = pieces_[id];
        if (p.size() > best_len && text.substr(i, p.size()) == p) best_len = p.size(), best = static_cast<token_id>(id);
      }
      if (best < 0) throw uag::input_error("input.unknown_char", "no token for input");
      out.push_back(best);
      i += best_len;
    }
    return out;
  }
  std::string decode(token_span ids, bool skip_special) const {
    std::string raw;
    for (token_id t : ids) {
      if (t < 0 || static_cast<std::size_t>(t) >= pieces_.size()) throw uag::input_error("input.token_range", "id");
      if (t < 2) {
        if (!skip_special) raw += t == 0 ? "<s>" : "</s>";
        continue;
      }
      raw += pieces_[static_cast<std::size_t>(t)];
    }
    // Invalid or incomplete sequences become U+FFFD, as HF decoders do.
    std::string out;
    std::string_view rest(raw);
    while (!rest.empty()) {
      const std::size_t ok = uag::utf8::valid_prefix_length(rest);
      out.append(rest.substr(0, ok));
      rest.remove_prefix(ok);
      if (!rest.empty()) out += "\xEF\xBF\xBD", rest.remove_prefix(1);
    }
    return out;
  }
  std::string_view token_bytes(token_id id) const { return pieces_.at(static_cast<std::size_t>(id)); }
  std::size_t vocab_size() const { return pieces_.size(); }
  std::optional<token_id> bos_id() const { return with_bos_ ? std::optional<token_id>(0) : std::nullopt; }
  std::optional<token_id> eos_id() const { return 1; }
  bool is_special(token_id id) const { return id < 2; }

 private:
  std::vector<std::string> pieces_;
  bool with_bos_;
};
static_assert(uag::tokenizer<test_tokenizer>);

inline std::uint64_t mix(std::uint64_t x) {
  x ^= x >> 33, x *= 0xff51afd7ed558ccdULL, x ^= x >> 33, x *= 0xc4ceb9fe1a85ec53ULL, x ^= x >> 33;
  return x;
}

// A causal LM whose next-token logits depend on (seed, last `order` ids). `sharpness` scales how
// peaked the distribution is; `eos_bias` makes EOS likelier.
struct test_model_config {
  std::uint64_t seed = 1;
  std::size_t order = 3;
  float sharpness = 3.0f;
  float eos_bias = -2.0f;
  std::size_t max_context = 512;
  std::size_t extra_vocab = 0;  // padding ids beyond the tokenizer (always very unlikely)
};

class test_model {
 public:
  enum class fault { none, wrong_rows, wrong_cols, nan, pos_inf };
  test_model(const test_tokenizer& tok, test_model_config cfg = {})
      : tok_(&tok), cfg_(cfg), vocab_(tok.vocab_size() + cfg.extra_vocab) {}

  std::size_t vocab_size() const { return vocab_; }
  std::size_t n_cached() const { return ids_.size(); }
  std::size_t max_context() const { return cfg_.max_context; }
  const test_tokenizer& tokenizer() const { return *tok_; }
  void set_fault(fault f) { fault_ = f; }
  std::size_t forward_calls() const { return calls_; }

  uag::logits_view forward(token_span ids) {
    if (ids_.size() + ids.size() > cfg_.max_context) throw uag::input_error("input.context", "context full");
    ++calls_;
    out_.resize(ids.size() * vocab_);
    for (std::size_t i = 0; i < ids.size(); ++i) {
      ids_.push_back(ids[i]);
      row_for(ids_, out_.data() + i * vocab_);
    }
    uag::logits_view v{out_.data(), ids.size(), vocab_};
    if (fault_ == fault::wrong_rows) v.rows += 1, out_.resize(v.rows * vocab_), v.data = out_.data();
    if (fault_ == fault::wrong_cols) v.cols -= 1;
    if (fault_ == fault::nan && !out_.empty()) out_[2] = std::numeric_limits<float>::quiet_NaN();
    if (fault_ == fault::pos_inf && !out_.empty()) out_[3] = std::numeric_limits<float>::infinity();
    return v;
  }
  void truncate(std::size_t n) {
    if (n > ids_.size()) throw uag::input_error("input.truncate", "truncate beyond cache");
    ids_.resize(n);
  }

  // The logits after `ctx` (the same function forward uses), for exact-probability tests.
  void row_for(token_span ctx, float* row) const {
    std::uint64_t h = mix(cfg_.seed);
    const std::size_t k = std::min(cfg_.order, ctx.size());
    for (std::size_t j = ctx.size() - k; j < ctx.size(); ++j) h = mix(h ^ (static_cast<std::uint64_t>(ctx[j]) + 0x9E37));
    for (std::size_t v = 0; v < vocab_; ++v) {
      const std::uint64_t r = mix(h + v * 0x632BE59BD9B4E019ULL);
      row[v] = cfg_.sharpness * static_cast<float>(static_cast<double>(r >> 11) * 0x1.0p-53);
    }
    row[0] = -1e9f;  // never BOS
    row[1] += cfg_.eos_bias;
    for (std::size_t v = tok_->vocab_size(); v < vocab_; ++v) row[v] = -30.0f;
  }

 private:
  const test_tokenizer* tok_;
  test_model_config cfg_;
  std::size_t vocab_;
  token_vector ids_;
  std::vector<float> out_;
  fault fault_ = fault::none;
  std::size_t calls_ = 0;
};
static_assert(uag::causal_lm<test_model>);
static_assert(uag::has_tokenizer<test_model>);

// A test_model whose every forward pass takes at least `pass_time` of wall time, whatever its rows, as a
// large target's memory-bound passes do: the adaptive controller, which prices lengths by measured step
// time, then finds long drafts pay on any machine and under any load.
class slow_model : public test_model {
 public:
  slow_model(const test_tokenizer& tok, test_model_config cfg, std::chrono::microseconds pass_time)
      : test_model(tok, cfg), pass_time_(pass_time) {}
  uag::logits_view forward(token_span ids) {
    const auto until = std::chrono::steady_clock::now() + pass_time_;
    const uag::logits_view v = test_model::forward(ids);
    while (std::chrono::steady_clock::now() < until) {
    }
    return v;
  }

 private:
  std::chrono::microseconds pass_time_;
};
static_assert(uag::causal_lm<slow_model>);

// A test_model with the partial-logits path (causal_lm_with_partial_logits) that counts the rows it ran
// and the rows whose logits it returned: catch-up and prefill rows must need none.
class counting_model : public test_model {
 public:
  using test_model::test_model;
  uag::logits_view forward(token_span ids) { return forward(ids, ids.size()); }
  uag::logits_view forward(token_span ids, std::size_t n_rows) {
    const std::size_t k = std::min(n_rows, ids.size());
    rows_fed_ += ids.size();
    logit_rows_ += k;
    max_cached_ = std::max(max_cached_, n_cached() + ids.size());
    uag::logits_view all = test_model::forward(ids);
    return {all.data + (all.rows - k) * all.cols, k, all.cols};
  }
  std::size_t rows_fed() const { return rows_fed_; }
  std::size_t logit_rows() const { return logit_rows_; }
  std::size_t max_cached() const { return max_cached_; }

 private:
  std::size_t rows_fed_ = 0, logit_rows_ = 0, max_cached_ = 0;
};
static_assert(uag::causal_lm_with_partial_logits<counting_model>);

// A test_model whose batched passes (more than one id) add a bounded, position- and batch-size-dependent
// error to every logit, as a GPU backend's other kernels for other batch sizes do; single-id passes are
// exact. batch_tolerance() reports the bound (0 hides it from the generator).
class batch_variant_model : public test_model {
 public:
  batch_variant_model(const test_tokenizer& tok, test_model_config cfg, float error, bool report = true)
      : test_model(tok, cfg), error_(error), report_(report) {}
  float batch_tolerance() const { return report_ ? error_ : 0.0f; }
  uag::logits_view forward(token_span ids) {
    const std::size_t first = n_cached();
    uag::logits_view v = test_model::forward(ids);
    if (ids.size() < 2) return v;
    auto* out = const_cast<float*>(v.data);  // test_model's own buffer
    for (std::size_t r = 0; r < v.rows; ++r)
      for (std::size_t c = 0; c < v.cols; ++c) {
        const std::uint64_t h = mix((first + r) * 0x9E3779B97F4A7C15ULL ^ (c << 20) ^ ids.size());
        out[r * v.cols + c] += error_ * static_cast<float>(static_cast<double>(h >> 11) * 0x1.0p-52 - 1.0);
      }
    return v;
  }

 private:
  float error_;
  bool report_;
};
static_assert(uag::causal_lm_with_batch_tolerance<batch_variant_model>);
static_assert(!uag::causal_lm_with_batch_tolerance<test_model>);

// Draft sources with controlled quality.
enum class draft_quality { oracle, wrong, random, eos_mid_draft, short_oracle };

// Proposes from a private copy of the target's greedy function: `oracle` is always right (greedy),
// `wrong` always wrong, `random` random ids, `eos_mid_draft` right but ends with EOS after 2 tokens.
class scripted_draft {
 public:
  scripted_draft(const test_model& target_twin, draft_quality q, std::uint64_t seed)
      : twin_(target_twin), quality_(q), state_(seed) {}
  void reset() {}
  void propose(token_span committed, const uag::draft_request& req, uag::draft_proposal& out) {
    token_vector ctx(committed.begin(), committed.end());
    std::vector<float> row(twin_.vocab_size());
    const std::size_t n = quality_ == draft_quality::short_oracle ? std::min<std::size_t>(1, req.max_tokens)
                                                                   : req.max_tokens;
    for (std::size_t i = 0; i < n; ++i) {
      twin_.row_for(ctx, row.data());
      auto best = static_cast<token_id>(std::max_element(row.begin(), row.end()) - row.begin());
      token_id t = best;
      if (quality_ == draft_quality::wrong) t = static_cast<token_id>(2 + (best - 2 + 1) % (static_cast<token_id>(twin_.tokenizer().vocab_size()) - 2));
      if (quality_ == draft_quality::random) t = static_cast<token_id>(mix(state_++) % twin_.tokenizer().vocab_size());
      if (quality_ == draft_quality::eos_mid_draft && i == 2) t = 1;
      out.tokens.push_back(t);
      ctx.push_back(t);
      if (t == 1) break;
    }
  }

 private:
  test_model twin_;
  draft_quality quality_;
  std::uint64_t state_;
};
static_assert(uag::draft_source<scripted_draft>);

}  // namespace uag_test
