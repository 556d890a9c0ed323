#pragma once
// What `uag bench` (throughput) and `uag latency` (what a user feels) share: their common flags, the
// prompt set, the configurations, loading the pair with its one-time setup timed, the per-prompt
// interleaving of the baseline with every configuration, and a generation timed at the streaming
// callback.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <sys/resource.h>

#include "cli.hpp"
#include "models.hpp"
#include "ratio_stats.hpp"
#include "uag/generation/assisted_generator.hpp"

namespace uag_cli {

/// The configuration suffixes that make a text-bridged draft hold back the end of its re-encoded text,
/// drafting one token more per step: ":hold" the last word (the default before session 10), ":close" the
/// last token (so the last candidate is complete).
inline constexpr std::pair<std::string_view, uag::hold_back_policy> kHoldSuffixes[] = {
    {":hold", uag::hold_back_policy::last_word}, {":close", uag::hold_back_policy::last_token}};

inline std::string_view hold_suffix(uag::hold_back_policy h) {
  for (const auto& [suffix, policy] : kHoldSuffixes)
    if (policy == h) return suffix;
  return "";
}

/// One assisted configuration on the command line (g1..g16, heuristic, confidence, adaptive), with
/// optional suffixes: ":hold" and ":close" make a text-bridged draft hold back its last word or token;
/// ":slem" verifies sampled output with SLEM over the text bridge where the run's mode is TLI.
struct bench_config {
  std::string name;
  uag::draft_length_policy policy;
  std::size_t gamma;                      // constant γ, or the starting γ
  uag::hold_back_policy hold = uag::hold_back_policy::none;  // text bridge only (kHoldSuffixes)
  bool slem = false;                      // sampling: SLEM over the text bridge instead of the run's TLI
};

inline bench_config parse_config(const std::string& name) {
  if (name.size() > 5 && name.ends_with(":slem")) {
    bench_config b = parse_config(name.substr(0, name.size() - 5));
    if (b.slem) throw usage_error("--configs: '" + name + "' repeats ':slem'");
    b.slem = true;
    b.name = name;
    return b;
  }
  for (const auto& [suffix, hold] : kHoldSuffixes) {
    if (name.size() > suffix.size() && name.ends_with(suffix)) {
      bench_config b = parse_config(name.substr(0, name.size() - suffix.size()));
      if (b.hold != uag::hold_back_policy::none)
        throw usage_error("--configs: '" + name + "' holds back twice (':hold' and ':close' exclude each other)");
      b.hold = hold;
      b.name = name;
      return b;
    }
  }
  if (name == "heuristic") return {name, uag::draft_length_policy::heuristic, 5};
  if (name == "confidence") return {name, uag::draft_length_policy::confidence, 8};
  if (name == "adaptive") return {name, uag::draft_length_policy::adaptive, 5};
  if (name.size() >= 2 && name[0] == 'g')
    return {name, uag::draft_length_policy::constant, parse_size("configs", name.substr(1), 1, 16)};
  throw usage_error("unknown configuration '" + name +
                    "' (use g1..g16, heuristic, confidence, adaptive, each optionally with :hold or :close, and :slem)");
}

/// The verification mode configuration b runs in, in a run whose mode is `mode`.
inline cli_mode mode_of(const bench_config& b, cli_mode mode) { return b.slem ? cli_mode::slem : mode; }

/// The bridged draft's settings for a configuration: text mode unless TLI, and the hold-back that
/// `:hold` or `:close` asks for (one more token drafted per step; the bridged draft drafts on until the
/// text yields the candidates asked for).
inline uag::bridged_draft_config draft_config_for(cli_mode mode, uag::hold_back_policy hold) {
  uag::bridged_draft_config d;
  d.mode = mode == cli_mode::tli ? uag::bridge_mode::tli : uag::bridge_mode::text;
  d.bridge.hold_back = hold;
  if (hold != uag::hold_back_policy::none) d.extra_draft_tokens = 1;
  return d;
}

/// throws: usage_error where a suffix would be a no-op: ":slem" outside TLI sampling (greedy and
/// --mode slem already verify over the text bridge), ":hold" or ":close" under TLI (TLI drafts inside
/// the vocabulary intersection and holds nothing back).
inline void check_config_suffixes(const std::vector<bench_config>& cfgs, cli_mode mode) {
  for (const auto& b : cfgs) {
    if (b.slem && mode != cli_mode::tli)
      throw usage_error("--configs: '" + b.name + "': ':slem' applies to sampling with --mode tli (the default at T > 0)");
    if (b.hold != uag::hold_back_policy::none && mode_of(b, mode) == cli_mode::tli)
      throw usage_error("--configs: '" + b.name + "': '" + std::string(hold_suffix(b.hold)) +
                        "' applies to the text bridge (greedy, or --mode slem), not to TLI sampling");
  }
}

/// The draft sources over one draft model that a run's configurations need: the run's own (passed in)
/// and, made once each and only when a configuration asks for one, its ":hold", ":close" and ":slem" variants (each
/// generation resets a source's cache, so the sources never see each other's state).
class draft_sources {
 public:
  draft_sources(const std::vector<bench_config>& cfgs, pretrained& draft_model, const pretrained& target,
                cli_mode mode, pretrained_draft& run_draft)
      : mode_(mode), run_draft_(run_draft) {
    for (const auto& b : cfgs) {
      const key k{mode_of(b, mode), b.hold};
      if (k != key{mode, uag::hold_back_policy::none}) extra_.try_emplace(k, draft_model, target.tokenizer(), draft_config_for(k.first, k.second));
    }
  }
  pretrained_draft& for_config(const bench_config& b) {
    const key k{mode_of(b, mode_), b.hold};
    return k == key{mode_, uag::hold_back_policy::none} ? run_draft_ : extra_.at(k);
  }

