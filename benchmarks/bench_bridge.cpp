// Bridge cost per generation step: sync_draft (committed target ids → draft context) plus to_target
// (γ = 5 drafted ids → target candidates), default windows, for several real tokenizer pairs at context
// lengths of 100 and 4000 target tokens. The draft is an oracle emulated from the text (untimed); the
// target accepts the candidates that match its own encoding, then adds its own token. Each step is
// timed alone; counters: median_us and p99_us per step (the per-iteration time is their mean).
// With a bounded window the figures at 100 and 4000 tokens should be the same.
// target_forward: one decode pass (one token, all logits, 128 cached) of the reference transformer with
// bench_model's shape (Llama, 41 M parameters, float32), in the same run: bridge µs / forward µs is the
// bridge's share of a target pass.
// Needs the six tokenizers in the cache (tests/data/tokenizers/fetch_tokenizers.sh).
// bridge_setup/*: the one-time cost of a bridge between different tokenizers (see below).
// Run: build/bin/bench_bridge
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench_support.hpp"
#include "support/bridge_emulation.hpp"
#include "uag/bridge/tokenizer_bridge.hpp"
#include "uag/model/transformer.hpp"
#include "uag/tokenizer/hf_tokenizer.hpp"

namespace {

namespace fs = std::filesystem;

// A long text of prose and code from the corpus (about 60k bytes).
const std::string& long_text() {
  static const std::string text = [] {
    std::string out;
    std::ifstream f(fs::path(UAG_SOURCE_DIR) / "tests" / "data" / "tokenizers" / "corpus.jsonl");
    std::string line;
    while (std::getline(f, line) && out.size() < 60000) {
      if (line.empty()) continue;
      const auto j = nlohmann::json::parse(line);
      const std::string kind = j.value("kind", std::string());
      const std::string t = j.at("text").get<std::string>();
      // Literal special-token strings ("<unk>", "<|endoftext|>") encode to specials: not plain text.
      bool special_like = false;
      for (const char* s : {"<unk>", "<s>", "</s>", "<|", "<bos>", "<eos>", "<pad>", "<start_of", "<end_of", "<mask>"})
        special_like = special_like || t.find(s) != std::string::npos;
      if (!special_like && (kind == "prose" || kind == "code" || kind == "mixed")) out += t + "\n";
    }
    return out;
  }();
  return text;
}

void bridge_step(benchmark::State& state, const std::string& target_name, const std::string& draft_name) {
  const auto* target = uag_bench::cached_tokenizer(target_name);
  const auto* draft = uag_bench::cached_tokenizer(draft_name);
  if (!target || !draft) {
    state.SkipWithError("tokenizer not cached: run tests/data/tokenizers/fetch_tokenizers.sh");
    return;
  }
  const std::size_t context = static_cast<std::size_t>(state.range(0));
  constexpr std::size_t gamma = 5;
  const std::string& text = long_text();
  const uag::token_vector truth = target->encode(text, true);
  const uag_test::emulated_draft<uag::hf_tokenizer> em(*draft, text);
  if (truth.size() < context + 2000) {
    state.SkipWithError("text too short");
    return;
  }
  uag::TokenizerBridge<uag::hf_tokenizer, uag::hf_tokenizer> bridge(*target, *draft);
  bridge.reserve(context + 4096);
  uag::token_vector committed, cands;
  committed.reserve(context + 4096);
  cands.reserve(64);
  std::vector<double> us;
  us.reserve(1 << 16);
  std::size_t steps_since_reset = 1000, accepted = 0, proposed = 0;
  using clock = std::chrono::steady_clock;
  for (auto _ : state) {
    if (steps_since_reset >= 200) {  // back to a prompt of `context` tokens (untimed prompt sync)
      bridge.reset();
      committed.assign(truth.begin(), truth.begin() + static_cast<std::ptrdiff_t>(context));
      bridge.sync_draft(committed);
      steps_since_reset = 0;
    }
    ++steps_since_reset;
    const auto t0 = clock::now();
    bridge.sync_draft(committed);
    const auto t1 = clock::now();
    const uag::token_vector run = em.continuation(bridge.committed_text().size(), gamma);
    const auto t2 = clock::now();
    cands.clear();
    bridge.to_target(run, cands, false);
    const auto t3 = clock::now();
    const double step_us = std::chrono::duration<double, std::micro>((t1 - t0) + (t3 - t2)).count();
    us.push_back(step_us);
    state.SetIterationTime(step_us * 1e-6);
    proposed += cands.size();
    for (uag::token_id c : cands) {
      if (c != truth[committed.size()]) break;
      committed.push_back(c);
      ++accepted;
    }
    committed.push_back(truth[committed.size()]);
  }
  std::sort(us.begin(), us.end());
  if (!us.empty()) {
    state.counters["median_us"] = us[us.size() / 2];
    state.counters["p99_us"] = us[std::min(us.size() - 1, us.size() * 99 / 100)];
  }
  state.counters["accept_rate"] = proposed ? double(accepted) / double(proposed) : 0.0;
}

void target_forward(benchmark::State& state) {
  const uag::model_config c = uag_bench::llama_bench_config();
  uag::transformer m(c, uag::random_weights(c, 1), {.max_context = 1024, .weights = uag::weight_format::f32});
  std::vector<uag::token_id> prompt(128);
  for (std::size_t i = 0; i < prompt.size(); ++i) prompt[i] = static_cast<uag::token_id>((7919 * (i + 1)) % 32000);
  m.forward(prompt, 0);
  const std::vector<uag::token_id> one{3};
  for (auto _ : state) {
    auto l = m.forward(one);
    benchmark::DoNotOptimize(l.data);
    m.truncate(prompt.size());
  }
}
BENCHMARK(target_forward)->UseRealTime()->Unit(benchmark::kMicrosecond);

// One-time setup of a bridge between different tokenizers: the greedy index of each side (built once
// per process and tokenizer, in the TokenizerBridge constructor), side by side with the node-based map
// it replaced (a std::string and a hash node per token), and the constructor itself once the indices
// exist. "bundled_target" / "bundled_draft" are the tokenizers of the bundled pair (<build>/models).
const uag::hf_tokenizer* setup_tokenizer(const std::string& name) {
  static std::map<std::string, std::unique_ptr<uag::hf_tokenizer>> bundled;
  if (name.rfind("bundled_", 0) != 0) return uag_bench::cached_tokenizer(name);
  auto& slot = bundled[name];
  const auto dir = fs::path(UAG_BUNDLED_MODELS_DIR) / name.substr(8);
  if (!slot && fs::exists(dir / "tokenizer.json")) slot = std::make_unique<uag::hf_tokenizer>(uag::hf_tokenizer::from_file(dir));
  return slot.get();
}

void greedy_index_build(benchmark::State& state, const std::string& name) {
  const auto* tok = setup_tokenizer(name);
  if (!tok) return state.SkipWithError("tokenizer not cached: run tests/data/tokenizers/fetch_tokenizers.sh");
  std::size_t n = 0;
  for (auto _ : state) {
    uag::detail::bytes_index index(*tok);
    n = index.size();
    benchmark::DoNotOptimize(n);
  }
  state.counters["tokens"] = static_cast<double>(n);
}

void greedy_index_node_map(benchmark::State& state, const std::string& name) {
  const auto* tok = setup_tokenizer(name);
  if (!tok) return state.SkipWithError("tokenizer not cached: run tests/data/tokenizers/fetch_tokenizers.sh");
  for (auto _ : state) {
    std::unordered_map<std::string, uag::token_id> ids;
    ids.reserve(tok->vocab_size());
    for (std::size_t k = tok->vocab_size(); k-- > 0;) {
      const auto id = static_cast<uag::token_id>(k);
      if (tok->is_special(id)) continue;
      const std::string_view b = tok->token_bytes(id);
      if (!b.empty()) ids.try_emplace(std::string(b), id);
    }
    benchmark::DoNotOptimize(ids.size());
  }
}

void bridge_construct(benchmark::State& state, const std::string& target_name, const std::string& draft_name) {
  const auto* target = setup_tokenizer(target_name);
  const auto* draft = setup_tokenizer(draft_name);
  if (!target || !draft) return state.SkipWithError("tokenizer not cached: run tests/data/tokenizers/fetch_tokenizers.sh");
  { uag::TokenizerBridge<uag::hf_tokenizer, uag::hf_tokenizer> warm(*target, *draft); }  // indices built
  for (auto _ : state) {
    uag::TokenizerBridge<uag::hf_tokenizer, uag::hf_tokenizer> bridge(*target, *draft);
    bridge.reserve(2048);
    benchmark::DoNotOptimize(bridge.same_tokenizer());
  }
}

void register_all() {
  for (const std::string name : {"qwen3", "bundled_target", "bundled_draft"}) {
    benchmark::RegisterBenchmark(("bridge_setup/greedy_index/" + name).c_str(),
                                 [name](benchmark::State& s) { greedy_index_build(s, name); })
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("bridge_setup/node_map_before/" + name).c_str(),
                                 [name](benchmark::State& s) { greedy_index_node_map(s, name); })
        ->Unit(benchmark::kMillisecond);
  }
  for (const auto& [t, d] : std::vector<std::pair<std::string, std::string>>{{"qwen3", "bundled_draft"},
                                                                             {"bundled_target", "bundled_draft"}})
    benchmark::RegisterBenchmark(("bridge_setup/construct_indices_built/" + t + "<-" + d).c_str(),
                                 [t = t, d = d](benchmark::State& s) { bridge_construct(s, t, d); })
        ->Unit(benchmark::kMicrosecond);

  // (target, draft): the twelve ordered pairs of the bridge tests.
  const std::vector<std::pair<std::string, std::string>> pairs{
      {"llama2", "llama3"}, {"llama3", "llama2"}, {"gemma3", "gpt4o"},       {"gpt4o", "gemma3"},
      {"qwen3", "llama3"},  {"llama3", "qwen3"},  {"deepseek_v3", "qwen3"},  {"qwen3", "gemma3"},
      {"gemma3", "llama2"}, {"llama2", "gemma3"}, {"gpt4o", "deepseek_v3"}, {"deepseek_v3", "llama2"}};
  for (const auto& pair : pairs)
    for (long ctx : {100L, 4000L}) {
      const std::string t = pair.first, d = pair.second;  // clang 14: no capture of structured bindings
      benchmark::RegisterBenchmark(("bridge_step/" + t + "<-" + d + "/ctx").c_str(),
                                   [t, d](benchmark::State& s) { bridge_step(s, t, d); })
          ->Arg(ctx)
          ->UseManualTime()
          ->Unit(benchmark::kMicrosecond);
    }
}
const int registered = (register_all(), 0);

}  // namespace
