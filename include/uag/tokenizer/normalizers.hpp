#pragma once
/// @file tokenizer.json normalizers: Sequence, Prepend, Replace, NFC, NFKC, NFD, NFKD, Lowercase, Strip.
/// Each one rewrites the text of one split exactly as HF tokenizers' NormalizedString operations do
/// (offsets are not tracked: uag needs ids, not alignments).
#include <string>
#include <string_view>
#include <vector>

#include "uag/tokenizer/detail/config.hpp"
#include "uag/tokenizer/detail/unicode.hpp"
#include "uag/tokenizer/regex.hpp"

namespace uag {

/// @brief A normalizer: a flat list of steps (a Sequence is flattened at load).
class normalizer {
 public:
  enum class kind { nfc, nfd, nfkc, nfkd, lowercase, strip, prepend, replace };
  struct step {
    kind k{};
    bool left = false, right = false;  // strip
    std::string text;                  // prepend: the prefix; replace: the content
    tokenizer_regex pattern;           // replace
  };
  static step make(kind k) {
    step s;
    s.k = k;
    return s;
  }

  /// @brief Parses the "normalizer" value (object; null means none). Throws tokenizer_error / unsupported_error.
  static normalizer from_json(detail::json::value v, const std::string& path = "normalizer") {
    normalizer n;
    if (!v.is_null()) n.parse(v, path);
    return n;
  }

  bool empty() const noexcept { return steps_.empty(); }
  const std::vector<step>& steps() const noexcept { return steps_; }

  /// @brief Normalizes s in place. requires: s is valid UTF-8.
  void apply(std::string& s) const {
    for (const step& st : steps_) apply_step(st, s);
  }

 private:
  std::vector<step> steps_;

  void parse(detail::json::value v, const std::string& path) {
    namespace cfg = detail::cfg;
    const std::string_view type = cfg::type_of(v, path);
    if (type == "Sequence") {
      const auto list = cfg::req_array(v, "normalizers", path);
      for (std::size_t i = 0; i < list.size(); ++i) parse(list.at(i), path + ".normalizers[" + std::to_string(i) + "]");
    } else if (type == "NFC") {
      steps_.push_back(make(kind::nfc));
    } else if (type == "NFD") {
      steps_.push_back(make(kind::nfd));
    } else if (type == "NFKC") {
      steps_.push_back(make(kind::nfkc));
    } else if (type == "NFKD") {
      steps_.push_back(make(kind::nfkd));
    } else if (type == "Lowercase") {
      steps_.push_back(make(kind::lowercase));
    } else if (type == "Strip") {
      step s = make(kind::strip);
      s.left = cfg::opt_bool(v, "strip_left", path, false);
      s.right = cfg::opt_bool(v, "strip_right", path, false);
      steps_.push_back(std::move(s));
    } else if (type == "Prepend") {
      step s = make(kind::prepend);
      s.text = std::string(cfg::req_string(v, "prepend", path));
      steps_.push_back(std::move(s));
    } else if (type == "Replace") {
      step s = make(kind::replace);
      const auto p = cfg::pattern(v, path);
      s.pattern = p.is_regex ? tokenizer_regex::from_pattern(p.text) : tokenizer_regex::from_literal(p.text);
      s.text = std::string(cfg::req_string(v, "content", path));
      steps_.push_back(std::move(s));
    } else if (type == "BertNormalizer" || type == "StripAccents" || type == "Precompiled" || type == "NMT" ||
               type == "ByteLevel") {
      cfg::unsupported(path, "the " + std::string(type) + " normalizer");
    } else {
      cfg::unknown_type(path, type);
    }
  }

  static void apply_step(const step& st, std::string& s) {
    using detail::unicode::normal_form;
    switch (st.k) {
      case kind::nfc: s = detail::unicode::normalize(s, normal_form::nfc); return;
      case kind::nfd: s = detail::unicode::normalize(s, normal_form::nfd); return;
      case kind::nfkc: s = detail::unicode::normalize(s, normal_form::nfkc); return;
      case kind::nfkd: s = detail::unicode::normalize(s, normal_form::nfkd); return;
      case kind::lowercase: s = detail::unicode::lowercase(s); return;
      case kind::strip: strip(s, st.left, st.right); return;
      case kind::prepend:
        if (!s.empty()) s.insert(0, st.text);
        return;
      case kind::replace: replace(st.pattern, st.text, s); return;
    }
  }

  static void strip(std::string& s, bool left, bool right) {
    std::size_t b = 0, e = s.size();
    if (left) {
      while (b < e) {
        std::size_t len = 0;
        const char32_t c = detail::unicode::decode(s, b, len);
        if (!detail::unicode::is_whitespace(c)) break;
        b += len;
      }
    }
    if (right) {
      while (e > b) {
        std::size_t start = e - 1;
        while (start > b && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
        std::size_t len = 0;
        const char32_t c = detail::unicode::decode(s, start, len);
        if (!detail::unicode::is_whitespace(c)) break;
        e = start;
      }
    }
    s = s.substr(b, e - b);
  }

 public:
  /// @brief Replaces every match of pattern in s by content (HF NormalizedString::replace).
  static void replace(const tokenizer_regex& pattern, std::string_view content, std::string& s) {
    std::string out;
    std::size_t prev = 0;
    bool any = false;
    pattern.for_each_match(s, [&](std::size_t b, std::size_t e) {
      if (!any) out.reserve(s.size() + s.size() / 2);
      any = true;
      out.append(s, prev, b - prev);
      out.append(content);
      prev = e;
    });
    if (!any) return;
    out.append(s, prev, std::string::npos);
    s = std::move(out);
  }
};

}  // namespace uag
