#pragma once
/// @file The BPE model of tokenizer.json, byte-level (GPT-2) and SentencePiece-style (▁, byte_fallback,
/// fuse_unk, unk), with ignore_merges, continuing_subword_prefix and end_of_word_suffix.
///
/// The merge loop is HF tokenizers' Word::merge_all (a binary heap of (rank, position) over a linked list of
/// symbols, stale entries detected by the merged id), so ties and stale-entry quirks match bit for bit.
/// Merges are keyed by the pair of ids in an open-addressing table; tokens live in one arena.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "uag/core/memory.hpp"
#include "uag/core/types.hpp"
#include "uag/tokenizer/detail/config.hpp"
#include "uag/tokenizer/detail/unicode.hpp"

namespace uag {
namespace detail {

inline std::uint64_t hash_bytes(std::string_view s) noexcept {
  std::uint64_t h = 0x9E3779B97F4A7C15ull ^ (s.size() * 0x100000001B3ull);
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t v;
    std::memcpy(&v, s.data() + i, 8);
    h = (h ^ v) * 0xFF51AFD7ED558CCDull;
    h ^= h >> 32;
  }
  std::uint64_t v = 0;
  std::memcpy(&v, s.data() + i, s.size() - i);
  h = (h ^ v) * 0xC4CEB9FE1A85EC53ull;
  h ^= h >> 29;
  h *= 0x94D049BB133111EBull;
  h ^= h >> 31;
  return h;
}

inline std::uint64_t mix64(std::uint64_t x) noexcept {
  x ^= x >> 33;
  x *= 0xFF51AFD7ED558CCDull;
  x ^= x >> 33;
  x *= 0xC4CEB9FE1A85EC53ull;
  x ^= x >> 33;
  return x;
}

/// @brief string -> id, open addressing; keys stored in one arena. A slot holds a hash tag, the key's
/// length, its first 8 bytes and its place in the arena, so a lookup of a key of at most 8 bytes (most
/// tokens) touches only its slot, and longer keys touch the arena only on a full prefix match.
class string_id_map {
 public:
  void reserve(std::size_t n, std::size_t key_bytes = 0) {
    std::size_t cap = 16;
    while (cap < n * 2) cap <<= 1;
    if (cap > slots_.size()) rehash(cap);
    arena_.reserve(key_bytes);
  }
  std::size_t size() const noexcept { return size_; }

  /// @brief Inserts key -> id; returns false (and changes nothing) if key is present.
  bool insert(std::string_view key, token_id id) { return insert_hashed(key, hash_bytes(key), id); }

  bool insert_hashed(std::string_view key, std::uint64_t h, token_id id) {
    if ((size_ + 1) * 2 > slots_.size()) rehash(slots_.empty() ? 16 : slots_.size() * 2);
    const std::uint32_t tag = tag_of(h);
    const std::uint64_t pre = prefix_of(key);
    std::size_t i = h & (slots_.size() - 1);
    while (slots_[i].tag != 0) {
      if (same(slots_[i], tag, pre, key)) return false;
      i = (i + 1) & (slots_.size() - 1);
    }
    slots_[i] = {tag, static_cast<std::uint32_t>(key.size()), static_cast<std::uint32_t>(arena_.size()), id, pre};
    arena_.append(key);
    ++size_;
    return true;
  }

  std::optional<token_id> find(std::string_view key) const noexcept { return find_hashed(key, hash_bytes(key)); }

  /// @brief Hash of key, with the slot it starts probing at prefetched (batch lookups overlap misses).
  std::uint64_t prefetch(std::string_view key) const noexcept {
    const std::uint64_t h = hash_bytes(key);
    if (!slots_.empty()) __builtin_prefetch(&slots_[h & (slots_.size() - 1)]);
    return h;
  }

  std::optional<token_id> find_hashed(std::string_view key, std::uint64_t h) const noexcept {
    if (slots_.empty()) return std::nullopt;
    const std::uint32_t tag = tag_of(h);
    const std::uint64_t pre = prefix_of(key);
    std::size_t i = h & (slots_.size() - 1);
    while (slots_[i].tag != 0) {
      if (same(slots_[i], tag, pre, key)) return slots_[i].id;
      i = (i + 1) & (slots_.size() - 1);
    }
    return std::nullopt;
  }

