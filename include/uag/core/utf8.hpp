#pragma once
/// @file Small UTF-8 helpers used by streaming and validation.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace uag::utf8 {

/// @brief Length of the sequence announced by lead byte c, or 0 if c cannot start one.
inline constexpr std::size_t sequence_length(unsigned char c) noexcept {
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return 2;
  if (c >= 0xE0 && c <= 0xEF) return 3;
  if (c >= 0xF0 && c <= 0xF4) return 4;
  return 0;
}

/// @brief Length of the longest prefix of s that is valid UTF-8 (RFC 3629: no overlongs, no surrogates).
inline std::size_t valid_prefix_length(std::string_view s) noexcept {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t n = sequence_length(c);
    if (n == 0 || i + n > s.size()) return i;
    for (std::size_t k = 1; k < n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return i;
      if (k == 1) {  // second byte ranges that exclude overlongs and surrogates
        if (c == 0xE0 && cc < 0xA0) return i;
        if (c == 0xED && cc > 0x9F) return i;
        if (c == 0xF0 && cc < 0x90) return i;
        if (c == 0xF4 && cc > 0x8F) return i;
      }
    }
    i += n;
  }
  return i;
}

/// @brief True when s is entirely valid UTF-8.
inline bool is_valid(std::string_view s) noexcept { return valid_prefix_length(s) == s.size(); }

/// @brief Number of trailing bytes of s that form an incomplete (but so far valid) sequence, 0..3.
/// Used to hold back text that ends in the middle of a character.
inline std::size_t incomplete_tail_length(std::string_view s) noexcept {
  const std::size_t n = s.size();
  for (std::size_t back = 1; back <= 3 && back <= n; ++back) {
    const auto c = static_cast<unsigned char>(s[n - back]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte: keep looking for the lead
    const std::size_t want = sequence_length(c);
    return (want > back) ? back : 0;
  }
  return 0;
}

/// @brief Appends the UTF-8 encoding of code point cp (cp <= 0x10FFFF).
inline void append(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace uag::utf8
