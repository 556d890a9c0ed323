#pragma once
/// @file The one kernel the reference transformer spends its time in: Y = X · Wᵀ (+ b) for a few rows X
/// and a row-major weight matrix W that is much larger than the cache. W is streamed from memory once
/// for all rows of X (a blocked GEMM, not one GEMV per row), which is what makes verifying k draft
/// tokens cost about as much as decoding one.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif
#if defined(_OPENMP)
#include <omp.h>
#endif

namespace uag::detail {

#if defined(__AVX512F__)

/// Horizontal sum of 16 floats. Written with masked extracts: GCC 12's _mm512_reduce_add_ps and
/// _mm512_castps512_ps256 read an "undefined" register and trip -Werror=uninitialized.
inline float hsum(__m512 v) noexcept {
  const __m512d d = _mm512_castps_pd(v);
  const __m256 lo = _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xF, d, 0));
  const __m256 hi = _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xF, d, 1));
  const __m256 s = _mm256_add_ps(lo, hi);
  __m128 a = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
  a = _mm_add_ps(a, _mm_movehl_ps(a, a));
  a = _mm_add_ss(a, _mm_movehdup_ps(a));
  return _mm_cvtss_f32(a);
}

/// NW weight rows × NR input rows, full reduction over `in`. Accumulators: NW*NR zmm registers.
template <int NW, int NR>
inline void matmul_tile(const float* w, std::size_t in, const float* x, std::size_t ldx, float* y, std::size_t ldy,
                        const float* bias, bool accumulate) noexcept {
  __m512 acc[NR][NW];
  for (int r = 0; r < NR; ++r)
    for (int j = 0; j < NW; ++j) acc[r][j] = _mm512_setzero_ps();
  std::size_t i = 0;
  for (; i + 16 <= in; i += 16) {
    __m512 wv[NW];
    for (int j = 0; j < NW; ++j) wv[j] = _mm512_loadu_ps(w + j * in + i);
    for (int r = 0; r < NR; ++r) {
      const __m512 xv = _mm512_loadu_ps(x + r * ldx + i);
      for (int j = 0; j < NW; ++j) acc[r][j] = _mm512_fmadd_ps(xv, wv[j], acc[r][j]);
    }
  }
  if (i < in) {
    const __mmask16 m = static_cast<__mmask16>((1u << (in - i)) - 1u);
    __m512 wv[NW];
    for (int j = 0; j < NW; ++j) wv[j] = _mm512_maskz_loadu_ps(m, w + j * in + i);
    for (int r = 0; r < NR; ++r) {
      const __m512 xv = _mm512_maskz_loadu_ps(m, x + r * ldx + i);
      for (int j = 0; j < NW; ++j) acc[r][j] = _mm512_fmadd_ps(xv, wv[j], acc[r][j]);
    }
  }
  for (int r = 0; r < NR; ++r)
    for (int j = 0; j < NW; ++j) {
      float v = hsum(acc[r][j]);
      if (bias) v += bias[j];
      float& out = y[r * ldy + j];
      out = accumulate ? out + v : v;
    }
}

#else

template <int NW, int NR>
inline void matmul_tile(const float* w, std::size_t in, const float* x, std::size_t ldx, float* y, std::size_t ldy,
                        const float* bias, bool accumulate) noexcept {
  float acc[NR][NW] = {};
  for (std::size_t i = 0; i < in; ++i)
    for (int r = 0; r < NR; ++r)
      for (int j = 0; j < NW; ++j) acc[r][j] += x[r * ldx + i] * w[j * in + i];
  for (int r = 0; r < NR; ++r)
    for (int j = 0; j < NW; ++j) {
      float v = acc[r][j] + (bias ? bias[j] : 0.0f);
      float& out = y[r * ldy + j];
      out = accumulate ? out + v : v;
    }
}

#endif

/// One block of NW weight rows against all n input rows, four input rows at a time (the block stays in L1).
template <int NW>
inline void matmul_block(const float* w, std::size_t in, const float* x, std::size_t ldx, std::size_t n, float* y,
                         std::size_t ldy, const float* bias, bool accumulate) noexcept {
  std::size_t r = 0;
  for (; r + 4 <= n; r += 4) matmul_tile<NW, 4>(w, in, x + r * ldx, ldx, y + r * ldy, ldy, bias, accumulate);
  switch (n - r) {
    case 3: matmul_tile<NW, 3>(w, in, x + r * ldx, ldx, y + r * ldy, ldy, bias, accumulate); break;
    case 2: matmul_tile<NW, 2>(w, in, x + r * ldx, ldx, y + r * ldy, ldy, bias, accumulate); break;
    case 1: matmul_tile<NW, 1>(w, in, x + r * ldx, ldx, y + r * ldy, ldy, bias, accumulate); break;
    default: break;
  }
}

/// @brief Y[r][o] (+)= Σ_i X[r][i]·W[o][i] + bias[o], for r < n, o < out.
/// X: (n, in) with row stride ldx; W: (out, in) row-major, contiguous; Y: (n, out) with row stride ldy;
/// bias: (out) or nullptr. Parallel over blocks of output rows with n_threads OpenMP threads.
/// cost: streams W once; allocates nothing.
inline void matmul_xwt(const float* x, std::size_t ldx, std::size_t n, const float* w, std::size_t out, std::size_t in,
                       const float* bias, float* y, std::size_t ldy, bool accumulate, int n_threads) noexcept {
  constexpr std::size_t nw = 4;
  const std::size_t n_blocks = out / nw;
  const auto body = [&](std::size_t b) {
    const std::size_t o = b * nw;
    matmul_block<4>(w + o * in, in, x, ldx, n, y + o, ldy, bias ? bias + o : nullptr, accumulate);
  };
#if defined(_OPENMP)
  if (n_threads > 1 && n_blocks >= 8) {
#pragma omp parallel for num_threads(n_threads) schedule(static)
    for (std::size_t b = 0; b < n_blocks; ++b) body(b);
  } else {
    for (std::size_t b = 0; b < n_blocks; ++b) body(b);
  }
#else
  (void)n_threads;
  for (std::size_t b = 0; b < n_blocks; ++b) body(b);
#endif
  for (std::size_t o = n_blocks * nw; o < out; ++o)
    matmul_block<1>(w + o * in, in, x, ldx, n, y + o, ldy, bias ? bias + o : nullptr, accumulate);
}

}  // namespace uag::detail
