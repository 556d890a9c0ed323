#pragma once
/// @file uag's reference CPU transformer for the Llama family (Llama, Mistral, Qwen2, Qwen3), loaded from
/// Hugging Face folders. Float32 compute and weights; a preallocated KV cache with truncate(); batched
/// forward passes that stream every weight matrix once for all new tokens (see detail/matmul.hpp).
///
/// Matches transformers' eager attention: RMSNorm → q/k/v (+bias) → [Qwen3: per-head RMSNorm on q, k] →
/// RoPE (rotate-half) → causal (optionally sliding-window) softmax(q·kᵀ/√d)·v → o_proj → residual →
/// RMSNorm → down(silu(gate(x))·up(x)) → residual; final RMSNorm → lm_head.
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <memory>
#include <new>
#include <numbers>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include "uag/core/error.hpp"
#include "uag/core/logits.hpp"
#include "uag/core/memory.hpp"
#include "uag/core/types.hpp"
#include "uag/model/concepts.hpp"
#include "uag/core/instruction_set.hpp"
#include "uag/model/detail/kernels.hpp"
#include "uag/model/model_config.hpp"
#include "uag/model/safetensors.hpp"

namespace uag {

/// @brief How projection weights are held in memory, and what the products multiply.
enum class weight_format {
  automatic,      // bf16 when every matrix was stored as BF16 in the file (lossless), else f32
  f32,            // float32: exact for any source, twice the memory traffic of bf16
  bf16,           // bfloat16, widened to float32 in registers; rounds float32/float16 sources
  bf16_products,  // bfloat16, and each product's inputs rounded to bfloat16 too (llama.cpp's BF16 CPU path
                  // rounds them alike), summed in float32: one vdpbf16ps per input pair where the CPU has
                  // AVX512_BF16, so a verification pass of 5-8 rows costs 1.2-1.75x less. Batch-invariant
                  // like the others; logits move by ~1% of the largest against bf16 (test models)
};

/// @brief Options of a transformer instance.
struct transformer_options {
  std::size_t max_context = 0;  // tokens the KV cache holds; 0 = config's max_position_embeddings capped at 4096
  int n_threads = 0;            // OpenMP threads for matmuls and attention; 0 = all (omp_get_max_threads())
  std::size_t chunk_rows = 32;  // tokens processed together; scratch buffers are sized for this many rows
  weight_format weights = weight_format::automatic;  // storage of the projection matrices and lm_head
  instruction_set isa = instruction_set::automatic;  // kernels; automatic = UAG_ISA if set, else the CPU's best
  bool huge_pages = true;  // packed weights in one range advised for huge pages (core/memory.hpp); false = 4 KiB pages
};

/// @brief Row-major float matrix, the layout of every weight (out_features, in_features) as in PyTorch.
using row_matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// @brief Weights of one decoder layer. Projections that run on the same input are stacked so that one
/// pass over memory serves them all.
struct layer_weights {
  row_matrix w_qkv;           // (q_dim + 2*kv_dim, hidden): q_proj, k_proj, v_proj stacked by rows
  Eigen::VectorXf b_qkv;      // (q_dim + 2*kv_dim), or empty when the model has no q/k/v biases
  row_matrix w_o;             // (hidden, q_dim)
  Eigen::VectorXf b_o;        // (hidden), or empty
  Eigen::VectorXf q_norm;     // (head_dim), Qwen3 only, else empty
  Eigen::VectorXf k_norm;     // (head_dim), Qwen3 only, else empty
  row_matrix w_gate_up;       // (2*intermediate, hidden): gate_proj then up_proj
  Eigen::VectorXf b_gate_up;  // (2*intermediate), or empty
  row_matrix w_down;          // (hidden, intermediate)
  Eigen::VectorXf b_down;     // (hidden), or empty
  Eigen::VectorXf attn_norm;  // (hidden) input_layernorm
  Eigen::VectorXf mlp_norm;   // (hidden) post_attention_layernorm
};

/// @brief All weights of a model.
struct transformer_weights {
  row_matrix embed;                  // (vocab, hidden) embed_tokens
  std::vector<layer_weights> layers;  // n_layers
  Eigen::VectorXf final_norm;        // (hidden)
  row_matrix lm_head;                // (vocab, hidden); empty when tied to embed
  bool source_bf16 = false;          // every matrix was read from a BF16 tensor (bf16 storage is lossless)
};

namespace detail {

/// @brief n zero floats from calloc. A block this large comes straight from the kernel as untouched zero
/// pages, so a KV cache sized for the whole context costs no time or memory until positions are written
/// (a zero-filled vector wrote 50 MB at every load of the bundled target).
class zeroed_floats {
 public:
  zeroed_floats() = default;
  explicit zeroed_floats(std::size_t n) : p_(static_cast<float*>(std::calloc(std::max<std::size_t>(n, 1), sizeof(float)))) {
    if (!p_) throw std::bad_alloc();
  }
  float& operator[](std::size_t i) noexcept { return p_.get()[i]; }

