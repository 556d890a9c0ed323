#pragma once
/// @file Attention of a few query rows over a KV cache, the second-largest cost of a forward pass at long
/// contexts (each verified draft token attends to the whole context).
///
/// Keys are cached transposed in tiles of 16 positions: tile t holds K[16t .. 16t+15][d] at
/// [t][d][position % 16], so 16 scores come from head_dim broadcast-FMAs with no horizontal sums. Values
/// stay position-major; the output is Σ_j p_j·V_j accumulated in registers. The query rows of one head
/// (up to 8 at a time) share every key and value load: at one query per load the kernel is bound by L2
/// bandwidth. Softmax uses a vectorised exp (relative error < 2e-7).
///
/// Every quantity is a fixed sequence of operations on one query row, independent of what else is in the
/// batch: each score is a sequential FMA chain over d; the max and the sum of exps are reduced in a fixed
/// order; the output is a sequential FMA chain over positions. So a row's attention is bit-identical
/// whether it is decoded alone or verified with other draft tokens.
#include <algorithm>
#include <cmath>
#include <cstddef>

#include "uag/model/detail/static_count.hpp"
#include "uag/model/detail/vector_math.hpp"

namespace uag::detail {

/// Positions per key tile.
inline constexpr std::size_t key_tile = 16;

/// Query rows of one head processed together (a whole verification batch: the head's keys and values are
/// read once for all of them).
inline constexpr std::size_t attention_group = 8;

/// @brief Floats of a transposed key cache for `positions` positions of one head.
inline constexpr std::size_t key_cache_floats(std::size_t positions, std::size_t head_dim) noexcept {
  return (positions + key_tile - 1) / key_tile * key_tile * head_dim;
}

/// @brief Scratch floats attend() needs per query row for up to `positions` positions.
inline constexpr std::size_t attention_scratch(std::size_t positions) noexcept {
  return positions + 2 * key_tile;
}

/// @brief Stores key k (head_dim floats) for position pos into a head's transposed key cache kt.
inline void store_key(float* kt, std::size_t pos, const float* k, std::size_t head_dim) noexcept {
  float* tile = kt + (pos / key_tile) * key_tile * head_dim + pos % key_tile;
  for (std::size_t d = 0; d < head_dim; ++d) tile[d * key_tile] = k[d];
}

/// @brief G query rows of one head: row g has query q + g·q_stride, attends to positions lo[g]..hi[g]
/// (inclusive; lo and hi nondecreasing in g), writes out + g·out_stride, and uses scratch + g·scratch_stride
/// (attention_scratch(positions) floats).
struct attention_rows {
  const float* q;
  std::size_t q_stride;
  const std::size_t* lo;
  const std::size_t* hi;
  float* out;
  std::size_t out_stride;
  float* scratch;
  std::size_t scratch_stride;
};

#if defined(UAG_VECTOR_AVX512)

/// Scores of G rows over tiles [t, t + TT) into each row's scratch (scaled), for the tiles in its range.
/// Also prefetches the tiles' values into L2, one line per key load (head_dim lines cover 16 positions
/// of head_dim floats): the weight stream evicts the KV cache between passes, and value rows are read
/// right after the softmax.
template <int G, int TT>
inline void score_tiles(const attention_rows& a, const float* kt, const float* v, std::size_t v_stride,
                        std::size_t hd, std::size_t t, __m512 scale) noexcept {
  const std::size_t tile_floats = key_tile * hd;
  const std::size_t end = a.hi[G - 1] + 1;  // positions past this are not cached yet
  __m512 acc[G][TT];
  for (int g = 0; g < G; ++g)
    for (int u = 0; u < TT; ++u) acc[g][u] = _mm512_setzero_ps();
  const float* k0 = kt + t * tile_floats;
  for (std::size_t d = 0; d < hd; ++d) {
    __m512 kv[TT];
    for (int u = 0; u < TT; ++u)
      kv[u] = _mm512_loadu_ps(k0 + static_cast<std::size_t>(u) * tile_floats + d * key_tile);
    for (int u = 0; u < TT; ++u) {
      const std::size_t pos = (t + static_cast<std::size_t>(u)) * key_tile + d % key_tile;
      if (pos < end)
        _mm_prefetch(reinterpret_cast<const char*>(v + pos * v_stride + d / key_tile * 16), _MM_HINT_T1);
    }
    for (int g = 0; g < G; ++g) {
      const __m512 qd = _mm512_set1_ps(a.q[static_cast<std::size_t>(g) * a.q_stride + d]);
      for (int u = 0; u < TT; ++u) acc[g][u] = _mm512_fmadd_ps(qd, kv[u], acc[g][u]);
    }
  }
  for (int g = 0; g < G; ++g) {
    const std::size_t first = a.lo[g] / key_tile, last = a.hi[g] / key_tile;
    float* s = a.scratch + static_cast<std::size_t>(g) * a.scratch_stride;
    for (int u = 0; u < TT; ++u) {
      const std::size_t tu = t + static_cast<std::size_t>(u);
      if (tu >= first && tu <= last)
        _mm512_storeu_ps(s + (tu - first) * key_tile, _mm512_mul_ps(acc[g][u], scale));
    }
  }
}

/// s[0..count) ← softmax(s[0..count)).
inline void softmax_inplace(float* s, std::size_t count) noexcept {
  __m512 mx = _mm512_set1_ps(-INFINITY);
  std::size_t j = 0;
  for (; j + 16 <= count; j += 16) mx = _mm512_maskz_max_ps(0xFFFF, mx, _mm512_loadu_ps(s + j));
  if (j < count)
    mx = _mm512_mask_max_ps(mx, tail_mask(count - j), mx, _mm512_maskz_loadu_ps(tail_mask(count - j), s + j));
  const __m512 m = _mm512_set1_ps(horizontal(mx, [](__m128 x, __m128 y) { return _mm_max_ps(x, y); }));
  __m512 sum = _mm512_setzero_ps();
  for (j = 0; j + 16 <= count; j += 16) {
    const __m512 e = exp_nonpositive(_mm512_sub_ps(_mm512_loadu_ps(s + j), m));
    _mm512_storeu_ps(s + j, e);
    sum = _mm512_add_ps(sum, e);
  }
  if (j < count) {
    const __mmask16 k = tail_mask(count - j);
    const __m512 e =
        _mm512_maskz_mov_ps(k, exp_nonpositive(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, s + j), m)));
    _mm512_mask_storeu_ps(s + j, k, e);
    sum = _mm512_add_ps(sum, e);
  }
  const __m512 inv =
      _mm512_set1_ps(1.0f / horizontal(sum, [](__m128 x, __m128 y) { return _mm_add_ps(x, y); }));
  for (j = 0; j + 16 <= count; j += 16) _mm512_storeu_ps(s + j, _mm512_mul_ps(_mm512_loadu_ps(s + j), inv));
  if (j < count) {
    const __mmask16 k = tail_mask(count - j);
    _mm512_mask_storeu_ps(s + j, k, _mm512_mul_ps(_mm512_maskz_loadu_ps(k, s + j), inv));
  }
}

