#pragma once
/// @file A draft model with its own tokenizer, proposing candidates in the target's vocabulary:
/// a draft_source built from a TokenizerBridge (text re-encoding) or a vocabulary intersection (TLI).
#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "uag/bridge/tokenizer_bridge.hpp"
#include "uag/bridge/vocabulary_intersection.hpp"
#include "uag/core/error.hpp"
#include "uag/draft/draft_model_runner.hpp"
#include "uag/generation/draft_source.hpp"
#include "uag/model/concepts.hpp"
#include "uag/tokenizer/concepts.hpp"

namespace uag {

/// @brief How a bridged draft turns its tokens into target candidates.
enum class bridge_mode {
  text,  // re-encode drafted text with the target tokenizer; q unknown in target space (greedy / SLEM)
  tli,   // draft only inside the vocabulary intersection; candidates and q map 1:1 (speculative sampling)
};

/// @brief Settings of a bridged_draft.
struct bridged_draft_config {
  bridge_mode mode = bridge_mode::text;  // see bridge_mode; identical tokenizers always take the fast path
  // Text mode proposes every re-encoded token by default. Holding back the last, possibly unfinished,
  // word (hold_back_policy::last_word with extra_draft_tokens = 1, the default before session 10) costs
  // one more draft forward per step (twice the draft's work at γ = 1) and bought almost no acceptance:
  // tokens per pass within 1-3% at γ = 4 on every matrix pair, lower mainly at γ = 1 on the 151k target
  // (whose tokens are longer than the draft's), where the step still got faster (one interleaved run per
  // cell, benchmarks/results/hold_back_s10/).
  bridge_config bridge = {.hold_back = hold_back_policy::none};  // look-behind windows and hold-back
  std::size_t extra_draft_tokens = 0;    // text mode: draft this many more tokens than candidates asked
                                         // for, so that a held-back last word does not cost a candidate (0..64)
  std::size_t draft_budget_factor = 2;   // text mode: while the bridge yields fewer candidates than
                                         // asked, keep drafting, up to this many times the first
                                         // request's draft tokens (1 = never draft more; 1..16)
  draft_window window = {.max_tokens = 512, .max_catch_up = 64};  // the draft sees recent text only:
                                         // prefill and cache bounded, a long gap restarts from 64 ids
};

/// @brief draft_source over a draft model whose tokenizer differs from the target's.
///
/// - identical tokenizers (equal fingerprints): ids pass through, q is exact (like model_draft);
/// - text mode: the draft drafts greedily (its argmax is the best guess for both greedy and SLEM
///   verification); candidates are the drafted text re-encoded by the TokenizerBridge; has_q = false;
/// - tli mode: the draft samples (or takes the argmax) inside the intersection; each drafted id maps to
///   one target id and each q row maps into target space, so has_q = true when asked.
/// A draft EOS ends the draft; in tli and fast-path modes it becomes the target's EOS candidate.
template <causal_lm DraftModel, tokenizer TargetTokenizer>
  requires has_tokenizer<DraftModel>
class bridged_draft {
 public:
  using draft_tokenizer_type = std::remove_cvref_t<decltype(std::declval<const DraftModel&>().tokenizer())>;
  using bridge_type = TokenizerBridge<TargetTokenizer, draft_tokenizer_type>;

  /// requires: model and target_tokenizer outlive this object. cost: O(vocab) (TLI map; the bridge's
  /// greedy index on first use).
  bridged_draft(DraftModel& model, const TargetTokenizer& target_tokenizer, bridged_draft_config cfg = {})
      : model_(&model), target_tok_(&target_tokenizer), cfg_(validated(cfg)),
        bridge_(target_tokenizer, model.tokenizer(), cfg.bridge) {
    const std::size_t width = model.vocab_size();
    const std::size_t tok_vocab = model.tokenizer().vocab_size();
    if (cfg_.mode == bridge_mode::tli && !bridge_.same_tokenizer())
      tli_.emplace(target_tokenizer, model.tokenizer(), width);
    // Ids the draft may produce: inside its tokenizer (padding rows have no text).
    if (width > tok_vocab) {
      vocab_mask_.assign(width, 0);
      std::fill_n(vocab_mask_.begin(), static_cast<std::ptrdiff_t>(tok_vocab), 1);
    }
    if (auto e = model.tokenizer().eos_id()) stop_ids_.push_back(*e);
    bridge_.reserve(model.max_context());
    drafted_.reserve(64);
  }

  /// @brief True when the pair takes the fast path (identical tokenizers).
  bool same_tokenizer() const noexcept { return bridge_.same_tokenizer(); }
  /// @brief True when a proposal's last candidate may be open: text mode re-encodes the drafted text,
  /// which ends where the draft stopped, so the last target token may be the first piece of a longer one
  /// (the draft-length controller models it apart; see draft_length_controller).
  bool last_candidate_may_be_open() const noexcept {
    return cfg_.mode == bridge_mode::text && !same_tokenizer() && cfg_.bridge.hold_back == hold_back_policy::none;
  }
  const bridge_type& bridge() const noexcept { return bridge_; }
  /// @brief The TLI map (tli mode with different tokenizers only).
  const vocabulary_intersection* intersection() const noexcept { return tli_ ? &*tli_ : nullptr; }