 private:
  struct free_delete {
    void operator()(float* p) const noexcept { std::free(p); }
  };
  std::unique_ptr<float, free_delete> p_;
};

/// Copies tensor `name` (any float dtype) into dst after checking its shape. throws: format_error
/// "[uag.model.missing_tensor]" / "[uag.model.tensor_shape]".
inline dtype load_tensor(const safetensors_set& set, const std::string& name, std::vector<std::size_t> shape, float* dst) {
  const auto hit = set.find(name);
  if (!hit) throw format_error("model.missing_tensor", "tensor '" + name + "' is missing from the safetensors file(s)");
  if (hit->info->shape != shape) {
    auto str = [](const std::vector<std::size_t>& s) {
      std::string r = "[";
      for (std::size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
      return r + "]";
    };
    throw format_error("model.tensor_shape", "tensor '" + name + "' has shape " + str(hit->info->shape) + ", expected " + str(shape));
  }
  std::size_t n = 1;
  for (auto d : shape) n *= d;
  hit->file->to_f32(*hit->info, std::span<float>(dst, n));
  return hit->info->type;
}

}  // namespace detail

/// @brief Reads every weight of a config's model from safetensors tensors named as transformers names them.
/// throws: format_error for missing tensors or wrong shapes; unsupported_error for non-float dtypes.
/// cost: converts all weights to float32 once (about 4 bytes per parameter of memory).
inline transformer_weights load_weights(const model_config& c, const safetensors_set& set) {
  const std::size_t h = c.hidden_size, q = c.q_dim(), kv = c.kv_dim(), im = c.intermediate_size, v = c.vocab_size;
  transformer_weights w;
  bool all_bf16 = true;
  w.embed.resize(static_cast<Eigen::Index>(v), static_cast<Eigen::Index>(h));
  all_bf16 &= detail::load_tensor(set, "model.embed_tokens.weight", {v, h}, w.embed.data()) == dtype::bf16;
  w.final_norm.resize(static_cast<Eigen::Index>(h));
  detail::load_tensor(set, "model.norm.weight", {h}, w.final_norm.data());
  if (!c.tie_word_embeddings) {
    w.lm_head.resize(static_cast<Eigen::Index>(v), static_cast<Eigen::Index>(h));
    all_bf16 &= detail::load_tensor(set, "lm_head.weight", {v, h}, w.lm_head.data()) == dtype::bf16;
  }
  auto vec = [](std::size_t n) { return Eigen::VectorXf(static_cast<Eigen::Index>(n)); };
  auto mat = [](std::size_t r, std::size_t cols) { return row_matrix(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(cols)); };
  w.layers.resize(c.n_layers);
  for (std::size_t l = 0; l < c.n_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    auto& L = w.layers[l];
    L.w_qkv = mat(q + 2 * kv, h);
    all_bf16 &= detail::load_tensor(set, p + "self_attn.q_proj.weight", {q, h}, L.w_qkv.data()) == dtype::bf16;
    all_bf16 &= detail::load_tensor(set, p + "self_attn.k_proj.weight", {kv, h}, L.w_qkv.data() + q * h) == dtype::bf16;
    all_bf16 &= detail::load_tensor(set, p + "self_attn.v_proj.weight", {kv, h}, L.w_qkv.data() + (q + kv) * h) == dtype::bf16;
    if (c.qkv_bias) {
      L.b_qkv = vec(q + 2 * kv);
      detail::load_tensor(set, p + "self_attn.q_proj.bias", {q}, L.b_qkv.data());
      detail::load_tensor(set, p + "self_attn.k_proj.bias", {kv}, L.b_qkv.data() + q);
      detail::load_tensor(set, p + "self_attn.v_proj.bias", {kv}, L.b_qkv.data() + q + kv);
    }
    L.w_o = mat(h, q);
    all_bf16 &= detail::load_tensor(set, p + "self_attn.o_proj.weight", {h, q}, L.w_o.data()) == dtype::bf16;
    if (c.o_bias) {
      L.b_o = vec(h);
      detail::load_tensor(set, p + "self_attn.o_proj.bias", {h}, L.b_o.data());
    }
    if (c.qk_norm) {
      L.q_norm = vec(c.head_dim);
      L.k_norm = vec(c.head_dim);
      detail::load_tensor(set, p + "self_attn.q_norm.weight", {c.head_dim}, L.q_norm.data());
      detail::load_tensor(set, p + "self_attn.k_norm.weight", {c.head_dim}, L.k_norm.data());
    }
    L.w_gate_up = mat(2 * im, h);
    all_bf16 &= detail::load_tensor(set, p + "mlp.gate_proj.weight", {im, h}, L.w_gate_up.data()) == dtype::bf16;
    all_bf16 &= detail::load_tensor(set, p + "mlp.up_proj.weight", {im, h}, L.w_gate_up.data() + im * h) == dtype::bf16;
    L.w_down = mat(h, im);
    all_bf16 &= detail::load_tensor(set, p + "mlp.down_proj.weight", {h, im}, L.w_down.data()) == dtype::bf16;
    if (c.mlp_bias) {
      L.b_gate_up = vec(2 * im);
      L.b_down = vec(h);
      detail::load_tensor(set, p + "mlp.gate_proj.bias", {im}, L.b_gate_up.data());
      detail::load_tensor(set, p + "mlp.up_proj.bias", {im}, L.b_gate_up.data() + im);
      detail::load_tensor(set, p + "mlp.down_proj.bias", {h}, L.b_down.data());
    }
    L.attn_norm = vec(h);
    L.mlp_norm = vec(h);
    detail::load_tensor(set, p + "input_layernorm.weight", {h}, L.attn_norm.data());
    detail::load_tensor(set, p + "post_attention_layernorm.weight", {h}, L.mlp_norm.data());
  }
  w.source_bf16 = all_bf16;
  return w;
}

/// @brief Random weights for a config (uniform, scaled by 1/√fan_in; norms near 1), e.g. for benchmarks.
inline transformer_weights random_weights(const model_config& c, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto fill = [&](float* p, std::size_t n, float lo, float hi) {
    std::uniform_real_distribution<float> d(lo, hi);
    for (std::size_t i = 0; i < n; ++i) p[i] = d(rng);
  };
  auto mat = [&](std::size_t r, std::size_t cols) {
    row_matrix m(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(cols));
    const float a = 1.0f / std::sqrt(static_cast<float>(cols));
    fill(m.data(), r * cols, -a, a);
    return m;
  };
  auto vec = [&](std::size_t n, float lo, float hi) {
    Eigen::VectorXf v(static_cast<Eigen::Index>(n));
    fill(v.data(), n, lo, hi);
    return v;
  };
  const std::size_t h = c.hidden_size, q = c.q_dim(), kv = c.kv_dim(), im = c.intermediate_size;
  transformer_weights w;
  w.embed = mat(c.vocab_size, h);
  w.final_norm = vec(h, 0.8f, 1.2f);
  if (!c.tie_word_embeddings) w.lm_head = mat(c.vocab_size, h);
  w.layers.resize(c.n_layers);
  for (auto& L : w.layers) {
    L.w_qkv = mat(q + 2 * kv, h);
    if (c.qkv_bias) L.b_qkv = vec(q + 2 * kv, -0.1f, 0.1f);
    L.w_o = mat(h, q);
    if (c.o_bias) L.b_o = vec(h, -0.1f, 0.1f);
    if (c.qk_norm) {
      L.q_norm = vec(c.head_dim, 0.8f, 1.2f);
      L.k_norm = vec(c.head_dim, 0.8f, 1.2f);
    }
    L.w_gate_up = mat(2 * im, h);
    if (c.mlp_bias) L.b_gate_up = vec(2 * im, -0.1f, 0.1f);
    L.w_down = mat(h, im);
    if (c.mlp_bias) L.b_down = vec(h, -0.1f, 0.1f);
    L.attn_norm = vec(h, 0.8f, 1.2f);
    L.mlp_norm = vec(h, 0.8f, 1.2f);
  }
  return w;
}

/// @brief The reference transformer. Satisfies causal_lm and causal_lm_with_partial_logits.
///
/// ```
/// auto m = uag::transformer::from_folder("models/llama");
/// uag::logits_view l = m.forward(ids);          // one row per id
/// m.truncate(m.n_cached() - 3);                  // drop 3 rejected tokens
/// ```
class transformer {
 public:
  /// @brief Loads config.json and model.safetensors (or model.safetensors.index.json + shards) from dir.
  /// throws: io_error, format_error, config_error, unsupported_error. cost: reads every weight once.
  static transformer from_folder(const std::filesystem::path& dir, transformer_options options = {}) {
    model_config c = model_config::from_file(dir / "config.json");
    const safetensors_set set = safetensors_set::open_folder(dir);
    transformer_weights w = load_weights(c, set);
    return transformer(std::move(c), std::move(w), options);
  }

