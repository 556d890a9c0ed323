#pragma once
/// @file The data layout of the one kernel the reference transformer spends its time in: Y = X · Wᵀ (+ b)
/// for a few rows X and a weight matrix W (out, in) that is much larger than the cache. The kernels
/// themselves (one source, compiled once per instruction set) are in kernels.inc; kernels.hpp dispatches.
///
/// W is repacked once, at load time, into blocks of 32 output rows: inside a block the 32 weights of one
/// input index are contiguous (whole vectors on every instruction set), so each input value x[r][i] is one
/// broadcast and every vector lane is one output (no horizontal sums). A tile keeps one block × up to 8 rows
/// (AVX2: one block × up to 3 rows; NEON: half a block × up to 4 rows) of accumulators in registers and reads
/// its block once for all rows as one contiguous stream, prefetched a few blocks ahead so that memory keeps
/// flowing while the tile computes: verifying k draft tokens reads W once, like decoding one token.
///
/// Every output is the same chain of float32 fused multiply-adds over i = 0, 1, …, in − 1 whatever the
/// tile shape, the number of rows, the number of threads or the instruction set; so a row's result does not
/// depend on what it is batched with (verification is bit-identical to token-by-token decoding, which
/// lossless greedy verification rests on).
///
/// bfloat16 storage interleaves pairs of inputs: a 32-bit word holds W[o][2q] (low half) and W[o][2q+1]
/// (high half); a shift and a mask widen both exactly to float32. Half the memory traffic, float32
/// arithmetic.
///
/// bfloat16 products (matmul_call<std::uint16_t, std::uint32_t>) round X to bfloat16 too, and each
/// output's chain per pair is x[2q+1]·w[2q+1], then x[2q]·w[2q], each rounded once: AVX512_BF16's
/// vdpbf16ps computes a pair in one instruction (X in pairs, bf16_pairs), the other kernels in two FMAs
/// (X one float per input, bf16_floats), with the same bits (matmul_kernels.inc).
///
/// Measured on an earlier machine (Zen 5, one thread, bf16, 53 MB of weights): 8 rows cost 1.3-1.4x one
/// row, 4 rows 1.0x; the kernel reaches ~215 GFLOP/s in cache and ~32 GB/s from memory. Since session 23
/// (weights in huge pages, prefetched into L2) one thread streams 46-51 GB/s here (bench_model
/// BM_weight_prefetch), and a few rows are bound by arithmetic as much as by memory.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>

#include "uag/core/memory.hpp"

