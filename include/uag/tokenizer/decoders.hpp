#pragma once
/// @file tokenizer.json decoders: ByteLevel, Metaspace, Sequence, Replace, ByteFallback, Fuse, Strip.
/// Each one is HF tokenizers' decode_chain (a list of token strings in, a list out); the final text is
/// the concatenation of the last list.
#include <string>
#include <string_view>
#include <vector>

#include "uag/tokenizer/detail/config.hpp"
#include "uag/tokenizer/detail/unicode.hpp"
#include "uag/tokenizer/normalizers.hpp"
#include "uag/tokenizer/regex.hpp"

namespace uag {

/// @brief A decoder: a flat list of steps (a Sequence is flattened at load).
class decoder {
 public:
  enum class kind { byte_level, metaspace, replace, byte_fallback, fuse, strip };
  struct step {
    kind k{};
    tokenizer_regex pattern;                   // replace
    std::string content;                       // replace: the content
    char32_t ch = 0x2581;                      // metaspace replacement / strip content
    bool prepend = true;                       // metaspace: prepend_scheme != never
    std::size_t start = 0, stop = 0;           // strip
  };
  static step make(kind k) {
    step s;
    s.k = k;
    return s;
  }

  static decoder from_json(detail::json::value v, const std::string& path = "decoder") {
    decoder d;
    if (!v.is_null()) d.parse(v, path);
    return d;
  }

  bool empty() const noexcept { return steps_.empty(); }
  const std::vector<step>& steps() const noexcept { return steps_; }
  /// @brief True when the decoder is exactly one ByteLevel step.
  bool is_byte_level_only() const noexcept { return steps_.size() == 1 && steps_[0].k == kind::byte_level; }
  bool has_byte_level() const noexcept {
    for (const auto& s : steps_)
      if (s.k == kind::byte_level) return true;
    return false;
  }

  /// @brief Runs the chain on tokens (modified in place) and returns the joined text.
  /// Without steps HF joins tokens with single spaces.
  std::string decode(std::vector<std::string>& tokens) const {
    if (steps_.empty()) {
      std::string out;
      for (std::size_t i = 0; i < tokens.size(); ++i) {
        if (i) out.push_back(' ');
        out += tokens[i];
      }
      return out;
    }
    for (const auto& st : steps_) apply(st, tokens);
    std::string out;
    for (const auto& t : tokens) out += t;
    return out;
  }

  /// @brief Applies one step to a list of tokens (HF decode_chain).
  static void apply(const step& st, std::vector<std::string>& tokens) {
    switch (st.k) {
      case kind::byte_level: {
        std::string bytes;
        for (const auto& t : tokens) {
          const std::size_t mark = bytes.size();
          if (!detail::unicode::byte_level_to_bytes(t, bytes)) {
            bytes.resize(mark);
            bytes += t;
          }
        }
        std::string out;
        detail::unicode::append_lossy(out, bytes);
        tokens.assign(1, std::move(out));
        return;
      }
      case kind::metaspace: {
        for (std::size_t i = 0; i < tokens.size(); ++i) {
          std::string& t = tokens[i];
          std::string out;
          std::size_t j = 0;
          while (j < t.size()) {
            std::size_t len = 0;
            const char32_t c = detail::unicode::decode(t, j, len);
            if (c == st.ch) {
              if (!(i == 0 && st.prepend)) out.push_back(' ');
            } else {
              out.append(t, j, len);
            }
            j += len;
          }
          t = std::move(out);
        }
        return;
      }
      case kind::replace:
        for (auto& t : tokens) normalizer::replace(st.pattern, st.content, t);
        return;
      case kind::byte_fallback: {
        std::vector<std::string> out;
        out.reserve(tokens.size());
        std::string pending;
        auto flush = [&] {
          if (pending.empty()) return;
          if (uag::utf8::is_valid(pending)) {
            out.push_back(pending);
          } else {
            for (std::size_t k = 0; k < pending.size(); ++k) out.emplace_back("\xEF\xBF\xBD");
          }
          pending.clear();
        };
        for (auto& t : tokens) {
          int byte = -1;
          if (parse_byte_token(t, byte)) {
            pending.push_back(static_cast<char>(byte));
          } else {
            flush();
            out.push_back(std::move(t));
          }
        }
        flush();
        tokens = std::move(out);
        return;
      }
      case kind::fuse: {
        std::string all;
        for (const auto& t : tokens) all += t;
        tokens.assign(1, std::move(all));
        return;
      }
      case kind::strip: {
        for (auto& t : tokens) {
          // char positions
          std::vector<std::size_t> starts;
          for (std::size_t j = 0; j < t.size(); j += detail::unicode::char_len(static_cast<unsigned char>(t[j]))) starts.push_back(j);
          const std::size_t n = starts.size();
          auto char_at = [&](std::size_t k) {
            std::size_t len = 0;
            return detail::unicode::decode(t, starts[k], len);
          };
          std::size_t start_cut = 0;
          for (std::size_t k = 0; k < st.start && k < n; ++k) {
            if (char_at(k) == st.ch) start_cut = k + 1; else break;
          }
          std::size_t stop_cut = n;
          for (std::size_t k = 0; k < st.stop && k < n; ++k) {
            const std::size_t idx = n - k - 1;
            if (char_at(idx) == st.ch) stop_cut = idx; else break;
          }
          if (stop_cut < start_cut) stop_cut = start_cut;
          const std::size_t b = start_cut < n ? starts[start_cut] : t.size();
          const std::size_t e = stop_cut < n ? starts[stop_cut] : t.size();
          t = t.substr(b, e - b);
        }
        return;
      }
    }
  }

