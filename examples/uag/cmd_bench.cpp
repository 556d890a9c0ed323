// uag bench: the latency harness. Runs the target-only baseline and assisted configurations on a
// prompt set, interleaved per prompt so machine drift cancels, and reports speedups with the
// speculative-decoding bound computed from measured acceptance and cost.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <fstream>
#include <map>
#include <numeric>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "harness.hpp"
#include "models.hpp"
#include "uag/core/utf8.hpp"
#include "uag/generation/assisted_generator.hpp"

namespace uag_cli {
namespace {

constexpr const char* kHelp = R"(usage: uag bench --prompts FILE.jsonl [options]

For each prompt ({"prompt": "..."} per line) runs the target-only baseline and every configuration,
interleaved, checks that greedy outputs equal the baseline's (and SLEM-sampled ones: same seed, same
text), and prints per configuration: tokens/s, speedup over the baseline (median and geometric mean
of per-prompt ratios of decode tokens/s), its 95% confidence interval (95% CI: a t-interval on the
logarithms of the per-prompt-run ratios, so the noise between runs and the prompts' spread both widen
it), e2e (geometric mean of per-prompt ratios of end-to-end
time, prefill included, at the baseline's length: a run's prefill plus the baseline's new tokens at its
own decode seconds per token; greedy runs generate as many tokens and this is their wall-time ratio,
sampled runs may stop at an EOS at different lengths), acceptance, tokens per target pass, time split
(draft / bridge / target / other) and the achieved speedup as a fraction of the bound (1 - a^(g+1)) / ((1 - a)(g c + 1)) from the
measured a (acceptance), c (draft cost per token / target cost per pass) and g (mean draft length). The bound prices a verification
pass like a baseline pass; "pass" is its measured cost in baseline passes, and "cost%" the fraction
of the bound at that cost (bound% x pass): what remains is overhead. The forward-time ratio (one
draft token / one target token, plain forward passes) is what c would be for a draft path without
overhead.

  --target DIR|F.gguf  target model folder or GGUF file (default: the bundled target)
  --draft DIR|F.gguf   draft model folder or GGUF file (default: the bundled draft)
  --prompts FILE       JSON lines with a "prompt" field (required)
  --limit N            use the first N prompts only
  --repeats N          run each prompt N times, the baseline and every configuration again each time,
                       in a rotated order, the baseline first in the 1st, 3rd, ... and last in the
                       2nd, 4th, ... (default 1): on a shared, noisy machine the per-prompt ratios of N
                       runs average out what one run's neighbours did to it; per-prompt figures
                       (and --trace's "prompt" field) then count prompt runs, prompt p's at p*N..p*N+N-1
  --max-new-tokens N   tokens per generation (default 128)
  --temperature T      0 = greedy (default 0)
  --mode slem|tli      sampling verification when T > 0 (default tli)
  --seed S             base seed; prompt i uses S + i (default 0)
  --configs LIST       comma-separated among g1..g16 (static draft length), heuristic,
                       confidence, adaptive (default g1,g2,g3,g4,g5,g6,g7,g8,heuristic,confidence,adaptive);
                       NAME:hold (e.g. g4:hold): a text-bridged draft holds back the last word and
                       drafts one token more per step (the default before session 10); NAME:close:
                       it holds back the last token, so the last candidate is complete; NAME:slem
                       (T > 0, --mode tli): verifies with SLEM over the text bridge, side by side
  --json OUT           write the results as JSON
  --trace OUT          write every step of every generation as JSON lines: run (baseline or a
                       configuration), prompt, step, asked/proposed/accepted/committed, the
                       controller's next length, the step's draft/target/total seconds, and
                       checked/agreed: catch-up ids the draft's first candidate was checked on
                       and the acceptance it scored (greedy: its choice agreed; T > 0 with a
                       shared tokenizer: the sum of min(1, q/p))
  --svg OUT            draw speedup versus draft length and acceptance by draft position
  --acceptance-table OUT  (greedy) after the timed runs, for every prompt and every position of
                       the baseline's output, how many candidates the target accepts when the draft
                       is asked for 1..12: JSON lines, one per prompt, for replaying any draft-length
                       policy without timing noise (benchmarks/simulate_controller)
  --threads N          threads for the target (default 0 = all cores)
  --draft-threads N    threads for the draft (default 1; 0 = all cores)
  --weights W          model folders: auto, f32, bf16 or bf16-products (bf16 inputs to every
                       product: faster verification on AVX512_BF16 CPUs, other numerics)
  --gpu-layers N|all   GGUF target: layers llama.cpp offloads to a GPU or RPC servers (default 0)
  --rpc H:P[,H:P...]   GGUF target: rpc-server endpoints holding its offloaded layers
  --rpc-timeout MS     with --rpc: a decode waits at most MS per RPC send/receive (default: no bound))";

struct totals {
  std::size_t tokens = 0, passes = 0, drafted = 0, accepted = 0, rejections = 0, prompt_tokens = 0;
  std::size_t rechecked = 0;  // batched rows re-decided by a single-token pass (target batch tolerance > 0)
  double decode_s = 0, draft_s = 0, bridge_s = 0, target_s = 0, verify_s = 0;
  std::vector<double> tps;       // per prompt tokens/s
  std::vector<double> speedups;  // per prompt, over the baseline
  std::vector<double> wall;      // per prompt seconds, prefill included (end to end)
  std::vector<double> fixed;     // per prompt seconds paid once per generation (target and draft prefill);
                                 // wall - fixed is the decode time
  std::vector<std::size_t> new_tokens;  // per prompt
  std::vector<double> e2e;       // per prompt end-to-end speedup (prefill included) over the baseline
  std::vector<std::size_t> acc_at, drafted_at;
  bool identical = true;
  std::size_t identical_prompts = 0;  // prompts whose output equals the baseline's

