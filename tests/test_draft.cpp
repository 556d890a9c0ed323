// Draft sources and draft-length control: prompt lookup, the model runner, controllers.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "support/test_doubles.hpp"
#include "uag/draft/draft_model_runner.hpp"
#include "uag/draft/model_draft.hpp"
#include "uag/draft/prompt_lookup.hpp"
#include "uag/generation/draft_length.hpp"

using namespace uag_test;

namespace {
uag::draft_request request(std::size_t n) {
  static uag::sampling_config greedy;
  static uag::rng random(0);
  return {.max_tokens = n, .target_vocab_size = 100, .sampling = &greedy, .random = &random};
}
}  // namespace

TEST(draft_test, prompt_lookup_copies_what_followed_the_latest_match) {
  uag::prompt_lookup_draft d({.max_ngram = 2, .min_ngram = 1});
  uag::draft_proposal p;
  const token_vector ctx{5, 6, 7, 8, 9, 5, 6, 7, 1, 2, 5, 6};
  d.propose(ctx, request(3), p);
  EXPECT_EQ(p.tokens, (token_vector{7, 1, 2}));  // "5 6" last seen at index 5
  p.clear();
  d.propose(token_vector{1, 2, 3, 4}, request(3), p);
  EXPECT_TRUE(p.tokens.empty());
  p.clear();
  d.propose(token_vector{1, 2, 1}, request(5), p);
  EXPECT_EQ(p.tokens, (token_vector{2, 1}));  // the continuation runs to the end of the context
  EXPECT_THROW(uag::prompt_lookup_draft({.max_ngram = 1, .min_ngram = 2}), uag::config_error);
}

TEST(draft_test, runner_crops_the_cache_where_the_context_diverges) {
  test_tokenizer tok;
  test_model m(tok, {.seed = 4});
  uag::draft_model_runner<test_model> runner(m, {});
  token_vector out;
  EXPECT_EQ(runner.sync(token_vector{0, 2, 3, 4}), 4u);
  runner.draft(3, {}, out, nullptr);
  EXPECT_EQ(out.size(), 3u);
  EXPECT_EQ(m.n_cached(), 6u);  // context + 2 drafted ids fed; the last drafted id is pending
  EXPECT_EQ(runner.sync(token_vector{0, 2, 3, 4, out[0], 7}), 1u);
  EXPECT_EQ(m.n_cached(), 5u);
  EXPECT_EQ(runner.sync(token_vector{0, 2, 3, 4, out[0], 7}), 0u);
  // Drafting after a resync equals drafting from scratch on a fresh model.
  token_vector a, b;
  runner.draft(4, {}, a, nullptr);
  test_model fresh(tok, {.seed = 4});
  uag::draft_model_runner<test_model> r2(fresh, {});
  r2.sync(token_vector{0, 2, 3, 4, out[0], 7});
  r2.draft(4, {}, b, nullptr);
  EXPECT_EQ(a, b);
}

TEST(draft_test, runner_honours_stop_ids_confidence_and_masks) {
  test_tokenizer tok;
  test_model m(tok, {.seed = 4, .sharpness = 0.1f});  // nearly flat: low confidence
  uag::draft_model_runner<test_model> runner(m, {});
  runner.sync(token_vector{0, 2});
  token_vector out;
  EXPECT_EQ(runner.draft(5, {.min_confidence = 0.5f}, out, nullptr), 0u);
  // A floor from the second token on: the first is drafted whatever its confidence, then the draft stops.
  EXPECT_EQ(runner.draft(5, {.min_confidence = 0.5f, .min_confidence_from = 1}, out, nullptr), 1u);
  runner.sync(token_vector{0, 2});
  out.clear();
  std::vector<std::uint8_t> only_three(m.vocab_size(), 0);
  only_three[3] = 1;
  const token_id stop[] = {3};
  std::vector<float> q;
  EXPECT_EQ(runner.draft(5, {.stop_ids = stop, .allowed = &only_three}, out, &q), 1u);
  EXPECT_EQ(out, token_vector{3});
  ASSERT_EQ(q.size(), m.vocab_size());
  EXPECT_FLOAT_EQ(q[3], 1.0f);
}

TEST(draft_test, heuristic_controller_follows_hf_schedule) {
  uag::generation_config cfg;
  cfg.draft_policy = uag::draft_length_policy::heuristic;
  cfg.num_draft_tokens = 5;
  cfg.max_draft_tokens = 8;
  uag::draft_length_controller c(cfg);
  EXPECT_EQ(c.next(), 5u);
  c.update(5, 5, false, 0, 1);
  EXPECT_EQ(c.next(), 7u);
  c.update(7, 7, false, 0, 1);
  EXPECT_EQ(c.next(), 8u);  // capped
  c.update(8, 2, true, 0, 1);
  EXPECT_EQ(c.next(), 7u);
  for (int i = 0; i < 10; ++i) c.update(1, 0, true, 0, 1);
  EXPECT_EQ(c.next(), 1u);  // never below 1
}

// Accepted candidates of a step that proposed g, each accepted with probability alpha until the first
// rejection (the geometric law the adaptive controller assumes).
static std::size_t geometric_accepts(uag::rng& r, double alpha, std::size_t g) {
  std::size_t acc = 0;
  while (acc < g && r.uniform() < alpha) ++acc;
  return acc;
}

// The same with the first candidate accepted at `first` and every later one, once reached, at `next`
// (a weak pair: its first candidate a coin, a right one often followed by another).
static std::size_t two_rate_accepts(uag::rng& r, double first, double next, std::size_t g) {
  std::size_t acc = 0;
  while (acc < g && r.uniform() < (acc == 0 ? first : next)) ++acc;
  return acc;
}

TEST(draft_test, adaptive_controller_picks_the_gamma_that_maximises_the_bound) {
  for (double alpha : {0.3, 0.6, 0.8, 0.95})
    for (double cost : {0.01, 0.1, 0.3}) {
      uag::generation_config cfg;
      cfg.draft_policy = uag::draft_length_policy::adaptive;
      cfg.max_draft_tokens = 12;
      uag::draft_length_controller c(cfg);
      // Feed steps whose accept counts follow a geometric law with parameter alpha, at γ = 12.
      uag::rng r(1);
      for (int s = 0; s < 400; ++s) {
        const std::size_t acc = geometric_accepts(r, alpha, 12);
        c.update(12, acc, acc < 12, cost, 1.0);
      }
      std::size_t best = 1;
      for (std::size_t g = 1; g <= 12; ++g)
        if (uag::expected_speedup(alpha, cost, g) > uag::expected_speedup(alpha, cost, best)) best = g;
      // The estimate is noisy; the chosen γ must be within 3% of the optimum's value.
      EXPECT_GE(uag::expected_speedup(alpha, cost, c.choice()), 0.97 * uag::expected_speedup(alpha, cost, best))
          << "alpha " << alpha << " c " << cost << " chose " << c.choice() << " best " << best;
    }
}

TEST(draft_test, expected_speedup_matches_closed_form) {
  EXPECT_NEAR(uag::expected_tokens_per_pass(0.8, 4), (1 - std::pow(0.8, 5)) / 0.2, 1e-12);
  EXPECT_NEAR(uag::expected_speedup(0.8, 0.1, 4), (1 - std::pow(0.8, 5)) / (0.2 * 1.4), 1e-12);
  EXPECT_NEAR(uag::expected_speedup(0.0, 0.0, 3), 1.0, 1e-12);
}

TEST(draft_test, model_draft_pads_q_to_the_target_width) {
  test_tokenizer tok;
  test_model m(tok, {.seed = 4, .extra_vocab = 5});
  uag::model_draft<test_model> d(m);
  uag::sampling_config s{.temperature = 1.0f};
  uag::rng random(3);
  uag::draft_proposal p;
  const std::size_t tv = tok.vocab_size();
  d.propose(token_vector{0, 2}, {.max_tokens = 4, .sample = true, .want_q = true, .target_vocab_size = tv,
                                 .sampling = &s, .random = &random}, p);
  ASSERT_TRUE(p.has_q);
  ASSERT_EQ(p.q.size(), p.tokens.size() * tv);
  for (std::size_t i = 0; i < p.tokens.size(); ++i) {
    EXPECT_LT(static_cast<std::size_t>(p.tokens[i]), tv);
    double sum = 0;
    for (std::size_t v = 0; v < tv; ++v) sum += p.q[i * tv + v];
    EXPECT_NEAR(sum, 1.0, 1e-5);
    EXPECT_GT(p.q[i * tv + static_cast<std::size_t>(p.tokens[i])], 0.0f);
  }
}

// Fuzz finding (tests/fuzz/regressions/generator/draft_context_shorter_than_target): a draft model with
// a shorter context than the committed text threw uag.draft.context mid-generation. It now drafts only
// what fits, then nothing.
TEST(draft_test, model_draft_with_a_short_context_drafts_what_fits_then_nothing) {
  test_tokenizer tok;
  test_model m(tok, {.seed = 4, .max_context = 6});
  uag::model_draft<test_model> d(m);
  uag::draft_proposal p;
  d.propose(token_vector{0, 2, 3, 4}, request(8), p);
  EXPECT_EQ(p.tokens.size(), 3u);  // 4 committed + 3 drafted - 1 pending = 6 ids in the cache
  p.clear();
  d.propose(token_vector{0, 2, 3, 4, 5, 6}, request(8), p);
  EXPECT_EQ(p.tokens.size(), 1u);
  for (std::size_t n : {7u, 20u}) {
    p.clear();
    token_vector ctx(n, 2);
    ASSERT_NO_THROW(d.propose(ctx, request(8), p));
    EXPECT_TRUE(p.tokens.empty());
  }
}

// An adaptive controller starting at γ = start, drafting at most max.
static uag::draft_length_controller adaptive_controller(std::size_t start, std::size_t max) {
  uag::generation_config cfg;
  cfg.draft_policy = uag::draft_length_policy::adaptive;
  cfg.num_draft_tokens = start;
  cfg.max_draft_tokens = max;
  return uag::draft_length_controller(cfg);
}

// Drives c for `steps` steps: each asks for g = c.next(), accepts accepts(g) candidates (geometric
// until the first rejection), takes step_time(g) seconds; observe(s, g) sees every step.
template <class Accepts, class StepTime, class Observe>
static void simulate(uag::draft_length_controller& c, int steps, Accepts accepts, StepTime step_time,
                     Observe observe) {
  for (int s = 0; s < steps; ++s) {
    const std::size_t g = c.next();
    const std::size_t acc = accepts(g);
    c.update(g, acc, acc < g, 0.01, 1.0, step_time(g));
    observe(s, g);
  }
}

// A greedy pair whose draft is sure of each candidate with chance `sure` (accepted at `sure_ok` if so,
// `unsure_ok` if not), with a target pass's time by rows: for the confidence stop (min_confidence()),
// which ends a step at the first unsure candidate past the first, and for what a trimmed step costs (a
// target pass over 1 + proposed rows, a draft pass per candidate and one for the token it stopped at).
struct sure_or_unsure_pair {
  std::vector<double> target_ms;  // [rows - 1]
  double draft_pass_ms, other_ms, sure, sure_ok, unsure_ok;
  struct step_result {
    std::size_t proposed, accepted;
    double ms;
  };
  // One step asking for g, trimmed at the first unsure candidate past the first where `trim`.
  step_result step(uag::rng& r, std::size_t g, bool trim) const {
    if (g == 0) return step_result{0, 0, target_ms[0] + other_ms};
    std::size_t proposed = 0, accepted = 0, passes = 0;
    bool alive = true;
    for (std::size_t i = 0; i < g; ++i) {
      const bool is_sure = r.uniform() < sure;
      ++passes;
      if (i > 0 && trim && !is_sure)
        break;  // the pass that produced it is paid; the candidate is not drafted
      ++proposed;
      const bool ok = r.uniform() < (is_sure ? sure_ok : unsure_ok);
      if (alive && ok)
        ++accepted;
      else
        alive = false;
    }
    return step_result{proposed, accepted,
                       draft_pass_ms * static_cast<double>(passes) + target_ms[proposed] + other_ms};
  }
  // Each length's true rate (tokens per ms) for γ = 0..max, at its own rule (γ >= 3 trimmed).
  std::vector<double> rates(std::size_t max) const {
    std::vector<double> rate(max + 1);
    uag::rng r(99);
    for (std::size_t g = 0; g <= max; ++g) {
      double tokens = 0, ms = 0;
      for (int i = 0; i < 40000; ++i) {
        const step_result x = step(r, g, g >= 3);
        tokens += static_cast<double>(x.accepted + 1), ms += x.ms;
      }
      rate[g] = tokens / ms;
    }
    return rate;
  }
  // A fresh greedy adaptive controller (start γ, max γ) per seed 1..seeds, `steps` steps each, trimmed
  // where min_confidence() says: the rate of its steps past the first `skip`, over `best`, averaged.
  double realized(std::size_t start, std::size_t max, int steps, int skip, int seeds, double best) const {
    double sum = 0;
    for (std::uint64_t seed = 1; seed <= static_cast<std::uint64_t>(seeds); ++seed) {
      auto c = adaptive_controller(start, max);
      uag::rng r(seed);
      double tokens = 0, ms = 0;
      for (int s = 0; s < steps; ++s) {
        const std::size_t g = c.next();
        const step_result x = step(r, g, c.min_confidence() > 0.0f);
        const double d = x.proposed ? draft_pass_ms * 1e-3 : 0.0;
        c.update(x.proposed, x.accepted, x.accepted < x.proposed, d, 1e-3 * target_ms[x.proposed],
                 1e-3 * x.ms, g);
        if (s >= skip) tokens += static_cast<double>(x.accepted + 1), ms += x.ms;
      }
      sum += tokens / ms / best;
    }
    return sum / seeds;
  }
};

