// Tests of the llama.cpp adapter (uag/adapters/llama_cpp.hpp): logits against transformers 5.17's
// reference logits on the random test models (GGUF conversions made by tests/data/gguf/make_gguf.py),
// batch invariance of llama.cpp's CPU rows, the llama_vocab tokenizer against hf_tokenizer on the
// tokenizer corpus, assisted == target-only greedy output in every backend mix, and typed errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "uag/adapters/llama_cpp.hpp"
#include "uag/bridge/bridged_draft.hpp"
#include "uag/generation/assisted_generator.hpp"
#include "uag/model/model_with_tokenizer.hpp"
#include "uag/model/transformer.hpp"
#include "uag/tokenizer/hf_tokenizer.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

static_assert(uag::causal_lm<uag::llama_cpp_model>);
static_assert(uag::causal_lm_with_partial_logits<uag::llama_cpp_model>);
static_assert(uag::has_tokenizer<uag::llama_cpp_model>);
static_assert(uag::tokenizer<uag::llama_cpp_tokenizer>);

const fs::path gguf_dir = UAG_GGUF_DIR;
const fs::path models_dir = fs::path(UAG_TEST_DATA_DIR) / "models";
const fs::path bundled_dir = UAG_BUNDLED_MODELS_DIR;

using pretrained = uag::model_with_tokenizer<uag::transformer, uag::hf_tokenizer>;

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct reference {
  std::vector<uag::token_id> ids;  // input + greedy
  std::vector<uag::token_id> greedy;
  std::size_t n_input = 0;
  std::vector<float> logits;  // (rows, vocab)
  std::size_t rows = 0, vocab = 0;
  std::size_t window = 0;     // sliding window of the HF model (0 = none)
};

reference load_reference(const std::string& name) {
  const json j = json::parse(read_text(models_dir / name / "reference.json"));
  const json c = json::parse(read_text(models_dir / name / "config.json"));
  reference r;
  r.ids = j["input_ids"].get<std::vector<uag::token_id>>();
  r.n_input = r.ids.size();
  r.greedy = j["greedy"].get<std::vector<uag::token_id>>();
  r.ids.insert(r.ids.end(), r.greedy.begin(), r.greedy.end());
  r.rows = j["logits_rows"].get<std::size_t>();
  r.vocab = j["vocab_size"].get<std::size_t>();
  if (c.contains("sliding_window") && c["sliding_window"].is_number()) r.window = c["sliding_window"].get<std::size_t>();
  const std::string bytes = read_text(models_dir / name / j["logits_file"].get<std::string>());
  r.logits.resize(bytes.size() / 4);
  std::memcpy(r.logits.data(), bytes.data(), r.logits.size() * 4);
  return r;
}

// UAG_TEST_GPU_LAYERS=N|all runs every model of this file with N layers on llama.cpp's GPU backend (the
// H200 run of issue 16); unset, everything stays on the CPU.
int test_gpu_layers() {
  const char* v = std::getenv("UAG_TEST_GPU_LAYERS");
  if (!v || !*v) return 0;
  return std::string(v) == "all" ? -1 : std::stoi(v);
}

// Rows are bit-identical between batched and single-token passes on the CPU backend without llamafile;
// GPU kernels pick other reduction orders for other batch sizes, so there the tests bound the difference.
bool expect_batch_invariant() { return uag::llama_cpp_batch_invariant() && test_gpu_layers() == 0; }

// On a GPU, F32 products may run in reduced precision (cuBLAS) and other batch sizes take other kernels:
// bounds measured on the H200 (max 0.0085 against transformers, 0.015 batched vs single), with headroom.
constexpr float kGpuReferenceBound = 2e-2f, kGpuBatchBound = 5e-2f;

uag::llama_cpp_options test_options(bool f32_kv = true, std::size_t n_ctx = 0) {
  uag::llama_cpp_options o;
  o.n_threads = 1;
  o.n_gpu_layers = test_gpu_layers();
  o.f16_kv_cache = !f32_kv;
  o.n_ctx = n_ctx;
  return o;
}

