#pragma once
/// @file Unicode helpers for the tokenizer: code point iteration, categories (utf8proc), the
/// predicates Rust's `char` offers (HF tokenizers is written in Rust), lossy UTF-8 repair as Rust's
/// String::from_utf8_lossy does it, and GPT-2's byte-to-character alphabet.
#include <array>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <utf8proc.h>

#include "uag/core/error.hpp"
#include "uag/core/utf8.hpp"

namespace uag::detail::unicode {

/// @brief Decodes the code point at s[i] (s must be valid UTF-8); sets len to its byte length.
inline char32_t decode(std::string_view s, std::size_t i, std::size_t& len) noexcept {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) { len = 1; return c; }
  if (c < 0xE0) { len = 2; return (char32_t(c & 0x1F) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3F); }
  if (c < 0xF0) {
    len = 3;
    return (char32_t(c & 0x0F) << 12) | (char32_t(static_cast<unsigned char>(s[i + 1]) & 0x3F) << 6) |
           (static_cast<unsigned char>(s[i + 2]) & 0x3F);
  }
  len = 4;
  return (char32_t(c & 0x07) << 18) | (char32_t(static_cast<unsigned char>(s[i + 1]) & 0x3F) << 12) |
         (char32_t(static_cast<unsigned char>(s[i + 2]) & 0x3F) << 6) | (static_cast<unsigned char>(s[i + 3]) & 0x3F);
}

/// @brief Byte length of the UTF-8 sequence starting with lead byte c (valid input assumed).
inline std::size_t char_len(unsigned char c) noexcept {
  return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

/// @brief Appends the UTF-8 encoding of cp.
inline void append(std::string& out, char32_t cp) { utf8::append(out, cp); }

inline std::string encode(char32_t cp) {
  std::string s;
  append(s, cp);
  return s;
}

inline utf8proc_category_t category(char32_t cp) noexcept {
  return utf8proc_category(static_cast<utf8proc_int32_t>(cp));
}

/// @brief Rust char::is_whitespace (the White_Space property).
inline bool is_whitespace(char32_t c) noexcept {
  if (c < 0x80) return c == ' ' || (c >= 0x09 && c <= 0x0D);
  switch (c) {
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000: return true;
    default: return c >= 0x2000 && c <= 0x200A;
  }
}

/// @brief Rust char::is_numeric (general categories Nd, Nl, No).
inline bool is_numeric(char32_t c) noexcept {
  if (c < 0x80) return c >= '0' && c <= '9';
  const auto k = category(c);
  return k == UTF8PROC_CATEGORY_ND || k == UTF8PROC_CATEGORY_NL || k == UTF8PROC_CATEGORY_NO;
}

/// @brief Rust char::is_alphanumeric, approximated by letters, marks (Mn/Mc, most are Alphabetic) and numbers.
inline bool is_alphanumeric(char32_t c) noexcept {
  if (c < 0x80) return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  const auto k = category(c);
  return (k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO) || k == UTF8PROC_CATEGORY_ND ||
         k == UTF8PROC_CATEGORY_NL || k == UTF8PROC_CATEGORY_NO;
}

/// @brief HF's is_punc: ASCII punctuation or any Unicode P* category.
inline bool is_punctuation(char32_t c) noexcept {
  if (c < 0x80) return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) || (c >= 0x7B && c <= 0x7E);
  const auto k = category(c);
  return k >= UTF8PROC_CATEGORY_PC && k <= UTF8PROC_CATEGORY_PO;
}

/// @brief Appends s to out as Rust's String::from_utf8_lossy does: every maximal ill-formed subpart
/// (Unicode 3.9 "best practice", the WHATWG decoder) becomes one U+FFFD.
inline void append_lossy(std::string& out, std::string_view s) {
  static constexpr std::string_view fffd = "\xEF\xBF\xBD";
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) { out.push_back(static_cast<char>(c)); ++i; continue; }
    std::size_t need = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) { need = 1; }
    else if (c == 0xE0) { need = 2; lo = 0xA0; }
    else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) { need = 2; }
    else if (c == 0xED) { need = 2; hi = 0x9F; }
    else if (c == 0xF0) { need = 3; lo = 0x90; }
    else if (c >= 0xF1 && c <= 0xF3) { need = 3; }
    else if (c == 0xF4) { need = 3; hi = 0x8F; }
    else { out += fffd; ++i; continue; }
    std::size_t j = i + 1;
    std::size_t got = 0;
    while (got < need && j < n) {
      const auto cc = static_cast<unsigned char>(s[j]);
      const unsigned char l = got == 0 ? lo : 0x80, h = got == 0 ? hi : 0xBF;
      if (cc < l || cc > h) break;
      ++j;
      ++got;
    }
    if (got == need) out.append(s.substr(i, j - i));
    else out += fffd;
    i = j;
  }
}