  /// @brief Builds a model from a config.json text and the bytes of one safetensors file (no copies kept).
  static transformer from_memory(std::string_view config_json, std::span<const std::byte> safetensors,
                                 transformer_options options = {}) {
    model_config c = model_config::from_json(config_json);
    std::vector<safetensors_file> files;
    files.push_back(safetensors_file::parse(safetensors));
    const safetensors_set set = safetensors_set::from_files(std::move(files));
    transformer_weights w = load_weights(c, set);
    return transformer(std::move(c), std::move(w), options);
  }

  /// @brief Takes ownership of weights for config c. throws: format_error "[uag.model.tensor_shape]" when a
  /// weight's shape does not follow from c; config_error "[uag.model.max_context]" for absurd options;
  /// config_error "[uag.cpu.isa_name]" / unsupported_error "[uag.cpu.isa]" for a bad UAG_ISA or options.isa.
  transformer(model_config c, transformer_weights w, transformer_options options = {})
      : config_(std::move(c)), w_(std::move(w)) {
    kernels_ = &detail::kernels_for(options.isa);
    check_shapes();
    pack_weights(options.weights, options.huge_pages);
    max_context_ = options.max_context ? options.max_context : std::min<std::size_t>(config_.max_position_embeddings, 4096);
    if (max_context_ > (std::size_t{1} << 22))
      throw config_error("model.max_context", "max_context " + std::to_string(max_context_) + " exceeds 4194304");
#if defined(_OPENMP)
    n_threads_ = options.n_threads > 0 ? options.n_threads : omp_get_max_threads();
#else
    n_threads_ = 1;
#endif
    chunk_ = std::clamp<std::size_t>(options.chunk_rows, 1, 4096);
    const std::size_t kv = config_.kv_dim();
    // The KV cache stays on 4 KiB pages: in huge pages a 1,500-token pass of the bundled target was no
    // faster (3.52-3.76 against 3.56-3.64 ms), and each layer's first write would make 2 MiB resident.
    k_cache_ = detail::zeroed_floats(config_.n_layers * config_.n_kv_heads *
                                     detail::key_cache_floats(max_context_, config_.head_dim));
    v_cache_ = detail::zeroed_floats(config_.n_layers * max_context_ * kv);
    build_rope_tables();
    const std::size_t h = config_.hidden_size;
    qkv_dim_ = config_.q_dim() + 2 * kv;
    x_.assign(chunk_ * h, 0.0f);
    xn_.assign(chunk_ * h, 0.0f);
    qkv_.assign(chunk_ * qkv_dim_, 0.0f);
    att_.assign(chunk_ * config_.q_dim(), 0.0f);
    gu_.assign(chunk_ * 2 * config_.intermediate_size, 0.0f);
    act_.assign(chunk_ * config_.intermediate_size, 0.0f);
    scores_.assign(scores_floats(), 0.0f);
    logits_.assign(chunk_ * config_.vocab_size, 0.0f);
    // Every product's input rows rounded to bfloat16 (hidden, q_dim or intermediate wide).
    if (products_)
      product_inputs_.assign(
          detail::products_input_words(chunk_, std::max({h, config_.q_dim(), config_.intermediate_size})),
          0u);
  }

