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
  /// rejection, the measured draft time per candidate and target time of the pass, and the whole step's
  /// wall time (seconds; 0 = unknown).
  void update(std::size_t proposed, std::size_t accepted, bool rejected, double draft_s_per_token,
              double target_s_per_pass, double step_s = 0.0) noexcept {
    switch (policy_) {
      case draft_length_policy::constant:
      case draft_length_policy::confidence: break;
      case draft_length_policy::heuristic:
        // HF's num_assistant_tokens schedule.
        if (proposed > 0 && accepted == proposed) gamma_ = std::min(max_, gamma_ + 2);
        else if (proposed > 0) gamma_ = std::max<std::size_t>(1, gamma_ - 1);
        break;
      case draft_length_policy::adaptive:
        adapt(proposed, accepted, rejected, draft_s_per_token, target_s_per_pass, step_s);
        break;
    }
  }

  /// @brief Current estimates (adaptive policy): acceptance α and cost ratio c.
  double alpha() const noexcept { return accepted_ / std::max(1e-9, accepted_ + rejections_); }
  double cost_ratio() const noexcept { return c_; }

 private:
  static constexpr std::size_t kMaxGamma = 64;

  void adapt(std::size_t proposed, std::size_t accepted, bool rejected, double d, double t, double step_s) noexcept {
    // Exponentially weighted MLE of a geometric acceptance: α = accepted / (accepted + rejections).
    // Steps that ran out of candidates without a rejection are censored: they add accepts only.
    constexpr double decay = 0.9;
    accepted_ = decay * accepted_ + static_cast<double>(accepted);
    rejections_ = decay * rejections_ + (rejected ? 1.0 : 0.0);
    if (proposed > 0 && t > 0.0 && d >= 0.0) c_ = has_c_ ? 0.8 * c_ + 0.2 * (d / t) : d / t, has_c_ = true;
    // Leviathan's bound assumes a target pass costs the same for any number of rows; on a CPU it does
    // not (verifying k rows is compute-bound past a few rows). So the measured wall time of a step is
    // kept per draft length, and γ maximises expected tokens per second of step time.
    if (step_s > 0.0 && proposed < kMaxGamma) {
      double& e = step_time_[proposed];
      e = e > 0.0 ? 0.7 * e + 0.3 * step_s : step_s;
    }
    const double a = alpha();
    std::size_t measured = 0;
    for (std::size_t g = 0; g <= max_ && g < kMaxGamma; ++g) measured += step_time_[g] > 0.0;
    std::size_t best = 1;
    double best_v = 0.0;
    if (measured < 2) {  // too little timing: fall back to the constant-cost bound
      for (std::size_t g = 1; g <= max_; ++g) {
        const double v = expected_speedup(a, c_, g);
        if (v > best_v * 1.0001) best_v = v, best = g;  // prefer the shorter draft on near-ties
      }
      gamma_ = best;
      return;
    }
    // Least-squares line through the measured (γ, step time) points predicts unmeasured lengths; a
    // measured length uses its own average. Explore at most one beyond the longest measured length.
    double sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
    std::size_t longest = 0;
    for (std::size_t g = 0; g <= max_ && g < kMaxGamma; ++g) {
      if (step_time_[g] <= 0.0) continue;
      const double x = static_cast<double>(g), y = step_time_[g];
      sw += 1, sx += x, sy += y, sxx += x * x, sxy += x * y;
      longest = g;
    }
    const double den = sw * sxx - sx * sx;
    const double slope = den > 0 ? std::max(0.0, (sw * sxy - sx * sy) / den) : 0.0;
    const double icpt = (sy - slope * sx) / sw;
    for (std::size_t g = 1; g <= std::min(max_, longest + 1) && g < kMaxGamma; ++g) {
      const double time = step_time_[g] > 0.0 ? step_time_[g] : std::max(1e-9, icpt + slope * static_cast<double>(g));
      const double v = expected_tokens_per_pass(a, g) / time;
      if (v > best_v * 1.0001) best_v = v, best = g;
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
  double step_time_[kMaxGamma] = {};  // [k] = EWMA of the wall time of steps that proposed k candidates
};

}  // namespace uag
