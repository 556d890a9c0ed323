// AssistedGenerator: losslessness (greedy exact equality, sampling distributions), stopping, errors.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "support/chi_square.hpp"
#include "support/test_doubles.hpp"
#include "uag/draft/model_draft.hpp"
#include "uag/draft/prompt_lookup.hpp"
#include "uag/generation/assisted_generator.hpp"

using namespace uag_test;
using uag::AssistedGenerator;
using uag::baseline_generator;
using uag::generation_config;

static_assert(uag::draft_source<uag::no_draft>);
static_assert(uag::draft_source<uag::prompt_lookup_draft>);
static_assert(uag::draft_source<uag::model_draft<test_model>>);

namespace {

struct run_output {
  token_vector ids;
  std::string text;
  uag::stop_reason reason;
};

template <class Target = test_model>
run_output run_baseline(Target& target, const token_vector& prompt, const generation_config& cfg) {
  baseline_generator<Target> gen(target, cfg);
  gen.begin_ids(prompt);
  while (!gen.done()) gen.step();
  return {token_vector(gen.output_ids().begin(), gen.output_ids().end()), gen.text(), gen.stats().reason};
}

template <class Draft, class Target = test_model>
run_output run_assisted(Target& target, Draft& draft, const token_vector& prompt, const generation_config& cfg,
                        uag::generation_stats* stats = nullptr) {
  AssistedGenerator<Target, Draft> gen(target, draft, cfg);
  std::string streamed;
  gen.on_text([&](std::string_view s) { streamed += s; });
  gen.begin_ids(prompt);
  while (!gen.done()) EXPECT_GE(gen.step(), 1u);
  EXPECT_EQ(streamed, gen.text());
  if (stats) *stats = gen.stats();
  return {token_vector(gen.output_ids().begin(), gen.output_ids().end()), gen.text(), gen.stats().reason};
}

}  // namespace

// ≥ 1,000 random (prompt, seed, draft quality, γ, policy, limits, stop strings) cases: identical output.
TEST(generator_test, greedy_assisted_equals_baseline_on_random_cases) {
  test_tokenizer tok;
  std::mt19937_64 r(2024);
  const uag::draft_length_policy policies[] = {uag::draft_length_policy::constant, uag::draft_length_policy::heuristic,
                                               uag::draft_length_policy::confidence, uag::draft_length_policy::adaptive};
  int cases = 0, with_stop = 0;
  std::size_t total_accepted = 0;
  for (int c = 0; c < 1200; ++c) {
    test_model_config mc;
    mc.seed = r();
    mc.sharpness = std::uniform_real_distribution<float>(0.5f, 8.0f)(r);
    mc.eos_bias = std::uniform_real_distribution<float>(-6.0f, 1.0f)(r);
    mc.max_context = 16 + r() % 120;
    test_model target(tok, mc);
    token_vector prompt{0};
    for (std::size_t n = r() % 10; n > 0; --n) prompt.push_back(static_cast<token_id>(2 + r() % (tok.vocab_size() - 2)));
    generation_config cfg;
    cfg.max_new_tokens = 1 + r() % 60;
    cfg.draft_policy = policies[r() % 4];
    cfg.num_draft_tokens = 1 + r() % 8;
    cfg.max_draft_tokens = cfg.num_draft_tokens + r() % 8;
    if (r() % 4 == 0) cfg.sampling.repetition_penalty = 1.3f;
    // Stop strings taken from the baseline's own text, so they do fire, often across step boundaries.
    const run_output base0 = run_baseline(target, prompt, cfg);
    if (r() % 3 == 0 && base0.text.size() > 3) {
      const std::size_t at = r() % (base0.text.size() - 2);
      cfg.stop_strings = {base0.text.substr(at, 2 + r() % 2), "zzzz"};
      ++with_stop;
    }
    const run_output base = run_baseline(target, prompt, cfg);
    const auto quality = static_cast<draft_quality>(r() % 5);
    scripted_draft draft(target, quality, r());
    uag::generation_stats st;
    const run_output out = run_assisted(target, draft, prompt, cfg, &st);
    ASSERT_EQ(out.ids, base.ids) << "case " << c << " quality " << static_cast<int>(quality);
    ASSERT_EQ(out.text, base.text) << "case " << c;
    ASSERT_EQ(out.reason, base.reason) << "case " << c;
    if (!cfg.stop_strings.empty() && out.reason == uag::stop_reason::stop_string) {
      for (const auto& s : cfg.stop_strings) ASSERT_EQ(out.text.find(s), std::string::npos);
    }
    if (quality == draft_quality::oracle && cfg.sampling.repetition_penalty == 1.0f) {
      ASSERT_EQ(st.accepted, st.drafted) << "an always-right draft must be fully accepted";
    }
    total_accepted += st.accepted;
    ++cases;
  }
  EXPECT_GE(cases, 1000);
  EXPECT_GT(with_stop, 100);
  EXPECT_GT(total_accepted, 1000u);
}

