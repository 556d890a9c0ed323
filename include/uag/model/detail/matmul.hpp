#pragma once
/// @file The one kernel the reference transformer spends its time in: Y = X · Wᵀ (+ b) for a few rows X
/// and a weight matrix W (out, in) that is much larger than the cache.
///
/// W is repacked once, at load time, into blocks of 32 output rows: inside a block the 32 weights of one
/// input index are contiguous (two 16-lane vectors), so each input value x[r][i] is one broadcast and
/// every vector lane is one output (no horizontal sums). A tile keeps one block × up to 8 rows of
/// accumulators in registers and reads its block once for all rows as one contiguous stream, prefetched
/// a few blocks ahead so that memory keeps flowing while the tile computes: verifying k draft tokens
/// reads W once, like decoding one token.
///
/// Every output is the same chain of float32 fused multiply-adds over i = 0, 1, …, in − 1 whatever the
/// tile shape, the number of rows or the number of threads; so a row's result does not depend on what it
/// is batched with (verification is bit-identical to token-by-token decoding, which lossless greedy
/// verification rests on).
///
/// bfloat16 storage interleaves pairs of inputs: a 32-bit word holds W[o][2q] (low half) and W[o][2q+1]
/// (high half); a shift and a mask widen both exactly to float32. Half the memory traffic, float32
/// arithmetic.
///
/// Measured on the target machine (Zen 5, one thread, bf16, 53 MB of weights): 8 rows cost 1.3-1.4x one
/// row, 4 rows 1.0x; the kernel reaches ~215 GFLOP/s in cache and ~32 GB/s from memory.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>

#include "uag/model/detail/static_count.hpp"

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

/// Output rows per block, and per vector (a block is two vectors wide).
inline constexpr std::size_t block_rows = 32;
inline constexpr std::size_t lanes = 16;

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
  /// @brief Packs row-major w (out, in). cost: one pass over w; allocates blocks() × block_size() elements.
  packed_matrix(const float* w, std::size_t out, std::size_t in)
      : out_(out),
        in_(in),
        blocks_((out + block_rows - 1) / block_rows),
        block_size_(block_rows * (std::is_same_v<W, float> ? in : in + (in & 1))) {
    const std::size_t n = blocks_ * block_size_;
    data_.reset(
        static_cast<W*>(::operator new (std::max<std::size_t>(n, 1) * sizeof(W), std::align_val_t{64})));
    std::fill_n(data_.get(), n, W{});
    for (std::size_t o = 0; o < out; ++o) {
      W* block = data_.get() + (o / block_rows) * block_size_;
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
  const W* block(std::size_t b) const noexcept { return data_.get() + b * block_size_; }
  /// @brief Bytes one product streams.
  std::size_t bytes() const noexcept { return blocks_ * block_size_ * sizeof(W); }

 private:
  struct aligned_delete {
    void operator()(W* p) const noexcept { ::operator delete (p, std::align_val_t{64}); }
  };
  std::size_t out_ = 0, in_ = 0, blocks_ = 0, block_size_ = 0;
  std::unique_ptr<W[], aligned_delete> data_;
};

/// Where one tile writes: rows r of Y at y + r·ldy, `cols` valid outputs (≤ 32), optional bias.
struct tile_out {
  float* y;
  std::size_t ldy;
  std::size_t cols;
  const float* bias;
  bool accumulate;
};

#if defined(UAG_MATMUL_AVX512)

// Masked forms where GCC 12's unmasked intrinsics (_mm512_slli_epi32, ...) read an "undefined" register
// and trip -Werror=maybe-uninitialized.
inline __mmask16 lane_mask(std::size_t n) noexcept {
  return n >= lanes ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << n) - 1u);
}

/// acc[r][h] → Y: y = (accumulate ? y : 0) + (acc + bias), masked to the valid columns.
template <int NR, int V>
inline void store_tile(__m512 (&acc)[NR][V], const tile_out& t) noexcept {
  for (std::size_t h = 0; h < V && h * lanes < t.cols; ++h) {
    const std::size_t c0 = h * lanes;
    const __mmask16 m = lane_mask(t.cols - c0);
    const __m512 b = t.bias ? _mm512_maskz_loadu_ps(m, t.bias + c0) : _mm512_setzero_ps();
    for (int r = 0; r < NR; ++r) {
      float* dst = t.y + static_cast<std::size_t>(r) * t.ldy + c0;
      __m512 v = _mm512_add_ps(acc[r][h], b);
      if (t.accumulate) v = _mm512_add_ps(_mm512_maskz_loadu_ps(m, dst), v);
      _mm512_mask_storeu_ps(dst, m, v);
    }
  }
}

inline void prefetch(const void* p) noexcept { _mm_prefetch(static_cast<const char*>(p), _MM_HINT_T0); }

