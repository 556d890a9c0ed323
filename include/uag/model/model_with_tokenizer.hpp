#pragma once
/// @file Pairs a model with the tokenizer it was trained with, giving the generator a target or draft.
#include <utility>

#include "uag/core/logits.hpp"
#include "uag/model/concepts.hpp"
#include "uag/tokenizer/concepts.hpp"

namespace uag {

/// @brief Owns a model and its tokenizer; forwards the causal_lm interface and adds tokenizer().
/// Engines with their own model wrapper can instead give that wrapper a tokenizer() accessor.
template <causal_lm Model, tokenizer Tokenizer>
class model_with_tokenizer {
 public:
  model_with_tokenizer(Model model, Tokenizer tok) : model_(std::move(model)), tok_(std::move(tok)) {}

  std::size_t vocab_size() const { return model_.vocab_size(); }
  std::size_t n_cached() const { return model_.n_cached(); }
  std::size_t max_context() const { return model_.max_context(); }
  logits_view forward(token_span ids) { return model_.forward(ids); }
  /// @brief Only the last n_rows rows (uses the model's partial path when it has one).
  logits_view forward(token_span ids, std::size_t n_rows) { return forward_last_rows(model_, ids, n_rows); }
  void truncate(std::size_t n) { model_.truncate(n); }

  const Tokenizer& tokenizer() const noexcept { return tok_; }
  Model& model() noexcept { return model_; }
  const Model& model() const noexcept { return model_; }

 private:
  Model model_;
  Tokenizer tok_;
};

}  // namespace uag
