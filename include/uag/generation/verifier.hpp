#pragma once
/// @file Verification of draft candidates against the target's logits (DESIGN.md §3). Every function
/// returns how many candidates were accepted and the one token the target itself contributes, so each
/// step commits accepted + 1 tokens, all distributed exactly as target-only decoding would produce them.
#include <algorithm>
#include <cstddef>
#include <span>

#include "uag/core/logits.hpp"
#include "uag/core/types.hpp"
#include "uag/sampling/logits_processor.hpp"
#include "uag/sampling/rng.hpp"

namespace uag {

/// @brief Outcome of verifying one batch of candidates.
struct verify_result {
  std::size_t accepted = 0;  // candidates[0..accepted) are kept
  token_id next = 0;         // the target's token after them (correction or bonus)
  bool rejected = false;     // true when candidates[accepted] was rejected
  bool uncertain = false;    // greedy with a margin: row `accepted` was too close to call (next is unset)
};

namespace detail {
// Adds candidates[0..i) to the repetition-penalty context while rows are processed; undoes it after.
class candidate_context {
 public:
  candidate_context(token_presence& ctx, token_span candidates) : ctx_(ctx), cands_(candidates) {}
  void advance_to(std::size_t i) {
    while (pushed_ < i) ctx_.push(cands_[pushed_++]);
  }
  ~candidate_context() {
    while (pushed_ > 0) ctx_.pop(cands_[--pushed_]);
  }
  candidate_context(const candidate_context&) = delete;
  candidate_context& operator=(const candidate_context&) = delete;

 private:
  token_presence& ctx_;
  token_span cands_;
  std::size_t pushed_ = 0;
};
}  // namespace detail

/// @brief Greedy exact match: accept while candidate i == argmax p_i; then emit argmax at the first
/// mismatch (or after the last candidate). Identical to target-only greedy decoding.
/// requires: rows.rows == candidates.size() + 1; context = committed ids (restored on return).
/// With min_margin > 0 (rows from a batched pass that may differ from single-token rows by up to
/// min_margin / 2 per logit), a row whose best logit leads the next by min_margin or less stops
/// verification as `uncertain`: the caller decides that position with a single-token pass.
inline verify_result verify_greedy(logits_view rows, token_span candidates, logits_processor& proc,
                                   token_presence& context, float min_margin = 0.0f) {
  detail::candidate_context cc(context, candidates);
  for (std::size_t i = 0;; ++i) {
    cc.advance_to(i);
    float margin = 0.0f;
    const token_id best = min_margin > 0.0f ? proc.argmax(rows.row(i), &context, margin) : proc.argmax(rows.row(i), &context);
    if (min_margin > 0.0f && !(margin > min_margin)) return {i, best, false, true};
    if (i == candidates.size()) return {i, best, false};
    if (best != candidates[i]) return {i, best, true};
  }
}

/// @brief Sampling by exact match (SLEM): draw x_i ~ p_i; accept candidate i iff it equals x_i, else
/// emit x_i. Every emitted token is a draw from p, so the output follows the target's distribution.
/// requires: probs has vocab floats.
inline verify_result verify_exact_match(logits_view rows, token_span candidates, logits_processor& proc,
                                        token_presence& context, rng& random, std::span<float> probs) {
  detail::candidate_context cc(context, candidates);
  for (std::size_t i = 0;; ++i) {
    cc.advance_to(i);
    proc.probabilities(rows.row(i), &context, probs);
    const token_id x = logits_processor::sample(probs, random);
    if (i == candidates.size()) return {i, x, false};
    if (x != candidates[i]) return {i, x, true};
  }
}

/// @brief Speculative sampling (Leviathan et al. 2023, Alg. 1): accept candidate x_i with probability
/// min(1, p_i(x)/q_i(x)); on rejection emit a draw from norm(max(0, p_i − q_i)); after all are accepted
/// emit a bonus draw from p_m. Lossless when every x_i was drawn from q_i.
/// requires: q holds candidates.size() rows of vocab floats (the draft's distributions in target space);
/// probs and residual have vocab floats.
inline verify_result verify_speculative(logits_view rows, token_span candidates, std::span<const float> q,
                                        logits_processor& proc, token_presence& context, rng& random,
                                        std::span<float> probs, std::span<float> residual) {
  detail::candidate_context cc(context, candidates);
  const std::size_t vocab = probs.size();
  for (std::size_t i = 0;; ++i) {
    cc.advance_to(i);
    proc.probabilities(rows.row(i), &context, probs);
    if (i == candidates.size()) return {i, logits_processor::sample(probs, random), false};
    const std::span<const float> qi = q.subspan(i * vocab, vocab);
    const auto x = static_cast<std::size_t>(candidates[i]);
    const double px = probs[x], qx = qi[x];
    // u < p/q  <=>  u*q < p (avoids dividing by q = 0, where acceptance is certain).
    if (random.uniform() * qx < px) continue;
    // Only the sign of the mass matters: > 0 iff some residual is.
    const float mass = proc.kernels().residual(probs.data(), qi.data(), residual.data(), vocab);
    // p == q up to rounding: the residual is empty and p itself is the right distribution.
    const token_id y = mass > 0.0 ? logits_processor::sample(residual, random) : logits_processor::sample(probs, random);
    return {i, y, true};
  }
}

}  // namespace uag
