// uag generate: assisted generation with any target/draft pair (the bundled pair by default).
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "harness.hpp"
#include "models.hpp"
#include "uag/generation/assisted_generator.hpp"

namespace uag_cli {
namespace {

constexpr const char* kHelp = R"(usage: uag generate [options] (--prompt TEXT | --prompt-file F)

Generates text with the target model, assisted by the draft model. Text streams to stdout; a
one-line summary (tokens/s, acceptance, tokens per target pass) goes to stderr.

  --target DIR|F.gguf    target model folder or GGUF file (default: the bundled target)
  --draft DIR|F.gguf     draft model folder or GGUF file (default: the bundled draft)
  --no-draft             target-only decoding (the baseline)
  --prompt TEXT          prompt text
  --prompt-file F        read the prompt from a file
  --max-new-tokens N     tokens to generate (default 128)
  --temperature T        0 = greedy (default 0)
  --top-k K              keep the K most likely tokens (default 0 = off)
  --top-p P              nucleus sampling mass in (0, 1] (default 1)
  --seed S               random seed (default 0)
  --draft-tokens auto|N  draft length: adaptive, or a constant N in [1, 64] (default auto)
  --mode greedy|slem|tli verification: greedy (requires T = 0), exact-match sampling, or
                         token-level intersection with speculative sampling (default: greedy
                         when T = 0, else tli)
  --json                 print one JSON object {"text", "target_ids", "stats"} instead of streaming
  --trace OUT            write every step as a JSON line (as uag bench --trace, run "generate"):
                         what the draft-length controller asked for, what was accepted, the times
  --threads N            threads for the target (default 0 = all cores)
  --draft-threads N      threads for the draft (default 1; 0 = all cores)
  --weights W            model folders: auto, f32, bf16 or bf16-products (bf16 inputs to every
                         product: faster verification on AVX512_BF16 CPUs, other numerics)
  --gpu-layers N|all     GGUF target: layers llama.cpp offloads to a GPU or RPC servers (default 0)
  --rpc H:P[,H:P...]     GGUF target: rpc-server endpoints holding its offloaded layers
  --rpc-timeout MS       with --rpc: a decode waits at most MS per RPC send/receive (default: no bound))";

nlohmann::json stats_json(const uag::generation_stats& s) {
  return {{"prompt_tokens", s.prompt_tokens},   {"new_tokens", s.new_tokens},
          {"target_passes", s.target_passes},   {"drafted", s.drafted},
          {"draft_model_tokens", s.draft_model_tokens},
          {"accepted", s.accepted},             {"acceptance", s.acceptance_rate()},
          {"tokens_per_pass", s.tokens_per_pass()}, {"tokens_per_s", s.tokens_per_second()},
          {"draft_s", s.draft_seconds},         {"bridge_s", s.bridge_seconds},
          {"target_s", s.target_seconds},       {"verify_s", s.verify_seconds},
          {"other_s", s.other_seconds()},       {"prefill_s", s.prefill_seconds},
          {"total_s", s.total_seconds},         {"accepted_histogram", s.accepted_histogram},
          {"stop_reason", uag::to_string(s.reason)}};
}

/// Where --trace goes: the steps are collected in memory and written after the generation, outside its timing.
struct trace_sink {
  std::optional<std::string> path;
  std::optional<std::ofstream> file;
  std::string lines;
};

template <class Gen>
int run_generation(Gen& gen, const std::string& prompt, bool json, trace_sink& trace) {
  if (trace.file) {
    const std::string quoted = nlohmann::json("generate").dump();
    gen.on_step([&trace, quoted](const uag::step_record& r) { append_step_line(trace.lines, quoted, 0, r); });
  }
  if (!json)
    gen.on_text([](std::string_view s) {
      std::fwrite(s.data(), 1, s.size(), stdout);
      std::fflush(stdout);
    });
  gen.generate(prompt);
  if (trace.file) write_output(*trace.file, "trace", *trace.path, trace.lines);
  const auto& s = gen.stats();
  if (json) {
    nlohmann::json out = {{"text", gen.text()},
                          {"target_ids", std::vector<uag::token_id>(gen.output_ids().begin(), gen.output_ids().end())},
                          {"stats", stats_json(s)}};
    std::printf("%s\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::printf("\n");
    std::fprintf(stderr, "[uag] %zu tokens, %.1f tokens/s, acceptance %.2f, %.2f tokens/target pass, stop: %s\n",
                 s.new_tokens, s.tokens_per_second(), s.acceptance_rate(), s.tokens_per_pass(), uag::to_string(s.reason));
  }
  return 0;
}

int generate_main(std::vector<std::string> argv) {
  args a(std::move(argv));
  const std::string target_dir = model_flag(a, "target");
  const auto draft_flag = a.take("draft");
  const bool no_draft = a.flag("no-draft");
  if (no_draft && draft_flag) throw usage_error("--draft and --no-draft exclude each other");
  const std::string draft_dir = draft_flag ? *draft_flag : no_draft ? std::string() : (bundled_models_dir() / "draft").string();
  const auto prompt_text = a.take("prompt");
  const auto prompt_file = a.take("prompt-file");
  if (prompt_text.has_value() == prompt_file.has_value()) throw usage_error("give exactly one of --prompt and --prompt-file");
  uag::generation_config cfg;
  cfg.max_new_tokens = parse_size("max-new-tokens", a.take("max-new-tokens").value_or("128"), 1, 1 << 20);
  cfg.sampling.temperature = parse_float("temperature", a.take("temperature").value_or("0"), 0.0f, 100.0f);
  cfg.sampling.top_k = static_cast<int>(parse_size("top-k", a.take("top-k").value_or("0"), 0, 1 << 24));
  cfg.sampling.top_p = parse_float("top-p", a.take("top-p").value_or("1"), 1e-6f, 1.0f);
  cfg.sampling.seed = parse_size("seed", a.take("seed").value_or("0"), 0, ~std::size_t{0} >> 1);
  const std::string draft_tokens = a.take("draft-tokens").value_or("auto");
  if (draft_tokens == "auto") {
    cfg.draft_policy = uag::draft_length_policy::adaptive;
  } else {
    cfg.draft_policy = uag::draft_length_policy::constant;
    cfg.num_draft_tokens = parse_size("draft-tokens", draft_tokens, 1, 64);
    cfg.max_draft_tokens = std::max(cfg.max_draft_tokens, cfg.num_draft_tokens);
  }
  const auto mode_flag = a.take("mode");
  const cli_mode mode = mode_flag ? parse_mode(*mode_flag) : (cfg.sampling.greedy() ? cli_mode::greedy : cli_mode::tli);
  if (mode == cli_mode::greedy && !cfg.sampling.greedy()) throw usage_error("--mode greedy needs --temperature 0");
  if (mode != cli_mode::greedy && cfg.sampling.greedy()) throw usage_error("--mode slem/tli need --temperature > 0");
  cfg.verifier = mode == cli_mode::tli ? uag::sampling_verifier::automatic : uag::sampling_verifier::exact_match;
  const bool json = a.flag("json");
  trace_sink trace;
  trace.path = a.take("trace");
  const thread_flags threads = take_thread_flags(a);
  a.finish();
  if (trace.path) trace.file = open_output("trace", *trace.path);
  const std::string prompt = prompt_text ? *prompt_text : read_text_file(*prompt_file);

  pretrained target = load_model(target_dir, threads, true);
  if (no_draft) {
    uag::baseline_generator<pretrained> gen(target, cfg);
    return run_generation(gen, prompt, json, trace);
  }
  pretrained draft_model = load_model(draft_dir, threads, false);
  uag::bridged_draft_config dcfg;
  dcfg.mode = mode == cli_mode::tli ? uag::bridge_mode::tli : uag::bridge_mode::text;
  pretrained_draft draft(draft_model, target.tokenizer(), dcfg);
  uag::AssistedGenerator<pretrained, pretrained_draft> gen(target, draft, cfg);
  return run_generation(gen, prompt, json, trace);
}

const registration reg("generate", {"assisted text generation (bundled model pair by default)", kHelp, generate_main});

}  // namespace
}  // namespace uag_cli