// The γ in [1, max] with the largest rate(γ).
template <class Rate>
static std::size_t best_length(Rate rate, std::size_t max) {
  std::size_t best = 1;
  for (std::size_t g = 1; g <= max; ++g)
    if (rate(g) > rate(best)) best = g;
  return best;
}

// With step times that grow with the number of rows verified (compute-bound target), the adaptive
// controller must find the γ that maximises expected tokens per second, not the constant-cost bound.
TEST(draft_test, adaptive_controller_uses_measured_step_time_per_draft_length) {
  for (double alpha : {0.5, 0.8, 0.9})
    for (double slope : {0.05, 0.3, 1.0}) {
      auto c = adaptive_controller(4, 12);
      uag::rng r(7);
      auto step_time = [&](std::size_t g) { return 1.0 + slope * static_cast<double>(g); };
      simulate(c, 600, [&](std::size_t g) { return geometric_accepts(r, alpha, g); }, step_time,
               [](int, std::size_t) {});
      auto rate = [&](std::size_t g) { return uag::expected_tokens_per_pass(alpha, g) / step_time(g); };
      const std::size_t best = best_length(rate, 12);
      EXPECT_GE(rate(c.choice()), 0.95 * rate(best))
          << "alpha " << alpha << " slope " << slope << " chose " << c.choice() << " best " << best;
    }
}

// Real acceptance is not geometric: easy stretches accept nearly everything, hard ones little, so the
// chance of accepting candidate i grows with i given that the earlier ones were accepted. Steps here
// are easy (alpha 0.97) or hard (alpha 0.45) at random; the controller must still find the γ with the
// best tokens per second (a single pooled alpha undervalues long drafts and picks too short a γ).
// Judged over 10 seeds: the rate of the steps taken on average, and the final choice, within 2% of the
// best rate on at least 8 of them. (At slope 0.3 the rates of γ = 4..8 are within 4% of each other and the
// choice moves over them: one seed's final choice is a draw. Over 40 seeds the choice ends under 0.98 of
// the best rate on 0 seeds before longer drafts with few timed steps were probed more often, on 2 after,
// and the rate of the steps taken at slope 0.3 is 0.989 on average both ways. Over 100 seeds per slope,
// 1-10, 51-60, ..., 451-460, 7 of the 300 final choices fall under 0.98, down to 0.958; until session 42
// every seed had to pass, which seeds 1-10 happen to do.)
TEST(draft_test, adaptive_controller_follows_correlated_acceptance) {
  for (double slope : {0.08, 0.15, 0.3}) {
    auto step_time = [&](std::size_t g) { return 1.0 + slope * static_cast<double>(g); };
    auto tokens = [](std::size_t g) {
      return 0.5 * uag::expected_tokens_per_pass(0.97, g) + 0.5 * uag::expected_tokens_per_pass(0.45, g);
    };
    auto rate = [&](std::size_t g) { return tokens(g) / step_time(g); };
    const std::size_t best = best_length(rate, 12);
    double realized = 0;
    int short_choices = 0;
    for (std::uint64_t seed = 1; seed <= 10; ++seed) {
      auto c = adaptive_controller(4, 12);
      uag::rng r(seed);
      double time = 0, made = 0;
      simulate(
          c, 1500, [&](std::size_t g) { return geometric_accepts(r, r.uniform() < 0.5 ? 0.97 : 0.45, g); },
          step_time, [&](int s, std::size_t g) {
            if (s >= 500) time += step_time(g), made += tokens(g);  // the last 1,000 steps, at their true rates
          });
      short_choices += rate(c.choice()) < 0.98 * rate(best);
      realized += made / time / rate(best) / 10;
    }
    EXPECT_LE(short_choices, 2) << "slope " << slope << " best " << best;
    EXPECT_GE(realized, 0.98) << "slope " << slope;
  }
}

// Step times measured on a shared machine are noisy (here ±15% per step): the choice must not chase the
// noise (nor stop at a length that once measured fast by chance). Judged by what the steps it took would
// cost at their true times, over 10 seeds: the share of steps at the best length or a neighbour (the
// former criterion) is a coin flip where neighbouring rates are within 1% (slope 0.08: 769-782 of
// 1,000 steps on average over seeds, with or without the cold-step rule), the rate is what a user gets:
// 97% of the best on average, 93% on each seed; the final choice within 5% of the best on 9 of 10 seeds.
// (Over 100 seeds per slope, 1-10, 51-60, ..., 451-460: rates 0.944 of the best at worst, 0.99 on
// average; 3 of the 300 final choices under 0.95, down to 0.878. Until session 42 each seed had to reach
// 0.95 both ways, which seeds 1-10 happen to do.)
TEST(draft_test, adaptive_controller_tolerates_noisy_step_times) {
  for (double slope : {0.08, 0.15, 0.3}) {
    int far_choices = 0;
    double realized = 0;
    for (std::uint64_t seed = 1; seed <= 10; ++seed) {
      auto c = adaptive_controller(4, 12);
      uag::rng r(seed);
      auto step_time = [&](std::size_t g) { return 1.0 + slope * static_cast<double>(g); };
      auto rate = [&](std::size_t g) { return uag::expected_tokens_per_pass(0.85, g) / step_time(g); };
      const std::size_t best = best_length(rate, 12);
      double time = 0, tokens = 0;
      for (int s = 0; s < 1500; ++s) {
        const std::size_t g = c.next();
        const std::size_t acc = geometric_accepts(r, 0.85, g);
        c.update(g, acc, acc < g, 0.01, 1.0, step_time(g) * (0.85 + 0.3 * r.uniform()));
        if (s >= 500) time += step_time(g), tokens += static_cast<double>(acc + 1);  // the last 1,000 steps
      }
      far_choices += rate(c.choice()) < 0.95 * rate(best);
      EXPECT_GE(tokens / time, 0.93 * rate(best)) << "slope " << slope << " seed " << seed;
      realized += tokens / time / rate(best) / 10;
    }
    EXPECT_LE(far_choices, 1) << "slope " << slope;
    EXPECT_GE(realized, 0.97) << "slope " << slope;
  }
}

// A draft that never pays (low acceptance, steps that cost far more than a plain pass): the adaptive
// controller stops drafting (γ = 0), still probes a γ > 0 now and then (exponential back-off), and keeps
// its timing across restart() while other policies start over. Over 50 seeds: a probe that happens to be
// right brings the next one early, so the back-off reaches 32 steps on most seeds, not all (over 1,000
// seeds: 41-50 of each 50, and 3-10 probes in the 200 steps judged; until session 42 one seed, which
// reached it).
TEST(draft_test, adaptive_controller_stops_drafting_when_it_does_not_pay) {
  uag::generation_config cfg;
  cfg.draft_policy = uag::draft_length_policy::adaptive;
  cfg.num_draft_tokens = 4;
  cfg.max_draft_tokens = 8;
  auto step_time = [](std::size_t g) { return g == 0 ? 1.0 : 1.5 + 0.5 * static_cast<double>(g); };
  int backed_off = 0;
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    uag::draft_length_controller c(cfg);
    uag::rng r(seed);
    std::size_t zero_steps = 0, probes = 0, widest_gap = 0;
    for (int s = 0; s < 400; ++s) {
      const std::size_t g = c.next();
      const std::size_t acc = geometric_accepts(r, 0.2, g);
      c.update(g, acc, acc < g, 0.1, 1.0, step_time(g));
      if (s >= 200) (g == 0 ? zero_steps : probes) += 1, widest_gap = std::max(widest_gap, c.probe_gap());
    }
    EXPECT_EQ(c.choice(), 0u) << "seed " << seed;
    EXPECT_GT(zero_steps, 150u) << "seed " << seed;  // mostly target-only steps
    EXPECT_GE(probes, 2u) << "seed " << seed;        // but it keeps measuring the draft,
    EXPECT_LE(probes, 12u) << "seed " << seed;       // backing off
    backed_off += widest_gap >= 32;
    EXPECT_GT(c.predicted_step_seconds(0), 0.9) << "seed " << seed;
    EXPECT_LT(c.predicted_step_seconds(0), 1.1) << "seed " << seed;
    c.restart();
    EXPECT_GT(c.predicted_step_seconds(3), 2.5) << "seed " << seed;  // timing kept
    EXPECT_LT(c.predicted_step_seconds(3), 3.5) << "seed " << seed;
  }
  EXPECT_GE(backed_off, 40);  // a probe every 32 steps once none pays

  uag::generation_config h = cfg;
  h.draft_policy = uag::draft_length_policy::heuristic;
  uag::draft_length_controller hc(h);
  hc.update(4, 4, false, 0, 1);
  EXPECT_EQ(hc.next(), 6u);
  hc.restart();
  EXPECT_EQ(hc.next(), 4u);
}

// Do no harm (issue 14). A simulated pair whose draft first loses (acceptance 0.15: a step that drafts
// costs more than the tokens it adds) and then, when the text turns predictable, wins big (0.9). Step
// times: target alone 1.0; drafting γ costs 1.25 + 0.1 γ, plus 0.4 for the draft's catch-up on the first
// drafting step after two or more steps without a draft. The controller must (1) spend the losing phase
// at γ = 0 with probes costing < 2% of the time, (2) resume drafting within the generation once
// acceptance rises and reach the best static rate. (The controller before this change blended γ = 0's
// time with the drafting line's intercept, judged target-only as slow as drafting's fixed cost and kept
// drafting at a loss.) Judged over 200 seeds: whether one probe of a losing pair happens to be right, or
// how many probes a winning one needs, is luck per seed (over 400 seeds the losing phase reads 0.964 to
// 0.994 of target-only, the first resume comes after 0 to 211 steps, 29 on average), so bars on single seeds
// sit below the spread and the averages carry the figures. Until session 42 this test ran 30 seeds
// with per-seed bars that seeds 31-400 break (losing phase 0.97, resume within 200 steps, 0.9 of the best
// rate) and a mean bar of 0.98 that the 400-seed mean (0.9804) meets by a hair: a neutral change to the
// probe schedule failed it by noise.
TEST(draft_test, adaptive_controller_stops_when_drafting_loses_and_resumes_when_it_pays) {
  constexpr std::uint64_t kSeeds = 200;
  auto rate = [](std::size_t g) {
    return uag::expected_tokens_per_pass(0.9, g) / (1.25 + 0.1 * static_cast<double>(g));
  };
  const double best_rate = rate(best_length(rate, 12));
  double phase1_rate = 0, probe_cost = 0, resume_after = 0, phase2_rate = 0;  // means over seeds
  for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
    auto c = adaptive_controller(5, 12);
    uag::rng r(seed);
    double alpha = 0.15;
    std::size_t off_streak = 0;
    // Target pass 1.0 + 0.1 per candidate; the draft 0.25 per step, + 0.4 of catch-up after an off streak.
    auto draft_time = [&](std::size_t g) { return g == 0 ? 0.0 : 0.25 + (off_streak >= 2 ? 0.4 : 0.0); };
    auto step_time = [&](std::size_t g) { return 1.0 + 0.1 * static_cast<double>(g) + draft_time(g); };
    double phase1_time = 0, phase1_tokens = 0, probe_loss = 0;
    int first_drafting_after_switch = -1;
    double phase2_time = 0, phase2_tokens = 0;
    for (int s = 0; s < 900; ++s) {
      if (s == 500) alpha = 0.9;
      const std::size_t g = c.next();
      const std::size_t acc = geometric_accepts(r, alpha, g);
      const double t = step_time(g);
      c.update(g, acc, acc < g, g ? draft_time(g) / static_cast<double>(g) : 0.0, 1.0, t);
      if (s >= 200 && s < 500) {
        phase1_time += t, phase1_tokens += static_cast<double>(acc + 1);
        // A probe: a drafting step after one without. Its cost is its time beyond one target-only
        // pass per token it made.
        if (g > 0 && off_streak > 0) probe_loss += t - static_cast<double>(acc + 1);
      }
      off_streak = g == 0 ? off_streak + 1 : 0;
      if (s >= 500 && first_drafting_after_switch < 0 && c.choice() > 0) first_drafting_after_switch = s - 500;
      if (s >= 700) phase2_time += t, phase2_tokens += static_cast<double>(acc + 1);
    }
    // Losing phase, steps 200-499 (target-only: 1 token per 1.0).
    EXPECT_GE(phase1_tokens / phase1_time, 0.95) << "seed " << seed;
    EXPECT_GE(first_drafting_after_switch, 0) << "seed " << seed;
    EXPECT_LT(first_drafting_after_switch, 300) << "seed " << seed;
    EXPECT_GE(phase2_tokens / phase2_time, 0.85 * best_rate) << "seed " << seed;
    phase1_rate += phase1_tokens / phase1_time / kSeeds;
    probe_cost += probe_loss / phase1_time / kSeeds;
    resume_after += std::max(first_drafting_after_switch, 0) / static_cast<double>(kSeeds);
    phase2_rate += phase2_tokens / phase2_time / best_rate / kSeeds;
  }
  EXPECT_LT(probe_cost, 0.02);    // the probing cost (0.0175 over 400 seeds)
  EXPECT_GE(phase1_rate, 0.975);  // probes and lucky resumes together (0.980)
  EXPECT_LT(resume_after, 40.0);  // steps to resume, on average (29)
  EXPECT_GE(phase2_rate, 0.97);   // (0.995)
}

