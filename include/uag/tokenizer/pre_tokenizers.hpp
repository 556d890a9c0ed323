#pragma once
/// @file tokenizer.json pre-tokenizers: Sequence, Split, ByteLevel, Metaspace, Digits, Whitespace,
/// WhitespaceSplit, Punctuation. They cut a normalized split into words for the model, with the split
/// behaviours of HF's NormalizedString::split (Removed, Isolated, MergedWithPrevious, MergedWithNext,
/// Contiguous) and its Pattern::find_matches rules (a char predicate makes every matching char a match).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "uag/tokenizer/detail/config.hpp"
#include "uag/tokenizer/detail/unicode.hpp"
#include "uag/tokenizer/regex.hpp"

namespace uag {

/// @brief Words produced by pre-tokenization: ranges into one text buffer.
struct word_list {
  struct word {
    std::uint32_t offset;
    std::uint32_t length;
    bool at_start;  // begins at offset 0 of the original input (Metaspace prepend_scheme "first")
  };
  std::string buf;
  std::vector<word> words;
  void clear() noexcept { buf.clear(); words.clear(); }
  std::string_view text(const word& w) const noexcept { return std::string_view(buf).substr(w.offset, w.length); }
  void add(std::string_view s, bool at_start) {
    if (s.empty()) return;  // HF drops empty splits
    words.push_back({static_cast<std::uint32_t>(buf.size()), static_cast<std::uint32_t>(s.size()), at_start});
    buf.append(s);
  }
};

/// @brief How matched delimiters are kept (HF SplitDelimiterBehavior).
enum class split_behavior { removed, isolated, merged_with_previous, merged_with_next, contiguous };

namespace detail {

struct match_range {
  std::size_t begin, end;
  bool is_match;
};

/// Applies behavior to a full segmentation of a piece (HF NormalizedString::split) and calls
/// emit(begin, end) for each kept range.
template <class Emit>
void split_segments(const std::vector<match_range>& m, split_behavior behavior, Emit&& emit) {
  switch (behavior) {
    case split_behavior::isolated:
      for (const auto& r : m) emit(r.begin, r.end);
      return;
    case split_behavior::removed:
      for (const auto& r : m)
        if (!r.is_match) emit(r.begin, r.end);
      return;
    default: break;
  }
  // Fold into (begin, end) pairs, then emit.
  thread_local std::vector<std::pair<std::size_t, std::size_t>> acc;
  acc.clear();
  bool previous_match = false;
  if (behavior == split_behavior::contiguous) {
    for (const auto& r : m) {
      if (r.is_match == previous_match && !acc.empty()) acc.back().second = r.end;
      else acc.emplace_back(r.begin, r.end);
      previous_match = r.is_match;
    }
  } else if (behavior == split_behavior::merged_with_previous) {
    for (const auto& r : m) {
      if (r.is_match && !previous_match && !acc.empty()) acc.back().second = r.end;
      else acc.emplace_back(r.begin, r.end);
      previous_match = r.is_match;
    }
  } else {  // merged_with_next: fold from the back
    for (auto it = m.rbegin(); it != m.rend(); ++it) {
      if (it->is_match && !previous_match && !acc.empty()) acc.back().first = it->begin;
      else acc.emplace_back(it->begin, it->end);
      previous_match = it->is_match;
    }
    for (auto it = acc.rbegin(); it != acc.rend(); ++it) emit(it->first, it->second);
    return;
  }
  for (const auto& [b, e] : acc) emit(b, e);
}

/// Segmentation by a regex (HF `impl Pattern for &Regex`), optionally inverted.
inline void regex_segments(const tokenizer_regex& re, std::string_view s, bool invert, std::vector<match_range>& out) {
  out.clear();
  if (s.empty()) { out.push_back({0, 0, false}); return; }
  std::size_t prev = 0;
  re.for_each_match(s, [&](std::size_t b, std::size_t e) {
    if (prev != b) out.push_back({prev, b, invert});
    out.push_back({b, e, !invert});
    prev = e;
  });
  if (prev != s.size()) out.push_back({prev, s.size(), invert});
}

/// Segmentation by a char predicate (HF `impl<F: Fn(char) -> bool> Pattern for F`).
template <class Pred>
void char_segments(std::string_view s, Pred&& pred, std::vector<match_range>& out) {
  out.clear();
  if (s.empty()) { out.push_back({0, 0, false}); return; }
  std::size_t last_offset = 0, i = 0;
  while (i < s.size()) {
    std::size_t len = 0;
    const char32_t c = unicode::decode(s, i, len);
    if (pred(c)) {
      if (last_offset < i) out.push_back({last_offset, i, false});
      out.push_back({i, i + len, true});
      last_offset = i + len;
    }
    i += len;
  }
  if (s.size() > last_offset) out.push_back({last_offset, s.size(), false});
}

}  // namespace detail

/// @brief A pre-tokenizer: a flat list of steps (a Sequence is flattened at load).
class pre_tokenizer {
 public:
  enum class kind { split, byte_level, metaspace, digits, whitespace, whitespace_split, punctuation };
  enum class prepend_scheme { always, first, never };
  struct step {
    kind k{};
    tokenizer_regex pattern;                       // split, byte_level (use_regex), whitespace
    split_behavior behavior = split_behavior::isolated;
    bool invert = false;
    bool add_prefix_space = false;                 // byte_level
    bool use_regex = true;                         // byte_level
    bool map_bytes = true;                         // byte_level: write the GPT-2 alphabet (false when the model works on raw bytes)
    std::string replacement = "\xE2\x96\x81";      // metaspace ('▁')
    char32_t replacement_char = 0x2581;
    prepend_scheme scheme = prepend_scheme::always;
    bool split = true;                             // metaspace
    bool individual_digits = false;                // digits
  };
  static step make(kind k) {
    step s;
    s.k = k;
    return s;
  }