/// NB consecutive blocks (bs elements apart) × NR rows of x, full reduction over `in`; prefetches pf (the
/// blocks a few ahead, or nullptr) in step. V = 2·NB vectors of 16 outputs per row.
template <int NB, int NR>
inline void matmul_tile(const std::uint16_t* w, std::size_t bs, std::size_t in, const float* x,
                        std::size_t ldx, const tile_out& t, const std::uint16_t* pf) noexcept {
  constexpr int V = 2 * NB;
  __m512 acc[NR][V];
  for (int r = 0; r < NR; ++r)
    for (int v = 0; v < V; ++v) acc[r][v] = _mm512_setzero_ps();
  const __m512i high = _mm512_set1_epi32(static_cast<int>(0xFFFF0000u));
  const std::size_t pairs = in / 2;
  for (std::size_t q = 0; q < pairs; ++q) {
    __m512 lo[V], hi[V];
    for (int v = 0; v < V; ++v) {
      const __m512i b = _mm512_loadu_si512(w + (v / 2) * bs + q * 2 * block_rows + (v % 2) * 2 * lanes);
      lo[v] = _mm512_castsi512_ps(_mm512_maskz_slli_epi32(0xFFFF, b, 16));
      hi[v] = _mm512_castsi512_ps(_mm512_and_si512(b, high));
    }
    if (pf)
      for (int v = 0; v < V; ++v) prefetch(pf + (v / 2) * bs + q * 2 * block_rows + (v % 2) * 2 * lanes);
    for (int r = 0; r < NR; ++r) {
      const float* xr = x + static_cast<std::size_t>(r) * ldx + 2 * q;
      const __m512 x0 = _mm512_set1_ps(xr[0]);
      const __m512 x1 = _mm512_set1_ps(xr[1]);
      for (int v = 0; v < V; ++v) acc[r][v] = _mm512_fmadd_ps(x0, lo[v], acc[r][v]);
      for (int v = 0; v < V; ++v) acc[r][v] = _mm512_fmadd_ps(x1, hi[v], acc[r][v]);
    }
  }
  if (in & 1) {  // the last input sits alone in the low halves
    __m512 lo[V];
    for (int v = 0; v < V; ++v)
      lo[v] = _mm512_castsi512_ps(_mm512_maskz_slli_epi32(
          0xFFFF, _mm512_loadu_si512(w + (v / 2) * bs + pairs * 2 * block_rows + (v % 2) * 2 * lanes), 16));
    for (int r = 0; r < NR; ++r) {
      const __m512 x0 = _mm512_set1_ps(x[static_cast<std::size_t>(r) * ldx + in - 1]);
      for (int v = 0; v < V; ++v) acc[r][v] = _mm512_fmadd_ps(x0, lo[v], acc[r][v]);
    }
  }
  store_tile<NR, V>(acc, t);
}

template <int NB, int NR>
inline void matmul_tile(const float* w, std::size_t bs, std::size_t in, const float* x, std::size_t ldx,
                        const tile_out& t, const float* pf) noexcept {
  constexpr int V = 2 * NB;
  __m512 acc[NR][V];
  for (int r = 0; r < NR; ++r)
    for (int v = 0; v < V; ++v) acc[r][v] = _mm512_setzero_ps();
  for (std::size_t i = 0; i < in; ++i) {
    __m512 wv[V];
    for (int v = 0; v < V; ++v) wv[v] = _mm512_loadu_ps(w + (v / 2) * bs + i * block_rows + (v % 2) * lanes);
    if (pf)
      for (int v = 0; v < V; ++v) prefetch(pf + (v / 2) * bs + i * block_rows + (v % 2) * lanes);
    for (int r = 0; r < NR; ++r) {
      const __m512 xv = _mm512_set1_ps(x[static_cast<std::size_t>(r) * ldx + i]);
      for (int v = 0; v < V; ++v) acc[r][v] = _mm512_fmadd_ps(xv, wv[v], acc[r][v]);
    }
  }
  store_tile<NR, V>(acc, t);
}

#else

// Portable fallback: the same layout and the same order of operations per output (std::fma keeps the
// rounding of the vector path's fused multiply-add).
inline float widen(const float* w, std::size_t i, std::size_t lane) noexcept {
  return w[i * block_rows + lane];
}
inline float widen(const std::uint16_t* w, std::size_t i, std::size_t lane) noexcept {
  return std::bit_cast<float>(static_cast<std::uint32_t>(w[(i / 2) * 2 * block_rows + 2 * lane + (i & 1)])
                              << 16);
}

template <int NB, int NR, class W>
inline void matmul_tile(const W* w, std::size_t bs, std::size_t in, const float* x, std::size_t ldx,
                        const tile_out& t, const W*) noexcept {
  for (int r = 0; r < NR; ++r)
    for (std::size_t c = 0; c < t.cols; ++c) {
      const W* block = w + (c / block_rows) * bs;
      float acc = 0.0f;
      for (std::size_t i = 0; i < in; ++i)
        acc = std::fma(x[static_cast<std::size_t>(r) * ldx + i], widen(block, i, c % block_rows), acc);
      float& dst = t.y[static_cast<std::size_t>(r) * t.ldy + c];
      const float v = acc + (t.bias ? t.bias[c] : 0.0f);
      dst = t.accumulate ? dst + v : v;
    }
}