 private:
  using key = std::pair<cli_mode, uag::hold_back_policy>;
  cli_mode mode_;
  pretrained_draft& run_draft_;
  std::map<key, pretrained_draft> extra_;
};

/// An output file a flag names, opened (created or emptied) when the flags are read, so that a path that
/// cannot be written fails before the run rather than after it. throws: uag::io_error naming flag and path.
inline std::ofstream open_output(const std::string& flag, const std::string& path) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) throw uag::io_error("cli.output", "--" + flag + ": cannot write '" + path + "': " + std::strerror(errno));
  return f;
}

/// One step as a JSON line (--trace of bench and generate): run (quoted JSON string), prompt, step,
/// asked/proposed/accepted/committed, the controller's next length, and the step's seconds.
inline void append_step_line(std::string& out, const std::string& quoted_run, std::size_t prompt,
                             const uag::step_record& r) {
  char line[512];
  const int n = std::snprintf(
      line, sizeof line,
      "{\"run\":%s,\"prompt\":%zu,\"step\":%zu,\"asked\":%zu,\"proposed\":%zu,\"accepted\":%zu,"
      "\"committed\":%zu,\"next\":%zu,\"rejected\":%s,\"catch_up\":%s,\"draft_s\":%.17g,"
      "\"target_s\":%.17g,\"step_s\":%.17g,\"last_open\":%s,\"checked\":%zu,\"agreed\":%.9g}\n",
      quoted_run.c_str(), prompt, r.index, r.asked, r.proposed, r.accepted, r.committed, r.next_gamma,
      r.rejected ? "true" : "false", r.draft_caught_up ? "true" : "false", r.draft_seconds, r.target_seconds,
      r.step_seconds, r.last_open ? "true" : "false", r.checked_rows, r.agreed_rows);
  out.append(line, static_cast<std::size_t>(std::clamp(n, 0, static_cast<int>(sizeof line) - 1)));
}

/// Writes text to an output opened by open_output. throws: uag::io_error when the write fails (disk full).
inline void write_output(std::ofstream& f, const std::string& flag, const std::string& path, const std::string& text) {
  f << text;
  f.flush();
  if (!f) throw uag::io_error("cli.output", "--" + flag + ": writing '" + path + "' failed");
}

/// The flags both harnesses take (see their --help).
struct harness_options {
  std::string target_dir, draft_dir, prompts_path;
  std::size_t limit = 1000000;
  std::size_t repeats = 1;      // --repeats: bench runs each prompt, latency the prompt set, this many times
  uag::generation_config base;  // max_new_tokens, sampling, verifier
  cli_mode mode = cli_mode::greedy;
  std::size_t seed = 0;
  std::vector<bench_config> configs;
  std::optional<std::string> json_out, svg_out;
  std::shared_ptr<std::ofstream> json_file, svg_file;  // opened by take_harness_options (open_output)
  thread_flags threads;
};

