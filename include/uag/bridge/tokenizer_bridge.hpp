#pragma once
/// @file TokenizerBridge: translates drafted tokens into target candidates through text, and keeps the
/// draft's context equal to the committed target text (DESIGN.md §4).
///
/// Both sides are kept as a token run plus its running text (the concatenation of token_bytes, specials
/// empty). Translation re-encodes a bounded window — a few committed tokens of look-behind plus the new
/// text — and aligns the result with the existing tokens by *byte boundary*: a token boundary shared by
/// the existing run and the re-encoding at the end of the committed text is where new tokens start. This
/// is exact where HF's longest-diagonal id match (`_get_tokens_diag`) is a heuristic: equal ids at an
/// offset that is not the same text position can never be mistaken for an overlap.
#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "uag/core/error.hpp"
#include "uag/core/types.hpp"
#include "uag/core/utf8.hpp"
#include "uag/tokenizer/concepts.hpp"

namespace uag {

/// @brief What to_target keeps back when the drafted text may continue: more text can merge into the
/// last token ("▁the" + "m" → "▁them") and BPE can re-split the whole last word ("▁un" "bel" →
/// "▁un" "believ" "able"), which would make the candidates differ from what the target would write.
enum class hold_back_policy {
  none,        // propose every re-encoded token
  last_token,  // keep the last token back
  last_word,   // keep back the tokens of the last word (from the last token that starts with or follows
               // whitespace); just the last token when the window's new text is a single word
};

/// @brief Settings of a TokenizerBridge.
struct bridge_config {
  std::size_t target_lookbehind = 8;  // committed target tokens re-encoded with new draft text (>= 1)
  std::size_t draft_lookbehind = 8;   // draft tokens re-encoded with new committed text on resync (>= 1)
  hold_back_policy hold_back = hold_back_policy::last_word;  // what to_target keeps back unless final
  std::size_t max_held_word_bytes = 16;  // last_word: a word this long that is all the new text is
                                         // proposed but for its last token (long words, CJK runs)

  /// @brief Throws uag::config_error naming the first invalid field.
  void validate() const {
    if (target_lookbehind == 0 || target_lookbehind > 4096)
      throw config_error("config.bridge.target_lookbehind",
                         "target_lookbehind must be in [1, 4096], got " + std::to_string(target_lookbehind));
    if (draft_lookbehind == 0 || draft_lookbehind > 4096)
      throw config_error("config.bridge.draft_lookbehind",
                         "draft_lookbehind must be in [1, 4096], got " + std::to_string(draft_lookbehind));
  }
};

namespace detail {

/// @brief A tokenizer that can tell whether another one encodes and decodes identically.
template <class T>
concept has_fingerprint = requires(const T& t) {
  { t.fingerprint() } -> std::convertible_to<std::uint64_t>;
};

/// @brief A tokenizer that encodes into a caller's buffer (no allocation once the buffer is large enough).
template <class T>
concept has_encode_into = requires(const T& t, std::string_view text, token_vector& out) {
  { t.encode_into(text, false, out) };
};

/// @brief True when a and b tokenize identically, judged by content (fingerprint), never by vocab size.
/// Without fingerprints only the same object counts as identical.
template <tokenizer A, tokenizer B>
bool same_tokenizer(const A& a, const B& b) {
  if constexpr (has_fingerprint<A> && has_fingerprint<B>) {
    return static_cast<std::uint64_t>(a.fingerprint()) == static_cast<std::uint64_t>(b.fingerprint());
  } else if constexpr (std::is_same_v<A, B>) {
    return &a == &b;
  } else {
    return false;
  }
}

/// @brief Encodes text without special tokens into out (reusing its storage when the tokenizer allows).
/// returns: false (out empty) when the tokenizer rejects the text (e.g. a character it cannot spell).
template <tokenizer Tok>
bool encode_plain(const Tok& tok, std::string_view text, token_vector& out) noexcept {
  try {
    if constexpr (has_encode_into<Tok>) {
      out.clear();
      tok.encode_into(text, false, out);
    } else {
      out = tok.encode(text, false);
    }
    return true;
  } catch (const std::exception&) {
    out.clear();
    return false;
  }
}

/// @brief Token bytes → id, for greedy longest-match encoding: every token's bytes in one arena and an
/// open-addressing table of indices, so that building it allocates a few arrays rather than a string
/// and a node per token (O(vocab); milliseconds for a 151k vocabulary, built once per bridge when the
/// tokenizers differ). Where several ids have the same bytes the highest id wins (merged tokens over
/// byte-fallback tokens, e.g. "▁" over "<0x20>"). Specials and empty tokens are left out.
class bytes_index {
 public:
  template <tokenizer Tok>
  explicit bytes_index(const Tok& tok) {
    const std::size_t n = tok.vocab_size();
    std::size_t cap = 16;
    while (cap < 2 * n) cap <<= 1;  // load factor <= 1/2: short probe runs
    slots_.assign(cap, 0);
    entries_.reserve(n);
    arena_.reserve(n * 8);
    for (std::size_t k = n; k-- > 0;) {
      const auto id = static_cast<token_id>(k);
      if (tok.is_special(id)) continue;
      const std::string_view b = tok.token_bytes(id);
      if (b.empty() || b.size() > UINT32_MAX) continue;
      std::uint32_t& slot = slots_[slot_of(b)];
      if (slot != 0) continue;  // a higher id has these bytes
      entries_.push_back({static_cast<std::uint64_t>(arena_.size()), static_cast<std::uint32_t>(b.size()), id});
      arena_.append(b);
      slot = static_cast<std::uint32_t>(entries_.size());
      max_len_ = std::max(max_len_, b.size());
    }
  }

