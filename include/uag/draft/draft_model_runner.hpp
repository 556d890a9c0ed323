#pragma once
/// @file Drives a draft model: keeps its KV cache in step with a draft-vocabulary context (cropping
/// where it diverges) and drafts tokens greedily or by sampling. Shared by every model-based draft source.
#include <algorithm>
#include <cstddef>
#include <optional>
#include <span>
#include <vector>

#include "uag/core/error.hpp"
#include "uag/core/types.hpp"
#include "uag/model/concepts.hpp"
#include "uag/sampling/logits_processor.hpp"
#include "uag/sampling/rng.hpp"

namespace uag {

/// @brief A sampled catch-up check at one row (draft_options::check_at): the target's token that followed
/// the same text there, as the draft id whose probability stands for it, and the target's probability of
/// it when it was committed.
struct check_point {
  static constexpr token_id unknown = -1;      // no target token starts where this row's text ends, or
                                               // its p is unknown: the row is not checked
  static constexpr token_id unreachable = -2;  // a target token the draft cannot propose (q = 0)
  token_id id = unknown;
  float p = 0.0f;
};

/// @brief Settings for one draft() call.
struct draft_options {
  bool sample = false;                          // sample from q; false = argmax
  float min_confidence = 0.0f;                  // stop before a token whose top probability (of q) is below this
  std::size_t min_confidence_from = 0;          // ... once this many tokens are drafted (in this call)
  std::span<const token_id> stop_ids = {};      // draft ids that end the draft (e.g. EOS); kept in the output
  const std::vector<std::uint8_t>* allowed = nullptr;  // (draft vocab) 1 = may be drafted (TLI); null = all
  rng* random = nullptr;                        // required when sample
  std::size_t check_rows = 0;  // of the ids a catch-up feeds before the first drafted token, the last this
                               // many are checked against the id that follows (rows_checked(),
                               // rows_agreed()). Greedy: was it the draft's own choice (its argmax,
                               // masked as drafting is)? Sampled: see check_at.
  // Sampled: for the rows predicting the context's last ids (aligned with its end), what the target
  // committed after the same text. A row scores min(1, q(id) / p): the chance that a candidate drawn from
  // q would have been accepted there, unbiased because the committed token was a draw from p
  // (E_p[min(1, q/p)] = sum min(p, q)).
  std::span<const check_point> check_at = {};
};

/// @brief How much of the text a draft model sees (a lean draft path: DESIGN.md §1).
struct draft_window {
  std::size_t max_tokens = 0;  // the draft's cache holds at most this many ids (0 = the whole text);
                               // past it the draft restarts from the last max_tokens / 2 (amortised
                               // O(1) extra rows per token). Keeps a small draft inside the lengths it
                               // was trained on and its attention cheap at long context.
  std::size_t max_catch_up = 0;  // when more than this many ids are new (the draft sat out while the
                                 // target went on alone), restart from the last max_catch_up ids instead
                                 // of feeding them all (0 = feed them all). Only with max_tokens > 0.
};

/// @brief Keeps a causal_lm's cache equal to a context (or, with a draft_window, its recent part) and
/// drafts continuations of it.
template <causal_lm Model>
class draft_model_runner {
 public:
  /// requires: the model outlives the runner. cost: allocates O(vocab) buffers once.
  draft_model_runner(Model& model, const sampling_config& sampling, draft_window window = {})
      : model_(&model),
        vocab_(model.vocab_size()),
        window_(window),
        processor_(vocab_, sampling.greedy() ? sampling_config{.temperature = 1.0f} : sampling),
        last_logits_(vocab_),
        probs_(vocab_) {
    // Half the model's context at most: drafted ids join the window until the next restart.
    window_.max_tokens = std::min(window_.max_tokens, model.max_context() / 2);
    if (window_.max_tokens == 0) window_.max_catch_up = 0;
    window_.max_catch_up = std::min(window_.max_catch_up, window_.max_tokens / 2);
    context_.reserve(model.max_context());
  }