  void add(const uag::generation_stats& s) {
    tokens += s.new_tokens, passes += s.target_passes, drafted += s.drafted, accepted += s.accepted;
    rejections += s.rejections, rechecked += s.rechecked_rows;
    prompt_tokens += s.prompt_tokens;
    const double d = s.decode_seconds();
    decode_s += d, draft_s += s.draft_seconds, bridge_s += s.bridge_seconds, target_s += s.target_seconds;
    verify_s += s.verify_seconds;
    tps.push_back(d > 0 ? double(s.new_tokens) / d : 0.0);
    wall.push_back(s.total_seconds);
    fixed.push_back(s.prefill_seconds + s.draft_prefill_seconds);
    new_tokens.push_back(s.new_tokens);
    acc_at.resize(std::max(acc_at.size(), s.accepted_at_position.size()));
    drafted_at.resize(std::max(drafted_at.size(), s.drafted_at_position.size()));
    for (std::size_t i = 0; i < s.accepted_at_position.size(); ++i) acc_at[i] += s.accepted_at_position[i];
    for (std::size_t i = 0; i < s.drafted_at_position.size(); ++i) drafted_at[i] += s.drafted_at_position[i];
  }
  double tokens_per_s() const { return decode_s > 0 ? double(tokens) / decode_s : 0.0; }
  // The last prompt's seconds end to end had it generated `length` new tokens: its prefill plus `length`
  // times its decode seconds per token. At T > 0 runs stop at different lengths (a sampled EOS), and
  // neither their wall times nor their rates compare: a run that stops after 4 tokens of a 256-token
  // baseline has a rate of mostly prefill. Greedy runs have equal lengths, and this is their wall time.
  // A run without new tokens has no decode rate: it takes `fallback_per_token` (the other run's).
  double last_seconds_at_length(std::size_t length, double fallback_per_token) const {
    return fixed.back() +
           double(length) * (new_tokens.back() ? last_seconds_per_token() : fallback_per_token);
  }
  double last_seconds_per_token() const {
    return new_tokens.back() ? std::max(0.0, wall.back() - fixed.back()) / double(new_tokens.back()) : 0.0;
  }
  double acceptance() const { return drafted ? double(accepted) / double(drafted) : 0.0; }
  double alpha() const { return accepted + rejections ? double(accepted) / double(accepted + rejections) : 0.0; }
  double mean_gamma() const { return passes ? double(drafted) / double(passes) : 0.0; }
  // Share of target passes that verified at least one candidate (adaptive: the rest ran without a draft).
  double drafting_share() const { return passes && !drafted_at.empty() ? double(drafted_at[0]) / double(passes) : 0.0; }
  // c: draft (+ bridge) seconds per drafted candidate over target seconds per pass.
  double seconds_per_pass() const { return passes ? target_s / double(passes) : 0.0; }
  double tokens_per_pass() const { return passes ? double(tokens) / double(passes) : 0.0; }
  double cost_ratio() const {
    return drafted && target_s > 0 ? ((draft_s + bridge_s) / double(drafted)) / seconds_per_pass() : 0.0;
  }
  double bound() const {
    const double a = std::min(alpha(), 0.999999), g = mean_gamma(), c = cost_ratio();
    return (1.0 - std::pow(a, g + 1.0)) / ((1.0 - a) * (g * c + 1.0));
  }
};

std::string svg_chart(const std::vector<bench_config>& cfgs, const std::vector<totals>& res) {
  // Left: speedup (geometric mean) versus static γ. Right: acceptance by draft position (best static γ).
  std::ostringstream o;
  const int W = 860, H = 340, pad = 50, pw = 340, ph = 230;
  o << "<svg xmlns='http://www.w3.org/2000/svg' width='" << W << "' height='" << H << "' font-family='sans-serif' font-size='12'>\n";
  o << "<rect width='100%' height='100%' fill='white'/>\n";
  std::vector<std::pair<double, double>> pts;
  std::size_t best = 0;
  double best_v = -1;
  for (std::size_t i = 0; i < cfgs.size(); ++i) {
    if (cfgs[i].policy != uag::draft_length_policy::constant) continue;
    const double v = geomean(res[i].speedups);
    pts.emplace_back(double(cfgs[i].gamma), v);
    if (v > best_v) best_v = v, best = i;
  }
  double ymax = 1.0;
  for (auto& p : pts) ymax = std::max(ymax, p.second);
  ymax = std::ceil(ymax * 2 + 0.5) / 2;
  const double xmax = pts.empty() ? 8.0 : std::max(1.0, pts.back().first);
  auto px = [&](double x) { return pad + (x - 1) / std::max(1.0, xmax - 1) * pw; };
  auto py = [&](double y) { return 30 + ph - y / ymax * ph; };
  o << "<text x='" << pad << "' y='20'>speedup over target-only (geomean) vs draft length</text>\n";
  o << "<line x1='" << pad << "' y1='" << py(0) << "' x2='" << pad + pw << "' y2='" << py(0) << "' stroke='black'/>\n";
  o << "<line x1='" << pad << "' y1='" << py(0) << "' x2='" << pad << "' y2='" << py(ymax) << "' stroke='black'/>\n";
  o << "<line x1='" << pad << "' y1='" << py(1) << "' x2='" << pad + pw << "' y2='" << py(1) << "' stroke='#999' stroke-dasharray='4'/>\n";
  for (double y = 0; y <= ymax + 1e-9; y += 0.5)
    o << "<text x='" << pad - 30 << "' y='" << py(y) + 4 << "'>" << y << "×</text>\n";
  std::string path;
  for (auto& [x, y] : pts) {
    path += (path.empty() ? "M" : "L") + std::to_string(px(x)) + "," + std::to_string(py(y));
    o << "<circle cx='" << px(x) << "' cy='" << py(y) << "' r='3' fill='#1f77b4'/>\n";
    o << "<text x='" << px(x) - 4 << "' y='" << py(0) + 16 << "'>" << x << "</text>\n";
  }
  o << "<path d='" << path << "' fill='none' stroke='#1f77b4' stroke-width='2'/>\n";
  const int ox = pad + pw + 90;
  o << "<text x='" << ox << "' y='20'>acceptance by draft position (" << (res.empty() || best_v < 0 ? "" : cfgs[best].name) << ")</text>\n";
  o << "<line x1='" << ox << "' y1='" << 30 + ph << "' x2='" << ox + pw << "' y2='" << 30 + ph << "' stroke='black'/>\n";
  if (best_v >= 0) {
    const auto& t = res[best];
    const std::size_t n = std::max<std::size_t>(1, t.drafted_at.size());
    const double bw = double(pw) / double(n);
    for (std::size_t i = 0; i < t.drafted_at.size(); ++i) {
      const double rate = t.drafted_at[i] ? double(t.acc_at[i]) / double(t.drafted_at[i]) : 0.0;
      o << "<rect x='" << ox + i * bw + 2 << "' y='" << 30 + ph - rate * ph << "' width='" << bw - 4 << "' height='" << rate * ph
        << "' fill='#ff7f0e'/>\n";
      o << "<text x='" << ox + i * bw + bw / 2 - 4 << "' y='" << 30 + ph + 16 << "'>" << i + 1 << "</text>\n";
      o << "<text x='" << ox + i * bw + bw / 2 - 12 << "' y='" << 30 + ph - rate * ph - 4 << "'>" << std::lround(rate * 100) << "%</text>\n";
    }
  }
  o << "</svg>\n";
  return o.str();
}

// One-token forward times of the two models, measured alternately at the same short context (the
// prompt's first ids): the cost ratio of the models themselves, which c (everything the draft side
// spends per drafted token) is compared against.
struct forward_times {
  double target_s = 0, draft_s = 0;
  std::size_t context = 0;
  int samples = 0;
  double ratio() const { return target_s > 0 ? draft_s / target_s : 0.0; }
};

forward_times time_single_token_forwards(pretrained& target, pretrained& draft, const std::string& prompt) {
  using clock = std::chrono::steady_clock;
  auto ids_t = target.tokenizer().encode(prompt, true);
  auto ids_d = draft.tokenizer().encode(prompt, true);
  const std::size_t n = std::min<std::size_t>({64, ids_t.size(), ids_d.size()});
  forward_times f;
  f.context = n;
  f.samples = 31;
  if (n == 0) return f;
  auto one = [&](pretrained& m, const std::vector<uag::token_id>& ids) {
    const auto t0 = clock::now();
    m.forward(uag::token_span(&ids[n - 1], 1));
    const double s = std::chrono::duration<double>(clock::now() - t0).count();
    m.truncate(n - 1);
    return s;
  };
  target.truncate(0);
  draft.truncate(0);
  if (n > 1) uag::forward_last_rows(target, uag::token_span(ids_t.data(), n - 1), 0);
  if (n > 1) uag::forward_last_rows(draft, uag::token_span(ids_d.data(), n - 1), 0);
  std::vector<double> ts, ds;
  for (int i = 0; i < f.samples; ++i) ts.push_back(one(target, ids_t)), ds.push_back(one(draft, ids_d));
  target.truncate(0);
  draft.truncate(0);  // the draft source's runner resets on the next begin()
  f.target_s = median(ts);
  f.draft_s = median(ds);
  return f;
}

/// --acceptance-table: one prompt's line. At every position of the greedy baseline's output (the draft
/// has seen the prompt and the first k + 1 generated ids, as at a step after the prefill's), the draft is
/// asked for γ = 1..kTableLengths candidates; the target accepts the longest prefix that equals the
/// baseline's next ids (greedy verification). A draft source re-synchronises on any prefix, as after a
/// rejection, so the asks may come in any order (a pass per γ gives the same table). Each ask's γ is its
/// own: a text-bridged draft's last candidate depends on how much draft text follows it. A text bridge
/// re-encodes the draft's context differently when it is fed one committed token at a time than when a
/// generation commits several: the bundled pair's table gives 90% of its static runs' steps exactly,
/// the 151k pair's 94-96% (README, session 18).
constexpr std::size_t kTableLengths = 12;
template <class Draft>
std::string acceptance_table_line(std::size_t prompt, const uag::token_vector& prompt_ids,
                                  const std::vector<uag::token_id>& output, Draft& draft,
                                  const uag::generation_config& cfg, std::size_t vocab) {
  uag::token_vector ids(prompt_ids.begin(), prompt_ids.end());
  ids.insert(ids.end(), output.begin(), output.end());
  uag::rng random(cfg.sampling.seed);
  uag::draft_proposal proposal;
  nlohmann::json accepted = nlohmann::json::array(), proposed = nlohmann::json::array();
  draft.reset();
  for (std::size_t k = 0; k + 1 < output.size(); ++k) {
    const std::size_t n = prompt_ids.size() + k + 1;  // the ids the draft sees
    std::vector<std::size_t> acc_row, prop_row;
    for (std::size_t g = 1; g <= kTableLengths; ++g) {
      uag::draft_request req;
      req.max_tokens = g;
      req.target_vocab_size = vocab;
      req.sampling = &cfg.sampling;
      req.random = &random;
      proposal.clear();
      draft.propose(uag::token_span(ids).first(n), req, proposal);
      const std::size_t m = std::min(proposal.tokens.size(), g);
      std::size_t a = 0;
      while (a < m && n + a < ids.size() && proposal.tokens[a] == ids[n + a]) ++a;
      acc_row.push_back(a), prop_row.push_back(m);
    }
    accepted.push_back(acc_row), proposed.push_back(prop_row);
  }
  return nlohmann::json{{"prompt", prompt},
                        {"prompt_tokens", prompt_ids.size()},
                        {"new_tokens", output.size()},
                        {"lengths", kTableLengths},
                        {"accepted", accepted},
                        {"proposed", proposed}}.dump() + "\n";
}

int bench_main(std::vector<std::string> argv) {
  args a(std::move(argv));
  // The flags uag latency takes too, parsed and checked in one place (harness.hpp).
  const harness_options o = take_harness_options(a, "g1,g2,g3,g4,g5,g6,g7,g8,heuristic,confidence,adaptive");
  const std::optional<std::string> trace_out = a.take("trace");
  std::optional<std::ofstream> trace_file;
  if (trace_out) trace_file = open_output("trace", *trace_out);
  const std::size_t repeats = o.repeats;
  const std::optional<std::string> table_out = a.take("acceptance-table");
  std::optional<std::ofstream> table_file;
  if (table_out) table_file = open_output("acceptance-table", *table_out);
  a.finish();
  const std::string& target_dir = o.target_dir;
  const std::string& draft_dir = o.draft_dir;
  const uag::generation_config& base_cfg = o.base;
  const cli_mode mode = o.mode;
  const std::vector<bench_config>& cfgs = o.configs;
  const auto& json_out = o.json_out;
  const auto& svg_out = o.svg_out;
  const thread_flags& threads = o.threads;

  if (table_out && !base_cfg.sampling.greedy())
    throw usage_error("--acceptance-table needs greedy decoding (--temperature 0): a sampled step's outcome is a draw");
  const std::vector<std::string> prompts = read_prompts(o.prompts_path, o.limit);

  pretrained target = load_model(target_dir, threads, true);
  pretrained draft_model = load_model(draft_dir, threads, false);
  pretrained_draft draft(draft_model, target.tokenizer(), draft_config_for(mode, uag::hold_back_policy::none));
  draft_sources sources(cfgs, draft_model, target, mode, draft);

  auto make_cfg = [&](const bench_config& b, std::size_t prompt_index) { return config_for(o, b, prompt_index); };
  // --trace: a generation's steps are collected in memory and written after it, outside its timing.
  std::string trace_buf;
  auto tracer = [&](const std::string& run, std::size_t prompt) {
    return [&trace_buf, quoted = nlohmann::json(run).dump(), prompt](const uag::step_record& r) {
      append_step_line(trace_buf, quoted, prompt, r);
    };
  };
  auto flush_trace = [&] {
    if (!trace_file) return;
    write_output(*trace_file, "trace", *trace_out, trace_buf);
    trace_buf.clear();
  };
  // Every timed generation starts from the same state of the target: a few untimed target-only steps
  // on a short text first. Without them a run paid for the one before it: on an H200 the first step of
  // the run after g1 (two-row passes throughout) took 1.5 ms where it takes 0.6 (llama.cpp rebuilds
  // its single-row GPU graph), and the rotation put adaptive after g1 on two prompts in three.
  uag::generation_config settle_cfg = base_cfg;
  settle_cfg.max_new_tokens = 4;
  settle_cfg.stop_strings.clear();
  uag::baseline_generator<pretrained> settler(target, settle_cfg);
  std::string settle_text = prompts[0].substr(0, std::min<std::size_t>(prompts[0].size(), 64));
  settle_text.resize(uag::utf8::valid_prefix_length(settle_text));  // not half a character
  auto settle = [&] {
    settler.begin(settle_text.empty() ? std::string_view("a") : std::string_view(settle_text));
    while (!settler.done()) settler.step();
  };
  // i: the prompt (and its seed); run: the prompt run the trace names (i * repeats + repeat).
  auto run_baseline = [&](std::size_t i, std::size_t run, uag::generation_stats& st, bool traced = true) {
    uag::generation_config c = base_cfg;
    c.sampling.seed = o.seed + i;
    uag::baseline_generator<pretrained> gen(target, c);
    settle();
    if (trace_file && traced) gen.on_step(tracer("baseline", run));
    gen.generate(prompts[i]);
    flush_trace();
    st = gen.stats();
    return std::vector<uag::token_id>(gen.output_ids().begin(), gen.output_ids().end());
  };
  // One generator per configuration serves every prompt, as in an engine that keeps its generator: the
  // adaptive configuration carries its step timing from one prompt to the next.
  using generator = uag::AssistedGenerator<pretrained, pretrained_draft>;
  std::deque<generator> generators;
  for (const auto& b : cfgs) generators.emplace_back(target, sources.for_config(b), make_cfg(b, 0));
  auto run_assisted = [&](std::size_t ci, std::size_t i, std::size_t run, uag::generation_stats& st) {
    generator& gen = generators[ci];
    gen.set_seed(o.seed + i);
    if (trace_file) gen.on_step(tracer(cfgs[ci].name, run));
    settle();
    gen.generate(prompts[i]);
    flush_trace();
    st = gen.stats();
    return std::vector<uag::token_id>(gen.output_ids().begin(), gen.output_ids().end());
  };

  {  // Warm-up (page in weights, size buffers) with a throwaway generator; not measured.
    uag::generation_stats st;
    run_baseline(0, 0, st, false);
    generator gen(target, draft, make_cfg(cfgs[0], 0));
    gen.generate(prompts[0]);
  }
  const forward_times fwd = time_single_token_forwards(target, draft_model, prompts[0]);
  totals baseline;
  std::vector<totals> res(cfgs.size());
  const std::size_t total_runs = prompts.size() * repeats * (cfgs.size() + 1);
  std::size_t done_runs = 0;
  auto progress = [&] {
    const int width = 30;
    const int filled = static_cast<int>(double(done_runs) / double(total_runs) * width);
    std::fprintf(stderr, "\r[%.*s%*s] %zu/%zu runs", filled, "==============================", width - filled, "", done_runs, total_runs);
    std::fflush(stderr);
  };
  std::vector<std::vector<uag::token_id>> baseline_outputs;  // for --acceptance-table
  std::vector<char> prompt_identical(cfgs.size());  // per configuration: every run of this prompt so far
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    std::fill(prompt_identical.begin(), prompt_identical.end(), char{1});
    for (std::size_t rep = 0; rep < repeats; ++rep) {
      const std::size_t run = i * repeats + rep;
      uag::generation_stats st;
      std::vector<uag::token_id> base_ids;
      const auto baseline_run = [&] {
        base_ids = run_baseline(i, run, st);
        if (table_file && rep == 0) baseline_outputs.push_back(base_ids);
        baseline.add(st);
        ++done_runs;
        progress();
      };
      // Every second repeat runs the baseline after the configurations: a speedup divides two runs made
      // seconds apart, and on a shared machine the load moves by ±30% over seconds (weak pair, prose
      // ~1,200: one prompt's target-only steps ran 0.88-1.67x of the baseline's); with the baseline
      // always first, a drift during a prompt's runs entered every repeat the same way, and now a pair of
      // repeats cancels a steady one.
      const bool baseline_last = rep % 2 == 1;
      if (!baseline_last) baseline_run();
      // Rotate the configuration order per prompt run so slow drift does not favour any configuration.
      std::vector<std::vector<uag::token_id>> outputs(cfgs.size());
      for (std::size_t k = 0; k < cfgs.size(); ++k) {
        const std::size_t ci = (k + run) % cfgs.size();
        outputs[ci] = run_assisted(ci, i, run, st);
        res[ci].add(st);
        ++done_runs;
        progress();
      }
      if (baseline_last) baseline_run();
      // End to end at the baseline's length (see last_seconds_at_length).
      const std::size_t base_length = baseline.new_tokens.back();
      for (std::size_t ci = 0; ci < cfgs.size(); ++ci) {
        res[ci].speedups.push_back(baseline.tps.back() > 0 ? res[ci].tps.back() / baseline.tps.back() : 0.0);
        const double base_s = baseline.last_seconds_at_length(base_length, res[ci].last_seconds_per_token());
        const double cfg_s = res[ci].last_seconds_at_length(base_length, baseline.last_seconds_per_token());
        res[ci].e2e.push_back(cfg_s > 0 ? base_s / cfg_s : 0.0);
        if (outputs[ci] != base_ids) res[ci].identical = false, prompt_identical[ci] = 0;  // expected where expects_identical(ci)
      }
    }
    for (std::size_t ci = 0; ci < cfgs.size(); ++ci) res[ci].identical_prompts += prompt_identical[ci] ? 1 : 0;
  }
  std::fprintf(stderr, "\n");
  if (table_file) {  // untimed, after every timed run
    for (std::size_t i = 0; i < prompts.size(); ++i)
      write_output(*table_file, "acceptance-table", *table_out,
                   acceptance_table_line(i, target.tokenizer().encode(prompts[i], base_cfg.add_special_tokens),
                                         baseline_outputs[i], draft, base_cfg, target.vocab_size()));
  }

