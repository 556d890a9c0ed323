// logits_processor and rng: each processor against a direct reference computation.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <cmath>
#include <numeric>
#include <random>

#include "uag/sampling/logits_processor.hpp"

namespace {
std::vector<float> random_row(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 r(seed);
  std::normal_distribution<float> d(0.0f, 2.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(r);
  return v;
}

// Straightforward reference: full sort, double precision.
std::vector<double> reference_probs(std::vector<float> logits, const uag::sampling_config& c,
                                    const std::vector<int>& context) {
  const std::size_t n = logits.size();
  std::vector<int> seen(n, 0);
  for (int t : context) seen[static_cast<std::size_t>(t)] = 1;
  for (std::size_t i = 0; i < n; ++i)
    if (seen[i]) logits[i] = logits[i] > 0 ? logits[i] / c.repetition_penalty : logits[i] * c.repetition_penalty;
  std::vector<double> z(n);
  for (std::size_t i = 0; i < n; ++i) z[i] = double(logits[i]) / c.temperature;
  if (c.top_k > 0) {
    std::vector<double> s = z;
    std::sort(s.begin(), s.end(), std::greater<>());
    const double kth = s[static_cast<std::size_t>(c.top_k) - 1];
    for (auto& v : z)
      if (v < kth) v = -INFINITY;
  }
  const double mx = *std::max_element(z.begin(), z.end());
  std::vector<double> p(n);
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i) sum += p[i] = std::exp(z[i] - mx);
  for (auto& v : p) v /= sum;
  if (c.top_p < 1) {
    std::vector<std::size_t> idx(n);
    std::iota(idx.begin(), idx.end(), 0);
    std::stable_sort(idx.begin(), idx.end(), [&](auto a, auto b) { return p[a] > p[b]; });
    double acc = 0;
    std::size_t keep = n;
    for (std::size_t j = 0; j < n; ++j) {
      acc += p[idx[j]];
      if (acc >= c.top_p) {
        keep = j + 1;
        break;
      }
    }
    for (std::size_t j = keep; j < n; ++j) p[idx[j]] = 0;
  }
  if (c.min_p > 0) {
    const double pm = *std::max_element(p.begin(), p.end());
    for (auto& v : p)
      if (v < c.min_p * pm) v = 0;
  }
  sum = std::accumulate(p.begin(), p.end(), 0.0);
  for (auto& v : p) v /= sum;
  return p;
}
}  // namespace

TEST(sampling_test, probabilities_match_reference_for_every_processor_combination) {
  const std::size_t n = 500;
  int combos = 0;
  for (float temperature : {0.3f, 1.0f, 1.7f})
    for (int top_k : {0, 1, 7, 100})
      for (float top_p : {1.0f, 0.9f, 0.3f})
        for (float min_p : {0.0f, 0.05f})
          for (float penalty : {1.0f, 1.3f}) {
            uag::sampling_config c{.temperature = temperature, .top_k = top_k, .top_p = top_p, .min_p = min_p,
                                   .repetition_penalty = penalty};
            const auto row = random_row(n, static_cast<std::uint64_t>(combos));
            std::vector<int> ctx{3, 17, 17, 250, 499};
            uag::token_presence presence(n);
            for (int t : ctx) presence.push(t);
            uag::logits_processor proc(n, c);
            std::vector<float> p(n);
            proc.probabilities(row, &presence, p);
            const auto ref = reference_probs(row, c, ctx);
            double max_diff = 0, sum = 0;
            for (std::size_t i = 0; i < n; ++i) {
              max_diff = std::max(max_diff, std::abs(double(p[i]) - ref[i]));
              sum += p[i];
              ASSERT_EQ(p[i] == 0.0f, ref[i] == 0.0) << "support differs at " << i << " combo " << combos;
            }
            EXPECT_LT(max_diff, 1e-5) << "combo " << combos;
            EXPECT_NEAR(sum, 1.0, 1e-4);
            ++combos;
          }
  EXPECT_EQ(combos, 144);
}

TEST(sampling_test, argmax_applies_penalty_and_breaks_ties_low) {
  uag::logits_processor proc(4, {});
  std::vector<float> row{1.0f, 3.0f, 3.0f, 2.5f};
  EXPECT_EQ(proc.argmax(row, nullptr), 1);
  uag::logits_processor pen(4, {.repetition_penalty = 2.0f});
  uag::token_presence ctx(4);
  ctx.push(1);
  ctx.push(2);
  EXPECT_EQ(pen.argmax(row, &ctx), 3);  // 3/2 = 1.5 < 2.5
  ctx.pop(2);
  EXPECT_EQ(pen.argmax(row, &ctx), 2);
}