  /// @brief Forgets everything: empties the model's cache.
  void reset() {
    model_->truncate(0);
    context_.clear();
    base_ = 0;
    has_logits_ = false;
  }

  /// @brief True when the runner can take a context of `size` ids and draft n more.
  bool fits(std::size_t size, std::size_t n) const noexcept { return visible(size) + n <= model_->max_context(); }
  /// @brief At most how many ids of a context of `size` the model sees.
  std::size_t visible(std::size_t size) const noexcept {
    return window_.max_tokens > 0 ? std::min(size, window_.max_tokens) : size;
  }
  /// @brief Index in the full context of the first id the model sees (0 without a window).
  std::size_t window_start() const noexcept { return base_; }

  /// @brief The draft ids the cache currently represents (the last one may be pending: fed on next use).
  std::span<const token_id> context() const noexcept { return context_; }

  /// @brief Makes the model's context equal ctx: keeps the longest common prefix, truncates the cache
  /// there and feeds the rest (all but the last id, which stays pending until draft()).
  /// returns: the number of ids that differ from the previous context (0 = nothing to do).
  /// throws: uag::input_error if ctx exceeds the model's context.
  std::size_t sync(token_span ctx) { return sync_from(ctx, window_.max_catch_up); }

  /// @brief sync(ctx), then runs the model over all of it now (the first draft() starts from its logits).
  /// With a window, a fresh cache starts from the last max_tokens / 2 ids.
  void prefill(token_span ctx) {
    sync_from(ctx, window_.max_tokens / 2);
    if (!context_.empty()) ensure_logits();
  }

 private:
  // sync() with a window: `fresh` ids is where a restarted cache begins.
  std::size_t sync_from(token_span full, std::size_t fresh) {
    token_span ctx = full;
    if (window_.max_tokens > 0) {
      if (base_ > full.size()) base_ = 0, context_.clear();
      ctx = full.subspan(base_);
      const std::size_t common = static_cast<std::size_t>(
          std::mismatch(context_.begin(), context_.end(), ctx.begin(), ctx.end()).first - context_.begin());
      const bool too_long = ctx.size() > window_.max_tokens;
      const bool long_gap = fresh > 0 && ctx.size() - common > fresh && full.size() > fresh;
      if (too_long || long_gap) {
        // Drop the cache: re-running a few recent ids costs less than catching up on a long gap, and
        // a draft trained on short windows predicts better from recent text than from a long one.
        // A long gap restarts from `fresh` ids even where the text is also too long for the window: a
        // probe at a new prompt (the draft sat the prompt out) re-ran 256 ids, 5 ms or ~3.5 steps of a
        // 151k target, where 64 do (a probe's first candidate needs recent text, not the whole window).
        const std::size_t keep =
            std::max<std::size_t>(1, std::min(long_gap ? fresh : window_.max_tokens / 2, full.size()));
        base_ = full.size() - keep;
        ctx = full.subspan(base_);
        model_->truncate(0);
        context_.clear();
        has_logits_ = false;
      }
    }
    return sync_window(ctx);
  }

  std::size_t sync_window(token_span ctx) {
    if (ctx.size() > model_->max_context())
      throw input_error("draft.context", "draft context of " + std::to_string(ctx.size()) +
                                             " tokens exceeds the draft model's " +
                                             std::to_string(model_->max_context()));
    const std::size_t common = static_cast<std::size_t>(
        std::mismatch(context_.begin(), context_.end(), ctx.begin(), ctx.end()).first - context_.begin());
    const std::size_t changed = ctx.size() - common;
    if (common == context_.size() && changed == 0) return 0;
    // The cache holds at most context_.size() - 1 ids (the last is pending); keep what is still valid.
    const std::size_t keep = std::min(common, ctx.empty() ? 0 : ctx.size() - 1);
    if (model_->n_cached() > keep) model_->truncate(keep);
    context_.assign(ctx.begin(), ctx.end());
    has_logits_ = false;
    return changed;
  }

