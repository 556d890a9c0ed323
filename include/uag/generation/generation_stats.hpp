#pragma once
/// @file Counters and a time split for one generation.
#include <cstddef>
#include <vector>

namespace uag {

/// @brief Why a generation ended.
enum class stop_reason { none, max_new_tokens, eos, stop_string, context_full };

inline const char* to_string(stop_reason r) noexcept {
  switch (r) {
    case stop_reason::none: return "none";
    case stop_reason::max_new_tokens: return "max_new_tokens";
    case stop_reason::eos: return "eos";
    case stop_reason::stop_string: return "stop_string";
    case stop_reason::context_full: return "context_full";
  }
  return "?";
}

/// @brief One step as the generator ran it (AssistedGenerator::on_step), for per-step diagnostics: what
/// the controller asked for, what came of it, and where the step's time went. Times in seconds.
struct step_record {
  std::size_t index = 0;       // step number within the generation (0 = the first, prefill-decided one)
  std::size_t asked = 0;       // candidates the step asked the draft for (0: a target-only step)
  std::size_t proposed = 0;    // candidates the draft returned
  std::size_t accepted = 0;    // of them accepted
  std::size_t committed = 0;   // tokens committed (accepted + the target's own next token, unless stopped)
  std::size_t next_gamma = 0;  // what the controller asks for next
  bool rejected = false;       // the step ended on a rejected candidate
  bool draft_caught_up = false;  // the draft first ingested what was committed while it did not run (the
                                 // prompt, or the tokens of the target-only steps just before)
  bool last_open = false;        // the controller takes a step's last candidate as possibly open (a text
                                 // bridge: draft_length_controller::set_last_candidate_open)
  std::size_t checked_rows = 0;  // catch-up ids whose next id the draft's first candidate was checked on
  double agreed_rows = 0.0;      // ... and the acceptance it scored there (greedy: rows where the draft's
                                 // choice agreed; draft_length_controller::note_catch_up_agreement)
  double draft_seconds = 0, target_seconds = 0, step_seconds = 0;  // draft includes its bridge; target
                                                                   // includes a recheck pass
};

/// @brief What happened during one generation. Times in seconds.
struct generation_stats {
  std::size_t prompt_tokens = 0;
  std::size_t new_tokens = 0;          // tokens committed after the prompt
  std::size_t target_passes = 0;       // target forward calls after the prefill
  std::size_t rechecked_rows = 0;      // batched rows too close to call, re-decided by a single-token pass
                                       // (batch_tolerance > 0; each is one of target_passes)
  std::size_t drafted = 0;             // candidate target tokens proposed
  std::size_t accepted = 0;            // candidates accepted
  std::size_t draft_model_tokens = 0;  // tokens the draft model decoded
  std::size_t rejections = 0;          // steps that ended on a rejected candidate
  std::vector<std::size_t> accepted_histogram;         // [j] = steps that accepted exactly j candidates
  std::vector<std::size_t> accepted_at_position;       // [i] = times candidate i was accepted
  std::vector<std::size_t> drafted_at_position;        // [i] = times candidate i was proposed
  // draft_seconds excludes bridge_seconds; prefill_seconds (the target's, in begin()) and
  // draft_prefill_seconds (the draft's, at the first drafting step, after the first token) are part of
  // total_seconds only.
  double prefill_seconds = 0, draft_prefill_seconds = 0, draft_seconds = 0, bridge_seconds = 0,
         target_seconds = 0, verify_seconds = 0, total_seconds = 0;
  stop_reason reason = stop_reason::none;

  /// @brief Share of proposed candidates that were accepted (0 when nothing was drafted).
  double acceptance_rate() const noexcept { return drafted ? double(accepted) / double(drafted) : 0.0; }
  /// @brief Mean committed tokens per target pass.
  double tokens_per_pass() const noexcept { return target_passes ? double(new_tokens) / double(target_passes) : 0.0; }
  /// @brief Decode time (everything after the prefill) not spent in draft, bridge, target or verification.
  double other_seconds() const noexcept {
    const double o = decode_seconds() - draft_seconds - bridge_seconds - target_seconds - verify_seconds;
    return o > 0 ? o : 0.0;
  }
  /// @brief Wall time after the prefills (the target's and the draft's).
  double decode_seconds() const noexcept {
    const double t = total_seconds - prefill_seconds - draft_prefill_seconds;
    return t > 0 ? t : 0.0;
  }
  /// @brief Generated tokens per second of decode time (prefills excluded).
  double tokens_per_second() const noexcept {
    const double t = decode_seconds();
    return t > 0 ? double(new_tokens) / t : 0.0;
  }
};

}  // namespace uag
