#pragma once
/// @file Turns a logits row into a greedy choice or a probability distribution, identically for the
/// baseline and every assisted path (losslessness depends on it). Buffers are sized once per vocabulary.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "uag/core/error.hpp"
#include "uag/core/types.hpp"
#include "uag/sampling/rng.hpp"
#include "uag/sampling/sampling_config.hpp"

namespace uag {

/// @brief Multiset of the token ids in a context, for the repetition penalty. O(1) push/pop.
class token_presence {
 public:
  explicit token_presence(std::size_t vocab = 0) : count_(vocab, 0) {}
  void resize(std::size_t vocab) { count_.assign(vocab, 0), unique_.clear(); }
  void clear() noexcept {
    for (token_id t : unique_) count_[static_cast<std::size_t>(t)] = 0;
    unique_.clear();
  }
  /// requires: 0 <= t < vocab.
  void push(token_id t) {
    if (count_[static_cast<std::size_t>(t)]++ == 0) unique_.push_back(t);
  }
  /// Undoes the most recent push of t. requires: t was pushed last among ids not yet popped.
  void pop(token_id t) noexcept {
    if (--count_[static_cast<std::size_t>(t)] == 0) unique_.pop_back();
  }
  bool contains(token_id t) const noexcept { return count_[static_cast<std::size_t>(t)] != 0; }
  std::span<const token_id> unique() const noexcept { return unique_; }

 private:
  std::vector<std::uint32_t> count_;  // (vocab) occurrences of each id
  std::vector<token_id> unique_;      // ids with count > 0, in first-push order
};

/// @brief Applies sampling_config to logits rows. Not thread-safe (owns scratch buffers).
class logits_processor {
 public:
  logits_processor() = default;
  /// requires: cfg.validate() passes. cost: allocates O(vocab) once.
  logits_processor(std::size_t vocab, const sampling_config& cfg) : cfg_(cfg), scratch_(vocab), order_(vocab) {
    cfg_.validate();
  }

  std::size_t vocab_size() const noexcept { return scratch_.size(); }
  const sampling_config& config() const noexcept { return cfg_; }

  /// @brief Greedy choice: argmax after the repetition penalty; ties go to the lowest id.
  /// Throws uag::model_error for a row of the wrong width or with NaN/+inf values.
  token_id argmax(std::span<const float> logits, const token_presence* context) {
    check_width(logits);
    std::span<const float> row = logits;
    if (context != nullptr && cfg_.repetition_penalty != 1.0f && !context->unique().empty()) {
      std::copy(logits.begin(), logits.end(), scratch_.begin());
      apply_penalty(*context);
      row = scratch_;
    }
    float best = -std::numeric_limits<float>::infinity();
    std::size_t best_i = 0;
    bool bad = false;
    for (std::size_t i = 0; i < row.size(); ++i) {
      const float v = row[i];
      bad |= !(v < std::numeric_limits<float>::infinity());  // NaN or +inf
      if (v > best) best = v, best_i = i;
    }
    if (bad || best == -std::numeric_limits<float>::infinity()) throw_bad_row(row);
    return static_cast<token_id>(best_i);
  }

  /// @brief Writes the processed distribution p into probs (vocab floats, zeros outside the kept set).
  /// Throws uag::model_error for a row of the wrong width or with NaN/+inf values.
  /// requires: cfg.temperature > 0. returns: the largest probability.
  float probabilities(std::span<const float> logits, const token_presence* context, std::span<float> probs) {
    check_width(logits);
    const std::size_t n = logits.size();
    float* p = probs.data();
    std::copy(logits.begin(), logits.end(), p);
    if (context != nullptr && cfg_.repetition_penalty != 1.0f) apply_penalty(*context, p);
    const float inv_t = 1.0f / cfg_.temperature;
    float mx = -std::numeric_limits<float>::infinity();
    bool bad = false;
    for (std::size_t i = 0; i < n; ++i) {
      bad |= !(p[i] < std::numeric_limits<float>::infinity());
      p[i] *= inv_t;
      mx = std::max(mx, p[i]);
    }
    if (bad || mx == -std::numeric_limits<float>::infinity()) throw_bad_row(logits);
    if (cfg_.top_k > 0 && static_cast<std::size_t>(cfg_.top_k) < n) {
      // Keep every token whose scaled logit is >= the k-th largest (ties kept, as HF's TopK warper does).
      std::copy(p, p + n, scratch_.begin());
      auto kth = scratch_.begin() + (cfg_.top_k - 1);
      std::nth_element(scratch_.begin(), kth, scratch_.end(), std::greater<float>());
      const float threshold = *kth;
      for (std::size_t i = 0; i < n; ++i)
        if (p[i] < threshold) p[i] = -std::numeric_limits<float>::infinity();
    }
    double sum = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      const float e = std::exp(p[i] - mx);
      p[i] = e;
      sum += e;
    }
    float inv = static_cast<float>(1.0 / sum);
    float p_max = 0.0f;
    for (std::size_t i = 0; i < n; ++i) p_max = std::max(p_max, p[i] *= inv);
    if (cfg_.top_p < 1.0f) apply_top_p(p, n);
    if (cfg_.min_p > 0.0f) {
      const float cut = cfg_.min_p * p_max;
      for (std::size_t i = 0; i < n; ++i)
        if (p[i] < cut) p[i] = 0.0f;
    }
    if (cfg_.top_p < 1.0f || cfg_.min_p > 0.0f) {
      double s = 0.0;
      for (std::size_t i = 0; i < n; ++i) s += p[i];
      inv = static_cast<float>(1.0 / s);
      p_max = 0.0f;
      for (std::size_t i = 0; i < n; ++i) p_max = std::max(p_max, p[i] *= inv);
    }
    return p_max;
  }