 private:
  struct slot {
    std::uint32_t tag;  // high hash bits, never 0; 0 marks an empty slot
    std::uint32_t len, off;
    token_id id;
    std::uint64_t prefix;  // first 8 bytes of the key, zero padded
  };
  std::vector<slot> slots_;
  std::string arena_;
  std::size_t size_ = 0;

  static std::uint32_t tag_of(std::uint64_t h) noexcept { return static_cast<std::uint32_t>(h >> 32) | 1u; }
  static std::uint64_t prefix_of(std::string_view key) noexcept {
    std::uint64_t v = 0;
    std::memcpy(&v, key.data(), key.size() < 8 ? key.size() : 8);
    return v;
  }
  bool same(const slot& e, std::uint32_t tag, std::uint64_t pre, std::string_view key) const noexcept {
    if (e.tag != tag || e.len != key.size() || e.prefix != pre) return false;
    return key.size() <= 8 || std::memcmp(arena_.data() + e.off + 8, key.data() + 8, key.size() - 8) == 0;
  }
  std::string_view view(const slot& e) const noexcept { return std::string_view(arena_).substr(e.off, e.len); }
  void rehash(std::size_t cap) {
    std::vector<slot> old = std::move(slots_);
    slots_.reserve(cap);
    advise_huge_pages(slots_.data(), cap * sizeof(slot));
    slots_.assign(cap, slot{0, 0, 0, 0, 0});
    for (const slot& e : old) {
      if (e.tag == 0) continue;
      std::size_t i = hash_bytes(view(e)) & (cap - 1);
      while (slots_[i].tag != 0) i = (i + 1) & (cap - 1);
      slots_[i] = e;
    }
  }
};

/// @brief (left id, right id) -> (rank, merged id), open addressing; key and value share one slot.
class merge_map {
 public:
  struct value_type {
    std::uint32_t rank;
    token_id new_id;
  };
  void reserve(std::size_t n) {
    std::size_t cap = 16;
    while (cap * 2 < n * 3) cap <<= 1;  // load factor <= 2/3
    if (cap > slots_.size()) rehash(cap);
  }
  std::size_t size() const noexcept { return size_; }
  /// Inserts or overwrites (HF collects merges into a HashMap: a later duplicate wins).
  void put(token_id a, token_id b, value_type v) {
    if ((size_ + 1) * 3 > slots_.size() * 2) rehash(slots_.empty() ? 16 : slots_.size() * 2);
    const std::uint64_t k = key(a, b);
    std::size_t i = mix64(k) & (slots_.size() - 1);
    while (slots_[i].key != empty_key && slots_[i].key != k) i = (i + 1) & (slots_.size() - 1);
    if (slots_[i].key == empty_key) ++size_;
    slots_[i] = {k, v};
  }
  /// @brief Prefetches the slot where (a, b) starts probing (batch inserts overlap cache misses).
  void prefetch(token_id a, token_id b) const noexcept {
    if (!slots_.empty()) __builtin_prefetch(&slots_[mix64(key(a, b)) & (slots_.size() - 1)]);
  }
  const value_type* find(token_id a, token_id b) const noexcept {
    if (slots_.empty()) return nullptr;
    const std::uint64_t k = key(a, b);
    std::size_t i = mix64(k) & (slots_.size() - 1);
    while (slots_[i].key != empty_key) {
      if (slots_[i].key == k) return &slots_[i].value;
      i = (i + 1) & (slots_.size() - 1);
    }
    return nullptr;
  }

 private:
  static constexpr std::uint64_t empty_key = ~0ull;
  struct slot {
    std::uint64_t key;
    value_type value;
  };
  std::vector<slot> slots_;
  std::size_t size_ = 0;
  static std::uint64_t key(token_id a, token_id b) noexcept {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(a)) << 32) | static_cast<std::uint32_t>(b);
  }
  void rehash(std::size_t cap) {
    std::vector<slot> old = std::move(slots_);
    slots_.reserve(cap);
    advise_huge_pages(slots_.data(), cap * sizeof(slot));
    slots_.assign(cap, slot{empty_key, {0, 0}});
    for (const slot& e : old) {
      if (e.key == empty_key) continue;
      std::size_t i = mix64(e.key) & (cap - 1);
      while (slots_[i].key != empty_key) i = (i + 1) & (cap - 1);
      slots_[i] = e;
    }
  }
};

}  // namespace detail

