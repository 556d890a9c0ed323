// libFuzzer harness for the AssistedGenerator with random small test models (tests/support/test_doubles.hpp).
// The input picks the model seeds and shape, the prompt, γ, the draft-length policy, max tokens, stop
// strings, repetition penalty and the draft (scripted qualities, a model draft, a bridged draft with
// another vocabulary in text or TLI mode, prompt lookup).
// Invariants (a violation aborts): greedy assisted output == target-only output (ids, text, stop reason);
// streamed text == final text; every step commits >= 1 token; sampled runs only throw uag::error for
// nothing (they must not throw at all for valid settings). One generator object is reused for a second
// begin() to check that a fresh generation gives the same result.
// Run: nice -n 19 build-fuzz/tests/fuzz/fuzz_generator -max_total_time=600 tests/fuzz/corpus/generator
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "support/test_doubles.hpp"
#include "uag/bridge/bridged_draft.hpp"
#include "uag/draft/model_draft.hpp"
#include "uag/draft/prompt_lookup.hpp"
#include "uag/generation/assisted_generator.hpp"

namespace {

using namespace uag_test;

struct reader {
  const std::uint8_t* p;
  std::size_t n;
  std::uint8_t byte() {
    if (n == 0) return 0;
    --n;
    return *p++;
  }
};

struct run_output {
  token_vector ids;
  std::string text;
  uag::stop_reason reason;
};

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_generator invariant broken: %s\n", what);
  std::abort();
}

template <class Gen>
run_output drive(Gen& gen, const token_vector& prompt) {
  std::string streamed;
  gen.on_text([&](std::string_view s) { streamed += s; });
  gen.begin_ids(prompt);
  while (!gen.done())
    if (gen.step() < 1) fail("step committed no token");
  if (streamed != gen.text()) fail("streamed text != final text");
  return {token_vector(gen.output_ids().begin(), gen.output_ids().end()), gen.text(), gen.stats().reason};
}