// A target whose batched rows differ from its single-token rows (GPU kernels): verification must still pick
// what target-only decoding (single-token rows) picks. Without the reported tolerance it does not: the
// test shows both, so it fails if the guard stops working or if the double stops differing.
TEST(generator_test, greedy_stays_equal_to_baseline_when_batched_rows_differ) {
  test_tokenizer tok;
  std::mt19937_64 r(77);
  std::size_t differ_unguarded = 0, rechecked = 0, accepted = 0;
  for (int c = 0; c < 300; ++c) {
    test_model_config mc;
    mc.seed = r();
    mc.sharpness = std::uniform_real_distribution<float>(0.5f, 3.0f)(r);
    mc.eos_bias = -6.0f;
    const float error = 0.05f;
    batch_variant_model guarded(tok, mc, error), unguarded(tok, mc, error, false);
    token_vector prompt{0};
    for (std::size_t n = 1 + r() % 8; n > 0; --n) prompt.push_back(static_cast<token_id>(2 + r() % (tok.vocab_size() - 2)));
    generation_config cfg;
    cfg.max_new_tokens = 20 + r() % 40;
    cfg.num_draft_tokens = 1 + r() % 6;
    cfg.max_draft_tokens = 8;
    if (r() % 4 == 0) cfg.sampling.repetition_penalty = 1.3f;
    const run_output base = run_baseline(guarded, prompt, cfg);
    scripted_draft draft(guarded, r() % 2 ? draft_quality::oracle : draft_quality::random, r());
    uag::generation_stats st;
    const run_output out = run_assisted(guarded, draft, prompt, cfg, &st);
    ASSERT_EQ(out.ids, base.ids) << "case " << c;
    EXPECT_LE(st.rechecked_rows, st.target_passes);
    rechecked += st.rechecked_rows;
    accepted += st.accepted;
    scripted_draft draft2(unguarded, draft_quality::oracle, 1);
    differ_unguarded += run_assisted(unguarded, draft2, prompt, cfg).ids != run_baseline(unguarded, prompt, cfg).ids;
    // An explicit tolerance in the config overrides the model's (0: trust batched rows).
    cfg.batch_tolerance = error;
    scripted_draft draft3(unguarded, draft_quality::oracle, 1);
    ASSERT_EQ(run_assisted(unguarded, draft3, prompt, cfg).ids, run_baseline(unguarded, prompt, cfg).ids) << "case " << c;
  }
  EXPECT_GT(differ_unguarded, 30u) << "the double's batched rows no longer change greedy choices";
  EXPECT_GT(rechecked, 100u);
  EXPECT_GT(accepted, 1000u) << "the guard must not turn drafting off";
}

// The single-row recheck checks the target's logits like the verification pass does: a target whose
// one-id forward (after the first token) returns two rows gets [uag.model.logits_shape], not a misread.
TEST(generator_test, recheck_with_bad_logits_is_a_typed_error) {
  class short_single_rows : public batch_variant_model {
   public:
    using batch_variant_model::batch_variant_model;
    uag::logits_view forward(token_span ids) {
      uag::logits_view v = batch_variant_model::forward(ids);
      if (ids.size() == 1 && ++singles_ > 1) v.rows = 2;  // the first token's pass stays well formed
      return v;
    }

   private:
    std::size_t singles_ = 0;
  };
  test_tokenizer tok;
  short_single_rows target(tok, {.seed = 9}, 100.0f);  // every batched row is too close to call
  scripted_draft draft(target, draft_quality::oracle, 1);
  generation_config cfg;
  cfg.max_new_tokens = 8;
  cfg.num_draft_tokens = 2;
  AssistedGenerator<short_single_rows, scripted_draft> gen(target, draft, cfg);
  const token_vector prompt{0, 3, 4, 5};
  gen.begin_ids(prompt);
  gen.step();  // the first token: one row, drafts nothing
  try {
    gen.step();
    FAIL() << "expected uag.model.logits_shape";
  } catch (const uag::model_error& e) {
    EXPECT_EQ(e.id(), "uag.model.logits_shape") << e.what();
  }
}

TEST(generator_test, greedy_with_model_draft_and_prompt_lookup_equals_baseline) {
  test_tokenizer tok;
  for (std::uint64_t seed = 0; seed < 100; ++seed) {
    test_model target(tok, {.seed = seed, .sharpness = 5.0f});
    test_model draft_model(tok, {.seed = seed % 3 == 0 ? seed : seed + 1000, .sharpness = 5.0f, .extra_vocab = seed % 2 * 3});
    uag::model_draft<test_model> draft(draft_model);
    uag::prompt_lookup_draft lookup;
    generation_config cfg;
    cfg.max_new_tokens = 40;
    cfg.draft_policy = seed % 2 ? uag::draft_length_policy::adaptive : uag::draft_length_policy::constant;
    const token_vector prompt{0, 2, 3, 4, 2, 3};
    const run_output base = run_baseline(target, prompt, cfg);
    EXPECT_EQ(run_assisted(target, draft, prompt, cfg).ids, base.ids);
    EXPECT_EQ(run_assisted(target, lookup, prompt, cfg).ids, base.ids);
  }
}

// The draft ingests the prompt in one pass (draft_source_with_prepare), after the first token: begin()
// and the first step leave it alone; the second step prefills it with prompt + first token, then drafts.
TEST(generator_test, second_step_prefills_a_model_draft_with_the_committed_ids) {
  static_assert(uag::draft_source_with_prepare<uag::model_draft<test_model>>);
  static_assert(!uag::draft_source_with_prepare<uag::prompt_lookup_draft>);
  test_tokenizer tok;
  test_model target(tok, {.seed = 3});
  test_model draft_model(tok, {.seed = 4});
  uag::model_draft<test_model> draft(draft_model);
  generation_config cfg;
  cfg.max_new_tokens = 20;
  cfg.stop_at_eos = false;
  const token_vector prompt{0, 2, 3, 4, 2};
  AssistedGenerator<test_model, uag::model_draft<test_model>> gen(target, draft, cfg);
  gen.begin_ids(prompt);
  EXPECT_EQ(draft_model.forward_calls(), 0u);
  EXPECT_EQ(gen.step(), 1u);
  EXPECT_EQ(draft_model.forward_calls(), 0u);
  EXPECT_EQ(gen.stats().drafted, 0u);
  gen.step();
  ASSERT_GT(gen.stats().drafted, 0u);
  EXPECT_GT(gen.stats().draft_prefill_seconds, 0.0);
  // prompt + first token in one pass, then one forward per drafted token after the first.
  EXPECT_EQ(gen.stats().draft_model_tokens + 1, gen.stats().drafted);  // the prompt is not run again
  EXPECT_EQ(draft_model.forward_calls(), gen.stats().drafted);
  while (!gen.done()) gen.step();
  EXPECT_EQ(token_vector(gen.output_ids().begin(), gen.output_ids().end()), run_baseline(target, prompt, cfg).ids);
}

