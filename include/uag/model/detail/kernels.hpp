#pragma once
/// @file The reference transformer's kernels for every instruction set this binary can hold, and the
/// run-time choice between them. A transformer picks one kernel_table when it is built (one indirect call
/// per matmul or attention call afterwards, nothing per element); the free functions below use the
/// process-wide choice (UAG_ISA, else the best the CPU has) and serve tests and benchmarks.
///
/// Variants: AVX-512 and AVX2+FMA on x86-64 (compiled in target regions, whatever -march says), NEON on
/// AArch64, and portable scalar code everywhere. All share one source (kernels.inc over simd.hpp); the
/// scalar one is written out below (std::fma in the same order as the vector FMAs).
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include "uag/core/instruction_set.hpp"
#include "uag/model/detail/attention.hpp"
#include "uag/model/detail/matmul.hpp"
#include "uag/model/detail/simd.hpp"

namespace uag::detail {

/// @brief One instruction set's kernels. matmul_*: part `part` of `parts` of a product (a contiguous
/// range of output blocks). Every entry is batch-invariant (see kernels.inc).
struct kernel_table {
  instruction_set isa;
  std::size_t cached_group_blocks;  // blocks one group of a single cache-resident row spans (for splitting)
  void (*matmul_f32)(const matmul_call<float>&, std::size_t part, std::size_t parts) noexcept;
  void (*matmul_bf16)(const matmul_call<std::uint16_t>&, std::size_t part, std::size_t parts) noexcept;
  void (*matmul_bf16_products)(const matmul_call<std::uint16_t, std::uint32_t>&, std::size_t part,
                               std::size_t parts) noexcept;
  // Rounds a bfloat16 product's input rows into the form matmul_bf16_products reads: bf16_pairs (one
  // word per pair; vdpbf16ps) or bf16_floats (two; the two-FMA kernels), products_words_per_pair says.
  void (*products_input)(const float* x, std::size_t ldx, std::size_t n, std::size_t in,
                         std::uint32_t* out) noexcept;
  std::size_t products_words_per_pair;
  void (*attend)(const attention_rows&, std::size_t n, const float* kt, const float* v, std::size_t v_stride,
                 std::size_t hd, float scale) noexcept;
  void (*silu_mul)(const float* g, const float* u, float* out, std::size_t n) noexcept;
  double (*sum_squares)(const float* x, std::size_t n) noexcept;
};

namespace scalar {

// Portable: the same layout and, for matmul and attention scores/values, the same order of operations
// per output as the vector kernels (std::fma keeps the rounding of a fused multiply-add).
inline float widen(const float* w, std::size_t i, std::size_t lane) noexcept {
  return w[i * block_rows + lane];
}
inline float widen(const std::uint16_t* w, std::size_t i, std::size_t lane) noexcept {
  return std::bit_cast<float>(static_cast<std::uint32_t>(w[(i / 2) * 2 * block_rows + 2 * lane + (i & 1)])
                              << 16);
}

/// The two halves of a bfloat16 pair word as floats: the high input's, then the low one's.
inline float high_half(std::uint32_t p) noexcept { return std::bit_cast<float>(p & 0xFFFF0000u); }
inline float low_half(std::uint32_t p) noexcept { return std::bit_cast<float>(p << 16); }

/// Float32 x: one FMA per input. bfloat16 products (x as bf16_floats): per pair the high input's product,
/// then the low one's, as vdpbf16ps.
template <class W, class X>
inline void matmul_part(const matmul_call<W, X>& c, std::size_t part, std::size_t parts) noexcept {
  const auto& w = *c.w;
  const std::size_t n_blocks = w.blocks(), in = w.in(), out = w.out();
  for (std::size_t b = part * n_blocks / parts; b < (part + 1) * n_blocks / parts; ++b) {
    const W* block = w.block(b);
    for (std::size_t r = 0; r < c.n; ++r)
      for (std::size_t o = b * block_rows; o < std::min(out, (b + 1) * block_rows); ++o) {
        const std::size_t lane = o % block_rows;
        float acc = 0.0f;
        if constexpr (std::is_same_v<X, std::uint32_t>) {
          const auto* words = reinterpret_cast<const std::uint32_t*>(block);  // one word per (pair, lane)
          const std::uint32_t* xr = c.x + r * c.ldx;
          for (std::size_t q = 0; q < (in + 1) / 2; ++q) {
            const std::uint32_t wp = words[q * block_rows + lane];
            acc = std::fma(std::bit_cast<float>(xr[2 * q + 1]), high_half(wp), acc);
            acc = std::fma(std::bit_cast<float>(xr[2 * q]), low_half(wp), acc);
          }
        } else {
          for (std::size_t i = 0; i < in; ++i) acc = std::fma(c.x[r * c.ldx + i], widen(block, i, lane), acc);
        }
        float& dst = c.y[r * c.ldy + o];
        const float v = acc + (c.bias ? c.bias[o] : 0.0f);
        dst = c.accumulate ? dst + v : v;
      }
  }
}
inline void matmul_f32(const matmul_call<float>& c, std::size_t part, std::size_t parts) noexcept {
  matmul_part(c, part, parts);
}
inline void matmul_bf16(const matmul_call<std::uint16_t>& c, std::size_t part, std::size_t parts) noexcept {
  matmul_part(c, part, parts);
}
inline void matmul_bf16_products(const matmul_call<std::uint16_t, std::uint32_t>& c, std::size_t part,
                                 std::size_t parts) noexcept {
  matmul_part(c, part, parts);
}

inline void attend(const attention_rows& a, std::size_t n, const float* kt, const float* v,
                   std::size_t v_stride, std::size_t hd, float scale) noexcept {
  for (std::size_t g = 0; g < n; ++g) {
    const float* q = a.q + g * a.q_stride;
    const std::size_t lo = a.lo[g], hi = a.hi[g], count = hi - lo + 1;
    float* s = a.scratch + g * a.scratch_stride;
    for (std::size_t j = lo; j <= hi; ++j) {
      float acc = 0.0f;
      for (std::size_t d = 0; d < hd; ++d)
        acc = std::fma(q[d], kt[((j / key_tile) * hd + d) * key_tile + j % key_tile], acc);
      s[j - lo] = acc * scale;
    }
    float mx = -INFINITY;
    for (std::size_t j = 0; j < count; ++j) mx = std::max(mx, s[j]);
    float sum = 0.0f;
    for (std::size_t j = 0; j < count; ++j) sum += (s[j] = std::exp(s[j] - mx));
    const float inv = 1.0f / sum;
    for (std::size_t j = 0; j < count; ++j) s[j] *= inv;
    float* out = a.out + g * a.out_stride;
    for (std::size_t d = 0; d < hd; ++d) {
      float o = 0.0f;
      for (std::size_t j = 0; j < count; ++j) o = std::fma(s[j], v[(lo + j) * v_stride + d], o);
      out[d] = o;
    }
  }
}

inline void silu_mul(const float* g, const float* u, float* out, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) out[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
}

inline double sum_squares(const float* x, std::size_t n) noexcept {
  double s = 0.0;
  for (std::size_t i = 0; i < n; ++i) s += static_cast<double>(x[i]) * x[i];
  return s;
}

inline constexpr kernel_table table{instruction_set::scalar,
                                    1,
                                    &matmul_f32,
                                    &matmul_bf16,
                                    &matmul_bf16_products,
                                    &bf16_floats,
                                    2,
                                    &attend,
                                    &silu_mul,
                                    &sum_squares};

}  // namespace scalar

}  // namespace uag::detail

