#pragma once
/// @file The regular expressions of tokenizer.json (Split pre-tokenizer, Replace normalizer/decoder).
///
/// Why PCRE2: HF tokenizers runs these patterns with Oniguruma. Real files use \p{L}, \p{N}, \p{Lu},
/// \s, lookahead (?!\S) and scoped flags (?i:...), which std::regex cannot express; PCRE2 (Debian's
/// libpcre2-8, UTF + UCP mode, JIT-compiled once at load) supports all of them with the same leftmost-first
/// backtracking semantics as Oniguruma and is one of the fastest engines available, so no hand-written
/// matchers are needed. Where the two dialects differ we translate the pattern: Oniguruma's \s is the
/// Unicode White_Space property (PCRE2's UCP \s lacks U+0085), Ruby-syntax \h means a hex digit, and
/// ^/$ are line anchors. The iteration over matches copies the onig crate's find_iter (an empty match
/// right after the previous match is skipped by advancing one character).
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

// uag uses 8-bit code units; the uag::pcre2 CMake target defines this too, but consumers who add the
// include path by hand should not have to.
#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>

#include "uag/core/error.hpp"
#include "uag/tokenizer/detail/unicode.hpp"

namespace uag {

/// @brief A compiled pattern with Oniguruma-compatible semantics. Thread-safe for matching.
class tokenizer_regex {
 public:
  tokenizer_regex() = default;

  /// @brief Compiles an Oniguruma (Ruby syntax) pattern. Throws uag::tokenizer_error on a bad pattern.
  static tokenizer_regex from_pattern(std::string_view pattern) {
    tokenizer_regex r;
    r.source_ = std::string(pattern);
    r.compile(translate(pattern));
    return r;
  }

  /// @brief A pattern that matches the literal text (HF's SplitPattern::String / ReplacePattern::String).
  static tokenizer_regex from_literal(std::string_view text) {
    tokenizer_regex r;
    r.source_ = std::string(text);
    r.literal_ = std::string(text);
    r.is_literal_ = true;
    if (text.empty()) {
      r.is_literal_ = false;
      r.compile("");
    }
    return r;
  }

  /// @brief Calls f(start, end) for each match in text, as the onig crate's find_iter yields them.
  /// requires: text is valid UTF-8. cost: one JIT search per match.
  template <class F>
  void for_each_match(std::string_view text, F&& f) const {
    if (is_literal_) {
      std::size_t pos = 0;
      while (pos <= text.size()) {
        const std::size_t at = text.find(literal_, pos);
        if (at == std::string_view::npos) break;
        f(at, at + literal_.size());
        pos = at + literal_.size();
      }
      return;
    }
    if (!code_) return;
    pcre2_match_data* md = match_data();
    std::size_t last_end = 0;
    bool have_last = false;
    std::size_t last_match_end = 0;
    while (last_end <= text.size()) {
      const int rc = pcre2_match(code_.get(), reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), last_end,
                                 PCRE2_NO_UTF_CHECK, md, nullptr);
      if (rc < 0) {
        if (rc == PCRE2_ERROR_NOMATCH) return;
        throw uag::tokenizer_error("tokenizer.regex", "matching /" + source_ + "/ failed with PCRE2 error " + std::to_string(rc));
      }
      const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
      const std::size_t s = ov[0], e = ov[1];
      if (e == s && have_last && last_match_end == e) {
        last_end += last_end < text.size() ? detail::unicode::char_len(static_cast<unsigned char>(text[last_end])) : 1;
        continue;
      }
      last_end = e;
      have_last = true;
      last_match_end = e;
      f(s, e);
    }
  }

  const std::string& source() const noexcept { return source_; }
  bool empty() const noexcept { return !is_literal_ && !code_; }

 private:
  struct code_deleter {
    void operator()(pcre2_code* c) const noexcept { pcre2_code_free(c); }
  };
  std::shared_ptr<pcre2_code> code_;
  std::string source_;
  std::string literal_;
  bool is_literal_ = false;

  static pcre2_match_data* match_data() {
    struct holder {
      pcre2_match_data* md = pcre2_match_data_create(1, nullptr);
      ~holder() { pcre2_match_data_free(md); }
    };
    thread_local holder h;
    return h.md;
  }

  void compile(const std::string& pattern) {
    int err = 0;
    PCRE2_SIZE off = 0;
    pcre2_code* c = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                  PCRE2_UTF | PCRE2_UCP | PCRE2_MULTILINE | PCRE2_NO_UTF_CHECK, &err, &off, nullptr);
    if (!c) {
      PCRE2_UCHAR buf[256];
      pcre2_get_error_message(err, buf, sizeof buf);
      throw uag::tokenizer_error("tokenizer.regex", "cannot compile pattern /" + source_ + "/: " +
                                                       reinterpret_cast<const char*>(buf) + " at offset " + std::to_string(off));
    }
    pcre2_jit_compile(c, PCRE2_JIT_COMPLETE);  // falls back to the interpreter when JIT is unavailable
    code_ = std::shared_ptr<pcre2_code>(c, code_deleter{});
  }

  /// Rewrites Oniguruma-only meanings into PCRE2 syntax (see the file comment).
  static std::string translate(std::string_view p) {
    static constexpr std::string_view ws_items = "\\t\\n\\x0B\\f\\r\\x20\\x{85}\\p{Z}";
    std::string out;
    out.reserve(p.size() + 16);
    bool in_class = false;
    std::size_t class_start = 0;
    for (std::size_t i = 0; i < p.size(); ++i) {
      const char c = p[i];
      if (c == '\\' && i + 1 < p.size()) {
        const char n = p[i + 1];
        if (n == 's') {
          if (in_class) out += ws_items; else { out += '['; out += ws_items; out += ']'; }
          ++i;
          continue;
        }
        if (n == 'S' && !in_class) {
          out += "[^"; out += ws_items; out += ']';
          ++i;
          continue;
        }
        if (n == 'h') {
          out += in_class ? "0-9a-fA-F" : "[0-9a-fA-F]";
          ++i;
          continue;
        }
        out += c;
        out += n;
        ++i;
        continue;
      }
      if (!in_class && c == '[') {
        in_class = true;
        class_start = out.size();
        out += c;
        // a ']' right after '[' or '[^' is literal
        if (i + 1 < p.size() && p[i + 1] == '^') { out += '^'; ++i; }
        if (i + 1 < p.size() && p[i + 1] == ']') { out += "\\]"; ++i; }
        continue;
      }
      if (in_class && c == '[' && i + 1 < p.size() && p[i + 1] == ':') {  // POSIX class [:alpha:]
        const std::size_t close = p.find(":]", i + 2);
        if (close != std::string_view::npos) {
          out.append(p.substr(i, close + 2 - i));
          i = close + 1;
          continue;
        }
      }
      if (in_class && c == ']') in_class = false;
      out += c;
    }
    (void)class_start;
    return out;
  }
};

}  // namespace uag