namespace {

// A draft source that logs, in order with the streamed text, when the generator calls it.
struct counting_draft {
  std::vector<std::string>* log;
  test_model twin;
  std::size_t prepares = 0, proposals = 0;
  void reset() { log->push_back("reset"); }
  void prepare(token_span committed, const uag::sampling_config&) {
    ++prepares;
    log->push_back("prepare " + std::to_string(committed.size()));
  }
  void propose(token_span committed, const uag::draft_request& req, uag::draft_proposal& out) {
    ++proposals;
    log->push_back("propose " + std::to_string(committed.size()));
    token_vector ctx(committed.begin(), committed.end());
    std::vector<float> row(twin.vocab_size());
    for (std::size_t i = 0; i < req.max_tokens; ++i) {  // the target's own greedy choices
      twin.row_for(ctx, row.data());
      ctx.push_back(static_cast<token_id>(std::max_element(row.begin(), row.end()) - row.begin()));
      out.tokens.push_back(ctx.back());
    }
  }
};
static_assert(uag::draft_source_with_prepare<counting_draft>);

}  // namespace

// Time to first token: the first token reaches on_text before the draft does any work, for every
// draft-length policy and prompt length; the draft is prepared once, with the prompt and that token.
TEST(generator_test, first_token_is_streamed_before_the_draft_runs) {
  test_tokenizer tok;
  test_model target(tok, {.seed = 21, .eos_bias = -50.0f});
  for (auto policy : {uag::draft_length_policy::constant, uag::draft_length_policy::heuristic,
                      uag::draft_length_policy::confidence, uag::draft_length_policy::adaptive}) {
    for (std::size_t prompt_len : {1u, 2u, 9u}) {
      std::vector<std::string> log;
      counting_draft draft{&log, target};
      generation_config cfg;
      cfg.max_new_tokens = 30;
      cfg.draft_policy = policy;
      AssistedGenerator<test_model, counting_draft> gen(target, draft, cfg);
      gen.on_text([&](std::string_view) { log.push_back("text"); });
      token_vector prompt{0};
      for (std::size_t i = 1; i < prompt_len; ++i) prompt.push_back(static_cast<token_id>(2 + i % 5));
      gen.begin_ids(prompt);
      ASSERT_EQ(log, std::vector<std::string>{"reset"});
      EXPECT_EQ(gen.step(), 1u);
      EXPECT_EQ(gen.stats().drafted, 0u);
      ASSERT_GE(log.size(), 2u);
      EXPECT_EQ(log[1], "text") << "first token not streamed first";
      for (const auto& e : log) EXPECT_TRUE(e == "reset" || e == "text") << e;
      gen.step();
      const auto at = std::find(log.begin(), log.end(), "prepare " + std::to_string(prompt_len + 1));
      ASSERT_NE(at, log.end());
      ASSERT_NE(at + 1, log.end());
      EXPECT_EQ(*(at + 1), "propose " + std::to_string(prompt_len + 1));
      while (!gen.done()) gen.step();
      EXPECT_EQ(draft.prepares, 1u);
      EXPECT_GT(draft.proposals, 1u);
      EXPECT_GT(gen.stats().accepted, 0u);
      EXPECT_EQ(token_vector(gen.output_ids().begin(), gen.output_ids().end()),
                run_baseline(target, prompt, cfg).ids);
    }
  }
}

// warm_up(): a throwaway run that streams nothing and leaves the controller as it was; the next
// generation is the one a fresh generator would produce, and its draft is prepared afresh.
TEST(generator_test, warm_up_streams_nothing_and_changes_no_output) {
  test_tokenizer tok;
  test_model target(tok, {.seed = 23, .eos_bias = -50.0f});
  for (auto policy : {uag::draft_length_policy::constant, uag::draft_length_policy::adaptive}) {
    std::vector<std::string> log;
    counting_draft draft{&log, target};
    generation_config cfg;
    cfg.max_new_tokens = 25;
    cfg.draft_policy = policy;
    AssistedGenerator<test_model, counting_draft> gen(target, draft, cfg);
    std::string streamed;
    gen.on_text([&](std::string_view s) { streamed += s; });
    const std::size_t gamma_before = gen.controller().next();
    gen.warm_up("ab c", 3);
    EXPECT_EQ(streamed, "");
    EXPECT_EQ(draft.prepares, 1u);  // the warm-up did reach the draft
    EXPECT_GT(draft.proposals, 0u);
    EXPECT_EQ(gen.controller().next(), gamma_before);
    const token_vector prompt{0, 2, 3, 4};
    gen.begin_ids(prompt);
    while (!gen.done()) gen.step();
    EXPECT_EQ(draft.prepares, 2u);
    EXPECT_EQ(streamed, gen.text());  // the callback is back
    EXPECT_EQ(token_vector(gen.output_ids().begin(), gen.output_ids().end()), run_baseline(target, prompt, cfg).ids);
  }
}

// One token asked for: the draft is never touched.
TEST(generator_test, a_one_token_generation_never_runs_the_draft) {
  test_tokenizer tok;
  test_model target(tok, {.seed = 22});
  std::vector<std::string> log;
  counting_draft draft{&log, target};
  generation_config cfg;
  cfg.max_new_tokens = 1;
  AssistedGenerator<test_model, counting_draft> gen(target, draft, cfg);
  gen.begin_ids(token_vector{0, 2, 3});
  while (!gen.done()) gen.step();
  EXPECT_EQ(draft.prepares + draft.proposals, 0u);
  EXPECT_EQ(gen.stats().target_passes, 1u);
  EXPECT_EQ(gen.stats().draft_prefill_seconds, 0.0);
}

// A prompt longer than the draft's context: prepare() skips it (no error), the target goes on alone.
TEST(generator_test, prompt_longer_than_the_draft_context_skips_the_draft_prefill) {
  test_tokenizer tok;
  test_model target(tok, {.seed = 3});
  test_model draft_model(tok, {.seed = 4, .max_context = 6});
  uag::model_draft<test_model> draft(draft_model);
  generation_config cfg;
  cfg.max_new_tokens = 10;
  const token_vector prompt{0, 2, 3, 4, 2, 3, 4, 5};
  AssistedGenerator<test_model, uag::model_draft<test_model>> gen(target, draft, cfg);
  ASSERT_NO_THROW(gen.begin_ids(prompt));
  EXPECT_EQ(draft_model.forward_calls(), 0u);
  while (!gen.done()) gen.step();
  EXPECT_EQ(token_vector(gen.output_ids().begin(), gen.output_ids().end()), run_baseline(target, prompt, cfg).ids);
}