/// @brief GPT-2's bytes_to_unicode: byte b is written as the code point byte_to_char()[b].
inline const std::array<char32_t, 256>& byte_to_char() {
  static const std::array<char32_t, 256> table = [] {
    std::array<char32_t, 256> t{};
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      t[static_cast<std::size_t>(b)] = printable ? static_cast<char32_t>(b) : next++;
    }
    return t;
  }();
  return table;
}

/// @brief UTF-8 encodings of byte_to_char(), one string per byte.
inline const std::array<std::string, 256>& byte_to_utf8() {
  static const std::array<std::string, 256> table = [] {
    std::array<std::string, 256> t;
    for (int b = 0; b < 256; ++b) t[static_cast<std::size_t>(b)] = encode(byte_to_char()[static_cast<std::size_t>(b)]);
    return t;
  }();
  return table;
}

/// @brief Inverse of byte_to_char: the byte for code point cp, or -1 when cp is not in the alphabet.
inline int char_to_byte(char32_t cp) noexcept {
  if (cp < 0x100) {
    const bool printable = (cp >= '!' && cp <= '~') || (cp >= 0xA1 && cp <= 0xAC) || (cp >= 0xAE && cp <= 0xFF);
    if (printable) return static_cast<int>(cp);
  }
  if (cp >= 256 && cp < 256 + 68) {
    // the non-printable bytes in increasing order
    static const std::array<unsigned char, 68> order = [] {
      std::array<unsigned char, 68> o{};
      std::size_t k = 0;
      for (int b = 0; b < 256; ++b) {
        const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        if (!printable) o[k++] = static_cast<unsigned char>(b);
      }
      return o;
    }();
    return order[cp - 256];
  }
  return -1;
}

/// @brief Maps a byte-level string (GPT-2 alphabet) back to raw bytes; false if some char is not in the alphabet.
inline bool byte_level_to_bytes(std::string_view s, std::string& out) {
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t len = 0;
    const char32_t cp = decode(s, i, len);
    const int b = char_to_byte(cp);
    if (b < 0) return false;
    out.push_back(static_cast<char>(b));
    i += len;
  }
  return true;
}

enum class normal_form { nfc, nfd, nfkc, nfkd };

/// @brief Unicode normalization of valid UTF-8 text with utf8proc.
inline std::string normalize(std::string_view s, normal_form f) {
  // Fast path: code points below U+0300 never compose, and ASCII is stable under every form.
  bool ascii = true, below_300 = true;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x80) ascii = false;
    if (c >= 0xCC) { below_300 = false; break; }
  }
  if (ascii || (f == normal_form::nfc && below_300)) return std::string(s);
  int options = UTF8PROC_STABLE;
  switch (f) {
    case normal_form::nfc: options |= UTF8PROC_COMPOSE; break;
    case normal_form::nfd: options |= UTF8PROC_DECOMPOSE; break;
    case normal_form::nfkc: options |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT; break;
    case normal_form::nfkd: options |= UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT; break;
  }
  utf8proc_uint8_t* dst = nullptr;
  const utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()),
                                          static_cast<utf8proc_ssize_t>(s.size()), &dst,
                                          static_cast<utf8proc_option_t>(options));
  if (n < 0) {
    std::free(dst);
    throw uag::input_error("tokenizer.normalize", std::string("utf8proc failed: ") + utf8proc_errmsg(n));
  }
  std::string out(reinterpret_cast<const char*>(dst), static_cast<std::size_t>(n));
  std::free(dst);
  return out;
}

/// @brief Rust's char::to_lowercase for every char of s (full mappings; no final-sigma rule, as HF's
/// NormalizedString::lowercase works char by char).
inline std::string lowercase(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c));
      ++i;
      continue;
    }
    std::size_t len = 0;
    const char32_t cp = decode(s, i, len);
    if (cp == 0x130) {  // the only code point whose full lowercase mapping is two chars
      out += "i\xCC\x87";
    } else {
      append(out, static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp))));
    }
    i += len;
  }
  return out;
}

}  // namespace uag::detail::unicode
