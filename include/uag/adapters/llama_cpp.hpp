#pragma once
/// @file uag over llama.cpp: a GGUF model (`llama_cpp_model`, a uag::causal_lm with a tokenizer()) and a
/// tokenizer over the GGUF's own vocabulary (`llama_cpp_tokenizer`, a uag::tokenizer). Either works as
/// target or draft, in any mix with uag's reference transformer.
///
/// Not part of the umbrella header: include it where llama.h is found (CMake: UAG_WITH_LLAMA_CPP, which
/// links llama.cpp's `llama` target). Written against the llama.cpp release bundled with node-llama-cpp
/// 3.22.1 (see cmake/fetch_llama_cpp.sh).
///
///     auto target = uag::llama_cpp_model::from_file("target.gguf");
///     auto draft = uag::llama_cpp_model::from_file("draft-q4_k_m.gguf");
///     uag::bridged_draft<uag::llama_cpp_model, uag::llama_cpp_tokenizer> source(draft, target.tokenizer());
///     uag::AssistedGenerator<uag::llama_cpp_model, decltype(source)> gen(target, source, cfg);
///
/// Lossless greedy verification needs a row's logits to be the same whether it is decoded alone or in a
/// batch. llama.cpp's CPU backend is batch-invariant only without llamafile's sgemm (GGML_LLAMAFILE=OFF),
/// which handles multi-row products but not one-row ones; `llama_cpp_batch_invariant()` reports it.
#include <llama.h>
#include <gguf.h>
#include <ggml-backend.h>
#include <ggml-cpu.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "uag/core/error.hpp"
#include "uag/core/logits.hpp"
#include "uag/core/types.hpp"
#include "uag/core/utf8.hpp"
#include "uag/tokenizer/detail/unicode.hpp"

namespace uag {

/// @brief Settings for loading a GGUF model.
struct llama_cpp_options {
  int n_threads = 0;                     // threads for llama_decode; 0 = all hardware threads
  int n_gpu_layers = 0;                  // layers offloaded to a GPU/RPC device (-1 = all; 0 = CPU only)
  std::size_t n_ctx = 0;                 // context length in tokens; 0 = the model's, capped at 4096
  std::size_t n_ubatch = 512;            // physical batch: tokens per compute graph (prefill chunking)
  bool flash_attention = false;          // llama.cpp flash attention (off: the default CPU path)
  bool f16_kv_cache = true;              // KV cache in F16 (llama.cpp's default) or F32
  std::vector<std::string> rpc_servers;  // "host:port" of rpc-server processes holding offloaded layers
  bool quiet = true;                     // drop llama.cpp's info/debug log lines (errors are kept)
};

namespace detail {

// llama.cpp reports why a load failed only through its log; keep the last error lines so the exception
// can say it. The callback forwards everything else to stderr unless quiet.
struct llama_cpp_log {
  std::mutex mu;
  std::string last_error;
  bool quiet = true;