  /// @brief The id whose bytes are exactly b, if any.
  std::optional<token_id> find(std::string_view b) const noexcept {
    const std::uint32_t s = slots_[slot_of(b)];
    if (s == 0) return std::nullopt;
    return entries_[s - 1].id;
  }
  /// @brief Length of the longest token.
  std::size_t max_len() const noexcept { return max_len_; }
  /// @brief Tokens indexed.
  std::size_t size() const noexcept { return entries_.size(); }

 private:
  struct entry {
    std::uint64_t offset;  // into arena_
    std::uint32_t len;
    token_id id;
  };

  std::string_view bytes_of(const entry& e) const noexcept {
    return std::string_view(arena_).substr(static_cast<std::size_t>(e.offset), e.len);
  }

  // The slot holding b, or the empty slot where it would go (linear probing).
  std::size_t slot_of(std::string_view b) const noexcept {
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = std::hash<std::string_view>{}(b) & mask;; i = (i + 1) & mask) {
      const std::uint32_t s = slots_[i];
      if (s == 0 || bytes_of(entries_[s - 1]) == b) return i;
    }
  }

  std::string arena_;                 // the bytes of every indexed token, back to back
  std::vector<entry> entries_;
  std::vector<std::uint32_t> slots_;  // (power of two) 1 + index into entries_; 0 = empty
  std::size_t max_len_ = 0;
};

/// @brief What the bridge needs to know about one tokenizer, computed once.
template <tokenizer Tok>
class tokenizer_facts {
 public:
  /// cost: two short encodes. The bytes index for greedy encoding is built by greedy_index() (O(vocab)).
  explicit tokenizer_facts(const Tok& tok) : tok_(&tok) {
    // A tokenizer whose normalizer prepends a space marker to every input (SentencePiece "add dummy
    // prefix", Llama-2/Mistral) turns "a" into "▁a": its first token of each segment carries an extra
    // space that is not in the text.
    token_vector a;
    for (std::string_view probe : {"a", "e", "t", "x", "0"}) {
      if (!encode_plain(tok, probe, a) || a.empty()) continue;
      std::string s;
      for (token_id id : a) s += std::string_view(tok.token_bytes(id));
      prefix_space_ = (s.size() == probe.size() + 1 && s.front() == ' ' && s.substr(1) == probe);
      break;
    }
    // Ids the tokenizer puts in front of a text by itself (BOS): the draft context starts with them.
    token_vector with;
    try {
      with = tok.encode("", true);
    } catch (const std::exception&) {
      with.clear();
    }
    for (token_id id : with) {
      if (!tok.is_special(id)) break;
      leading_specials_.push_back(id);
    }
  }

  const Tok& tok() const noexcept { return *tok_; }
  bool prefix_space() const noexcept { return prefix_space_; }
  const token_vector& leading_specials() const noexcept { return leading_specials_; }