// Do no harm on a shared machine (issue 14). On 2 cores shared with other sessions a step is often
// descheduled for part of a time slice: measured step times are bimodal (here 30% of steps take 2.2x,
// as a per-step log of `uag bench` on the weak pair showed: 3.4, 7.5 or 12 ms for the same pass). Drafting
// loses at every length (acceptance 0.15 or 0.25; a drafting step costs the target pass, 0.1 per extra
// row, and the draft's 0.1 + 0.2 per token).
// The bar, 97% of target-only's rate at the same load, is for a matrix cell: one controller
// through sixteen generations of 256 tokens (restart() between them keeps its timing). Every one of 100
// seeds must reach it, and their mean 98% (over 200 seeds: 0.992 / 0.990, worst 0.988 / 0.981).
// A fresh controller's first 250 steps carry its whole warm-up (timing every length, kMinEvidence
// drafting steps before a stop, kSettleSamples of the length it gives up): their mean over 200 seeds
// must reach 96% (0.968 / 0.968 over 400 seeds). The controller before issue 14 (running means of step
// times, γ = 0 timed in a few samples and re-timed rarely, one lucky probe enough to resume) drafted on
// 10-23% of those steps and reached 0.949-0.958. Until session 42 the bar there was 97% over 20 seeds,
// which their mean met (0.972 / 0.970) and the 400-seed mean does not: a neutral change to the probe
// schedule failed it by noise.
TEST(draft_test, adaptive_controller_stays_off_under_descheduling_noise) {
  // One run of a fresh controller: `generations` of `tokens` each, or `steps` steps in one generation
  // where generations is 0; returns target-only's time for the same tokens over the time taken.
  auto run = [](double alpha, std::uint64_t seed, int generations, std::size_t tokens, int steps) {
    auto c = adaptive_controller(5, 12);
    uag::rng r(seed);
    double time = 0, target_only = 0;
    auto step = [&] {
      const double load = r.uniform() < 0.3 ? 2.2 : 1.0;
      const std::size_t g = c.next();
      const std::size_t acc = geometric_accepts(r, alpha, g);
      const double gd = static_cast<double>(g);
      const double target = load * (1.0 + 0.1 * gd), draft = g ? load * (0.1 + 0.2 * gd) : 0.0;
      c.update(g, acc, acc < g, g ? draft / gd : 0.0, target, target + draft);
      time += target + draft;
      target_only += load * static_cast<double>(acc + 1);  // the same tokens, one plain pass each
      return acc + 1;
    };
    if (generations == 0)
      for (int s = 0; s < steps; ++s) step();
    for (int gen = 0; gen < generations; ++gen) {
      c.restart();
      for (std::size_t made = 0; made < tokens;) made += step();
    }
    return target_only / time;
  };
  for (double alpha : {0.15, 0.25}) {
    double cell_mean = 0, fresh_mean = 0;
    for (std::uint64_t seed = 1; seed <= 100; ++seed) {
      const double cell = run(alpha, seed, 16, 256, 0);
      EXPECT_GE(cell, 0.97) << "alpha " << alpha << " seed " << seed;
      cell_mean += cell / 100;
    }
    for (std::uint64_t seed = 1; seed <= 200; ++seed) fresh_mean += run(alpha, seed, 0, 0, 250) / 200;
    EXPECT_GE(cell_mean, 0.98) << "alpha " << alpha;
    EXPECT_GE(fresh_mean, 0.96) << "alpha " << alpha;
  }
}

// A drifting load (issue 14: the 151k pair at T = 0.7). On a shared machine every step's time drifts
// with the load, here a log-load that wanders about ±25% over tens of steps (a mean-reverting walk),
// while the lengths are timed at different moments. A pair where drafting pays modestly (acceptance
// 0.56; γ = 1 costs 1.26 target-only steps and pays 1.24x, γ = 2 1.60 and 1.16x), sixteen generations
// of 256 tokens per seed, as one matrix cell: the steps the controller takes, judged at their true
// cost, must reach 97% of the best static rate on average over 20 seeds, and drafting must not stop on
// more than 10% of the steps. Compared raw (before the load model), a length timed at a quiet moment
// looked cheap and one timed at a busy moment dear: drafting stopped on 15-20% of the steps and the
// steps taken reached 0.94-0.95 of the best rate (real runs: 16-31% of the steps, 0.93-0.95).
TEST(draft_test, adaptive_controller_prices_lengths_under_a_drifting_load) {
  const double cost[] = {1.0, 1.26, 1.60, 1.95, 2.12, 2.35, 2.7, 3.0, 3.3, 3.6, 3.9, 4.2, 4.5};
  constexpr double kAlpha = 0.56;
  auto rate = [&](std::size_t g) { return uag::expected_tokens_per_pass(kAlpha, g) / cost[g]; };
  const std::size_t best = best_length(rate, 12);
  ASSERT_EQ(best, 1u);
  ASSERT_GT(rate(1), 1.2 * rate(0));
  double realized = 0, off = 0;
  constexpr int kSeeds = 20;
  for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
    auto c = adaptive_controller(5, 12);
    uag::rng r(seed);
    double log_load = 0, time = 0, tokens = 0, steps = 0, off_steps = 0;
    for (int gen = 0; gen < 16; ++gen) {
      c.restart();
      for (int made = 0; made < 256;) {
        const std::size_t g = std::min<std::size_t>(c.next(), 255 - made);
        const std::size_t acc = geometric_accepts(r, kAlpha, g);
        log_load = 0.98 * log_load + 0.087 * (2.0 * r.uniform() - 1.0);  // step sd 0.05
        const double t = cost[g] * std::exp(log_load);
        c.update(g, acc, acc < g, g ? 0.1 * t / static_cast<double>(g) : 0.0, 0.9 * t, t, g);
        made += static_cast<int>(acc) + 1;
        time += cost[g], tokens += uag::expected_tokens_per_pass(kAlpha, g);  // γ is what is judged
        steps += 1, off_steps += g == 0;
      }
    }
    realized += tokens / time / rate(best) / kSeeds;
    off += off_steps / steps / kSeeds;
  }
  EXPECT_GE(realized, 0.97);
  EXPECT_LE(off, 0.10);
}

// Near break-even, a stop must persist (issue 14: the weak pair). A pair that pays at γ = 1 in every
// stretch of its text, a little (acceptance 0.35: 1.04x) or more (0.45: 1.12x), stretches of ~50 steps,
// step times ±15%: a run of rejections in an easy stretch predicts target-only a few % ahead, and a
// controller that stops on it pays the stop, the probes and the resume gain. Sixteen generations of 256
// tokens per seed (one matrix cell), 40 seeds, γ judged at its stretch's true rate: the steps must reach
// 98.3% of the best static rate and drafting be off on at most 14% of them; with one step in ten also
// descheduled (2.2x), 97.2% and 20%. Over five sets of 40 seeds (seeds 1-200), quiet / descheduled:
// - a fixed persistence (a lead of 2-6% held for 6 decisions, more at once; sessions 30-42): 0.983-0.985
//   and 16-18% off / 0.965-0.968 and 33-37% off (before any persistence: 0.976-0.979, 27-31% off, quiet);
// - a persistence of 0.6 / lead decisions alone: 0.985-0.986, 12-13% / 0.970-0.973, 21-25%;
// - the drafting lengths' timings relaxed towards their levels while off, alone: 0.982-0.985, 15-18% /
//   0.972-0.974, 24-25%;
// - both (now): 0.985-0.987, 11-12% / 0.974-0.977, 15-18%.
TEST(draft_test, adaptive_controller_does_not_stop_on_a_near_tie) {
  constexpr double kEasy = 0.45, kHard = 0.35;
  auto cost = [](std::size_t g) {
    const double gd = static_cast<double>(g);
    return g == 0 ? 1.0 : 1.0 + 0.1 * gd + 0.05 + 0.15 * gd;  // target pass + the draft's steps
  };
  auto tokens = [&](std::size_t g) {
    return 0.5 * uag::expected_tokens_per_pass(kEasy, g) + 0.5 * uag::expected_tokens_per_pass(kHard, g);
  };
  auto rate = [&](std::size_t g) { return tokens(g) / cost(g); };
  const std::size_t best = best_length(rate, 12);
  ASSERT_EQ(best, 1u);
  ASSERT_GT(uag::expected_tokens_per_pass(kHard, 1) / cost(1), 1.03);  // drafting pays in either stretch
  ASSERT_LT(rate(1), 1.1);                                              // ... but little
  for (const double descheduled : {0.0, 0.1}) {
    double realized = 0, off = 0;
    constexpr int kSeeds = 40;
    for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
      auto c = adaptive_controller(5, 12);
      uag::rng r(seed);
      bool easy = true;
      double time = 0, made_tokens = 0, steps = 0, off_steps = 0;
      for (int gen = 0; gen < 16; ++gen) {
        c.restart();
        for (int made = 0; made < 256;) {
          if (r.uniform() < 0.02) easy = !easy;
          const double alpha = easy ? kEasy : kHard;
          const std::size_t g = std::min<std::size_t>(c.next(), 255 - made);
          const std::size_t acc = geometric_accepts(r, alpha, g);
          double load = 0.85 + 0.3 * r.uniform();
          if (descheduled > 0.0 && r.uniform() < descheduled) load *= 2.2;
          const double gd = static_cast<double>(g);
          const double target = load * (1.0 + 0.1 * gd), draft = g ? load * (0.05 + 0.15 * gd) : 0.0;
          c.update(g, acc, acc < g, g ? draft / gd : 0.0, target, target + draft, g);
          made += static_cast<int>(acc) + 1;
          time += cost(g), made_tokens += uag::expected_tokens_per_pass(alpha, g);
          steps += 1, off_steps += g == 0;
        }
      }
      realized += made_tokens / time / rate(best) / kSeeds;
      off += off_steps / steps / kSeeds;
    }
    EXPECT_GE(realized, descheduled > 0.0 ? 0.972 : 0.983) << "descheduled " << descheduled;
    EXPECT_LE(off, descheduled > 0.0 ? 0.20 : 0.14) << "descheduled " << descheduled;
  }
}

