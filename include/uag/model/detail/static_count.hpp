#pragma once
/// @file Turns a small runtime count into a compile-time one: register tiles need their size (rows,
/// vectors) as a template argument.
#include <cstddef>
#include <type_traits>
#include <utility>

namespace uag::detail {

/// @brief Calls f(std::integral_constant<int, n>{}) when 1 <= n <= Max; does nothing otherwise.
template <int Max, class F>
inline void with_static_count(std::size_t n, F&& f) {
  [&]<int... K>(std::integer_sequence<int, K...>) {
    (void)((n == static_cast<std::size_t>(K + 1) ? (f(std::integral_constant<int, K + 1>{}), true) : false) ||
           ...);
  }
  (std::make_integer_sequence<int, Max>{});
}

}  // namespace uag::detail