// The lean draft path through the generator: the draft computes one logits row per drafted token;
// the prompt prefill and the catch-up after each verification run without logits (counting model).
TEST(generator_test, draft_computes_logits_only_for_drafted_tokens) {
  test_tokenizer tok;
  test_model target(tok, {.seed = 3});
  counting_model draft_model(tok, {.seed = 3});  // the target's twin: every candidate is accepted, so
  uag::model_draft<counting_model> draft(draft_model);  // each step catches up on the last one + the bonus
  generation_config cfg;
  cfg.max_new_tokens = 40;
  cfg.draft_policy = uag::draft_length_policy::constant;
  cfg.num_draft_tokens = 4;
  const token_vector prompt{0, 2, 3, 4, 2, 5, 6, 2, 3};
  AssistedGenerator<test_model, uag::model_draft<counting_model>> gen(target, draft, cfg);
  gen.begin_ids(prompt);
  while (!gen.done()) gen.step();
  ASSERT_GT(gen.stats().drafted, 10u);
  EXPECT_EQ(draft_model.logit_rows(), gen.stats().drafted);
  // Rows run without logits: the prompt but its last id, and one catch-up row per later step.
  EXPECT_GE(draft_model.rows_fed() - draft_model.logit_rows(), prompt.size() - 1 + gen.stats().target_passes - 1);
  EXPECT_EQ(token_vector(gen.output_ids().begin(), gen.output_ids().end()), run_baseline(target, prompt, cfg).ids);
}

// Adaptive: a drafting step after target-only steps checks the draft on the ids it catches up on
// (draft_length_controller::catch_up_check_rows), and those rows compute logits beyond the drafted
// tokens' (and the candidate a confidence stop ends a step at). The draft is the target's twin: greedy,
// its own choice agrees with every committed id; sampled, its q is the p each id was drawn from, so every
// checked row scores min(1, q/p) = 1.
TEST(generator_test, adaptive_catch_up_checks_the_draft_on_what_it_missed) {
  test_tokenizer tok;
  test_model target(tok, {.seed = 3});
  const token_vector prompt{0, 2, 3, 4, 2, 5, 6, 2, 3};
  struct run_result {
    std::size_t checked = 0, catch_ups = 0, stopped_short = 0, logit_rows = 0, target_only = 0;
    double agreed = 0.0;
    uag::generation_stats stats;
    token_vector ids;
  };
  // One adaptive generation over a fresh counting twin, its step records summed.
  const auto run = [&](float temperature) {
    counting_model draft_model(tok, {.seed = 3});
    uag::model_draft<counting_model> draft(draft_model);
    generation_config cfg;
    cfg.max_new_tokens = 160;
    cfg.stop_at_eos = false;
    cfg.draft_policy = uag::draft_length_policy::adaptive;
    cfg.sampling.temperature = temperature;
    AssistedGenerator<test_model, uag::model_draft<counting_model>> gen(target, draft, cfg);
    run_result out;
    gen.on_step([&](const uag::step_record& r) {
      if (!r.draft_caught_up) {
        EXPECT_EQ(r.checked_rows, 0u) << "step " << r.index;
      }
      out.catch_ups += r.draft_caught_up && r.index > 0 ? 1 : 0;
      out.checked += r.checked_rows, out.agreed += r.agreed_rows;
      out.stopped_short += r.asked > 0 && r.proposed < r.asked ? 1 : 0;
      out.target_only += r.asked == 0 ? 1 : 0;
    });
    gen.begin_ids(prompt);
    while (!gen.done()) gen.step();
    out.logit_rows = draft_model.logit_rows();
    out.stats = gen.stats();
    out.ids.assign(gen.output_ids().begin(), gen.output_ids().end());
    return out;
  };
  const run_result greedy = run(0.0f);
  ASSERT_GT(greedy.catch_ups, 0u);  // the warm-up times γ = 0, the controller probes it now and then
  EXPECT_GT(greedy.checked, 0u);
  EXPECT_EQ(greedy.agreed, static_cast<double>(greedy.checked));
  // Beyond the drafted and checked rows, only a step the confidence stop cut short computed one more row
  // (the candidate it stopped at); which steps do depends on the measured step times.
  EXPECT_GE(greedy.logit_rows, greedy.stats.drafted + greedy.checked);
  EXPECT_LE(greedy.logit_rows, greedy.stats.drafted + greedy.checked + greedy.stopped_short);
  generation_config base_cfg;
  base_cfg.max_new_tokens = 160;
  base_cfg.stop_at_eos = false;
  EXPECT_EQ(greedy.ids, run_baseline(target, prompt, base_cfg).ids);
  // Sampled, only ids committed by target-only steps carry the p a row is weighed against, and the rows
  // checked are theirs: at most one per target-only step.
  const run_result sampled = run(0.7f);
  ASSERT_GT(sampled.catch_ups, 0u);
  EXPECT_GT(sampled.checked, 0u);
  EXPECT_LE(sampled.checked, sampled.target_only);
  EXPECT_NEAR(sampled.agreed, static_cast<double>(sampled.checked),
              1e-4 * static_cast<double>(sampled.checked));
}

TEST(generator_test, identical_draft_model_is_fully_accepted) {
  test_tokenizer tok;
  test_model target(tok, {.seed = 7});
  test_model twin(tok, {.seed = 7});
  uag::model_draft<test_model> draft(twin);
  generation_config cfg;
  cfg.max_new_tokens = 50;
  cfg.stop_at_eos = false;
  uag::generation_stats st;
  run_assisted(target, draft, {0, 2}, cfg, &st);
  EXPECT_EQ(st.accepted, st.drafted);
  EXPECT_EQ(st.new_tokens, 50u);
  EXPECT_EQ(st.target_passes, 10u);  // the undrafted first pass, then ceil(49 / 6) with γ = 5
  EXPECT_DOUBLE_EQ(st.acceptance_rate(), 1.0);
}