  static llama_cpp_log& instance() {
    static llama_cpp_log log;
    return log;
  }
  static void callback(ggml_log_level level, const char* text, void*) {
    auto& self = instance();
    if (level == GGML_LOG_LEVEL_ERROR || level == GGML_LOG_LEVEL_WARN) {
      std::lock_guard lock(self.mu);
      if (level == GGML_LOG_LEVEL_ERROR) {
        self.last_error += text;
        if (self.last_error.size() > 4096) self.last_error.erase(0, self.last_error.size() - 4096);
      }
    }
    if (!self.quiet || level == GGML_LOG_LEVEL_ERROR) std::fputs(text, stderr);
  }
  std::string take_error() {
    std::lock_guard lock(mu);
    std::string e;
    e.swap(last_error);
    while (!e.empty() && (e.back() == '\n' || e.back() == ' ')) e.pop_back();
    return e;
  }
};

inline void llama_cpp_init(bool quiet) {
  static std::once_flag once;
  std::call_once(once, [] {
    llama_log_set(&llama_cpp_log::callback, nullptr);
    llama_backend_init();
  });
  llama_cpp_log::instance().quiet = quiet;
}

struct llama_model_deleter {
  void operator()(llama_model* m) const noexcept { llama_model_free(m); }
};
struct llama_context_deleter {
  void operator()(llama_context* c) const noexcept { llama_free(c); }
};

// Checks the file before llama.cpp sees it, so that each failure gets its own id: missing file, not a
// GGUF (or truncated), an architecture llama.cpp does not know. returns: general.architecture.
inline std::string llama_cpp_check_gguf(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw io_error("llama_cpp.open", "GGUF file '" + path.string() + "' does not exist");
  gguf_init_params params{};
  params.no_alloc = true;
  params.ctx = nullptr;
  gguf_context* g = gguf_init_from_file(path.string().c_str(), params);
  if (!g) {
    const std::string why = llama_cpp_log::instance().take_error();
    throw format_error("llama_cpp.gguf", "'" + path.string() + "' is not a valid GGUF file" +
                                             (why.empty() ? std::string() : ": " + why));
  }
  std::string arch;
  const int64_t key = gguf_find_key(g, "general.architecture");
  if (key >= 0 && gguf_get_kv_type(g, key) == GGUF_TYPE_STRING) arch = gguf_get_val_str(g, key);
  gguf_free(g);
  if (arch.empty()) throw format_error("llama_cpp.gguf", "'" + path.string() + "' has no general.architecture");
  return arch;
}

// One device per rpc-server (its first device); the model's offloaded layers are split over them.
// Found through the backend registry, as llama.cpp's own tools do: ggml-rpc.h is installed whether or not
// the library was built with GGML_RPC, and a dynamically loaded backend has no link-time symbol at all.
inline ggml_backend_dev_t llama_cpp_rpc_device(const std::string& endpoint) {
  ggml_backend_reg_t rpc = ggml_backend_reg_by_name("RPC");
  using add_server_fn = ggml_backend_reg_t (*)(const char*);
  const auto add_server =
      rpc ? reinterpret_cast<add_server_fn>(ggml_backend_reg_get_proc_address(rpc, "ggml_backend_rpc_add_server"))
          : nullptr;
  if (!add_server)
    throw unsupported_error("llama_cpp.rpc", "llama.cpp was built without GGML_RPC; cannot use '" + endpoint + "'");
  ggml_backend_reg_t reg = add_server(endpoint.c_str());
  if (!reg || ggml_backend_reg_dev_count(reg) == 0)
    throw io_error("llama_cpp.rpc", "cannot reach rpc-server at '" + endpoint + "'");
  return ggml_backend_reg_dev_get(reg, 0);
}

inline std::shared_ptr<llama_model> llama_cpp_load(const std::filesystem::path& path, const llama_cpp_options& opt,
                                                   bool vocab_only, std::vector<ggml_backend_dev_t>& devices) {
  llama_cpp_init(opt.quiet);
  const std::string arch = llama_cpp_check_gguf(path);
  llama_model_params mp = llama_model_default_params();
  mp.vocab_only = vocab_only;
  mp.n_gpu_layers = opt.n_gpu_layers;
  devices.clear();
  if (!opt.rpc_servers.empty()) {
    for (const std::string& endpoint : opt.rpc_servers) {
      ggml_backend_dev_t dev = llama_cpp_rpc_device(endpoint);
      devices.push_back(dev);
    }
    devices.push_back(nullptr);
    mp.devices = devices.data();
    if (opt.n_gpu_layers == 0) mp.n_gpu_layers = -1;  // RPC servers are useless without layers on them
  }
  llama_model* m = llama_model_load_from_file(path.string().c_str(), mp);
  if (!m) {
    const std::string why = llama_cpp_log::instance().take_error();
    if (why.find("unknown model architecture") != std::string::npos)
      throw unsupported_error("llama_cpp.architecture",
                              "llama.cpp does not support architecture '" + arch + "' of '" + path.string() + "'");
    throw format_error("llama_cpp.load", "llama.cpp could not load '" + path.string() + "' (architecture '" + arch +
                                             "')" + (why.empty() ? std::string() : ": " + why));
  }
  return std::shared_ptr<llama_model>(m, llama_model_deleter{});
}

}  // namespace detail

/// @brief True when llama.cpp's CPU matrix products give a row the same bits whether it is computed alone or
/// in a batch (no llamafile sgemm). Without it, greedy assisted output can differ from target-only output
/// where the two best logits are within rounding of each other.
inline bool llama_cpp_batch_invariant() { return ggml_cpu_has_llamafile() == 0; }

/// @brief uag::tokenizer over a GGUF's vocabulary (llama_vocab): encode/decode through llama.cpp, token
/// bytes from llama_token_to_piece. Copies share the underlying model (vocab-only when loaded alone).
class llama_cpp_tokenizer {
 public:
  /// @brief Loads only the vocabulary of a GGUF file. Throws io_error [uag.llama_cpp.open], format_error
  /// [uag.llama_cpp.gguf]/[uag.llama_cpp.load], unsupported_error [uag.llama_cpp.architecture].
  static llama_cpp_tokenizer from_file(const std::filesystem::path& path, bool quiet = true) {
    llama_cpp_options opt;
    opt.quiet = quiet;
    std::vector<ggml_backend_dev_t> devices;
    return llama_cpp_tokenizer(detail::llama_cpp_load(path, opt, true, devices));
  }

