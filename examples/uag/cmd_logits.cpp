// uag logits: run the reference transformer over token ids and dump the logits (for parity checks
// against other implementations), optionally continuing greedily.
#include <bit>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "cli.hpp"
#include "uag/model/transformer.hpp"

namespace uag_cli {
namespace {

constexpr const char* logits_help = R"(usage: uag logits --model DIR --ids 1,2,3 --out FILE [--greedy N] [--threads T]

Loads a Hugging Face model folder (config.json + model.safetensors or model.safetensors.index.json;
Llama, Mistral, Qwen2, Qwen3) into the reference transformer, runs one forward pass over the ids and
writes the logits of every position to FILE as little-endian float32, row-major (ids x vocab).

  --model DIR    model folder (required)
  --ids LIST     comma-separated token ids (required, at least one)
  --out FILE     where to write the logits (required)
  --greedy N     then decode N tokens greedily (argmax, ties to the lowest id) and print them as a
                 JSON array on stdout
  --threads T    OpenMP threads (default: all cores))";

std::vector<uag::token_id> parse_ids(const std::string& s) {
  std::vector<uag::token_id> ids;
  std::size_t i = 0;
  while (i <= s.size()) {
    const std::size_t comma = std::min(s.find(',', i), s.size());
    const std::string item = s.substr(i, comma - i);
    std::size_t pos = 0;
    long long v = -1;
    try {
      v = std::stoll(item, &pos);
    } catch (...) {
      pos = 0;
    }
    if (item.empty() || pos != item.size() || v < 0 || v > 0x7fffffffLL)
      throw usage_error("--ids must be comma-separated non-negative integers, got '" + item + "'");
    ids.push_back(static_cast<uag::token_id>(v));
    i = comma + 1;
  }
  return ids;
}

std::size_t parse_count(const std::string& flag, const std::string& v, std::size_t hi) {
  std::size_t pos = 0;
  long long x = -1;
  try {
    x = std::stoll(v, &pos);
  } catch (...) {
    pos = 0;
  }
  if (pos != v.size() || x < 0 || static_cast<unsigned long long>(x) > hi)
    throw usage_error("--" + flag + " must be an integer in [0, " + std::to_string(hi) + "], got '" + v + "'");
  return static_cast<std::size_t>(x);
}

int logits_main(std::vector<std::string> argv) {
  static_assert(std::endian::native == std::endian::little, "logits are written in host order");
  args a(std::move(argv));
  const auto model = a.take("model");
  const auto ids_text = a.take("ids");
  const auto out = a.take("out");
  const auto greedy_text = a.take("greedy");
  const auto threads_text = a.take("threads");
  a.finish();
  if (!model) throw usage_error("--model is required");
  if (!ids_text) throw usage_error("--ids is required");
  if (!out) throw usage_error("--out is required");
  const auto ids = parse_ids(*ids_text);
  const std::size_t greedy = greedy_text ? parse_count("greedy", *greedy_text, 1 << 20) : 0;
  uag::transformer_options options;
  if (threads_text) options.n_threads = static_cast<int>(parse_count("threads", *threads_text, 1024));
  if (!std::filesystem::is_directory(*model))
    throw uag::io_error("cli.model_dir", "model folder '" + *model + "' does not exist");
  auto m = uag::transformer::from_folder(*model, options);

  const uag::logits_view l = m.forward(ids);
  {
    std::ofstream f(*out, std::ios::binary | std::ios::trunc);
    if (!f) throw uag::io_error("io.open", "cannot write '" + *out + "'");
    f.write(reinterpret_cast<const char*>(l.data), static_cast<std::streamsize>(l.rows * l.cols * sizeof(float)));
    if (!f) throw uag::io_error("io.write", "writing '" + *out + "' failed");
  }
  if (greedy_text) {
    auto argmax = [](std::span<const float> row) {
      return static_cast<uag::token_id>(std::max_element(row.begin(), row.end()) - row.begin());
    };
    std::vector<uag::token_id> gen;
    uag::token_id next = argmax(l.row(l.rows - 1));
    for (std::size_t i = 0; i < greedy; ++i) {
      gen.push_back(next);
      if (i + 1 == greedy) break;
      const uag::logits_view s = m.forward(std::span<const uag::token_id>(&gen.back(), 1));
      next = argmax(s.row(0));
    }
    std::printf("[");
    for (std::size_t i = 0; i < gen.size(); ++i) std::printf("%s%d", i ? ", " : "", gen[i]);
    std::printf("]\n");
  }
  return 0;
}

const registration reg("logits", {"dump a model's logits for token ids (parity checks), optionally greedy", logits_help,
                                  logits_main});

}  // namespace
}  // namespace uag_cli
