// Tokenizer throughput and load time, for comparison with HF tokenizers (measured by
// tests/data/tokenizers/gen_expected.py into hf_reference_throughput.json, same inputs and method):
//   encode/<name>/<code|prose>: single thread, encode(line, add_special_tokens=false) for every corpus line
//                               of that kind; bytes/s = UTF-8 bytes of the lines per second.
//   load/<name>:                hf_tokenizer::from_file(<cache>/<name>) (file read + parse + tables).
// Needs the six tokenizers in the cache (tests/data/tokenizers/fetch_tokenizers.sh).
// Run: build/bin/bench_tokenizer --benchmark_min_time=1
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench_support.hpp"
#include "uag/tokenizer/hf_tokenizer.hpp"

namespace {

namespace fs = std::filesystem;

const std::map<std::string, std::vector<std::string>>& corpus_by_kind() {
  static const auto m = [] {
    std::map<std::string, std::vector<std::string>> out;
    std::ifstream f(fs::path(UAG_SOURCE_DIR) / "tests" / "data" / "tokenizers" / "corpus.jsonl");
    std::string line;
    while (std::getline(f, line)) {
      if (line.empty()) continue;
      const auto j = nlohmann::json::parse(line);
      out[j.value("kind", std::string("other"))].push_back(j.at("text").get<std::string>());
    }
    return out;
  }();
  return m;
}

void encode_lines(benchmark::State& state, const std::string& name, const std::string& kind) {
  const auto* tok = uag_bench::cached_tokenizer(name);
  if (!tok) {
    state.SkipWithError("tokenizer not cached: run tests/data/tokenizers/fetch_tokenizers.sh");
    return;
  }
  const auto it = corpus_by_kind().find(kind);
  if (it == corpus_by_kind().end()) {
    state.SkipWithError("no corpus lines of this kind");
    return;
  }
  const auto& lines = it->second;
  std::size_t bytes = 0, tokens = 0;
  for (const auto& l : lines) bytes += l.size();
  for (auto _ : state) {
    tokens = 0;
    for (const auto& l : lines) {
      const auto ids = tok->encode(l, false);
      tokens += ids.size();
      benchmark::DoNotOptimize(ids.data());
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
  state.counters["tokens_per_line"] = static_cast<double>(tokens) / static_cast<double>(lines.size());
}

void load(benchmark::State& state, const std::string& name) {
  const fs::path dir = uag_bench::tokenizer_cache_dir() / name;
  if (!fs::exists(dir / "tokenizer.json")) {
    state.SkipWithError("tokenizer not cached: run tests/data/tokenizers/fetch_tokenizers.sh");
    return;
  }
  for (auto _ : state) {
    auto tok = uag::hf_tokenizer::from_file(dir);
    benchmark::DoNotOptimize(tok.vocab_size());
  }
  state.counters["file_MB"] = static_cast<double>(fs::file_size(dir / "tokenizer.json")) / 1e6;
}

const bool registered = [] {
  for (const std::string name : {"llama2", "llama3", "qwen3", "gemma3", "gpt4o", "deepseek_v3"}) {
    for (const std::string kind : {"code", "prose"})
      benchmark::RegisterBenchmark(("encode/" + name + "/" + kind).c_str(), encode_lines, name, kind)->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("load/" + name).c_str(), load, name)->Unit(benchmark::kMillisecond)->Iterations(3);
  }
  return true;
}();

}  // namespace