  /// requires: model is a loaded llama_model (the tokenizer keeps it alive). cost: O(vocab) to build the
  /// token-bytes table and the fingerprint.
  explicit llama_cpp_tokenizer(std::shared_ptr<llama_model> model)
      : model_(std::move(model)), vocab_(llama_model_get_vocab(model_.get())) {
    const auto n = static_cast<std::size_t>(llama_vocab_n_tokens(vocab_));
    special_.assign(n, 0);
    offsets_.reserve(n + 1);
    offsets_.push_back(0);
    std::uint64_t h = 1469598103934665603ull;  // FNV-1a over everything that decides encode/decode
    auto mix = [&h](const void* p, std::size_t len) {
      const auto* b = static_cast<const unsigned char*>(p);
      for (std::size_t i = 0; i < len; ++i) h = (h ^ b[i]) * 1099511628211ull;
    };
    const int type = llama_vocab_type(vocab_);
    mix(&type, sizeof type);
    strip_leading_space_ = type == LLAMA_VOCAB_TYPE_SPM;
    char buf[256];
    for (std::size_t i = 0; i < n; ++i) {
      const auto id = static_cast<llama_token>(i);
      const auto attr = static_cast<int>(llama_vocab_get_attr(vocab_, id));
      const bool special = (attr & (LLAMA_TOKEN_ATTR_CONTROL | LLAMA_TOKEN_ATTR_UNKNOWN)) != 0;
      special_[i] = special ? 1 : 0;
      if (!special) {
        int len = llama_token_to_piece(vocab_, id, buf, sizeof buf, 0, false);
        if (len > 0) {
          bytes_.append(buf, static_cast<std::size_t>(len));
        } else if (len < 0) {
          std::string big(static_cast<std::size_t>(-len), '\0');
          len = llama_token_to_piece(vocab_, id, big.data(), -len, 0, false);
          bytes_.append(big.data(), static_cast<std::size_t>(std::max(len, 0)));
        }
      }
      offsets_.push_back(static_cast<std::uint32_t>(bytes_.size()));
      const char* text = llama_vocab_get_text(vocab_, id);
      mix(text, std::char_traits<char>::length(text) + 1);
      const float score = llama_vocab_get_score(vocab_, id);
      mix(&score, sizeof score);
      mix(&attr, sizeof attr);
    }
    if (llama_vocab_bos(vocab_) != LLAMA_TOKEN_NULL) bos_ = llama_vocab_bos(vocab_);
    if (llama_vocab_eos(vocab_) != LLAMA_TOKEN_NULL) eos_ = llama_vocab_eos(vocab_);
    const bool flags[2] = {llama_vocab_get_add_bos(vocab_), llama_vocab_get_add_eos(vocab_)};
    mix(flags, sizeof flags);
    fingerprint_ = h;
  }

  /// @brief Ids of text, as llama_tokenize gives them (special tokens written in the text are recognised,
  /// as HF does). Throws input_error [uag.tokenizer.utf8] on invalid UTF-8.
  token_vector encode(std::string_view text, bool add_special_tokens) const {
    token_vector out;
    encode_into(text, add_special_tokens, out);
    return out;
  }