// A weak pair's longer draft must not win on a lucky timing (issue 14). The weak pair's Python ~100
// costs (target-only 1, γ = 1 1.17, γ = 2 1.37, then ~0.2 a length) with a first candidate right a third
// of the time and the second, after it, 45% (so γ = 1 pays 1.14x and γ = 2 1.05x), step times ±10%
// (log-normal) and one in twenty descheduled (2.2x). γ = 2 is timed by the periodic probes alone, and its
// lower envelope drops 30% of the way at one fast sample: the controller chose γ = 2 on 15-16% of its
// drafting steps and made 0.981 of γ = 1's rate (seeds 1-40, 101-140, 201-240; simulate_controller
// --diagnose on the recorded cell: a quarter, γ = 2 priced at 0.92 of its cost). A move up on a weak pair
// now needs the lengths' symmetric levels to agree: 2% and 0.989 on the same seed sets. Sixteen
// generations of 256 tokens per seed, 40 seeds, γ judged at its true rate.
TEST(draft_test, adaptive_controller_does_not_lengthen_a_weak_pairs_draft_on_a_lucky_timing) {
  const double cost[] = {1.0, 1.17, 1.37, 1.57, 1.96, 2.16, 2.36, 2.56, 2.76, 2.96, 3.16, 3.36, 3.56};
  constexpr double kFirst = 0.33, kNext = 0.45;
  auto tokens = [&](std::size_t g) {
    double e = 1.0, reach = 1.0;
    for (std::size_t i = 0; i < g; ++i) reach *= i == 0 ? kFirst : kNext, e += reach;
    return e;
  };
  auto rate = [&](std::size_t g) { return tokens(g) / cost[g]; };
  ASSERT_EQ(best_length(rate, 12), 1u);
  ASSERT_GT(rate(1), 1.12 * rate(0));
  ASSERT_LT(rate(2), 0.95 * rate(1));
  constexpr int kSeeds = 40;
  double realized = 0, longer = 0;
  for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
    auto c = adaptive_controller(5, 12);
    uag::rng r(seed);
    double time = 0, made_tokens = 0, drafting = 0, at_longer = 0;
    for (int gen = 0; gen < 16; ++gen) {
      c.restart();
      for (int made = 0; made < 256;) {
        const std::size_t g = std::min<std::size_t>(c.next(), 255 - made);
        const std::size_t acc = two_rate_accepts(r, kFirst, kNext, g);
        // ±10% log-normal (Box-Muller), one step in twenty descheduled
        const double u1 = std::max(1e-12, r.uniform()), u2 = r.uniform();
        double load = std::exp(0.1 * std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2));
        if (r.uniform() < 0.05) load *= 2.2;
        const double t = cost[g] * load, gd = static_cast<double>(g);
        c.update(g, acc, acc < g, g ? 0.1 * t / gd : 0.0, g ? 0.9 * t : t, t, g);
        made += static_cast<int>(acc) + 1;
        time += cost[g], made_tokens += tokens(g);
        if (c.choice() > 0) drafting += 1, at_longer += c.choice() >= 2;
      }
    }
    realized += made_tokens / time / rate(1) / kSeeds;
    longer += at_longer / std::max(1.0, drafting) / kSeeds;
  }
  std::printf("weak pair, lucky timings: %.4f of gamma = 1's rate, choice >= 2 on %.3f of drafting steps\n", realized,
              longer);
  EXPECT_GE(realized, 0.985);  // before: 0.981
  EXPECT_LE(longer, 0.06);     // before: 0.160
}

// A weak pair opens the next text at γ = 1, not at the longer draft an easy stretch at the end of the
// last one took it to (weak pair, C ~500: three prompts opened with 25-50 steps of γ = 2 whose second
// candidate was never right). A good pair keeps its choice across restart().
TEST(draft_test, adaptive_controller_opens_a_weak_pairs_next_text_at_one_token) {
  const double cost[] = {1.0, 1.17, 1.37, 1.57, 1.77, 1.97, 2.17, 2.37, 2.57, 2.77, 2.97, 3.17, 3.37};
  auto run = [&](uag::draft_length_controller& c, uag::rng& r, int steps, double first, double next) {
    for (int s = 0; s < steps; ++s) {
      const std::size_t g = c.next();
      const std::size_t acc = two_rate_accepts(r, first, next, g);
      const double t = cost[g] * (0.95 + 0.1 * r.uniform()), gd = static_cast<double>(g);
      c.update(g, acc, acc < g, g ? 0.1 * t / gd : 0.0, g ? 0.9 * t : t, t, g);
    }
  };
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    // Weak: a long record of a third of first candidates right, then an easy stretch.
    auto weak = adaptive_controller(5, 12);
    uag::rng r(seed);
    run(weak, r, 1500, 0.33, 0.45);
    run(weak, r, 60, 0.95, 0.95);
    ASSERT_GE(weak.choice(), 2u) << "seed " << seed;  // the easy stretch took it past one token
    weak.restart();
    EXPECT_EQ(weak.next(), 1u) << "seed " << seed;
    EXPECT_EQ(weak.choice(), 1u) << "seed " << seed;
    // Good: the same stretch on a pair whose record is good keeps its length.
    auto good = adaptive_controller(5, 12);
    uag::rng q(seed);
    run(good, q, 600, 0.8, 0.8);
    run(good, q, 60, 0.95, 0.95);
    const std::size_t before = good.choice();
    ASSERT_GE(before, 2u);
    good.restart();
    EXPECT_EQ(good.choice(), before) << "seed " << seed;
  }
}

// Exploration has a price: a probe of a neighbouring length costs that length's deficit. Settled at
// γ = 1 on the 151k pair's costs (acceptance 0.56: γ = 1 pays 1.24x, γ = 0 is 19% behind, γ = 2 5%),
// the controller must not keep timing target-only every 16th step: a settled neighbour that clearly
// loses is probed at a quarter of the rate. (Before: 6-7% of the settled steps were target-only.)
TEST(draft_test, adaptive_controller_probes_a_clearly_losing_neighbour_rarely) {
  const double cost[] = {1.0, 1.26, 1.60, 1.95, 2.12, 2.35, 2.7, 3.0, 3.3, 3.6, 3.9, 4.2, 4.5};
  constexpr double kAlpha = 0.56;
  auto rate = [&](std::size_t g) { return uag::expected_tokens_per_pass(kAlpha, g) / cost[g]; };
  ASSERT_EQ(best_length(rate, 12), 1u);
  ASSERT_LT(rate(0), 0.85 * rate(1));
  ASSERT_GT(rate(2), 0.9 * rate(1));  // close: still worth timing as often as before
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    auto c = adaptive_controller(5, 12);
    uag::rng r(seed);
    std::size_t settled = 0, off = 0, at_two = 0;
    simulate(
        c, 2000, [&](std::size_t g) { return geometric_accepts(r, kAlpha, g); },
        [&](std::size_t g) { return cost[g] * (0.97 + 0.06 * r.uniform()); },
        [&](int s, std::size_t g) {
          if (s < 500) return;
          ++settled, off += g == 0, at_two += g == 2;
        });
    EXPECT_LE(off, settled / 25) << "seed " << seed;      // <= 4% target-only steps (was 7%)
    EXPECT_GE(at_two, settled / 32) << "seed " << seed;   // the close neighbour is still probed
  }
}

// Where one more candidate would cost a second row tile (the bundled target's step times with bfloat16
// products, ms: γ = 7 4.42, γ = 8 6.22), the longer neighbour cannot win even if its extra candidate were
// always accepted, and probing it every 16 steps is pure loss (~1.3% of the time on the bundled pair's
// Python ~500 cell, simulated). Once settled it is probed at a quarter of the rate; the choice and its
// rate are unchanged. (Before: 4.9-5.7% of the settled steps at γ = 8, now 1.3-1.5%; the bound is 2.5%.)
TEST(draft_test, adaptive_controller_rarely_probes_a_length_that_cannot_pay) {
  const double cost[] = {2.548, 2.889, 3.138, 3.723, 3.794, 3.795, 4.080, 4.424, 6.219, 6.266, 6.824, 6.773, 7.375};
  constexpr double kAlpha = 0.9;
  auto rate = [&](std::size_t g) { return uag::expected_tokens_per_pass(kAlpha, g) / cost[g]; };
  const std::size_t best = best_length(rate, 12);
  ASSERT_EQ(best, 7u);
  ASSERT_LT((uag::expected_tokens_per_pass(kAlpha, 7) + 1.0) / cost[8], rate(7));  // 8 cannot pay
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    auto c = adaptive_controller(5, 12);
    uag::rng r(seed);
    std::size_t settled = 0, past_tile = 0;
    double time = 0, tokens = 0;
    simulate(
        c, 2000, [&](std::size_t g) { return geometric_accepts(r, kAlpha, g); },
        [&](std::size_t g) { return 1e-3 * cost[g] * (0.97 + 0.06 * r.uniform()); },
        [&](int s, std::size_t g) {
          if (s < 500) return;
          ++settled, past_tile += g >= 8;
          time += cost[g], tokens += uag::expected_tokens_per_pass(kAlpha, g);
        });
    EXPECT_LE(past_tile, settled / 40) << "seed " << seed;
    EXPECT_GE(tokens / time, 0.97 * rate(best)) << "seed " << seed;
  }
}

// Where only γ = 1 pays (acceptance 0.5, every drafted token costs 0.3 of a pass), the controller must
// settle there and keep the gain: ≥ 97% of the best static rate, not fall back to target-only.
TEST(draft_test, adaptive_controller_settles_at_one_token_where_only_that_pays) {
  for (std::uint64_t seed : {4u, 5u}) {
    auto c = adaptive_controller(5, 12);
    uag::rng r(seed);
    auto step_time = [](std::size_t g) { return g == 0 ? 1.0 : 1.1 + 0.3 * static_cast<double>(g); };
    auto rate = [&](std::size_t g) { return uag::expected_tokens_per_pass(0.5, g) / step_time(g); };
    ASSERT_EQ(best_length(rate, 12), 1u);
    ASSERT_GT(rate(1), 1.05 * rate(0));
    double time = 0, tokens = 0;
    std::size_t at_one = 0;
    simulate(
        c, 1500, [&](std::size_t g) { return geometric_accepts(r, 0.5, g); }, step_time,
        [&](int s, std::size_t g) {
          if (s < 500) return;
          at_one += g == 1;
          time += step_time(g);
          tokens += uag::expected_tokens_per_pass(0.5, g);  // the expectation: γ is what is judged
        });
    EXPECT_GE(tokens / time, 0.97 * rate(1)) << "seed " << seed;
    EXPECT_GT(at_one, 750u) << "seed " << seed;
  }
}

// The lean draft path: a windowed runner feeds only recent ids (prefill: the last max_tokens / 2; a
// gap longer than max_catch_up: the last max_catch_up), never holds more than the window, and computes
// one logits row per drafted token: catch-up and prefill rows compute none.
TEST(draft_test, windowed_runner_bounds_the_cache_and_catch_up_computes_no_logits) {
  test_tokenizer tok;
  counting_model m(tok, {.seed = 4, .max_context = 64});
  uag::draft_model_runner<counting_model> runner(m, {}, {.max_tokens = 16, .max_catch_up = 4});
  token_vector ctx;
  for (int i = 0; i < 40; ++i) ctx.push_back(static_cast<uag::token_id>(2 + i % 7));
  runner.prefill(ctx);
  EXPECT_EQ(m.rows_fed(), 8u);  // the last 16 / 2 ids, not 40
  EXPECT_EQ(m.logit_rows(), 1u);
  EXPECT_EQ(runner.window_start(), 32u);
  token_vector out;
  runner.draft(3, {}, out, nullptr);
  EXPECT_EQ(m.logit_rows(), 3u);  // the prefill's row served the first drafted token
  // The model depends on the last 3 ids only, so a windowed draft equals a draft over the whole text.
  test_model whole(tok, {.seed = 4, .max_context = 64});
  uag::draft_model_runner<test_model> reference(whole, {});
  reference.sync(ctx);
  token_vector expected;
  reference.draft(3, {}, expected, nullptr);
  EXPECT_EQ(out, expected);
  // Commit the first drafted id and 6 more (the draft sat out): a gap > 4 restarts from the last 4.
  ctx.push_back(out[0]);
  for (int i = 0; i < 6; ++i) ctx.push_back(static_cast<uag::token_id>(3 + i % 5));
  const std::size_t fed = m.rows_fed(), rows = m.logit_rows();
  runner.sync(ctx);
  out.clear();
  runner.draft(2, {}, out, nullptr);
  EXPECT_EQ(m.rows_fed() - fed, 4u + 1u);  // 4 recent ids, then the first drafted one
  EXPECT_EQ(m.logit_rows() - rows, 2u);
  // Growing past the window restarts from its last half; the cache never exceeds the window + draft.
  for (int step = 0; step < 30; ++step) {
    ctx.push_back(out.empty() ? 5 : out[0]);
    out.clear();
    runner.sync(ctx);
    runner.draft(2, {}, out, nullptr);
  }
  EXPECT_LE(m.max_cached(), 16u + 2u);
  EXPECT_GT(runner.window_start(), 32u);
  // A new text longer than the window (a probe at the next prompt, the draft having sat it out): the
  // gap, not the window, decides where the cache restarts: the last 4 ids, not the last 16 / 2.
  token_vector next;
  for (int i = 0; i < 30; ++i) next.push_back(static_cast<uag::token_id>(2 + (i * 5) % 11));
  const std::size_t fed_before = m.rows_fed();
  runner.sync(next);
  out.clear();
  runner.draft(1, {}, out, nullptr);
  EXPECT_EQ(m.rows_fed() - fed_before, 4u);
  EXPECT_EQ(runner.window_start(), 26u);
}