  transformer(const transformer&) = delete;  // holds pointers into its own weights
  transformer& operator=(const transformer&) = delete;
  transformer(transformer&&) noexcept = default;
  transformer& operator=(transformer&&) noexcept = default;

  /// @brief Logits per row (the config's vocab_size; may exceed the tokenizer's vocabulary).
  std::size_t vocab_size() const noexcept { return config_.vocab_size; }
  /// @brief Tokens held in the KV cache.
  std::size_t n_cached() const noexcept { return n_cached_; }
  /// @brief Capacity of the KV cache in tokens.
  std::size_t max_context() const noexcept { return max_context_; }
  /// @brief The model's configuration.
  const model_config& config() const noexcept { return config_; }
  /// @brief The weights. The projection matrices and an untied lm_head are released
  /// (empty) after packing; embeddings, norms and biases stay.
  const transformer_weights& weights() const noexcept { return w_; }
  /// @brief True when projections are held as bfloat16.
  bool bf16_weights() const noexcept { return bf16_; }
  /// @brief True when products round their inputs to bfloat16 (weight_format::bf16_products).
  bool bf16_products() const noexcept { return products_; }
  /// @brief OpenMP threads used.
  int n_threads() const noexcept { return n_threads_; }
  /// @brief The instruction set of the kernels this model runs (never automatic).
  instruction_set isa() const noexcept { return kernels_->isa; }
  /// @brief Changes the number of OpenMP threads (0 = all). cost: may allocate attention scratch.
  void set_n_threads(int n) {
#if defined(_OPENMP)
    n_threads_ = n > 0 ? n : omp_get_max_threads();
#else
    (void)n;
#endif
    scores_.resize(std::max(scores_.size(), scores_floats()));
  }

  /// @brief Bytes of weights one forward pass streams from memory: every projection, lm_head (even when
  /// tied), norms and biases; not the embedding table, which is only indexed. For bandwidth figures.
  std::size_t streamed_weight_bytes() const noexcept { return streamed_bytes_; }

  /// @brief Appends ids to the cache and returns one logits row per id (row i predicts the token after ids[i]).
  /// requires: every id < vocab_size(); n_cached() + ids.size() <= max_context().
  /// throws: input_error "[uag.model.token_id]" / "[uag.model.context]" (the cache is left unchanged).
  /// cost: streams the weights once per chunk_rows tokens; allocates only when ids.size() exceeds every
  /// earlier batch (the logits buffer grows).
  logits_view forward(token_span ids) { return forward(ids, ids.size()); }

  /// @brief As forward(ids) but computes logits only for the last min(n_rows, ids.size()) ids
  /// (n_rows = 0: prefill only). The returned view has that many rows, for the last ids.
  logits_view forward(token_span ids, std::size_t n_rows) {
    const std::size_t n = ids.size();
    for (std::size_t i = 0; i < n; ++i)
      if (ids[i] < 0 || static_cast<std::size_t>(ids[i]) >= config_.vocab_size)
        throw input_error("model.token_id", "token id " + std::to_string(ids[i]) + " at position " + std::to_string(i) +
                                                " is outside the vocabulary [0, " + std::to_string(config_.vocab_size) + ")");
    if (n > max_context_ - n_cached_)
      throw input_error("model.context", "forward of " + std::to_string(n) + " tokens after " + std::to_string(n_cached_) +
                                             " cached exceeds max_context " + std::to_string(max_context_));
    const std::size_t keep = std::min(n_rows, n);
    const std::size_t first = n - keep;
    const std::size_t vocab = config_.vocab_size;
    if (logits_.size() < keep * vocab) logits_.resize(keep * vocab);
    const std::size_t h = config_.hidden_size;
    for (std::size_t start = 0; start < n; start += chunk_) {
      const std::size_t m = std::min(chunk_, n - start);
      run_chunk(ids.subspan(start, m), n_cached_ + start);
      const std::size_t lo = std::max(start, first);
      if (lo < start + m) {
        const std::size_t r0 = lo - start, count = start + m - lo;
        for (std::size_t r = r0; r < r0 + count; ++r) rms_norm(&x_[r * h], w_.final_norm.data(), &xn_[r * h]);
        mm(lm_ref_, &xn_[r0 * h], h, count, nullptr, &logits_[(lo - first) * vocab], vocab, false);
      }
    }
    n_cached_ += n;
    return {logits_.data(), keep, vocab};
  }

