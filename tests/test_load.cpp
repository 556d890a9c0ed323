// Load test: 10,000 generations with random prompts and settings (greedy and sampled, every draft-length
// policy and verifier, stop strings, scripted / model / prompt-lookup drafts) on small test models, with
// the heap in use (glibc mallinfo2().uordblks) measured after a warm-up batch and at the end: it must not
// grow. One generator object is also reused across many begin() calls and must match fresh generators.
// Under AddressSanitizer (whose allocator glibc's counters do not see) the heap check is LeakSanitizer's
// job.
#include <gtest/gtest.h>
#include <malloc.h>

#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "support/test_doubles.hpp"
#include "uag/draft/model_draft.hpp"
#include "uag/draft/prompt_lookup.hpp"
#include "uag/generation/assisted_generator.hpp"

#if defined(__SANITIZE_ADDRESS__)
#define UAG_LOAD_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UAG_LOAD_ASAN 1
#endif
#endif
#ifndef UAG_LOAD_ASAN
#define UAG_LOAD_ASAN 0
#endif

using namespace uag_test;

namespace {

constexpr std::size_t kGenerations = 10000;
constexpr std::size_t kWarmup = kGenerations / 10;

std::size_t heap_in_use() { return mallinfo2().uordblks; }

std::string random_prompt(std::mt19937_64& r) {
  static const char* pieces[] = {"a", "b", "c", "d", "e", "f", " ", "ab", " the", "\n", "\xC3\xA9"};
  std::string s;
  for (std::size_t n = r() % 12; n > 0; --n) s += pieces[r() % (sizeof pieces / sizeof *pieces)];
  return s;
}

uag::generation_config random_config(std::mt19937_64& r) {
  uag::generation_config cfg;
  cfg.max_new_tokens = 1 + r() % 48;
  cfg.draft_policy = static_cast<uag::draft_length_policy>(r() % 4);
  cfg.num_draft_tokens = 1 + r() % 8;
  cfg.max_draft_tokens = cfg.num_draft_tokens + r() % 8;
  if (r() % 4 == 0) cfg.sampling.repetition_penalty = 1.3f;
  if (r() % 2 == 0) {
    cfg.sampling.temperature = 0.3f + static_cast<float>(r() % 15) / 10.0f;
    cfg.sampling.top_k = static_cast<int>(r() % 5);
    cfg.sampling.top_p = r() % 2 ? 1.0f : 0.8f;
    cfg.sampling.seed = r();
    cfg.verifier = r() % 2 ? uag::sampling_verifier::automatic : uag::sampling_verifier::exact_match;
  }
  static const char* stops[] = {"ab", " the", "c", "\xC3\xA9", "fe", "\n\n", "zz"};
  for (std::size_t n = r() % 3; n > 0; --n) cfg.stop_strings.push_back(stops[r() % 7]);
  return cfg;
}

template <class Draft>
std::string run(test_model& target, Draft& draft, const std::string& prompt, const uag::generation_config& cfg) {
  uag::AssistedGenerator<test_model, Draft> gen(target, draft, cfg);
  return gen.generate(prompt);
}

// One random generation; returns the number of tokens generated.
std::size_t one_generation(const test_tokenizer& tok, std::mt19937_64& r, std::size_t& greedy_checked) {
  test_model_config mc;
  mc.seed = r();
  mc.sharpness = 0.5f + static_cast<float>(r() % 16) / 2.0f;
  mc.eos_bias = -6.0f + static_cast<float>(r() % 7);
  mc.max_context = 24 + r() % 100;
  test_model target(tok, mc);
  const std::string prompt = random_prompt(r);
  const auto cfg = random_config(r);
  std::string out;
  switch (r() % 5) {
    case 0: {
      uag::baseline_generator<test_model> gen(target, cfg);
      out = gen.generate(prompt);
      break;
    }
    case 1: {
      test_model_config dc = mc;
      dc.seed = r() % 2 ? mc.seed : mc.seed + 1;
      dc.max_context = 16 + r() % 120;
      test_model draft_model(tok, dc);
      uag::model_draft<test_model> draft(draft_model);
      out = run(target, draft, prompt, cfg);
      break;
    }
    case 2: {
      uag::prompt_lookup_draft draft;
      out = run(target, draft, prompt, cfg);
      break;
    }
    default: {
      scripted_draft draft(target, static_cast<draft_quality>(r() % 5), r());
      out = run(target, draft, prompt, cfg);
      break;
    }
  }
  if (cfg.sampling.greedy() && r() % 8 == 0) {  // lossless: a sample of greedy runs against the baseline
    uag::baseline_generator<test_model> base(target, cfg);
    EXPECT_EQ(base.generate(prompt), out);
    ++greedy_checked;
  }
  return out.size();
}

}  // namespace