// A catch-up may check the draft on the ids it feeds (draft_options::check_rows): the last k of them get
// logits, and each row's argmax is compared with the id that follows. The count must equal a reference
// that drafts one token after each prefix, and only k + 1 rows of the catch-up compute logits.
TEST(draft_test, runner_checks_its_own_choices_on_the_last_catch_up_rows) {
  test_tokenizer tok;
  counting_model m(tok, {.seed = 6, .max_context = 128});
  test_model ref_model(tok, {.seed = 6, .max_context = 128});
  uag::draft_model_runner<counting_model> runner(m, {});
  token_vector ctx;
  for (int i = 0; i < 10; ++i) ctx.push_back(static_cast<uag::token_id>(2 + (i * 3) % 7));
  runner.prefill(ctx);
  token_vector out;
  runner.draft(1, {}, out, nullptr);
  // The text goes on without the draft: mostly the draft's own greedy continuation, two ids changed.
  const auto next_choice = [&](const token_vector& prefix) {
    uag::draft_model_runner<test_model> r(ref_model, {});
    r.sync(prefix);
    token_vector one;
    r.draft(1, {}, one, nullptr);
    return one.at(0);
  };
  ctx.push_back(out[0]);
  for (int i = 0; i < 14; ++i) {
    uag::token_id t = next_choice(ctx);
    if (i == 5 || i == 10) t = static_cast<uag::token_id>(2 + (t + 1) % 9);
    ctx.push_back(t);
  }
  constexpr std::size_t k = 8;
  std::size_t expected = 0;
  for (std::size_t i = ctx.size() - k; i < ctx.size(); ++i)
    expected +=
        next_choice(token_vector(ctx.begin(), ctx.begin() + static_cast<std::ptrdiff_t>(i))) == ctx[i];
  ASSERT_GT(expected, 0u);
  ASSERT_LT(expected, k);  // the changed ids and what follows them disagree
  runner.sync(ctx);
  const std::size_t rows = m.logit_rows();
  out.clear();
  uag::draft_options opt;
  opt.check_rows = k;
  runner.draft(2, opt, out, nullptr);
  EXPECT_EQ(runner.rows_checked(), k);
  EXPECT_EQ(runner.rows_agreed(), expected);
  EXPECT_EQ(m.logit_rows() - rows, k + 1 + 1);  // k checked rows, the last row, the second drafted token
  // The drafted ids are those of a draft that checked nothing.
  token_vector plain;
  uag::draft_model_runner<test_model> reference(ref_model, {});
  reference.sync(ctx);
  reference.draft(2, {}, plain, nullptr);
  EXPECT_EQ(out, plain);
  // A step without a catch-up checks nothing, whatever it asks.
  ctx.push_back(out[0]);
  runner.sync(ctx);
  out.clear();
  runner.draft(1, opt, out, nullptr);
  EXPECT_EQ(runner.rows_checked(), k);
}

// Sampled, a checked catch-up row scores min(1, q(id) / p) of the token the target committed after the
// same text (draft_options::check_at): the chance that a draw from q would have been accepted there.
// Scored against q rows of a fresh draft at each prefix. A row with no target token there, or no p, is
// not checked; a token the draft cannot propose is checked and scores 0. The check leaves the draws alone.
TEST(draft_test, runner_scores_a_sampled_catch_up_by_how_a_draw_from_q_would_fare) {
  test_tokenizer tok;
  const uag::sampling_config sampling{.temperature = 0.7f};
  counting_model m(tok, {.seed = 6, .max_context = 128});
  test_model ref_model(tok, {.seed = 6, .max_context = 128});
  token_vector ctx;
  for (int i = 0; i < 24; ++i) ctx.push_back(static_cast<uag::token_id>(2 + (i * 5) % 11));
  const auto q_after = [&](std::size_t len) {  // q of the next id after ctx[0, len)
    uag::draft_model_runner<test_model> r(ref_model, sampling);
    r.sync(token_span(ctx).first(len));
    uag::rng random(5);
    uag::draft_options o;
    o.sample = true;
    o.random = &random;
    token_vector one;
    std::vector<float> q;
    r.draft(1, o, one, &q);
    return q;
  };
  // The points of the last six ids, from the sixth last on; two more in front are outside the check.
  using uag::check_point;
  const std::vector<check_point> at{
      {ctx[10], 0.5f},  {ctx[11], 0.5f}, {ctx[18], 0.5f}, {}, {check_point::unreachable, 0.2f},
      {ctx[21], 1e-4f}, {7, 0.1f},       {ctx[23], 0.9f}};
  constexpr std::size_t k = 6;
  double expected = 0.0;
  std::size_t checked = 0;
  for (std::size_t back = k; back > 0; --back) {
    const check_point c = at[at.size() - back];
    if (c.id == check_point::unknown) continue;
    ++checked;
    if (c.id < 0) continue;
    const std::vector<float> q = q_after(ctx.size() - back);
    expected += std::min(1.0, static_cast<double>(q.at(static_cast<std::size_t>(c.id))) / c.p);
  }
  ASSERT_EQ(checked, 5u);
  ASSERT_GT(expected, 0.3);
  ASSERT_LT(expected, 3.7);  // neither all 0 nor all 1 (1e-4 scores 1; the unreachable one 0)
  uag::draft_model_runner<counting_model> runner(m, sampling);
  runner.prefill(token_span(ctx).first(10));
  runner.sync(ctx);
  uag::rng random(9), same(9);
  uag::draft_options opt;
  opt.sample = true;
  opt.random = &random;
  opt.check_rows = k;
  opt.check_at = at;
  token_vector out;
  runner.draft(2, opt, out, nullptr);
  EXPECT_EQ(runner.rows_checked(), checked);
  EXPECT_NEAR(runner.rows_agreed(), expected, 1e-5);
  // The drafted ids are those of a draft that checked nothing.
  uag::draft_model_runner<test_model> reference(ref_model, sampling);
  reference.sync(ctx);
  uag::draft_options plain_opt;
  plain_opt.sample = true;
  plain_opt.random = &same;
  token_vector plain;
  reference.draft(2, plain_opt, plain, nullptr);
  EXPECT_EQ(out, plain);
  // Fewer points than rows asked: only the rows that have one are computed and checked.
  const std::size_t rows = m.logit_rows();
  ctx.insert(ctx.end(), {out[0], 3, 4, 5});  // the second drafted id rejected; three ids to catch up on
  runner.sync(ctx);
  const std::vector<check_point> one{{5, 0.25f}};
  opt.check_rows = 2;
  opt.check_at = one;
  out.clear();
  runner.draft(1, opt, out, nullptr);
  EXPECT_EQ(runner.rows_checked(), checked + 1);
  EXPECT_EQ(m.logit_rows() - rows, 2u);  // the checked row and the last
}