  /// @brief True when t is "<0xNN>" (HF ByteFallback: 6 bytes, hex digits parsed by u8::from_str_radix).
  static bool parse_byte_token(std::string_view t, int& byte) noexcept {
    if (t.size() != 6 || t.compare(0, 3, "<0x") != 0 || t[5] != '>') return false;
    auto hex = [](char c) {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    const char a = t[3], b = t[4];
    if (a == '+') {  // from_str_radix accepts a leading '+'
      const int lo = hex(b);
      if (lo < 0) return false;
      byte = lo;
      return true;
    }
    const int hi = hex(a), lo = hex(b);
    if (hi < 0 || lo < 0) return false;
    byte = hi * 16 + lo;
    return true;
  }

 private:
  std::vector<step> steps_;

  static char32_t one_char(std::string_view s, const std::string& path) {
    std::size_t len = 0;
    if (s.empty() || (detail::unicode::decode(s, 0, len), len != s.size()))
      throw uag::tokenizer_error("tokenizer.value", "'" + path + "' must be exactly one character");
    return detail::unicode::decode(s, 0, len);
  }

  void parse(detail::json::value v, const std::string& path) {
    namespace cfg = detail::cfg;
    const std::string_view type = cfg::type_of(v, path);
    if (type == "Sequence") {
      const auto list = cfg::req_array(v, "decoders", path);
      for (std::size_t i = 0; i < list.size(); ++i) parse(list.at(i), path + ".decoders[" + std::to_string(i) + "]");
    } else if (type == "ByteLevel") {
      steps_.push_back(make(kind::byte_level));
    } else if (type == "Metaspace") {
      step s = make(kind::metaspace);
      if (auto r = cfg::opt_string(v, "replacement", path)) s.ch = one_char(*r, path + ".replacement");
      if (auto sch = cfg::opt_string(v, "prepend_scheme", path)) {
        if (*sch != "always" && *sch != "first" && *sch != "never")
          throw uag::tokenizer_error("tokenizer.value", "'" + path + ".prepend_scheme' is '" + std::string(*sch) + "'");
        s.prepend = *sch != "never";
      } else if (cfg::opt(v, "add_prefix_space")) {
        s.prepend = cfg::opt_bool(v, "add_prefix_space", path, true);
      }
      steps_.push_back(std::move(s));
    } else if (type == "Replace") {
      step s = make(kind::replace);
      const auto p = cfg::pattern(v, path);
      s.pattern = p.is_regex ? tokenizer_regex::from_pattern(p.text) : tokenizer_regex::from_literal(p.text);
      s.content = std::string(cfg::req_string(v, "content", path));
      steps_.push_back(std::move(s));
    } else if (type == "ByteFallback") {
      steps_.push_back(make(kind::byte_fallback));
    } else if (type == "Fuse") {
      steps_.push_back(make(kind::fuse));
    } else if (type == "Strip") {
      step s = make(kind::strip);
      s.ch = one_char(cfg::req_string(v, "content", path), path + ".content");
      s.start = static_cast<std::size_t>(cfg::opt_int(v, "start", path, 0, 1 << 20).value_or(0));
      s.stop = static_cast<std::size_t>(cfg::opt_int(v, "stop", path, 0, 1 << 20).value_or(0));
      steps_.push_back(std::move(s));
    } else if (type == "WordPiece" || type == "CTC" || type == "BPEDecoder") {
      cfg::unsupported(path, "the " + std::string(type) + " decoder");
    } else {
      cfg::unknown_type(path, type);
    }
  }
};

}  // namespace uag