TEST(generator_test, stats_are_consistent) {
  test_tokenizer tok;
  test_model target(tok, {.seed = 3, .sharpness = 2.0f});
  scripted_draft draft(target, draft_quality::random, 5);
  generation_config cfg;
  cfg.max_new_tokens = 80;
  cfg.stop_at_eos = false;
  uag::generation_stats st;
  run_assisted(target, draft, {0, 2, 3}, cfg, &st);
  std::size_t steps = 0, tokens = 0;
  for (std::size_t j = 0; j < st.accepted_histogram.size(); ++j) steps += st.accepted_histogram[j], tokens += st.accepted_histogram[j] * (j + 1);
  EXPECT_EQ(steps, st.target_passes);
  EXPECT_GE(tokens, st.new_tokens);  // the last step may be cut by max_new_tokens
  std::size_t at_pos = 0;
  for (auto a : st.accepted_at_position) at_pos += a;
  EXPECT_EQ(at_pos, st.accepted);
  EXPECT_EQ(st.prompt_tokens, 3u);
  EXPECT_GE(st.total_seconds, st.target_seconds + st.draft_seconds);
}

// on_step reports every step once, in order, and its records add up to the generation's stats; the
// baseline's steps ask the (absent) draft for nothing.
TEST(generator_test, step_records_add_up_to_the_stats) {
  test_tokenizer tok;
  test_model target(tok, {.seed = 3, .sharpness = 2.0f});
  scripted_draft draft(target, draft_quality::random, 5);
  generation_config cfg;
  cfg.max_new_tokens = 60;
  cfg.stop_at_eos = false;
  cfg.draft_policy = uag::draft_length_policy::adaptive;
  AssistedGenerator<test_model, scripted_draft> gen(target, draft, cfg);
  std::vector<uag::step_record> steps;
  gen.on_step([&](const uag::step_record& r) { steps.push_back(r); });
  const token_vector prompt = {0, 2, 3};
  gen.begin_ids(prompt);
  while (!gen.done()) gen.step();
  const auto& st = gen.stats();
  ASSERT_FALSE(steps.empty());
  std::size_t proposed = 0, accepted = 0, committed = 0, rejections = 0, caught_up = 0;
  double step_s = 0;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const auto& r = steps[i];
    EXPECT_EQ(r.index, i);
    EXPECT_LE(r.proposed, r.asked);
    EXPECT_LE(r.accepted, r.proposed);
    EXPECT_GE(r.step_seconds, r.draft_seconds);
    if (i + 1 < steps.size()) {  // the next step asks for the controller's length, clamped near the end
      EXPECT_EQ(steps[i + 1].asked, std::min<std::size_t>(r.next_gamma, cfg.max_new_tokens - committed - r.committed - 1));
    }
    proposed += r.proposed, accepted += r.accepted, committed += r.committed, rejections += r.rejected;
    // The draft catches up at its first drafting step and after every run of target-only steps.
    EXPECT_EQ(r.draft_caught_up, r.asked > 0 && (i == 0 || steps[i - 1].asked == 0)) << i;
    caught_up += r.draft_caught_up;
    step_s += r.step_seconds;
  }
  EXPECT_EQ(steps.front().asked, 0u);  // the first token comes from the prefill alone
  EXPECT_GE(caught_up, 1u);            // the draft ingests the prompt at its first drafting step
  EXPECT_EQ(proposed, st.drafted);
  EXPECT_EQ(accepted, st.accepted);
  EXPECT_EQ(committed, st.new_tokens);
  EXPECT_EQ(rejections, st.rejections);
  EXPECT_NEAR(step_s, st.total_seconds - st.prefill_seconds - st.draft_prefill_seconds, 1e-9);

  baseline_generator<test_model> base(target, cfg);
  std::size_t base_steps = 0;
  base.on_step([&](const uag::step_record& r) {
    EXPECT_EQ(r.asked, 0u);
    EXPECT_FALSE(r.draft_caught_up);
    ++base_steps;
  });
  base.begin_ids(prompt);
  while (!base.done()) base.step();
  EXPECT_EQ(base_steps, base.stats().new_tokens);
}

TEST(generator_test, max_new_tokens_reached_mid_draft) {
  test_tokenizer tok;
  test_model target(tok, {.seed = 11});
  scripted_draft draft(target, draft_quality::oracle, 1);
  generation_config cfg;
  cfg.stop_at_eos = false;
  cfg.num_draft_tokens = 8;
  cfg.max_draft_tokens = 8;
  for (std::size_t n = 1; n <= 20; ++n) {
    cfg.max_new_tokens = n;
    const auto out = run_assisted(target, draft, {0, 2}, cfg);
    EXPECT_EQ(out.ids.size(), n);
    EXPECT_EQ(out.reason, uag::stop_reason::max_new_tokens);
    EXPECT_EQ(out.ids, run_baseline(target, {0, 2}, cfg).ids);
  }
}

TEST(generator_test, eos_ends_generation_and_is_kept_in_ids) {
  test_tokenizer tok;
  test_model target(tok, {.seed = 5, .eos_bias = 2.0f});
  generation_config cfg;
  cfg.max_new_tokens = 100;
  const auto out = run_baseline(target, {0, 2}, cfg);
  ASSERT_EQ(out.reason, uag::stop_reason::eos);
  EXPECT_EQ(out.ids.back(), 1);
  EXPECT_EQ(std::count(out.ids.begin(), out.ids.end(), 1), 1);
}

TEST(generator_test, context_limit_stops_generation) {
  test_tokenizer tok;
  test_model target(tok, {.seed = 5, .eos_bias = -50.0f, .max_context = 20});
  scripted_draft draft(target, draft_quality::oracle, 1);
  generation_config cfg;
  cfg.max_new_tokens = 100;
  const auto out = run_assisted(target, draft, {0, 2, 3}, cfg);
  EXPECT_EQ(out.reason, uag::stop_reason::context_full);
  EXPECT_EQ(out.ids.size(), 17u);
  EXPECT_EQ(out.ids, run_baseline(target, {0, 2, 3}, cfg).ids);
}

TEST(generator_test, stop_string_across_tokens_is_not_emitted) {
  test_tokenizer tok;
  test_model target(tok, {.seed = 9, .eos_bias = -50.0f});
  generation_config cfg;
  cfg.max_new_tokens = 60;
  const auto full = run_baseline(target, {0, 2}, cfg);
  ASSERT_GT(full.text.size(), 12u);
  cfg.stop_strings = {full.text.substr(8, 4)};
  scripted_draft draft(target, draft_quality::oracle, 1);
  const auto out = run_assisted(target, draft, {0, 2}, cfg);
  EXPECT_EQ(out.reason, uag::stop_reason::stop_string);
  EXPECT_EQ(out.text, full.text.substr(0, full.text.find(cfg.stop_strings[0])));
}