std::size_t argmax(std::span<const float> row) {
  return static_cast<std::size_t>(std::max_element(row.begin(), row.end()) - row.begin());
}

// ---------------------------------------------------------------------------------------------------------
// Logits parity with transformers (F32 weights, F32 KV cache).

class llama_cpp_arch_test : public ::testing::TestWithParam<std::string> {};

TEST_P(llama_cpp_arch_test, logits_match_transformers_reference) {
  const reference ref = load_reference(GetParam());
  auto m = uag::llama_cpp_model::from_file(gguf_dir / (GetParam() + ".gguf"), test_options());
  ASSERT_EQ(m.vocab_size(), ref.vocab);
  const uag::logits_view v = m.forward(ref.ids);
  ASSERT_EQ(v.rows, ref.rows);
  // llama.cpp's "llama" architecture (which Mistral converts to) attends to the whole context: compare
  // Mistral only where HF's sliding window does not cut anything.
  const std::size_t rows = ref.window ? std::min(ref.rows, ref.window) : ref.rows;
  float worst = 0;
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < ref.vocab; ++c)
      worst = std::max(worst, std::abs(v.data[r * ref.vocab + c] - ref.logits[r * ref.vocab + c]));
  EXPECT_LE(worst, test_gpu_layers() ? kGpuReferenceBound : 1e-4f)
      << GetParam() << ": max |llama.cpp - transformers| over " << rows << " rows";
  std::cout << "[ llama.cpp ] " << GetParam() << ": max |logit diff| " << worst << " over " << rows << " rows\n";
  for (std::size_t r = ref.n_input - 1; r + 1 < std::min(rows, ref.rows); ++r)
    EXPECT_EQ(static_cast<uag::token_id>(argmax(v.row(r))), ref.ids[r + 1]) << "row " << r;
}

