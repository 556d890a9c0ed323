#pragma once
/// @file uag::hf_tokenizer: a Hugging Face tokenizer.json (BPE models) with the encode/decode of HF
/// tokenizers (the Rust library), token for token.
///
/// Pipeline of encode (HF Tokenizer::encode for one sequence):
///   split out added tokens (raw text) -> normalize each remaining piece -> split out normalized added
///   tokens -> pre-tokenize into words -> BPE each word -> post-processor (when add_special_tokens).
/// Decode maps ids to token strings (added tokens first), drops special ones when asked, and runs the
/// decoder chain. tokenizer_config.json supplies bos/eos names; like HF tokenizers, encode follows
/// tokenizer.json's post-processor (add_bos_token/add_eos_token are reported, not applied).
/// tokenizer.json's "truncation" and "padding" are ignored (uag never truncates or pads).
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#if defined(__unix__)
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

#include "uag/core/error.hpp"
#include "uag/core/types.hpp"
#include "uag/core/utf8.hpp"
#include "uag/tokenizer/added_tokens.hpp"
#include "uag/tokenizer/bpe.hpp"
#include "uag/tokenizer/concepts.hpp"
#include "uag/tokenizer/decoders.hpp"
#include "uag/tokenizer/detail/config.hpp"
#include "uag/tokenizer/detail/json.hpp"
#include "uag/tokenizer/normalizers.hpp"
#include "uag/tokenizer/post_processors.hpp"
#include "uag/tokenizer/pre_tokenizers.hpp"

namespace uag {

/// @brief A tokenizer loaded from a Hugging Face tokenizer.json. Immutable after load; all const
/// member functions are safe to call from several threads at once.
class hf_tokenizer {
 public:
  /// @brief Loads a tokenizer from the text of tokenizer.json (and optionally tokenizer_config.json).
  /// Throws uag::tokenizer_error (malformed JSON, wrong types, unknown component types, merges naming
  /// unknown tokens, duplicate ids) or uag::unsupported_error (Unigram/WordPiece models, BPE dropout,...).
  /// cost: linear in the file size (~0.1 s for a 33 MB file).
  static hf_tokenizer from_json(std::string_view tokenizer_json, std::string_view tokenizer_config_json = {}) {
    hf_tokenizer t;
    t.load(tokenizer_json, tokenizer_config_json);
    return t;
  }

  /// @brief Loads path: a tokenizer.json file, or a folder holding tokenizer.json. tokenizer_config.json
  /// beside it is read when present. Throws uag::io_error when the file cannot be read.
  static hf_tokenizer from_file(const std::filesystem::path& path) {
    std::filesystem::path json_path = path;
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) json_path = path / "tokenizer.json";
    std::string config;
    const auto config_path = json_path.parent_path() / "tokenizer_config.json";
    if (std::filesystem::is_regular_file(config_path, ec)) config = read_file(config_path);
#if defined(__unix__)
    // Map the (large) tokenizer.json instead of copying it: the loader only reads it once.
    const int fd = ::open(json_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      struct stat st {};
      if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
        const auto size = static_cast<std::size_t>(st.st_size);
#if defined(MAP_POPULATE)
        void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);  // one fault, not 8k
#else
        void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
#endif
        ::close(fd);
        if (p != MAP_FAILED) {
          struct unmap {
            void* p;
            std::size_t n;
            ~unmap() { ::munmap(p, n); }
          } guard{p, size};
          return from_json(std::string_view(static_cast<const char*>(p), size), config);
        }
      } else {
        ::close(fd);
      }
    }
