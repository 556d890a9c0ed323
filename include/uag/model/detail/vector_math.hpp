#pragma once
/// @file Small vector routines of the forward pass: a vectorised exp for softmax and SiLU, RMS norm,
/// horizontal reductions. Each is a fixed sequence of operations per row (batch-invariant).
#include <algorithm>
#include <cmath>
#include <cstddef>

#if defined(__AVX512F__)
#include <immintrin.h>
#define UAG_VECTOR_AVX512 1
#endif

namespace uag::detail {

#if defined(UAG_VECTOR_AVX512)

/// e^x for x <= 0 (softmax arguments): 2^n · p(r), r = x − n·ln 2 in [−ln2/2, ln2/2], degree-6 polynomial.
inline __m512 exp_nonpositive(__m512 x) noexcept {
  x = _mm512_maskz_max_ps(0xFFFF, x, _mm512_set1_ps(-104.0f));  // below this e^x is 0 in float32 anyway
  const __m512 n = _mm512_maskz_roundscale_ps(0xFFFF, _mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                              _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428606765330187045e-6f), r);
  __m512 p = _mm512_set1_ps(1.0f / 720.0f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  return _mm512_maskz_scalef_ps(0xFFFF, p, n);
}

// Masked forms (maskz with all lanes) where GCC 12's unmasked intrinsics read an "undefined" register.

/// Reduces 16 lanes with op in a fixed order. Masked extracts: GCC 12's _mm512_reduce_* read an
/// "undefined" register and trip -Werror=maybe-uninitialized.
template <class Op>
inline float horizontal(__m512 v, Op op) noexcept {
  const __m512d d = _mm512_castps_pd(v);
  const __m256 lo = _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xF, d, 0));
  const __m256 hi = _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xF, d, 1));
  __m128 a = op(op(_mm256_castps256_ps128(lo), _mm256_extractf128_ps(lo, 1)),
                op(_mm256_castps256_ps128(hi), _mm256_extractf128_ps(hi, 1)));
  a = op(a, _mm_movehl_ps(a, a));
  a = op(a, _mm_movehdup_ps(a));
  return _mm_cvtss_f32(a);
}

inline __mmask16 tail_mask(std::size_t n) noexcept {
  return n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << n) - 1u);
}

/// out[i] = silu(g[i])·u[i] = g[i] / (1 + e^(−g[i]))·u[i], with e^(−|g|) from exp_nonpositive.
inline void silu_mul(const float* g, const float* u, float* out, std::size_t n) noexcept {
  const __m512 one = _mm512_set1_ps(1.0f);
  for (std::size_t i = 0; i < n; i += 16) {
    const __mmask16 k = tail_mask(n - i);
    const __m512 x = _mm512_maskz_loadu_ps(k, g + i);
    const __m512 e = exp_nonpositive(_mm512_sub_ps(_mm512_setzero_ps(), _mm512_abs_ps(x)));  // e^(−|x|)
    const __m512 d = _mm512_add_ps(one, e);
    // sigmoid(x) = 1 / (1 + e^(−x)) for x >= 0, e^x / (1 + e^x) otherwise.
    const __mmask16 neg = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ);
    const __m512 sig = _mm512_div_ps(_mm512_mask_mov_ps(one, neg, e), d);
    _mm512_mask_storeu_ps(out + i, k, _mm512_mul_ps(_mm512_mul_ps(x, sig), _mm512_maskz_loadu_ps(k, u + i)));
  }
}

/// Σ x[i]² in double (two accumulators of 8 lanes, then a fixed reduction).
inline double sum_squares(const float* x, std::size_t n) noexcept {
  __m512d a0 = _mm512_setzero_pd(), a1 = _mm512_setzero_pd();
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512d lo = _mm512_maskz_cvtps_pd(0xFF, _mm256_loadu_ps(x + i)),
                  hi = _mm512_maskz_cvtps_pd(0xFF, _mm256_loadu_ps(x + i + 8));
    a0 = _mm512_fmadd_pd(lo, lo, a0);
    a1 = _mm512_fmadd_pd(hi, hi, a1);
  }
  alignas(64) double lanes[8];
  _mm512_store_pd(lanes, _mm512_add_pd(a0, a1));
  double s =
      ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5])) + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]));
  for (; i < n; ++i) s += static_cast<double>(x[i]) * x[i];
  return s;
}

#else

inline void silu_mul(const float* g, const float* u, float* out, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) out[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
}

inline double sum_squares(const float* x, std::size_t n) noexcept {
  double s = 0.0;
  for (std::size_t i = 0; i < n; ++i) s += static_cast<double>(x[i]) * x[i];
  return s;
}

#endif

}  // namespace uag::detail