  /// @brief As encode(), into out (its storage is reused: no allocation once it is large enough, which is
  /// what the bridge's per-step re-encoding needs). On a throw, out is empty.
  void encode_into(std::string_view text, bool add_special_tokens, token_vector& out) const {
    out.clear();
    if (!utf8::is_valid(text))
      throw input_error("tokenizer.utf8", "text to encode is not valid UTF-8 (byte " +
                                              std::to_string(utf8::valid_prefix_length(text)) + ")");
    if (text.size() > static_cast<std::size_t>(INT32_MAX / 2))
      throw input_error("llama_cpp.text_size", "text of " + std::to_string(text.size()) + " bytes is too long");
    out.resize(std::max(out.capacity(), text.size() + 4));
    int32_t n = llama_tokenize(vocab_, text.data(), static_cast<int32_t>(text.size()), out.data(),
                               static_cast<int32_t>(out.size()), add_special_tokens, true);
    if (n < 0 && n != INT32_MIN) {
      out.resize(static_cast<std::size_t>(-n));
      n = llama_tokenize(vocab_, text.data(), static_cast<int32_t>(text.size()), out.data(),
                         static_cast<int32_t>(out.size()), add_special_tokens, true);
    }
    if (n < 0) {
      out.clear();
      throw tokenizer_error("llama_cpp.tokenize", "llama_tokenize failed (" + std::to_string(n) + ")");
    }
    out.resize(static_cast<std::size_t>(n));
  }

  /// @brief Text of ids: the tokens' bytes concatenated (control tokens dropped when skip_special_tokens,
  /// their text otherwise), then, for SentencePiece vocabularies, one leading space removed, as HF's
  /// Llama/Mistral decoders do (llama_detokenize removes it only from the first token, which is often BOS,
  /// and applies its own space clean-up: both would differ from hf_tokenizer). Invalid UTF-8 becomes
  /// U+FFFD. Throws input_error [uag.tokenizer.id] for an id outside [0, vocab_size()).
  std::string decode(token_span ids, bool skip_special_tokens) const {
    check_ids(ids);
    std::string bytes;
    for (const token_id id : ids) {
      if (special_[static_cast<std::size_t>(id)]) {
        if (!skip_special_tokens) bytes += llama_vocab_get_text(vocab_, id);
      } else {
        bytes += token_bytes(id);
      }
    }
    if (strip_leading_space_ && !bytes.empty() && bytes.front() == ' ') bytes.erase(0, 1);
    if (utf8::is_valid(bytes)) return bytes;
    std::string out;
    out.reserve(bytes.size() + 8);
    detail::unicode::append_lossy(out, bytes);
    return out;
  }

  /// @brief Raw bytes of the token in running text ('▁' -> ' ', <0xNN> -> the byte, byte-level alphabet ->
  /// bytes); "" for control/unknown tokens and ids out of range. cost: O(1), a view into a table.
  std::string_view token_bytes(token_id id) const noexcept {
    if (id < 0 || static_cast<std::size_t>(id) + 1 >= offsets_.size()) return {};
    const auto i = static_cast<std::size_t>(id);
    return std::string_view(bytes_).substr(offsets_[i], offsets_[i + 1] - offsets_[i]);
  }

  std::size_t vocab_size() const noexcept { return special_.size(); }
  std::optional<token_id> bos_id() const noexcept { return bos_; }
  std::optional<token_id> eos_id() const noexcept { return eos_; }
  /// @brief True for control and unknown tokens.
  bool is_special(token_id id) const noexcept {
    return id >= 0 && static_cast<std::size_t>(id) < special_.size() && special_[static_cast<std::size_t>(id)];
  }
  /// @brief Hash of the vocabulary (texts, scores, attributes, type, BOS/EOS flags): two GGUFs of one model
  /// (an F16 target and its Q4 copy) share it, so a bridged draft takes the same-vocabulary fast path.
  std::uint64_t fingerprint() const noexcept { return fingerprint_; }
  /// @brief llama.cpp's add-BOS flag for this vocabulary.
  bool add_bos() const noexcept { return llama_vocab_get_add_bos(vocab_); }
  const llama_vocab* vocab() const noexcept { return vocab_; }

 private:
  void check_ids(token_span ids) const {
    for (const token_id id : ids)
      if (id < 0 || static_cast<std::size_t>(id) >= special_.size())
        throw input_error("tokenizer.id", "token id " + std::to_string(id) + " is out of range (vocab size " +
                                              std::to_string(special_.size()) + ")");
  }

