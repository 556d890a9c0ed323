#pragma once
/// @file A small read-only JSON DOM used to load tokenizer.json.
///
/// Why not nlohmann::json: parsing gemma3's 33 MB tokenizer.json into an nlohmann DOM takes ~800 ms on
/// this machine (one heap node per value, one std::string per key), above the 300 ms load budget. This
/// parser keeps every value in one flat vector, views unescaped strings in place (escaped ones are decoded
/// into an arena), and never recurses deeper than max_depth (fuzzed inputs cannot blow the stack).
/// It accepts exactly RFC 8259 JSON (strict UTF-8, no lone surrogates, no trailing commas), like serde_json.
#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "uag/core/error.hpp"
#include "uag/core/memory.hpp"
#include "uag/core/utf8.hpp"

namespace uag::detail::json {

enum class kind : std::uint8_t { null, boolean, number, string, array, object };

inline const char* kind_name(kind k) noexcept {
  switch (k) {
    case kind::null: return "null";
    case kind::boolean: return "a boolean";
    case kind::number: return "a number";
    case kind::string: return "a string";
    case kind::array: return "an array";
    case kind::object: return "an object";
  }
  return "?";
}

struct node_data {
  const char* ptr = nullptr;  // string: decoded value; number: literal text; boolean: non-null for true
  std::uint32_t first = 0;    // array/object: index of the first child in document::children_;
                              // string/number: length of the text
  std::uint32_t count_kind = 0;  // bits 0-28: array/object children (objects store key, value pairs); 29-31: kind
  kind k() const noexcept { return static_cast<kind>(count_kind >> 29); }
  std::uint32_t count() const noexcept { return count_kind & 0x1FFFFFFFu; }
  bool b() const noexcept { return ptr != nullptr; }
  std::string_view text() const noexcept { return std::string_view(ptr, first); }
};

class document;

/// @brief A handle to one value of a document (cheap to copy; valid while the document lives).
class value {
 public:
  value(const document* d, std::uint32_t i) : doc_(d), index_(i) {}
  kind type() const noexcept;
  bool is_null() const noexcept { return type() == kind::null; }
  bool is_bool() const noexcept { return type() == kind::boolean; }
  bool is_number() const noexcept { return type() == kind::number; }
  bool is_string() const noexcept { return type() == kind::string; }
  bool is_array() const noexcept { return type() == kind::array; }
  bool is_object() const noexcept { return type() == kind::object; }
  bool as_bool() const noexcept;
  std::string_view str() const noexcept;  // string value (or number literal)
  std::size_t size() const noexcept;      // children of an array/object
  value at(std::size_t i) const noexcept; // i-th child of an array/object (requires i < size())
  std::string_view key_at(std::size_t i) const noexcept;  // i-th key of an object
  std::optional<value> find(std::string_view key) const noexcept;  // first member named key
  /// @brief Integer value if this is a number without fraction/exponent that fits in int64.
  std::optional<std::int64_t> as_int() const noexcept;
  std::optional<double> as_double() const noexcept;
  std::uint32_t index() const noexcept { return index_; }
  const document* doc() const noexcept { return doc_; }

 private:
  const document* doc_;
  std::uint32_t index_;
};

/// @brief A parsed JSON text. Views into `source`, which must outlive the document.
class document {
 public:
  static constexpr int max_depth = 512;