TEST(sampling_test, masked_argmax_picks_the_best_allowed_id) {
  uag::logits_processor proc(5, {});
  std::vector<float> row{1.0f, 3.0f, 2.0f, 2.0f, 0.5f};
  const std::vector<std::uint8_t> no_best{1, 0, 1, 1, 1}, none(5, 0), short_mask{1, 0};
  EXPECT_EQ(proc.argmax(row, nullptr, &no_best), 2);  // tie between 2 and 3: the lower id
  EXPECT_EQ(proc.argmax(row, nullptr, &none), -1);
  EXPECT_EQ(proc.argmax(row, nullptr, &short_mask), 0);  // ids past the mask are not allowed
  std::vector<float> nan_row{0.0f, NAN, 1.0f, 0.0f, 0.0f};  // a bad row is an error even if masked out
  EXPECT_THROW(proc.argmax(nan_row, nullptr, &no_best), uag::model_error);
}

TEST(sampling_test, nonfinite_and_misshaped_rows_are_rejected) {
  uag::logits_processor proc(3, {.temperature = 1.0f});
  std::vector<float> p(3);
  std::vector<float> nan_row{0.0f, NAN, 1.0f}, inf_row{INFINITY, 0.0f, 0.0f}, short_row{1.0f};
  std::vector<float> all_neg_inf{-INFINITY, -INFINITY, -INFINITY};
  for (auto* r : {&nan_row, &inf_row, &all_neg_inf}) {
    EXPECT_THROW(proc.argmax(*r, nullptr), uag::model_error);
    EXPECT_THROW(proc.probabilities(*r, nullptr, p), uag::model_error);
  }
  EXPECT_THROW(proc.argmax(short_row, nullptr), uag::model_error);
  std::vector<float> masked{-INFINITY, 0.0f, -INFINITY};  // -inf as a mask is legitimate
  EXPECT_EQ(proc.argmax(masked, nullptr), 1);
  proc.probabilities(masked, nullptr, p);
  EXPECT_FLOAT_EQ(p[1], 1.0f);
}

TEST(sampling_test, sample_follows_weights_and_is_reproducible) {
  std::vector<float> w{0.1f, 0.0f, 0.6f, 0.3f};
  uag::rng r(123);
  std::vector<int> counts(4, 0);
  for (int i = 0; i < 100000; ++i) ++counts[static_cast<std::size_t>(uag::logits_processor::sample(w, r))];
  EXPECT_EQ(counts[1], 0);
  EXPECT_NEAR(counts[0] / 1e5, 0.1, 0.005);
  EXPECT_NEAR(counts[2] / 1e5, 0.6, 0.005);
  uag::rng a(7), b(7);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a.next_u64(), b.next_u64());
  uag::rng c(8);
  EXPECT_NE(uag::rng(7).next_u64(), c.next_u64());
}

TEST(sampling_test, uniform_is_in_unit_interval_with_the_right_mean) {
  uag::rng r(1);
  double sum = 0;
  for (int i = 0; i < 100000; ++i) {
    const double u = r.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
  }
  EXPECT_NEAR(sum / 1e5, 0.5, 0.005);
}

namespace {
std::uint32_t bits(float x) { return std::bit_cast<std::uint32_t>(x); }

// Rows with the values sampling meets: logits of either sign, masked (-inf) entries, ties.
std::vector<float> kernel_row(std::size_t n, std::uint64_t seed, bool masked) {
  auto v = random_row(n, seed);
  for (std::size_t i = 2; i < n; i += 7)  // v[0] stays finite: an all -inf row is rejected earlier
    if (masked) v[i] = -INFINITY;
  if (n > 3) v[n / 2] = v[1];
  return v;
}
}  // namespace

