#pragma once
/// @file Settings of one generation: stopping, sampling, verification and draft length.
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "uag/core/error.hpp"
#include "uag/core/types.hpp"
#include "uag/sampling/sampling_config.hpp"

namespace uag {

/// @brief How the draft length γ is chosen each step.
enum class draft_length_policy {
  constant,    // always γ = num_draft_tokens
  heuristic,   // HF: +2 after a fully accepted draft, -1 otherwise, never below 1
  confidence,  // γ = max_draft_tokens, but the draft stops when its top probability < confidence_threshold
  adaptive,    // pick γ (0 = no draft) maximising expected tokens per second from α and measured step times
};

/// @brief How candidates are verified when sampling (temperature > 0). Greedy always uses exact match.
enum class sampling_verifier {
  automatic,    // speculative sampling when the draft supplies q in target space, else SLEM
  exact_match,  // SLEM: sample from p, accept a candidate iff it equals the sample
  speculative,  // Leviathan et al. 2023: accept with min(1, p/q); requires q from the draft
};

/// @brief Everything one generation needs besides the models. Validate with validate().
struct generation_config {
  std::size_t max_new_tokens = 128;      // stop after this many generated tokens; >= 1
  std::vector<token_id> eos_ids;         // extra ids that stop generation (the target tokenizer's EOS is added)
  bool stop_at_eos = true;               // stop at the target tokenizer's EOS id
  std::vector<std::string> stop_strings; // stop when the text contains one; the stop string is not emitted
  bool add_special_tokens = true;        // encode the prompt with the tokenizer's BOS/post-processor
  sampling_config sampling;              // shared by baseline and assisted paths
  sampling_verifier verifier = sampling_verifier::automatic;
  draft_length_policy draft_policy = draft_length_policy::constant;
  std::size_t num_draft_tokens = 5;      // γ for constant; starting γ for heuristic; >= 1
  std::size_t max_draft_tokens = 16;     // upper bound of γ for every policy; >= num_draft_tokens
  float confidence_threshold = 0.4f;     // draft stops below this top probability (confidence policy; HF: 0.4)
  // Greedy: how far (per logit) the target's batched verification rows may be from its single-token rows;
  // rows whose top two logits are within twice this are re-decided by a single-token pass. -1 = what the
  // target reports (causal_lm_with_batch_tolerance; 0 for a batch-invariant backend such as uag's own).
  float batch_tolerance = -1.0f;

  /// @brief Throws uag::config_error naming the first invalid field.
  void validate() const {
    sampling.validate();
    if (max_new_tokens < 1) throw config_error("config.max_new_tokens", "max_new_tokens must be >= 1");
    if (num_draft_tokens < 1)
      throw config_error("config.gamma", "num_draft_tokens (gamma) must be >= 1, got " +
                                             std::to_string(num_draft_tokens));
    if (max_draft_tokens < num_draft_tokens || max_draft_tokens > 256)
      throw config_error("config.max_gamma", "max_draft_tokens must be in [num_draft_tokens, 256], got " +
                                                 std::to_string(max_draft_tokens));
    if (!(confidence_threshold >= 0.0f && confidence_threshold < 1.0f))
      throw config_error("config.confidence", "confidence_threshold must be in [0, 1), got " +
                                                  std::to_string(confidence_threshold));
    if (!std::isfinite(batch_tolerance) || (batch_tolerance < 0.0f && batch_tolerance != -1.0f))
      throw config_error("config.batch_tolerance", "batch_tolerance must be -1 (the target's own) or a finite value >= 0, got " +
                                                       std::to_string(batch_tolerance));
    for (const auto& s : stop_strings)
      if (s.empty()) throw config_error("config.stop_string", "stop strings must not be empty");
  }
};

}  // namespace uag