  void reset() {
    bridge_.reset();
    if (runner_) runner_->reset();
  }

  /// @brief Re-encodes the prompt for the draft and runs the draft over it (skipped when it does not fit
  /// the draft's context).
  void prepare(token_span prompt, const sampling_config& sampling) {
    ensure_draft_runner(runner_, runner_cfg_, *model_, sampling, cfg_.window);
    const token_span ctx = bridge_.sync_draft(prompt);
    if (!ctx.empty() && runner_->fits(ctx.size(), 1)) runner_->prefill(ctx);
  }

  void propose(token_span committed, const draft_request& req, draft_proposal& out) {
    using clock = std::chrono::steady_clock;
    ensure_runner(req);
    const auto t0 = clock::now();
    const token_span ctx = bridge_.sync_draft(committed);
    double bridge_s = seconds_since(t0);
    const bool text_mode = !tli_ && !bridge_.same_tokenizer();
    const std::size_t want = req.max_tokens + (text_mode ? cfg_.extra_draft_tokens : 0);
    if (ctx.empty() || !runner_->fits(ctx.size(), want)) {  // the draft's context is full: no draft
      out.bridge_seconds += bridge_s;
      return;
    }
    // Drafting on past `want` (text mode) stops where the draft's context ends.
    const std::size_t room = model_->max_context() - runner_->visible(ctx.size());
    const std::size_t budget = text_mode ? std::max(want, std::min(room, want * cfg_.draft_budget_factor)) : want;
    runner_->sync(ctx);
    const std::size_t fed_before = runner_->tokens_fed();
    const std::size_t checked = runner_->rows_checked();
    const double agreed = runner_->rows_agreed();
    const std::size_t first = out.tokens.size();

    draft_options opt;
    opt.min_confidence = req.min_confidence;
    opt.min_confidence_from = req.min_confidence_from;
    opt.random = req.random;
    opt.stop_ids = stop_ids_;
    opt.check_rows = req.check_rows;  // (the first draft() call catches up; later ones feed only drafts)
    if (req.sample && req.check_rows > 0 && (tli_ || bridge_.same_tokenizer())) {
      sampled_check_points(committed, req);
      opt.check_at = check_;
    }
    drafted_.clear();
    if (bridge_.same_tokenizer()) {
      opt.sample = req.sample;
      fast_mask(req.target_vocab_size);
      opt.allowed = allowed_.empty() ? nullptr : &allowed_;
      runner_->draft(req.max_tokens, opt, out.tokens, req.want_q ? &draft_q_ : nullptr);
      if (req.want_q) {
        const auto t1 = clock::now();
        const std::size_t dv = model_->vocab_size(), tv = req.target_vocab_size, w = std::min(dv, tv);
        const std::size_t n = out.tokens.size() - first;
        grow_zeroed(out.q, first * tv, n * tv);
        for (std::size_t i = 0; i < n; ++i) std::copy_n(draft_q_.data() + i * dv, w, out.q.data() + (first + i) * tv);
        out.has_q = true;
        draft_q_.clear();
        bridge_s += seconds_since(t1);
      }
    } else if (tli_) {
      opt.sample = req.sample;
      opt.allowed = &tli_->mask();
      runner_->draft(req.max_tokens, opt, drafted_, req.want_q ? &draft_q_ : nullptr);
      const auto t1 = clock::now();
      const std::size_t dv = model_->vocab_size(), tv = req.target_vocab_size;
      for (token_id d : drafted_) out.tokens.push_back(*tli_->to_target(d));  // allowed ids all map
      if (req.want_q) {
        const std::size_t n = drafted_.size();
        grow_zeroed(out.q, first * tv, n * tv);
        for (std::size_t i = 0; i < n; ++i)
          tli_->add_row(std::span<const float>(draft_q_.data() + i * dv, dv),
                        std::span<float>(out.q.data() + (first + i) * tv, tv));
        out.has_q = true;
        draft_q_.clear();
      }
      bridge_.record_drafted(drafted_);
      bridge_s += seconds_since(t1);
    } else {
      opt.sample = false;
      opt.allowed = vocab_mask_.empty() ? nullptr : &vocab_mask_;
      // Draft until the re-encoded text yields the candidates asked for: a target whose tokens are longer
      // than the draft's (a 151k vocabulary over a 32k one) gets fewer candidates than draft tokens, and
      // a bridge that holds back the last word may get none. The budget bounds the cost of a draft that
      // keeps writing one long word.
      std::size_t n = want, spent = 0;
      for (;;) {
        drafted_.clear();
        const std::size_t asked = std::min(n, budget - spent);
        const std::size_t got = runner_->draft(asked, opt, drafted_, nullptr);
        spent += got;
        const auto t1 = clock::now();
        const bool ended = !drafted_.empty() && !stop_ids_.empty() && drafted_.back() == stop_ids_.front();
        out.tokens.resize(first);  // to_target re-encodes all the drafted text after the committed end
        bridge_.to_target(drafted_, out.tokens, ended);
        bridge_s += seconds_since(t1);
        const std::size_t have = out.tokens.size() - first;
        // A draft that stopped short of what it was asked (unsure of its next token: the confidence
        // floor) would stop at the same place again.
        if (have >= req.max_tokens || ended || got < asked || spent >= budget) break;
        n = req.max_tokens - have;
        if (have > 0) opt.min_confidence_from = 0;  // the floor counts candidates from the first call on
      }
      if (out.tokens.size() - first > req.max_tokens) out.tokens.resize(first + req.max_tokens);
    }
    out.draft_tokens += runner_->tokens_fed() - fed_before;
    out.checked_rows += runner_->rows_checked() - checked;
    out.agreed_rows += runner_->rows_agreed() - agreed;
    out.bridge_seconds += bridge_s;
  }