  std::shared_ptr<llama_model> model_;
  const llama_vocab* vocab_ = nullptr;
  std::string bytes_;                    // id -> token_bytes
  std::vector<std::uint32_t> offsets_;   // (vocab + 1)
  std::vector<std::uint8_t> special_;    // (vocab)
  std::optional<token_id> bos_, eos_;
  std::uint64_t fingerprint_ = 0;
  bool strip_leading_space_ = false;     // SentencePiece: decode drops the space its encoder prefixed
};

/// @brief uag::causal_lm (with partial logits and tokenizer()) over a llama_model + llama_context, sequence 0.
///
/// forward() is one llama_decode with logits for every row (verification reads them all); the returned
/// view points into llama.cpp's output buffer, valid until the next forward() or truncate(). truncate()
/// drops positions through llama_memory_seq_rm. No allocation per step: the batch is allocated once for
/// the whole context.
class llama_cpp_model {
 public:
  /// @brief Loads a GGUF model and creates its context. Throws io_error [uag.llama_cpp.open],
  /// format_error [uag.llama_cpp.gguf] / [uag.llama_cpp.load], unsupported_error
  /// [uag.llama_cpp.architecture], model_error [uag.llama_cpp.context_init], io_error [uag.llama_cpp.rpc].
  static llama_cpp_model from_file(const std::filesystem::path& path, const llama_cpp_options& opt = {}) {
    std::vector<ggml_backend_dev_t> devices;
    auto model = detail::llama_cpp_load(path, opt, false, devices);
    return llama_cpp_model(std::move(model), opt);
  }

  /// requires: model is a loaded llama_model (not vocab-only).
  llama_cpp_model(std::shared_ptr<llama_model> model, const llama_cpp_options& opt)
      : model_(model), tok_(model) {
    llama_context_params cp = llama_context_default_params();
    const auto train_ctx = static_cast<std::size_t>(std::max(llama_model_n_ctx_train(model_.get()), 1));
    n_ctx_ = opt.n_ctx ? opt.n_ctx : std::min<std::size_t>(train_ctx, 4096);
    n_ctx_ = (n_ctx_ + 255) / 256 * 256;  // llama.cpp pads the context to 256; the batch must match it
    cp.n_ctx = static_cast<uint32_t>(n_ctx_);
    cp.n_batch = cp.n_ctx;  // any forward() fits one llama_decode (logical batch); ubatches chunk it
    cp.n_ubatch = static_cast<uint32_t>(std::min(opt.n_ubatch, n_ctx_));
    cp.n_seq_max = 1;
    const int threads = opt.n_threads > 0 ? opt.n_threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    cp.n_threads = threads;
    cp.n_threads_batch = threads;
    cp.flash_attn_type = opt.flash_attention ? LLAMA_FLASH_ATTN_TYPE_ENABLED : LLAMA_FLASH_ATTN_TYPE_DISABLED;
    cp.type_k = opt.f16_kv_cache ? GGML_TYPE_F16 : GGML_TYPE_F32;
    cp.type_v = cp.type_k;
    cp.no_perf = true;
    llama_context* c = llama_init_from_model(model_.get(), cp);
    if (!c) {
      const std::string why = detail::llama_cpp_log::instance().take_error();
      throw model_error("llama_cpp.context_init", "llama_init_from_model failed for a context of " +
                                                      std::to_string(n_ctx_) + " tokens" +
                                                      (why.empty() ? std::string() : ": " + why));
    }
    ctx_.reset(c);
    n_ctx_ = std::min<std::size_t>(llama_n_ctx(c), llama_n_batch(c));  // one forward() = one llama_decode
    vocab_size_ = static_cast<std::size_t>(llama_vocab_n_tokens(llama_model_get_vocab(model_.get())));
    batch_ = llama_batch_init(static_cast<int32_t>(n_ctx_), 0, 1);
    for (std::size_t i = 0; i < n_ctx_; ++i) {
      batch_.n_seq_id[i] = 1;
      batch_.seq_id[i][0] = 0;
    }
  }

  llama_cpp_model(llama_cpp_model&& o) noexcept
      : model_(std::move(o.model_)), ctx_(std::move(o.ctx_)), tok_(std::move(o.tok_)), batch_(o.batch_),
        n_ctx_(o.n_ctx_), vocab_size_(o.vocab_size_), n_cached_(o.n_cached_) {
    o.batch_ = llama_batch{};
  }
  llama_cpp_model& operator=(llama_cpp_model&&) = delete;
  llama_cpp_model(const llama_cpp_model&) = delete;
  llama_cpp_model& operator=(const llama_cpp_model&) = delete;
  ~llama_cpp_model() {
    if (batch_.token) llama_batch_free(batch_);
  }