  /// GPT-2's pattern, used by ByteLevel with use_regex.
  static constexpr std::string_view gpt2_pattern =
      "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

  static pre_tokenizer from_json(detail::json::value v, const std::string& path = "pre_tokenizer") {
    pre_tokenizer p;
    if (!v.is_null()) p.parse(v, path);
    return p;
  }

  bool empty() const noexcept { return steps_.empty(); }
  std::vector<step>& steps() noexcept { return steps_; }
  const std::vector<step>& steps() const noexcept { return steps_; }

  /// @brief True when the last step is a ByteLevel step (and no other step maps bytes): the model may
  /// then work on raw bytes and the mapping to the GPT-2 alphabet can be skipped.
  bool ends_with_byte_level() const noexcept {
    if (steps_.empty() || steps_.back().k != kind::byte_level) return false;
    for (std::size_t i = 0; i + 1 < steps_.size(); ++i)
      if (steps_[i].k == kind::byte_level) return false;
    return true;
  }

  /// @brief Pre-tokenizes one normalized split into out (cleared first). scratch is reused between calls.
  void run(std::string_view text, bool at_start, word_list& out, word_list& scratch) const {
    out.clear();
    out.add(text, at_start);
    for (const step& st : steps_) {
      scratch.clear();
      for (const auto& w : out.words) apply(st, out.text(w), w.at_start, scratch);
      std::swap(out, scratch);
    }
  }

 private:
  std::vector<step> steps_;

  static split_behavior parse_behavior(detail::json::value v, const std::string& path, split_behavior fallback) {
    auto b = detail::cfg::opt_string(v, "behavior", path);
    if (!b) return fallback;
    if (*b == "Removed") return split_behavior::removed;
    if (*b == "Isolated") return split_behavior::isolated;
    if (*b == "MergedWithPrevious") return split_behavior::merged_with_previous;
    if (*b == "MergedWithNext") return split_behavior::merged_with_next;
    if (*b == "Contiguous") return split_behavior::contiguous;
    throw uag::tokenizer_error("tokenizer.value", "'" + path + ".behavior' is '" + std::string(*b) + "', not a split behavior");
  }