  /// @brief Rolls the cache back to its first n tokens. requires: n <= n_cached().
  /// throws: input_error "[uag.model.truncate]". cost: O(1).
  void truncate(std::size_t n) {
    if (n > n_cached_)
      throw input_error("model.truncate", "cannot truncate to " + std::to_string(n) + " tokens: only " +
                                              std::to_string(n_cached_) + " are cached");
    n_cached_ = n;
  }

 private:
  /// A projection matrix as the kernel sees it: packed float32, or packed bfloat16.
  struct matrix_ref {
    const detail::packed_matrix<float>* f32 = nullptr;
    const detail::packed_matrix<std::uint16_t>* bf16 = nullptr;
  };
  struct layer_refs {
    matrix_ref qkv, o, gate_up, down;
  };

  void mm(const matrix_ref& m, const float* x, std::size_t ldx, std::size_t n, const float* bias, float* y,
          std::size_t ldy, bool accumulate) noexcept {
    if (m.bf16 && products_)
      detail::matmul_products(*kernels_, x, ldx, n, *m.bf16, bias, y, ldy, accumulate, n_threads_, residence_,
                              product_inputs_.data());
    else if (m.bf16)
      detail::matmul(*kernels_, x, ldx, n, *m.bf16, bias, y, ldy, accumulate, n_threads_, residence_);
    else
      detail::matmul(*kernels_, x, ldx, n, *m.f32, bias, y, ldy, accumulate, n_threads_, residence_);
  }

  /// Packs the projections into the kernel's block layout, as float32 or as bfloat16 (round to nearest
  /// even, exact for BF16 checkpoints), and releases the row-major copies (the embedding table stays: it
  /// is also indexed by token).
  void pack_weights(weight_format format, bool huge_pages) {
    products_ = format == weight_format::bf16_products;
    bf16_ = format == weight_format::bf16 || products_ || (format == weight_format::automatic && w_.source_bf16);
    std::size_t vec_floats = static_cast<std::size_t>(w_.final_norm.size());
    std::size_t mat_bytes = 0;
    // Bytes m takes packed: sizes the arena first, then each matrix's piece of it.
    const auto packed_bytes = [&](const row_matrix& m) {
      const auto out = static_cast<std::size_t>(m.rows()), in = static_cast<std::size_t>(m.cols());
      return bf16_ ? detail::packed_matrix<std::uint16_t>::storage_bytes(out, in)
                   : detail::packed_matrix<float>::storage_bytes(out, in);
    };
    const row_matrix& lm = config_.tie_word_embeddings ? w_.embed : w_.lm_head;
    std::size_t arena_bytes = detail::bump_arena::piece_bytes(packed_bytes(lm));
    for (const auto& L : w_.layers)
      for (const row_matrix* m : {&L.w_qkv, &L.w_o, &L.w_gate_up, &L.w_down})
        arena_bytes += detail::bump_arena::piece_bytes(packed_bytes(*m));
    // Every matrix in one allocation: whole huge pages, and consecutive matrices in consecutive memory.
    weight_arena_ = detail::bump_arena(arena_bytes, huge_pages);
    auto pack = [&](row_matrix& m, bool release) -> matrix_ref {
      const auto out = static_cast<std::size_t>(m.rows()), in = static_cast<std::size_t>(m.cols());
      void* storage = weight_arena_.take(packed_bytes(m));
      matrix_ref r;
      if (bf16_) {
        r.bf16 = &bf16_store_.emplace_back(m.data(), out, in, storage);
        mat_bytes += r.bf16->bytes();
      } else {
        r.f32 = &f32_store_.emplace_back(m.data(), out, in, storage);
        mat_bytes += r.f32->bytes();
      }
      if (release) m.resize(0, 0);
      return r;
    };
    refs_.clear();
    for (auto& L : w_.layers) {
      refs_.push_back({pack(L.w_qkv, true), pack(L.w_o, true), pack(L.w_gate_up, true), pack(L.w_down, true)});
      vec_floats += static_cast<std::size_t>(L.b_qkv.size() + L.b_o.size() + L.b_gate_up.size() + L.b_down.size() +
                                             L.attn_norm.size() + L.mlp_norm.size() + L.q_norm.size() + L.k_norm.size());
    }
    lm_ref_ = config_.tie_word_embeddings ? pack(w_.embed, false) : pack(w_.lm_head, true);
    streamed_bytes_ = mat_bytes + vec_floats * sizeof(float);
    residence_ =
        streamed_bytes_ <= cache_resident_bytes ? detail::weight_residence::cache : detail::weight_residence::memory;
  }

