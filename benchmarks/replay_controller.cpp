// replay_controller: feeds one run of a `uag bench --trace` file back through the adaptive draft-length
// controller, step by step, and prints what the controller believed at each step: the acceptance α,
// the expected tokens and predicted tokens/s of every length. A trace records everything update()
// consumes, so the replay must take the same decisions as the run did; it counts the steps where it
// does not (exit status 1), which makes it a check on the trace as well as a window into the choice.
//
//   replay_controller TRACE.jsonl RUN [--prompt N] [--steps] [--lengths G] [--start G] [--max G]
//
// Why a step went the way it did (151k target, C ~500: drafting off for whole prompts where γ = 2 paid
// 1.5x) is read from the estimates next to the step, not guessed from the trace's outcome columns.
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "tool_support.hpp"
#include "uag/generation/draft_length.hpp"

namespace {

struct options {
  std::string trace, run;
  std::optional<std::size_t> prompt;  // print the steps of this prompt only
  bool steps = false;                 // print every step (default: the summary only)
  std::size_t lengths = 6;            // estimates printed for γ = 0 .. lengths - 1
  std::size_t start = 5, max = 16;    // the bench's adaptive configuration
};

const uag_tools::tool_usage usage{"replay_controller TRACE.jsonl RUN [--prompt N] [--steps] [--lengths G] [--start G] [--max G]"};

options parse(int argc, char** argv) {
  options o;
  const auto args = usage.walk(argc, argv, [&](const std::string& a, auto value) {
    if (a == "--prompt") o.prompt = usage.count(a, value()), o.steps = true;
    else if (a == "--steps") o.steps = true;
    else if (a == "--lengths") o.lengths = usage.count(a, value());
    else if (a == "--start") o.start = usage.count(a, value());
    else if (a == "--max") o.max = usage.count(a, value());
    else return false;
    return true;
  });
  usage.exactly(args, 2, "needs a trace file and a run name");
  o.trace = args[0], o.run = args[1];
  if (o.start < 1 || o.max < o.start) usage.fail("needs 1 <= --start <= --max");
  if (o.lengths < 1 || o.lengths > 17) usage.fail("--lengths must be 1..17");
  return o;
}

// One step of the trace, with the line it came from for messages.
struct step {
  std::size_t prompt, index, asked, proposed, accepted, next;
  bool rejected;
  double draft_s, target_s, step_s;
  bool last_open;  // the run's controller took last candidates as possibly open (absent before session 20)
  std::size_t checked;
  double agreed;  // the catch-up's check of the draft's first candidate (absent before session 45;
                  // a count of agreeing rows until session 46, an expected acceptance since)
};

step read_step(const nlohmann::json& j, const std::string& where) {
  try {
    return {j.at("prompt").get<std::size_t>(),
            j.at("step").get<std::size_t>(),
            j.at("asked").get<std::size_t>(),
            j.at("proposed").get<std::size_t>(),
            j.at("accepted").get<std::size_t>(),
            j.at("next").get<std::size_t>(),
            j.at("rejected").get<bool>(),
            j.at("draft_s").get<double>(),
            j.at("target_s").get<double>(),
            j.at("step_s").get<double>(),
            j.value("last_open", false),
            j.value("checked", std::size_t{0}),
            j.value("agreed", 0.0)};
  } catch (const nlohmann::json::exception&) {
    throw std::runtime_error(where + ": not a `uag bench --trace` step (needs prompt, step, asked, proposed, "
                                     "accepted, next, rejected, draft_s, target_s, step_s; last_open a bool)");
  }
}

int replay(const options& o) {
  uag::generation_config cfg;
  cfg.draft_policy = uag::draft_length_policy::adaptive;
  cfg.num_draft_tokens = o.start;
  cfg.max_draft_tokens = o.max;
  uag::draft_length_controller c(cfg);
  std::optional<std::size_t> prompt;
  std::size_t steps = 0, differ = 0;
  std::string first_differ;
  uag_tools::read_json_lines(o.trace, "", [&](const nlohmann::json& j, const std::string& where) {
    if (!j.is_object() || !j.contains("run") || !j["run"].is_string())
      throw std::runtime_error(where + ": not a `uag bench --trace` step (no run name)");
    if (j["run"] != o.run) return;
    const step s = read_step(j, where);
    if (!prompt) c.set_last_candidate_open(s.last_open);  // a text-bridged run's controller
    if (s.prompt != prompt) {  // a new generation: begin() calls restart(), the first one's too
      c.restart();
      prompt = s.prompt;
    }
    if (s.index == 0) return;  // the first step of a generation is the prefill's: never fed back
    c.note_catch_up_agreement(s.checked, s.agreed);
    c.update(s.proposed, s.accepted, s.rejected, s.proposed ? s.draft_s / static_cast<double>(s.proposed) : 0.0,
             s.target_s, s.step_s, s.asked);
    // The generator hints repetition while drafting is off; the trace does not record the hint, but it
    // changes the state only where it starts a probe, which the trace's next length shows.
    if (c.next() == 0 && s.next > 0) c.note_repetition();
    ++steps;
    if (c.next() != s.next && differ++ == 0) first_differ = where;
    if (o.steps && (!o.prompt || *o.prompt == s.prompt)) {
      std::printf("p%zu s%zu asked %zu got %zu/%zu%s next %zu%s choice %zu step %.3f ms | alpha %.3f |", s.prompt,
                  s.index, s.asked, s.accepted, s.proposed, s.rejected ? "x" : "", c.next(),
                  c.next() == s.next ? "" : " (trace: differs)", c.choice(), s.step_s * 1e3, c.alpha());
      for (std::size_t g = 0; g < o.lengths; ++g) {
        const double t = c.predicted_step_seconds(g);
        if (t > 0) std::printf(" g%zu %.2f tok %.0f/s", g, c.expected_tokens_per_step(g), c.expected_tokens_per_step(g) / t);
        else std::printf(" g%zu %.2f tok, untimed", g, c.expected_tokens_per_step(g));
      }
      std::printf(" | f %.2f curve", c.last_candidate_factor());
      for (std::size_t i = 0; i + 1 < o.lengths; ++i) std::printf(" %.2f", c.position_rate(i));
      std::printf("\n");
    }
  });
  if (steps == 0) throw std::runtime_error(o.trace + ": no steps of run '" + o.run + "'");
  std::printf("%s: %zu steps of run '%s' replayed, %zu decisions differ from the trace", o.trace.c_str(), steps,
              o.run.c_str(), differ);
  if (differ) std::printf(" (first at %s)", first_differ.c_str());
  std::printf("\n");
  return differ ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  return uag_tools::run_tool("replay_controller", [&] { return replay(parse(argc, argv)); });
}