 private:
  static bridged_draft_config validated(const bridged_draft_config& cfg) {
    if (cfg.extra_draft_tokens > 64)
      throw config_error("config.bridged_draft.extra_draft_tokens",
                         "extra_draft_tokens must be in [0, 64], got " + std::to_string(cfg.extra_draft_tokens));
    if (cfg.draft_budget_factor == 0 || cfg.draft_budget_factor > 16)
      throw config_error("config.bridged_draft.draft_budget_factor",
                         "draft_budget_factor must be in [1, 16], got " + std::to_string(cfg.draft_budget_factor));
    return cfg;
  }

  /// Keeps v's first `keep` entries and appends `more` zeros (each written once: the rows are filled
  /// by adding into them, or copied over with zero padding left as it is).
  static void grow_zeroed(std::vector<float>& v, std::size_t keep, std::size_t more) {
    v.resize(keep);
    v.resize(keep + more);
  }
  static double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  }

  void ensure_runner(const draft_request& req) {
    ensure_draft_runner(runner_, runner_cfg_, *model_, *req.sampling, cfg_.window);
  }

  // Fast path: the draft may not propose ids the target's rows cannot hold, nor padding ids.
  void fast_mask(std::size_t target_width) {
    const std::size_t width = model_->vocab_size();
    const std::size_t limit = std::min(target_width, model_->tokenizer().vocab_size());
    if (limit >= width) {
      allowed_.clear();
      return;
    }
    if (allowed_.size() == width && allowed_limit_ == limit) return;
    allowed_.assign(width, 0);
    std::fill_n(allowed_.begin(), static_cast<std::ptrdiff_t>(limit), 1);
    allowed_limit_ = limit;
  }

  // A sampled catch-up's check (draft_options::check_at). Same tokenizer: the committed ids themselves.
  // TLI: at each of the draft context's last req.check_rows ids, the committed target token that starts
  // at the same text, if any, as the intersection's draft id for it (outside it the draft cannot propose
  // it; where several draft ids spell it, a byte-fallback twin, the lowest's q alone: a score that errs low).
  void sampled_check_points(token_span committed, const draft_request& req) {
    if (bridge_.same_tokenizer()) {
      same_vocabulary_check_points(committed, req.check_p, req.check_rows, model_->vocab_size(), check_);
      return;
    }
    starts_.resize(req.check_rows);
    bridge_.target_starts(starts_);
    check_.clear();
    const std::span<const float> p = req.check_p;
    for (const std::ptrdiff_t j : starts_) {
      const std::size_t back = j < 0 ? 0 : committed.size() - static_cast<std::size_t>(j);
      const float pj = j >= 0 && back <= p.size() ? p[p.size() - back] : 0.0f;
      if (!(pj > 0.0f)) {
        check_.push_back({});
        continue;
      }
      const token_id t = committed[static_cast<std::size_t>(j)];
      check_.push_back({tli_->to_draft(t).value_or(check_point::unreachable), pj});
    }
  }

  DraftModel* model_;
  const TargetTokenizer* target_tok_;
  bridged_draft_config cfg_;
  bridge_type bridge_;
  std::optional<vocabulary_intersection> tli_;
  std::optional<draft_model_runner<DraftModel>> runner_;
  sampling_config runner_cfg_;
  token_vector stop_ids_;                 // the draft's EOS
  std::vector<std::uint8_t> vocab_mask_;  // (draft width) ids inside the draft tokenizer, when padded
  std::vector<std::uint8_t> allowed_;     // fast path: ids the target can hold
  std::size_t allowed_limit_ = 0;
  token_vector drafted_;                  // draft ids of this step (reused)
  std::vector<float> draft_q_;            // q rows in the draft's width (reused)
  std::vector<std::ptrdiff_t> starts_;    // sampled_check_points(): target index per draft row
  std::vector<check_point> check_;        // ... and what each row is checked on
};

}  // namespace uag