  /// Attention scratch: per thread, a group of query rows over the whole context.
  std::size_t scores_floats() const noexcept {
    return static_cast<std::size_t>(n_threads_) * detail::attention_group * detail::attention_scratch(max_context_);
  }

  /// Models up to this size are assumed to stay in the last-level cache between passes (half of a
  /// 32 MiB L3: the KV cache and activations need room too).
  static constexpr std::size_t cache_resident_bytes = std::size_t{16} << 20;

  void check_shapes() const {
    const auto& c = config_;
    // A config built in code skips from_json's validation: check what indexing relies on.
    if (c.vocab_size == 0 || c.hidden_size == 0 || c.n_layers == 0 || c.n_heads == 0 || c.n_kv_heads == 0 ||
        c.n_heads % c.n_kv_heads != 0 || c.head_dim == 0 || c.head_dim % 2 != 0 || c.intermediate_size == 0)
      throw config_error("model.config", "inconsistent model_config (zero size, odd head_dim, or n_heads not a multiple of n_kv_heads)");
    if (c.sliding_layers.size() != c.n_layers)
      throw config_error("model.config", "model_config.sliding_layers has " + std::to_string(c.sliding_layers.size()) +
                                             " entries for " + std::to_string(c.n_layers) + " layers");
    const auto h = static_cast<Eigen::Index>(c.hidden_size), q = static_cast<Eigen::Index>(c.q_dim()),
               kv = static_cast<Eigen::Index>(c.kv_dim()), im = static_cast<Eigen::Index>(c.intermediate_size),
               v = static_cast<Eigen::Index>(c.vocab_size), hd = static_cast<Eigen::Index>(c.head_dim);
    auto need = [](bool ok, const std::string& what) {
      if (!ok) throw format_error("model.tensor_shape", what + " does not match the config");
    };
    need(w_.embed.rows() == v && w_.embed.cols() == h, "embed");
    need(w_.final_norm.size() == h, "final_norm");
    if (!c.tie_word_embeddings) need(w_.lm_head.rows() == v && w_.lm_head.cols() == h, "lm_head");
    need(w_.layers.size() == c.n_layers, "number of layers");
    for (const auto& L : w_.layers) {
      need(L.w_qkv.rows() == q + 2 * kv && L.w_qkv.cols() == h, "w_qkv");
      need(L.b_qkv.size() == (c.qkv_bias ? q + 2 * kv : 0), "b_qkv");
      need(L.w_o.rows() == h && L.w_o.cols() == q, "w_o");
      need(L.b_o.size() == (c.o_bias ? h : 0), "b_o");
      need(L.q_norm.size() == (c.qk_norm ? hd : 0) && L.k_norm.size() == L.q_norm.size(), "q_norm/k_norm");
      need(L.w_gate_up.rows() == 2 * im && L.w_gate_up.cols() == h, "w_gate_up");
      need(L.b_gate_up.size() == (c.mlp_bias ? 2 * im : 0), "b_gate_up");
      need(L.w_down.rows() == h && L.w_down.cols() == im, "w_down");
      need(L.b_down.size() == (c.mlp_bias ? h : 0), "b_down");
      need(L.attn_norm.size() == h && L.mlp_norm.size() == h, "layer norms");
    }
  }

  /// Inverse frequencies as transformers computes them (float32), for a given base.
  void inv_freq_for(double base, std::vector<float>& out) const {
    const std::size_t half = config_.head_dim / 2;
    out.resize(half);
    for (std::size_t i = 0; i < half; ++i) {
      const float e = static_cast<float>(2 * i) / static_cast<float>(config_.head_dim);
      out[i] = 1.0f / std::pow(static_cast<float>(base), e);
    }
  }