#if defined(UAG_SIMD_X86)
UAG_TARGET_AVX512_BEGIN
namespace uag::detail::avx512 {
#include "uag/model/detail/kernels.inc"
}  // namespace uag::detail::avx512
UAG_TARGET_END

UAG_TARGET_AVX2_BEGIN
namespace uag::detail::avx2 {
#include "uag/model/detail/kernels.inc"
}  // namespace uag::detail::avx2
UAG_TARGET_END

UAG_TARGET_AVX512_BF16_BEGIN
namespace uag::detail::avx512_bf16 {
#include "uag/model/detail/matmul_kernels.inc"
}  // namespace uag::detail::avx512_bf16
UAG_TARGET_END
#endif

#if defined(UAG_SIMD_NEON)
namespace uag::detail::neon {
#include "uag/model/detail/kernels.inc"
}  // namespace uag::detail::neon
#endif

namespace uag::detail {

#if defined(UAG_SIMD_X86)
/// The AVX-512 kernels with vdpbf16ps for bfloat16 products (only for CPUs that have AVX512_BF16).
inline const kernel_table& avx512_bf16_table() noexcept {
  static const kernel_table t = [] {
    kernel_table k = avx512::table;
    k.matmul_bf16_products = &avx512_bf16::matmul_bf16_products;
    k.products_input = &avx512_bf16::products_input<>;
    k.products_words_per_pair = avx512_bf16::products_words_per_pair<>;
    return k;
  }();
  return t;
}
#endif

/// @brief The kernels for isa (automatic: resolve_instruction_set()); AVX-512 takes vdpbf16ps for
/// bfloat16 products where the CPU runs it fast (cpu_prefers_bf16_dot; same results as without, see
/// matmul_kernels.inc). throws: as resolve_instruction_set.
inline const kernel_table& kernels_for(instruction_set isa) {
  switch (resolve_instruction_set(isa)) {
#if defined(UAG_SIMD_X86)
    case instruction_set::avx512:
      return cpu_prefers_bf16_dot() ? avx512_bf16_table() : avx512::table;
    case instruction_set::avx2:
      return avx2::table;
#endif
#if defined(UAG_SIMD_NEON)
    case instruction_set::neon:
      return neon::table;
#endif
    default:
      return scalar::table;
  }
}

/// @brief The process-wide kernels: UAG_ISA if set, else the best this CPU has; chosen at first use.
inline const kernel_table& active_kernels() {
  static const kernel_table& k = kernels_for(instruction_set::automatic);
  return k;
}

/// Runs one product on kernels k: the kernel entry for W and X, parallel over blocks.
template <class W, class X>
inline void run_matmul(const kernel_table& k, const matmul_call<W, X>& c, int n_threads) noexcept {
  const auto part = [&](std::size_t p, std::size_t parts) {
    if constexpr (std::is_same_v<X, std::uint32_t>)
      k.matmul_bf16_products(c, p, parts);
    else if constexpr (std::is_same_v<W, float>)
      k.matmul_f32(c, p, parts);
    else
      k.matmul_bf16(c, p, parts);
  };
  // Threads only when each has several groups of blocks to stream.
  const std::size_t group = c.n == 1 && c.residence == weight_residence::cache ? k.cached_group_blocks : 1;
#if defined(_OPENMP)
  if (n_threads > 1 && c.w->blocks() / group >= 8) {
#pragma omp parallel num_threads(n_threads)
    part(static_cast<std::size_t>(omp_get_thread_num()), static_cast<std::size_t>(omp_get_num_threads()));
    return;
  }
#else
  (void)n_threads;
  (void)group;
#endif
  part(0, 1);
}

/// @brief Y[r][o] (+)= Σ_i X[r][i]·W[o][i] + bias[o], for r < n, o < w.out(), with kernels k.
/// X: (n, w.in()) with row stride ldx; Y: (n, w.out()) with row stride ldy; bias: (out) or nullptr.
/// Parallel over blocks with n_threads OpenMP threads. cost: streams W once for n <= 8 rows; allocates
/// nothing. Results are bit-identical for any n, row position, thread count, residence and instruction
/// set (see matmul.hpp).
template <class W>
inline void matmul(const kernel_table& k, const float* x, std::size_t ldx, std::size_t n,
                   const packed_matrix<W>& w, const float* bias, float* y, std::size_t ldy, bool accumulate,
                   int n_threads, weight_residence residence = weight_residence::memory) noexcept {
  run_matmul(k, matmul_call<W>{x, ldx, n, &w, bias, y, ldy, accumulate, residence}, n_threads);
}

/// @brief matmul() with bfloat16 products: x's rows rounded to bfloat16 first (k.products_input, into
/// `inputs`: products_input_words(n, w.in()) words), then summed in float32 (matmul_kernels.inc).
/// Bit-identical across n, row position, threads, residence and instruction sets, like matmul(); not
/// equal to it.
inline void matmul_products(const kernel_table& k, const float* x, std::size_t ldx, std::size_t n,
                            const packed_matrix<std::uint16_t>& w, const float* bias, float* y,
                            std::size_t ldy, bool accumulate, int n_threads, weight_residence residence,
                            std::uint32_t* inputs) noexcept {
  k.products_input(x, ldx, n, w.in(), inputs);
  const std::size_t words = k.products_words_per_pair * ((w.in() + 1) / 2);
  const matmul_call<std::uint16_t, std::uint32_t> c{inputs, words, n,          &w,       bias,
                                                    y,      ldy,   accumulate, residence};
  run_matmul(k, c, n_threads);
}

/// @brief matmul() with the process-wide kernels.
template <class W>
inline void matmul(const float* x, std::size_t ldx, std::size_t n, const packed_matrix<W>& w,
                   const float* bias, float* y, std::size_t ldy, bool accumulate, int n_threads,
                   weight_residence residence = weight_residence::memory) {
  matmul(active_kernels(), x, ldx, n, w, bias, y, ldy, accumulate, n_threads, residence);
}

/// @brief out_g = softmax(scale · q_g·K[lo_g..hi_g]ᵀ) · V[lo_g..hi_g] for n <= attention_group rows of one
/// head (see attention_rows), with the process-wide kernels. kt: the head's transposed key cache; V_j at
/// v + j·v_stride. cost: 2·Σ_g (hi_g − lo_g + 1)·head_dim FMAs; allocates nothing.
inline void attend(const attention_rows& a, std::size_t n, const float* kt, const float* v,
                   std::size_t v_stride, std::size_t hd, float scale) {
  active_kernels().attend(a, n, kt, v, v_stride, hd, scale);
}

/// @brief out[i] = silu(g[i])·u[i] with the process-wide kernels.
inline void silu_mul(const float* g, const float* u, float* out, std::size_t n) {
  active_kernels().silu_mul(g, u, out, n);
}

/// @brief Σ x[i]² in double with the process-wide kernels.
inline double sum_squares(const float* x, std::size_t n) { return active_kernels().sum_squares(x, n); }

}  // namespace uag::detail