  /// @brief Greedy longest-match encoding of arbitrary bytes with tokens whose bytes are exactly those
  /// bytes (no normalisation). Used only where canonical encoding is impossible: text that starts inside
  /// a token of the canonical encoding, or incomplete UTF-8. Where several ids have the same bytes the
  /// highest id wins (merged tokens over byte-fallback tokens, e.g. "▁" over "<0x20>").
  /// returns: false (and appends nothing) if some byte has no token.
  bool encode_greedy(std::string_view bytes, token_vector& out) const {
    const bytes_index& index = greedy_index();
    const std::size_t first = out.size();
    std::size_t i = 0;
    while (i < bytes.size()) {
      std::size_t len = std::min(index.max_len(), bytes.size() - i);
      for (; len > 0; --len) {
        if (const auto id = index.find(bytes.substr(i, len))) {
          out.push_back(*id);
          break;
        }
      }
      if (len == 0) {
        out.resize(first);
        return false;
      }
      i += len;
    }
    return true;
  }

  /// @brief The index encode_greedy uses, built now if it was not yet (O(vocab), once per process and
  /// tokenizer fingerprint). A bridge between different tokenizers calls it at construction, so that
  /// no generation pays for it.
  const bytes_index& greedy_index() const {
    if (!index_) index_ = bytes_index_for(*tok_);
    return *index_;
  }

 private:
  // Shared process-wide between tokenizers of equal fingerprint (the index owns its bytes, so it
  // outlives any one tokenizer object).
  static std::shared_ptr<const bytes_index> bytes_index_for(const Tok& tok) {
    if constexpr (has_fingerprint<Tok>) {
      static std::mutex mutex;
      static std::unordered_map<std::uint64_t, std::shared_ptr<const bytes_index>> cache;
      const auto key = static_cast<std::uint64_t>(tok.fingerprint());
      std::lock_guard<std::mutex> lock(mutex);
      auto& slot = cache[key];
      if (!slot) slot = std::make_shared<const bytes_index>(tok);
      return slot;
    } else {
      return std::make_shared<const bytes_index>(tok);
    }
  }

  const Tok* tok_;
  bool prefix_space_ = false;
  token_vector leading_specials_;
  mutable std::shared_ptr<const bytes_index> index_;
};

/// @brief A token sequence with its running text: text = concatenation of token_bytes, specials empty,
/// and for prefix-space tokenizers the marker space of each segment's first token removed (so both
/// sides spell the same text the same way). A special token starts a new segment.
template <tokenizer Tok>
struct token_run {
  token_vector ids;
  std::vector<std::int64_t> ends;  // ends[i] = byte offset in text where token i ends
  std::string text;
  std::size_t seg_start = 0;       // index of the first token of the current segment

  void clear() noexcept {
    ids.clear();
    ends.clear();
    text.clear();
    seg_start = 0;
  }
  void reserve(std::size_t n_tokens) {
    ids.reserve(n_tokens);
    ends.reserve(n_tokens);
    text.reserve(n_tokens * 8);
  }
  std::size_t size() const noexcept { return ids.size(); }
  std::int64_t start_of(std::size_t i) const noexcept { return i == 0 ? 0 : ends[i - 1]; }
  std::int64_t text_end() const noexcept { return static_cast<std::int64_t>(text.size()); }

  void push(const tokenizer_facts<Tok>& f, token_id id) {
    if (f.tok().is_special(id)) {
      ids.push_back(id);
      ends.push_back(text_end());
      seg_start = ids.size();
      return;
    }
    std::string_view b = f.tok().token_bytes(id);
    if (f.prefix_space() && ids.size() == seg_start && !b.empty() && b.front() == ' ') b.remove_prefix(1);
    text.append(b);
    ids.push_back(id);
    ends.push_back(text_end());
  }

  /// @brief Appends bytes no token of this tokenizer can spell to the last token's text, so that both
  /// sides keep one text coordinate system (the draft then simply never sees those bytes). Dropped
  /// when there is no token yet.
  void absorb(std::string_view bytes) {
    if (ids.empty()) return;
    text.append(bytes);
    ends.back() = text_end();
  }

