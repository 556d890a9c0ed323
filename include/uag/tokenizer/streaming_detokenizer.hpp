#pragma once
/// @file Streaming detokenization: feed ids one at a time, get text out as soon as it is complete UTF-8.
///
/// Same idea as HF tokenizers' DecodeStream: keep a short window of ids, decode (context) and
/// (context + pending ids), and emit the difference once it does not end in an incomplete character or
/// a U+FFFD that the tokens' raw bytes (token_bytes) say is an unfinished character. Decoders that look at the first token (Strip, Metaspace) see the same first token in both
/// decodes, so the difference is what a full decode would add. The context is the shortest suffix of the
/// emitted ids whose text is non-empty (so skipped special tokens do not reset "first token" rules);
/// window length is bounded, so the cost per id does not grow with the sequence length.
#include <cstddef>
#include <string>
#include <string_view>

#include "uag/core/types.hpp"
#include "uag/core/utf8.hpp"
#include "uag/tokenizer/concepts.hpp"

namespace uag {

/// @brief Incremental decoder over any uag::tokenizer.
///
/// Invariant: the concatenation of everything push() returned plus flush() equals
/// tok.decode(all ids pushed, skip_special_tokens) whenever decode is prefix-stable on the ids, which holds
/// for byte-level tokenizers and for any ids whose byte-fallback runs (<0xNN> tokens) spell valid UTF-8.
/// (HF's ByteFallback turns a whole run with one bad byte into U+FFFDs, so text already emitted for the
/// start of such a run cannot match; no streaming decoder can un-emit it.)
template <tokenizer T>
class streaming_detokenizer {
 public:
  /// @param tok                 the tokenizer (must outlive this object)
  /// @param skip_special_tokens passed to decode
  /// @param max_pending         ids held back waiting for a complete character before text is forced out
  explicit streaming_detokenizer(const T& tok, bool skip_special_tokens = false, std::size_t max_pending = 16)
      : tok_(&tok), skip_(skip_special_tokens), max_pending_(max_pending) {}

  /// @brief Adds one id; returns the newly completed text (valid until the next call). May be empty.
  /// cost: two decodes of a window of at most ~max_context + max_pending ids.
  std::string_view push(token_id id) {
    out_.clear();
    window_.push_back(id);
    text_ = tok_->decode(token_span(window_), skip_);
    const bool grew = text_.size() > prefix_.size();
    // A trailing U+FFFD means "wait" only while the tokens' raw bytes end inside a character; otherwise it
    // is in the text itself (or the bytes can never form a character) and waiting would not change it.
    const bool complete = grew && !(ends_incomplete(text_) && raw_bytes_incomplete());
    if (complete || window_.size() - context_ > max_pending_) {
      if (grew) out_.assign(text_, common_prefix(text_, prefix_), std::string::npos);
      compact();
    }
    return out_;
  }

  /// @brief Appends the newly completed text for id to out.
  void push(token_id id, std::string& out) { out += push(id); }

  /// @brief Emits whatever is still held back (an incomplete tail decodes as decode() does) and resets.
  std::string_view flush() {
    out_.clear();
    if (window_.size() > context_) {
      text_ = tok_->decode(token_span(window_), skip_);
      if (text_.size() > prefix_.size()) out_.assign(text_, common_prefix(text_, prefix_), std::string::npos);
    }
    window_.clear();
    prefix_.clear();
    tail_.clear();
    context_ = 0;
    return out_;
  }

  /// @brief Forgets all state (pending ids are dropped).
  void reset() {
    window_.clear();
    prefix_.clear();
    tail_.clear();
    context_ = 0;
  }

  /// @brief Number of ids pushed but not yet turned into emitted text.
  std::size_t pending() const noexcept { return window_.size() - context_; }

 private:
  static constexpr std::size_t max_context = 16;
  static constexpr std::size_t max_tail = 1024;  // bytes of emitted text kept to validate contexts
  const T* tok_;
  bool skip_;
  std::size_t max_pending_;
  token_vector window_;   // context ids followed by pending ids
  std::size_t context_ = 0;
  std::string prefix_;    // decode(context ids)
  std::string text_, out_;
  std::string tail_;      // the last max_tail bytes emitted

  static bool ends_incomplete(std::string_view s) noexcept {
    if (s.size() >= 3 && s.substr(s.size() - 3) == "\xEF\xBF\xBD") return true;
    return utf8::incomplete_tail_length(s) > 0;
  }

  /// True when the raw bytes of the window's last tokens end in an incomplete UTF-8 sequence.
  bool raw_bytes_incomplete() const {
    std::string raw;
    for (std::size_t i = window_.size(); i-- > 0 && raw.size() < 4;) raw.insert(0, tok_->token_bytes(window_[i]));
    return utf8::incomplete_tail_length(raw) > 0;
  }

  static std::size_t common_prefix(std::string_view a, std::string_view b) noexcept {
    if (a.substr(0, b.size()) == b) return b.size();
    std::size_t i = 0;
    while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
    return i;
  }

  /// Keeps as the new context the shortest suffix of the window that starts on a character boundary (its
  /// first token's raw bytes do not begin with a UTF-8 continuation byte: a context starting inside a
  /// character or byte-fallback run decodes differently on its own) and whose text is non-empty and is
  /// how the stream really ended (a suffix of the emitted text).
  void compact() {
    tail_ += out_;
    if (tail_.size() > max_tail) tail_.erase(0, tail_.size() - max_tail);
    const std::size_t n = window_.size();
    const std::size_t limit = std::min(n, max_context);
    std::size_t keep = 0;
    for (std::size_t k = 1; k <= limit; ++k) {
      const std::string_view first = tok_->token_bytes(window_[n - k]);
      if (!first.empty() && (static_cast<unsigned char>(first.front()) & 0xC0) == 0x80) continue;
      prefix_ = tok_->decode(token_span(window_).subspan(n - k), skip_);
      if (prefix_.empty() || prefix_.size() > tail_.size() ||
          tail_.compare(tail_.size() - prefix_.size(), prefix_.size(), prefix_) != 0)
        continue;
      keep = k;
      break;
    }
    if (keep == 0) keep = limit;
    window_.erase(window_.begin(), window_.begin() + static_cast<std::ptrdiff_t>(n - keep));
    prefix_ = tok_->decode(token_span(window_), skip_);
    context_ = window_.size();
  }
};

}  // namespace uag