// A draft model that returns the wrong logits for a checked catch-up (one row too many, or a row too
// narrow) gets the typed [uag.model.logits_shape], naming the rows the check expected, not a misread row.
TEST(draft_test, runner_rejects_bad_logits_on_a_checked_catch_up) {
  test_tokenizer tok;
  for (const auto fault : {test_model::fault::wrong_rows, test_model::fault::wrong_cols}) {
    test_model m(tok, {.seed = 6, .max_context = 64});
    uag::draft_model_runner<test_model> runner(m, {});
    token_vector ctx{2, 3, 4, 5};
    runner.prefill(ctx);
    for (int i = 0; i < 8; ++i) ctx.push_back(static_cast<uag::token_id>(2 + i % 5));
    runner.sync(ctx);
    m.set_fault(fault);
    uag::draft_options opt;
    opt.check_rows = 4;
    token_vector out;
    try {
      runner.draft(1, opt, out, nullptr);
      ADD_FAILURE() << "expected uag.model.logits_shape";
    } catch (const uag::model_error& e) {
      EXPECT_EQ(e.id(), "uag.model.logits_shape") << e.what();
      EXPECT_NE(std::string(e.what()).find("expected 5x"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(out.empty());
  }
}

// The adaptive controller asks a catch-up to check its draft, greedy or sampled (the draft weighs q
// against the target's p there); a constant draft length has no use for the check.
TEST(draft_test, only_the_adaptive_controller_asks_for_a_catch_up_check) {
  for (const float temperature : {0.0f, 0.7f}) {
    uag::generation_config cfg;
    cfg.sampling.temperature = temperature;
    cfg.draft_policy = uag::draft_length_policy::adaptive;
    EXPECT_EQ(uag::draft_length_controller(cfg).catch_up_check_rows(), 16u) << temperature;
    cfg.draft_policy = uag::draft_length_policy::constant;
    EXPECT_EQ(uag::draft_length_controller(cfg).catch_up_check_rows(), 0u) << temperature;
  }
}

// While drafting is off, a probe tests one candidate: on a weak pair a coin that comes up 20-40% of the
// time. The catch-up before it can check the draft on every token committed meanwhile
// (note_catch_up_agreement): a controller switched off by a stretch the draft could not predict, whose
// probes then all miss, must come back when its catch-ups say the draft agrees with the text again
// (12 of 16), and stay off when they say it does not (2 of 16).
TEST(draft_test, adaptive_controller_resumes_on_the_catch_ups_agreement) {
  auto step_time = [](std::size_t g) { return g == 0 ? 1.0 : 1.1 + 0.25 * static_cast<double>(g); };
  // A sampled check's score is fractional (a sum of min(1, q/p)): 11.6 of 16 counts as 12 does.
  for (const double agreed : {12.0, 11.6, 2.0}) {
    SCOPED_TRACE(agreed);
    auto c = adaptive_controller(3, 12);
    std::size_t off_streak = 0, drafting_after = 0;
    for (int s = 0; s < 600; ++s) {
      const std::size_t g = c.next();
      if (s >= 200 && g > 0 && off_streak >= 2) c.note_catch_up_agreement(16, agreed);
      c.update(g, 0, g > 0, g ? 0.1 : 0.0, 1.0, step_time(g) + (g > 0 && off_streak >= 2 ? 0.4 : 0.0));
      off_streak = g == 0 ? off_streak + 1 : 0;
      if (s >= 200) drafting_after += c.choice() > 0;
    }
    if (agreed > 10.0)
      EXPECT_GT(drafting_after, 0u);
    else
      EXPECT_EQ(drafting_after, 0u);
  }
}

// A good pair (acceptance 0.7 or 0.8) whose text opens unpredictably (every candidate of the first 30
// steps is rejected), as the 151k target's C ~800 prompts did over the bundled draft, and whose probes
// from "off" cost what they cost there: the draft's catch-up and a target pass on caches it evicted
// (a probe step 3.1 target-only steps, a steady γ = 1 step 1.35). Over 600 steps the controller must
// reach 78% of the best static rate on average over 30 seeds (the opening alone costs ~12%). Before:
// probes were timed, with their draft time replaced by the steady one, which left the evicted caches
// in: γ = 1 looked 2.0x a target-only step (1.35x steady) and never paid; and a probe was charged its
// whole time over a target-only step, so the 1.5% budget allowed one per ~140 steps (mean 0.65, 0.70).
TEST(draft_test, adaptive_controller_returns_after_an_unpredictable_opening) {
  for (double alpha : {0.7, 0.8}) {
    double sum = 0;
    for (std::uint64_t seed = 1; seed <= 30; ++seed) {
      auto c = adaptive_controller(5, 12);
      uag::rng r(seed);
      std::size_t off_streak = 0;
      double time = 0, tokens = 0;
      for (int s = 0; s < 600; ++s) {
        const std::size_t g = c.next();
        const double gd = static_cast<double>(g);
        const bool catch_up = g > 0 && off_streak >= 2;
        const double draft = g ? 0.15 + 0.1 * gd + (catch_up ? 1.1 : 0.0) : 0.0;
        const double target = 1.0 + 0.1 * gd + (catch_up ? 0.3 : 0.0);
        const double t = target + draft + (catch_up ? 0.35 : 0.0);
        const std::size_t acc = s < 30 ? 0 : geometric_accepts(r, alpha, g);
        c.update(g, acc, acc < g, g ? draft / gd : 0.0, target, t);
        off_streak = g == 0 ? off_streak + 1 : 0;
        time += t, tokens += static_cast<double>(acc + 1);
      }
      auto rate = [&](std::size_t g) {
        return uag::expected_tokens_per_pass(alpha, g) / (1.15 + 0.2 * static_cast<double>(g));
      };
      sum += tokens / time / rate(best_length(rate, 12));
    }
    EXPECT_GE(sum / 30, 0.78) << "alpha " << alpha;
  }
}

// A new prompt is new text: what the draft did on the last one is a prior, not evidence. Four prompts
// of 100 steps on which the draft is good (acceptance 0.8), then one it cannot predict at all (every
// candidate rejected, as on a Python prompt at T = 0.7 with the 151k target: 70 drafting steps in a row
// without an accepted candidate). Before, restart() kept the survival curve at full weight (~100 steps of
// memory) and the controller drafted on 90-97 of the bad prompt's 100 steps (0.54-0.58x of target-only);
// now it carries the curve over with the weight α has (0.3) and must stop within 45 steps.
TEST(draft_test, adaptive_controller_weighs_the_last_prompt_as_a_prior) {
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    auto c = adaptive_controller(5, 12);
    uag::rng r(seed);
    std::size_t drafting = 0;
    double time = 0, tokens = 0;
    for (int prompt = 0; prompt < 5; ++prompt) {
      if (prompt > 0) c.restart();
      const double alpha = prompt < 4 ? 0.8 : 0.0;
      for (int s = 0; s < 100; ++s) {
        const std::size_t g = c.next();
        const double t = g ? 1.15 + 0.2 * static_cast<double>(g) : 1.0;
        const std::size_t acc = geometric_accepts(r, alpha, g);
        c.update(g, acc, acc < g, g ? 0.1 : 0.0, 1.0, t);
        if (prompt == 4) drafting += g > 0, time += t, tokens += static_cast<double>(acc + 1);
      }
    }
    EXPECT_LE(drafting, 45u) << "seed " << seed;
    EXPECT_GE(tokens / time, 0.75) << "seed " << seed;
  }
}

// A good pair whose first two drafts are rejected outright, as the bundled pair's were on licence prose
// and the 151k target's on Python ~1,200 (the matrix: 1.18x where γ = 3 gave 1.55x; 1.07x where γ = 2
// gave 1.36x). While drafting is off, every step must be target-only or a one-token probe, and over
// 600 steps, warm-up included, every seed must reach 90% of the best static rate. Before: (1) a probe
// that was right raised α above 0.5, which changed the warm-up's list of lengths to time, and the next
// step was forced to an untimed longer draft which, unless right on every candidate, counted as a
// failed probe and doubled the back-off; (2) two rejections were enough to switch drafting off, and
// probes one token at a time, 4-64 steps apart, took long to bring it back (α = 0.65: worst seed 0.87).
TEST(draft_test, adaptive_controller_recovers_from_an_unlucky_warm_up) {
  for (double alpha : {0.8, 0.65}) {
    for (std::uint64_t seed = 1; seed <= 30; ++seed) {
      auto c = adaptive_controller(5, 12);
      uag::rng r(seed);
      std::size_t off_streak = 0, drafting_steps = 0, forced = 0;
      bool was_off = false;
      // Target pass 1.0 + 0.2 per candidate (a γ = 1 step costs 1.35 target-only steps, as measured);
      // the draft 0.15 per candidate, + 0.4 of catch-up after an off streak.
      auto draft_time = [&](std::size_t g) {
        return g == 0 ? 0.0 : 0.15 * static_cast<double>(g) + (off_streak >= 2 ? 0.4 : 0.0);
      };
      double time = 0, tokens = 0;
      for (int s = 0; s < 600; ++s) {
        const std::size_t g = c.next();
        if (was_off && g > 1) ++forced;
        const std::size_t acc = g > 0 && drafting_steps++ < 2 ? 0 : geometric_accepts(r, alpha, g);
        const double t = 1.0 + 0.2 * static_cast<double>(g) + draft_time(g);
        c.update(g, acc, acc < g, g ? draft_time(g) / static_cast<double>(g) : 0.0, 1.0, t);
        off_streak = g == 0 ? off_streak + 1 : 0;
        was_off = c.choice() == 0;
        time += t, tokens += static_cast<double>(acc + 1);
      }
      auto rate = [&](std::size_t g) {
        return uag::expected_tokens_per_pass(alpha, g) / (1.0 + 0.35 * static_cast<double>(g));
      };
      const std::size_t best = best_length(rate, 12);
      EXPECT_EQ(forced, 0u) << "alpha " << alpha << " seed " << seed << ": drafts longer than a probe while off";
      EXPECT_GE(tokens / time, 0.9 * rate(best)) << "alpha " << alpha << " seed " << seed << " best " << best;
    }
  }
}

// A launch-bound GPU target (issue 14; H200, 18M-parameter target through llama.cpp's CUDA backend):
// the first two target-only passes after a multi-row verification are slow (the single-row graph is
// rebuilt: 953, 854, then 415 us; 1213, 1030, then 446 us), and the warm-up times γ = 0 exactly then.
// Kept as a running value (~2x the steady time), the stale figure made drafting at γ = 3 look 1.3-1.5x
// faster than target-only when it ran at 0.6-0.7x of it, for whole prompts. Here target-only takes 1.0
// once settled (2.5 for its first two steps after a drafting step); a drafting step 1.5 + 0.15 γ plus
// 0.6 per drafted token (α = 0.7: γ = 1 runs at 0.76 of target-only, longer drafts slower): γ = 0 is
// best, and the controller must settle there and run at ≥ 0.95 of target-only's rate.
TEST(draft_test, adaptive_controller_sheds_a_switching_transient) {
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    auto c = adaptive_controller(5, 12);
    uag::rng r(seed);
    std::size_t since_draft = 99;
    double time = 0, tokens = 0;
    for (int s = 0; s < 300; ++s) {
      const std::size_t g = c.next();
      const std::size_t acc = geometric_accepts(r, 0.7, g);
      const double gd = static_cast<double>(g);
      since_draft = g > 0 ? 0 : since_draft + 1;
      const double target = g > 0 ? 1.5 + 0.15 * gd : since_draft <= 2 ? 2.5 : 1.0, draft = 0.6 * gd;
      c.update(g, acc, acc < g, g ? draft / gd : 0.0, target, target + draft);
      if (s >= 100) time += target + draft, tokens += static_cast<double>(acc + 1);
    }
    EXPECT_GE(tokens / time, 0.95) << "seed " << seed << " chose " << c.choice();
    EXPECT_EQ(c.choice(), 0u) << "seed " << seed;
  }
}

// The first step of a process pays one-time costs (151k target: 54 ms where a step takes 2-3 ms: the
// weights' pages faulted in, buffers grown). Timed, it stood for its length for good (a length the
// choice never returns to is never re-timed) and, pooled into the monotone curve and the line, made
// every longer draft look 10x dearer: the controller drafted 9% of the steps where γ = 4 ran 1.5x
// target-only. Here γ = 4 is best (α = 0.8, a step 1 + 0.1 γ, target-only 1.0) and the first step takes
// 30x: the controller must still draft at ≥ 0.9 of the best rate once past its first prompt's opening.
TEST(draft_test, adaptive_controller_ignores_a_cold_first_step) {
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    auto c = adaptive_controller(5, 12);
    uag::rng r(seed);
    double time = 0, tokens = 0;
    auto step_time = [](std::size_t g) { return g > 0 ? 1.2 + 0.2 * static_cast<double>(g) : 1.0; };
    for (int s = 0; s < 300; ++s) {
      const std::size_t g = c.next();
      const std::size_t acc = s == 0 ? 0 : geometric_accepts(r, 0.8, g);
      const double t = step_time(g) * (s == 0 ? 30.0 : 1.0);
      c.update(g, acc, acc < g, 0.01, t, t);
      if (s >= 50) time += step_time(g), tokens += static_cast<double>(acc + 1);
    }
    auto rate = [&](std::size_t g) { return uag::expected_tokens_per_pass(0.8, g) / step_time(g); };
    const std::size_t best = best_length(rate, 12);
    EXPECT_GE(tokens / time, 0.9 * rate(best)) << "seed " << seed << " chose " << c.choice() << " best " << best;
  }
}

// A fresh controller whose warm-up ran while another process held a core (uag generate on the bundled
// pair, a 0.1-0.4 s busy loop started with it: 3 runs of 20 fell to 1.08-1.12 tokens per target pass,
// where 3.0-3.4 is usual; `uag generate --trace`). The demo prompt's opening is hard (its first drafting
// steps accepted 0, 3, 0, 1, 1 and 3 candidates), and every drafting length the warm-up timed was timed
// once, inside the burst, before γ = 0's three steps after it: drafting looked 2x dearer than it is and
// stopped for the rest of the generation. Here the first 6 steps take 2.2x, the opening is the trace's,
// then α = 0.75 (target-only 1.0, a step 1.05 + 0.3 γ: γ = 3 pays 1.4x). Over the 40 steps after the
// burst (a 128-token generation), the controller must still be drafting at the end on every seed and run
// at ≥ 0.9 of the best static rate on average over 20 seeds (before: off at the end on all 20, mean
// 0.78, where staying off all along would be 0.71; after: 0.95, worst seed 0.78).
TEST(draft_test, adaptive_controller_does_not_stop_on_a_warm_up_timed_in_a_burst) {
  const std::size_t opening[] = {0, 3, 0, 1, 1, 3};
  auto step_time = [](std::size_t g) { return g > 0 ? 1.05 + 0.3 * static_cast<double>(g) : 1.0; };
  auto rate = [&](std::size_t g) { return uag::expected_tokens_per_pass(0.75, g) / step_time(g); };
  const double best_rate = rate(best_length(rate, 12));
  double sum = 0;
  constexpr int seeds = 20;
  for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
    auto c = adaptive_controller(5, 12);
    uag::rng r(seed);
    std::size_t drafted = 0;
    double time = 0, tokens = 0;
    for (int s = 0; s < 46; ++s) {
      const std::size_t g = c.next();
      const std::size_t acc = g == 0 ? 0 : drafted < 6 ? std::min(g, opening[drafted]) : geometric_accepts(r, 0.75, g);
      drafted += g > 0;
      const double t = step_time(g) * (s < 6 ? 2.2 : 1.0);
      c.update(g, acc, acc < g, 0.25, t - 0.25 * static_cast<double>(g), t);
      if (s >= 6) time += step_time(g), tokens += static_cast<double>(acc + 1);
    }
    EXPECT_GT(c.choice(), 0u) << "seed " << seed << ": drafting off at the end";
    sum += tokens / time / best_rate;
  }
  EXPECT_GE(sum / seeds, 0.9);
}

// Each draft length's first step is slow (151k target, Python ~100: γ = 2's first step took 2.13 ms, its
// next ones ~1.8 ms, between γ = 1's 1.47 and γ = 5's 2.75: the first pass over a new number of rows).
// Kept as the running time, and re-timed only by a ±1 probe every 16 steps, it held the choice at γ = 1
// for 30-80 steps of a prompt where γ = 4-5 paid 1.5x. Here a pair like that one (easy and hard steps,
// the last candidate accepted less often, an opening whose first drafts were rejected, a step
// 1.15 + 0.32 γ against 1.25 target-only, each length's first step 1.2x): over 8 prompts of 128 tokens
// the controller must run at ≥ 0.9 of the best static rate on average over seeds (10 seeds: 0.887 before
// longer drafts with fewer than 4 timed steps were probed every 4 steps and their first steps' minimum
// kept; 0.908 after; 30 seeds, as now, since a 10-seed mean moves by ±0.5% with the seed draw: 0.914,
// and 0.912 with the shorter neighbour probed less), ≥ 0.75 on each (until session 42 0.8, which seeds
// 1-30 reach and 2 of 300 others do not, down to 0.78; the 30-seed mean over ten such draws 0.912-0.943).
TEST(draft_test, adaptive_controller_climbs_past_each_lengths_slow_first_step) {
  auto accepts = [](uag::rng& r, std::size_t g) {
    const double a = r.uniform() < 0.6 ? 0.95 : 0.55;
    std::size_t acc = 0;
    while (acc < g && r.uniform() < (acc + 1 == g ? 0.8 * a : a)) ++acc;
    return acc;
  };
  auto step_time = [](std::size_t g) { return g == 0 ? 1.25 : 1.15 + 0.32 * static_cast<double>(g); };
  double best = 1.0 / step_time(0);  // the best static rate, by Monte Carlo
  uag::rng mc(99);
  for (std::size_t g = 1; g <= 12; ++g) {
    double tokens = 0;
    for (int i = 0; i < 100000; ++i) tokens += static_cast<double>(accepts(mc, g) + 1);
    best = std::max(best, tokens / 100000 / step_time(g));
  }
  double sum = 0;
  const int seeds = 30;
  for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
    auto c = adaptive_controller(5, 12);
    uag::rng r(seed);
    bool timed[13] = {};
    double time = 0, tokens = 0;
    std::size_t drafted = 0;
    for (int prompt = 0; prompt < 8; ++prompt) {
      if (prompt > 0) c.restart();
      for (std::size_t made = 0; made < 128;) {
        const std::size_t g = c.next();
        const std::size_t acc = g == 0 ? 0 : drafted < 2 ? std::min<std::size_t>(g, 1 - drafted) : accepts(r, g);
        drafted += g > 0;
        const double t = step_time(g) * (timed[g] ? 1.0 : 1.2);
        timed[g] = true;
        c.update(g, acc, acc < g, 0.01, 1.0, t * (0.92 + 0.16 * r.uniform()));
        time += t, tokens += static_cast<double>(acc + 1), made += acc + 1;
      }
    }
    EXPECT_GE(tokens / time, 0.75 * best) << "seed " << seed << " chose " << c.choice();
    sum += tokens / time / best;
  }
  EXPECT_GE(sum / seeds, 0.9);
}