  /// @brief Width of a logits row (the GGUF vocabulary size).
  std::size_t vocab_size() const noexcept { return vocab_size_; }
  std::size_t n_cached() const noexcept { return n_cached_; }
  std::size_t max_context() const noexcept { return n_ctx_; }
  const llama_cpp_tokenizer& tokenizer() const noexcept { return tok_; }

  /// @brief Appends ids to sequence 0 and returns one logits row per id, from one llama_decode.
  /// Throws input_error [uag.llama_cpp.context] when the ids do not fit the context, input_error
  /// [uag.llama_cpp.token] for an id outside the vocabulary, model_error [uag.llama_cpp.decode] when
  /// llama_decode fails (the cache is then rolled back to n_cached()).
  logits_view forward(token_span ids) { return forward(ids, ids.size()); }

  /// @brief As forward(ids), with logits only for the last n_rows ids (prefill, draft catch-up).
  logits_view forward(token_span ids, std::size_t n_rows) {
    if (ids.empty()) return {nullptr, 0, vocab_size_};
    if (ids.size() > n_ctx_ - n_cached_)
      throw input_error("llama_cpp.context", std::to_string(ids.size()) + " tokens do not fit: " +
                                                 std::to_string(n_cached_) + " of " + std::to_string(n_ctx_) +
                                                 " context positions are in use");
    n_rows = std::min(n_rows, ids.size());
    const std::size_t first_row = ids.size() - n_rows;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (ids[i] < 0 || static_cast<std::size_t>(ids[i]) >= vocab_size_)
        throw input_error("llama_cpp.token", "token id " + std::to_string(ids[i]) + " is out of range (vocab size " +
                                                 std::to_string(vocab_size_) + ")");
      batch_.token[i] = ids[i];
      batch_.pos[i] = static_cast<llama_pos>(n_cached_ + i);
      batch_.logits[i] = i >= first_row ? 1 : 0;
    }
    batch_.n_tokens = static_cast<int32_t>(ids.size());
    const int32_t rc = llama_decode(ctx_.get(), batch_);
    if (rc != 0) {
      // A failed decode may have stored some ubatches: drop them so the cache matches n_cached().
      llama_memory_seq_rm(llama_get_memory(ctx_.get()), 0, static_cast<llama_pos>(n_cached_), -1);
      const std::string why = detail::llama_cpp_log::instance().take_error();
      throw model_error("llama_cpp.decode", "llama_decode failed with code " + std::to_string(rc) + " on " +
                                                std::to_string(ids.size()) + " tokens" +
                                                (why.empty() ? std::string() : ": " + why));
    }
    n_cached_ += ids.size();
    if (n_rows == 0) return {nullptr, 0, vocab_size_};
    // Rows come back in batch order (llama_get_logits reorders outputs), contiguous.
    const float* data = llama_get_logits(ctx_.get());
    if (!data) throw model_error("llama_cpp.logits", "llama.cpp returned no logits");
    return {data, n_rows, vocab_size_};
  }

  /// @brief Rolls the cache back to its first n tokens. Throws model_error [uag.llama_cpp.truncate] if
  /// n > n_cached() or llama.cpp cannot remove the positions.
  void truncate(std::size_t n) {
    if (n > n_cached_)
      throw model_error("llama_cpp.truncate", "cannot truncate " + std::to_string(n_cached_) + " cached tokens to " +
                                                  std::to_string(n));
    if (n == n_cached_) return;
    if (!llama_memory_seq_rm(llama_get_memory(ctx_.get()), 0, static_cast<llama_pos>(n), -1))
      throw model_error("llama_cpp.truncate", "llama_memory_seq_rm refused to drop positions from " +
                                                  std::to_string(n));
    n_cached_ = n;
  }

  llama_context* context() noexcept { return ctx_.get(); }
  const llama_model* model() const noexcept { return model_.get(); }

 private:
  std::shared_ptr<llama_model> model_;
  std::unique_ptr<llama_context, detail::llama_context_deleter> ctx_;
  llama_cpp_tokenizer tok_;
  llama_batch batch_{};  // (n_ctx) tokens, positions, logits flags; sequence 0 for every slot
  std::size_t n_ctx_ = 0;
  std::size_t vocab_size_ = 0;
  std::size_t n_cached_ = 0;
};

}  // namespace uag
