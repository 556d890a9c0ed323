#pragma once
/// @file Prompt lookup decoding (Saxena 2023): draft by copying what followed the most recent earlier
/// occurrence of the context's last n-gram. No model; strong on code edits, summaries and repetition.
#include <algorithm>
#include <cstddef>

#include "uag/core/error.hpp"
#include "uag/generation/draft_source.hpp"

namespace uag {

/// @brief Settings of prompt_lookup_draft.
struct prompt_lookup_config {
  std::size_t max_ngram = 3;  // longest suffix n-gram to match first; >= min_ngram
  std::size_t min_ngram = 1;  // shortest n-gram tried before giving up; >= 1
  std::size_t window = 4096;  // search only the last `window` ids, so cost does not grow with context
};

/// @brief draft_source that proposes tokens from earlier in the context. O(window · max_ngram) per step.
class prompt_lookup_draft {
 public:
  explicit prompt_lookup_draft(prompt_lookup_config cfg = {}) : cfg_(cfg) {
    if (cfg_.min_ngram < 1 || cfg_.max_ngram < cfg_.min_ngram)
      throw config_error("config.ngram", "prompt lookup needs 1 <= min_ngram <= max_ngram");
  }

  void reset() noexcept {}

  void propose(token_span ctx, const draft_request& req, draft_proposal& out) const {
    const std::size_t n_ctx = ctx.size();
    const std::size_t lo = n_ctx > cfg_.window ? n_ctx - cfg_.window : 0;
    for (std::size_t n = std::min(cfg_.max_ngram, n_ctx - std::min(n_ctx, std::size_t{1})); n >= cfg_.min_ngram; --n) {
      const token_span tail = ctx.subspan(n_ctx - n);
      // Most recent earlier occurrence first: recent text predicts best.
      for (std::size_t start = n_ctx - n; start-- > lo;) {
        if (!std::equal(tail.begin(), tail.end(), ctx.begin() + static_cast<std::ptrdiff_t>(start))) continue;
        const std::size_t from = start + n;
        const std::size_t take = std::min(req.max_tokens, n_ctx - from);
        out.tokens.insert(out.tokens.end(), ctx.begin() + static_cast<std::ptrdiff_t>(from),
                          ctx.begin() + static_cast<std::ptrdiff_t>(from + take));
        return;
      }
      if (n == 1) break;
    }
  }

 private:
  prompt_lookup_config cfg_;
};

}  // namespace uag