TEST(load_test, ten_thousand_random_generations_do_not_grow_the_heap) {
  test_tokenizer tok;
  std::mt19937_64 r(8);
  std::size_t chars = 0, greedy_checked = 0;
  for (std::size_t i = 0; i < kWarmup; ++i) chars += one_generation(tok, r, greedy_checked);
  const std::size_t before = heap_in_use();
  for (std::size_t i = kWarmup; i < kGenerations; ++i) chars += one_generation(tok, r, greedy_checked);
  const std::size_t after = heap_in_use();
  const long long growth = static_cast<long long>(after) - static_cast<long long>(before);
  std::printf("[load] %zu generations, %zu output bytes, %zu greedy runs checked against the baseline; heap in use "
              "%zu -> %zu bytes (%+lld)\n",
              kGenerations, chars, greedy_checked, before, after, growth);
  EXPECT_GT(chars, kGenerations);  // the runs did produce text
  EXPECT_GT(greedy_checked, kGenerations / 40);
  if (!UAG_LOAD_ASAN) {
    EXPECT_LT(growth, 16 * 1024) << "heap grew over " << kGenerations - kWarmup << " generations";
  }
}

// One generator object, many begin() calls with different prompts: each result equals a fresh generator's,
// and the heap does not grow once the buffers have reached their size.
TEST(load_test, one_generator_reused_across_many_begins) {
  test_tokenizer tok;
  for (const bool sampled : {false, true}) {
    test_model target(tok, {.seed = 17, .sharpness = 4.0f, .max_context = 160});
    test_model draft_model(tok, {.seed = 18, .sharpness = 4.0f, .max_context = 160});
    uag::model_draft<test_model> draft(draft_model);
    uag::generation_config cfg{.max_new_tokens = 40, .stop_strings = {"fed"}};
    cfg.draft_policy = uag::draft_length_policy::heuristic;
    if (sampled) cfg.sampling = {.temperature = 0.9f, .top_k = 4, .seed = 5};
    uag::AssistedGenerator<test_model, uag::model_draft<test_model>> gen(target, draft, cfg);
    std::mt19937_64 r(sampled ? 2 : 1);
    std::vector<std::string> prompts;
    for (int i = 0; i < 64; ++i) prompts.push_back(random_prompt(r));
    std::size_t before = 0;
    const std::size_t rounds = 20;
    for (std::size_t round = 0; round < rounds; ++round) {
      if (round == 2) before = heap_in_use();
      for (std::size_t i = 0; i < prompts.size(); ++i) {
        const std::string out = gen.generate(prompts[i]);
        if (round == 0 && i % 4 == 0) {  // a fresh generator (fresh draft) gives the same text
          test_model t2(tok, {.seed = 17, .sharpness = 4.0f, .max_context = 160});
          test_model d2(tok, {.seed = 18, .sharpness = 4.0f, .max_context = 160});
          uag::model_draft<test_model> fresh_draft(d2);
          uag::AssistedGenerator<test_model, uag::model_draft<test_model>> fresh(t2, fresh_draft, cfg);
          ASSERT_EQ(fresh.generate(prompts[i]), out) << "prompt " << i << (sampled ? " (sampled)" : " (greedy)");
        }
      }
    }
    const long long growth = static_cast<long long>(heap_in_use()) - static_cast<long long>(before);
    if (!UAG_LOAD_ASAN) {
      EXPECT_LT(growth, 4 * 1024) << (sampled ? "sampled" : "greedy");
    }
  }
}
