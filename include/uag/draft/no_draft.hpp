#pragma once
/// @file The empty draft: proposes nothing, so the generator decodes with the target alone (the baseline).
#include "uag/generation/draft_source.hpp"

namespace uag {

/// @brief A draft_source that never proposes: target-only decoding through the same code path.
struct no_draft {
  void reset() noexcept {}
  void propose(token_span, const draft_request&, draft_proposal&) noexcept {}
};

}  // namespace uag
