#pragma once
/// @file Chooses how many tokens to draft each step (γ).
#include <algorithm>
#include <cmath>
#include <cstddef>

#include "uag/generation/generation_config.hpp"

namespace uag {

/// @brief Expected speedup of one speculative step (Leviathan et al. 2023, Thm 3.8):
/// (1 − α^(γ+1)) / ((1 − α)(γc + 1)), with α the per-token acceptance and c the draft/target cost ratio.
inline double expected_speedup(double alpha, double c, std::size_t gamma) noexcept {
  alpha = std::clamp(alpha, 0.0, 0.999999);
  const double g = static_cast<double>(gamma);
  return (1.0 - std::pow(alpha, g + 1.0)) / ((1.0 - alpha) * (g * c + 1.0));
}

/// @brief Expected committed tokens per target pass: (1 − α^(γ+1)) / (1 − α).
inline double expected_tokens_per_pass(double alpha, std::size_t gamma) noexcept {
  alpha = std::clamp(alpha, 0.0, 0.999999);
  return (1.0 - std::pow(alpha, static_cast<double>(gamma) + 1.0)) / (1.0 - alpha);
}

/// @brief Draft-length controller for every draft_length_policy. O(max γ) per step, no allocation.
class draft_length_controller {
 public:
  draft_length_controller() = default;
  explicit draft_length_controller(const generation_config& cfg)
      : policy_(cfg.draft_policy),
        gamma_(cfg.draft_policy == draft_length_policy::confidence ? cfg.max_draft_tokens : cfg.num_draft_tokens),
        max_(cfg.max_draft_tokens),
        confidence_(cfg.confidence_threshold) {}

  /// @brief γ for the next step (>= 1).
  std::size_t next() const noexcept { return gamma_; }
  /// @brief Confidence floor to pass to the draft (0 unless the confidence policy is active).
  float min_confidence() const noexcept { return policy_ == draft_length_policy::confidence ? confidence_ : 0.0f; }

  /// @brief Feeds back one step: `proposed` candidates, `accepted` of them, whether the step ended on a
  /// rejection, and the measured draft time per candidate and target time per pass (seconds).
  void update(std::size_t proposed, std::size_t accepted, bool rejected, double draft_s_per_token,
              double target_s_per_pass) noexcept {
    switch (policy_) {
      case draft_length_policy::constant:
      case draft_length_policy::confidence: break;
      case draft_length_policy::heuristic:
        // HF's num_assistant_tokens schedule.
        if (proposed > 0 && accepted == proposed) gamma_ = std::min(max_, gamma_ + 2);
        else if (proposed > 0) gamma_ = std::max<std::size_t>(1, gamma_ - 1);
        break;
      case draft_length_policy::adaptive: adapt(proposed, accepted, rejected, draft_s_per_token, target_s_per_pass); break;
    }
  }

  /// @brief Current estimates (adaptive policy): acceptance α and cost ratio c.
  double alpha() const noexcept { return accepted_ / std::max(1e-9, accepted_ + rejections_); }
  double cost_ratio() const noexcept { return c_; }

 private:
  void adapt(std::size_t proposed, std::size_t accepted, bool rejected, double d, double t) noexcept {
    // Exponentially weighted MLE of a geometric acceptance: α = accepted / (accepted + rejections).
    // Steps that ran out of candidates without a rejection are censored: they add accepts only.
    constexpr double decay = 0.9;
    accepted_ = decay * accepted_ + static_cast<double>(accepted);
    rejections_ = decay * rejections_ + (rejected ? 1.0 : 0.0);
    if (proposed > 0 && t > 0.0 && d >= 0.0) c_ = has_c_ ? 0.8 * c_ + 0.2 * (d / t) : d / t, has_c_ = true;
    const double a = alpha();
    std::size_t best = 1;
    double best_v = 0.0;
    for (std::size_t g = 1; g <= max_; ++g) {
      const double v = expected_speedup(a, c_, g);
      if (v > best_v * 1.0001) best_v = v, best = g;  // prefer the shorter draft on near-ties
    }
    gamma_ = best;
  }

  draft_length_policy policy_ = draft_length_policy::constant;
  std::size_t gamma_ = 5;
  std::size_t max_ = 16;
  float confidence_ = 0.0f;
  double accepted_ = 1.0, rejections_ = 1.0;  // prior α = 0.5
  double c_ = 0.05;
  bool has_c_ = false;
};

}  // namespace uag