namespace uag::detail {

/// @brief float32 → bfloat16 bits, round to nearest even (NaN stays NaN).
inline std::uint16_t float_to_bf16(float f) noexcept {
  std::uint32_t u = std::bit_cast<std::uint32_t>(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((u >> 16) | 0x40u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<std::uint16_t>(u >> 16);
}

/// @brief One input of a bfloat16 product rounded as vdpbf16ps reads it: nearest even; a subnormal becomes
/// zero of the same sign (the instruction flushes them, so the emulated kernels agree with it); NaN stays
/// NaN. Returns the bfloat16 bits (low 16 bits).
inline std::uint32_t bf16_product_input(float f) noexcept {
  const std::uint32_t u = std::bit_cast<std::uint32_t>(f);
  if ((u & 0x7f800000u) == 0) return (u >> 16) & 0x8000u;  // zero or subnormal: signed zero
  return float_to_bf16(f);
}

/// @brief Rows x (n, in; row stride ldx) rounded for bfloat16 products (bf16_product_input), packed like
/// the weights: word q of a row holds inputs 2q (low half) and 2q + 1 (high half; zero past in). The form
/// vdpbf16ps reads (one broadcast per pair). out: n rows of (in + 1) / 2 words. cost: one pass over x.
inline void bf16_pairs(const float* x, std::size_t ldx, std::size_t n, std::size_t in, std::uint32_t* out) noexcept {
  const std::size_t pairs = (in + 1) / 2;
  for (std::size_t r = 0; r < n; ++r) {
    const float* xr = x + r * ldx;
    std::uint32_t* o = out + r * pairs;
    for (std::size_t q = 0; q < in / 2; ++q)
      o[q] = bf16_product_input(xr[2 * q]) | bf16_product_input(xr[2 * q + 1]) << 16;
    if (in & 1) o[pairs - 1] = bf16_product_input(xr[in - 1]);
  }
}

/// @brief The same rounded inputs one float32 per input (the bfloat16 bits in the high half of each
/// word), rows padded with a zero to an even length: the form the two-FMA kernels read, each input one
/// broadcast straight from memory into its FMA (from pairs they would split every word in registers).
/// out: n rows of 2·((in + 1) / 2) words. cost: one pass over x.
inline void bf16_floats(const float* x, std::size_t ldx, std::size_t n, std::size_t in,
                        std::uint32_t* out) noexcept {
  const std::size_t words = 2 * ((in + 1) / 2);
  for (std::size_t r = 0; r < n; ++r) {
    const float* xr = x + r * ldx;
    std::uint32_t* o = out + r * words;
    for (std::size_t i = 0; i < in; ++i) o[i] = bf16_product_input(xr[i]) << 16;
    if (in & 1) o[in] = 0;
  }
}

/// @brief Words the product inputs of n rows of `in` inputs may take in either form (bf16_pairs or
/// bf16_floats): what a caller of matmul_products() provides.
constexpr std::size_t products_input_words(std::size_t n, std::size_t in) noexcept {
  return n * 2 * ((in + 1) / 2);
}

/// Output rows per block: two AVX-512 vectors, four AVX2 vectors, eight NEON vectors.
inline constexpr std::size_t block_rows = 32;

/// @brief W (out, in) repacked into blocks for matmul(); W = float (exact) or std::uint16_t (bfloat16,
/// rounded to nearest even). Cache-line aligned; padding rows and inputs are zero.
/// Element of W[o][i] in block o / 32, at lane L = o % 32:
///   float:         i·32 + L
///   bfloat16 bits: (i / 2)·64 + 2·L + i % 2   (so 32-bit word (i / 2)·32 + L holds inputs i & ~1, i | 1)
template <class W>
class packed_matrix {
  static_assert(std::is_same_v<W, float> || std::is_same_v<W, std::uint16_t>);

 public:
  packed_matrix() = default;
  /// @brief Packs row-major w (out, in) into `storage` (64-byte aligned, storage_bytes(out, in) long,
  /// outliving this matrix: a model's arena of huge pages, core/memory.hpp), or, without it, into an
  /// allocation of its own. cost: one pass over w.
  packed_matrix(const float* w, std::size_t out, std::size_t in, void* storage = nullptr)
      : out_(out),
        in_(in),
        blocks_((out + block_rows - 1) / block_rows),
        block_size_(block_rows * (std::is_same_v<W, float> ? in : in + (in & 1))) {
    const std::size_t n = blocks_ * block_size_;
    if (!storage) {
      owned_ = page_buffer(std::max<std::size_t>(n, 1) * sizeof(W), false);
      storage = owned_.data();
    }
    data_ = static_cast<W*>(storage);
    std::fill_n(data_, n, W{});
    for (std::size_t o = 0; o < out; ++o) {
      W* block = data_ + (o / block_rows) * block_size_;
      const std::size_t lane = o % block_rows;
      for (std::size_t i = 0; i < in; ++i) {
        const float v = w[o * in + i];
        if constexpr (std::is_same_v<W, float>)
          block[i * block_rows + lane] = v;
        else
          block[(i / 2) * 2 * block_rows + 2 * lane + (i & 1)] = float_to_bf16(v);
      }
    }
  }
  std::size_t out() const noexcept { return out_; }
  std::size_t in() const noexcept { return in_; }
  std::size_t blocks() const noexcept { return blocks_; }
  /// @brief Elements of W per block (including padding).
  std::size_t block_size() const noexcept { return block_size_; }
  const W* block(std::size_t b) const noexcept { return data_ + b * block_size_; }
  /// @brief Bytes one product streams.
  std::size_t bytes() const noexcept { return blocks_ * block_size_ * sizeof(W); }
  /// @brief Bytes the packed form of an (out, in) matrix takes (bytes() of the packed matrix).
  static constexpr std::size_t storage_bytes(std::size_t out, std::size_t in) noexcept {
    return (out + block_rows - 1) / block_rows * block_rows * (std::is_same_v<W, float> ? in : in + (in & 1)) * sizeof(W);
  }

 private:
  std::size_t out_ = 0, in_ = 0, blocks_ = 0, block_size_ = 0;
  page_buffer owned_;  // empty when packed into storage from outside
  W* data_ = nullptr;
};

/// Where one tile writes: rows r of Y at y + r·ldy, `cols` valid outputs (≤ 32), optional bias.
struct tile_out {
  float* y;
  std::size_t ldy;
  std::size_t cols;
  const float* bias;
  bool accumulate;
};

/// @brief Where a matrix's weights come from during a product: it selects the single-row tile.
enum class weight_residence {
  memory,  // streamed from DRAM (the model is larger than the last-level cache)
  cache,   // cache-resident (a small draft model)
};

/// @brief One product Y[r][o] (+)= Σ_i X[r][i]·W[o][i] + bias[o] as the kernels see it (see matmul() in
/// kernels.hpp): X (n, w.in()) with row stride ldx, Y (n, w.out()) with row stride ldy, bias (out) or null.
/// X = std::uint32_t: bfloat16 products, X holds the rows' rounded inputs in the form the kernel table
/// names (kernel_table::products_input: bf16_pairs or bf16_floats).
template <class W, class X = float>
struct matmul_call {
  const X* x;
  std::size_t ldx;
  std::size_t n;
  const packed_matrix<W>* w;
  const float* bias;
  float* y;
  std::size_t ldy;
  bool accumulate;
  weight_residence residence;
};

}  // namespace uag::detail