 public:
  /// @brief Drafts up to n tokens continuing context(); appends them to out (and their q rows, draft
  /// vocab, to q_rows when given). The drafted ids join context(). returns: number drafted.
  std::size_t draft(std::size_t n, const draft_options& opt, token_vector& out, std::vector<float>* q_rows) {
    if (context_.empty() || n == 0) return 0;
    std::size_t drafted = 0;
    while (drafted < n) {
      ensure_logits(drafted == 0 ? &opt : nullptr);
      std::span<float> q(probs_);
      token_id t;
      float top;
      const bool floor = opt.min_confidence > 0.0f && drafted >= opt.min_confidence_from;
      if (!opt.sample && !floor && q_rows == nullptr) {
        // Greedy with no confidence stop and no q wanted: the (masked) argmax of the logits.
        t = processor_.argmax(last_logits_, nullptr, opt.allowed);
        if (t < 0) break;  // nothing allowed: no draft
      } else {
        top = processor_.probabilities(last_logits_, nullptr, q);
        if (opt.allowed != nullptr) top = restrict_to(*opt.allowed, q);
        if (top <= 0.0f) break;  // nothing allowed: no draft
        if (floor && top < opt.min_confidence) break;
        t = opt.sample ? logits_processor::sample(q, *opt.random) : argmax_of(q);
      }
      out.push_back(t);
      if (q_rows != nullptr) q_rows->insert(q_rows->end(), q.begin(), q.end());
      context_.push_back(t);
      has_logits_ = false;
      ++drafted;
      if (std::find(opt.stop_ids.begin(), opt.stop_ids.end(), t) != opt.stop_ids.end()) break;
    }
    return drafted;
  }

  /// @brief Tokens the model has run since construction (for cost accounting).
  std::size_t tokens_fed() const noexcept { return fed_; }
  /// @brief Catch-up rows checked since construction (draft_options::check_rows), and the acceptance its
  /// first candidate would have scored on them: greedy, the rows where its own choice agreed with the
  /// text; sampled, the sum of min(1, q/p). Each checked row costs its logits (the output layer), and a
  /// sampled one a softmax too.
  std::size_t rows_checked() const noexcept { return checked_; }
  double rows_agreed() const noexcept { return agreed_; }

 private:
  // Feeds every context id not yet in the cache and keeps the last row's logits. With `check`, its
  // check_rows ids before the last get logits too, each checked against the id that follows it
  // (rows_checked(), rows_agreed()).
  void ensure_logits(const draft_options* check = nullptr) {
    if (has_logits_) return;
    const std::size_t cached = model_->n_cached();
    token_span todo(context_.data() + cached, context_.size() - cached);
    std::size_t k = todo.empty() || check == nullptr ? 0 : std::min(check->check_rows, todo.size() - 1);
    if (check != nullptr && check->sample) k = std::min(k, check->check_at.size());  // sampled: p needed
    logits_view lv = forward_last_rows(*model_, todo, k + 1);
    if (lv.rows != k + 1 || lv.cols != vocab_)
      throw model_error("model.logits_shape", "draft model returned " + std::to_string(lv.rows) + "x" +
                                                  std::to_string(lv.cols) + " logits, expected " +
                                                  std::to_string(k + 1) + "x" + std::to_string(vocab_));
    for (std::size_t j = 0; j < k; ++j)
      check_row(std::span<const float>(lv.data + j * vocab_, vocab_), todo[todo.size() - k + j], k - j,
                *check);
    std::copy(lv.data + k * vocab_, lv.data + (k + 1) * vocab_, last_logits_.begin());
    fed_ += todo.size();
    has_logits_ = true;
  }