  /// @brief Parses text. Throws uag::tokenizer_error "[uag.tokenizer.json] ..." (with `what` naming the
  /// file role) when text is not valid JSON.
  /// @param bpe_fast_path  read tokenizer.json's "model": {"vocab": {...}, "merges": [...]} into flat
  ///                       lists (bpe_vocab(), bpe_merges()) instead of DOM nodes when they have the usual
  ///                       shapes (2 of the 3 million values of a large file; other shapes parse as usual and
  ///                       leave the lists unset). The DOM then holds an empty object/array in their place.
  static document parse(std::string_view text, std::string_view what = "tokenizer.json", bool bpe_fast_path = false) {
    document d;
    d.src_ = text;
    d.what_ = what;
    d.fast_ = bpe_fast_path;
    d.nodes_.reserve(text.size() / 12 + 16);
    d.children_.reserve(text.size() / 12 + 16);
    advise_huge_pages(d.nodes_.data(), d.nodes_.capacity() * sizeof(node_data));
    advise_huge_pages(d.children_.data(), d.children_.capacity() * sizeof(std::uint32_t));
    d.skip_ws();
    const std::uint32_t root =
        (d.fast_ && d.pos_ < d.src_.size() && d.src_[d.pos_] == '{') ? d.parse_object(0, role::root) : d.parse_value(0);
    d.skip_ws();
    if (d.pos_ != d.src_.size()) d.fail("unexpected text after the top-level value");
    (void)root;
    return d;
  }

  value root() const { return value(this, 0); }

  struct merge_item {
    std::string_view first, second;  // pair: the two tokens; else first holds the "a b" string
    bool pair;
  };
  bool has_bpe_vocab() const noexcept { return has_vocab_; }
  bool has_bpe_merges() const noexcept { return has_merges_; }
  /// @brief model.vocab as (token, id) in file order (set only with bpe_fast_path).
  const std::vector<std::pair<std::string_view, std::int64_t>>& bpe_vocab() const noexcept { return vocab_items_; }
  /// @brief model.merges in file order (set only with bpe_fast_path).
  const std::vector<merge_item>& bpe_merges() const noexcept { return merge_items_; }
  const node_data& node(std::uint32_t i) const noexcept { return nodes_[i]; }
  std::uint32_t child(std::uint32_t i) const noexcept { return children_[i]; }

 private:
  std::string_view src_;
  std::string_view what_;
  std::size_t pos_ = 0;
  std::vector<node_data> nodes_;
  std::vector<std::uint32_t> children_;   // array: value nodes; object: key node, value node, ...
  std::vector<std::uint32_t> stack_;      // children of the arrays/objects being parsed
  std::deque<std::string> arena_;         // decoded strings that had escapes
  bool fast_ = false;
  bool has_vocab_ = false, has_merges_ = false;
  std::vector<std::pair<std::string_view, std::int64_t>> vocab_items_;
  std::vector<merge_item> merge_items_;
  enum class role { value, root, model };

  [[noreturn]] void fail(std::string_view msg) const {
    // line/column of pos_ for a readable message
    std::size_t line = 1, col = 1;
    const std::size_t end = pos_ < src_.size() ? pos_ : src_.size();
    for (std::size_t i = 0; i < end; ++i) {
      if (src_[i] == '\n') { ++line; col = 1; } else { ++col; }
    }
    throw uag::tokenizer_error("tokenizer.json", std::string(what_) + " is not valid JSON: " + std::string(msg) +
                                                   " at line " + std::to_string(line) + ", column " +
                                                   std::to_string(col) + " (byte " + std::to_string(pos_) + ")");
  }

  /// What follows a member of an array or object, after whitespace: ',' (consumed), the closing
  /// bracket (consumed), the end of the input, or anything else.
  enum class after_member { more, closed, end, other };
  after_member next_separator(char close) noexcept {
    skip_ws();
    if (pos_ >= src_.size()) return after_member::end;
    const char c = src_[pos_];
    if (c != ',' && c != close) return after_member::other;
    ++pos_;
    return c == ',' ? after_member::more : after_member::closed;
  }

  void skip_ws() noexcept {
    while (pos_ < src_.size()) {
      const char c = src_[pos_];
      if (c == ' ' || c == '\n' || c == '\r' || c == '\t') ++pos_; else break;
    }
  }

  std::uint32_t new_node(kind k) {
    if (nodes_.size() >= 0xFFFFFFF0u) fail("too many values");
    nodes_.push_back(node_data{nullptr, 0, static_cast<std::uint32_t>(k) << 29});
    return static_cast<std::uint32_t>(nodes_.size() - 1);
  }

