// uag latency: what an interactive user feels. Times every request at the streaming callback (time to
// first token, time per output token, inter-token latency percentiles, end-to-end), the baseline and
// every configuration interleaved per prompt, optionally at several prompt lengths; and the one-time
// costs of a process (loads, bridge tables, the first request against later ones).
#include <cstdlib>
#include <fstream>
#include <map>

#include "harness.hpp"

namespace uag_cli {
namespace {

constexpr const char* kHelp = R"(usage: uag latency --prompts FILE.jsonl [options]

Runs the target-only baseline and every configuration on each prompt, interleaved per prompt, and
times each request at the streaming callback, i.e. what a user's screen receives:
  TTFT   time to first token: request start (before tokenizing the prompt) to the first text
  TPOT   time per output token after the first: (end-to-end - TTFT) / (tokens - 1)
  ITL    inter-token latency: every gap between two consecutive pieces of streamed text
  e2e    end-to-end time of the request
Percentiles are nearest-rank over requests (TTFT, TPOT, e2e) or over all gaps (ITL). Also reported:
one-time setup (model and tokenizer loads, the draft source's bridge tables, a warm-up generation)
and the process's first request (configuration 1 on prompt 1, right after setup) against the same
request later.
Greedy outputs must equal the baseline's (exit code 3 otherwise).

  --target DIR          target model folder (default: the bundled target)
  --draft DIR           draft model folder (default: the bundled draft)
  --prompts FILE        JSON lines with a "prompt" field (required)
  --limit N             use the first N prompts only
  --prompt-tokens LIST  comma-separated prompt lengths in target tokens (e.g. 100,500,1500): prompt i
                        of length L is the first L tokens of prompts i, i+1, ... joined by newlines,
                        cut back to its last newline when that keeps >= 80% of it (default: the
                        prompts as they are)
  --repeats N           run the prompt set N times (default 1)
  --no-warmup           skip the warm-up generation (AssistedGenerator::warm_up) at setup: the first
                        request then pays for every first use
  --warmup-steps N      steps of the warm-up generation (default 4)
  --max-new-tokens N    tokens per generation (default 128)
  --temperature T       0 = greedy (default 0)
  --mode slem|tli       sampling verification when T > 0 (default tli)
  --seed S              base seed; prompt i uses S + i (default 0)
  --configs LIST        comma-separated among g1..g16, heuristic, confidence, adaptive (default adaptive);
                        NAME:hold, NAME:close: a text-bridged draft holds back the last word or
                        token; NAME:slem (T > 0,
                        --mode tli): SLEM over the text bridge (see uag bench)
  --json OUT            write the results as JSON
  --svg OUT             draw the ITL distribution (CDF) per configuration and prompt length, and the
                        token arrivals of one request, baseline against each configuration
  --threads N           threads for the target (default 0 = all cores)
  --draft-threads N     threads for the draft (default 1; 0 = all cores)
  --weights W           model folders: auto, f32, bf16 or bf16-products (bf16 inputs to every
                        product: faster verification on AVX512_BF16 CPUs, other numerics))";

// Latency samples of one configuration (or the baseline) at one prompt length.
struct latency_samples {
  std::vector<double> ttft, tpot, e2e, itl, prefill, draft_prefill, ttft_ratio;
  std::size_t tokens = 0, requests = 0, prompt_tokens = 0;
  double decode_s = 0;
  bool identical = true;