/// @brief Largest token id accepted in a tokenizer file (guards allocations against absurd ids).
inline constexpr std::int64_t max_token_id = (1 << 24) - 1;

/// @brief The BPE model: vocab, merges and the merge algorithm.
class bpe_model {
 public:
  /// @brief Parses tokenizer.json's "model". Throws tokenizer_error / unsupported_error.
  static bpe_model from_json(detail::json::value m, const std::string& path = "model") {
    namespace cfg = detail::cfg;
    cfg::require_object(m, path);
    std::string_view type = "BPE";
    if (auto t = cfg::opt_string(m, "type", path)) type = *t;
    if (type == "Unigram" || type == "WordPiece" || type == "WordLevel")
      cfg::unsupported(path, "the " + std::string(type) + " model");
    if (type != "BPE") cfg::unknown_type(path, type);

    bpe_model b;
    if (auto d = cfg::opt(m, "dropout")) {
      auto x = d->as_double();
      if (!d->is_number() || !x) cfg::type_error(path + ".dropout", "a number or null", *d);
      if (*x != 0.0) cfg::unsupported(path + ".dropout", "BPE dropout (non-deterministic encoding)");
    }
    if (auto u = cfg::opt_string(m, "unk_token", path)) b.unk_token_ = std::string(*u);
    if (auto p = cfg::opt_string(m, "continuing_subword_prefix", path)) b.prefix_ = std::string(*p);
    if (auto s = cfg::opt_string(m, "end_of_word_suffix", path)) b.suffix_ = std::string(*s);
    b.fuse_unk_ = cfg::opt_bool(m, "fuse_unk", path, false);
    b.byte_fallback_ = cfg::opt_bool(m, "byte_fallback", path, false);
    b.ignore_merges_ = cfg::opt_bool(m, "ignore_merges", path, false);

    // vocab: from the parser's flat list (fast path) or from the DOM, as (token, id) in file order
    const detail::json::document& doc = *m.doc();
    std::vector<std::pair<std::string_view, std::int64_t>> dom_vocab;
    const std::vector<std::pair<std::string_view, std::int64_t>>* items = &doc.bpe_vocab();
    if (!doc.has_bpe_vocab()) {
      const auto vocab = cfg::req(m, "vocab", path);
      if (!vocab.is_object()) cfg::type_error(path + ".vocab", "an object", vocab);
      dom_vocab.reserve(vocab.size());
      for (std::size_t i = 0; i < vocab.size(); ++i) {
        const auto idv = vocab.at(i);
        auto iv = idv.as_int();
        if (!iv) (void)cfg::as_int(idv, path + ".vocab['" + std::string(vocab.key_at(i)) + "']", 0, max_token_id);
        dom_vocab.emplace_back(vocab.key_at(i), *iv);
      }
      items = &dom_vocab;
    }
    const auto& vocab_items = *items;
    const std::size_t n = vocab_items.size();
    std::size_t total = 0;
    for (const auto& it : vocab_items) total += it.first.size();
    b.vocab_.reserve(n, total);
    std::int64_t max_id = -1;
    std::vector<std::pair<token_id, std::uint32_t>> by_id;
    by_id.reserve(n);
    std::uint64_t hashes[64];
    for (std::size_t base = 0; base < n; base += 64) {
      const std::size_t cnt = std::min<std::size_t>(64, n - base);
      for (std::size_t k = 0; k < cnt; ++k) hashes[k] = b.vocab_.prefetch(vocab_items[base + k].first);
      for (std::size_t k = 0; k < cnt; ++k) {
        const std::size_t i = base + k;
        const std::string_view tok = vocab_items[i].first;
        const std::int64_t id = vocab_items[i].second;
        if (id < 0 || id > max_token_id)
          throw uag::tokenizer_error("tokenizer.range", "'" + path + ".vocab['" + std::string(tok) + "']' = " + std::to_string(id) +
                                                           " is outside [0, " + std::to_string(max_token_id) + "]");
        if (!b.vocab_.insert_hashed(tok, hashes[k], static_cast<token_id>(id)))
          throw uag::tokenizer_error("tokenizer.vocab", "token '" + std::string(tok) + "' appears twice in " + path + ".vocab");
        by_id.emplace_back(static_cast<token_id>(id), static_cast<std::uint32_t>(i));
        max_id = std::max(max_id, id);
      }
    }
    b.size_ = static_cast<std::size_t>(max_id + 1);
    b.offsets_.assign(b.size_ + 1, 0);
    b.present_.assign(b.size_, 0);
    b.strings_.reserve(total);
    std::sort(by_id.begin(), by_id.end());
    std::size_t k = 0;
    for (std::size_t id = 0; id < b.size_; ++id) {
      b.offsets_[id] = static_cast<std::uint32_t>(b.strings_.size());
      if (k < by_id.size() && by_id[k].first == static_cast<token_id>(id)) {
        if (k + 1 < by_id.size() && by_id[k + 1].first == by_id[k].first)
          throw uag::tokenizer_error("tokenizer.vocab", "id " + std::to_string(id) + " is used by both '" +
                                                           std::string(vocab_items[by_id[k].second].first) + "' and '" +
                                                           std::string(vocab_items[by_id[k + 1].second].first) + "'");
        b.strings_.append(vocab_items[by_id[k].second].first);
        b.present_[id] = 1;
        ++k;
      }
    }
    b.offsets_[b.size_] = static_cast<std::uint32_t>(b.strings_.size());

    // merges: from the parser's flat list (fast path) or from the DOM
    std::vector<detail::json::document::merge_item> dom_merges;
    const std::vector<detail::json::document::merge_item>* mitems = &doc.bpe_merges();
    if (!doc.has_bpe_merges()) {
      const auto merges = cfg::req_array(m, "merges", path);
      dom_merges.reserve(merges.size());
      for (std::size_t r = 0; r < merges.size(); ++r) {
        const auto e = merges.at(r);
        if (e.is_string()) {
          dom_merges.push_back({e.str(), {}, false});
        } else if (e.is_array() && e.size() == 2 && e.at(0).is_string() && e.at(1).is_string()) {
          dom_merges.push_back({e.at(0).str(), e.at(1).str(), true});
        } else if (e.is_array()) {
          throw uag::tokenizer_error("tokenizer.merge", "'" + path + ".merges[" + std::to_string(r) + "]' must be a pair of strings");
        } else {
          cfg::type_error(path + ".merges[" + std::to_string(r) + "]", "a string or an array", e);
        }
      }
      mitems = &dom_merges;
    }
    const auto& merges = *mitems;
    b.merges_.reserve(merges.size());
    b.merge_capacity_hint_ = merges.size();
    // In batches: hash and prefetch every key of the batch before probing, so cache misses overlap.
    constexpr std::size_t batch = 64;
    struct pending {
      std::string_view left, right;
      std::uint64_t hl, hr, hm;
      std::uint32_t moff, mlen;
      token_id a, c, nid;
    };
    std::vector<pending> pend(batch);
    std::string merged;
    for (std::size_t base = 0; base < merges.size(); base += batch) {
      const std::size_t cnt = std::min(batch, merges.size() - base);
      for (std::size_t k = 0; k < cnt; ++k) {
        const std::size_t r = base + k;
        const auto& e = merges[r];
        std::string_view left, right;
        if (!e.pair) {
          const std::string_view s = e.first;
          const std::size_t sp = s.find(' ');
          if (sp == std::string_view::npos || s.find(' ', sp + 1) != std::string_view::npos)
            throw uag::tokenizer_error("tokenizer.merge", "'" + path + ".merges[" + std::to_string(r) + "]' = '" + std::string(s) +
                                                             "' is not two tokens separated by one space");
          left = s.substr(0, sp);
          right = s.substr(sp + 1);
        } else {
          left = e.first;
          right = e.second;
        }
        pend[k].left = left;
        pend[k].right = right;
        pend[k].hl = b.vocab_.prefetch(left);
        pend[k].hr = b.vocab_.prefetch(right);
      }
      merged.clear();
      for (std::size_t k = 0; k < cnt; ++k) {
        auto& p = pend[k];
        const auto a = b.vocab_.find_hashed(p.left, p.hl);
        const auto c = b.vocab_.find_hashed(p.right, p.hr);
        auto name = [&] { return std::string(p.left) + " " + std::string(p.right); };
        if (!a) throw uag::tokenizer_error("tokenizer.merge", "merge '" + name() + "' names unknown token '" + std::string(p.left) + "'");
        if (!c) throw uag::tokenizer_error("tokenizer.merge", "merge '" + name() + "' names unknown token '" + std::string(p.right) + "'");
        p.a = *a;
        p.c = *c;
        p.moff = static_cast<std::uint32_t>(merged.size());
        merged.append(p.left);
        merged.append(p.right.substr(std::min(b.prefix_.size(), p.right.size())));
        p.mlen = static_cast<std::uint32_t>(merged.size() - p.moff);
      }
      for (std::size_t k = 0; k < cnt; ++k)
        pend[k].hm = b.vocab_.prefetch(std::string_view(merged).substr(pend[k].moff, pend[k].mlen));
      for (std::size_t k = 0; k < cnt; ++k) {
        auto& p = pend[k];
        const std::string_view m = std::string_view(merged).substr(p.moff, p.mlen);
        const auto nid = b.vocab_.find_hashed(m, p.hm);
        if (!nid)
          throw uag::tokenizer_error("tokenizer.merge", "merge '" + std::string(p.left) + " " + std::string(p.right) + "' makes '" +
                                                           std::string(m) + "', which is not in the vocab");
        p.nid = *nid;
        if (b.merges_.size() + cnt < b.merge_capacity_hint_) b.merges_.prefetch(p.a, p.c);
      }
      for (std::size_t k = 0; k < cnt; ++k) {
        const auto& p = pend[k];
        b.merges_.put(p.a, p.c, {static_cast<std::uint32_t>(base + k), p.nid});
        b.merges_hash_ = detail::mix64(b.merges_hash_ ^ ((static_cast<std::uint64_t>(static_cast<std::uint32_t>(p.a)) << 32) |
                                                         static_cast<std::uint32_t>(p.c))) + base + k;
      }
    }
    b.merge_count_ = merges.size();
    b.build_char_cache();
    return b;
  }