// A text-bridged pair: a candidate with another after it is accepted at `inner`, the step's last one at
// `last` (an open word piece); a step drafting γ tokens takes 1.1 + 0.35γ, target-only 1.
struct open_last_pair {
  double inner, last;
  std::size_t accepts(uag::rng& r, std::size_t g) const {
    std::size_t k = 0;
    while (k < g && r.uniform() < (k + 1 == g ? last : inner)) ++k;
    return k;
  }
  static double step_time(std::size_t g) { return g == 0 ? 1.0 : 1.1 + 0.35 * static_cast<double>(g); }
  double expected_tokens(std::size_t g) const {  // committed per step at a static γ
    double e = 1.0, p = 1.0;
    for (std::size_t k = 0; k < g; ++k) p *= k + 1 == g ? last : inner, e += p;
    return e;
  }
  double rate(std::size_t g) const { return expected_tokens(g) / step_time(g); }  // per unit of time
  double best_static_rate() const {
    return rate(best_length([this](std::size_t g) { return rate(g); }, 12));
  }
};

// A good pair over a text bridge whose lone last candidate is often a word piece the target writes as a
// longer token (151k target over the bundled draft: a candidate with another after it accepted 0.82-0.94
// of the time, the last one 0.62-0.79; here 0.85 and 0.7). After three ordinary prompts, the fourth opens
// with 40 steps the draft cannot predict at all, then turns ordinary again: over its last 200 steps,
// drafting must make >= 90% of the best static rate on average over 20 seeds (>= 70% in each; three
// one-token probes in a row can miss). Before, the curve that switched drafting off stayed frozen while
// off, so only probes could move it, and they see the last-candidate rate alone: 0.872 on average, 6 of
// 20 seeds under 85% (now 0.911, 1 seed).
TEST(draft_test, adaptive_controller_lets_a_hard_stretch_go_stale) {
  const open_last_pair pair{0.85, 0.7};
  const double best = pair.best_static_rate();
  for (bool open_last : {false, true}) {
    SCOPED_TRACE(open_last ? "last candidate open" : "last candidate pooled");
    double sum = 0;
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
      auto c = adaptive_controller(5, 12);
      c.set_last_candidate_open(open_last);
      uag::rng r(seed);
      std::size_t off_streak = 0;
      double time = 0, tokens = 0;
      for (int prompt = 0; prompt < 4; ++prompt) {
        if (prompt > 0) c.restart();
        for (int s = 0; s < 240; ++s) {
          const std::size_t g = c.next();
          const bool hard = prompt == 3 && s < 40;
          const std::size_t acc = hard ? 0 : pair.accepts(r, g);
          const double t = open_last_pair::step_time(g) + (g > 0 && off_streak >= 2 ? 0.4 : 0.0);  // + catch-up
          c.update(g, acc, acc < g, g ? 0.1 : 0.0, 1.0, t);
          off_streak = g == 0 ? off_streak + 1 : 0;
          if (prompt == 3 && s >= 40) time += t, tokens += static_cast<double>(acc + 1);
        }
      }
      EXPECT_GE(tokens / time, 0.7 * best) << "seed " << seed << " (best static " << best << ")";
      sum += tokens / time;
    }
    EXPECT_GE(sum / 20.0, 0.9 * best);
  }
}

// A weak pair that γ = 1 pays, over a text bridge (the weak draft on AVX2, Python ~500: target-only 2.86 ms
// a step, γ = 1 3.40 ms, γ = 2 4.47 ms, 1.34 tokens a pass at γ = 1: 1.13x), whose warm-up timed γ = 1
// once, in a transient (4.9 ms). Drafting stopped on a prompt the draft could not predict (6% accepted at
// γ = 1), on γ = 2's settled timing, and γ = 1 was never timed again: probes from "off" (two candidates)
// were judged against 4.9 ms and did not bring drafting back for the next five prompts, on which γ = 1
// paid 1.06-1.38x (0.94 of γ = 1 over the run). Here the first prompt's draft is right 5-6% of the time,
// the next four's 34-42%; the first γ = 1 step takes 1.6x its time, and a step after an off streak pays a
// catch-up. Over those four prompts, averaged over seeds, the controller must reach 0.95 of the static
// γ = 1 rate (before: 0.90, off through all four on 14 of 20 seeds, at 0.88; now 0.97).
TEST(draft_test, adaptive_controller_times_one_token_drafts_after_a_probe_that_was_right) {
  const open_last_pair pair{0.42, 0.34};  // over a text bridge: probes ask for two candidates
  auto step_time = [](std::size_t g) { return g == 0 ? 1.0 : 0.82 + 0.37 * static_cast<double>(g); };
  auto rate = [&](std::size_t g) { return pair.expected_tokens(g) / step_time(g); };
  ASSERT_EQ(best_length(rate, 12), 1u);
  ASSERT_GT(rate(1), 1.1 * rate(0));
  const open_last_pair hard{0.06, 0.05};
  constexpr int kSeeds = 20;
  double realized = 0;
  for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
    auto c = adaptive_controller(5, 12);
    c.set_last_candidate_open(true);
    uag::rng r(seed);
    bool timed_one = false;
    std::size_t off_streak = 0;
    double time = 0, tokens = 0;
    for (int prompt = 0; prompt < 5; ++prompt) {
      if (prompt > 0) c.restart();
      for (int s = 0; s < 256; ++s) {
        const std::size_t g = c.next();
        const std::size_t acc = (prompt == 0 ? hard : pair).accepts(r, g);
        const double t =
            step_time(g) * (g == 1 && !timed_one ? 1.6 : 1.0) + (g > 0 && off_streak >= 2 ? 0.4 : 0.0);
        timed_one = timed_one || g == 1;
        c.update(g, acc, acc < g, g ? 0.1 : 0.0, 1.0, t);
        off_streak = g == 0 ? off_streak + 1 : 0;
        if (prompt > 0) time += t, tokens += static_cast<double>(acc + 1);
      }
    }
    realized += tokens / time / rate(1) / kSeeds;
  }
  EXPECT_GE(realized, 0.95);
}

// A looping text (a small target repeating itself, repeated lines of code) after an opening the draft
// cannot predict: past it the draft is right at every position but one in four, and the generator's
// repetition hint (note_repetition(): the last 8 tokens occurred before) fires on every step. While
// drafting is off every step commits one token, so probes a fixed number of steps apart (half the
// back-off: 4, 8, 16) sample the loop at one phase; where that phase is the position the draft gets
// wrong, every probe misses and drafting does not come back (weak pair, Python ~500: a prompt looping
// every 6 tokens where γ = 1 paid 1.32x: 1 probe right of 19). Each shift of the text puts the probes at
// another phase; on every one, drafting must pay over the loop, from where the hint first fires (the best
// static length makes 2.71 tokens per unit of time there, target-only 1). With the hint's waits unjittered:
// 2.36 on two shifts of four (probes on the wrong phase 8-14 times in a row), 2.68-2.69 on the others.
TEST(draft_test, adaptive_controller_probes_a_looping_text_at_every_phase) {
  constexpr std::size_t kOpening = 120;
  for (std::size_t shift = 0; shift < 4; ++shift) {
    auto c = adaptive_controller(5, 12);
    std::size_t position = 0, off_streak = 0;
    double time = 0, tokens = 0;
    for (int s = 0; s < 900; ++s) {
      const std::size_t g = c.next();
      std::size_t acc = 0;  // candidate i stands at position + i
      while (acc < g && position + acc >= kOpening && (position + acc + shift) % 4 != 3) ++acc;
      const double draft = g == 0 ? 0.0 : 0.15 + (off_streak >= 2 ? 0.4 : 0.0);  // + catch-up
      const double t = 1.0 + 0.1 * static_cast<double>(g) + draft;
      c.update(g, acc, acc < g, g ? draft / static_cast<double>(g) : 0.0, 1.0, t);
      off_streak = g == 0 ? off_streak + 1 : 0;
      position += acc + 1;
      if (c.next() == 0 && position >= kOpening + 16) c.note_repetition();
      if (position > kOpening + 16) time += t, tokens += static_cast<double>(acc + 1);
    }
    EXPECT_GE(tokens / time, 2.5) << "shift " << shift;
  }
}

// Over a text bridge a step's last candidate may be an open word piece: here every candidate with another
// after it is accepted at 0.85 and the last one at 0.55 (the 151k pair's worst prompts: a lone candidate
// right 0 times in 9 where γ = 5 made 2.06x). Pooled into one survival curve, the last candidates of the
// short steps priced every longer draft at their rate and the choice stayed short (0.82 of the best
// static rate on average over 20 seeds). Told the last candidate may be open, the controller keeps its
// record apart and must reach >= 90% of the best static rate over the last 600 of 720 steps, on average
// (0.96).
TEST(draft_test, adaptive_controller_models_an_open_last_candidate) {
  const open_last_pair pair{0.85, 0.55};
  const double best = pair.best_static_rate();
  for (bool open_last : {false, true}) {
    double sum = 0;
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
      auto c = adaptive_controller(5, 12);
      c.set_last_candidate_open(open_last);
      uag::rng r(seed);
      double time = 0, tokens = 0;
      for (int s = 0; s < 720; ++s) {
        const std::size_t g = c.next();
        const std::size_t acc = pair.accepts(r, g);
        const double t = open_last_pair::step_time(g);
        c.update(g, acc, acc < g, g ? 0.1 : 0.0, 1.0, t);
        if (s >= 120) time += t, tokens += static_cast<double>(acc + 1);
      }
      sum += tokens / time / best;
    }
    if (open_last) EXPECT_GE(sum / 20.0, 0.9) << "best static rate " << best;
    else EXPECT_LT(sum / 20.0, 0.85) << "the pooled curve was expected to stay short here";
  }
}

// A strong pair whose best length is 2, below the lengths the confidence stop trims (γ >= 3): the bundled
// pair on AVX2 kernels, whose target pass takes a second row tile past 3 rows (times from a trace of
// C ~100, ms: a pass over 1-3 rows 2.36 / 2.52 / 2.97, over 4 rows 4.2; a draft pass 0.30). The warm-up
// times γ = 3 once while the choice is 5 (a trimmed step); once the choice is 2, the +1 probes of γ = 3
// are untrimmed steps. Their samples must settle γ = 3's timing: counted only where the stop could trim
// them, they never did, and γ = 3 was probed every 4 steps as "too few samples to judge" (a quarter of
// the steps at 0.87 of γ = 2's rate: 0.96 of the best static length on that cell). Over 10 seeds the
// steps taken after the first 200 must make 97.5% of the best length's rate (before: 0.968; now 0.984).
TEST(draft_test, adaptive_controller_settles_the_untrimmed_probes_of_a_length_the_stop_may_trim) {
  const sure_or_unsure_pair pair{{2.36, 2.52, 2.97, 4.2, 4.9, 5.6, 7.1, 7.6, 8.1}, 0.30, 0.07, 0.8, 0.9, 0.4};
  constexpr std::size_t kMax = 8;
  const std::vector<double> rate = pair.rates(kMax);
  ASSERT_EQ(best_length([&](std::size_t g) { return rate[g]; }, kMax), 2u);
  ASSERT_LT(rate[3], 0.95 * rate[2]);
  ASSERT_GT(rate[2], 1.3 * rate[0]);
  EXPECT_GE(pair.realized(5, kMax, 1200, 200, 10, rate[2]), 0.975)
      << "best static rate " << rate[2] << " tokens/ms";
}

