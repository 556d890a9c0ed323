#pragma once
/// @file Turns committed output ids into streamed text: only complete UTF-8, spacing as in the full
/// decode (a few prompt tokens serve as left context, so SentencePiece's leading '▁' is kept), and
/// stop strings matched across token boundaries and never emitted.
#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "uag/core/types.hpp"
#include "uag/core/utf8.hpp"
#include "uag/tokenizer/concepts.hpp"

namespace uag {

/// @brief Incremental text of a growing id sequence, with stop strings.
template <tokenizer Tok>
class text_stream {
 public:
  /// requires: tok outlives the stream.
  text_stream(const Tok& tok, std::vector<std::string> stop_strings)
      : tok_(&tok), stops_(std::move(stop_strings)) {
    for (const auto& s : stops_) max_stop_ = std::max(max_stop_, s.size());
  }

  /// @brief Starts after a prompt; its last few ids give the decoder left context.
  void begin(token_span prompt) {
    constexpr std::size_t context_tokens = 4;
    const std::size_t start = prompt.size() > context_tokens ? prompt.size() - context_tokens : 0;
    ids_.assign(prompt.begin() + static_cast<std::ptrdiff_t>(start), prompt.end());
    prefix_ = 0;
    read_ = ids_.size();
    pending_.clear();
    stopped_ = false;
  }

  /// @brief Adds one id. Appends the text now safe to show to out.
  /// returns: true when a stop string was completed (text before it has been appended; nothing after).
  bool push(token_id id, std::string& out) {
    if (stopped_) return true;
    ids_.push_back(id);
    const std::string before = tok_->decode(window(prefix_, read_), true);
    const std::string after = tok_->decode(window(prefix_, ids_.size()), true);
    // Wait while the text ends inside a character (decode shows it as U+FFFD) or has not grown.
    if (after.size() <= before.size() || ends_with_replacement(after)) return false;
    std::string_view fresh(after);
    // A decoder may rewrite earlier text once more ids arrive; emit only what extends it.
    if (fresh.substr(0, before.size()) != before) return false;
    fresh.remove_prefix(before.size());
    prefix_ = read_;
    read_ = ids_.size();
    if (prefix_ > 64) compact();
    return filter(fresh, out);
  }

  /// @brief Ends the stream: appends held-back text (incomplete characters come out as U+FFFD).
  void finish(std::string& out) {
    if (stopped_) return;
    const std::string before = tok_->decode(window(prefix_, read_), true);
    const std::string after = tok_->decode(window(prefix_, ids_.size()), true);
    if (after.size() > before.size() && std::string_view(after).substr(0, before.size()) == before)
      pending_.append(after, before.size());
    out += pending_;
    pending_.clear();
  }

 private:
  token_span window(std::size_t from, std::size_t to) const { return {ids_.data() + from, to - from}; }

  static bool ends_with_replacement(std::string_view s) {
    return s.size() >= 3 && s.substr(s.size() - 3) == "\xEF\xBF\xBD";
  }

  void compact() {
    ids_.erase(ids_.begin(), ids_.begin() + static_cast<std::ptrdiff_t>(prefix_));
    read_ -= prefix_;
    prefix_ = 0;
  }

  // Holds back the longest tail that could begin a stop string; cuts at the first complete one.
  bool filter(std::string_view fresh, std::string& out) {
    if (stops_.empty()) {
      out.append(fresh);
      return false;
    }
    const std::size_t search_from = pending_.size() >= max_stop_ ? pending_.size() - max_stop_ + 1 : 0;
    pending_.append(fresh);
    std::size_t cut = std::string::npos;
    for (const auto& s : stops_) cut = std::min(cut, pending_.find(s, search_from));
    if (cut != std::string::npos) {
      out.append(pending_, 0, cut);
      pending_.clear();
      stopped_ = true;
      return true;
    }
    std::size_t hold = 0;
    for (const auto& s : stops_)
      for (std::size_t len = std::min(s.size() - 1, pending_.size()); len > hold; --len)
        if (std::string_view(pending_).substr(pending_.size() - len) == std::string_view(s).substr(0, len)) {
          hold = len;
          break;
        }
    out.append(pending_, 0, pending_.size() - hold);
    pending_.erase(0, pending_.size() - hold);
    return false;
  }

  const Tok* tok_;
  std::vector<std::string> stops_;
  std::size_t max_stop_ = 0;
  token_vector ids_;       // left context + output ids not yet compacted away
  std::size_t prefix_ = 0; // ids_[prefix_, read_) were already shown: the decoder's left context
  std::size_t read_ = 0;
  std::string pending_;    // shown by the decoder but held back for stop-string matching
  bool stopped_ = false;
};

}  // namespace uag
