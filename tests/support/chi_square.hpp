#pragma once
// Pearson's chi-square goodness-of-fit test with the p-value from the regularised upper incomplete
// gamma function Q(k/2, x/2) (series for x < a+1, Lentz continued fraction otherwise).
#include <cmath>
#include <cstddef>
#include <vector>

namespace uag_test {

inline double upper_gamma_q(double a, double x) {
  if (x <= 0) return 1.0;
  const double log_prefix = -x + a * std::log(x) - std::lgamma(a);
  if (x < a + 1.0) {  // P by series, Q = 1 - P
    double term = 1.0 / a, sum = term;
    for (int n = 1; n < 100000; ++n) {
      term *= x / (a + n);
      sum += term;
      if (std::abs(term) < std::abs(sum) * 1e-15) break;
    }
    return 1.0 - sum * std::exp(log_prefix);
  }
  double b = x + 1.0 - a, c = 1.0 / 1e-300, d = 1.0 / b, h = d;
  for (int i = 1; i < 100000; ++i) {
    const double an = -i * (i - a);
    b += 2.0;
    d = an * d + b;
    if (std::abs(d) < 1e-300) d = 1e-300;
    c = b + an / c;
    if (std::abs(c) < 1e-300) c = 1e-300;
    d = 1.0 / d;
    const double delta = d * c;
    h *= delta;
    if (std::abs(delta - 1.0) < 1e-15) break;
  }
  return std::exp(log_prefix) * h;
}

struct chi_square_result {
  double statistic = 0;
  std::size_t dof = 0;
  double p_value = 1;
};

// observed counts vs expected probabilities (summing to 1). Cells with expected count < 5 are pooled.
inline chi_square_result chi_square(const std::vector<double>& observed, const std::vector<double>& probs) {
  double n = 0;
  for (double o : observed) n += o;
  double stat = 0, pool_o = 0, pool_e = 0;
  std::size_t cells = 0;
  for (std::size_t i = 0; i < observed.size(); ++i) {
    const double e = probs[i] * n;
    if (e < 5.0) {
      pool_o += observed[i], pool_e += e;
      continue;
    }
    stat += (observed[i] - e) * (observed[i] - e) / e;
    ++cells;
  }
  if (pool_e > 0) {
    stat += (pool_o - pool_e) * (pool_o - pool_e) / std::max(pool_e, 1e-12);
    ++cells;
  }
  chi_square_result r;
  r.statistic = stat;
  r.dof = cells > 1 ? cells - 1 : 1;
  r.p_value = upper_gamma_q(static_cast<double>(r.dof) / 2.0, stat / 2.0);
  return r;
}

}  // namespace uag_test