  /// @brief max id + 1 of the model vocab.
  std::size_t size() const noexcept { return size_; }
  /// @brief Number of vocab entries (HF's BPE::get_vocab_size; differs from size() when ids have gaps).
  std::size_t entry_count() const noexcept { return vocab_.size(); }
  std::size_t merge_count() const noexcept { return merge_count_; }
  /// @brief Hash of the merges as (left id, right id) in rank order.
  std::uint64_t merges_hash() const noexcept { return merges_hash_; }
  bool has_id(token_id id) const noexcept { return id >= 0 && static_cast<std::size_t>(id) < size_ && present_[static_cast<std::size_t>(id)]; }
  std::string_view token(token_id id) const noexcept {
    const auto i = static_cast<std::size_t>(id);
    return std::string_view(strings_).substr(offsets_[i], offsets_[i + 1] - offsets_[i]);
  }
  std::optional<token_id> find(std::string_view tok) const noexcept { return vocab_.find(tok); }
  const detail::merge_map& merges() const noexcept { return merges_; }
  bool byte_fallback() const noexcept { return byte_fallback_; }
  const std::optional<std::string>& unk_token() const noexcept { return unk_token_; }
  const std::string& continuing_subword_prefix() const noexcept { return prefix_; }
  const std::string& end_of_word_suffix() const noexcept { return suffix_; }
  bool ignore_merges() const noexcept { return ignore_merges_; }
  bool fuse_unk() const noexcept { return fuse_unk_; }