/// Takes the shared flags from a (the caller takes its own, then calls a.finish()).
inline harness_options take_harness_options(args& a, const std::string& default_configs) {
  harness_options o;
  o.target_dir = model_flag(a, "target");
  o.draft_dir = model_flag(a, "draft");
  const auto prompts = a.take("prompts");
  if (!prompts) throw usage_error("--prompts FILE.jsonl is required");
  o.prompts_path = *prompts;
  o.limit = parse_size("limit", a.take("limit").value_or("1000000"), 1, 1000000);
  o.repeats = parse_size("repeats", a.take("repeats").value_or("1"), 1, 1000);
  o.base.max_new_tokens = parse_size("max-new-tokens", a.take("max-new-tokens").value_or("128"), 1, 1 << 20);
  o.base.sampling.temperature = parse_float("temperature", a.take("temperature").value_or("0"), 0.0f, 100.0f);
  o.mode = o.base.sampling.greedy() ? cli_mode::greedy : parse_mode(a.take("mode").value_or("tli"));
  o.base.verifier = o.mode == cli_mode::tli ? uag::sampling_verifier::automatic : uag::sampling_verifier::exact_match;
  o.seed = parse_size("seed", a.take("seed").value_or("0"), 0, 1u << 31);
  std::stringstream ss(a.take("configs").value_or(default_configs));
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty()) o.configs.push_back(parse_config(item));
  if (o.configs.empty()) throw usage_error("--configs is empty");
  check_config_suffixes(o.configs, o.mode);
  o.json_out = a.take("json");
  o.svg_out = a.take("svg");
  if (o.json_out) o.json_file = std::make_shared<std::ofstream>(open_output("json", *o.json_out));
  if (o.svg_out) o.svg_file = std::make_shared<std::ofstream>(open_output("svg", *o.svg_out));
  o.threads = take_thread_flags(a);
  return o;
}

/// The generation settings of configuration b for prompt i: the base settings, b's draft policy, its
/// verifier, and seed S + i.
inline uag::generation_config config_for(const harness_options& o, const bench_config& b, std::size_t prompt_index) {
  uag::generation_config c = o.base;
  c.draft_policy = b.policy;
  c.num_draft_tokens = b.gamma;
  c.max_draft_tokens = std::max<std::size_t>(b.policy == uag::draft_length_policy::constant ? b.gamma : 12, b.gamma);
  if (!c.sampling.greedy())
    c.verifier = mode_of(b, o.mode) == cli_mode::tli ? uag::sampling_verifier::automatic : uag::sampling_verifier::exact_match;
  c.sampling.seed = o.seed + prompt_index;
  return c;
}

/// Prompts from a JSON-lines file ({"prompt": "..."} per line), at most limit of them.
inline std::vector<std::string> read_prompts(const std::string& path, std::size_t limit) {
  std::vector<std::string> prompts;
  std::istringstream in(read_text_file(path));
  std::size_t line_no = 0;
  for (std::string line; std::getline(in, line) && prompts.size() < limit;) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("prompt") || !j["prompt"].is_string())
      throw uag::input_error("cli.prompts",
                             path + ":" + std::to_string(line_no) + ": expected a JSON object with a string field \"prompt\"");
    prompts.push_back(j["prompt"].get<std::string>());
  }
  if (prompts.empty()) throw uag::input_error("cli.prompts", path + " holds no prompts");
  return prompts;
}

using harness_clock = std::chrono::steady_clock;
inline double seconds_since(harness_clock::time_point t) {
  return std::chrono::duration<double>(harness_clock::now() - t).count();
}

/// One-time costs of a process, in seconds.
struct setup_costs {
  double target_model = 0, target_tokenizer = 0, draft_model = 0, draft_tokenizer = 0;
  double bridge = 0;  // the draft source: TokenizerBridge (and its greedy indices), TLI map
};

/// The target, the draft model and the draft source over them, each load timed. Not movable: the draft
/// source points into the models.
struct model_pair {
  setup_costs setup;
  pretrained target;
  pretrained draft_model;
  pretrained_draft draft;

  explicit model_pair(const harness_options& o)
      : target(load_timed(o.target_dir, o.threads.target, o.threads.weights, setup.target_model, setup.target_tokenizer)),
        draft_model(load_timed(o.draft_dir, o.threads.draft, o.threads.weights, setup.draft_model, setup.draft_tokenizer)),
        draft(make_draft(draft_model, target, o.mode, setup.bridge)) {}
  model_pair(const model_pair&) = delete;
  model_pair& operator=(const model_pair&) = delete;