  /// @brief Keeps the first k tokens.
  void truncate(const tokenizer_facts<Tok>& f, std::size_t k) {
    if (k >= ids.size()) return;
    ids.resize(k);
    ends.resize(k);
    text.resize(static_cast<std::size_t>(start_of(k)));
    if (seg_start > k) {
      seg_start = 0;
      for (std::size_t i = k; i-- > 0;)
        if (f.tok().is_special(ids[i])) {
          seg_start = i + 1;
          break;
        }
    }
  }
};

inline bool is_continuation_byte(char c) noexcept { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

/// @brief Re-encoding of a window of text: ids and their boundaries relative to the window start.
/// bounds[0] is where the first id starts (-1 when the tokenizer added a marker space that the window
/// text does not have), bounds[i + 1] where ids[i] ends.
struct window_encoding {
  token_vector ids;
  std::vector<std::int64_t> bounds;
  std::string text;          // what the ids spell (marker spaces removed), in the same coordinates
  bool text_matches = true;  // the ids spell the window text exactly (no normaliser rewrote it)
  std::int64_t first_mismatch = 0;  // when !text_matches: first byte where they differ
};

/// @brief Encodes window (which starts at a token boundary of a run) with facts' tokenizer.
/// segment_start: the window begins a segment, so a prefix-space tokenizer's marker is genuine (and,
/// as in token_run, not part of the text).
template <tokenizer Tok>
void encode_window(const tokenizer_facts<Tok>& f, std::string_view window, bool segment_start,
                   window_encoding& out) {
  out.ids.clear();
  out.bounds.clear();
  out.text.clear();
  out.text_matches = true;
  out.first_mismatch = 0;
  if (window.empty()) {
    out.bounds.push_back(0);
    return;
  }
  // Three shapes for a prefix-space tokenizer: the window starts with a space mid-segment (drop it, the
  // marker restores it: exact), it starts a segment (the marker is genuine, stripped like token_run
  // does), or neither (the marker is an artifact: the window start is then no shared boundary).
  const bool own_space = f.prefix_space() && !segment_start && window.front() == ' ';
  const bool strip_marker = f.prefix_space() && !own_space;
  out.bounds.push_back(strip_marker && !segment_start ? -1 : 0);
  if (!encode_plain(f.tok(), own_space ? window.substr(1) : window, out.ids)) {
    out.text_matches = false;  // nothing usable: every boundary after the start is unknown
    out.first_mismatch = 0;
    return;
  }
  std::int64_t pos = 0;
  for (std::size_t i = 0; i < out.ids.size(); ++i) {
    const token_id id = out.ids[i];
    std::string_view b = f.tok().is_special(id) ? std::string_view{} : std::string_view(f.tok().token_bytes(id));
    if (i == 0 && strip_marker) {
      if (!b.empty() && b.front() == ' ') {
        b.remove_prefix(1);
      } else if (out.text_matches) {
        out.text_matches = false;  // the tokenizer did not add its marker here after all
        out.first_mismatch = 0;
      }
    }
    if (out.text_matches) {
      const auto p = static_cast<std::size_t>(pos);
      const std::size_t n = std::min(window.size() - std::min(p, window.size()), b.size());
      const auto eq = static_cast<std::size_t>(
          std::mismatch(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n),
                        window.begin() + static_cast<std::ptrdiff_t>(p))
              .first -
          b.begin());
      if (eq < b.size()) {
        out.text_matches = false;
        out.first_mismatch = pos + static_cast<std::int64_t>(eq);
      }
    }
    pos += static_cast<std::int64_t>(b.size());
    out.text.append(b);
    out.bounds.push_back(pos);
  }
  if (out.text_matches && pos != static_cast<std::int64_t>(window.size())) {
    out.text_matches = false;
    out.first_mismatch = pos;
  }
}

}  // namespace detail

