#pragma once
// One model type for the command line when it is built with llama.cpp (UAG_WITH_LLAMA_CPP): a model folder
// (reference transformer + tokenizer.json) or a GGUF file (llama.cpp), behind one small virtual interface,
// so each subcommand is compiled once for every target/draft mix. A virtual call per target pass and per
// bridged token costs nothing next to a forward pass; the hot loops stay inside each backend.
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "uag/adapters/llama_cpp.hpp"
#include "uag/bridge/tokenizer_bridge.hpp"
#include "uag/model/model_with_tokenizer.hpp"
#include "uag/model/transformer.hpp"
#include "uag/tokenizer/hf_tokenizer.hpp"

namespace uag_cli {

/// A uag::tokenizer over either backend's tokenizer (a non-owning view: the model owns the tokenizer).
class any_tokenizer {
 public:
  struct iface {
    virtual ~iface() = default;
    virtual uag::token_vector encode(std::string_view text, bool add_special) const = 0;
    virtual void encode_into(std::string_view text, bool add_special, uag::token_vector& out) const = 0;
    virtual std::string decode(uag::token_span ids, bool skip_special) const = 0;
    virtual std::string_view token_bytes(uag::token_id id) const = 0;
    virtual std::size_t vocab_size() const = 0;
    virtual std::optional<uag::token_id> bos_id() const = 0;
    virtual std::optional<uag::token_id> eos_id() const = 0;
    virtual bool is_special(uag::token_id id) const = 0;
    virtual std::uint64_t fingerprint() const = 0;
  };
  template <class T>
  struct impl final : iface {
    const T* t;
    explicit impl(const T* tok) : t(tok) {}
    uag::token_vector encode(std::string_view s, bool a) const override { return t->encode(s, a); }
    void encode_into(std::string_view s, bool a, uag::token_vector& out) const override { t->encode_into(s, a, out); }
    std::string decode(uag::token_span ids, bool k) const override { return t->decode(ids, k); }
    std::string_view token_bytes(uag::token_id id) const override { return t->token_bytes(id); }
    std::size_t vocab_size() const override { return t->vocab_size(); }
    std::optional<uag::token_id> bos_id() const override { return t->bos_id(); }
    std::optional<uag::token_id> eos_id() const override { return t->eos_id(); }
    bool is_special(uag::token_id id) const override { return t->is_special(id); }
    // Fingerprints of different tokenizer classes live in different hash spaces: tag them apart.
    std::uint64_t fingerprint() const override {
      return t->fingerprint() ^ (std::is_same_v<T, uag::hf_tokenizer> ? 0 : 0x9e3779b97f4a7c15ull);
    }
  };

  explicit any_tokenizer(std::unique_ptr<iface> p) : p_(std::move(p)) {}
  uag::token_vector encode(std::string_view s, bool a) const { return p_->encode(s, a); }
  void encode_into(std::string_view s, bool a, uag::token_vector& out) const { p_->encode_into(s, a, out); }
  std::string decode(uag::token_span ids, bool k) const { return p_->decode(ids, k); }
  std::string_view token_bytes(uag::token_id id) const { return p_->token_bytes(id); }
  std::size_t vocab_size() const { return p_->vocab_size(); }
  std::optional<uag::token_id> bos_id() const { return p_->bos_id(); }
  std::optional<uag::token_id> eos_id() const { return p_->eos_id(); }
  bool is_special(uag::token_id id) const { return p_->is_special(id); }
  std::uint64_t fingerprint() const { return p_->fingerprint(); }

 private:
  std::unique_ptr<iface> p_;
};

/// A causal_lm + tokenizer() over a reference transformer (model folder) or a llama.cpp model (GGUF).
class any_model {
 public:
  using folder_model = uag::model_with_tokenizer<uag::transformer, uag::hf_tokenizer>;

  explicit any_model(folder_model m) : p_(std::make_unique<impl<folder_model>>(std::move(m))) {}
  explicit any_model(uag::llama_cpp_model m) : p_(std::make_unique<impl<uag::llama_cpp_model>>(std::move(m))) {}

  std::size_t vocab_size() const { return p_->vocab_size(); }
  std::size_t n_cached() const { return p_->n_cached(); }
  std::size_t max_context() const { return p_->max_context(); }
  uag::logits_view forward(uag::token_span ids) { return p_->forward(ids, ids.size()); }
  uag::logits_view forward(uag::token_span ids, std::size_t n_rows) { return p_->forward(ids, n_rows); }
  void truncate(std::size_t n) { p_->truncate(n); }
  float batch_tolerance() const { return p_->batch_tolerance(); }
  const any_tokenizer& tokenizer() const { return p_->tokenizer(); }
  /// "transformer" or "llama.cpp".
  const char* backend() const { return p_->backend(); }

 private:
  struct iface {
    virtual ~iface() = default;
    virtual std::size_t vocab_size() const = 0;
    virtual std::size_t n_cached() const = 0;
    virtual std::size_t max_context() const = 0;
    virtual uag::logits_view forward(uag::token_span ids, std::size_t n_rows) = 0;
    virtual void truncate(std::size_t n) = 0;
    virtual float batch_tolerance() const = 0;
    virtual const any_tokenizer& tokenizer() const = 0;
    virtual const char* backend() const = 0;
  };
  template <class M>
  struct impl final : iface {
    M m;
    any_tokenizer tok;
    explicit impl(M model)
        : m(std::move(model)),
          tok(std::make_unique<any_tokenizer::impl<std::remove_cvref_t<decltype(m.tokenizer())>>>(&m.tokenizer())) {}
    std::size_t vocab_size() const override { return m.vocab_size(); }
    std::size_t n_cached() const override { return m.n_cached(); }
    std::size_t max_context() const override { return m.max_context(); }
    uag::logits_view forward(uag::token_span ids, std::size_t n_rows) override { return m.forward(ids, n_rows); }
    void truncate(std::size_t n) override { m.truncate(n); }
    float batch_tolerance() const override { return uag::batch_tolerance_of(m); }
    const any_tokenizer& tokenizer() const override { return tok; }
    const char* backend() const override {
      return std::is_same_v<M, uag::llama_cpp_model> ? "llama.cpp" : "transformer";
    }
  };
  std::unique_ptr<iface> p_;
};

static_assert(uag::causal_lm_with_partial_logits<any_model>);
static_assert(uag::has_tokenizer<any_model>);
static_assert(uag::detail::has_encode_into<any_tokenizer> && uag::detail::has_fingerprint<any_tokenizer>);

}  // namespace uag_cli