  /// cos/sin tables [max_context][head_dim/2]. RoPE scaling per transformers' modeling_rope_utils:
  /// linear divides frequencies by factor; llama3 rescales low frequencies and blends the band between
  /// (Llama 3.1); dynamic NTK raises the base once the sequence outgrows max_position_embeddings — here
  /// per position (the frequency for position p uses sequence length p+1), which is what transformers'
  /// token-by-token decoding does, and keeps the KV cache consistent whatever the batch split.
  void build_rope_tables() {
    const auto& r = config_.rope;
    const std::size_t half = config_.head_dim / 2;
    cos_.assign(max_context_ * half, 0.0f);
    sin_.assign(max_context_ * half, 0.0f);
    std::vector<float> inv;
    inv_freq_for(r.theta, inv);
    if (r.type == rope_kind::linear) {
      for (auto& f : inv) f = f / static_cast<float>(r.factor);
    } else if (r.type == rope_kind::llama3) {
      const float factor = static_cast<float>(r.factor), lo = static_cast<float>(r.low_freq_factor),
                  hi = static_cast<float>(r.high_freq_factor),
                  old_ctx = static_cast<float>(r.original_max_position_embeddings);
      const float low_wavelen = old_ctx / lo, high_wavelen = old_ctx / hi;
      for (auto& f : inv) {
        const float wavelen = 2.0f * std::numbers::pi_v<float> / f;
        float scaled = wavelen > low_wavelen ? f / factor : f;
        if (!(wavelen < high_wavelen) && !(wavelen > low_wavelen)) {
          const float smooth = (old_ctx / wavelen - lo) / (hi - lo);
          scaled = (1.0f - smooth) * scaled / factor + smooth * scaled;
        }
        f = scaled;
      }
    }
    const std::size_t dyn_from = r.original_max_position_embeddings ? r.original_max_position_embeddings
                                                                     : config_.max_position_embeddings;
    std::vector<float> dyn;
    for (std::size_t p = 0; p < max_context_; ++p) {
      const std::vector<float>* f = &inv;
      if (r.type == rope_kind::dynamic && p + 1 > dyn_from) {
        const double d = static_cast<double>(config_.head_dim);
        const double base = r.theta * std::pow(r.factor * static_cast<double>(p + 1) / static_cast<double>(dyn_from) -
                                                   (r.factor - 1.0), d / (d - 2.0));
        inv_freq_for(base, dyn);
        f = &dyn;
      }
      for (std::size_t i = 0; i < half; ++i) {
        const float angle = (*f)[i] * static_cast<float>(p);
        cos_[p * half + i] = static_cast<float>(std::cos(static_cast<double>(angle)));
        sin_[p * half + i] = static_cast<float>(std::sin(static_cast<double>(angle)));
      }
    }
  }

  void rms_norm(const float* x, const float* weight, float* out, std::size_t n) const noexcept {
    const double ss = kernels_->sum_squares(x, n);
    const float inv = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(n) + config_.rms_norm_eps));
    for (std::size_t i = 0; i < n; ++i) out[i] = weight[i] * (x[i] * inv);
  }
  void rms_norm(const float* x, const float* weight, float* out) const noexcept {
    rms_norm(x, weight, out, config_.hidden_size);
  }

  void rope(float* v, std::size_t pos) const noexcept {
    const std::size_t half = config_.head_dim / 2;
    const float* c = &cos_[pos * half];
    const float* s = &sin_[pos * half];
    for (std::size_t i = 0; i < half; ++i) {
      const float a = v[i], b = v[i + half];
      v[i] = a * c[i] - b * s[i];
      v[i + half] = b * c[i] + a * s[i];
    }
  }

  /// Runs all layers over m = ids.size() <= chunk_ tokens at positions pos0.., leaving final hidden states in x_.
  void run_chunk(token_span ids, std::size_t pos0) {
    const auto& c = config_;
    const std::size_t m = ids.size(), h = c.hidden_size, hd = c.head_dim, q_dim = c.q_dim(), kv = c.kv_dim(),
                      im = c.intermediate_size;
    for (std::size_t r = 0; r < m; ++r)
      std::memcpy(&x_[r * h], w_.embed.data() + static_cast<std::size_t>(ids[r]) * h, h * sizeof(float));
    for (std::size_t l = 0; l < c.n_layers; ++l) {
      const auto& L = w_.layers[l];
      for (std::size_t r = 0; r < m; ++r) rms_norm(&x_[r * h], L.attn_norm.data(), &xn_[r * h]);
      const auto& R = refs_[l];
      mm(R.qkv, xn_.data(), h, m, L.b_qkv.size() ? L.b_qkv.data() : nullptr, qkv_.data(), qkv_dim_, false);
      for (std::size_t r = 0; r < m; ++r) {
        float* row = &qkv_[r * qkv_dim_];
        const std::size_t pos = pos0 + r;
        for (std::size_t hh = 0; hh < c.n_heads; ++hh) {
          float* qh = row + hh * hd;
          if (c.qk_norm) rms_norm(qh, L.q_norm.data(), qh, hd);
          rope(qh, pos);
        }
        for (std::size_t g = 0; g < c.n_kv_heads; ++g) {
          float* kh = row + q_dim + g * hd;
          if (c.qk_norm) rms_norm(kh, L.k_norm.data(), kh, hd);
          rope(kh, pos);
        }
        for (std::size_t g = 0; g < c.n_kv_heads; ++g) detail::store_key(key_cache(l, g), pos, row + q_dim + g * hd, hd);
        for (std::size_t g = 0; g < c.n_kv_heads; ++g)
          std::memcpy(value_cache(l, g) + pos * hd, row + q_dim + kv + g * hd, hd * sizeof(float));
      }
      attention(l, m, pos0);
      mm(R.o, att_.data(), q_dim, m, L.b_o.size() ? L.b_o.data() : nullptr, x_.data(), h, true);
      for (std::size_t r = 0; r < m; ++r) rms_norm(&x_[r * h], L.mlp_norm.data(), &xn_[r * h]);
      mm(R.gate_up, xn_.data(), h, m, L.b_gate_up.size() ? L.b_gate_up.data() : nullptr, gu_.data(), 2 * im,
         false);
      for (std::size_t r = 0; r < m; ++r) {
        const float* g = &gu_[r * 2 * im];
        const float* u = g + im;
        float* a = &act_[r * im];
        kernels_->silu_mul(g, u, a, im);
      }
      mm(R.down, act_.data(), im, m, L.b_down.size() ? L.b_down.data() : nullptr, x_.data(), h, true);
    }
  }