/// @brief Translates between a draft tokenizer and a target tokenizer through text.
///
/// Lifecycle per generation step (what bridged_draft does):
///   1. `sync_draft(committed)` — committed target ids → the draft context (draft ids spelling the same
///      text); hand it to draft_model_runner::sync, which crops the cache where it diverges.
///   2. the draft model drafts ids after that context.
///   3. `to_target(drafted, out, final)` — drafted ids → candidate target ids.
///
/// Invariants: after sync_draft the draft context spells exactly the committed target text (specials
/// and marker spaces aside); the committed target ids are never changed; each call costs O(window)
/// (plus O(new committed tokens)), independent of the context length.
///
/// Documented choices:
/// - A draft special token (EOS, ...) ends the draft: no candidate is made for it or for anything after
///   it; the target decides about EOS in its own step. (Fast path: ids pass through, EOS included.)
/// - Target specials are never produced by re-encoding (a window that re-encodes to a special is cut
///   there) and never fed to the draft: they only start a new text segment.
/// - Text ending in an incomplete UTF-8 character is held back until the character is complete.
template <tokenizer TargetTokenizer, tokenizer DraftTokenizer>
class TokenizerBridge {
 public:
  /// requires: both tokenizers outlive the bridge. cost: a few short encodes; for different tokenizers
  /// also both greedy indices, O(target vocab + draft vocab), unless a bridge over the same tokenizers
  /// built them earlier in the process. All one-time work happens here, none in the first generation.
  TokenizerBridge(const TargetTokenizer& target, const DraftTokenizer& draft, bridge_config cfg = {})
      : cfg_(cfg), tf_(target), df_(draft), same_(detail::same_tokenizer(target, draft)) {
    cfg_.validate();
    if (!same_) {
      tf_.greedy_index();
      df_.greedy_index();
    }
    window_.reserve(256);
    reset();
  }

  /// @brief True when both tokenizers are identical by content: ids pass through unchanged.
  bool same_tokenizer() const noexcept { return same_; }
  const bridge_config& config() const noexcept { return cfg_; }

  /// @brief Reserves room for contexts of n tokens so that steps do not allocate.
  void reserve(std::size_t n) {
    t_.reserve(n);
    d_.reserve(n + 16);
    window_.reserve(std::max<std::size_t>(window_.capacity(), 1024));
    enc_.ids.reserve(256);
    enc_.bounds.reserve(257);
    enc_.text.reserve(1024);
  }

  /// @brief Forgets the sequence (new prompt).
  void reset() {
    t_.clear();
    d_.clear();
    for (token_id id : df_.leading_specials()) d_.push(df_, id);
    d_committed_ = d_.size();
    pass_ = {};
  }

  /// @brief The draft ids that spell committed (the draft context), after incorporating the target ids
  /// committed since the last call. The span stays valid until the next call on the bridge (fast path:
  /// it is committed itself).
  /// requires: committed extends the committed ids of the previous call (otherwise the bridge restarts
  /// from scratch: O(context)). cost: O(new ids + window).
  token_span sync_draft(token_span committed) {
    if (same_) {  // the draft context is the committed ids themselves: no copy, O(1)
      pass_ = committed;
      return committed;
    }
    const std::size_t seen = t_.size();
    if (committed.size() < seen || (seen > 0 && committed[seen - 1] != t_.ids[seen - 1])) {
      reset();
      return sync_draft(committed);
    }
    const std::int64_t old_end = t_.text_end();
    for (std::size_t i = seen; i < committed.size(); ++i) t_.push(tf_, committed[i]);
    const std::int64_t new_end = t_.text_end();

    // Longest common prefix of the draft's pending text and the newly committed text.
    std::int64_t agree = old_end;
    if (d_.text_end() > old_end) {
      const std::string_view pend = std::string_view(d_.text).substr(static_cast<std::size_t>(old_end));
      const std::string_view fresh = std::string_view(t_.text).substr(static_cast<std::size_t>(old_end));
      const std::size_t n = std::min(pend.size(), fresh.size());
      agree += static_cast<std::int64_t>(
          std::mismatch(pend.begin(), pend.begin() + static_cast<std::ptrdiff_t>(n), fresh.begin()).first -
          pend.begin());
    }
    // Keep draft tokens that lie entirely inside the agreed text (non-special: pending specials go).
    std::size_t keep = d_committed_;
    while (keep < d_.size() && d_.ends[keep] <= agree && !df_.tok().is_special(d_.ids[keep])) ++keep;
    // A kept lone marker at the very end would fuse with the next text: drop it.
    while (keep > d_committed_ && d_.ends[keep - 1] == d_.start_of(keep - 1)) --keep;
    d_.truncate(df_, keep);
    if (d_.text_end() < new_end) append_draft_text(new_end);
    d_committed_ = d_.size();
    return d_.ids;
  }