#endif

/// How far ahead the kernel prefetches, in blocks: measured best on the target machine.
inline constexpr std::size_t prefetch_blocks = 2;

/// NB blocks against all n rows in tiles of at most MR rows, balanced (9 rows run as 4 + 5, not 8 + 1: a
/// one-row tile on a cached block is FMA-latency bound); the blocks stay in L1/L2 between row tiles. The
/// first row tile prefetches pf.
template <int NB, int MR, class W>
inline void matmul_blocks(const W* w, std::size_t bs, std::size_t in, const float* x, std::size_t ldx,
                          std::size_t n, tile_out t, const W* pf) noexcept {
  const std::size_t tiles = (n + MR - 1) / MR;
  std::size_t r = 0;
  for (std::size_t k = 0; k < tiles; ++k, pf = nullptr) {
    const std::size_t rows = (n - r) / (tiles - k);
    const float* xr = x + r * ldx;
    with_static_count<MR>(rows,
                          [&](auto nr) { matmul_tile<NB, decltype(nr)::value>(w, bs, in, xr, ldx, t, pf); });
    r += rows;
    t.y += rows * t.ldy;
  }
}

/// Groups of NB blocks split over threads, then the last blocks one at a time.
template <int NB, int MR, class W>
inline void matmul_groups(const float* x, std::size_t ldx, std::size_t n, const packed_matrix<W>& w,
                          const float* bias, float* y, std::size_t ldy, bool accumulate,
                          int n_threads) noexcept {
  const std::size_t n_blocks = w.blocks(), bs = w.block_size(), in = w.in(), out = w.out();
  const auto run = [&](std::size_t b, auto nb) {
    const std::size_t c0 = b * block_rows;
    const tile_out t{y + c0, ldy, std::min(out - c0, nb.value * block_rows), bias ? bias + c0 : nullptr,
                     accumulate};
    constexpr std::size_t ahead = std::max<std::size_t>(prefetch_blocks, nb.value);
    // Software prefetch for every row count: on a quiet machine one row streams ~5% faster on the
    // hardware prefetcher alone, but with other jobs contending for memory it runs 25-35% slower.
    matmul_blocks<nb.value, MR>(w.block(b), bs, in, x, ldx, n, t,
                                b + ahead + nb.value <= n_blocks ? w.block(b + ahead) : nullptr);
  };
  const std::size_t n_groups = n_blocks / NB;
  const auto group = [&](std::size_t g) { run(g * NB, std::integral_constant<std::size_t, NB>{}); };
#if defined(_OPENMP)
  if (n_threads > 1 && n_groups >= 8) {
#pragma omp parallel for num_threads(n_threads) schedule(static)
    for (std::size_t g = 0; g < n_groups; ++g) group(g);
  } else {
    for (std::size_t g = 0; g < n_groups; ++g) group(g);
  }
#else
  (void)n_threads;
  for (std::size_t g = 0; g < n_groups; ++g) group(g);
#endif
  for (std::size_t b = n_groups * NB; b < n_blocks; ++b) run(b, std::integral_constant<std::size_t, 1>{});
}

/// @brief Where a matrix's weights come from during a product: it selects the single-row tile.
enum class weight_residence {
  memory,  // streamed from DRAM (the model is larger than the last-level cache)
  cache,   // cache-resident (a small draft model)
};

/// @brief Y[r][o] (+)= Σ_i X[r][i]·W[o][i] + bias[o], for r < n, o < w.out().
/// X: (n, w.in()) with row stride ldx; Y: (n, w.out()) with row stride ldy; bias: (out) or nullptr.
/// Parallel over blocks with n_threads OpenMP threads. cost: streams W once for n <= 8 rows; allocates
/// nothing. Results are bit-identical for any n, row position, thread count and residence (see the file
/// comment).
template <class W>
inline void matmul(const float* x, std::size_t ldx, std::size_t n, const packed_matrix<W>& w,
                   const float* bias, float* y, std::size_t ldy, bool accumulate, int n_threads,
                   weight_residence residence = weight_residence::memory) noexcept {
  // Measured on the target machine: one row from cache runs 1.2x faster taking 4 blocks at a time
  // (8 independent accumulator chains cover the FMA latency), but from memory 1.5x slower (4 streams
  // instead of one); several rows take one block and up to 8 rows per tile.
  if (n == 1 && residence == weight_residence::cache)
    matmul_groups<4, 1>(x, ldx, n, w, bias, y, ldy, accumulate, n_threads);
  else
    matmul_groups<1, 8>(x, ldx, n, w, bias, y, ldy, accumulate, n_threads);
}

}  // namespace uag::detail
