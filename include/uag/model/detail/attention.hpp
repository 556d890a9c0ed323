#pragma once
/// @file Single-query attention over a KV cache, the second-largest cost of a forward pass at long
/// contexts (each verified draft token attends to the whole context).
///
/// Keys are cached transposed in tiles of 16 positions: tile t holds K[16t .. 16t+15][d] at
/// [t][d][position % 16], so 16 scores come from head_dim broadcast-FMAs with no horizontal sums. Values
/// stay position-major; the output is Σ_j p_j·V_j accumulated in registers. Softmax uses a vectorised
/// exp (relative error < 2e-7).
///
/// Every quantity is a fixed sequence of operations on one query row, independent of what else is in the
/// batch: scores are sequential FMA chains over d; the max, the sum of exps and the output are reduced in
/// position order. So a row's attention is bit-identical whether it is decoded alone or verified with
/// other draft tokens.
#include <algorithm>
#include <cmath>
#include <cstddef>

#if defined(__AVX512F__)
#include <immintrin.h>
#define UAG_ATTENTION_AVX512 1
#endif

namespace uag::detail {

/// Positions per key tile.
inline constexpr std::size_t key_tile = 16;

/// @brief Floats of a transposed key cache for `positions` positions of one head.
inline constexpr std::size_t key_cache_floats(std::size_t positions, std::size_t head_dim) noexcept {
  return (positions + key_tile - 1) / key_tile * key_tile * head_dim;
}

/// @brief Scratch floats attend() needs for `count` positions.
inline constexpr std::size_t attention_scratch(std::size_t count) noexcept { return count + 2 * key_tile; }

/// @brief Stores key k (head_dim floats) for position pos into a head's transposed key cache kt.
inline void store_key(float* kt, std::size_t pos, const float* k, std::size_t head_dim) noexcept {
  float* tile = kt + (pos / key_tile) * key_tile * head_dim + pos % key_tile;
  for (std::size_t d = 0; d < head_dim; ++d) tile[d * key_tile] = k[d];
}

#if defined(UAG_ATTENTION_AVX512)

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

#endif

/// @brief out = softmax(scale · q·K[lo..hi]ᵀ) · V[lo..hi] for one query head.
/// kt: the head's transposed key cache; v: value of position j at v + j·v_stride; hi inclusive.
/// scores: scratch of at least attention_scratch(hi − lo + 1) floats. cost: 2·(hi − lo + 1)·head_dim FMAs; allocates nothing.
inline void attend(const float* q, const float* kt, const float* v, std::size_t v_stride, std::size_t lo, std::size_t hi,
                   std::size_t head_dim, float scale, float* scores, float* out) noexcept {
  const std::size_t hd = head_dim, count = hi - lo + 1;
  const std::size_t t0 = lo / key_tile, t1 = hi / key_tile;
  float* s = scores + (lo - t0 * key_tile);  // s[j - lo]; the tiles write from position t0·16 on
#if defined(UAG_ATTENTION_AVX512)
  // Scores, two tiles at a time to hide the FMA latency (one chain per score: see the file comment).
  const __m512 sc = _mm512_set1_ps(scale);
  std::size_t t = t0;
  for (; t + 1 <= t1; t += 2) {
    const float* k0 = kt + t * key_tile * hd;
    const float* k1 = k0 + key_tile * hd;
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
    for (std::size_t d = 0; d < hd; ++d) {
      const __m512 qd = _mm512_set1_ps(q[d]);
      a0 = _mm512_fmadd_ps(qd, _mm512_loadu_ps(k0 + d * key_tile), a0);
      a1 = _mm512_fmadd_ps(qd, _mm512_loadu_ps(k1 + d * key_tile), a1);
    }
    _mm512_storeu_ps(scores + (t - t0) * key_tile, _mm512_mul_ps(a0, sc));
    _mm512_storeu_ps(scores + (t + 1 - t0) * key_tile, _mm512_mul_ps(a1, sc));
  }
  if (t <= t1) {
    const float* k0 = kt + t * key_tile * hd;
    __m512 a0 = _mm512_setzero_ps();
    for (std::size_t d = 0; d < hd; ++d) a0 = _mm512_fmadd_ps(_mm512_set1_ps(q[d]), _mm512_loadu_ps(k0 + d * key_tile), a0);
    _mm512_storeu_ps(scores + (t - t0) * key_tile, _mm512_mul_ps(a0, sc));
  }
  // max
  __m512 mx = _mm512_set1_ps(-INFINITY);
  std::size_t j = 0;
  for (; j + 16 <= count; j += 16) mx = _mm512_maskz_max_ps(0xFFFF, mx, _mm512_loadu_ps(s + j));
  if (j < count) mx = _mm512_mask_max_ps(mx, tail_mask(count - j), mx, _mm512_maskz_loadu_ps(tail_mask(count - j), s + j));
  const __m512 m = _mm512_set1_ps(horizontal(mx, [](__m128 a, __m128 b) { return _mm_max_ps(a, b); }));
  // exp and sum
  __m512 sum = _mm512_setzero_ps();
  for (j = 0; j + 16 <= count; j += 16) {
    const __m512 e = exp_nonpositive(_mm512_sub_ps(_mm512_loadu_ps(s + j), m));
    _mm512_storeu_ps(s + j, e);
    sum = _mm512_add_ps(sum, e);
  }
  if (j < count) {
    const __mmask16 k = tail_mask(count - j);
    const __m512 e = _mm512_maskz_mov_ps(k, exp_nonpositive(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, s + j), m)));
    _mm512_mask_storeu_ps(s + j, k, e);
    sum = _mm512_add_ps(sum, e);
  }
  const __m512 inv = _mm512_set1_ps(1.0f / horizontal(sum, [](__m128 a, __m128 b) { return _mm_add_ps(a, b); }));
  for (j = 0; j + 16 <= count; j += 16) _mm512_storeu_ps(s + j, _mm512_mul_ps(_mm512_loadu_ps(s + j), inv));
  if (j < count) {
    const __mmask16 k = tail_mask(count - j);
    _mm512_mask_storeu_ps(s + j, k, _mm512_mul_ps(_mm512_maskz_loadu_ps(k, s + j), inv));
  }
  // out = Σ p_j V_j, up to 64 output floats in registers per pass
  for (std::size_t d0 = 0; d0 < hd; d0 += 64) {
    const std::size_t w = std::min<std::size_t>(64, hd - d0);
    const __mmask16 k0 = tail_mask(w), k1 = tail_mask(w > 16 ? w - 16 : 0), k2 = tail_mask(w > 32 ? w - 32 : 0),
                    k3 = tail_mask(w > 48 ? w - 48 : 0);
    __m512 o0 = _mm512_setzero_ps(), o1 = _mm512_setzero_ps(), o2 = _mm512_setzero_ps(), o3 = _mm512_setzero_ps();
    const float* vj = v + lo * v_stride + d0;
    for (std::size_t i = 0; i < count; ++i, vj += v_stride) {
      const __m512 p = _mm512_set1_ps(s[i]);
      o0 = _mm512_fmadd_ps(p, _mm512_maskz_loadu_ps(k0, vj), o0);
      if (k1) o1 = _mm512_fmadd_ps(p, _mm512_maskz_loadu_ps(k1, vj + 16), o1);
      if (k2) o2 = _mm512_fmadd_ps(p, _mm512_maskz_loadu_ps(k2, vj + 32), o2);
      if (k3) o3 = _mm512_fmadd_ps(p, _mm512_maskz_loadu_ps(k3, vj + 48), o3);
    }
    _mm512_mask_storeu_ps(out + d0, k0, o0);
    if (k1) _mm512_mask_storeu_ps(out + d0 + 16, k1, o1);
    if (k2) _mm512_mask_storeu_ps(out + d0 + 32, k2, o2);
    if (k3) _mm512_mask_storeu_ps(out + d0 + 48, k3, o3);
  }
#else
  for (std::size_t t = t0; t <= t1; ++t)
    for (std::size_t l = 0; l < key_tile; ++l) {
      float a = 0.0f;
      for (std::size_t d = 0; d < hd; ++d) a = std::fma(q[d], kt[(t * hd + d) * key_tile + l], a);
      scores[(t - t0) * key_tile + l] = a * scale;
    }
  float mx = -INFINITY;
  for (std::size_t j = 0; j < count; ++j) mx = std::max(mx, s[j]);
  float sum = 0.0f;
  for (std::size_t j = 0; j < count; ++j) sum += (s[j] = std::exp(s[j] - mx));
  const float inv = 1.0f / sum;
  for (std::size_t j = 0; j < count; ++j) s[j] *= inv;
  for (std::size_t d = 0; d < hd; ++d) out[d] = 0.0f;
  for (std::size_t j = 0; j < count; ++j)
    for (std::size_t d = 0; d < hd; ++d) out[d] = std::fma(s[j], v[(lo + j) * v_stride + d], out[d]);
#endif
}

}  // namespace uag::detail