  /// @brief Candidate target ids for the drafted ids (which continue the context last returned by
  /// sync_draft): the new draft text is re-encoded with the committed target tail and the target ids
  /// after the committed text are appended to out. Unless final (the draft ended, e.g. at its EOS), the
  /// config's hold_back_policy keeps back what more text could still change (the last word or token).
  /// Appends nothing when the text re-encodes to nothing new. returns: number of ids appended.
  /// cost: one target encode of the window (look-behind + new text).
  std::size_t to_target(token_span drafted, token_vector& out, bool final = false) {
    if (same_) {
      out.insert(out.end(), drafted.begin(), drafted.end());
      return drafted.size();
    }
    record_drafted(drafted);
    const std::int64_t t_end = t_.text_end();
    if (d_.text_end() <= t_end) return 0;

    // Window: look-behind over committed target tokens of the current segment.
    const std::size_t ws = window_start(t_, tf_, cfg_.target_lookbehind);
    const std::int64_t base = t_.start_of(ws);
    const std::int64_t e = t_end - base;
    window_.assign(t_.text, static_cast<std::size_t>(base), std::string::npos);
    window_.append(d_.text, static_cast<std::size_t>(t_end), std::string::npos);
    // Hold back an incomplete (or invalid) tail: never encode half a character.
    const std::size_t valid = utf8::valid_prefix_length(window_);
    if (static_cast<std::int64_t>(valid) <= e) return 0;
    window_.resize(valid);

    detail::encode_window(tf_, window_, ws == t_.seg_start, enc_);
    if (!enc_.text_matches && enc_.first_mismatch < e) return 0;  // normaliser rewrote committed text
    const std::size_t first_out = out.size();
    // The re-encoding's boundary at the end of the committed text (smallest index: keeps zero-length
    // marker tokens at a segment start).
    std::size_t j = 0;
    while (j < enc_.bounds.size() && enc_.bounds[j] < e) ++j;
    if (j == enc_.bounds.size()) return 0;
    // A lone segment marker ("▁" alone) already committed: the re-encoding's first token carries its
    // own marker, which must not be proposed again — skip it if it is alone, else spell its text anew.
    const bool marker_committed = tf_.prefix_space() && ws == t_.seg_start && e == 0 && t_.size() > ws;
    if (marker_committed && !enc_.ids.empty()) {
      if (enc_.bounds[1] > 0 && !tf_.encode_greedy(std::string_view(enc_.text).substr(0, static_cast<std::size_t>(enc_.bounds[1])), out))
        return 0;
      j = 1;
    } else if (enc_.bounds[j] != e) {
      // A re-encoded token straddles the committed end ("▁the" committed, "▁them" re-encoded): spell
      // the rest of that token with target tokens starting exactly at the committed end.
      const std::int64_t y = enc_.bounds[j];
      const std::string_view piece =
          std::string_view(enc_.text).substr(static_cast<std::size_t>(e), static_cast<std::size_t>(y - e));
      if (!tf_.encode_greedy(piece, out)) return 0;
    }
    const std::size_t r_first = out.size();
    for (std::size_t k = j; k < enc_.ids.size(); ++k) {
      if (tf_.tok().is_special(enc_.ids[k])) break;
      out.push_back(enc_.ids[k]);
    }
    if (!final && cfg_.hold_back != hold_back_policy::none && out.size() > first_out) {
      // More text may still merge into the last token, and BPE may re-split the whole last word.
      std::size_t cut = out.size() - 1;
      if (cfg_.hold_back == hold_back_policy::last_word) {
        std::size_t i = out.size() - 1;
        while (i > r_first && !word_start(enc_.bounds[j + (i - r_first)])) --i;
        if (i > first_out) {
          cut = i;  // propose the complete words, keep the last one back
        } else if (i == r_first && word_start(enc_.bounds[j])) {
          // The new text is one word that starts at the committed end: wait for its end unless it is long.
          const std::int64_t word_bytes = enc_.bounds.back() - enc_.bounds[j];
          if (word_bytes <= static_cast<std::int64_t>(cfg_.max_held_word_bytes)) cut = i;
        }  // else the word began in committed text (its first tokens are fixed): keep the last token back
      }
      out.resize(cut);
    }
    // A trailing lone marker is never proposed: the next text merges into it.
    while (out.size() > first_out && tf_.prefix_space() && t_.size() == t_.seg_start &&
           out.size() - first_out == 1 && zero_length_first(out.back()))
      out.pop_back();
    return out.size() - first_out;
  }

