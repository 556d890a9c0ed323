#pragma once
/// @file Data layout of attention (the kernels are in kernels.inc, dispatched by kernels.hpp) of a few query
/// rows over a KV cache, the second-largest cost of a forward pass at long contexts (each verified draft
/// token attends to the whole context).
///
/// Keys are cached transposed in tiles of 16 positions: tile t holds K[16t .. 16t+15][d] at
/// [t][d][position % 16], so 16 scores come from head_dim broadcast-FMAs (one 16-lane vector, two AVX2 or
/// four NEON vectors) with no horizontal sums. Values
/// stay position-major; the output is Σ_j p_j·V_j accumulated in registers. The query rows of one head
/// (up to 8 at a time) share every key and value load: at one query per load the kernel is bound by L2
/// bandwidth. Softmax uses a vectorised exp (relative error < 2e-7).
///
/// Every quantity is a fixed sequence of operations on one query row, independent of what else is in the
/// batch: each score is a sequential FMA chain over d; the max and the sum of exps are reduced in a fixed
/// order (fixed per instruction set); the output is a sequential FMA chain over positions. So a row's
/// attention is bit-identical whether it is decoded alone or verified with other draft tokens.
#include <algorithm>
#include <cmath>
#include <cstddef>

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

/// Floats between the parked value accumulators of consecutive rows (the most a row's chunk of head_dim
/// holds in registers).
inline constexpr std::size_t parked_stride = 64;

/// Positions ahead that the value pass prefetches.
inline constexpr std::size_t value_prefetch = 16;

}  // namespace uag::detail
