#pragma once
/// @file Statistics of speedup ratios for `uag bench`: how far a geometric mean over noisy prompt runs can
/// be trusted. No dependencies, so the tests check it directly.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace uag_cli {

/// A ratio's logarithm; a ratio of 0 (a baseline that made no tokens) counts as 1e-12.
inline double log_ratio(double x) { return std::log(std::max(x, 1e-12)); }

inline double geomean(const std::vector<double>& v) {
  if (v.empty()) return 0.0;
  double s = 0;
  for (double x : v) s += log_ratio(x);
  return std::exp(s / double(v.size()));
}

/// Two-sided 95% quantile of Student's t with `df` degrees of freedom (df >= 1): the standard table to
/// df = 30, then the Cornish-Fisher expansion around the normal quantile (error < 1e-3 there).
inline double student_t_975(std::size_t df) {
  static constexpr double table[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                                     2.201,  2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
                                     2.080,  2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
  if (df >= 1 && df <= 30) return table[df - 1];
  const double z = 1.959964, n = static_cast<double>(df);
  return z + (z * z * z + z) / (4 * n) + (5 * std::pow(z, 5) + 16 * z * z * z + 3 * z) / (96 * n * n);
}

/// 95% confidence interval of the geometric mean of positive ratios (a t-interval on their logarithms):
/// how far the machine's noise between prompt runs, and the prompts' own spread, leave the geomean
/// uncertain. {0, 0} with fewer than two values.
struct ratio_interval {
  double lo = 0.0, hi = 0.0;
};
inline ratio_interval geomean_interval(const std::vector<double>& v) {
  if (v.size() < 2) return {};
  const double n = double(v.size()), mean = std::log(geomean(v));
  double ss = 0;
  for (double x : v) ss += (log_ratio(x) - mean) * (log_ratio(x) - mean);
  const double half = student_t_975(v.size() - 1) * std::sqrt(ss / (n - 1) / n);
  return {std::exp(mean - half), std::exp(mean + half)};
}

}  // namespace uag_cli