TEST_P(llama_cpp_arch_test, batched_rows_equal_single_token_rows) {
  const reference ref = load_reference(GetParam());
  for (const bool f32_kv : {true, false}) {
    auto m = uag::llama_cpp_model::from_file(gguf_dir / (GetParam() + ".gguf"), test_options(f32_kv));
    const std::size_t V = m.vocab_size();
    std::vector<float> single;
    for (const uag::token_id id : ref.ids) {
      const auto v = m.forward(uag::token_span(&id, 1));
      single.insert(single.end(), v.data, v.data + V);
    }
    // The same ids again in verification-sized chunks, after a prefix: rows must not depend on the batch.
    for (const std::size_t k : {2u, 3u, 5u, 8u}) {
      m.truncate(0);
      std::size_t pos = 0;
      float worst = 0;
      while (pos < ref.ids.size()) {
        const std::size_t n = std::min(k, ref.ids.size() - pos);
        const auto v = m.forward(uag::token_span(ref.ids).subspan(pos, n));
        for (std::size_t i = 0; i < n * V; ++i) worst = std::max(worst, std::abs(v.data[i] - single[pos * V + i]));
        pos += n;
      }
      if (expect_batch_invariant()) {
        EXPECT_EQ(worst, 0.0f) << GetParam() << " k=" << k << (f32_kv ? " F32" : " F16") << " KV";
      } else {
        EXPECT_LE(worst, test_gpu_layers() ? kGpuBatchBound : 1e-3f) << "rows differ in the last bits only";
        std::cout << "[ llama.cpp ] " << GetParam() << " k=" << k << ": max |batched - single| " << worst
                  << ", measured batch tolerance " << m.batch_tolerance() << "\n";
      }
    }
    // The generator's guard: 0 (nothing to guard) exactly where rows are bit-identical.
    if (expect_batch_invariant()) EXPECT_EQ(m.batch_tolerance(), 0.0f);
    else EXPECT_GT(m.batch_tolerance(), 0.0f);
    // Rolling back and re-decoding gives the same rows (truncate through llama_memory_seq_rm).
    m.truncate(ref.n_input);
    const auto v = m.forward(uag::token_span(ref.ids).subspan(ref.n_input, 4));
    for (std::size_t i = 0; i < 4 * V; ++i) {
      if (expect_batch_invariant()) ASSERT_EQ(v.data[i], single[ref.n_input * V + i]);
      else ASSERT_NEAR(v.data[i], single[ref.n_input * V + i], test_gpu_layers() ? kGpuBatchBound : 1e-3f);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(llama_cpp_test, llama_cpp_arch_test, ::testing::Values("llama", "mistral", "qwen2", "qwen3"));

TEST(llama_cpp_test, reports_batch_invariance_of_this_build) {
  // cmake/fetch_llama_cpp.sh builds with GGML_LLAMAFILE=OFF; a user's llama.cpp may not be.
  std::cout << "[ llama.cpp ] llamafile sgemm: " << (uag::llama_cpp_batch_invariant() ? "off" : "on") << "\n";
  SUCCEED();
}

TEST(llama_cpp_test, partial_logits_are_the_last_rows_of_a_full_forward) {
  const reference ref = load_reference("qwen3");
  auto a = uag::llama_cpp_model::from_file(gguf_dir / "qwen3.gguf", test_options());
  auto b = uag::llama_cpp_model::from_file(gguf_dir / "qwen3.gguf", test_options());
  const auto full = a.forward(ref.ids);
  const auto last = b.forward(ref.ids, 3);
  ASSERT_EQ(last.rows, 3u);
  EXPECT_EQ(b.n_cached(), ref.ids.size());
  for (std::size_t i = 0; i < 3 * a.vocab_size(); ++i) {
    // On a GPU the number of output rows changes the kernels too.
    if (test_gpu_layers()) ASSERT_NEAR(last.data[i], full.data[(ref.ids.size() - 3) * a.vocab_size() + i], kGpuBatchBound);
    else ASSERT_EQ(last.data[i], full.data[(ref.ids.size() - 3) * a.vocab_size() + i]);
  }
  EXPECT_EQ(b.forward(uag::token_span(ref.ids).first(2), 0).rows, 0u);
}

// Quantized copies of the bundled target: llama.cpp's CPU backend repacks some quantized types (Q4_0,
// Q4_K, Q8_0 on AVX-512) into interleaved layouts with their own kernels: check their rows too.
TEST(llama_cpp_test, quantized_batched_rows_equal_single_token_rows) {
  const std::vector<uag::token_id> ids = {1, 851, 2887, 12, 28705, 13, 1270, 4, 13, 2287, 400, 579, 264, 1552, 13};
  for (const char* q : {"target-q8_0.gguf", "target-q4_k_m.gguf", "target-f16.gguf"}) {
    if (!fs::exists(gguf_dir / q)) GTEST_SKIP() << q << " missing (no llama-quantize)";
    auto m = uag::llama_cpp_model::from_file(gguf_dir / q, test_options(false, 256));
    const std::size_t V = m.vocab_size();
    std::vector<float> single;
    for (const uag::token_id id : ids) {
      const auto v = m.forward(uag::token_span(&id, 1));
      single.insert(single.end(), v.data, v.data + V);
    }
    m.truncate(0);
    const auto first = m.forward(uag::token_span(ids).first(7));
    float worst = 0;
    for (std::size_t i = 0; i < 7 * V; ++i) worst = std::max(worst, std::abs(first.data[i] - single[i]));
    const auto rest = m.forward(uag::token_span(ids).subspan(7));
    for (std::size_t i = 0; i < (ids.size() - 7) * V; ++i) worst = std::max(worst, std::abs(rest.data[i] - single[7 * V + i]));
    std::cout << "[ llama.cpp ] " << q << ": max |batched - single| " << worst << ", measured batch tolerance "
              << m.batch_tolerance() << "\n";
    if (expect_batch_invariant()) {
      EXPECT_EQ(worst, 0.0f) << q;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Tokenizer: llama_vocab against hf_tokenizer on the repo's corpus.

std::vector<std::string> corpus() {
  std::vector<std::string> texts;
  std::ifstream in(fs::path(UAG_TEST_DATA_DIR) / "tokenizers" / "corpus.jsonl");
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) texts.push_back(json::parse(line)["text"].get<std::string>());
  return texts;
}

TEST(llama_cpp_test, target_vocab_tokenizer_matches_hf_tokenizer_on_corpus) {
  const auto hf = uag::hf_tokenizer::from_file(bundled_dir / "target");
  const auto lt = uag::llama_cpp_tokenizer::from_file(gguf_dir / "target-f32.gguf");
  ASSERT_EQ(lt.vocab_size(), hf.vocab_size());
  EXPECT_EQ(lt.bos_id(), hf.bos_id());
  EXPECT_EQ(lt.eos_id(), hf.eos_id());
  const auto texts = corpus();
  ASSERT_GT(texts.size(), 2000u);
  std::size_t encode_diff = 0, decode_diff = 0;
  for (const auto& t : texts) {
    const auto a = hf.encode(t, true);
    const auto b = lt.encode(t, true);
    if (a != b) {
      if (++encode_diff <= 3) ADD_FAILURE() << "encode differs on: " << t.substr(0, 80);
      continue;
    }
    if (hf.decode(a, true) != lt.decode(b, true) && ++decode_diff <= 3)
      ADD_FAILURE() << "decode differs on: " << t.substr(0, 80);
  }
  std::cout << "[ llama.cpp ] target tokenizer: " << texts.size() << " texts, encode mismatches " << encode_diff
            << ", decode mismatches " << decode_diff << "\n";
  for (uag::token_id id = 0; id < static_cast<uag::token_id>(hf.vocab_size()); ++id) {
    ASSERT_EQ(lt.is_special(id), hf.is_special(id)) << id;
    ASSERT_EQ(lt.token_bytes(id), hf.token_bytes(id)) << id;
  }
}

// The bundled draft: a byte-level BPE ("gpt2" vocabulary in the GGUF) whose tokenizer.json isolates "\n"
// before GPT-2's regex; llama.cpp's GPT-2 pre-tokenizer agrees with it on the whole corpus.
TEST(llama_cpp_test, draft_vocab_tokenizer_matches_hf_tokenizer_on_corpus) {
  const auto hf = uag::hf_tokenizer::from_file(bundled_dir / "draft");
  const auto lt = uag::llama_cpp_tokenizer::from_file(gguf_dir / "draft-f32.gguf");
  ASSERT_EQ(lt.vocab_size(), hf.vocab_size());
  const auto texts = corpus();
  std::size_t encode_diff = 0;
  for (const auto& t : texts) {
    const auto b = lt.encode(t, false);
    if (hf.encode(t, false) != b) ++encode_diff;
    ASSERT_EQ(lt.decode(b, false), t);
    ASSERT_EQ(hf.decode(b, false), t) << "llama.cpp's ids are valid tokenizations for HF too";
  }
  std::cout << "[ llama.cpp ] draft tokenizer: " << texts.size() << " texts, encode mismatches " << encode_diff << "\n";
  EXPECT_EQ(encode_diff, 0u);
  for (uag::token_id id = 0; id < static_cast<uag::token_id>(hf.vocab_size()); ++id)
    ASSERT_EQ(lt.token_bytes(id), hf.token_bytes(id)) << id;
}

TEST(llama_cpp_test, tokenizer_errors_are_typed) {
  const auto lt = uag::llama_cpp_tokenizer::from_file(gguf_dir / "target-f32.gguf");
  try {
    lt.encode("bad \xff utf-8", false);
    FAIL();
  } catch (const uag::input_error& e) {
    EXPECT_EQ(e.id(), "uag.tokenizer.utf8");
  }
  const uag::token_vector bad = {5, 99999};
  try {
    (void)lt.decode(bad, true);
    FAIL();
  } catch (const uag::input_error& e) {
    EXPECT_EQ(e.id(), "uag.tokenizer.id");
  }
  EXPECT_EQ(lt.token_bytes(-1), "");
  EXPECT_EQ(lt.decode(uag::token_vector{}, true), "");
}

// ---------------------------------------------------------------------------------------------------------
// Assisted generation: greedy output equals target-only output, token for token, in every backend mix.

const std::vector<std::string> prompts = {
    "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n",
    "import os\nimport sys\n\n\ndef main(argv):\n",
    "class Stack:\n    def __init__(self):\n",
    "    for i in range(len(xs)):\n        if xs[i] ==",
};

uag::generation_config greedy_config(std::size_t gamma) {
  uag::generation_config cfg;
  cfg.max_new_tokens = 40;
  cfg.draft_policy = gamma ? uag::draft_length_policy::constant : uag::draft_length_policy::adaptive;
  cfg.num_draft_tokens = gamma ? gamma : 5;
  return cfg;
}

template <class Target>
std::vector<uag::token_vector> target_only(Target& target) {
  std::vector<uag::token_vector> out;
  uag::baseline_generator<Target> gen(target, greedy_config(0));
  for (const auto& p : prompts) {
    gen.generate(p);
    out.emplace_back(gen.output_ids().begin(), gen.output_ids().end());
  }
  return out;
}

// The gap between target-only decoding's two best logits before output token k of prompt (decoded as
// baseline_generator does: prefill of all but the last prompt id, then one id per pass).
// best: target-only's choice there (the test below checks it against the generator's output).
template <class Target>
float target_only_margin(Target& target, const std::string& prompt, const uag::token_vector& output, std::size_t k,
                         uag::token_id* best = nullptr) {
  uag::token_vector ids = target.tokenizer().encode(prompt, true);
  target.truncate(0);
  if (ids.size() > 1) uag::forward_last_rows(target, uag::token_span(ids).first(ids.size() - 1), 0);
  ids.insert(ids.end(), output.begin(), output.begin() + static_cast<std::ptrdiff_t>(k));
  uag::logits_view row{};
  for (std::size_t j = ids.size() - k - 1; j < ids.size(); ++j) row = target.forward(uag::token_span(ids).subspan(j, 1));
  std::vector<float> r(row.data, row.data + row.cols);
  if (best) *best = static_cast<uag::token_id>(std::max_element(r.begin(), r.end()) - r.begin());
  std::partial_sort(r.begin(), r.begin() + 2, r.end(), std::greater<float>());
  target.truncate(0);
  return r[0] - r[1];
}

// On a GPU, KV entries written by batched verification passes differ in the last bits from those written
// one token at a time, so a later near-tie can fall the other way although every batched row was checked
// (AssistedGenerator's batch tolerance). There a differing output must diverge at such a near-tie of
// target-only decoding itself; anywhere else it is a bug.
constexpr float kGpuTieMargin = 0.25f;

template <class Target, class DraftModel>
void expect_assisted_equals(Target& target, DraftModel& draft, const std::vector<uag::token_vector>& expected,
                            const std::string& what, bool expect_fast_path = false) {
  using tok = std::remove_cvref_t<decltype(target.tokenizer())>;
  uag::bridged_draft<DraftModel, tok> source(draft, target.tokenizer());
  EXPECT_EQ(source.same_tokenizer(), expect_fast_path) << what;
  for (const std::size_t gamma : {0u, 1u, 4u}) {
    uag::AssistedGenerator<Target, decltype(source)> gen(target, source, greedy_config(gamma));
    std::size_t accepted = 0;
    for (std::size_t i = 0; i < prompts.size(); ++i) {
      gen.generate(prompts[i]);
      const uag::token_vector out(gen.output_ids().begin(), gen.output_ids().end());
      accepted += gen.stats().accepted;
      if (test_gpu_layers() == 0 || out == expected[i]) {
        ASSERT_EQ(out, expected[i]) << what << ", gamma " << gamma << ", prompt " << i;
        continue;
      }
      const std::size_t k = static_cast<std::size_t>(
          std::mismatch(out.begin(), out.end(), expected[i].begin(), expected[i].end()).first - out.begin());
      ASSERT_LT(k, expected[i].size()) << what << ": output longer than target-only's";
      const float margin = target_only_margin(target, prompts[i], expected[i], k);
      std::cout << "[ llama.cpp ] " << what << ", gamma " << gamma << ", prompt " << i << ": differs from token " << k
                << ", where target-only's top two logits are " << margin << " apart\n";
      EXPECT_LT(margin, kGpuTieMargin) << what << ", gamma " << gamma << ", prompt " << i << ", token " << k;
    }
    if (gamma == 4) {
      EXPECT_GT(accepted, 0u) << what << ": the draft never helped (broken bridge?)";
      std::cout << "[ llama.cpp ] " << what << ": gamma 4 accepted " << accepted << " draft tokens\n";
    }
  }
}

pretrained load_pretrained(const std::string& name) {
  uag::transformer_options o;
  o.n_threads = 1;
  return pretrained(uag::transformer::from_folder(bundled_dir / name, o), uag::hf_tokenizer::from_file(bundled_dir / name));
}

TEST(llama_cpp_test, assisted_equals_target_only_gguf_target_gguf_draft) {
  auto target = uag::llama_cpp_model::from_file(gguf_dir / "target-f32.gguf", test_options(false));
  auto draft = uag::llama_cpp_model::from_file(gguf_dir / "draft-f32.gguf", test_options(false));
  const auto expected = target_only(target);
  expect_assisted_equals(target, draft, expected, "GGUF target + GGUF draft");
  // The near-tie check used on GPUs replays target-only decoding: it must pick what the generator picked.
  for (const std::size_t k : {0u, 5u, 17u}) {
    uag::token_id best = -1;
    EXPECT_GT(target_only_margin(target, prompts[1], expected[1], k, &best), 0.0f);
    EXPECT_EQ(best, expected[1][k]) << "token " << k;
  }
}

TEST(llama_cpp_test, assisted_equals_target_only_gguf_target_safetensors_draft) {
  auto target = uag::llama_cpp_model::from_file(gguf_dir / "target-f32.gguf", test_options(false));
  auto draft = load_pretrained("draft");
  const auto expected = target_only(target);
  expect_assisted_equals(target, draft, expected, "GGUF target + safetensors draft");
}

TEST(llama_cpp_test, assisted_equals_target_only_safetensors_target_gguf_draft) {
  auto target = load_pretrained("target");
  auto draft = uag::llama_cpp_model::from_file(gguf_dir / "draft-f32.gguf", test_options(false));
  const auto expected = target_only(target);
  expect_assisted_equals(target, draft, expected, "safetensors target + GGUF draft");
}

TEST(llama_cpp_test, quantized_targets_and_self_drafting) {
  if (!fs::exists(gguf_dir / "target-q4_k_m.gguf")) GTEST_SKIP() << "no quantized fixtures (no llama-quantize)";
  // A Q8_0 target with the cross-vocabulary draft; equality is against the same Q8_0 target alone.
  auto q8 = uag::llama_cpp_model::from_file(gguf_dir / "target-q8_0.gguf", test_options(false));
  auto draft = uag::llama_cpp_model::from_file(gguf_dir / "draft-f32.gguf", test_options(false));
  expect_assisted_equals(q8, draft, target_only(q8), "Q8_0 target + GGUF draft");
  // Self-drafting: the Q4_K_M copy drafts for its own F16 target; one vocabulary, so the fast path.
  auto f16 = uag::llama_cpp_model::from_file(gguf_dir / "target-f16.gguf", test_options(false));
  auto q4 = uag::llama_cpp_model::from_file(gguf_dir / "target-q4_k_m.gguf", test_options(false));
  EXPECT_EQ(f16.tokenizer().fingerprint(), q4.tokenizer().fingerprint());
  expect_assisted_equals(f16, q4, target_only(f16), "F16 target + Q4_K_M self-draft", true);
}

// ---------------------------------------------------------------------------------------------------------
// Bad input: typed errors, no crash.

template <class E, class F>
void expect_error(F&& f, const std::string& id) {
  try {
    f();
    ADD_FAILURE() << "expected " << id;
  } catch (const E& e) {
    EXPECT_EQ(e.id(), id) << e.what();
  }
}

TEST(llama_cpp_test, bad_files_get_typed_errors) {
  const fs::path dir = fs::path(UAG_BINARY_DIR) / "tests" / "llama_cpp_bad";
  fs::create_directories(dir);
  expect_error<uag::io_error>([&] { uag::llama_cpp_model::from_file(dir / "missing.gguf"); }, "uag.llama_cpp.open");
  expect_error<uag::io_error>([&] { uag::llama_cpp_tokenizer::from_file(dir); }, "uag.llama_cpp.open");
  {
    std::ofstream(dir / "garbage.gguf", std::ios::binary) << "this is not a GGUF file at all";
    expect_error<uag::format_error>([&] { uag::llama_cpp_model::from_file(dir / "garbage.gguf"); },
                                    "uag.llama_cpp.gguf");
  }
  {  // a real GGUF cut in the middle of its tensor data, and one cut inside its header
    const std::string full = read_text(gguf_dir / "llama.gguf");
    std::ofstream(dir / "truncated.gguf", std::ios::binary) << full.substr(0, full.size() / 2);
    try {
      uag::llama_cpp_model::from_file(dir / "truncated.gguf");
      ADD_FAILURE() << "a truncated GGUF loaded";
    } catch (const uag::format_error& e) {
      EXPECT_TRUE(e.id() == "uag.llama_cpp.gguf" || e.id() == "uag.llama_cpp.load") << e.what();
    }
    std::ofstream(dir / "short.gguf", std::ios::binary) << full.substr(0, 100);
    expect_error<uag::format_error>([&] { uag::llama_cpp_model::from_file(dir / "short.gguf"); }, "uag.llama_cpp.gguf");
  }
  {  // a valid GGUF whose architecture llama.cpp does not know
    gguf_context* g = gguf_init_empty();
    gguf_set_val_str(g, "general.architecture", "uag_no_such_arch");
    ASSERT_TRUE(gguf_write_to_file(g, (dir / "unknown_arch.gguf").string().c_str(), false));
    gguf_free(g);
    expect_error<uag::unsupported_error>([&] { uag::llama_cpp_model::from_file(dir / "unknown_arch.gguf"); },
                                         "uag.llama_cpp.architecture");
  }
  {  // a known architecture without its tensors
    gguf_context* g = gguf_init_empty();
    gguf_set_val_str(g, "general.architecture", "llama");
    ASSERT_TRUE(gguf_write_to_file(g, (dir / "no_tensors.gguf").string().c_str(), false));
    gguf_free(g);
    expect_error<uag::format_error>([&] { uag::llama_cpp_model::from_file(dir / "no_tensors.gguf"); },
                                    "uag.llama_cpp.load");
  }
}

TEST(llama_cpp_test, context_overflow_bad_ids_and_bad_truncate_are_typed_errors) {
  // llama.cpp rounds a context up to a multiple of 256: max_context() reports what it gave.
  auto m = uag::llama_cpp_model::from_file(gguf_dir / "llama.gguf", test_options(true, 16));
  const std::size_t n = m.max_context();
  ASSERT_GE(n, 16u);
  const uag::token_vector fill(n - 6, 5);
  m.forward(fill);
  expect_error<uag::input_error>([&] { m.forward(uag::token_span(fill).first(7)); }, "uag.llama_cpp.context");
  EXPECT_EQ(m.n_cached(), n - 6);
  const uag::token_vector bad = {3, 256};
  expect_error<uag::input_error>([&] { m.forward(bad); }, "uag.llama_cpp.token");
  expect_error<uag::model_error>([&] { m.truncate(n - 5); }, "uag.llama_cpp.truncate");
  // Still usable after each error: the cache holds exactly the tokens before them.
  EXPECT_EQ(m.forward(uag::token_span(fill).first(6)).rows, 6u);
  EXPECT_EQ(m.n_cached(), n);
  // A generation longer than the context stops at the context's end; a prompt that fills it is an error.
  uag::llama_cpp_model small = uag::llama_cpp_model::from_file(gguf_dir / "target-f32.gguf", test_options(false, 256));
  uag::generation_config cfg;
  cfg.max_new_tokens = 400;
  cfg.stop_at_eos = false;
  uag::baseline_generator<uag::llama_cpp_model> gen(small, cfg);
  gen.generate("def fibonacci(n):\n");
  EXPECT_EQ(gen.stats().reason, uag::stop_reason::context_full);
  EXPECT_LE(small.n_cached(), small.max_context());
  EXPECT_THROW(gen.generate(std::string(2000, 'x')), uag::input_error);
}

}  // namespace