  /// @brief Switches to raw-byte input: words are raw bytes, each byte standing for its GPT-2 alphabet
  /// character (the ByteLevel pre-tokenizer's mapping is then skipped). Returns false (and stays in
  /// character mode) when that would not be exactly equivalent.
  bool enable_raw_bytes() {
    if (!prefix_.empty() || !suffix_.empty()) return false;
    const auto& tbl = detail::unicode::byte_to_utf8();
    for (int c = 0; c < 256; ++c) {
      auto id = vocab_.find(tbl[static_cast<std::size_t>(c)]);
      if (!id) return false;
      byte_ids_[static_cast<std::size_t>(c)] = *id;
    }
    if (ignore_merges_) {
      raw_vocab_.reserve(size_);
      std::string raw;
      for (std::size_t id = 0; id < size_; ++id) {
        if (!present_[id]) continue;
        raw.clear();
        if (detail::unicode::byte_level_to_bytes(token(static_cast<token_id>(id)), raw))
          raw_vocab_.insert(raw, static_cast<token_id>(id));
      }
    }
    raw_bytes_ = true;
    return true;
  }
  bool raw_bytes() const noexcept { return raw_bytes_; }

  /// @brief Appends the ids of word to out (HF BPE::tokenize). requires: word is valid UTF-8 (character
  /// mode). Throws tokenizer_error if the unk token is needed but missing from the vocab.
  void tokenize(std::string_view word, token_vector& out) const {
    if (word.empty()) return;
    if (ignore_merges_) {
      const auto id = raw_bytes_ ? raw_vocab_.find(word) : vocab_.find(word);
      if (id) { out.push_back(*id); return; }
    }
    thread_local std::vector<symbol> syms;
    syms.clear();
    if (raw_bytes_) {
      for (char c : word) push_symbol(syms, byte_ids_[static_cast<unsigned char>(c)]);
    } else {
      build_symbols(word, syms);
    }
    if (syms.size() > 1) merge_all(syms);
    for (const symbol& s : syms)
      if (s.alive) out.push_back(s.id);
  }