template <class Draft>
void check(test_model& target, Draft& draft, const token_vector& prompt, const uag::generation_config& cfg,
           const run_output& base) {
  uag::AssistedGenerator<test_model, Draft> gen(target, draft, cfg);
  const run_output out = drive(gen, prompt);
  if (cfg.sampling.greedy()) {
    if (out.ids != base.ids) fail("greedy assisted ids != baseline ids");
    if (out.text != base.text) fail("greedy assisted text != baseline text");
    if (out.reason != base.reason) fail("greedy assisted stop reason != baseline");
  }
  const run_output again = drive(gen, prompt);  // the same generator, begun again
  if (cfg.sampling.greedy()) {
    if (again.ids != out.ids || again.text != out.text) fail("a second begin() on the same generator differs");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 8) return 0;
  reader r{data, size};
  static const test_tokenizer tok;
  test_model_config mc;
  mc.seed = r.byte() | (static_cast<std::uint64_t>(r.byte()) << 8);
  mc.order = 1 + r.byte() % 4;
  mc.sharpness = 0.25f + static_cast<float>(r.byte() % 64) / 4.0f;
  mc.eos_bias = -8.0f + static_cast<float>(r.byte() % 40) / 4.0f;
  mc.max_context = 4 + r.byte() % 120;
  test_model target(tok, mc);

  token_vector prompt;
  const std::uint8_t pb = r.byte();
  if (pb & 0x80) prompt.push_back(0);
  for (std::size_t n = pb % 12; n > 0; --n) prompt.push_back(static_cast<token_id>(r.byte() % tok.vocab_size()));
  if (prompt.empty()) prompt.push_back(2);
  if (prompt.size() >= mc.max_context) prompt.resize(mc.max_context - 1);

  uag::generation_config cfg;
  const std::uint8_t k = r.byte();
  cfg.max_new_tokens = 1 + r.byte() % 80;
  cfg.draft_policy = static_cast<uag::draft_length_policy>(k % 4);
  cfg.num_draft_tokens = 1 + r.byte() % 12;
  cfg.max_draft_tokens = cfg.num_draft_tokens + r.byte() % 12;
  cfg.confidence_threshold = static_cast<float>(r.byte() % 100) / 100.0f;
  cfg.stop_at_eos = (k & 0x10) == 0;
  if (k & 0x20) cfg.sampling.repetition_penalty = 0.5f + static_cast<float>(r.byte() % 8) / 4.0f;
  if (k & 0x40) cfg.eos_ids.push_back(static_cast<token_id>(r.byte() % tok.vocab_size()));
  const bool sampled = (k & 0x80) != 0;
  if (sampled) {
    cfg.sampling.temperature = 0.1f + static_cast<float>(r.byte() % 20) / 10.0f;
    cfg.sampling.top_k = r.byte() % 6;
    cfg.sampling.top_p = 0.05f + static_cast<float>(r.byte() % 20) / 20.0f;
    if (cfg.sampling.top_p > 1.0f) cfg.sampling.top_p = 1.0f;
    cfg.sampling.min_p = static_cast<float>(r.byte() % 10) / 10.0f;
    cfg.sampling.seed = r.byte();
    cfg.verifier = static_cast<uag::sampling_verifier>(r.byte() % 3);
  }
  // Stop strings: a few bytes of the vocabulary's pieces (possibly half a UTF-8 character).
  static const char* kPieces[] = {"a", "b", "c", "d", "e", "f", " ", "ab", " the", "\n", "\xC3", "\xA9", "\xC3\xA9", "zz"};
  for (std::size_t n = r.byte() % 3; n > 0; --n) {
    std::string s;
    for (std::size_t m = 1 + r.byte() % 3; m > 0; --m) s += kPieces[r.byte() % (sizeof kPieces / sizeof *kPieces)];
    cfg.stop_strings.push_back(s);
  }

  run_output base;
  try {
    uag::baseline_generator<test_model> gen(target, cfg);
    base = drive(gen, prompt);
  } catch (const uag::error&) {
    return 0;  // e.g. a verifier that needs q from a draft that gives none: typed, fine
  }

  const std::uint8_t dq = r.byte();
  const std::uint64_t dseed = r.byte();
  try {
    switch (dq % 7) {
      case 5: {  // a model draft: a different (or the same) test model, sometimes with extra vocabulary
        test_model_config dc = mc;
        dc.seed = dq & 0x80 ? mc.seed : mc.seed + 1 + dseed;
        dc.extra_vocab = (dq >> 3) % 3;
        dc.max_context = 4 + r.byte() % 140;
        // A trailing byte (0 when the input ends) picks a bridged draft with another vocabulary instead.
        const std::uint8_t bridged = r.byte() % 3;
        if (bridged == 0) {
          test_model draft_model(tok, dc);
          uag::model_draft<test_model> draft(draft_model);
          check(target, draft, prompt, cfg, base);
        } else {
          const test_tokenizer other(3 + dseed % 5);  // shares a prefix of the target's letters
          test_model draft_model(other, dc);
          uag::bridged_draft<test_model, test_tokenizer> draft(
              draft_model, tok, {.mode = bridged == 1 ? uag::bridge_mode::text : uag::bridge_mode::tli});
          check(target, draft, prompt, cfg, base);
        }
        break;
      }
      case 6: {
        uag::prompt_lookup_draft draft;
        check(target, draft, prompt, cfg, base);
        break;
      }
      default: {
        scripted_draft draft(target, static_cast<draft_quality>(dq % 5), dseed);
        check(target, draft, prompt, cfg, base);
        break;
      }
    }
  } catch (const uag::config_error& e) {
    if (e.id() != "uag.config.verifier") throw;  // speculative verifier with a draft that gives no q: documented
  } catch (const uag::error& e) {
    std::fprintf(stderr, "fuzz_generator: assisted run threw where the baseline did not: %s\n", e.what());
    std::abort();
  }
  return 0;
}