/// Positions ahead that accumulate_span prefetches values.
inline constexpr std::size_t value_prefetch = 16;

/// Floats between the parked accumulators of consecutive rows.
inline constexpr std::size_t parked_stride = 64;

/// acc_g += Σ_{j in [j0, j1)} p_g[j − j0]·V_j[0 .. w) for G rows, in ascending j, w <= 16·NV. Row g's
/// accumulator is parked at acc + g·parked_stride between calls (a float store and load is exact). One
/// base pointer, not an array of them: with one, GCC 12 keeps the accumulators in registers; with an
/// array it stores all 16 to the stack on every position.
template <int G, int NV>
inline void accumulate_span(const float* const (&p)[G], float* acc, const float* v, std::size_t v_stride,
                            std::size_t j0, std::size_t j1, std::size_t w) noexcept {
  if (j0 >= j1) return;
  __mmask16 km[NV];
  for (int u = 0; u < NV; ++u)
    km[u] = tail_mask(w > 16 * static_cast<std::size_t>(u) ? w - 16 * static_cast<std::size_t>(u) : 0);
  __m512 o[G][NV];
  for (int g = 0; g < G; ++g)
    for (int u = 0; u < NV; ++u) o[g][u] = _mm512_loadu_ps(acc + g * parked_stride + 16 * u);
  const float* pg[G];
  for (int g = 0; g < G; ++g) pg[g] = p[g];
  const float* vj = v + j0 * v_stride;
  for (std::size_t i = 0; i < j1 - j0; ++i, vj += v_stride) {
    // The cache was likely evicted by the weight stream since this layer last ran: fetch ahead.
    if (i + value_prefetch < j1 - j0)
      for (int u = 0; u < NV; ++u)
        _mm_prefetch(reinterpret_cast<const char*>(vj + value_prefetch * v_stride + 16 * u), _MM_HINT_T0);
    __m512 vv[NV];
    for (int u = 0; u < NV; ++u) vv[u] = _mm512_maskz_loadu_ps(km[u], vj + 16 * u);
    for (int g = 0; g < G; ++g) {
      const __m512 b = _mm512_set1_ps(pg[g][i]);
      for (int u = 0; u < NV; ++u) o[g][u] = _mm512_fmadd_ps(b, vv[u], o[g][u]);
    }
  }
  for (int g = 0; g < G; ++g)
    for (int u = 0; u < NV; ++u) _mm512_storeu_ps(acc + g * parked_stride + 16 * u, o[g][u]);
}