 private:
  struct symbol {
    token_id id;
    std::int32_t prev, next;
    bool alive;
  };
  struct heap_entry {
    std::uint32_t rank;
    std::int32_t pos;
    token_id new_id;
  };

  detail::string_id_map vocab_;
  detail::string_id_map raw_vocab_;
  detail::merge_map merges_;
  std::string strings_;                 // id -> token text, concatenated
  std::vector<std::uint32_t> offsets_;  // (size_+1)
  std::vector<std::uint8_t> present_;   // (size_) 1 where the id is in the vocab
  std::size_t size_ = 0;
  std::size_t merge_count_ = 0;
  std::uint64_t merges_hash_ = 0x6A09E667F3BCC908ull;
  std::size_t merge_capacity_hint_ = 0;  // merges reserved for (prefetching is pointless across a rehash)
  std::optional<std::string> unk_token_;
  std::string prefix_, suffix_;
  bool fuse_unk_ = false, byte_fallback_ = false, ignore_merges_ = false;
  bool raw_bytes_ = false;
  token_id byte_ids_[256] = {};
  std::vector<token_id> char_ids_;     // code point < 0x800 -> id of that single char (-1 if none); no prefix/suffix only
  token_id byte_token_ids_[256] = {};  // <0xNN> ids for byte_fallback (-1 if missing)

