#pragma once
/// @file The one kernel the reference transformer spends its time in: Y = X · Wᵀ (+ b) for a few rows X
/// and a row-major weight matrix W that is much larger than the cache. W is streamed from memory once
/// for all rows of X (a blocked GEMM, not one GEMV per row), which is what makes verifying k draft
/// tokens cost about as much as decoding one. W may be float32 or bfloat16 (stored as uint16 bit
/// patterns, widened exactly to float32 in registers: half the memory traffic, same arithmetic).
#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#if defined(__AVX512F__) && defined(__AVX512BW__)
#include <immintrin.h>
#define UAG_MATMUL_AVX512 1
#endif
#if defined(_OPENMP)
#include <omp.h>
#endif

namespace uag::detail {

/// @brief float32 → bfloat16 bits, round to nearest even (NaN stays NaN).
inline std::uint16_t float_to_bf16(float f) noexcept {
  std::uint32_t u = std::bit_cast<std::uint32_t>(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((u >> 16) | 0x40u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<std::uint16_t>(u >> 16);
}

#if defined(UAG_MATMUL_AVX512)

/// Horizontal sum of 16 floats. Masked forms throughout this file: GCC 12's unmasked intrinsics
/// (_mm512_reduce_add_ps, _mm512_castps512_ps256, _mm512_cvtepu16_epi32, ...) read an "undefined"
/// register and trip -Werror=maybe-uninitialized.
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

inline __m512 load16(const float* p) noexcept { return _mm512_loadu_ps(p); }
inline __m512 load16(const std::uint16_t* p) noexcept {
  const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  return _mm512_castsi512_ps(_mm512_maskz_slli_epi32(0xFFFF, _mm512_maskz_cvtepu16_epi32(0xFFFF, h), 16));
}
inline __m512 load16(const float* p, __mmask16 m) noexcept { return _mm512_maskz_loadu_ps(m, p); }
inline __m512 load16(const std::uint16_t* p, __mmask16 m) noexcept {
  const __m256i h = _mm256_maskz_loadu_epi16(m, p);
  return _mm512_castsi512_ps(_mm512_maskz_slli_epi32(0xFFFF, _mm512_maskz_cvtepu16_epi32(0xFFFF, h), 16));
}

/// NW weight rows × NR input rows, full reduction over `in`. Accumulators: NW*NR zmm registers.
/// `next` (or nullptr): the next NW weight rows, prefetched while this tile computes.
template <int NW, int NR, class W>
inline void matmul_tile(const W* w, std::size_t in, const float* x, std::size_t ldx, float* y, std::size_t ldy,
                        const float* bias, bool accumulate, const W* next) noexcept {
  __m512 acc[NR][NW];
  for (int r = 0; r < NR; ++r)
    for (int j = 0; j < NW; ++j) acc[r][j] = _mm512_setzero_ps();
  std::size_t i = 0;
  for (; i + 16 <= in; i += 16) {
    __m512 wv[NW];
    for (int j = 0; j < NW; ++j) {
      wv[j] = load16(w + j * in + i);
      // Keep the weights in registers: without this GCC re-reads them as FMA memory operands, once per
      // input row, which makes the loop load-port bound.
      asm volatile("" : "+v"(wv[j]));
    }
    if (next)
      for (int j = 0; j < NW; ++j) _mm_prefetch(reinterpret_cast<const char*>(next + j * in + i), _MM_HINT_T0);
    for (int r = 0; r < NR; ++r) {
      const __m512 xv = _mm512_loadu_ps(x + r * ldx + i);
      for (int j = 0; j < NW; ++j) acc[r][j] = _mm512_fmadd_ps(xv, wv[j], acc[r][j]);
    }
  }
  if (i < in) {
    const __mmask16 m = static_cast<__mmask16>((1u << (in - i)) - 1u);
    __m512 wv[NW];
    for (int j = 0; j < NW; ++j) wv[j] = load16(w + j * in + i, m);
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

inline float widen(float f) noexcept { return f; }
inline float widen(std::uint16_t b) noexcept { return std::bit_cast<float>(static_cast<std::uint32_t>(b) << 16); }

template <int NW, int NR, class W>
inline void matmul_tile(const W* w, std::size_t in, const float* x, std::size_t ldx, float* y, std::size_t ldy,
                        const float* bias, bool accumulate, const W*) noexcept {
  float acc[NR][NW] = {};
  for (std::size_t i = 0; i < in; ++i)
    for (int r = 0; r < NR; ++r)
      for (int j = 0; j < NW; ++j) acc[r][j] += x[r * ldx + i] * widen(w[j * in + i]);
  for (int r = 0; r < NR; ++r)
    for (int j = 0; j < NW; ++j) {
      float v = acc[r][j] + (bias ? bias[j] : 0.0f);
      float& out = y[r * ldy + j];
      out = accumulate ? out + v : v;
    }
}

#endif

/// One block of NW weight rows against all n input rows, MR input rows per tile (the block stays in L1
/// between tiles). With NW = 4 tiles take 4 rows; with NW = 2 they take 8, so that up to 8 rows (a typical
/// verification batch) use every weight in a single pass and the memory stream stays steady.
template <int NW, class W>
inline void matmul_block(const W* w, std::size_t in, const float* x, std::size_t ldx, std::size_t n, float* y,
                         std::size_t ldy, const float* bias, bool accumulate, const W* next) noexcept {
  constexpr std::size_t mr = NW >= 4 ? 4 : 8;
  std::size_t r = 0;
  for (; r + mr <= n; r += mr, next = nullptr)
    matmul_tile<NW, static_cast<int>(mr)>(w, in, x + r * ldx, ldx, y + r * ldy, ldy, bias, accumulate, next);
  const float* xr = x + r * ldx;
  float* yr = y + r * ldy;
  switch (n - r) {
    case 7: matmul_tile<NW, 7>(w, in, xr, ldx, yr, ldy, bias, accumulate, next); break;
    case 6: matmul_tile<NW, 6>(w, in, xr, ldx, yr, ldy, bias, accumulate, next); break;
    case 5: matmul_tile<NW, 5>(w, in, xr, ldx, yr, ldy, bias, accumulate, next); break;
    case 4: matmul_tile<NW, 4>(w, in, xr, ldx, yr, ldy, bias, accumulate, next); break;
    case 3: matmul_tile<NW, 3>(w, in, xr, ldx, yr, ldy, bias, accumulate, next); break;
    case 2: matmul_tile<NW, 2>(w, in, xr, ldx, yr, ldy, bias, accumulate, next); break;
    case 1: matmul_tile<NW, 1>(w, in, xr, ldx, yr, ldy, bias, accumulate, next); break;
    default: break;
  }
}

/// How many blocks ahead the kernel prefetches (16 KB for both float32 and bfloat16 tiles as chosen below).
inline constexpr std::size_t prefetch_blocks = 4;

template <int NW, class W>
inline void matmul_blocks(const float* x, std::size_t ldx, std::size_t n, const W* w, std::size_t out, std::size_t in,
                          const float* bias, float* y, std::size_t ldy, bool accumulate, int n_threads) noexcept {
  constexpr std::size_t nw = NW;
  const std::size_t n_blocks = out / nw;
  const auto body = [&](std::size_t b) {
    const std::size_t o = b * nw;
    const W* next = b + prefetch_blocks < n_blocks ? w + (o + nw * prefetch_blocks) * in : nullptr;
    matmul_block<NW>(w + o * in, in, x, ldx, n, y + o, ldy, bias ? bias + o : nullptr, accumulate, next);
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
    matmul_block<1>(w + o * in, in, x, ldx, n, y + o, ldy, bias ? bias + o : nullptr, accumulate,
                    static_cast<const W*>(nullptr));
}

/// @brief Y[r][o] (+)= Σ_i X[r][i]·W[o][i] + bias[o], for r < n, o < out.
/// X: (n, in) with row stride ldx; W: (out, in) row-major, contiguous, float or bfloat16 bits (uint16);
/// Y: (n, out) with row stride ldy; bias: (out) or nullptr. Parallel over blocks of output rows with
/// n_threads OpenMP threads. cost: streams W once (for n <= 8 in one pass); allocates nothing.
template <class W>
inline void matmul_xwt(const float* x, std::size_t ldx, std::size_t n, const W* w, std::size_t out, std::size_t in,
                       const float* bias, float* y, std::size_t ldy, bool accumulate, int n_threads) noexcept {
  static_assert(std::is_same_v<W, float> || std::is_same_v<W, std::uint16_t>);
  // Tile shapes measured on the target machine (AMD EPYC, AVX-512, 2 cores): float32 weights with 5-8 rows
  // stream best as 2 weight rows x 8 input rows in one pass (4 x 4 in two passes leaves memory idle in the
  // second pass); bfloat16 weights, half the bytes per FMA, run best as 4 x 4 tiles.
  if (n <= 4 || std::is_same_v<W, std::uint16_t>)
    matmul_blocks<4>(x, ldx, n, w, out, in, bias, y, ldy, accumulate, n_threads);
  else
    matmul_blocks<2>(x, ldx, n, w, out, in, bias, y, ldy, accumulate, n_threads);
}

}  // namespace uag::detail