/// out_g[d0 .. d0 + w) = Σ_j p_g[j]·V_j[d0 .. d0 + w) for G rows, w <= 16·NV. Each row accumulates its
/// positions in ascending order: its own first positions (lo_g .. lo_{G-1}), the span every row shares
/// (one V load for all rows), then its own last positions (hi_0 .. hi_g).
template <int G, int NV>
inline void accumulate_values(const attention_rows& a, const float* v, std::size_t v_stride, std::size_t d0,
                              std::size_t w, float* parked) noexcept {
  // Row g's probability of position j is p_g[j − lo_g]: its scratch starts at position 16·⌊lo_g / 16⌋.
  const float* p[G];
  for (int g = 0; g < G; ++g)
    p[g] = a.scratch + static_cast<std::size_t>(g) * a.scratch_stride + a.lo[g] % key_tile;
  std::fill_n(parked, G * parked_stride, 0.0f);
  const auto alone = [&](int g, std::size_t j0, std::size_t j1) {
    if (j0 >= j1) return;
    const float* pg[1] = {p[g] + (j0 - a.lo[g])};
    accumulate_span<1, NV>(pg, parked + static_cast<std::size_t>(g) * parked_stride, v + d0, v_stride, j0, j1,
                           w);
  };
  // [shared_lo, shared_hi): positions of every row (lo and hi are nondecreasing in g); may be empty.
  const std::size_t shared_lo = a.lo[G - 1], shared_hi = a.hi[0] + 1;
  const bool shared = shared_lo < shared_hi;
  std::size_t front_end[G];
  for (int g = 0; g < G; ++g) {
    front_end[g] = std::min(shared_lo, a.hi[g] + 1);
    alone(g, a.lo[g], front_end[g]);
  }
  if (shared) {
    const float* ps[G];
    for (int g = 0; g < G; ++g) ps[g] = p[g] + (shared_lo - a.lo[g]);
    accumulate_span<G, NV>(ps, parked, v + d0, v_stride, shared_lo, shared_hi, w);
  }
  for (int g = 0; g < G; ++g)
    alone(g, shared ? std::max(shared_hi, front_end[g]) : front_end[g], a.hi[g] + 1);
  for (int g = 0; g < G; ++g)
    std::copy_n(parked + static_cast<std::size_t>(g) * parked_stride, w,
                a.out + static_cast<std::size_t>(g) * a.out_stride + d0);
}

template <int G>
inline void attend_group(const attention_rows& a, const float* kt, const float* v, std::size_t v_stride,
                         std::size_t hd, float scale) noexcept {
  // Scores: G rows × TT tiles of accumulators (>= 4 independent chains, <= 16 accumulators).
  constexpr int TT = G >= 8 ? 1 : G >= 4 ? 2 : 4 / G;
  const __m512 sc = _mm512_set1_ps(scale);
  const std::size_t t0 = a.lo[0] / key_tile, t1 = a.hi[G - 1] / key_tile;
  std::size_t t = t0;
  for (; t + TT <= t1 + 1; t += TT) score_tiles<G, TT>(a, kt, v, v_stride, hd, t, sc);
  for (; t <= t1; ++t) score_tiles<G, 1>(a, kt, v, v_stride, hd, t, sc);
  for (int g = 0; g < G; ++g)
    softmax_inplace(a.scratch + static_cast<std::size_t>(g) * a.scratch_stride + a.lo[g] % key_tile,
                    a.hi[g] - a.lo[g] + 1);
  // Values in chunks of up to 64 floats per row (16 accumulators for 4 rows), 32 for more rows.
  constexpr std::size_t chunk = G <= 4 ? 64 : 32;
  alignas(64) float parked[G * parked_stride];
  for (std::size_t d0 = 0; d0 < hd; d0 += chunk) {
    const std::size_t w = std::min(chunk, hd - d0);
    with_static_count<static_cast<int>(chunk / 16)>((w + 15) / 16, [&](auto nv) {
      accumulate_values<G, decltype(nv)::value>(a, v, v_stride, d0, w, parked);
    });
  }
}

#endif

/// @brief out_g = softmax(scale · q_g·K[lo_g..hi_g]ᵀ) · V[lo_g..hi_g] for n <= attention_group rows of one
/// head (see attention_rows). kt: the head's transposed key cache; V_j at v + j·v_stride.
/// cost: 2·Σ_g (hi_g − lo_g + 1)·head_dim FMAs; allocates nothing.
inline void attend(const attention_rows& a, std::size_t n, const float* kt, const float* v,
                   std::size_t v_stride, std::size_t hd, float scale) noexcept {
#if defined(UAG_VECTOR_AVX512)
  with_static_count<static_cast<int>(attention_group)>(
      n, [&](auto g) { attend_group<decltype(g)::value>(a, kt, v, v_stride, hd, scale); });
#else
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
#endif
}

}  // namespace uag::detail