  /// @brief Draws an index from the (normalised or not) non-negative weights by inverse CDF.
  /// Deterministic given the rng state; never returns an index of zero weight.
  static token_id sample(std::span<const float> weights, rng& r) {
    double total = 0.0;
    for (float w : weights) total += w;
    const double u = r.uniform() * total;
    double acc = 0.0;
    std::size_t last_nonzero = 0;
    for (std::size_t i = 0; i < weights.size(); ++i) {
      if (weights[i] <= 0.0f) continue;
      acc += weights[i];
      last_nonzero = i;
      if (u < acc) return static_cast<token_id>(i);
    }
    return static_cast<token_id>(last_nonzero);  // rounding left u at the very end
  }

 private:
  void check_width(std::span<const float> logits) const {
    if (logits.size() != scratch_.size())
      throw model_error("model.logits_shape", "logits row has " + std::to_string(logits.size()) +
                                                  " values but the vocabulary has " + std::to_string(scratch_.size()));
  }

  [[noreturn]] static void throw_bad_row(std::span<const float> row) {
    for (std::size_t i = 0; i < row.size(); ++i)
      if (std::isnan(row[i]) || row[i] == std::numeric_limits<float>::infinity())
        throw model_error("model.logits_nonfinite",
                          "logits row holds " + std::string(std::isnan(row[i]) ? "NaN" : "+inf") + " at id " +
                              std::to_string(i));
    throw model_error("model.logits_nonfinite", "every logit of the row is -inf");
  }

  // CTRL (Keskar et al. 2019) as HF applies it: divide positive logits by the penalty, multiply negative ones.
  void apply_penalty(const token_presence& context, float* row = nullptr) {
    float* r = row != nullptr ? row : scratch_.data();
    for (token_id t : context.unique()) {
      auto i = static_cast<std::size_t>(t);
      if (i >= scratch_.size()) continue;
      r[i] = r[i] > 0.0f ? r[i] / cfg_.repetition_penalty : r[i] * cfg_.repetition_penalty;
    }
  }

  // Nucleus (Holtzman et al. 2020): keep the most likely tokens until their mass reaches top_p. Only
  // tokens with p >= (1 - top_p) / n can be needed (the rest hold less than 1 - top_p together), so
  // only those are sorted.
  void apply_top_p(float* p, std::size_t n) {
    const float floor = (1.0f - cfg_.top_p) / static_cast<float>(n);
    std::size_t m = 0;
    for (std::size_t i = 0; i < n; ++i)
      if (p[i] >= floor && p[i] > 0.0f) order_[m++] = static_cast<token_id>(i);
    std::sort(order_.begin(), order_.begin() + static_cast<std::ptrdiff_t>(m), [p](token_id a, token_id b) {
      return p[a] > p[b] || (p[a] == p[b] && a < b);
    });
    double acc = 0.0;
    std::size_t keep = m;
    for (std::size_t j = 0; j < m; ++j) {
      acc += p[order_[j]];
      if (acc >= cfg_.top_p) {
        keep = j + 1;
        break;
      }
    }
    // Zero everything, then restore the kept ones (scratch_ holds their values).
    for (std::size_t j = 0; j < keep; ++j) scratch_[j] = p[order_[j]];
    std::fill(p, p + n, 0.0f);
    for (std::size_t j = 0; j < keep; ++j) p[order_[j]] = scratch_[j];
  }

  sampling_config cfg_;
  std::vector<float> scratch_;    // (vocab) penalised row / top-k selection / kept nucleus values
  std::vector<token_id> order_;   // (vocab) candidate ids for the nucleus sort
};

}  // namespace uag
