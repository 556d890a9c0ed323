#pragma once
/// @file The seam between the generator and whatever proposes candidate tokens: a draft model with
/// the target's tokenizer, a draft model behind a TokenizerBridge, or a model-free n-gram lookup.
#include <concepts>
#include <cstddef>
#include <span>
#include <vector>

#include "uag/core/types.hpp"
#include "uag/sampling/rng.hpp"
#include "uag/sampling/sampling_config.hpp"

namespace uag {

/// @brief What the generator asks of a draft source for one step.
struct draft_request {
  std::size_t max_tokens = 1;             // propose at most this many target tokens (>= 1)
  float min_confidence = 0.0f;            // stop drafting once the draft's top probability < this; 0 = never
  std::size_t min_confidence_from = 0;    // candidates drafted before min_confidence applies
  bool sample = false;                    // draw from q instead of taking the argmax (speculative sampling)
  bool want_q = false;                    // fill draft_proposal::q (target-space draft distributions)
  std::size_t target_vocab_size = 0;      // width of each q row
  const sampling_config* sampling = nullptr;  // processors the draft applies to form q (never null)
  rng* random = nullptr;                  // the generator's stream, for sampled drafting (never null)
  std::size_t check_rows = 0;             // a draft model catching up on text committed without it: check
                                          // its first candidate on the last this many ids
                                          // (draft_options::check_rows)
  std::span<const float> check_p = {};    // sample: the target's probability of each committed id, aligned
                                          // with the end of committed (0 = unknown): what a sampled check
                                          // weighs the draft's q against (draft_options::check_at)
};

/// @brief What a draft source returns. Buffers are reused between steps: clear(), then fill.
struct draft_proposal {
  token_vector tokens;            // candidate *target* ids, in order
  std::vector<float> q;           // if has_q: tokens.size() rows × target_vocab_size, row i = q(· | prefix + tokens[0..i))
  bool has_q = false;             // true when q is exact in target space (same vocab, or TLI)
  std::size_t draft_tokens = 0;   // tokens the draft model decoded for this proposal (for the cost ratio c)
  double bridge_seconds = 0.0;    // part of the propose() wall time spent translating between vocabularies
  std::size_t checked_rows = 0;   // draft_request::check_rows: ids checked, and the acceptance the draft's
  double agreed_rows = 0.0;       // first candidate would have scored on them (greedy: rows where its own
                                  // choice agreed; in the draft's tokens; 0 when it did not catch up)

  void clear() noexcept {
    tokens.clear();
    q.clear();
    has_q = false;
    draft_tokens = 0;
    bridge_seconds = 0.0;
    checked_rows = 0;
    agreed_rows = 0.0;
  }
};

/// @brief A source of candidate tokens.
///
/// - `reset()`: forget all state; called when the generator begins a new prompt.
/// - `propose(committed, request, out)`: committed is every target id committed so far (prompt and
///    output). The source may keep state between calls and look only at ids it has not seen yet;
///    committed only ever grows between reset() calls, but ids after the previous call's proposal may
///    differ from what was proposed (rejections). Appends at most request.max_tokens ids to out.tokens
///    (may append none). Must not throw for ordinary inputs.
template <class D>
concept draft_source = requires(D& d, token_span committed, const draft_request& request, draft_proposal& out) {
  { d.reset() };
  { d.propose(committed, request, out) };
};

/// @brief Optional extension: `prepare(committed, sampling)` ingests the committed ids in one pass
/// before the first proposal of a generation (after reset()), so that no drafting step pays for the
/// prompt. The generator calls it at its first drafting step, after the first token was streamed
/// (committed = prompt + that token), and counts it as draft_prefill_seconds.
/// Must not throw for ordinary inputs; a source that cannot take the prompt skips it (propose() syncs).
template <class D>
concept draft_source_with_prepare =
    draft_source<D> && requires(D& d, token_span prompt, const sampling_config& sampling) {
      { d.prepare(prompt, sampling) };
    };

}  // namespace uag
