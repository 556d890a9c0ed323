#pragma once
/// @file A non-owning view of a block of logits rows, as models return them.
#include <cstddef>
#include <span>

#include "uag/core/types.hpp"

namespace uag {

/// @brief Row-major view of `rows` logits rows of `cols` floats each (rows × vocab).
/// Owned by the model that returned it; valid until that model's next forward() or truncate().
struct logits_view {
  const float* data = nullptr;  // (rows, cols) row-major
  std::size_t rows = 0;
  std::size_t cols = 0;

  /// @brief Row i as a span of `cols` floats. requires: i < rows.
  std::span<const float> row(std::size_t i) const noexcept { return {data + i * cols, cols}; }
};

}  // namespace uag