  /// @brief Appends drafted ids to the draft context without translating them (TLI: the candidates
  /// are mapped ids spelling the same text). Stops at the first special id (draft EOS).
  void record_drafted(token_span drafted) {
    if (same_) return;
    for (token_id id : drafted) {
      if (df_.tok().is_special(id)) break;
      d_.push(df_, id);
    }
  }

  /// @brief For each of the last out.size() ids of the draft context, the index among the committed
  /// target ids of the one that starts where it starts (text both spell there), or -1: no target token
  /// starts there (the tokenizations split the text differently), the draft id spells nothing, or the
  /// context is shorter. Fast path: the index of the id itself. cost: O(out.size() + target ids passed).
  void target_starts(std::span<std::ptrdiff_t> out) const noexcept {
    const std::size_t n = same_ ? pass_.size() : d_.size(), k = std::min(out.size(), n);
    std::fill(out.begin(), out.end() - static_cast<std::ptrdiff_t>(k), -1);
    std::size_t j = t_.size();  // target ids [0, j) start at or before the draft id's start
    for (std::size_t r = 1; r <= k; ++r) {
      const std::size_t i = n - r;
      std::ptrdiff_t& hit = out[out.size() - r];
      if (same_) {
        hit = static_cast<std::ptrdiff_t>(i);
        continue;
      }
      hit = -1;
      const std::int64_t s = d_.start_of(i);
      if (d_.ends[i] == s) continue;
      while (j > 0 && t_.start_of(j - 1) > s) --j;
      // The target id at s that spells text (a special or a lone marker before it spells none).
      if (j > 0 && t_.start_of(j - 1) == s && t_.ends[j - 1] > s) hit = static_cast<std::ptrdiff_t>(j - 1);
    }
  }

  /// @brief The committed target ids the bridge has seen (copy of the last sync_draft argument).
  token_span committed_target() const noexcept { return t_.ids; }
  /// @brief The committed target text as the bridge spells it.
  std::string_view committed_text() const noexcept { return t_.text; }
  /// @brief The draft context (including drafted, not yet committed ids).
  token_span draft_context() const noexcept { return same_ ? token_span(pass_) : token_span(d_.ids); }
  /// @brief The text the draft context spells.
  std::string_view draft_text() const noexcept { return d_.text; }