TEST(generator_test, streamed_text_is_valid_utf8_and_matches_decode) {
  test_tokenizer tok;  // ids 14/15 are the two bytes of "é": text must never split them
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    test_model target(tok, {.seed = seed, .sharpness = 1.0f, .eos_bias = -50.0f});
    baseline_generator<test_model> gen(target, generation_config{.max_new_tokens = 40});
    std::vector<std::string> chunks;
    gen.on_text([&](std::string_view s) { chunks.emplace_back(s); });
    gen.begin_ids(token_vector{0, 2});
    while (!gen.done()) gen.step();
    std::string joined;
    for (const auto& c : chunks) {
      EXPECT_TRUE(uag::utf8::is_valid(c) || c.find("\xEF\xBF\xBD") != std::string::npos);
      joined += c;
    }
    EXPECT_EQ(joined, tok.decode(gen.output_ids(), true));
  }
}

TEST(generator_test, generate_convenience_encodes_prompt_and_streams) {
  test_tokenizer tok;
  test_model target(tok, {.seed = 21});
  test_model twin(tok, {.seed = 21});
  uag::model_draft<test_model> draft(twin);
  AssistedGenerator<test_model, uag::model_draft<test_model>> gen(target, draft, {.max_new_tokens = 30});
  std::string streamed;
  gen.on_text([&](std::string_view s) { streamed += s; });
  const std::string text = gen.generate("ab the");
  EXPECT_EQ(text, streamed);
  EXPECT_EQ(gen.tokens().front(), 0);  // BOS added by the tokenizer
  EXPECT_EQ(gen.stats().prompt_tokens, 3u);
}

// ---- sampling: distribution of the first three tokens equals the target's ----

namespace {
constexpr std::size_t kSamples = 20000;

// Exact probability of every 3-token continuation under the processed target distribution.
std::vector<double> exact_triplet_probs(const test_model& target, const token_vector& prompt,
                                        const uag::sampling_config& s, std::size_t V) {
  uag::logits_processor proc(V, s);
  std::vector<float> row(V), p1(V), p2(V), p3(V);
  std::vector<double> out(V * V * V, 0.0);
  token_vector ctx = prompt;
  target.row_for(ctx, row.data());
  proc.probabilities(row, nullptr, p1);
  for (std::size_t a = 0; a < V; ++a) {
    if (p1[a] == 0) continue;
    ctx.push_back(static_cast<token_id>(a));
    target.row_for(ctx, row.data());
    proc.probabilities(row, nullptr, p2);
    for (std::size_t b = 0; b < V; ++b) {
      if (p2[b] == 0) continue;
      ctx.push_back(static_cast<token_id>(b));
      target.row_for(ctx, row.data());
      proc.probabilities(row, nullptr, p3);
      for (std::size_t c = 0; c < V; ++c) out[(a * V + b) * V + c] = double(p1[a]) * p2[b] * p3[c];
      ctx.pop_back();
    }
    ctx.pop_back();
  }
  return out;
}

template <class SampleFn>
uag_test::chi_square_result triplet_test(SampleFn&& sample3, const std::vector<double>& probs, std::size_t V) {
  std::vector<double> counts(V * V * V, 0.0);
  for (std::size_t i = 0; i < kSamples; ++i) {
    const token_vector t = sample3(i);
    counts[(static_cast<std::size_t>(t[0]) * V + static_cast<std::size_t>(t[1])) * V + static_cast<std::size_t>(t[2])] += 1;
  }
  return uag_test::chi_square(counts, probs);
}

struct sampling_fixture {
  test_tokenizer tok{3};  // V = 2 specials + 3 letters + 6 pieces = 11
  test_model target{tok, {.seed = 77, .sharpness = 2.5f, .eos_bias = -50.0f}};
  test_model draft_model{tok, {.seed = 78, .sharpness = 2.5f, .eos_bias = -50.0f}};
  token_vector prompt{0, 2};
  generation_config cfg() const {
    generation_config c;
    c.max_new_tokens = 3;
    c.stop_at_eos = false;
    c.num_draft_tokens = 3;
    c.sampling.temperature = 0.9f;
    c.sampling.top_k = 8;
    return c;
  }
};

/// One sampled generation; short_steps (when given) counts the steps that proposed fewer candidates than
/// they asked for.
template <class Draft>
token_vector sample_assisted(test_model& target, Draft& draft, const token_vector& prompt, generation_config cfg,
                             std::uint64_t seed, std::size_t* short_steps = nullptr) {
  cfg.sampling.seed = seed;
  AssistedGenerator<test_model, Draft> gen(target, draft, cfg);
  if (short_steps) gen.on_step([&](const uag::step_record& s) { *short_steps += s.proposed < s.asked ? 1 : 0; });
  gen.begin_ids(prompt);
  while (!gen.done()) gen.step();
  return token_vector(gen.output_ids().begin(), gen.output_ids().end());
}
}  // namespace

TEST(generator_test, baseline_sampling_matches_target_distribution) {
  sampling_fixture f;
  const std::size_t V = f.tok.vocab_size();
  const auto probs = exact_triplet_probs(f.target, f.prompt, f.cfg().sampling, V);
  const auto r = triplet_test([&](std::size_t i) {
    auto c = f.cfg();
    c.sampling.seed = i;
    baseline_generator<test_model> gen(f.target, c);
    gen.begin_ids(f.prompt);
    while (!gen.done()) gen.step();
    return token_vector(gen.output_ids().begin(), gen.output_ids().end());
  }, probs, V);
  EXPECT_GT(r.p_value, 0.001) << "chi2 " << r.statistic << " dof " << r.dof;
}

