#pragma once
/// @file What a tokenizer must offer to be used by uag.
#include <concepts>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "uag/core/types.hpp"

namespace uag {

/// @brief A text tokenizer.
///
/// - `encode(text, add_special_tokens)`: ids for text; with add_special_tokens the tokenizer's
///    post-processor adds BOS/EOS as its configuration says. Throws uag::input_error on invalid UTF-8.
/// - `decode(ids, skip_special_tokens)`: the text of ids (invalid UTF-8 bytes become U+FFFD, as HF does).
/// - `token_bytes(id)`: the raw bytes this token stands for in running text (space markers mapped to
///    ' ', byte tokens to their byte), without decoder clean-ups such as stripping a leading space.
///    May be an incomplete UTF-8 sequence. Empty for special tokens.
/// - `vocab_size()`: number of ids (including added tokens).
/// - `bos_id()` / `eos_id()`: special ids, if any.
/// - `is_special(id)`: true for special (control) tokens.
template <class T>
concept tokenizer = requires(const T& t, std::string_view text, token_span ids, token_id id, bool flag) {
  { t.encode(text, flag) } -> std::convertible_to<token_vector>;
  { t.decode(ids, flag) } -> std::convertible_to<std::string>;
  { t.token_bytes(id) } -> std::convertible_to<std::string_view>;
  { t.vocab_size() } -> std::convertible_to<std::size_t>;
  { t.bos_id() } -> std::convertible_to<std::optional<token_id>>;
  { t.eos_id() } -> std::convertible_to<std::optional<token_id>>;
  { t.is_special(id) } -> std::convertible_to<bool>;
};

/// @brief A model that carries its own tokenizer: what AssistedGenerator needs as a target or draft.
/// - `tokenizer()`: the tokenizer whose ids the model consumes.
template <class M>
concept has_tokenizer = requires(const M& m) {
  { m.tokenizer() };
  requires tokenizer<std::remove_cvref_t<decltype(m.tokenizer())>>;
};

}  // namespace uag
