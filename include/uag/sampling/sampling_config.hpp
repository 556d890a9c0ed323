#pragma once
/// @file Sampling settings shared by the baseline and the assisted path (so both process logits identically).
#include <cmath>
#include <cstdint>
#include <string>

#include "uag/core/error.hpp"

namespace uag {

/// @brief How a logits row becomes a token. Processors run in HF's order:
/// repetition penalty → temperature → top-k → top-p → min-p.
struct sampling_config {
  float temperature = 0.0f;        // 0 = greedy (argmax after the repetition penalty); must be >= 0
  int top_k = 0;                   // keep the k most likely tokens; 0 = off; must be >= 0
  float top_p = 1.0f;              // nucleus: smallest set with mass >= top_p; in (0, 1]; 1 = off
  float min_p = 0.0f;              // drop tokens with p < min_p * p_max; in [0, 1); 0 = off
  float repetition_penalty = 1.0f; // CTRL penalty on tokens already in the context; > 0; 1 = off
  std::uint64_t seed = 0;          // seed of the generator's random stream

  bool greedy() const noexcept { return temperature == 0.0f; }

  /// @brief Throws uag::config_error naming the first invalid field.
  void validate() const {
    auto fail = [](const char* id, const std::string& what) { throw config_error(id, what); };
    if (!(temperature >= 0.0f) || !std::isfinite(temperature))
      fail("config.temperature", "temperature must be a finite value >= 0, got " + std::to_string(temperature));
    if (top_k < 0) fail("config.top_k", "top_k must be >= 0, got " + std::to_string(top_k));
    if (!(top_p > 0.0f && top_p <= 1.0f))
      fail("config.top_p", "top_p must be in (0, 1], got " + std::to_string(top_p));
    if (!(min_p >= 0.0f && min_p < 1.0f))
      fail("config.min_p", "min_p must be in [0, 1), got " + std::to_string(min_p));
    if (!(repetition_penalty > 0.0f) || !std::isfinite(repetition_penalty))
      fail("config.repetition_penalty",
           "repetition_penalty must be a finite value > 0, got " + std::to_string(repetition_penalty));
  }
};

}  // namespace uag