#endif
    return from_json(read_file(json_path), config);
  }

  /// @brief Ids of text. With add_special_tokens the post-processor adds its special tokens (BOS...).
  /// Throws uag::input_error when text is not valid UTF-8 (or over 2 GiB). cost: O(text) plus BPE merges
  /// (O(w log w) per pre-tokenized word of w characters); allocation-free per token after warm-up
  /// (buffers are per-thread and reused), apart from the returned vector.
  token_vector encode(std::string_view text, bool add_special_tokens) const {
    token_vector ids;
    ids.reserve(text.size() / 3 + 4);
    encode_into(text, add_special_tokens, ids);
    return ids;
  }

  /// @brief As encode(), into out (cleared first; its storage is reused: without special tokens, a warm
  /// buffer makes encoding allocation-free). On a throw, out is empty.
  void encode_into(std::string_view text, bool add_special_tokens, token_vector& out) const {
    out.clear();
    if (text.size() > (std::size_t{1} << 31))  // word offsets are 32-bit
      throw uag::input_error("tokenizer.size", "input of " + std::to_string(text.size()) + " bytes is larger than 2 GiB");
    const std::size_t valid = utf8::valid_prefix_length(text);
    if (valid != text.size())
      throw uag::input_error("tokenizer.utf8", "input is not valid UTF-8 at byte " + std::to_string(valid) + " of " +
                                                   std::to_string(text.size()));
    try {
      encode_into(text, out);
      post_.apply(out, add_special_tokens);
    } catch (...) {
      out.clear();
      throw;
    }
  }

  /// @brief Text of ids, equal to HF tokenizers' Tokenizer::decode. Throws uag::input_error for an id
  /// outside [0, vocab_size()). Ids inside the range that name no token are skipped, as HF does.
  std::string decode(token_span ids, bool skip_special_tokens) const {
    for (const token_id id : ids)
      if (id < 0 || static_cast<std::size_t>(id) >= vocab_size_)
        throw uag::input_error("tokenizer.id", "token id " + std::to_string(id) + " is out of range (vocab size " +
                                                   std::to_string(vocab_size_) + ")");
    if (byte_level_decode_) {
      thread_local std::string bytes;
      bytes.clear();
      for (const token_id id : ids) {
        const auto i = static_cast<std::size_t>(id);
        if (!present_[i] || (skip_special_tokens && skip_[i])) continue;
        bytes += view(decode_bytes_, decode_offsets_, i);
      }
      std::string out;
      out.reserve(bytes.size());
      detail::unicode::append_lossy(out, bytes);
      return out;
    }
    std::vector<std::string> tokens;
    tokens.reserve(ids.size());
    for (const token_id id : ids) {
      const auto i = static_cast<std::size_t>(id);
      if (!present_[i] || (skip_special_tokens && skip_[i])) continue;
      tokens.emplace_back(view(strings_, string_offsets_, i));
    }
    return decoder_.decode(tokens);
  }

  /// @brief Raw bytes the token stands for in running text (see uag::tokenizer): the decoder's per-token
  /// mapping (byte-level alphabet -> bytes, '▁' -> ' ', <0xNN> -> the byte), also for non-special added
  /// tokens (gemma3's "▁▁" added token is two spaces). "" for special tokens and unknown ids. cost: O(1), a view into a table built at load.
  std::string_view token_bytes(token_id id) const noexcept {
    if (id < 0 || static_cast<std::size_t>(id) >= vocab_size_) return {};
    return view(bytes_, bytes_offsets_, static_cast<std::size_t>(id));
  }

  /// @brief The token's string as written in tokenizer.json ("▁hello", "Ġhello", "<0x0A>"); "" if none.
  std::string_view token_string(token_id id) const noexcept {
    if (id < 0 || static_cast<std::size_t>(id) >= vocab_size_) return {};
    return view(strings_, string_offsets_, static_cast<std::size_t>(id));
  }

  /// @brief Id of a token string (added tokens first, then the model vocab, as HF token_to_id).
  std::optional<token_id> token_to_id(std::string_view token_string) const {
    if (auto a = added_ids_.find(token_string)) return a;
    return model_.find(token_string);
  }

  /// @brief max id + 1 over the model vocab and the added tokens.
  std::size_t vocab_size() const noexcept { return vocab_size_; }
  std::optional<token_id> bos_id() const noexcept { return bos_; }
  std::optional<token_id> eos_id() const noexcept { return eos_; }
  /// @brief True for special added tokens (HF's skip_special_tokens drops exactly these).
  bool is_special(token_id id) const noexcept {
    return id >= 0 && static_cast<std::size_t>(id) < vocab_size_ && special_[static_cast<std::size_t>(id)];
  }
  /// @brief Hash of everything that determines encode/decode; equal content gives an equal fingerprint.
  std::uint64_t fingerprint() const noexcept { return fingerprint_; }

  /// @brief tokenizer_config.json's add_bos_token / add_eos_token (nullopt when absent).
  std::optional<bool> config_add_bos_token() const noexcept { return add_bos_; }
  std::optional<bool> config_add_eos_token() const noexcept { return add_eos_; }
  const std::vector<added_token>& added_tokens() const noexcept { return added_; }
  const bpe_model& model() const noexcept { return model_; }

 private:
  bpe_model model_;
  normalizer normalizer_;
  pre_tokenizer pre_tokenizer_;
  decoder decoder_;
  post_processor post_;
  std::vector<added_token> added_;
  detail::string_id_map added_ids_;
  added_token_matcher raw_matcher_, normalized_matcher_;
  std::size_t vocab_size_ = 0;
  std::vector<std::uint8_t> present_;
  std::vector<std::uint8_t> special_;  // added with special=true
  std::vector<std::uint8_t> skip_;     // dropped by decode(skip_special_tokens): token string is a special content
  std::string strings_;                         // id -> token string
  std::vector<std::uint32_t> string_offsets_;
  std::string bytes_;                           // id -> token_bytes
  std::vector<std::uint32_t> bytes_offsets_;
  std::string decode_bytes_;                    // id -> bytes for the ByteLevel-only decode path
  std::vector<std::uint32_t> decode_offsets_;
  bool byte_level_decode_ = false;
  std::optional<token_id> bos_, eos_;
  std::optional<bool> add_bos_, add_eos_;
  std::uint64_t fingerprint_ = 0;

  static std::string_view view(const std::string& s, const std::vector<std::uint32_t>& off, std::size_t i) noexcept {
    return std::string_view(s).substr(off[i], off[i + 1] - off[i]);
  }

  static std::string read_file(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    if (!f) throw uag::io_error("tokenizer.open", "cannot open '" + p.string() + "'");
    f.seekg(0, std::ios::end);
    const std::streamoff size = f.tellg();
    f.seekg(0, std::ios::beg);
    std::string text;
    if (size > 0) {
      text.resize(static_cast<std::size_t>(size));
      f.read(text.data(), size);
    } else {  // not seekable: read as a stream
      std::ostringstream ss;
      ss << f.rdbuf();
      text = std::move(ss).str();
    }
    if (f.bad() || (size > 0 && f.gcount() != size)) throw uag::io_error("tokenizer.read", "cannot read '" + p.string() + "'");
    return text;
  }

  struct scratch {
    std::vector<added_split> raw_splits, norm_splits;
    std::string normalized;
    word_list words, words_tmp;
  };

  void encode_into(std::string_view text, token_vector& ids) const {
    thread_local scratch s;
    if (text.empty()) return;
    if (raw_matcher_.empty()) {
      encode_piece(text, true, ids, s);
      return;
    }
    find_added_matches(text, raw_matcher_, added_, s.raw_splits);
    // encode_piece reuses norm_splits only, so iterating raw_splits is safe
    for (const auto& sp : s.raw_splits) {
      if (sp.token >= 0) ids.push_back(added_[static_cast<std::size_t>(sp.token)].id);
      else encode_piece(text.substr(sp.begin, sp.end - sp.begin), sp.begin == 0, ids, s);
    }
  }

  void encode_piece(std::string_view piece, bool at_start, token_vector& ids, scratch& s) const {
    std::string_view text = piece;
    if (!normalizer_.empty()) {
      s.normalized.assign(piece);
      normalizer_.apply(s.normalized);
      text = s.normalized;
    }
    if (normalized_matcher_.empty()) {
      encode_words(text, at_start, ids, s);
      return;
    }
    find_added_matches(text, normalized_matcher_, added_, s.norm_splits);
    for (const auto& sp : s.norm_splits) {
      if (sp.token >= 0) ids.push_back(added_[static_cast<std::size_t>(sp.token)].id);
      else encode_words(text.substr(sp.begin, sp.end - sp.begin), at_start && sp.begin == 0, ids, s);
    }
  }

  void encode_words(std::string_view text, bool at_start, token_vector& ids, scratch& s) const {
    if (text.empty()) return;
    if (pre_tokenizer_.empty()) {
      model_.tokenize(text, ids);
      return;
    }
    pre_tokenizer_.run(text, at_start, s.words, s.words_tmp);
    for (const auto& w : s.words.words) model_.tokenize(s.words.text(w), ids);
  }

  static std::optional<std::string_view> config_token(detail::json::value root, std::string_view key) {
    auto v = root.find(key);
    if (!v || v->is_null()) return std::nullopt;
    if (v->is_string()) return v->str();
    if (v->is_object()) {
      auto c = v->find("content");
      if (c && c->is_string()) return c->str();
    }
    detail::cfg::type_error("tokenizer_config." + std::string(key), "a string, an AddedToken object or null", *v);
  }

  void load(std::string_view json_text, std::string_view config_text) {
    namespace cfg = detail::cfg;
    const auto doc = detail::json::document::parse(json_text, "tokenizer.json", /*bpe_fast_path=*/true);
    const auto root = doc.root();
    if (!root.is_object()) cfg::type_error("tokenizer.json", "an object", root);

    model_ = bpe_model::from_json(cfg::req(root, "model", ""), "model");
    auto component = [&](std::string_view key) -> std::optional<detail::json::value> {
      auto v = root.find(key);
      if (!v || v->is_null()) return std::nullopt;
      return v;
    };
    if (auto v = component("normalizer")) normalizer_ = normalizer::from_json(*v);
    if (auto v = component("pre_tokenizer")) pre_tokenizer_ = pre_tokenizer::from_json(*v);
    if (auto v = component("decoder")) decoder_ = decoder::from_json(*v);
    if (auto v = component("post_processor")) post_ = post_processor::from_json(*v);
    added_ = parse_added_tokens(component("added_tokens"));

    // Raw-byte BPE when ByteLevel is the last pre-tokenization step (same ids, no alphabet mapping).
    if (pre_tokenizer_.ends_with_byte_level() && model_.enable_raw_bytes())
      pre_tokenizer_.steps().back().map_bytes = false;

    // Added tokens get their ids as HF's AddedVocabulary::add_tokens gives them (the ids written in the file
    // are only checked by HF): an empty or repeated content is ignored; a content in the model vocab takes
    // the model's id; any other takes max(added ids) + 1, or the model's entry count when all added ids are
    // below it.
    vocab_size_ = model_.size();
    added_ids_.reserve(added_.size());
    {
      std::vector<added_token> kept;
      std::optional<token_id> max_added;
      const auto model_count = static_cast<token_id>(model_.entry_count());
      for (auto& t : added_) {
        if (t.content.empty() || added_ids_.find(t.content)) continue;
        if (auto mid = model_.find(t.content)) {
          t.id = *mid;
        } else if (!max_added) {
          t.id = model_count;
        } else {
          t.id = (*max_added >= model_count || model_count == 0) ? *max_added + 1 : model_count;
        }
        max_added = max_added ? std::max(*max_added, t.id) : t.id;
        added_ids_.insert(t.content, t.id);
        vocab_size_ = std::max(vocab_size_, static_cast<std::size_t>(t.id) + 1);
        kept.push_back(std::move(t));
      }
      added_ = std::move(kept);
    }
    // HF matches special tokens before the others when contents collide (special_tokens ++ added_tokens).
    for (int pass = 0; pass < 2; ++pass) {
      for (std::size_t i = 0; i < added_.size(); ++i) {
        const auto& t = added_[i];
        if (t.special != (pass == 0)) continue;
        if (t.normalized) {
          std::string pattern = t.content;
          normalizer_.apply(pattern);
          normalized_matcher_.add(pattern, static_cast<std::uint32_t>(i));
        } else {
          raw_matcher_.add(t.content, static_cast<std::uint32_t>(i));
        }
      }
    }

    // id -> token string (added content first, as HF's id_to_token), special flags. HF decodes an added
    // token with normalized=true from its normalized content (so "[MASK]" under a Prepend("▁") normalizer
    // decodes as "▁[MASK]", and is then not recognised as special by skip_special_tokens).
    present_.assign(vocab_size_, 0);
    special_.assign(vocab_size_, 0);
    skip_.assign(vocab_size_, 0);
    std::vector<std::string> added_text(added_.size());
    for (std::size_t i = 0; i < added_.size(); ++i) {
      added_text[i] = added_[i].content;
      if (added_[i].normalized) normalizer_.apply(added_text[i]);
    }
    std::vector<std::int64_t> added_at(vocab_size_, -1);
    for (std::size_t i = 0; i < added_.size(); ++i)
      if (added_at[static_cast<std::size_t>(added_[i].id)] < 0) added_at[static_cast<std::size_t>(added_[i].id)] = static_cast<std::int64_t>(i);
    detail::string_id_map special_contents;
    for (const auto& t : added_)
      if (t.special) special_contents.insert(t.content, 0);
    string_offsets_.assign(vocab_size_ + 1, 0);
    for (std::size_t id = 0; id < vocab_size_; ++id) {
      string_offsets_[id] = static_cast<std::uint32_t>(strings_.size());
      std::string_view s;
      if (added_at[id] >= 0) {
        s = added_text[static_cast<std::size_t>(added_at[id])];
        present_[id] = 1;
        special_[id] = added_[static_cast<std::size_t>(added_at[id])].special;
      } else if (model_.has_id(static_cast<token_id>(id))) {
        s = model_.token(static_cast<token_id>(id));
        present_[id] = 1;
      }
      if (present_[id] && special_contents.find(s)) skip_[id] = 1;
      strings_.append(s);
    }
    string_offsets_[vocab_size_] = static_cast<std::uint32_t>(strings_.size());

    build_byte_tables();

    // tokenizer_config.json
    if (!config_text.empty()) {
      const auto cdoc = detail::json::document::parse(config_text, "tokenizer_config.json");
      const auto croot = cdoc.root();
      if (!croot.is_object()) cfg::type_error("tokenizer_config.json", "an object", croot);
      if (auto b = cfg::opt(croot, "add_bos_token")) add_bos_ = cfg::opt_bool(croot, "add_bos_token", "tokenizer_config", false), (void)b;
      if (auto e = cfg::opt(croot, "add_eos_token")) add_eos_ = cfg::opt_bool(croot, "add_eos_token", "tokenizer_config", false), (void)e;
      if (auto b = config_token(croot, "bos_token")) bos_ = token_to_id(*b);
      if (auto e = config_token(croot, "eos_token")) eos_ = token_to_id(*e);
    }
    if (!bos_) bos_ = post_.leading_special();
    if (!eos_) eos_ = post_.trailing_special();

    compute_fingerprint(root);
  }

  void build_byte_tables() {
    const bool byte_level = decoder_.has_byte_level();
    byte_level_decode_ = decoder_.is_byte_level_only();
    bytes_offsets_.assign(vocab_size_ + 1, 0);
    if (byte_level_decode_) decode_offsets_.assign(vocab_size_ + 1, 0);
    std::vector<std::string> one(1);
    for (std::size_t id = 0; id < vocab_size_; ++id) {
      bytes_offsets_[id] = static_cast<std::uint32_t>(bytes_.size());
      const std::string_view s = view(strings_, string_offsets_, id);
      if (byte_level_decode_) {
        decode_offsets_[id] = static_cast<std::uint32_t>(decode_bytes_.size());
        const std::size_t mark = decode_bytes_.size();
        if (!detail::unicode::byte_level_to_bytes(s, decode_bytes_)) {
          decode_bytes_.resize(mark);
          decode_bytes_ += s;
        }
      }
      if (!present_[id] || special_[id]) continue;
      if (byte_level) {
        const std::size_t mark = bytes_.size();
        if (!detail::unicode::byte_level_to_bytes(s, bytes_)) {
          bytes_.resize(mark);
          bytes_ += s;
        }
        continue;
      }
      // Per-token decoder steps, without the ones that look at neighbours (Fuse, Strip, first-token rules).
      std::string t(s);
      for (const auto& st : decoder_.steps()) {
        switch (st.k) {
          case decoder::kind::replace: normalizer::replace(st.pattern, st.content, t); break;
          case decoder::kind::metaspace: {
            std::string out;
            std::size_t j = 0;
            while (j < t.size()) {
              std::size_t len = 0;
              const char32_t c = detail::unicode::decode(t, j, len);
              if (c == st.ch) out.push_back(' '); else out.append(t, j, len);
              j += len;
            }
            t = std::move(out);
            break;
          }
          case decoder::kind::byte_fallback: {
            int b = -1;
            if (decoder::parse_byte_token(t, b)) t.assign(1, static_cast<char>(b));
            break;
          }
          default: break;
        }
      }
      bytes_ += t;
    }
    bytes_offsets_[vocab_size_] = static_cast<std::uint32_t>(bytes_.size());
    if (byte_level_decode_) decode_offsets_[vocab_size_] = static_cast<std::uint32_t>(decode_bytes_.size());
  }

  void compute_fingerprint(detail::json::value root) {
    std::uint64_t h = 0x243F6A8885A308D3ull;
    auto mix = [&h](std::string_view s) { h = detail::mix64(h ^ detail::hash_bytes(s)) + 0x9E3779B97F4A7C15ull; };
    std::string canon;
    for (std::string_view key : {"normalizer", "pre_tokenizer", "decoder", "post_processor", "added_tokens"}) {
      canon.clear();
      canon += key;
      canon += '=';
      if (auto v = root.find(key)) detail::json::canonical(*v, canon); else canon += "null";
      mix(canon);
    }
    const auto m = root.find("model");
    canon.clear();
    std::vector<std::pair<std::string_view, std::size_t>> keys;
    for (std::size_t i = 0; m && i < m->size(); ++i)
      if (m->key_at(i) != "vocab" && m->key_at(i) != "merges") keys.emplace_back(m->key_at(i), i);
    std::sort(keys.begin(), keys.end());
    for (const auto& [k, i] : keys) {
      canon += k;
      canon += '=';
      detail::json::canonical(m->at(i), canon);
      canon += ';';
    }
    mix(canon);
    mix(strings_);
    mix(std::string_view(reinterpret_cast<const char*>(string_offsets_.data()), string_offsets_.size() * sizeof(std::uint32_t)));
    h = detail::mix64(h ^ model_.merges_hash()) + 0x9E3779B97F4A7C15ull;
    fingerprint_ = h;
  }
};

static_assert(tokenizer<hf_tokenizer>);

}  // namespace uag