  void build_char_cache() {
    for (int c = 0; c < 256; ++c) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "<0x%02X>", c);
      auto id = vocab_.find(buf);
      byte_token_ids_[c] = id ? *id : -1;
    }
    if (!prefix_.empty() || !suffix_.empty()) return;
    char_ids_.assign(0x800, -1);
    for (char32_t cp = 0; cp < 0x800; ++cp) {
      auto id = vocab_.find(detail::unicode::encode(cp));
      if (id) char_ids_[cp] = *id;
    }
  }

  static void push_symbol(std::vector<symbol>& syms, token_id id) {
    const auto n = static_cast<std::int32_t>(syms.size());
    syms.push_back({id, n - 1, n + 1, true});
  }

  /// HF BPE::merge_word: one symbol per char (with prefix/suffix), byte_fallback, unk fusing.
  void build_symbols(std::string_view w, std::vector<symbol>& syms) const {
    thread_local std::string buf;
    token_id unk = -1;  // pending unk (fused when fuse_unk), -1 when none
    std::size_t i = 0;
    while (i < w.size()) {
      const std::size_t len = detail::unicode::char_len(static_cast<unsigned char>(w[i]));
      const bool first = i == 0, last = i + len >= w.size();
      std::optional<token_id> id;
      std::string_view s = w.substr(i, len);
      if (!char_ids_.empty()) {
        std::size_t l2 = 0;
        const char32_t cp = detail::unicode::decode(w, i, l2);
        if (cp < 0x800) {
          if (char_ids_[cp] >= 0) id = char_ids_[cp];
        } else {
          id = vocab_.find(s);
        }
      } else {
        buf.clear();
        if (!first) buf += prefix_;
        buf += s;
        if (last) buf += suffix_;
        s = buf;
        id = vocab_.find(s);
      }
      i += len;
      if (id) {
        if (unk >= 0) { push_symbol(syms, unk); unk = -1; }
        push_symbol(syms, *id);
        continue;
      }
      if (byte_fallback_) {
        bool all = true;
        for (char c : s)
          if (byte_token_ids_[static_cast<unsigned char>(c)] < 0) { all = false; break; }
        if (all) {
          for (char c : s) push_symbol(syms, byte_token_ids_[static_cast<unsigned char>(c)]);
          continue;
        }
      }
      if (unk_token_) {
        const auto uid = vocab_.find(*unk_token_);
        if (!uid)
          throw uag::tokenizer_error("tokenizer.unk", "unk_token '" + *unk_token_ + "' is needed but is not in the vocab");
        if (unk >= 0 && fuse_unk_) continue;  // fused into the pending unk
        if (unk >= 0) push_symbol(syms, unk);
        unk = *uid;
      }
    }
    if (unk >= 0) push_symbol(syms, unk);
    if (!syms.empty()) syms.back().next = -1;
  }

  void merge_all(std::vector<symbol>& syms) const {
    thread_local std::vector<heap_entry> heap;
    heap.clear();
    syms.back().next = -1;
    auto cmp = [](const heap_entry& a, const heap_entry& b) {  // max-heap on (lower rank, lower pos)
      if (a.rank != b.rank) return a.rank > b.rank;
      return a.pos > b.pos;
    };
    for (std::size_t i = 0; i + 1 < syms.size(); ++i) {
      if (const auto* m = merges_.find(syms[i].id, syms[i + 1].id))
        heap.push_back({m->rank, static_cast<std::int32_t>(i), m->new_id});
    }
    std::make_heap(heap.begin(), heap.end(), cmp);
    while (!heap.empty()) {
      std::pop_heap(heap.begin(), heap.end(), cmp);
      const heap_entry top = heap.back();
      heap.pop_back();
      symbol& cur = syms[static_cast<std::size_t>(top.pos)];
      if (!cur.alive || cur.next < 0) continue;
      const auto next_pos = static_cast<std::size_t>(cur.next);
      const symbol right = syms[next_pos];
      const auto* target = merges_.find(cur.id, right.id);
      if (!target || target->new_id != top.new_id) continue;
      cur.id = top.new_id;
      cur.next = right.next;
      syms[next_pos].alive = false;
      if (right.next >= 0) syms[static_cast<std::size_t>(right.next)].prev = top.pos;
      if (cur.prev >= 0) {
        const symbol& p = syms[static_cast<std::size_t>(cur.prev)];
        if (const auto* m = merges_.find(p.id, cur.id)) {
          heap.push_back({m->rank, cur.prev, m->new_id});
          std::push_heap(heap.begin(), heap.end(), cmp);
        }
      }
      if (cur.next >= 0) {
        const symbol& nx = syms[static_cast<std::size_t>(cur.next)];
        if (const auto* m = merges_.find(cur.id, nx.id)) {
          heap.push_back({m->rank, top.pos, m->new_id});
          std::push_heap(heap.begin(), heap.end(), cmp);
        }
      }
    }
  }
};

}  // namespace uag