// A length's timing must keep what it measured as it ages. The bundled pair's step times on a Zen 5 CPU
// (ms, bfloat16 products, one thread: a pass over 9+ rows takes two row tiles) with easy and hard
// stretches of text, and a machine whose load differs from one generation to the next and drifts within
// each: γ = 8-12 are timed now and then (warm-up, probes, easy stretches) and must not look cheaper
// than they were measured once their timing is old. (Before: a timing faded towards the line through the
// measured lengths, which misses the tile's jump, and the choice went past it when the load drifted.)
// Over 200 seeds (1,000 seeds in windows of 200, before / now): the steps taken make 0.955-0.962 / 0.963-
// 0.971 of the best static rate on average; the median seed spends 1.5-1.8% / 0.6-0.8% of its steps past
// the tile; 29-43 / 9-16 seeds spend more than 10% there (a load that drifts the wrong way can hold the
// choice past the tile for most of a seed: now up to 87% of one seed's steps). Until session 42 this test
// judged 20 seeds against 0.97 and 3% on average, which seeds 1-20 meet and most other draws of 20 do not.
TEST(draft_test, adaptive_controller_keeps_a_long_drafts_tile_cost_as_its_timing_ages) {
  const double cost[] = {1.812, 2.196, 2.479, 2.844, 3.319, 3.470, 3.864,
                         4.036, 5.481, 5.472, 5.870, 6.035, 6.274};
  constexpr double kEasy = 0.97, kHard = 0.6, kEasyShare = 0.5;
  auto tokens = [&](double alpha, std::size_t g) { return uag::expected_tokens_per_pass(alpha, g); };
  auto rate = [&](std::size_t g) {
    return (kEasyShare * tokens(kEasy, g) + (1.0 - kEasyShare) * tokens(kHard, g)) / cost[g];
  };
  const std::size_t best = best_length(rate, 12);
  ASSERT_LE(best, 7u);
  double realized = 0;
  std::vector<double> past_tile;  // per seed: the share of its steps past the tile
  constexpr int kSeeds = 200;
  for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
    auto c = adaptive_controller(5, 12);
    uag::rng r(seed);
    double time = 0, made_tokens = 0, steps = 0, long_steps = 0;
    bool easy = true;
    for (int gen = 0; gen < 30; ++gen) {
      c.restart();
      double log_load = 0.35 * (2.0 * r.uniform() - 1.0);  // this generation's load: ±40%
      for (int made = 0; made < 128;) {
        if (r.uniform() < 0.2) easy = !easy;  // stretches of ~5 steps
        const double alpha = easy ? kEasy : kHard;
        const std::size_t g = std::min<std::size_t>(c.next(), 127 - made);
        const std::size_t acc = geometric_accepts(r, alpha, g);
        log_load += 0.03 * (2.0 * r.uniform() - 1.0);
        const double t = 1e-3 * cost[g] * std::exp(log_load) * (0.95 + 0.1 * r.uniform());
        c.update(g, acc, acc < g, g ? 0.25 * t / static_cast<double>(g) : 0.0, 0.75 * t, t, g);
        made += static_cast<int>(acc) + 1;
        time += cost[g], made_tokens += tokens(alpha, g);  // γ is what is judged, at a steady load
        steps += 1, long_steps += g >= 8;
      }
    }
    realized += made_tokens / time / rate(best) / kSeeds;
    past_tile.push_back(long_steps / steps);
  }
  EXPECT_GE(realized, 0.96);
  std::sort(past_tile.begin(), past_tile.end());
  EXPECT_LE(past_tile[kSeeds / 2], 0.012);  // the median seed
  EXPECT_LE(std::count_if(past_tile.begin(), past_tile.end(), [](double x) { return x > 0.1; }), 25);
}

// Greedy adaptive drafting with a confidence stop (min_confidence()): a step of γ >= 3 while drafting is
// on stops past its first candidate where the draft is unsure of its next token. A probe from "off" drafts
// its one or two tokens whatever their confidence (cut short, it tests nothing); so do steps of γ = 1-2 and
// every step while the choice is γ = 1-2 (trimmed steps would bias the survival curve), the warm-up (its
// acceptance decides whether a pair is weak) and sampled runs. Other policies keep their floors: constant
// none, confidence its threshold from the first token. Fails on the controller before session 32 (no floor
// for adaptive). A drafting step costs 1.5 + 0.25 γ against 1 for target-only, so that while α = 0.8
// γ = 3-5 pay 7-10% more than γ = 2 and the stop has steps to act on. (Until session 42 one seed
// at 1.5 + 0.5 γ, where γ = 2 and 3 tie within 1%: whether the choice reached 3 was a draw, on 5% of 200
// seeds never; at 0.25, 56-233 floored steps per seed over 200 seeds.)
TEST(draft_test, adaptive_controller_stops_an_unsure_draft_past_its_first_candidate_but_not_in_probes) {
  std::size_t floored_total = 0;
  constexpr std::uint64_t kSeeds = 20;
  for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
    auto c = adaptive_controller(4, 8);
    EXPECT_EQ(c.min_confidence(), 0.0f);  // the warm-up drafts all it asks
    EXPECT_EQ(c.min_confidence_from(), 1u);
    uag::rng r(seed);
    std::size_t probes = 0, floored = 0;
    for (int s = 0; s < 400; ++s) {
      const std::size_t g = c.next();
      const float floor = c.min_confidence();
      if (g > 0 && c.choice() == 0) {
        ++probes;
        EXPECT_EQ(floor, 0.0f) << "probe at step " << s << ", seed " << seed;
      }
      if (g < 3 || c.choice() < 3) {
        EXPECT_EQ(floor, 0.0f) << "γ = " << g << ", choice " << c.choice() << " at step " << s << ", seed "
                               << seed;
      }
      if (floor > 0.0f) ++floored;
      const std::size_t acc = geometric_accepts(r, s < 200 ? 0.8 : 0.1, g);  // then drafting stops paying
      c.update(g, acc, acc < g, 0.1, 1.0, g == 0 ? 1.0 : 1.5 + 0.25 * static_cast<double>(g));
    }
    EXPECT_GT(floored, 0u) << "seed " << seed;
    EXPECT_GE(probes, 2u) << "seed " << seed;
    floored_total += floored;
  }
  EXPECT_GT(floored_total, 150 * kSeeds);
  uag::generation_config sampled;  // a sampled candidate's acceptance is not what q's top probability says
  sampled.draft_policy = uag::draft_length_policy::adaptive;
  sampled.sampling.temperature = 0.7f;
  EXPECT_EQ(uag::draft_length_controller(sampled).min_confidence(), 0.0f);
  for (auto policy : {uag::draft_length_policy::constant, uag::draft_length_policy::heuristic}) {
    uag::generation_config cfg;
    cfg.draft_policy = policy;
    EXPECT_EQ(uag::draft_length_controller(cfg).min_confidence(), 0.0f);
  }
  uag::generation_config cfg;
  cfg.draft_policy = uag::draft_length_policy::confidence;
  cfg.confidence_threshold = 0.25f;
  const uag::draft_length_controller hf(cfg);
  EXPECT_EQ(hf.min_confidence(), 0.25f);
  EXPECT_EQ(hf.min_confidence_from(), 0u);
}

// A weak pair (first candidate right 40% of the time) whose drafts are so cheap that γ >= 3 pays: its
// steps are never trimmed. A trimmed step's later candidates are the confident ones, and a weak pair's
// choice wanders back to γ = 1-2, where that record would price drafting above its worth. Over 50 seeds
// of 600 steps: a strong pair's (0.85) steps are trimmed on each, a weak pair's (0.4) on 3% of them at
// most on average. Not never: the weak-pair rule reads the first candidate's acceptance as a running
// estimate (memory ~50 steps), which crosses kWeakRate (0.5) now and then; over 200 seeds the weak pair
// had 10 floored steps in 600 on average, 2 at the median, 154 on the worst seed; the choice sat at γ >= 3
// on 269-596 of the 600 steps. (Until session 42 this test judged one seed, which had no floored step,
// and wanted more than 300 steps at γ >= 3.)
TEST(draft_test, adaptive_controller_does_not_stop_a_weak_pairs_draft_short) {
  constexpr std::uint64_t kSeeds = 50;
  for (double alpha : {0.4, 0.85}) {
    std::size_t floored_total = 0;
    for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
      auto c = adaptive_controller(4, 8);
      uag::rng r(seed);
      std::size_t long_choice = 0, floored = 0;
      for (int s = 0; s < 600; ++s) {
        const std::size_t g = c.next();
        long_choice += c.choice() >= 3 && g >= 3 ? 1 : 0;
        floored += c.min_confidence() > 0.0f ? 1 : 0;
        const std::size_t acc = geometric_accepts(r, alpha, g);
        c.update(g, acc, acc < g, 0.01, 1.0, g == 0 ? 1.0 : 1.02 + 0.02 * static_cast<double>(g));
      }
      EXPECT_GT(long_choice, 250u) << "α " << alpha << " seed " << seed
                                   << ": the choice should settle at γ >= 3";
      if (alpha > 0.5) {
        EXPECT_GT(floored, 300u) << "seed " << seed
                                 << ": a strong pair's draft should stop where it is unsure";
      }
      floored_total += floored;
    }
    if (alpha < 0.5) {
      EXPECT_LE(floored_total, 600 * kSeeds * 3 / 100) << "a weak pair's drafts were stopped short";
    }
  }
}

// A strong pair whose greedy steps the confidence stop cuts short (min_confidence()): a step of γ >= 3
// proposes candidates up to the first one the draft is unsure of, and costs what it proposed (a target
// pass over 1 + proposed rows, a draft pass per candidate and one for the token it stopped at). Asking
// for a long draft then mixes full steps with cheap short ones, and a length's time must be what its
// steps cost on average, not the short steps' (a lower envelope of the mix): the 151k pair on a Xeon,
// asking for 4, made full steps of 6.32 ms for 3.01 tokens and cut 39% short at 4.40 ms for 1.57, and a
// controller that priced γ = 4 by the short steps drafted longer than paid (0.962 of the best static
// length over the matrix's 151k cells). Times here are that trace's (target pass by rows, ms; a draft
// pass 0.37 ms, the rest 0.36 ms); each candidate past the first is one the draft is sure of with chance
// 0.65, accepted with chance 0.85 if so and 0.25 if not (true rates, tokens/ms: γ = 1 0.453, γ = 2-4
// 0.469-0.475 with γ = 3 best, γ = 8 0.447). Over 10 seeds the steps taken must make 98% of the best
// length's rate, each length at its own rule (γ = 1-2 never trimmed, γ >= 3 trimmed): 0.992 now, 0.960
// before step times were kept under the candidates proposed.
TEST(draft_test, adaptive_controller_prices_a_trimmed_length_by_what_its_steps_propose) {
  const sure_or_unsure_pair pair{
      {2.59, 2.89, 3.22, 3.62, 4.05, 4.55, 5.2, 6.0, 7.0, 8.2}, 0.37, 0.36, 0.65, 0.85, 0.25};
  constexpr std::size_t kMax = 8;
  const std::vector<double> rate = pair.rates(kMax);
  const double best = *std::max_element(rate.begin(), rate.end());
  EXPECT_GE(pair.realized(4, kMax, 2000, 500, 10, best), 0.98) << "best static rate " << best << " tokens/ms";
}

// A good pair whose full steps pass a row tile (bundled pair with bfloat16 products, the README's command:
// a pass over 9 rows takes 4.5 ms where 8 take 3.3). Where the stop trims a length's steps, some run to γ
// and some stop early; priced at the mean count of all its steps, γ = 8 (58% full at 7.4 ms, 42% cut at
// 3.6) cost like a step of ~6 candidates, and adaptive drafted it on 21% of its steps at 0.89 tokens/ms
// against γ = 7's 0.96. Priced as the mix of full and cut steps it is, the choice stays nearer the tile:
// here 0.9605 of the best static rate before, 0.9711 after (200 seeds; 1,000: 0.9603, 0.9696). Until
// session 42 this judged 10 seeds against 0.97 (0.963 before, 0.974 after), which most draws of 10 seeds
// miss (0.961-0.974 over ten draws).
TEST(draft_test, adaptive_controller_prices_the_full_steps_of_a_trimmed_length_past_a_row_tile) {
  const sure_or_unsure_pair pair{
      {2.40, 2.45, 2.50, 2.60, 2.70, 2.80, 2.95, 3.10, 3.30, 4.50, 4.70, 4.90, 5.10},
      0.26,
      0.1,
      0.8,
      0.93,
      0.3};
  constexpr std::size_t kMax = 12;
  const std::vector<double> rate = pair.rates(kMax);
  const double best = *std::max_element(rate.begin(), rate.end());
  EXPECT_GE(pair.realized(5, kMax, 3000, 500, 200, best), 0.965)
      << "best static rate " << best << " tokens/ms";
}