  std::uint32_t parse_value(int depth) {
    if (depth > max_depth) fail("nesting deeper than 512 levels");
    if (pos_ >= src_.size()) fail("unexpected end of input, expected a value");
    const char c = src_[pos_];
    switch (c) {
      case '{': return parse_object(depth);
      case '[': return parse_array(depth);
      case '"': {
        const std::uint32_t n = new_node(kind::string);
        set_text(n, parse_string());
        return n;
      }
      case 't': expect_word("true"); { auto n = new_node(kind::boolean); nodes_[n].ptr = src_.data(); return n; }
      case 'f': expect_word("false"); return new_node(kind::boolean);
      case 'n': expect_word("null"); return new_node(kind::null);
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return parse_number();
        fail(std::string("unexpected character '") + (static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7F ? std::string(1, c) : std::string("\\x") + "??") + "'");
    }
  }

  void expect_word(std::string_view w) {
    if (src_.substr(pos_, w.size()) != w) fail("invalid literal");
    pos_ += w.size();
  }

  std::uint32_t parse_number() {
    const std::size_t start = pos_;
    if (src_[pos_] == '-') ++pos_;
    if (pos_ >= src_.size()) fail("invalid number");
    if (src_[pos_] == '0') {
      ++pos_;
    } else if (src_[pos_] >= '1' && src_[pos_] <= '9') {
      while (pos_ < src_.size() && src_[pos_] >= '0' && src_[pos_] <= '9') ++pos_;
    } else {
      fail("invalid number");
    }
    if (pos_ < src_.size() && src_[pos_] == '.') {
      ++pos_;
      if (pos_ >= src_.size() || !(src_[pos_] >= '0' && src_[pos_] <= '9')) fail("invalid number");
      while (pos_ < src_.size() && src_[pos_] >= '0' && src_[pos_] <= '9') ++pos_;
    }
    if (pos_ < src_.size() && (src_[pos_] == 'e' || src_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < src_.size() && (src_[pos_] == '+' || src_[pos_] == '-')) ++pos_;
      if (pos_ >= src_.size() || !(src_[pos_] >= '0' && src_[pos_] <= '9')) fail("invalid number");
      while (pos_ < src_.size() && src_[pos_] >= '0' && src_[pos_] <= '9') ++pos_;
    }
    const std::uint32_t n = new_node(kind::number);
    set_text(n, src_.substr(start, pos_ - start));
    return n;
  }

  void set_text(std::uint32_t n, std::string_view s) {
    if (s.size() > 0xFFFFFFFFu) fail("string too long");
    nodes_[n].ptr = s.data();
    nodes_[n].first = static_cast<std::uint32_t>(s.size());
  }

  static int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  unsigned read_hex4() {
    if (pos_ + 4 > src_.size()) fail("truncated \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; ++i) {
      const int h = hex_value(src_[pos_ + static_cast<std::size_t>(i)]);
      if (h < 0) fail("invalid \\u escape");
      v = v * 16 + static_cast<unsigned>(h);
    }
    pos_ += 4;
    return v;
  }