  // Greedy outputs must equal the baseline's. So must SLEM-sampled ones on a target whose batched rows
  // equal its single-token rows: SLEM commits one draw from the target's row per position, in order,
  // as target-only sampling does with the same seed. (TLI resamples from p - q on a rejection: other
  // draws, another text from the same distribution.)
  const bool exact_rows = uag::batch_tolerance_of(target) == 0.0f;
  const auto expects_identical = [&](std::size_t ci) {
    return base_cfg.sampling.greedy() || (exact_rows && mode_of(cfgs[ci], mode) == cli_mode::slem);
  };
  bool all_identical = true, any_expected = false;
  for (std::size_t ci = 0; ci < cfgs.size(); ++ci)
    if (expects_identical(ci)) all_identical &= res[ci].identical, any_expected = true;
  std::printf("target %s | draft %s | %zu prompts x %zu new tokens%s | T=%.2f%s\n", target_dir.c_str(), draft_dir.c_str(),
              prompts.size(), base_cfg.max_new_tokens,
              repeats > 1 ? (" x " + std::to_string(repeats) + " repeats").c_str() : "", base_cfg.sampling.temperature,
              base_cfg.sampling.greedy() ? "" : (mode == cli_mode::tli ? " (tli)" : " (slem)"));
  std::printf("kernels: %s\n", std::string(uag::instruction_set_name(uag::resolve_instruction_set())).c_str());
  std::printf("baseline: %.1f tokens/s\n", baseline.tokens_per_s());
  if (const float tol = uag::batch_tolerance_of(target); tol > 0.0f)
    std::printf("target batch tolerance: %.3g per logit (batched rows closer than %.3g at the top are re-decided alone)\n",
                double(tol), 2.0 * double(tol));
  std::printf("forward-time ratio (draft / target, one token at a %zu-token context, median of %d): %.3f "
              "(%.3f / %.3f ms)\n\n", fwd.context, fwd.samples, fwd.ratio(), 1e3 * fwd.draft_s, 1e3 * fwd.target_s);
  // pass: one verification pass in baseline passes. The bound prices it at 1; dividing the bound by it
  // gives what this pass cost allows, so bound% × pass shows the overhead alone.
  const auto pass_cost = [&](const totals& r) {
    return baseline.seconds_per_pass() > 0 ? r.seconds_per_pass() / baseline.seconds_per_pass() : 0.0;
  };
  int name_w = 11;  // the first column fits the longest configuration name ("adaptive:hold")
  for (const auto& b : cfgs) name_w = std::max(name_w, static_cast<int>(b.name.size()));
  std::printf("%-*s %8s %8s %8s %11s %7s %7s %7s %7s %6s %6s %6s %6s %6s %6s %6s %6s %6s %s\n", name_w, "config", "tok/s", "median",
              "geomean", "95% CI", "e2e", "accept", "drafted", "tok/pass", "alpha", "c", "draft", "bridge", "target", "other", "pass", "bound%",
              "cost%", "identical");
  for (std::size_t ci = 0; ci < cfgs.size(); ++ci) {
    const auto& r = res[ci];
    const double d = r.decode_s > 0 ? r.decode_s : 1.0;
    const double other = std::max(0.0, r.decode_s - r.draft_s - r.bridge_s - r.target_s);
    const double gm = geomean(r.speedups);
    const ratio_interval band = geomean_interval(r.speedups);
    char ci_text[32] = "n/a";  // one prompt run: no spread to judge the noise by
    if (band.hi > 0) std::snprintf(ci_text, sizeof ci_text, "%.2f-%.2f", band.lo, band.hi);
    std::printf(
        "%-*s %8.1f %7.2fx %7.2fx %11s %6.2fx %7.3f %6.0f%% %7.2f %6.3f %6.3f %5.0f%% %5.0f%% %5.0f%% %5.0f%% %6.2f %5.0f%% %5.0f%% %s\n",
        name_w, cfgs[ci].name.c_str(), r.tokens_per_s(), median(r.speedups), gm, ci_text, geomean(r.e2e), r.acceptance(), 100 * r.drafting_share(),
        r.tokens_per_pass(), r.alpha(), r.cost_ratio(), 100 * r.draft_s / d,
        100 * r.bridge_s / d, 100 * r.target_s / d, 100 * other / d, pass_cost(r), 100 * gm / r.bound(),
        100 * gm * pass_cost(r) / r.bound(), expects_identical(ci) ? (r.identical ? "yes" : "NO") : "n/a");
    if (r.rechecked) std::printf("%-*s %zu rows re-decided by a single-token pass\n", name_w, "", r.rechecked);
    if (expects_identical(ci) && !r.identical)
      std::printf("%-*s identical on %zu of %zu prompts\n", name_w, "", r.identical_prompts, prompts.size());
  }
  if (any_expected)
    std::printf("\n%s outputs identical to the baseline: %s\n", base_cfg.sampling.greedy() ? "greedy" : "SLEM-sampled",
                all_identical ? "yes" : "NO");