// Also with a draft that stops where it is unsure (the confidence policy: a floor from the first token):
// the stop depends on the draft's own state only. That pass checks that steps did stop short.
TEST(generator_test, speculative_sampling_matches_target_distribution) {
  sampling_fixture f;
  const std::size_t V = f.tok.vocab_size();
  const auto probs = exact_triplet_probs(f.target, f.prompt, f.cfg().sampling, V);
  uag::model_draft<test_model> draft(f.draft_model);
  for (bool stop : {false, true}) {
    auto cfg = f.cfg();
    cfg.verifier = uag::sampling_verifier::speculative;
    if (stop) {
      cfg.draft_policy = uag::draft_length_policy::confidence;
      cfg.max_draft_tokens = 3;
      cfg.confidence_threshold = 0.4f;
    }
    std::size_t short_steps = 0;
    const auto r = triplet_test(
        [&](std::size_t i) { return sample_assisted(f.target, draft, f.prompt, cfg, i, &short_steps); }, probs, V);
    EXPECT_GT(r.p_value, 0.001) << "chi2 " << r.statistic << " dof " << r.dof << (stop ? " with the stop" : "");
    if (stop) {
      EXPECT_GT(short_steps, kSamples / 20) << "the draft never stopped short";
    }
  }
}

// Greedy adaptive drafting stops an unsure draft past its first candidate (draft_length_controller::
// min_confidence()): the output is still the target's own, token for token, and steps did stop short.
TEST(generator_test, greedy_adaptive_with_an_unsure_draft_stops_short_and_equals_baseline) {
  sampling_fixture f;
  // A target whose passes cost 1 ms, so that long drafts pay on any machine (the controller prices lengths
  // by measured time), and a draft that is the target's own logits, rescaled: always right, unsure (top
  // probability below the floor) at ~40% of its rows. Flatter (unsure at every row), a trimmed long step
  // proposes one candidate, γ = 2 rightly wins once the warm-up is over, and the long-draft share hung on
  // how long the warm-up lasted (63% at 100 tokens, 36% at 300; failed ~1 run in 4 under load). At this
  // sharpness: 76-77% long, 21-25% short, at 100 tokens loaded or not; 90% long at 300 tokens.
  slow_model target{f.tok, {.seed = 77, .sharpness = 2.5f, .eos_bias = -50.0f}, std::chrono::milliseconds(1)};
  test_model sometimes_unsure{f.tok, {.seed = 77, .sharpness = 5.0f, .eos_bias = -50.0f}};
  uag::model_draft<test_model> draft(sometimes_unsure);
  std::size_t steps = 0, short_steps = 0, long_steps = 0;
  for (token_id first = 2; first < 8; ++first) {
    generation_config cfg;
    cfg.max_new_tokens = 100;
    cfg.stop_at_eos = false;
    cfg.draft_policy = uag::draft_length_policy::adaptive;
    cfg.num_draft_tokens = 4;
    cfg.max_draft_tokens = 6;
    const token_vector prompt{0, first};
    AssistedGenerator<slow_model, uag::model_draft<test_model>> gen(target, draft, cfg);
    gen.on_step([&](const uag::step_record& s) {
      short_steps += s.asked >= 2 && s.proposed < s.asked ? 1 : 0;
      long_steps += s.asked >= 3 ? 1 : 0;
      ++steps;
    });
    gen.begin_ids(prompt);
    while (!gen.done()) gen.step();
    const token_vector out(gen.output_ids().begin(), gen.output_ids().end());
    EXPECT_EQ(out, run_baseline(target, prompt, cfg).ids) << "prompt " << first;
  }
  EXPECT_GT(2 * long_steps, steps) << "the controller seldom chose long drafts";
  EXPECT_GT(short_steps, 5u) << "no step stopped short";
}

TEST(generator_test, exact_match_sampling_matches_target_distribution) {
  sampling_fixture f;
  const std::size_t V = f.tok.vocab_size();
  const auto probs = exact_triplet_probs(f.target, f.prompt, f.cfg().sampling, V);
  uag::model_draft<test_model> draft(f.draft_model);
  auto cfg = f.cfg();
  cfg.verifier = uag::sampling_verifier::exact_match;
  const auto r = triplet_test([&](std::size_t i) { return sample_assisted(f.target, draft, f.prompt, cfg, i); }, probs, V);
  EXPECT_GT(r.p_value, 0.001) << "chi2 " << r.statistic << " dof " << r.dof;
  // Also with a draft that proposes without q (random ids): SLEM is the automatic choice.
  scripted_draft random_draft(f.target, draft_quality::random, 9);
  cfg.verifier = uag::sampling_verifier::automatic;
  const auto r2 = triplet_test([&](std::size_t i) { return sample_assisted(f.target, random_draft, f.prompt, cfg, i); }, probs, V);
  EXPECT_GT(r2.p_value, 0.001) << "chi2 " << r2.statistic << " dof " << r2.dof;
}

// The same test must catch a broken verifier: "always accept" emits the draft's own samples.
TEST(generator_test, chi_square_detects_an_always_accept_verifier) {
  sampling_fixture f;
  const std::size_t V = f.tok.vocab_size();
  const auto probs = exact_triplet_probs(f.target, f.prompt, f.cfg().sampling, V);
  uag::model_draft<test_model> draft(f.draft_model);
  const auto cfg = f.cfg();
  uag::rng random(0);
  uag::draft_proposal proposal;
  const auto r = triplet_test([&](std::size_t i) {
    random.reseed(i);
    draft.reset();
    proposal.clear();
    uag::draft_request req{.max_tokens = 3, .sample = true, .want_q = true, .target_vocab_size = V,
                           .sampling = &cfg.sampling, .random = &random};
    draft.propose(f.prompt, req, proposal);
    return proposal.tokens;  // what an always-accept verifier would emit
  }, probs, V);
  EXPECT_LT(r.p_value, 0.001) << "chi2 " << r.statistic << " dof " << r.dof;
}

// ---- bad input ----

TEST(generator_test, empty_prompt_without_bos_is_rejected) {
  test_tokenizer tok(6, /*with_bos=*/false);
  test_model target(tok);
  baseline_generator<test_model> gen(target);
  try {
    gen.begin("");
    FAIL() << "expected input_error";
  } catch (const uag::input_error& e) {
    EXPECT_EQ(e.id(), "uag.input.empty_prompt");
  }
}