// The vocabulary loops give the same bits on every instruction set (reference: the scalar kernels), so a
// seeded sampled run is the same on every CPU. Sizes cover whole 16-lane chunks, short tails, n < 16.
TEST(sampling_test, sampling_kernels_are_bit_identical_on_every_instruction_set) {
  const auto& ref = uag::detail::sampling_kernels_for(uag::instruction_set::scalar);
  for (auto isa : uag::supported_instruction_sets()) {
    const auto& k = uag::detail::sampling_kernels_for(isa);
    ASSERT_EQ(k.isa, isa);
    for (std::size_t n : {1u, 5u, 8u, 15u, 16u, 17u, 31u, 33u, 64u, 100u, 32003u}) {
      SCOPED_TRACE(std::string(uag::instruction_set_name(isa)) + " n=" + std::to_string(n));
      for (bool masked : {false, true}) {
        auto a = kernel_row(n, n + masked, masked), b = a;
        int bad_a = 0, bad_b = 0;
        const float ma = ref.scale_max(a.data(), n, 1.0f / 0.7f, &bad_a);
        const float mb = k.scale_max(b.data(), n, 1.0f / 0.7f, &bad_b);
        ASSERT_EQ(bits(ma), bits(mb));
        ASSERT_EQ(bad_a, 0);
        ASSERT_EQ(bad_b, 0);
        const float sa = ref.exp_sum(a.data(), n, ma), sb = k.exp_sum(b.data(), n, mb);
        ASSERT_EQ(bits(sa), bits(sb));
        for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(bits(a[i]), bits(b[i])) << i;
        ASSERT_EQ(bits(ref.sum(a.data(), n)), bits(k.sum(b.data(), n)));
        auto q = kernel_row(n, 99 + n, false);
        int ignored = 0;
        ref.exp_sum(q.data(), n, ref.scale_max(q.data(), n, 1.0f, &ignored));
        std::vector<float> ra(n, -1.0f), rb(n, -1.0f);
        ASSERT_EQ(bits(ref.residual(a.data(), q.data(), ra.data(), n)),
                  bits(k.residual(b.data(), q.data(), rb.data(), n)));
        for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(bits(ra[i]), bits(rb[i])) << i;
      }
    }
    // NaN and +inf are reported whatever the lane they sit in; -inf (a mask) is not.
    for (std::size_t at : {0u, 9u, 16u, 40u}) {
      std::vector<float> r(41, 0.5f);
      r[at] = NAN;
      int bad = 0;
      k.scale_max(r.data(), r.size(), 1.0f, &bad);
      EXPECT_EQ(bad, 1) << at;
      r[at] = INFINITY;
      bad = 0;
      k.scale_max(r.data(), r.size(), 1.0f, &bad);
      EXPECT_EQ(bad, 1) << at;
      r[at] = -INFINITY;
      bad = 0;
      k.scale_max(r.data(), r.size(), 1.0f, &bad);
      EXPECT_EQ(bad, 0) << at;
    }
  }
}

// The shared arithmetic is accurate: e^x within 3e-7 relative of libm's (0 below the floor), sums within
// float rounding of a double reference.
TEST(sampling_test, sampling_kernels_match_double_references) {
  for (auto isa : uag::supported_instruction_sets()) {
    SCOPED_TRACE(uag::instruction_set_name(isa));
    const auto& k = uag::detail::sampling_kernels_for(isa);
    std::vector<float> x;
    for (float v = -90.0f; v <= 0.0f; v += 0.0137f) x.push_back(v);
    x.push_back(-INFINITY);
    auto e = x;
    const float s = k.exp_sum(e.data(), e.size(), 0.0f);
    double ref_sum = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double want = x[i] < uag::detail::exp_floor ? 0.0 : std::exp(double(x[i]));
      ref_sum += want;
      ASSERT_NEAR(e[i], want, 3e-7 * want) << x[i];
    }
    EXPECT_NEAR(s, ref_sum, 1e-6 * ref_sum);
    auto w = random_row(10007, 5);
    double ref = 0;
    for (auto& v : w) ref += v = std::fabs(v);
    EXPECT_NEAR(k.sum(w.data(), w.size()), ref, 1e-5 * ref);
  }
}

// logits_processor gives the same distribution bits (and so the same draws) with every instruction set,
// for every processor combination.
TEST(sampling_test, probabilities_and_draws_are_identical_across_instruction_sets) {
  const std::size_t n = 32000;
  const auto logits = random_row(n, 2026);
  uag::token_presence ctx(n);
  for (int t : {3, 17, 1000, 31999}) ctx.push(t);
  std::vector<uag::sampling_config> cfgs{{.temperature = 0.7f},
                                         {.temperature = 1.0f, .top_k = 40},
                                         {.temperature = 0.7f, .top_p = 0.9f},
                                         {.temperature = 1.3f, .min_p = 0.05f, .repetition_penalty = 1.3f}};
  for (const auto& c : cfgs) {
    uag::logits_processor ref(n, c, uag::instruction_set::scalar);
    std::vector<float> pr(n);
    const float top_r = ref.probabilities(logits, &ctx, pr);
    for (auto isa : uag::supported_instruction_sets()) {
      SCOPED_TRACE(uag::instruction_set_name(isa));
      uag::logits_processor proc(n, c, isa);
      std::vector<float> p(n);
      EXPECT_EQ(bits(proc.probabilities(logits, &ctx, p)), bits(top_r));
      ASSERT_EQ(0, std::memcmp(p.data(), pr.data(), n * sizeof(float)));
    }
  }
}

// A processor asked for kernels this CPU lacks names the problem instead of running illegal instructions.
TEST(sampling_test, unsupported_instruction_set_is_a_typed_error) {
  const auto have = uag::supported_instruction_sets();
  for (auto isa : {uag::instruction_set::avx512, uag::instruction_set::avx2, uag::instruction_set::neon}) {
    if (std::find(have.begin(), have.end(), isa) != have.end()) continue;
    try {
      uag::logits_processor p(8, {.temperature = 1.0f}, isa);
      ADD_FAILURE() << "no error for " << uag::instruction_set_name(isa);
    } catch (const uag::unsupported_error& e) {
      EXPECT_NE(std::string(e.what()).find("[uag.cpu.isa]"), std::string::npos) << e.what();
    }
  }
}
