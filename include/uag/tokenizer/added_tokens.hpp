#pragma once
/// @file Added tokens (special and normal) and how HF tokenizers splits them out of the text before the
/// model sees it (AddedVocabulary::extract_and_normalize): non-normalized tokens are matched on the raw
/// text, normalized ones on the normalized text of what is left, both leftmost-longest (HF uses an
/// Aho-Corasick automaton with MatchKind::LeftmostLongest; a byte trie walked from each position finds the
/// same matches). lstrip/rstrip widen a match over neighbouring whitespace; single_word rejects matches
/// touching a word character.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "uag/core/types.hpp"
#include "uag/tokenizer/bpe.hpp"
#include "uag/tokenizer/detail/config.hpp"
#include "uag/tokenizer/detail/unicode.hpp"

namespace uag {

/// @brief One entry of tokenizer.json's "added_tokens".
struct added_token {
  token_id id = 0;
  std::string content;
  bool special = false;
  bool lstrip = false;
  bool rstrip = false;
  bool single_word = false;
  bool normalized = true;
};

/// @brief A set of literal patterns matched leftmost-longest.
class added_token_matcher {
 public:
  /// @brief Adds pattern for token index `value`; an earlier identical pattern wins.
  void add(std::string_view pattern, std::uint32_t value) {
    if (pattern.empty()) return;
    if (nodes_.empty()) nodes_.push_back({});
    std::uint32_t n = 0;
    for (char c : pattern) {
      const auto* e = edges_.find(static_cast<token_id>(n), static_cast<unsigned char>(c));
      if (!e) {
        nodes_.push_back({});
        const auto child = static_cast<std::uint32_t>(nodes_.size() - 1);
        edges_.put(static_cast<token_id>(n), static_cast<unsigned char>(c), {0, static_cast<token_id>(child)});
        n = child;
      } else {
        n = static_cast<std::uint32_t>(e->new_id);
      }
    }
    if (nodes_[n].value == none) nodes_[n].value = value;
    first_[static_cast<unsigned char>(pattern.front())] = true;
  }
  bool empty() const noexcept { return nodes_.empty(); }

  /// @brief Leftmost-longest match in s starting at or after `from`: sets begin/end/value, false if none.
  bool find(std::string_view s, std::size_t from, std::size_t& begin, std::size_t& end, std::uint32_t& value) const {
    if (nodes_.empty()) return false;
    for (std::size_t i = from; i < s.size(); ++i) {
      if (!first_[static_cast<unsigned char>(s[i])]) continue;
      std::uint32_t n = 0;
      std::size_t best_end = 0;
      std::uint32_t best = none;
      for (std::size_t j = i; j < s.size(); ++j) {
        const auto* e = edges_.find(static_cast<token_id>(n), static_cast<unsigned char>(s[j]));
        if (!e) break;
        n = static_cast<std::uint32_t>(e->new_id);
        if (nodes_[n].value != none) { best = nodes_[n].value; best_end = j + 1; }
      }
      if (best != none) {
        begin = i;
        end = best_end;
        value = best;
        return true;
      }
    }
    return false;
  }

 private:
  static constexpr std::uint32_t none = 0xFFFFFFFFu;
  struct node {
    std::uint32_t value = none;
  };
  std::vector<node> nodes_;
  detail::merge_map edges_;  // (node, byte) -> child node (in new_id)
  bool first_[256] = {};
};

/// @brief A piece of text after splitting out added tokens: either text [begin, end) or a token.
struct added_split {
  std::size_t begin, end;
  std::int64_t token;  // index into the added token list, or -1 for plain text
};

/// @brief HF AddedVocabulary::find_matches: splits sentence by the tokens of matcher (out is cleared).
inline void find_added_matches(std::string_view sentence, const added_token_matcher& matcher,
                               const std::vector<added_token>& tokens, std::vector<added_split>& out) {
  out.clear();
  if (sentence.empty()) return;
  auto ends_with_word = [&](std::size_t pos) {
    if (pos == 0) return false;
    std::size_t b = pos - 1;
    while (b > 0 && (static_cast<unsigned char>(sentence[b]) & 0xC0) == 0x80) --b;
    std::size_t len = 0;
    const char32_t c = detail::unicode::decode(sentence, b, len);
    return detail::unicode::is_alphanumeric(c) || c == '_';
  };
  auto starts_with_word = [&](std::size_t pos) {
    if (pos >= sentence.size()) return false;
    std::size_t len = 0;
    const char32_t c = detail::unicode::decode(sentence, pos, len);
    return detail::unicode::is_alphanumeric(c) || c == '_';
  };
  std::size_t start_offset = 0, search = 0, mb = 0, me = 0;
  std::uint32_t idx = 0;
  while (search < sentence.size() && matcher.find(sentence, search, mb, me, idx)) {
    search = me;  // the automaton resumes after the raw match
    const added_token& t = tokens[idx];
    std::size_t start = mb, stop = me;
    if (t.single_word) {
      const bool start_space = start == 0 || !ends_with_word(start);
      const bool stop_space = stop == sentence.size() || !starts_with_word(stop);
      if (!start_space || !stop_space) continue;
    }
    if (t.lstrip) {
      std::size_t newstart = start;
      while (newstart > 0) {
        std::size_t b = newstart - 1;
        while (b > 0 && (static_cast<unsigned char>(sentence[b]) & 0xC0) == 0x80) --b;
        std::size_t len = 0;
        if (!detail::unicode::is_whitespace(detail::unicode::decode(sentence, b, len))) break;
        newstart = b;
      }
      start = std::max(newstart, start_offset);
    }
    if (t.rstrip) {
      while (stop < sentence.size()) {
        std::size_t len = 0;
        if (!detail::unicode::is_whitespace(detail::unicode::decode(sentence, stop, len))) break;
        stop += len;
      }
    }
    if (start_offset < start) out.push_back({start_offset, start, -1});
    out.push_back({start, stop, static_cast<std::int64_t>(idx)});
    start_offset = stop;
  }
  if (start_offset < sentence.size()) out.push_back({start_offset, sentence.size(), -1});
}

/// @brief Parses tokenizer.json's "added_tokens" (ids as written; see hf_tokenizer for the ids HF assigns).
inline std::vector<added_token> parse_added_tokens(std::optional<detail::json::value> v) {
  namespace cfg = detail::cfg;
  std::vector<added_token> out;
  if (!v) return out;
  if (!v->is_array()) cfg::type_error("added_tokens", "an array", *v);
  for (std::size_t i = 0; i < v->size(); ++i) {
    const auto e = v->at(i);
    const std::string p = "added_tokens[" + std::to_string(i) + "]";
    cfg::require_object(e, p);
    added_token t;
    t.id = static_cast<token_id>(cfg::as_int(cfg::req(e, "id", p), p + ".id", 0, (1 << 24) - 1));
    t.content = std::string(cfg::req_string(e, "content", p));
    t.special = cfg::opt_bool(e, "special", p, false);
    t.lstrip = cfg::opt_bool(e, "lstrip", p, false);
    t.rstrip = cfg::opt_bool(e, "rstrip", p, false);
    t.single_word = cfg::opt_bool(e, "single_word", p, false);
    t.normalized = cfg::opt_bool(e, "normalized", p, !t.special);
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace uag