  /// Parses a string starting at '"'; returns a view of its decoded value.
  std::string_view parse_string() {
    ++pos_;  // opening quote
    const std::size_t start = pos_;
    // fast scan: no escapes. Eight bytes at a time while none is '"', '\\' or a control character
    // (SWAR tests); UTF-8 is validated only for strings with a non-ASCII byte.
    constexpr std::uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    std::uint64_t seen = 0;
    while (pos_ + 8 <= src_.size()) {
      std::uint64_t v;
      std::memcpy(&v, src_.data() + pos_, 8);
      const std::uint64_t q = v ^ (ones * '"'), b = v ^ (ones * '\\');
      const std::uint64_t special = ((q - ones) & ~q) | ((b - ones) & ~b) | ((v - ones * 0x20) & ~v);
      if (special & highs) break;
      seen |= v;
      pos_ += 8;
    }
    while (pos_ < src_.size()) {
      const auto c = static_cast<unsigned char>(src_[pos_]);
      if (c == '"') {
        const std::string_view s = src_.substr(start, pos_ - start);
        ++pos_;
        if ((seen & highs) && !uag::utf8::is_valid(s)) { pos_ = start; fail("string is not valid UTF-8"); }
        return s;
      }
      if (c == '\\') break;
      if (c < 0x20) fail("control character in string");
      seen |= c;
      ++pos_;
    }
    if (pos_ >= src_.size()) fail("unterminated string");
    std::string out(src_.substr(start, pos_ - start));
    while (true) {
      if (pos_ >= src_.size()) fail("unterminated string");
      const auto c = static_cast<unsigned char>(src_[pos_]);
      if (c == '"') { ++pos_; break; }
      if (c < 0x20) fail("control character in string");
      if (c != '\\') { out.push_back(static_cast<char>(c)); ++pos_; continue; }
      ++pos_;
      if (pos_ >= src_.size()) fail("unterminated string");
      const char e = src_[pos_++];
      switch (e) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          std::uint32_t cp = read_hex4();
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (pos_ + 6 > src_.size() || src_[pos_] != '\\' || src_[pos_ + 1] != 'u') fail("lone surrogate in \\u escape");
            pos_ += 2;
            const std::uint32_t lo = read_hex4();
            if (lo < 0xDC00 || lo > 0xDFFF) fail("lone surrogate in \\u escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            fail("lone surrogate in \\u escape");
          }
          utf8::append(out, static_cast<char32_t>(cp));
          break;
        }
        default: --pos_; fail("invalid escape");
      }
    }
    if (!uag::utf8::is_valid(out)) fail("string is not valid UTF-8");
    arena_.push_back(std::move(out));
    return arena_.back();
  }

  std::uint32_t parse_array(int depth) {
    const std::uint32_t n = new_node(kind::array);
    ++pos_;
    const std::size_t base = stack_.size();
    skip_ws();
    if (pos_ < src_.size() && src_[pos_] == ']') {
      ++pos_;
    } else {
      while (true) {
        skip_ws();
        const std::uint32_t c = parse_value(depth + 1);
        stack_.push_back(c);
        const after_member sep = next_separator(']');
        if (sep == after_member::more) continue;
        if (sep == after_member::closed) break;
        fail(sep == after_member::end ? "unterminated array" : "expected ',' or ']' in array");
      }
    }
    finish_children(n, base);
    return n;
  }

  std::uint32_t parse_object(int depth, role r = role::value) {
    const std::uint32_t n = new_node(kind::object);
    ++pos_;
    const std::size_t base = stack_.size();
    skip_ws();
    if (pos_ < src_.size() && src_[pos_] == '}') {
      ++pos_;
    } else {
      while (true) {
        skip_ws();
        if (pos_ >= src_.size() || src_[pos_] != '"') fail("expected a string key in object");
        const std::uint32_t k = new_node(kind::string);
        const std::string_view key = parse_string();
        set_text(k, key);
        skip_ws();
        if (pos_ >= src_.size() || src_[pos_] != ':') fail("expected ':' after object key");
        ++pos_;
        skip_ws();
        std::uint32_t c = 0;
        const char next = pos_ < src_.size() ? src_[pos_] : '\0';
        if (r == role::root && key == "model" && next == '{') {
          c = parse_object(depth + 1, role::model);
        } else if (r == role::model && key == "vocab" && next == '{' && fast_vocab()) {
          c = new_node(kind::object);
        } else if (r == role::model && key == "merges" && next == '[' && fast_merges()) {
          c = new_node(kind::array);
        } else {
          c = parse_value(depth + 1);
        }
        stack_.push_back(k);
        stack_.push_back(c);
        const after_member sep = next_separator('}');
        if (sep == after_member::more) continue;
        if (sep == after_member::closed) break;
        fail(sep == after_member::end ? "unterminated object" : "expected ',' or '}' in object");
      }
    }
    finish_children(n, base);
    return n;
  }

  template <class V>
  static void reserve_big(V& v, std::size_t n) {
    v.reserve(n);
    advise_huge_pages(v.data(), v.capacity() * sizeof(typename V::value_type));
  }

  /// {"token": id, ...} with plain integer ids into vocab_items_; false (position restored) otherwise.
  bool fast_vocab() {
    const std::size_t start = pos_;
    auto give_up = [&] { pos_ = start; vocab_items_.clear(); return false; };
    vocab_items_.clear();
    reserve_big(vocab_items_, (src_.size() - pos_) / 24);  // no regrowth copies; untouched capacity costs nothing
    ++pos_;
    skip_ws();
    if (pos_ < src_.size() && src_[pos_] == '}') { ++pos_; has_vocab_ = true; return true; }
    while (true) {
      skip_ws();
      if (pos_ >= src_.size() || src_[pos_] != '"') return give_up();
      const std::string_view key = parse_string();
      skip_ws();
      if (pos_ >= src_.size() || src_[pos_] != ':') return give_up();
      ++pos_;
      skip_ws();
      const std::size_t b = pos_;
      if (pos_ < src_.size() && src_[pos_] == '-') ++pos_;
      const std::size_t d0 = pos_;
      while (pos_ < src_.size() && src_[pos_] >= '0' && src_[pos_] <= '9') ++pos_;
      if (pos_ == d0 || (src_[d0] == '0' && pos_ - d0 > 1)) return give_up();
      if (pos_ < src_.size() && (src_[pos_] == '.' || src_[pos_] == 'e' || src_[pos_] == 'E')) return give_up();
      std::int64_t v = 0;
      auto [p, ec] = std::from_chars(src_.data() + b, src_.data() + pos_, v);
      if (ec != std::errc() || p != src_.data() + pos_) return give_up();
      vocab_items_.emplace_back(key, v);
      const after_member sep = next_separator('}');
      if (sep == after_member::more) continue;
      if (sep != after_member::closed) return give_up();
      break;
    }
    has_vocab_ = true;
    return true;
  }

  /// ["a b", ...] or [["a", "b"], ...] into merge_items_; false (position restored) otherwise.
  bool fast_merges() {
    const std::size_t start = pos_;
    auto give_up = [&] { pos_ = start; merge_items_.clear(); return false; };
    merge_items_.clear();
    reserve_big(merge_items_, (src_.size() - pos_) / 12);
    ++pos_;
    skip_ws();
    if (pos_ < src_.size() && src_[pos_] == ']') { ++pos_; has_merges_ = true; return true; }
    while (true) {
      skip_ws();
      if (pos_ >= src_.size()) return give_up();
      if (src_[pos_] == '"') {
        merge_items_.push_back({parse_string(), {}, false});
      } else if (src_[pos_] == '[') {
        ++pos_;
        skip_ws();
        if (pos_ >= src_.size() || src_[pos_] != '"') return give_up();
        const std::string_view a = parse_string();
        skip_ws();
        if (pos_ >= src_.size() || src_[pos_] != ',') return give_up();
        ++pos_;
        skip_ws();
        if (pos_ >= src_.size() || src_[pos_] != '"') return give_up();
        const std::string_view b = parse_string();
        skip_ws();
        if (pos_ >= src_.size() || src_[pos_] != ']') return give_up();
        ++pos_;
        merge_items_.push_back({a, b, true});
      } else {
        return give_up();
      }
      const after_member sep = next_separator(']');
      if (sep == after_member::more) continue;
      if (sep != after_member::closed) return give_up();
      break;
    }
    has_merges_ = true;
    return true;
  }

  void finish_children(std::uint32_t n, std::size_t base) {
    nodes_[n].first = static_cast<std::uint32_t>(children_.size());
    const std::size_t cnt = stack_.size() - base;
    const std::size_t members = nodes_[n].k() == kind::object ? cnt / 2 : cnt;
    if (members >= 0x1FFFFFFFu) fail("too many members");
    nodes_[n].count_kind |= static_cast<std::uint32_t>(members);
    children_.insert(children_.end(), stack_.begin() + static_cast<std::ptrdiff_t>(base), stack_.end());
    stack_.resize(base);
  }
};