  void add(const request_trace& r) {
    ttft.push_back(r.ttft());
    if (r.stats.new_tokens > 1) tpot.push_back(r.tpot());
    e2e.push_back(r.end_s);
    for (std::size_t k = 1; k < r.arrivals.size(); ++k) itl.push_back(r.arrivals[k] - r.arrivals[k - 1]);
    prefill.push_back(r.stats.prefill_seconds);
    draft_prefill.push_back(r.stats.draft_prefill_seconds);
    tokens += r.stats.new_tokens;
    prompt_tokens += r.stats.prompt_tokens;
    decode_s += r.stats.decode_seconds();
    ++requests;
  }
};

// Where a request's time went (seconds): to compare the first request of a process with later ones.
nlohmann::json time_split(const request_trace& r) {
  const auto& s = r.stats;
  return {{"prefill", s.prefill_seconds}, {"draft_prefill", s.draft_prefill_seconds}, {"draft", s.draft_seconds},
          {"bridge", s.bridge_seconds},   {"target", s.target_seconds},               {"verify", s.verify_seconds},
          {"other", s.other_seconds()},   {"target_passes", s.target_passes},         {"new_tokens", s.new_tokens},
          {"minor_page_faults", r.minor_faults}};
}

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0.0 : s / double(v.size());
}

nlohmann::json quantiles(std::vector<double> v, std::initializer_list<int> qs, bool with_max) {
  std::sort(v.begin(), v.end());
  nlohmann::json j = nlohmann::json::object();
  for (int q : qs) {
    char key[8];  // (not "p" + std::to_string(q): GCC 12 -Wrestrict false positive)
    std::snprintf(key, sizeof key, "p%d", q);
    j[key] = percentile_sorted(v, q);
  }
  if (with_max) j["max"] = v.empty() ? 0.0 : v.back();
  j["mean"] = mean(v);
  j["count"] = v.size();
  return j;
}

nlohmann::json latency_json(const latency_samples& s) {
  return {{"requests", s.requests},
          {"new_tokens", s.tokens},
          {"prompt_tokens_mean", s.requests ? double(s.prompt_tokens) / double(s.requests) : 0.0},
          {"ttft_s", quantiles(s.ttft, {50, 90}, true)},
          {"tpot_s", quantiles(s.tpot, {50, 90}, false)},
          {"itl_s", quantiles(s.itl, {50, 90, 99}, true)},
          {"e2e_s", quantiles(s.e2e, {50, 90}, true)},
          {"prefill_s_mean", mean(s.prefill)},
          {"draft_prefill_s_mean", mean(s.draft_prefill)},
          {"tokens_per_s", s.decode_s > 0 ? double(s.tokens) / s.decode_s : 0.0}};
}

// Prompt i of about n target tokens: prompts i, i+1, ... joined by newlines, cut to n tokens, then back
// to its last newline when that keeps at least 80% of the text (code continues best after a newline).
template <class Tokenizer>
std::string prompt_of_length(const std::vector<std::string>& prompts, std::size_t i, std::size_t n,
                             const Tokenizer& tok) {
  std::string text;
  uag::token_vector ids;
  for (std::size_t k = 0; ids.size() < n && k < 100000; ++k) {
    if (!text.empty()) text += '\n';
    text += prompts[(i + k) % prompts.size()];
    ids = tok.encode(text, false);
  }
  ids.resize(std::min(ids.size(), n));
  std::string cut = tok.decode(ids, true);
  const std::size_t nl = cut.rfind('\n');
  if (nl != std::string::npos && nl + 1 >= cut.size() * 4 / 5) cut.resize(nl + 1);
  return cut;
}

std::string fmt_ms(double s) {
  char b[32];
  std::snprintf(b, sizeof b, s < 0.01 ? "%.3f" : "%.1f", s * 1e3);
  return b;
}

void print_row(const std::string& name, int name_w, const latency_samples& s, const std::string& ratio) {
  auto sorted = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  const auto ttft = sorted(s.ttft), tpot = sorted(s.tpot), itl = sorted(s.itl), e2e = sorted(s.e2e);
  std::printf("%-*s %9s %9s %8s %8s %8s %8s %8s %9s %8.1f %s\n", name_w, name.c_str(), fmt_ms(percentile_sorted(ttft, 50)).c_str(),
              fmt_ms(percentile_sorted(ttft, 90)).c_str(), fmt_ms(percentile_sorted(tpot, 50)).c_str(),
              fmt_ms(percentile_sorted(itl, 50)).c_str(), fmt_ms(percentile_sorted(itl, 90)).c_str(),
              fmt_ms(percentile_sorted(itl, 99)).c_str(), fmt_ms(itl.empty() ? 0.0 : itl.back()).c_str(),
              fmt_ms(percentile_sorted(e2e, 50)).c_str(), s.decode_s > 0 ? double(s.tokens) / s.decode_s : 0.0,
              ratio.c_str());
}

const char* const kColors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"};

// Left: one ITL CDF panel per prompt length (log time axis: gaps inside a burst are microseconds, gaps
// between target passes milliseconds). Last: cumulative text chunks against time for one request.
std::string svg_chart(const std::vector<std::string>& length_names, const std::vector<latency_samples>& base,
                      const std::vector<std::vector<latency_samples>>& res, const std::vector<bench_config>& cfgs,
                      const request_trace& tl_base, const std::vector<request_trace>& tl_cfg, const std::string& tl_name) {
  const int pw = 330, ph = 220, padl = 50, padt = 40, cell_w = pw + 80, cell_h = ph + 80;
  const std::size_t panels = length_names.size() + 1;
  const std::size_t cols = std::min<std::size_t>(panels, 2), rows = (panels + cols - 1) / cols;
  std::ostringstream o;
  o << "<svg xmlns='http://www.w3.org/2000/svg' width='" << cols * cell_w + 20 << "' height='" << rows * cell_h + 30
    << "' font-family='sans-serif' font-size='11'>\n<rect width='100%' height='100%' fill='white'/>\n";
  // Legend.
  o << "<text x='10' y='16' fill='black'>baseline (target only)</text>\n";
  for (std::size_t c = 0; c < cfgs.size(); ++c)
    o << "<text x='" << 160 + 110 * c << "' y='16' fill='" << kColors[c % 8] << "'>" << cfgs[c].name << "</text>\n";
  auto origin = [&](std::size_t p) {
    return std::pair<double, double>{double(p % cols) * cell_w + padl, 30 + double(p / cols) * cell_h + padt};
  };
  auto axes = [&](double x0, double y0, const std::string& title) {
    o << "<text x='" << x0 << "' y='" << y0 - 12 << "'>" << title << "</text>\n";
    o << "<rect x='" << x0 << "' y='" << y0 << "' width='" << pw << "' height='" << ph
      << "' fill='none' stroke='black'/>\n";
  };
  // ITL CDFs, log10 x from 1 µs to the largest gap.
  double itl_max = 1e-3;
  for (std::size_t l = 0; l < length_names.size(); ++l) {
    for (double g : base[l].itl) itl_max = std::max(itl_max, g);
    for (const auto& r : res[l])
      for (double g : r.itl) itl_max = std::max(itl_max, g);
  }
  const double lx0 = -6.0, lx1 = std::ceil(std::log10(itl_max));
  for (std::size_t l = 0; l < length_names.size(); ++l) {
    const auto [x0, y0] = origin(l);
    axes(x0, y0, "ITL CDF, " + length_names[l]);
    auto px = [&](double s) { return x0 + (std::log10(std::max(s, 1e-6)) - lx0) / (lx1 - lx0) * pw; };
    auto py = [&](double f) { return y0 + ph - f * ph; };
    for (double e = lx0; e <= lx1 + 1e-9; e += 1.0) {
      const double s = std::pow(10.0, e);
      o << "<line x1='" << px(s) << "' y1='" << y0 << "' x2='" << px(s) << "' y2='" << y0 + ph
        << "' stroke='#ddd'/>\n<text x='" << px(s) - 12 << "' y='" << y0 + ph + 14 << "'>"
        << (s < 1e-3 ? std::to_string(std::lround(s * 1e6)) + "µs"
            : s < 1.0 ? std::to_string(std::lround(s * 1e3)) + "ms"
                      : std::to_string(std::lround(s)) + "s")
        << "</text>\n";
    }
    for (double f : {0.0, 0.5, 0.9, 1.0})
      o << "<text x='" << x0 - 30 << "' y='" << py(f) + 4 << "'>" << f << "</text>\n";
    auto curve = [&](std::vector<double> v, const char* color) {
      if (v.empty()) return;
      std::sort(v.begin(), v.end());
      std::string d;
      const std::size_t step = std::max<std::size_t>(1, v.size() / 400);  // at most ~400 points a curve
      for (std::size_t k = 0; k < v.size(); k += step)
        d += (d.empty() ? "M" : "L") + std::to_string(px(v[k])) + "," + std::to_string(py(double(k + 1) / double(v.size())));
      d += "L" + std::to_string(px(v.back())) + "," + std::to_string(py(1.0));
      o << "<path d='" << d << "' fill='none' stroke='" << color << "' stroke-width='1.5'/>\n";
    };
    curve(base[l].itl, "black");
    for (std::size_t c = 0; c < cfgs.size(); ++c) curve(res[l][c].itl, kColors[c % 8]);
  }
  // Timeline of one request: text chunks delivered against milliseconds since the request began.
  {
    const auto [x0, y0] = origin(length_names.size());
    axes(x0, y0, "token arrivals, one request (" + tl_name + ")");
    double tmax = tl_base.end_s;
    std::size_t nmax = tl_base.arrivals.size();
    for (const auto& t : tl_cfg) tmax = std::max(tmax, t.end_s), nmax = std::max(nmax, t.arrivals.size());
    tmax = std::max(tmax, 1e-3);
    auto px = [&](double s) { return x0 + s / tmax * pw; };
    auto py = [&](double n) { return y0 + ph - n / double(std::max<std::size_t>(nmax, 1)) * ph; };
    for (int k = 0; k <= 4; ++k)
      o << "<text x='" << px(tmax * k / 4) - 10 << "' y='" << y0 + ph + 14 << "'>" << std::lround(tmax * k / 4 * 1e3)
        << "ms</text>\n";
    o << "<text x='" << x0 - 30 << "' y='" << py(double(nmax)) + 4 << "'>" << nmax << "</text>\n";
    auto steps = [&](const request_trace& t, const char* color) {
      std::string d = "M" + std::to_string(px(0)) + "," + std::to_string(py(0));
      for (std::size_t k = 0; k < t.arrivals.size(); ++k)
        d += "L" + std::to_string(px(t.arrivals[k])) + "," + std::to_string(py(double(k))) + "L" +
             std::to_string(px(t.arrivals[k])) + "," + std::to_string(py(double(k + 1)));
      o << "<path d='" << d << "' fill='none' stroke='" << color << "' stroke-width='1.5'/>\n";
    };
    steps(tl_base, "black");
    for (std::size_t c = 0; c < tl_cfg.size(); ++c) steps(tl_cfg[c], kColors[c % 8]);
  }
  o << "</svg>\n";
  return o.str();
}

nlohmann::json load_average() {
  double l[3] = {0, 0, 0};
  if (getloadavg(l, 3) != 3) return nullptr;
  return {l[0], l[1], l[2]};
}

int latency_main(std::vector<std::string> argv) {
  args a(std::move(argv));
  harness_options o = take_harness_options(a, "adaptive");
  std::vector<std::size_t> lengths;
  if (auto v = a.take("prompt-tokens")) {
    std::stringstream ss(*v);
    for (std::string item; std::getline(ss, item, ',');)
      if (!item.empty()) lengths.push_back(parse_size("prompt-tokens", item, 1, 1 << 20));
    if (lengths.empty()) throw usage_error("--prompt-tokens is empty");
  }
  const std::size_t repeats = o.repeats;
  const bool warm = !a.flag("no-warmup");
  const std::size_t warm_steps = parse_size("warmup-steps", a.take("warmup-steps").value_or("4"), 1, 1 << 20);
  a.finish();
  const nlohmann::json load_before = load_average();
  const std::vector<std::string> source = read_prompts(o.prompts_path, o.limit);

  model_pair pair(o);
  pretrained& target = pair.target;
  // Prompt sets, one per length (a single set of the prompts as given without --prompt-tokens).
  std::vector<std::vector<std::string>> sets;
  std::vector<std::string> names;
  if (lengths.empty()) {
    sets.push_back(source);
    names.push_back("prompts as given");
  }
  for (std::size_t n : lengths) {
    std::vector<std::string> set;
    for (std::size_t i = 0; i < source.size(); ++i) set.push_back(prompt_of_length(source, i, n, target.tokenizer()));
    sets.push_back(std::move(set));
    names.push_back("~" + std::to_string(n) + " prompt tokens");
  }

  using generator = uag::AssistedGenerator<pretrained, pretrained_draft>;
  std::deque<generator> generators;  // one per configuration, kept across prompts as an engine would
  draft_sources sources(o.configs, pair.draft_model, target, o.mode, pair.draft);
  for (const auto& b : o.configs) generators.emplace_back(target, sources.for_config(b), config_for(o, b, 0));
  auto run_baseline = [&](const std::string& prompt, std::size_t i) {
    uag::generation_config c = o.base;
    c.sampling.seed = o.seed + i;
    uag::baseline_generator<pretrained> gen(target, c);
    return traced_generate(gen, prompt);
  };
  auto run_assisted = [&](std::size_t ci, const std::string& prompt, std::size_t i) {
    generators[ci].set_seed(o.seed + i);
    return traced_generate(generators[ci], prompt);
  };

  // Setup's last part: a throwaway generation on the first configuration's generator (it warms the
  // models, tokenizers and the draft source that every generator shares).
  double warm_s = 0;
  if (warm) {
    const auto t0 = harness_clock::now();
    generators[0].warm_up(sets[0][0], warm_steps);
    warm_s = seconds_since(t0);
  }
  // The process's first request: configuration 1 on prompt 1 of the first set, before anything else.
  const request_trace first = run_assisted(0, sets[0][0], 0);
  const request_trace first_base = run_baseline(sets[0][0], 0);
  bool all_identical = first.ids == first_base.ids;

  const std::size_t L = sets.size(), C = o.configs.size();
  std::vector<latency_samples> base(L);
  std::vector<std::vector<latency_samples>> res(L, std::vector<latency_samples>(C));
  std::vector<request_trace> later;  // configuration 1 on prompt 1 of the first set, in the measured runs
  request_trace tl_base;
  std::vector<request_trace> tl_cfg(C);
  struct pending_check {  // an assisted output, checked against its prompt's baseline after the set
    std::size_t length, config, prompt;
    std::vector<uag::token_id> ids;
  };
  std::vector<pending_check> pending_checks;
  for (std::size_t rep = 0; rep < repeats; ++rep) {
    for (std::size_t l = 0; l < L; ++l) {
      const auto& prompts = sets[l];
      std::vector<request_trace> base_runs(prompts.size());
      std::vector<std::vector<double>> ttft(C, std::vector<double>(prompts.size()));
      run_interleaved(
          prompts.size(), C,
          [&](std::size_t i) {
            base_runs[i] = run_baseline(prompts[i], i);
            base[l].add(base_runs[i]);
          },
          [&](std::size_t ci, std::size_t i) {
            request_trace r = run_assisted(ci, prompts[i], i);
            res[l][ci].add(r);
            ttft[ci][i] = r.ttft();
            if (o.base.sampling.greedy()) pending_checks.push_back({l, ci, i, r.ids});
            if (l == 0 && i == 0 && ci == 0) later.push_back(r);
            if (l + 1 == L && i == 0 && rep == 0) tl_cfg[ci] = std::move(r);
          },
          /*rotate_baseline=*/true);
      // Per-prompt ratios and output checks once every run of the prompt set is in.
      for (const auto& p : pending_checks)
        if (p.ids != base_runs[p.prompt].ids) res[p.length][p.config].identical = false;
      pending_checks.clear();
      for (std::size_t c = 0; c < C; ++c)
        for (std::size_t i = 0; i < prompts.size(); ++i)
          res[l][c].ttft_ratio.push_back(base_runs[i].ttft() > 0 ? ttft[c][i] / base_runs[i].ttft() : 0.0);
      if (l + 1 == L && rep == 0) tl_base = base_runs[0];
    }
  }
  const nlohmann::json load_after = load_average();
  for (const auto& per_len : res)
    for (const auto& r : per_len) all_identical &= r.identical;
  if (!o.base.sampling.greedy()) all_identical = true;  // sampled outputs differ from the baseline's by design

  // Setup and the first request against the same request later.
  std::vector<double> later_tps, later_e2e, later_ttft;
  for (const auto& r : later)
    later_tps.push_back(r.stats.tokens_per_second()), later_e2e.push_back(r.end_s), later_ttft.push_back(r.ttft());
  const double excess = first.end_s - median(later_e2e);
  const auto& su = pair.setup;
  std::printf("target %s | draft %s | %zu prompts x %zu new tokens x %zu repeats | T=%.2f%s\n", o.target_dir.c_str(),
              o.draft_dir.c_str(), source.size(), o.base.max_new_tokens, repeats, o.base.sampling.temperature,
              o.base.sampling.greedy() ? "" : (o.mode == cli_mode::tli ? " (tli)" : " (slem)"));
  std::printf("load average before / after: %s / %s\n", load_before.dump().c_str(), load_after.dump().c_str());
  std::printf("\nsetup (ms): target model %.1f, target tokenizer %.1f, draft model %.1f, draft tokenizer %.1f, "
              "bridge %.2f, warm-up %s\n",
              su.target_model * 1e3, su.target_tokenizer * 1e3, su.draft_model * 1e3, su.draft_tokenizer * 1e3,
              su.bridge * 1e3, warm ? fmt_ms(warm_s).c_str() : "off (--no-warmup)");
  std::printf("first request of the process (%s, prompt 1%s): TTFT %s ms, e2e %s ms (%+.1f ms over later), %.1f "
              "tokens/s, %ld page faults; later (median of %zu): TTFT %s ms, e2e %s ms, %.1f tokens/s; first / later "
              "tokens/s %.3f\n",
              o.configs[0].name.c_str(), warm ? ", after the warm-up" : ", cold", fmt_ms(first.ttft()).c_str(),
              fmt_ms(first.end_s).c_str(), excess * 1e3, first.stats.tokens_per_second(), first.minor_faults,
              later.size(), fmt_ms(median(later_ttft)).c_str(),
              fmt_ms(median(later_e2e)).c_str(), median(later_tps),
              median(later_tps) > 0 ? first.stats.tokens_per_second() / median(later_tps) : 0.0);
  int name_w = 11;  // the first column fits the longest configuration name ("adaptive:slem")
  for (const auto& b : o.configs) name_w = std::max(name_w, static_cast<int>(b.name.size()));
  for (std::size_t l = 0; l < L; ++l) {
    std::printf("\n%s (mean %.1f with BOS), %zu requests each; times in ms\n", names[l].c_str(),
                base[l].requests ? double(base[l].prompt_tokens) / double(base[l].requests) : 0.0, base[l].requests);
    std::printf("%-*s %9s %9s %8s %8s %8s %8s %8s %9s %8s %s\n", name_w, "config", "TTFT p50", "TTFT p90", "TPOT p50",
                "ITL p50", "ITL p90", "ITL p99", "ITL max", "e2e p50", "tok/s", "TTFT / baseline (median, geomean)");
    print_row("baseline", name_w, base[l], "");
    for (std::size_t c = 0; c < C; ++c) {
      char ratio[64];
      std::snprintf(ratio, sizeof ratio, "%.3f, %.3f", median(res[l][c].ttft_ratio), geomean(res[l][c].ttft_ratio));
      print_row(o.configs[c].name, name_w, res[l][c], ratio);
    }
  }
  if (o.base.sampling.greedy())
    std::printf("\ngreedy outputs identical to the baseline: %s\n", all_identical ? "yes" : "NO");

  if (o.json_out) {
    nlohmann::json j;
    j["setup_s"] = {{"target_model", su.target_model},         {"target_tokenizer", su.target_tokenizer},
                    {"draft_model", su.draft_model},           {"draft_tokenizer", su.draft_tokenizer},
                    {"bridge", su.bridge},                     {"warm_up", warm_s}};
    j["first_request"] = {{"config", o.configs[0].name},
                          {"after_warm_up", warm},
                          {"e2e_excess_s", excess},
                          {"ttft_s", first.ttft()},
                          {"e2e_s", first.end_s},
                          {"tokens_per_s", first.stats.tokens_per_second()},
                          {"new_tokens", first.stats.new_tokens},
                          {"time_split_s", time_split(first)},
                          {"later", {{"requests", later.size()},
                                     {"time_split_s_of_first", later.empty() ? nlohmann::json(nullptr) : time_split(later[0])},
                                     {"ttft_s", median(later_ttft)},
                                     {"e2e_s", median(later_e2e)},
                                     {"tokens_per_s", median(later_tps)}}},
                          {"tokens_per_s_ratio", median(later_tps) > 0 ? first.stats.tokens_per_second() / median(later_tps) : 0.0}};
    j["lengths"] = nlohmann::json::array();
    for (std::size_t l = 0; l < L; ++l) {
      nlohmann::json e = {{"prompt_tokens", lengths.empty() ? nlohmann::json(nullptr) : nlohmann::json(lengths[l])},
                          {"baseline", latency_json(base[l])}};
      e["configs"] = nlohmann::json::array();
      for (std::size_t c = 0; c < C; ++c) {
        nlohmann::json r = latency_json(res[l][c]);
        r["name"] = o.configs[c].name;
        r["ttft_ratio_median"] = median(res[l][c].ttft_ratio);
        r["ttft_ratio_geomean"] = geomean(res[l][c].ttft_ratio);
        r["identical"] = res[l][c].identical;
        e["configs"].push_back(std::move(r));
      }
      j["lengths"].push_back(std::move(e));
    }
    nlohmann::json tl = {{"prompt_tokens", tl_base.stats.prompt_tokens}, {"baseline", tl_base.arrivals}};
    tl["configs"] = nlohmann::json::object();
    for (std::size_t c = 0; c < C; ++c) tl["configs"][o.configs[c].name] = tl_cfg[c].arrivals;
    j["timeline_s"] = std::move(tl);
    j["identical_outputs"] = all_identical;
    j["prompts"] = source.size();
    j["repeats"] = repeats;
    j["warmup_steps"] = warm ? warm_steps : 0;
    j["max_new_tokens"] = o.base.max_new_tokens;
    j["temperature"] = o.base.sampling.temperature;
    j["load_average"] = {{"before", load_before}, {"after", load_after}};
    write_output(*o.json_file, "json", *o.json_out, j.dump(2) + "\n");
  }
  if (o.svg_out)
    write_output(*o.svg_file, "svg", *o.svg_out,
                 svg_chart(names, base, res, o.configs, tl_base, tl_cfg, names.back() + ", prompt 1"));
  return o.base.sampling.greedy() && !all_identical ? 3 : 0;
}

const registration reg("latency", {"latency harness: TTFT, TPOT, ITL percentiles and setup costs", kHelp, latency_main});

}  // namespace
}  // namespace uag_cli