  if (json_out) {
    nlohmann::json j;
    const auto sum = [](const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0); };
    // [lo, hi] of the geomean's 95% interval; null with a single prompt run.
    const auto interval_json = [](ratio_interval i) {
      return i.hi > 0 ? nlohmann::json::array({i.lo, i.hi}) : nlohmann::json(nullptr);
    };
    // End to end: wall time with the prefill, comparable with harnesses that time whole calls; a speedup
    // compares two runs at the baseline's length (sampled runs stop at different lengths).
    j["baseline"] = {
        {"tokens_per_s", baseline.tokens_per_s()},       {"tokens", baseline.tokens},
        {"seconds_end_to_end", sum(baseline.wall)},      {"tokens_by_prompt", baseline.new_tokens},
        {"seconds_end_to_end_by_prompt", baseline.wall}, {"seconds_prefill_by_prompt", baseline.fixed}};
    j["configs"] = nlohmann::json::array();
    for (std::size_t ci = 0; ci < cfgs.size(); ++ci) {
      const auto& r = res[ci];
      std::vector<double> acc_by_pos;
      for (std::size_t p = 0; p < r.drafted_at.size(); ++p)
        acc_by_pos.push_back(r.drafted_at[p] ? double(r.acc_at[p]) / double(r.drafted_at[p]) : 0.0);
      j["configs"].push_back({{"name", cfgs[ci].name},
                              {"tokens_per_s", r.tokens_per_s()},
                              {"speedup", geomean(r.speedups)},
                              {"speedup_median", median(r.speedups)},
                              {"speedup_end_to_end", geomean(r.e2e)},
                              {"speedup_interval_95", interval_json(geomean_interval(r.speedups))},
                              {"speedup_end_to_end_interval_95", interval_json(geomean_interval(r.e2e))},
                              {"drafting_share", r.drafting_share()},
                              {"acceptance", r.acceptance()},
                              {"tokens_per_step", r.tokens_per_pass()},
                              {"alpha", r.alpha()},
                              {"cost_ratio", r.cost_ratio()},
                              {"mean_draft_length", r.mean_gamma()},
                              {"bound", r.bound()},
                              {"bound_fraction", geomean(r.speedups) / r.bound()},
                              {"verify_pass_cost", pass_cost(r)},
                              {"bound_fraction_at_pass_cost", geomean(r.speedups) * pass_cost(r) / r.bound()},
                              {"identical_prompts", r.identical_prompts},
                              {"identical_expected", expects_identical(ci)},
                              {"rechecked_rows", r.rechecked},
                              {"tokens", r.tokens},
                              {"seconds_end_to_end", sum(r.wall)},
                              {"acceptance_by_position", acc_by_pos},
                              {"speedup_by_prompt", r.speedups},
                              {"tokens_by_prompt", r.new_tokens},
                              {"seconds_end_to_end_by_prompt", r.wall},
                              {"seconds_prefill_by_prompt", r.fixed},
                              {"speedup_end_to_end_by_prompt", r.e2e}});
    }
    // Over the configurations whose outputs must equal the baseline's (greedy; SLEM-sampled on exact
    // rows); TLI-sampled outputs differ by design.
    j["identical_outputs"] = all_identical;
    j["forward_time_ratio"] = fwd.ratio();
    j["target_batch_tolerance"] = uag::batch_tolerance_of(target);
    j["target_forward_s"] = fwd.target_s;
    j["draft_forward_s"] = fwd.draft_s;
    j["prompts"] = prompts.size();
    j["repeats"] = repeats;
    j["isa"] = std::string(uag::instruction_set_name(uag::resolve_instruction_set()));
    j["prompt_tokens_mean"] = double(baseline.prompt_tokens) / double(prompts.size() * repeats);
    j["max_new_tokens"] = base_cfg.max_new_tokens;
    j["temperature"] = base_cfg.sampling.temperature;
    j["seed"] = o.seed;  // prompt i sampled with seed + i: a T > 0 run is reproduced from this
    write_output(*o.json_file, "json", *json_out, j.dump(2) + "\n");
  }
  if (svg_out) write_output(*o.svg_file, "svg", *svg_out, svg_chart(cfgs, res));
  return !all_identical ? 3 : 0;
}

const registration reg("bench", {"latency harness: baseline vs assisted configurations", kHelp, bench_main});

}  // namespace
}  // namespace uag_cli