inline kind value::type() const noexcept { return doc_->node(index_).k(); }
inline bool value::as_bool() const noexcept { return doc_->node(index_).b(); }
inline std::string_view value::str() const noexcept {
  const auto& n = doc_->node(index_);
  return (n.k() == kind::string || n.k() == kind::number) ? n.text() : std::string_view();
}
inline std::size_t value::size() const noexcept {
  const auto& n = doc_->node(index_);
  return (n.k() == kind::array || n.k() == kind::object) ? n.count() : 0;
}
inline value value::at(std::size_t i) const noexcept {
  const auto& n = doc_->node(index_);
  const std::uint32_t k = n.k() == kind::object ? 2 * static_cast<std::uint32_t>(i) + 1 : static_cast<std::uint32_t>(i);
  return value(doc_, doc_->child(n.first + k));
}
inline std::string_view value::key_at(std::size_t i) const noexcept {
  return doc_->node(doc_->child(doc_->node(index_).first + 2 * static_cast<std::uint32_t>(i))).text();
}
inline std::optional<value> value::find(std::string_view key) const noexcept {
  const auto& n = doc_->node(index_);
  if (n.k() != kind::object) return std::nullopt;
  for (std::uint32_t i = 0; i < n.count(); ++i)
    if (doc_->node(doc_->child(n.first + 2 * i)).text() == key) return value(doc_, doc_->child(n.first + 2 * i + 1));
  return std::nullopt;
}
inline std::optional<std::int64_t> value::as_int() const noexcept {
  const auto& n = doc_->node(index_);
  if (n.k() != kind::number) return std::nullopt;
  std::int64_t v = 0;
  const char* b = n.ptr;
  const char* e = b + n.first;
  auto [p, ec] = std::from_chars(b, e, v);
  if (ec != std::errc() || p != e) return std::nullopt;
  return v;
}
inline std::optional<double> value::as_double() const noexcept {
  const auto& n = doc_->node(index_);
  if (n.k() != kind::number) return std::nullopt;
  double v = 0;
  const char* b = n.ptr;
  const char* e = b + n.first;
  auto [p, ec] = std::from_chars(b, e, v);
  if (ec != std::errc() || p != e) return std::nullopt;
  return v;
}

