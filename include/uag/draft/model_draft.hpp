#pragma once
/// @file A draft model that shares the target's tokenizer: committed target ids are its context as they
/// are (no text round trip), and its distribution q is already in target space.
#include <algorithm>
#include <optional>

#include "uag/draft/draft_model_runner.hpp"
#include "uag/generation/draft_source.hpp"
#include "uag/model/concepts.hpp"

namespace uag {

/// @brief draft_source over a same-vocabulary draft model. Vocabularies padded to different sizes are
/// fine: ids the target cannot hold are never drafted.
template <causal_lm Model>
class model_draft {
 public:
  /// requires: model outlives this object and uses the target's tokenizer. window: how much recent text
  /// the draft sees (default: all of it that fits its context).
  explicit model_draft(Model& model, draft_window window = {}) : model_(&model), window_(window) {}

  void reset() {
    if (runner_) runner_->reset();
  }

  /// @brief Runs the draft over the prompt (skipped when it does not fit the draft's context).
  void prepare(token_span prompt, const sampling_config& sampling) {
    ensure_draft_runner(runner_, runner_cfg_, *model_, sampling, window_);
    if (prompt.empty() || !runner_->fits(prompt.size(), 0)) return;
    runner_->prefill(prompt);
  }

  void propose(token_span committed, const draft_request& req, draft_proposal& out) {
    // Drafting n ids needs committed.size() + n - 1 of them in the draft's cache: a draft model with a
    // shorter context than the target drafts less, then nothing (the target goes on alone).
    ensure_runner(req);
    const std::size_t size = runner_->visible(committed.size());
    const std::size_t cap = model_->max_context() + 1;
    if (size >= cap) return;
    const std::size_t n = std::min(req.max_tokens, cap - size);
    runner_->sync(committed);
    draft_options opt;
    opt.sample = req.sample;
    opt.min_confidence = req.min_confidence;
    opt.min_confidence_from = req.min_confidence_from;
    opt.random = req.random;
    opt.allowed = allowed_.empty() ? nullptr : &allowed_;
    opt.check_rows = req.check_rows;
    if (req.sample && req.check_rows > 0) {  // the draft's ids are the target's
      same_vocabulary_check_points(committed, req.check_p, req.check_rows, model_->vocab_size(), check_);
      opt.check_at = check_;
    }
    const std::size_t before = runner_->tokens_fed();
    const std::size_t checked = runner_->rows_checked();
    const double agreed = runner_->rows_agreed();
    runner_->draft(n, opt, out.tokens, req.want_q ? &draft_q_ : nullptr);
    if (req.want_q) {
      // Re-lay q rows from the draft's width to the target's (padding ids carry no mass).
      const std::size_t dv = model_->vocab_size(), tv = req.target_vocab_size, w = std::min(dv, tv);
      out.q.assign(out.tokens.size() * tv, 0.0f);
      for (std::size_t i = 0; i < out.tokens.size(); ++i)
        std::copy_n(draft_q_.begin() + static_cast<std::ptrdiff_t>(i * dv), w,
                    out.q.begin() + static_cast<std::ptrdiff_t>(i * tv));
      out.has_q = true;
      draft_q_.clear();
    }
    out.draft_tokens += runner_->tokens_fed() - before;
    out.checked_rows += runner_->rows_checked() - checked;
    out.agreed_rows += runner_->rows_agreed() - agreed;
  }

 private:
  void ensure_runner(const draft_request& req) {
    ensure_draft_runner(runner_, runner_cfg_, *model_, *req.sampling, window_);
    if (model_->vocab_size() > req.target_vocab_size && allowed_.empty()) {
      allowed_.assign(model_->vocab_size(), 0);
      std::fill_n(allowed_.begin(), static_cast<std::ptrdiff_t>(req.target_vocab_size), 1);
    }
  }

  Model* model_;
  draft_window window_;
  std::optional<draft_model_runner<Model>> runner_;
  sampling_config runner_cfg_;
  std::vector<std::uint8_t> allowed_;  // (draft vocab) ids the target can hold, when the draft's is wider
  std::vector<check_point> check_;     // a sampled catch-up's check (draft_options::check_at)
  std::vector<float> draft_q_;         // q rows in the draft's width
};

}  // namespace uag