TEST(generator_test, invalid_configs_are_rejected) {
  test_tokenizer tok;
  test_model target(tok);
  auto expect_config_error = [&](generation_config cfg, const std::string& id) {
    try {
      baseline_generator<test_model> gen(target, cfg);
      FAIL() << "expected config_error " << id;
    } catch (const uag::config_error& e) {
      EXPECT_EQ(e.id(), id) << e.what();
    }
  };
  expect_config_error({.num_draft_tokens = 0}, "uag.config.gamma");
  expect_config_error({.max_new_tokens = 0}, "uag.config.max_new_tokens");
  expect_config_error({.num_draft_tokens = 8, .max_draft_tokens = 4}, "uag.config.max_gamma");
  generation_config c;
  c.sampling.temperature = -0.5f;
  expect_config_error(c, "uag.config.temperature");
  c = {};
  c.sampling.top_p = 0.0f;
  expect_config_error(c, "uag.config.top_p");
  c.sampling.top_p = 1.5f;
  expect_config_error(c, "uag.config.top_p");
  c = {};
  c.sampling.top_k = -1;
  expect_config_error(c, "uag.config.top_k");
  c = {};
  c.sampling.min_p = 1.0f;
  expect_config_error(c, "uag.config.min_p");
  c = {};
  c.sampling.repetition_penalty = 0.0f;
  expect_config_error(c, "uag.config.repetition_penalty");
  for (const float t : {-0.5f, std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    c = {};
    c.batch_tolerance = t;
    expect_config_error(c, "uag.config.batch_tolerance");
  }
  c = {};
  c.stop_strings = {""};
  expect_config_error(c, "uag.config.stop_string");
}

TEST(generator_test, bad_logits_from_the_model_are_typed_errors) {
  test_tokenizer tok;
  const std::pair<test_model::fault, const char*> faults[] = {
      {test_model::fault::wrong_rows, "uag.model.logits_shape"},
      {test_model::fault::wrong_cols, "uag.model.logits_shape"},
      {test_model::fault::nan, "uag.model.logits_nonfinite"},
      {test_model::fault::pos_inf, "uag.model.logits_nonfinite"}};
  for (auto [fault, id] : faults) {
    for (float temperature : {0.0f, 1.0f}) {
      test_model target(tok);
      generation_config cfg;
      cfg.sampling.temperature = temperature;
      baseline_generator<test_model> gen(target, cfg);
      gen.begin_ids(token_vector{0, 2});
      target.set_fault(fault);
      try {
        gen.step();
        FAIL() << "expected model_error " << id;
      } catch (const uag::model_error& e) {
        EXPECT_EQ(e.id(), id) << e.what();
      }
    }
  }
}

TEST(generator_test, out_of_vocabulary_ids_are_rejected) {
  test_tokenizer tok;
  test_model target(tok);
  baseline_generator<test_model> gen(target);
  EXPECT_THROW(gen.begin_ids(token_vector{0, 999}), uag::input_error);
  EXPECT_THROW(gen.begin_ids(token_vector{-1}), uag::input_error);
  struct bad_draft {
    void reset() {}
    void propose(token_span, const uag::draft_request&, uag::draft_proposal& out) { out.tokens.push_back(12345); }
  } bad;
  AssistedGenerator<test_model, bad_draft> agen(target, bad);
  agen.begin_ids(token_vector{0, 2});
  EXPECT_EQ(agen.step(), 1u);  // the first token comes from the target alone: the draft is not asked
  try {
    agen.step();
    FAIL();
  } catch (const uag::model_error& e) {
    EXPECT_EQ(e.id(), "uag.draft.token_range");
  }
}

TEST(generator_test, prompt_that_fills_the_context_is_rejected) {
  test_tokenizer tok;
  test_model target(tok, {.max_context = 4});
  baseline_generator<test_model> gen(target);
  EXPECT_THROW(gen.begin_ids(token_vector{0, 2, 3, 4}), uag::input_error);
}

TEST(generator_test, speculative_verifier_without_q_is_a_config_error) {
  test_tokenizer tok;
  test_model target(tok);
  scripted_draft draft(target, draft_quality::oracle, 1);
  generation_config cfg;
  cfg.sampling.temperature = 1.0f;
  cfg.verifier = uag::sampling_verifier::speculative;
  AssistedGenerator<test_model, scripted_draft> gen(target, draft, cfg);
  gen.begin_ids(token_vector{0, 2});
  EXPECT_EQ(gen.step(), 1u);  // the first token comes from the target alone: nothing to verify
  EXPECT_THROW(gen.step(), uag::config_error);
}

// Error model (README): after step() throws — the target returned bad logits mid-generation, or the
// draft proposed an id outside the vocabulary — the same generator, target and draft can begin() again
// and then produce exactly what fresh objects produce.
TEST(generator_test, begin_after_a_failed_step_gives_a_fresh_generation) {
  test_tokenizer tok;
  for (float temperature : {0.0f, 0.8f}) {
    generation_config cfg{.max_new_tokens = 30};
    cfg.sampling.temperature = temperature;
    cfg.sampling.seed = 3;
    const token_vector prompt{0, 2, 3};
    test_model fresh_target(tok, {.seed = 9, .eos_bias = -9.0f});
    scripted_draft fresh_draft(fresh_target, draft_quality::oracle, 1);
    const run_output expected = run_assisted(fresh_target, fresh_draft, prompt, cfg);
    ASSERT_GE(expected.ids.size(), 10u);

    test_model target(tok, {.seed = 9, .eos_bias = -9.0f});
    scripted_draft draft(target, draft_quality::oracle, 1);
    AssistedGenerator<test_model, scripted_draft> gen(target, draft, cfg);
    gen.begin_ids(prompt);
    gen.step();
    gen.step();
    target.set_fault(test_model::fault::nan);
    EXPECT_THROW(gen.step(), uag::model_error);
    target.set_fault(test_model::fault::none);
    gen.begin_ids(prompt);
    while (!gen.done()) gen.step();
    EXPECT_EQ(token_vector(gen.output_ids().begin(), gen.output_ids().end()), expected.ids) << temperature;
    EXPECT_EQ(gen.text(), expected.text);
  }
}