/// @brief Appends a canonical serialization of v (object keys sorted, no whitespace) to out.
/// Used for fingerprints: equal content gives equal text whatever the key order or spacing.
inline void canonical(value v, std::string& out) {
  switch (v.type()) {
    case kind::null: out += "null"; return;
    case kind::boolean: out += v.as_bool() ? "true" : "false"; return;
    case kind::number: {
      if (auto i = v.as_int()) { out += std::to_string(*i); return; }
      out += std::to_string(v.as_double().value_or(0.0));
      return;
    }
    case kind::string:
      out.push_back('"');
      for (char c : v.str()) {
        if (c == '"' || c == '\\') out.push_back('\\');
        out.push_back(c);
      }
      out.push_back('"');
      return;
    case kind::array:
      out.push_back('[');
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (i) out.push_back(',');
        canonical(v.at(i), out);
      }
      out.push_back(']');
      return;
    case kind::object: {
      std::vector<std::size_t> order(v.size());
      for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
      std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return v.key_at(a) < v.key_at(b); });
      out.push_back('{');
      bool first = true;
      for (std::size_t i : order) {
        if (!first) out.push_back(',');
        first = false;
        out.push_back('"');
        out += v.key_at(i);
        out += "\":";
        canonical(v.at(i), out);
      }
      out.push_back('}');
      return;
    }
  }
}

}  // namespace uag::detail::json