  // Row `row` predicted `next`, the context's `back`-th id from its end.
  void check_row(std::span<const float> row, token_id next, std::size_t back, const draft_options& opt) {
    if (!opt.sample) {
      agreed_ += processor_.argmax(row, nullptr, opt.allowed) == next ? 1.0 : 0.0;
      ++checked_;
      return;
    }
    const check_point at = opt.check_at[opt.check_at.size() - back];
    if (at.id == check_point::unknown || !(at.p > 0.0f)) return;  // nothing to weigh q against
    ++checked_;
    if (at.id < 0 || static_cast<std::size_t>(at.id) >= vocab_) return;  // unreachable: q = 0
    float top = processor_.probabilities(row, nullptr, probs_);
    if (opt.allowed != nullptr) top = restrict_to(*opt.allowed, probs_);
    if (top > 0.0f)
      agreed_ += std::min(1.0, static_cast<double>(probs_[static_cast<std::size_t>(at.id)]) / at.p);
  }

  float restrict_to(const std::vector<std::uint8_t>& allowed, std::span<float> q) {
    const std::size_t n = std::min(allowed.size(), q.size());
    for (std::size_t i = 0; i < n; ++i) q[i] = allowed[i] ? q[i] : 0.0f;
    std::fill(q.begin() + static_cast<std::ptrdiff_t>(n), q.end(), 0.0f);
    // The processor's kernels: a serial double sum here cost as much as the softmax itself.
    const auto& k = processor_.kernels();
    const float s = k.sum(q.data(), q.size());
    if (!(s > 0.0f)) return 0.0f;
    int ignored = 0;
    return k.scale_max(q.data(), q.size(), 1.0f / s, &ignored);
  }

  static token_id argmax_of(std::span<const float> q) {
    return static_cast<token_id>(std::max_element(q.begin(), q.end()) - q.begin());
  }

  Model* model_;
  std::size_t vocab_;
  draft_window window_;
  std::size_t base_ = 0;            // with a window: index in the full context of context_[0]
  logits_processor processor_;      // greedy drafting still needs probabilities for the confidence stop
  token_vector context_;            // draft ids represented by the cache (+ one pending)
  std::vector<float> last_logits_;  // (vocab) logits after context_
  std::vector<float> probs_;        // (vocab) q for the next token
  bool has_logits_ = false;
  std::size_t fed_ = 0;
  std::size_t checked_ = 0;
  double agreed_ = 0.0;
};

/// @brief The sampled check points of a draft whose ids are the target's: for the last k committed ids,
/// the id itself (unreachable past the draft's width) and its p (draft_request::check_p, aligned with the
/// end of committed; unknown where it is shorter or 0).
inline void same_vocabulary_check_points(token_span committed, std::span<const float> p, std::size_t k,
                                         std::size_t draft_width, std::vector<check_point>& out) {
  out.clear();
  k = std::min(k, committed.size());
  for (std::size_t back = k; back > 0; --back) {
    const token_id id = committed[committed.size() - back];
    const float pi = back <= p.size() ? p[p.size() - back] : 0.0f;
    if (!(pi > 0.0f))
      out.push_back({});
    else
      out.push_back({static_cast<std::size_t>(id) < draft_width ? id : check_point::unreachable, pi});
  }
}

/// @brief (Re)builds `runner` over `model` when it is empty or the sampling settings that shape q have
/// changed since `built_for` (a rebuilt runner starts from an empty cache). Shared by the draft sources.
template <causal_lm Model>
void ensure_draft_runner(std::optional<draft_model_runner<Model>>& runner, sampling_config& built_for, Model& model,
                         const sampling_config& s, draft_window window = {}) {
  if (runner && built_for.temperature == s.temperature && built_for.top_k == s.top_k &&
      built_for.top_p == s.top_p && built_for.min_p == s.min_p)
    return;
  runner.emplace(model, s, window);
  built_for = s;
  runner->reset();
}

}  // namespace uag
