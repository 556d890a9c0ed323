#pragma once
// Loading Hugging Face model folders for the command line, and the bundled pair's default location.
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <vector>
#include <string>

#include "cli.hpp"
#include "uag/bridge/bridged_draft.hpp"
#include "uag/core/error.hpp"
#include "uag/model/model_with_tokenizer.hpp"
#include "uag/model/transformer.hpp"
#include "uag/tokenizer/hf_tokenizer.hpp"
#if UAG_WITH_LLAMA_CPP
#include "any_model.hpp"
#endif

namespace uag_cli {

#if UAG_WITH_LLAMA_CPP
/// A model folder or a GGUF file (llama.cpp), chosen at run time.
using pretrained = any_model;
/// The draft source for any pair: fast path for identical tokenizers, TokenizerBridge or TLI otherwise.
using pretrained_draft = uag::bridged_draft<pretrained, any_tokenizer>;
#else
/// A transformer with the tokenizer.json beside its weights.
using pretrained = uag::model_with_tokenizer<uag::transformer, uag::hf_tokenizer>;
/// The draft source for any pair: fast path for identical tokenizers, TokenizerBridge or TLI otherwise.
using pretrained_draft = uag::bridged_draft<pretrained, uag::hf_tokenizer>;
#endif

/// Where the bundled pair lives: $UAG_MODELS, else the folder configure assembled it in (<build>/models:
/// the source tree keeps the target's weights compressed and fetches its tokenizer, see
/// cmake/uag_bundled_models.cmake).
inline std::filesystem::path bundled_models_dir() {
  if (const char* env = std::getenv("UAG_MODELS")) return env;
  if (std::string_view(UAG_BUNDLED_MODELS_DIR).empty())
    throw usage_error("this build has no bundled models (UAG_BUNDLED_MODELS=OFF): pass --target and --draft, or set UAG_MODELS");
  return UAG_BUNDLED_MODELS_DIR;
}

/// --target / --draft: the flag's value, else the bundled pair's folder (looked up only when needed).
inline std::string model_flag(args& a, const char* name) {
  if (auto v = a.take(name)) return *v;
  return (bundled_models_dir() / name).string();
}

/// --threads / --draft-threads: 0 = all cores; --gpu-layers / --rpc: llama.cpp placement of a GGUF target.
struct thread_flags {
  int target = 0;
  int draft = 1;  // a small draft is latency-bound: OpenMP fork/join per matmul costs more than it saves
  int gpu_layers = 0;            // target layers llama.cpp offloads (GPU or RPC servers); -1 = all
  std::vector<std::string> rpc;  // rpc-server endpoints holding the target's offloaded layers
  int rpc_timeout_ms = 0;        // bound on each RPC send/receive during decodes; 0 = none
  uag::weight_format weights = uag::weight_format::automatic;  // --weights: model folders (both models)
};

/// --weights auto|f32|bf16|bf16-products.
inline uag::weight_format parse_weight_format(const std::string& v) {
  if (v == "auto") return uag::weight_format::automatic;
  if (v == "f32") return uag::weight_format::f32;
  if (v == "bf16") return uag::weight_format::bf16;
  if (v == "bf16-products") return uag::weight_format::bf16_products;
  throw usage_error("--weights must be auto, f32, bf16 or bf16-products, got '" + v + "'");
}

/// A model folder, or (built with UAG_WITH_LLAMA_CPP) a .gguf file loaded through llama.cpp. The GPU and RPC
/// placement flags apply to the target only; the draft runs locally.
inline pretrained load_model(const std::filesystem::path& path, const thread_flags& flags, bool is_target) {
  const int n_threads = is_target ? flags.target : flags.draft;
  if (path.extension() == ".gguf") {
    if (flags.weights != uag::weight_format::automatic)
      throw usage_error("--weights applies to model folders; '" + path.string() + "' is a GGUF file (its tensor types decide)");
#if UAG_WITH_LLAMA_CPP
    uag::llama_cpp_options opt;
    opt.n_threads = n_threads;
    if (is_target) {
      opt.n_gpu_layers = flags.gpu_layers;
      opt.rpc_servers = flags.rpc;
      opt.rpc_io_timeout_ms = flags.rpc_timeout_ms;
    }
    return pretrained(uag::llama_cpp_model::from_file(path, opt));
#else
    throw uag::unsupported_error("cli.gguf", "'" + path.string() +
                                                 "' is a GGUF file: rebuild uag with -DUAG_WITH_LLAMA_CPP=ON");
#endif
  }
  if (!std::filesystem::is_directory(path))
    throw uag::io_error("cli.model_dir", "model folder '" + path.string() + "' does not exist");
  uag::transformer_options opt;
  opt.n_threads = n_threads;
  opt.weights = flags.weights;
  using folder_model = uag::model_with_tokenizer<uag::transformer, uag::hf_tokenizer>;
  return pretrained(folder_model(uag::transformer::from_folder(path, opt), uag::hf_tokenizer::from_file(path)));
}

inline std::size_t parse_size(const std::string& flag, const std::string& v, std::size_t lo, std::size_t hi) {
  std::size_t pos = 0;
  long long x = 0;
  try {
    x = std::stoll(v, &pos);
  } catch (...) {
    pos = 0;
  }
  if (pos != v.size() || x < static_cast<long long>(lo) || x > static_cast<long long>(hi))
    throw usage_error("--" + flag + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                      "], got '" + v + "'");
  return static_cast<std::size_t>(x);
}

inline float parse_float(const std::string& flag, const std::string& v, float lo, float hi) {
  std::size_t pos = 0;
  float x = 0;
  try {
    x = std::stof(v, &pos);
  } catch (...) {
    pos = 0;
  }
  if (pos != v.size() || !(x >= lo && x <= hi))
    throw usage_error("--" + flag + " must be a number in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                      "], got '" + v + "'");
  return x;
}

/// Verification mode named on the command line.
enum class cli_mode { greedy, slem, tli };

inline cli_mode parse_mode(const std::string& v) {
  if (v == "greedy") return cli_mode::greedy;
  if (v == "slem") return cli_mode::slem;
  if (v == "tli") return cli_mode::tli;
  throw usage_error("--mode must be greedy, slem or tli, got '" + v + "'");
}

inline thread_flags take_thread_flags(args& a) {
  thread_flags t;
  if (auto v = a.take("threads")) t.target = static_cast<int>(parse_size("threads", *v, 0, 1024));
  if (auto v = a.take("draft-threads")) t.draft = static_cast<int>(parse_size("draft-threads", *v, 0, 1024));
  if (auto v = a.take("weights")) t.weights = parse_weight_format(*v);
  if (auto v = a.take("gpu-layers")) t.gpu_layers = *v == "-1" || *v == "all" ? -1 : static_cast<int>(parse_size("gpu-layers", *v, 0, 100000));
  if (auto v = a.take("rpc")) {
    std::string item;
    for (std::istringstream ss(*v); std::getline(ss, item, ',');) {
      if (item.empty()) continue;
      const std::size_t colon = item.find(':');
      const std::string port = colon == std::string::npos ? "" : item.substr(colon + 1);
      const bool digits = !port.empty() && port.size() <= 5 &&
                          port.find_first_not_of("0123456789") == std::string::npos;
      if (colon == 0 || !digits || std::stoi(port) < 1 || std::stoi(port) > 65535)
        throw usage_error("--rpc needs HOST:PORT[,HOST:PORT...] with ports in [1, 65535], got '" + item + "'");
      t.rpc.push_back(item);
    }
    if (t.rpc.empty()) throw usage_error("--rpc needs HOST:PORT[,HOST:PORT...]");
  }
  // Without it a server that stops answering (but keeps its connection) blocks a decode forever.
  if (auto v = a.take("rpc-timeout")) {
    if (t.rpc.empty()) throw usage_error("--rpc-timeout needs --rpc");
    t.rpc_timeout_ms = static_cast<int>(parse_size("rpc-timeout", *v, 1, 3600000));
  }
  return t;
}

inline std::string read_text_file(const std::filesystem::path& p) {
  std::FILE* f = std::fopen(p.string().c_str(), "rb");
  if (!f) throw uag::io_error("cli.read", "cannot read '" + p.string() + "'");
  std::string s;
  char buf[65536];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) s.append(buf, n);
  std::fclose(f);
  return s;
}

}  // namespace uag_cli