  void parse(detail::json::value v, const std::string& path) {
    namespace cfg = detail::cfg;
    const std::string_view type = cfg::type_of(v, path);
    if (type == "Sequence") {
      const auto list = cfg::req_array(v, "pretokenizers", path);
      for (std::size_t i = 0; i < list.size(); ++i) parse(list.at(i), path + ".pretokenizers[" + std::to_string(i) + "]");
    } else if (type == "Split") {
      step s = make(kind::split);
      const auto p = cfg::pattern(v, path);
      s.pattern = p.is_regex ? tokenizer_regex::from_pattern(p.text) : tokenizer_regex::from_literal(p.text);
      s.behavior = parse_behavior(v, path, split_behavior::isolated);
      if (!cfg::opt(v, "behavior")) throw uag::tokenizer_error("tokenizer.missing", "'" + path + ".behavior' is missing");
      s.invert = cfg::opt_bool(v, "invert", path, false);
      steps_.push_back(std::move(s));
    } else if (type == "ByteLevel") {
      step s = make(kind::byte_level);
      s.add_prefix_space = cfg::opt_bool(v, "add_prefix_space", path, true);
      s.use_regex = cfg::opt_bool(v, "use_regex", path, true);
      if (s.use_regex) s.pattern = tokenizer_regex::from_pattern(gpt2_pattern);
      steps_.push_back(std::move(s));
    } else if (type == "Metaspace") {
      step s = make(kind::metaspace);
      if (auto r = cfg::opt_string(v, "replacement", path)) {
        std::size_t len = 0;
        if (r->empty() || (s.replacement_char = detail::unicode::decode(*r, 0, len), len != r->size()))
          throw uag::tokenizer_error("tokenizer.value", "'" + path + ".replacement' must be exactly one character");
        s.replacement = std::string(*r);
      }
      if (auto sch = cfg::opt_string(v, "prepend_scheme", path)) {
        if (*sch == "always") s.scheme = prepend_scheme::always;
        else if (*sch == "first") s.scheme = prepend_scheme::first;
        else if (*sch == "never") s.scheme = prepend_scheme::never;
        else throw uag::tokenizer_error("tokenizer.value", "'" + path + ".prepend_scheme' is '" + std::string(*sch) + "'");
      } else if (auto aps = cfg::opt(v, "add_prefix_space")) {  // legacy files
        s.scheme = cfg::opt_bool(v, "add_prefix_space", path, true) ? prepend_scheme::always : prepend_scheme::never;
        (void)aps;
      }
      s.split = cfg::opt_bool(v, "split", path, true);
      steps_.push_back(std::move(s));
    } else if (type == "Digits") {
      step s = make(kind::digits);
      s.individual_digits = cfg::opt_bool(v, "individual_digits", path, false);
      steps_.push_back(std::move(s));
    } else if (type == "Whitespace") {
      step s = make(kind::whitespace);
      s.pattern = tokenizer_regex::from_pattern("\\w+|[^\\w\\s]+");
      steps_.push_back(std::move(s));
    } else if (type == "WhitespaceSplit") {
      steps_.push_back(make(kind::whitespace_split));
    } else if (type == "Punctuation") {
      step s = make(kind::punctuation);
      s.behavior = parse_behavior(v, path, split_behavior::isolated);
      steps_.push_back(std::move(s));
    } else if (type == "BertPreTokenizer" || type == "CharDelimiterSplit" || type == "UnicodeScripts" ||
               type == "FixedLength") {
      cfg::unsupported(path, "the " + std::string(type) + " pre-tokenizer");
    } else {
      cfg::unknown_type(path, type);
    }
  }

  static void apply(const step& st, std::string_view s, bool at_start, word_list& out) {
    thread_local std::vector<detail::match_range> m;
    auto emit_from = [&](std::string_view base) {
      return [&out, base, at_start](std::size_t b, std::size_t e) { out.add(base.substr(b, e - b), at_start && b == 0); };
    };
    switch (st.k) {
      case kind::split:
        detail::regex_segments(st.pattern, s, st.invert, m);
        detail::split_segments(m, st.behavior, emit_from(s));
        return;
      case kind::whitespace:
        detail::regex_segments(st.pattern, s, true, m);
        detail::split_segments(m, split_behavior::removed, emit_from(s));
        return;
      case kind::whitespace_split:
        detail::char_segments(s, detail::unicode::is_whitespace, m);
        detail::split_segments(m, split_behavior::removed, emit_from(s));
        return;
      case kind::punctuation:
        detail::char_segments(s, detail::unicode::is_punctuation, m);
        detail::split_segments(m, st.behavior, emit_from(s));
        return;
      case kind::digits:
        detail::char_segments(s, detail::unicode::is_numeric, m);
        detail::split_segments(m, st.individual_digits ? split_behavior::isolated : split_behavior::contiguous, emit_from(s));
        return;
      case kind::metaspace: {
        thread_local std::string t;
        t.clear();
        for (char c : s) {
          if (c == ' ') t += st.replacement; else t.push_back(c);
        }
        const bool starts = t.compare(0, st.replacement.size(), st.replacement) == 0;
        if (!starts && (st.scheme == prepend_scheme::always || (st.scheme == prepend_scheme::first && at_start)))
          t.insert(0, st.replacement);
        if (!st.split) { out.add(t, at_start); return; }
        const char32_t rc = st.replacement_char;
        detail::char_segments(t, [rc](char32_t c) { return c == rc; }, m);
        detail::split_segments(m, split_behavior::merged_with_next, emit_from(t));
        return;
      }
      case kind::byte_level: {
        thread_local std::string t;
        std::string_view src = s;
        if (st.add_prefix_space && (s.empty() || s.front() != ' ')) {
          t.assign(" ");
          t.append(s);
          src = t;
        }
        if (!st.map_bytes) {
          if (st.use_regex) {
            detail::regex_segments(st.pattern, src, false, m);
            detail::split_segments(m, split_behavior::isolated, emit_from(src));
          } else {
            out.add(src, at_start);
          }
          return;
        }
        thread_local std::string mapped;
        auto add_mapped = [&](std::string_view piece, bool start) {
          mapped.clear();
          const auto& tbl = detail::unicode::byte_to_utf8();
          for (char c : piece) mapped += tbl[static_cast<unsigned char>(c)];
          out.add(mapped, start);
        };
        if (st.use_regex) {
          detail::regex_segments(st.pattern, src, false, m);
          for (const auto& r : m) add_mapped(src.substr(r.begin, r.end - r.begin), at_start && r.begin == 0);
        } else {
          add_mapped(src, at_start);
        }
        return;
      }
    }
  }
};

}  // namespace uag
