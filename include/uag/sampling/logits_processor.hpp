#pragma once
/// @file Turns a logits row into a greedy choice or a probability distribution, identically for the
/// baseline and every assisted path (losslessness depends on it). Buffers are sized once per vocabulary.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "uag/core/error.hpp"
#include "uag/core/instruction_set.hpp"
#include "uag/core/types.hpp"
#include "uag/sampling/detail/sampling_kernels.hpp"
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
  /// requires: cfg.validate() passes. isa: the kernels of the vocabulary loops (automatic: UAG_ISA, else
  /// the best the CPU has; every choice gives the same bits). cost: allocates O(vocab) once.
  /// throws: config_error, or as resolve_instruction_set() for isa.
  logits_processor(std::size_t vocab, const sampling_config& cfg, instruction_set isa = instruction_set::automatic)
      : cfg_(cfg), scratch_(vocab), order_(vocab), k_(&detail::sampling_kernels_for(isa)) {
    cfg_.validate();
  }

  std::size_t vocab_size() const noexcept { return scratch_.size(); }
  const sampling_config& config() const noexcept { return cfg_; }
  /// @brief The vocabulary loops this processor runs (for callers that post-process its rows).
  const detail::sampling_kernels& kernels() const noexcept { return *k_; }

  /// @brief Greedy choice: argmax after the repetition penalty; ties go to the lowest id. With `allowed`,
  /// only ids i with allowed[i] != 0 compete (-1 when none does; softmax keeps the order, so this is the
  /// masked distribution's argmax without a vocabulary of exps).
  /// Throws uag::model_error for a row of the wrong width or with NaN/+inf values.
  token_id argmax(std::span<const float> logits, const token_presence* context,
                  const std::vector<std::uint8_t>* allowed = nullptr) {
    return argmax_impl(logits, context, allowed, nullptr);
  }

  /// @brief As argmax(logits, context), and writes the gap between the best logit and the next best one
  /// (after the repetition penalty; +inf for a one-id vocabulary) to margin. One more pass over the row.
  token_id argmax(std::span<const float> logits, const token_presence* context, float& margin) {
    return argmax_impl(logits, context, nullptr, &margin);
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
    int bad = 0;
    const float mx = k_->scale_max(p, n, inv_t, &bad);
    if (bad || mx <= std::numeric_limits<float>::lowest()) throw_bad_row(logits);
    if (cfg_.top_k > 0 && static_cast<std::size_t>(cfg_.top_k) < n) {
      // Keep every token whose scaled logit is >= the k-th largest (ties kept, as HF's TopK warper does).
      std::copy(p, p + n, scratch_.begin());
      auto kth = scratch_.begin() + (cfg_.top_k - 1);
      std::nth_element(scratch_.begin(), kth, scratch_.end(), std::greater<float>());
      const float threshold = *kth;
      for (std::size_t i = 0; i < n; ++i)
        if (p[i] < threshold) p[i] = -std::numeric_limits<float>::infinity();
    }
    int ignored = 0;  // the row was checked above; e^x of it is finite
    float inv = 1.0f / k_->exp_sum(p, n, mx);
    float p_max = k_->scale_max(p, n, inv, &ignored);
    if (cfg_.top_p < 1.0f) apply_top_p(p, n);
    if (cfg_.min_p > 0.0f) {
      const float cut = cfg_.min_p * p_max;
      for (std::size_t i = 0; i < n; ++i)
        if (p[i] < cut) p[i] = 0.0f;
    }
    if (cfg_.top_p < 1.0f || cfg_.min_p > 0.0f) {
      inv = 1.0f / k_->sum(p, n);
      p_max = k_->scale_max(p, n, inv, &ignored);
    }
    return p_max;
  }

  /// @brief Draws an index from the (normalised or not) non-negative weights by inverse CDF.
  /// Deterministic given the rng state; never returns an index of zero weight.
  /// cost: O(weights) vector adds (block sums), then one block scanned element by element; a serial
  /// scan of a 32k vocabulary would cost ~50 µs, as much as 3% of a decoding step.
  static token_id sample(std::span<const float> weights, rng& r) {
    const detail::sampling_kernels& k = detail::active_sampling_kernels();
    const auto block_sum = [&k](const float* b, std::size_t len) { return k.sum(b, len); };
    const float* w = weights.data();
    const std::size_t n = weights.size();
    // The CDF walks blocks by their sums (the same sums, added in the same order, as the total), then the
    // block where u falls element by element.
    double total = 0.0;
    for (std::size_t b = 0; b < n; b += sample_block) total += block_sum(w + b, std::min(sample_block, n - b));
    const double u = r.uniform() * total;
    double acc = 0.0;
    std::size_t last_block = n;  // the last block with mass, for a walk that rounding leaves unfinished
    for (std::size_t b = 0; b < n; b += sample_block) {
      const std::size_t len = std::min(sample_block, n - b);
      const double s = block_sum(w + b, len);
      if (s <= 0.0) continue;
      last_block = b;
      if (u >= acc + s) {
        acc += s;
        continue;
      }
      std::size_t last = b;
      for (std::size_t i = b; i < b + len; ++i) {
        if (w[i] <= 0.0f) continue;
        acc += w[i];
        last = i;
        if (u < acc) break;
      }
      return static_cast<token_id>(last);  // last: the block's final nonzero weight if rounding ran past it
    }
    if (last_block == n) return 0;  // no mass at all
    std::size_t last = last_block;
    for (std::size_t i = last_block; i < std::min(last_block + sample_block, n); ++i)
      if (w[i] > 0.0f) last = i;
    return static_cast<token_id>(last);
  }

 private:
  token_id argmax_impl(std::span<const float> logits, const token_presence* context,
                       const std::vector<std::uint8_t>* allowed, float* margin) {
    check_width(logits);
    std::span<const float> row = logits;
    if (context != nullptr && cfg_.repetition_penalty != 1.0f && !context->unique().empty()) {
      std::copy(logits.begin(), logits.end(), scratch_.begin());
      apply_penalty(*context);
      row = scratch_;
    }
    // Two vectorisable passes (max, then first index of the max) beat one branchy pass.
    const float* r = row.data();
    const std::size_t n = row.size();
    float best = -std::numeric_limits<float>::infinity();
    int bad = 0;
#pragma omp simd reduction(max : best) reduction(| : bad)
    for (std::size_t i = 0; i < n; ++i) {
      bad |= !(r[i] < std::numeric_limits<float>::infinity());  // NaN or +inf
      best = std::max(best, r[i]);
    }
    // OpenMP starts a max reduction at -FLT_MAX (not -inf), so "all -inf" shows as <= lowest().
    if (bad || best <= std::numeric_limits<float>::lowest()) throw_bad_row(row);
    if (allowed == nullptr) {
      const auto pick = static_cast<std::size_t>(std::find(r, r + n, best) - r);
      if (margin != nullptr) {
        float second = -std::numeric_limits<float>::infinity();
        for (std::size_t i = 0; i < pick; ++i) second = std::max(second, r[i]);
        for (std::size_t i = pick + 1; i < n; ++i) second = std::max(second, r[i]);
        *margin = best - second;
      }
      return static_cast<token_id>(pick);
    }
    token_id pick = -1;
    for (std::size_t i = 0; i < std::min(allowed->size(), n); ++i)
      if ((*allowed)[i] && (pick < 0 || r[i] > r[pick])) pick = static_cast<token_id>(i);
    return pick;
  }

  static constexpr std::size_t sample_block = 64;

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

  // Nucleus (Holtzman et al. 2020): keep the most likely tokens until their mass reaches top_p.
  // One pass buckets probabilities by their float exponent and top mantissa bits (monotone in p); the
  // bucket where the running mass crosses top_p is the only one that needs sorting. O(vocab).
  void apply_top_p(float* p, std::size_t n) {
    std::fill(bucket_mass_.begin(), bucket_mass_.end(), 0.0);
    for (std::size_t i = 0; i < n; ++i) bucket_mass_[bucket_of(p[i])] += p[i];
    double acc = 0.0;
    std::size_t edge = kBuckets - 1;
    for (; edge > 0; --edge) {
      if (acc + bucket_mass_[edge] >= cfg_.top_p) break;
      acc += bucket_mass_[edge];
    }
    std::size_t m = 0;
    for (std::size_t i = 0; i < n; ++i)
      if (bucket_of(p[i]) == edge) order_[m++] = static_cast<token_id>(i);
    std::sort(order_.begin(), order_.begin() + static_cast<std::ptrdiff_t>(m),
              [p](token_id a, token_id b) { return p[a] > p[b] || (p[a] == p[b] && a < b); });
    std::size_t keep = m;
    for (std::size_t j = 0; j < m; ++j) {
      acc += p[order_[j]];
      if (acc >= cfg_.top_p) {
        keep = j + 1;
        break;
      }
    }
    for (std::size_t j = keep; j < m; ++j) p[order_[j]] = 0.0f;
    for (std::size_t i = 0; i < n; ++i)
      if (bucket_of(p[i]) < edge) p[i] = 0.0f;
  }

  static constexpr std::size_t kBuckets = 1024;  // p in [0, 1]: bits >> 20 <= 0x3F8
  static std::size_t bucket_of(float v) noexcept {
    std::uint32_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    return std::min<std::size_t>(bits >> 20, kBuckets - 1);
  }

  sampling_config cfg_;
  std::vector<float> scratch_;    // (vocab) penalised row / top-k selection / kept nucleus values
  std::vector<token_id> order_;   // (vocab) candidate ids for the nucleus sort
  std::vector<double> bucket_mass_ = std::vector<double>(kBuckets);  // nucleus histogram
  const detail::sampling_kernels* k_ = &detail::scalar_sampling::table;  // vocabulary loops (see ctor)
};

}  // namespace uag