 private:
  // True when a token starting at window position p starts a word: it begins with whitespace or ASCII
  // punctuation, or follows either (pre-tokenizers split there, so BPE merges do not cross it).
  bool word_start(std::int64_t p) const noexcept {
    auto sep = [](char c) {
      const auto u = static_cast<unsigned char>(c);
      return u < 0x80 && !((u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u == '_');
    };
    const std::string& t = enc_.text;
    if (p < 0 || static_cast<std::size_t>(p) >= t.size()) return false;
    return sep(t[static_cast<std::size_t>(p)]) || (p > 0 && sep(t[static_cast<std::size_t>(p - 1)]));
  }

  // True when id, as the first token of a segment, spells no text (a lone marker space).
  bool zero_length_first(token_id id) const {
    const std::string_view b = tf_.tok().token_bytes(id);
    return b == " ";
  }

  // First token of the look-behind window: at most `lookbehind` tokens back, inside the current segment,
  // starting on a character boundary; for prefix-space tokenizers preferably on a token that starts
  // with a space (its marker is then reproduced exactly by re-encoding).
  template <tokenizer Tok>
  static std::size_t window_start(const detail::token_run<Tok>& run, const detail::tokenizer_facts<Tok>& f,
                                  std::size_t lookbehind) {
    const std::size_t n = run.size();
    std::size_t lo = n > lookbehind ? n - lookbehind : 0;
    lo = std::max(lo, run.seg_start);
    if (lo == run.seg_start) return lo;
    std::size_t any = n;
    for (std::size_t i = lo; i < n; ++i) {
      const std::int64_t s = run.start_of(i);
      if (run.ends[i] == s) continue;  // zero-length
      const char c = run.text[static_cast<std::size_t>(s)];
      if (detail::is_continuation_byte(c)) continue;
      if (!f.prefix_space() || c == ' ') return i;
      if (any == n) any = i;
    }
    return any;
  }

  // Appends draft tokens spelling t_.text[d_.text_end() .. new_end), re-encoding a window of the draft
  // tail with it and cropping the draft back to the last boundary it shares with the re-encoding.
  void append_draft_text(std::int64_t new_end) {
    const std::int64_t cur = d_.text_end();
    if (cur >= new_end) return;
    const std::size_t ws = window_start(d_, df_, cfg_.draft_lookbehind);
    const std::int64_t base = d_.start_of(ws);
    const std::int64_t e = cur - base;
    window_.assign(d_.text, static_cast<std::size_t>(base), std::string::npos);
    window_.append(t_.text, static_cast<std::size_t>(cur), static_cast<std::size_t>(new_end - cur));
    const std::size_t valid = utf8::valid_prefix_length(window_);
    if (static_cast<std::int64_t>(valid) > e) {
      window_.resize(valid);
      detail::encode_window(df_, window_, ws == d_.seg_start, enc_);
      const std::int64_t limit = enc_.text_matches ? e : std::min(e, enc_.first_mismatch);
      // Largest boundary <= limit shared by the draft tokens [ws, n) and the re-encoding. A zero-length
      // token (stripped marker) shares its boundary with its predecessor: the re-encoding re-emits it.
      std::size_t best_k = d_.size() + 1;  // none
      std::size_t best_j = 0;
      std::size_t j = 0;
      std::int64_t prev = -2;
      for (std::size_t k = ws; k <= d_.size(); ++k) {
        const std::int64_t b = (k == ws ? base : d_.ends[k - 1]) - base;
        if (b > limit) break;
        if (b == prev) continue;
        prev = b;
        while (j < enc_.bounds.size() && enc_.bounds[j] < b) ++j;
        if (j < enc_.bounds.size() && enc_.bounds[j] == b) {
          best_k = k;
          best_j = j;
        }
      }
      if (best_k <= d_.size()) {
        d_.truncate(df_, best_k);
        for (std::size_t k = best_j; k < enc_.ids.size(); ++k) {
          if (df_.tok().is_special(enc_.ids[k])) break;
          // Not past the first byte the draft's normaliser rewrote (a literal "▁" that SentencePiece
          // spells as a space, NFC): the rest is spelled byte-exactly below, so the draft text stays
          // the committed text (fuzz_bridge finding).
          if (!enc_.text_matches && enc_.bounds[k + 1] > enc_.first_mismatch) break;
          d_.push(df_, enc_.ids[k]);
        }
      }
    }
    // Whatever is still missing (incomplete character, invalid bytes, no shared boundary) is spelled
    // byte-exactly by greedy longest match, provided the draft text still agrees with the committed text.
    const std::int64_t from = d_.text_end();
    if (from < new_end && from >= base &&
        std::string_view(d_.text).substr(static_cast<std::size_t>(base)) ==
            std::string_view(t_.text).substr(static_cast<std::size_t>(base), static_cast<std::size_t>(from - base))) {
      greedy_.clear();
      const std::string_view rest =
          std::string_view(t_.text).substr(static_cast<std::size_t>(from), static_cast<std::size_t>(new_end - from));
      if (df_.encode_greedy(rest, greedy_)) {
        for (token_id id : greedy_) d_.push(df_, id);
      } else {
        d_.absorb(rest);  // bytes the draft cannot spell at all: kept as text only (see token_run::absorb)
      }
    }
  }

  bridge_config cfg_;
  detail::tokenizer_facts<TargetTokenizer> tf_;
  detail::tokenizer_facts<DraftTokenizer> df_;
  bool same_;
  detail::token_run<TargetTokenizer> t_;  // committed target ids and their text
  detail::token_run<DraftTokenizer> d_;   // draft context: leading specials, committed text, drafted ids
  std::size_t d_committed_ = 0;           // d_ ids [0, d_committed_) spell the committed text
  std::string window_;                    // re-encoding window (reused)
  detail::window_encoding enc_;           // re-encoding result (reused)
  token_vector greedy_;                   // greedy fallback ids (reused)
  token_span pass_;                       // fast path: the committed ids of the last sync_draft
};

}  // namespace uag