 private:
  static pretrained load_timed(const std::string& dir, int threads, uag::weight_format weights, double& model_s,
                               double& tok_s) {
    if (!std::filesystem::is_directory(dir))
      throw uag::io_error("cli.model_dir", "model folder '" + dir + "' does not exist");
    uag::transformer_options opt;
    opt.n_threads = threads;
    opt.weights = weights;
    auto t0 = harness_clock::now();
    uag::transformer m = uag::transformer::from_folder(dir, opt);
    model_s = seconds_since(t0);
    t0 = harness_clock::now();
    uag::hf_tokenizer tok = uag::hf_tokenizer::from_file(dir);
    tok_s = seconds_since(t0);
    // (pretrained may be a wrapper over several model kinds, e.g. with llama.cpp: it takes this one.)
    using folder_model = uag::model_with_tokenizer<uag::transformer, uag::hf_tokenizer>;
    return pretrained(folder_model(std::move(m), std::move(tok)));
  }
  static pretrained_draft make_draft(pretrained& draft_model, const pretrained& target, cli_mode mode, double& s) {
    const auto t0 = harness_clock::now();
    pretrained_draft d(draft_model, target.tokenizer(), draft_config_for(mode, uag::hold_back_policy::none));
    s = seconds_since(t0);
    return d;
  }
};

/// Runs every prompt with the baseline and with every configuration, in an order rotated per prompt (so
/// slow drift of a shared machine favours none), reporting progress on stderr. baseline(i) and
/// assisted(ci, i) run prompt i. The baseline runs first for each prompt unless rotate_baseline, which
/// rotates it with the configurations (for measures that the position in the order could bias).
template <class Baseline, class Assisted>
void run_interleaved(std::size_t n_prompts, std::size_t n_configs, Baseline&& baseline, Assisted&& assisted,
                     bool rotate_baseline = false) {
  const std::size_t total = n_prompts * (n_configs + 1);
  std::size_t done = 0;
  auto progress = [&] {
    const int width = 30;
    const int filled = static_cast<int>(double(done) / double(total) * width);
    std::fprintf(stderr, "\r[%.*s%*s] %zu/%zu runs", filled, "==============================", width - filled, "",
                 done, total);
    std::fflush(stderr);
  };
  for (std::size_t i = 0; i < n_prompts; ++i) {
    if (rotate_baseline) {
      for (std::size_t k = 0; k <= n_configs; ++k) {  // slot 0 is the baseline
        const std::size_t slot = (k + i) % (n_configs + 1);
        slot == 0 ? baseline(i) : assisted(slot - 1, i);
        ++done;
        progress();
      }
      continue;
    }
    baseline(i);
    ++done;
    progress();
    for (std::size_t k = 0; k < n_configs; ++k) {
      assisted((k + i) % n_configs, i);
      ++done;
      progress();
    }
  }
  std::fprintf(stderr, "\n");
}

/// One request as the user's screen sees it: when each piece of text arrived (seconds after the request
/// began, i.e. before the prompt was tokenized) and when the generation ended.
struct request_trace {
  std::vector<double> arrivals;  // one per on_text call
  double end_s = 0;              // begin() → done()
  long minor_faults = 0;         // page faults of the process during the request (first touch of memory)
  uag::generation_stats stats;
  std::vector<uag::token_id> ids;

  /// Time to first token (first text on screen); end_s when nothing was streamed.
  double ttft() const { return arrivals.empty() ? end_s : arrivals.front(); }
  /// Time per output token after the first (vLLM's TPOT): (end − TTFT) / (tokens − 1).
  double tpot() const {
    return stats.new_tokens > 1 ? (end_s - ttft()) / double(stats.new_tokens - 1) : 0.0;
  }
};

/// Minor page faults of this process so far (memory touched for the first time), or 0 if unknown.
inline long minor_faults() {
  rusage u{};
  return getrusage(RUSAGE_SELF, &u) == 0 ? u.ru_minflt : 0;
}

/// Generates prompt with gen, timing every text chunk at the callback.
template <class Generator>
request_trace traced_generate(Generator& gen, const std::string& prompt) {
  request_trace r;
  r.arrivals.reserve(gen.config().max_new_tokens + 1);
  harness_clock::time_point t0;
  gen.on_text([&](std::string_view) { r.arrivals.push_back(seconds_since(t0)); });
  const long faults0 = minor_faults();
  t0 = harness_clock::now();
  gen.begin(prompt);
  while (!gen.done()) gen.step();
  r.end_s = seconds_since(t0);
  r.minor_faults = minor_faults() - faults0;
  gen.on_text(nullptr);
  r.stats = gen.stats();
  r.ids.assign(gen.output_ids().begin(), gen.output_ids().end());
  return r;
}

inline double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/// Nearest-rank percentile (q in [0, 100]) of sorted values: an observed value, so p50 ≤ p90 ≤ p99 ≤ max
/// always holds.
inline double percentile_sorted(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0.0;
  const double rank = std::ceil(q / 100.0 * double(sorted.size()));
  const std::size_t i = rank < 1 ? 0 : std::min(sorted.size() - 1, static_cast<std::size_t>(rank) - 1);
  return sorted[i];
}

}  // namespace uag_cli
