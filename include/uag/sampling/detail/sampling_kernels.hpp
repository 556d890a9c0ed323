#pragma once
/// @file The sampling path's loops over the vocabulary (temperature + max, softmax's exponential and sum,
/// plain sums for the inverse-CDF draw, the speculative residual) for every instruction set this binary
/// holds, chosen at run time like the model kernels (UAG_ISA, else the best the CPU has). A portable
/// build compiles this code for baseline x86-64 otherwise: the exponential became a libm call per logit
/// and the softmax cost 13–14% of an assisted T = 0.7 step (5% with -march=native).
///
/// Every variant gives bit-identical results (see sampling_kernels.inc), so a seeded sampled run is the
/// same whichever kernels a CPU picks, and the baseline and the assisted path agree by construction.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "uag/core/instruction_set.hpp"
#include "uag/model/detail/simd.hpp"

namespace uag::detail {

/// Sums run over 16 interleaved lanes (element i into lane i mod 16; a short tail adds +0 to the lanes
/// it does not reach), then the tree ((l_i + l_{i+8}) + (… + l_{i+4})) … of sampling_kernels.inc.
inline constexpr std::size_t canonical_lanes = 16;

// e^x for x <= 0: x = k·ln2 + f (Cody–Waite split of ln2, so f is exact to ~1 ulp), e^f by its degree-6
// Taylor polynomial on |f| <= ln2/2 (relative error < 2e-7), times 2^k. Below exp_floor the result is 0:
// masked logits (-inf) stay masked and 2^k stays a normal float.
inline constexpr float exp_floor = -87.0f;
inline constexpr float exp_log2e = 1.44269504088896341f;
inline constexpr float exp_ln2_hi = 0.693359375f;       // 8 significant bits: k·ln2_hi is exact
inline constexpr float exp_ln2_lo = -2.12194440e-4f;    // ln2 − ln2_hi
inline constexpr int exp_terms = 7;
inline constexpr float exp_c[exp_terms] = {1.0f / 720.0f, 1.0f / 120.0f, 1.0f / 24.0f, 1.0f / 6.0f,
                                           0.5f,          1.0f,          1.0f};

/// @brief One instruction set's sampling loops. All four give the same bits on the same input.
struct sampling_kernels {
  instruction_set isa;
  /// p[i] *= scale; returns max p[i]; sets *bad to 1 if a scaled p[i] is NaN or +inf.
  float (*scale_max)(float* p, std::size_t n, float scale, int* bad) noexcept;
  /// p[i] = e^(p[i] − shift), returns Σ p[i] (canonical order). requires: p[i] <= shift.
  float (*exp_sum)(float* p, std::size_t n, float shift) noexcept;
  /// Σ w[i] (canonical order).
  float (*sum)(const float* w, std::size_t n) noexcept;
  /// r[i] = max(0, p[i] − q[i]), returns Σ r[i] (canonical order).
  float (*residual)(const float* p, const float* q, float* r, std::size_t n) noexcept;
};

namespace scalar_sampling {

inline float tree(const float (&l)[canonical_lanes]) noexcept {
  float s8[8], s4[4];
  for (int i = 0; i < 8; ++i) s8[i] = l[i] + l[i + 8];
  for (int i = 0; i < 4; ++i) s4[i] = s8[i] + s8[i + 4];
  return (s4[0] + s4[2]) + (s4[1] + s4[3]);
}

// The vector kernels' operations one lane at a time: std::fma where they fuse, nearbyint (round to
// nearest even) where they round; nothing a compiler may contract into an FMA of its own.
inline float exp_le0(float x) noexcept {
  const float xc = std::max(x, exp_floor);
  const float k = std::nearbyint(xc * exp_log2e);
  float f = std::fma(-k, exp_ln2_hi, xc);
  f = std::fma(-k, exp_ln2_lo, f);
  float y = exp_c[0];
  for (int i = 1; i < exp_terms; ++i) y = std::fma(y, f, exp_c[i]);
  const auto bits = static_cast<std::uint32_t>(static_cast<std::int32_t>(k) + 127) << 23;
  return x - exp_floor < 0.0f ? 0.0f : y * std::bit_cast<float>(bits);
}

inline float scale_max(float* p, std::size_t n, float scale, int* bad) noexcept {
  float mx = -INFINITY;
  int b = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const float w = p[i] * scale;
    p[i] = w;
    b |= !(w < INFINITY);
    mx = mx > w ? mx : w;
  }
  *bad |= b;
  return mx;
}

inline float exp_sum(float* p, std::size_t n, float shift) noexcept {
  float l[canonical_lanes] = {};
  for (std::size_t i = 0; i < n; i += canonical_lanes)
    for (std::size_t j = 0; j < canonical_lanes; ++j) {
      float e = 0.0f;
      if (i + j < n) p[i + j] = e = exp_le0(p[i + j] - shift);
      l[j] += e;
    }
  return tree(l);
}

inline float sum(const float* w, std::size_t n) noexcept {
  float l[canonical_lanes] = {};
  for (std::size_t i = 0; i < n; i += canonical_lanes)
    for (std::size_t j = 0; j < canonical_lanes; ++j) l[j] += i + j < n ? w[i + j] : 0.0f;
  return tree(l);
}

inline float residual(const float* p, const float* q, float* r, std::size_t n) noexcept {
  float l[canonical_lanes] = {};
  for (std::size_t i = 0; i < n; i += canonical_lanes)
    for (std::size_t j = 0; j < canonical_lanes; ++j) {
      float d = 0.0f;
      if (i + j < n) {
        d = p[i + j] - q[i + j];
        r[i + j] = d = 0.0f > d ? 0.0f : d;  // x86 maxps(0, d): d unless 0 > d
      }
      l[j] += d;
    }
  return tree(l);
}

inline constexpr sampling_kernels table{instruction_set::scalar, &scale_max, &exp_sum, &sum, &residual};

}  // namespace scalar_sampling

}  // namespace uag::detail

#if defined(UAG_SIMD_X86)
UAG_TARGET_AVX512_BEGIN
namespace uag::detail::avx512 {
#include "uag/sampling/detail/sampling_kernels.inc"
}  // namespace uag::detail::avx512
UAG_TARGET_END

UAG_TARGET_AVX2_BEGIN
namespace uag::detail::avx2 {
#include "uag/sampling/detail/sampling_kernels.inc"
}  // namespace uag::detail::avx2
UAG_TARGET_END
#endif

#if defined(UAG_SIMD_NEON)
namespace uag::detail::neon {
#include "uag/sampling/detail/sampling_kernels.inc"
}  // namespace uag::detail::neon
#endif

namespace uag::detail {

/// @brief The sampling kernels for isa (automatic: resolve_instruction_set()).
/// throws: as resolve_instruction_set().
inline const sampling_kernels& sampling_kernels_for(instruction_set isa) {
  switch (resolve_instruction_set(isa)) {
#if defined(UAG_SIMD_X86)
    case instruction_set::avx512:
      return avx512::sampling_table;
    case instruction_set::avx2:
      return avx2::sampling_table;
#endif
#if defined(UAG_SIMD_NEON)
    case instruction_set::neon:
      return neon::sampling_table;
#endif
    default:
      return scalar_sampling::table;
  }
}

/// @brief The process-wide sampling kernels: UAG_ISA if set, else the best this CPU has.
inline const sampling_kernels& active_sampling_kernels() {
  static const sampling_kernels& k = sampling_kernels_for(instruction_set::automatic);
  return k;
}

}  // namespace uag::detail