  /// Layer l's transposed key cache for KV head g (see detail/attention.hpp).
  float* key_cache(std::size_t l, std::size_t g) noexcept {
    return &k_cache_[(l * config_.n_kv_heads + g) * detail::key_cache_floats(max_context_, config_.head_dim)];
  }

  /// Layer l's value cache for KV head g: (max_context, head_dim), so a head's values are one stream.
  float* value_cache(std::size_t l, std::size_t g) noexcept {
    return &v_cache_[(l * config_.n_kv_heads + g) * max_context_ * config_.head_dim];
  }

  /// Causal (optionally sliding-window) attention for m new rows at positions pos0.. of layer l into att_.
  void attention(std::size_t l, std::size_t m, std::size_t pos0) {
    const auto& c = config_;
    const std::size_t hd = c.head_dim, q_dim = c.q_dim(), group = c.n_heads / c.n_kv_heads;
    const bool sliding = c.sliding_layers[l] && c.sliding_window.has_value();
    const std::size_t window = sliding ? *c.sliding_window : 0;
    const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
    // Work items: (head, group of up to 8 consecutive rows, balanced); a group shares every key and value
    // load.
    constexpr std::size_t G = detail::attention_group;
    const std::size_t groups = (m + G - 1) / G;
    const std::ptrdiff_t total = static_cast<std::ptrdiff_t>(groups * c.n_heads);
    const std::size_t scratch = detail::attention_scratch(max_context_);
    const auto body = [&](std::ptrdiff_t idx, float* scores) {
      const std::size_t hh = static_cast<std::size_t>(idx) / groups, k = static_cast<std::size_t>(idx) % groups;
      const std::size_t r0 = k * m / groups, n = (k + 1) * m / groups - r0, g = hh / group;
      std::size_t lo[G], hi[G];
      for (std::size_t i = 0; i < n; ++i) {
        hi[i] = pos0 + r0 + i;
        lo[i] = (sliding && hi[i] + 1 > window) ? hi[i] + 1 - window : 0;
      }
      const detail::attention_rows rows{&qkv_[r0 * qkv_dim_ + hh * hd], qkv_dim_, lo, hi, &att_[r0 * q_dim + hh * hd],
                                        q_dim, scores, scratch};
      kernels_->attend(rows, n, key_cache(l, g), value_cache(l, g), hd, hd, scale);
    };
#if defined(_OPENMP)
    if (n_threads_ > 1 && total > 1) {
#pragma omp parallel for num_threads(n_threads_) schedule(static)
      for (std::ptrdiff_t idx = 0; idx < total; ++idx)
        body(idx, &scores_[static_cast<std::size_t>(omp_get_thread_num()) * G * scratch]);
      return;
    }
#endif
    for (std::ptrdiff_t idx = 0; idx < total; ++idx) body(idx, scores_.data());
  }

  model_config config_;
  transformer_weights w_;
  std::size_t max_context_ = 0;
  int n_threads_ = 1;
  std::size_t chunk_ = 32;
  std::size_t qkv_dim_ = 0;
  std::size_t n_cached_ = 0;
  detail::zeroed_floats k_cache_;  // (n_layers, n_kv_heads, key tiles): transposed, see detail/attention.hpp
  detail::zeroed_floats v_cache_;  // (n_layers, n_kv_heads, max_context, head_dim)
  std::vector<float> cos_;      // (max_context, head_dim/2)
  std::vector<float> sin_;      // (max_context, head_dim/2)
  std::vector<float> x_;        // (chunk, hidden) residual stream
  std::vector<float> xn_;       // (chunk, hidden) normalised
  std::vector<float> qkv_;      // (chunk, q_dim + 2*kv_dim)
  std::vector<float> att_;      // (chunk, q_dim) attention output
  std::vector<float> gu_;       // (chunk, 2*intermediate) gate | up
  std::vector<float> act_;      // (chunk, intermediate)
  std::vector<float> scores_;   // (n_threads, attention_group, attention_scratch(max_context))
  std::vector<float> logits_;   // (rows, vocab), grows to the largest batch asked for
  bool bf16_ = false;                                            // projections held as bfloat16
  bool products_ = false;                                        // their products on bfloat16 inputs
  std::vector<std::uint32_t>
      product_inputs_;  // (chunk, widest input) rounded product inputs (products_input)
  detail::bump_arena weight_arena_;                                // storage of every packed matrix
  std::deque<detail::packed_matrix<float>> f32_store_;            // packed matrices (float32 storage)
  std::deque<detail::packed_matrix<std::uint16_t>> bf16_store_;   // packed matrices (bfloat16 storage)
  std::vector<layer_refs> refs_;                     // per layer: the matrices the kernel reads
  matrix_ref lm_ref_;                                // lm_head (or the tied embedding)
  std::size_t streamed_bytes_ = 0;                   // see streamed_weight_bytes()
  detail::weight_residence residence_ = detail::weight_residence::memory;  // picks the single-row tile
  const detail::kernel_table* kernels_ = nullptr;    // chosen once at construction (options.isa)
};

static_assert(causal_lm<transformer>);
static_assert(causal_lm_with_partial_logits<transformer>);

}  // namespace uag
