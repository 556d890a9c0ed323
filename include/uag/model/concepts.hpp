#pragma once
/// @file What a model must offer to be driven by uag. No base class: any type that satisfies
/// the concept works (a llama.cpp context wrapper, uag's reference transformer, a test double).
#include <concepts>
#include <cstddef>

#include "uag/core/logits.hpp"
#include "uag/core/types.hpp"

namespace uag {

/// @brief A causal language model with a KV cache.
///
/// - `vocab_size()`: number of logits per row (may exceed the tokenizer's vocabulary: padding).
/// - `n_cached()`: tokens currently held in the cache; the next forward continues after them.
/// - `max_context()`: the most tokens the cache can hold.
/// - `forward(ids)`: appends ids to the cache and returns one logits row per id
///    (row i predicts the token after ids[i]). requires: n_cached() + ids.size() <= max_context().
///    The view stays valid until the next forward() or truncate().
/// - `truncate(n)`: rolls the cache back to its first n tokens. requires: n <= n_cached().
template <class M>
concept causal_lm = requires(M& m, const M& cm, token_span ids, std::size_t n) {
  { cm.vocab_size() } -> std::convertible_to<std::size_t>;
  { cm.n_cached() } -> std::convertible_to<std::size_t>;
  { cm.max_context() } -> std::convertible_to<std::size_t>;
  { m.forward(ids) } -> std::convertible_to<logits_view>;
  { m.truncate(n) };
};

/// @brief Optional extension: a model that can skip the output projection for all but the last
/// `n_rows` of ids (n_rows may be 0). uag uses it for prompt prefill and draft resynchronisation.
/// returns: a view with min(n_rows, ids.size()) rows, for the last ids.
template <class M>
concept causal_lm_with_partial_logits =
    causal_lm<M> && requires(M& m, token_span ids, std::size_t n_rows) {
      { m.forward(ids, n_rows) } -> std::convertible_to<logits_view>;
    };

/// @brief Optional extension: a model whose batched rows may differ from the rows single-token passes
/// give (a GPU backend picks other kernels for other batch sizes). `batch_tolerance()` bounds that
/// difference per logit (0: bit-identical). Greedy verification then trusts a batched row only where its
/// top two logits are more than twice the bound apart, and decides closer rows with a single-token pass,
/// as target-only decoding does (AssistedGenerator::step).
template <class M>
concept causal_lm_with_batch_tolerance = causal_lm<M> && requires(const M& m) {
  { m.batch_tolerance() } -> std::convertible_to<float>;
};

/// @brief The model's batch tolerance, or 0 for a model that does not report one.
template <causal_lm M>
float batch_tolerance_of(const M& model) {
  if constexpr (causal_lm_with_batch_tolerance<M>) return static_cast<float>(model.batch_tolerance());
  else return 0.0f;
}

/// @brief Runs forward() returning only the last n_rows rows, using the model's partial path if it has one.
template <causal_lm M>
logits_view forward_last_rows(M& model, token_span ids, std::size_t n_rows) {
  if constexpr (causal_lm_with_partial_logits<M>) {
    return model.forward(ids, n_rows);
  } else {
    logits_view all = model.forward(ids);
    // A malformed result (not one row per id) goes back whole, for the caller's shape check to name:
    // its last n_rows would be rows of the wrong positions.
    if (n_rows >= all.rows || all.rows != ids.size()) return all;
    return {all.data + (all.rows - n_rows) * all.cols, n_rows, all.cols};
  }
}

}  // namespace uag
