#pragma once
/// @file Chooses how many tokens to draft each step (γ).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "uag/generation/generation_config.hpp"

namespace uag {

/// @brief Expected speedup of one speculative step (Leviathan et al. 2023, Thm 3.8):
/// (1 − α^(γ+1)) / ((1 − α)(γc + 1)), with α the per-token acceptance and c the draft/target cost ratio.
inline double expected_speedup(double alpha, double c, std::size_t gamma) noexcept {
  alpha = std::clamp(alpha, 0.0, 0.999999);
  const double g = static_cast<double>(gamma);
  return (1.0 - std::pow(alpha, g + 1.0)) / ((1.0 - alpha) * (g * c + 1.0));
}

/// @brief Expected committed tokens per target pass: (1 − α^(γ+1)) / (1 − α).
inline double expected_tokens_per_pass(double alpha, std::size_t gamma) noexcept {
  alpha = std::clamp(alpha, 0.0, 0.999999);
  return (1.0 - std::pow(alpha, static_cast<double>(gamma) + 1.0)) / (1.0 - alpha);
}

/// @brief Draft-length controller for every draft_length_policy. O(max γ) per step, no allocation.
///
/// The adaptive policy maximises expected committed tokens per second of step time, E(γ) / S(γ).
/// E(γ) = 1 + Σ_{k=1..m} Π_{i<k} a_i, where a_i is the measured chance that candidate i is accepted
/// once the ones before it were (a survival curve: real acceptance is correlated, so a_i grows with i
/// and a single geometric α undervalues long drafts) and m the candidates a request for γ yields. The
/// curve follows the recent text (~50 steps); its prior at each position is the pair's record (~500
/// steps, every prompt), towards which it fades while drafting is off (hard stretches end). Over a text
/// bridge a step's last candidate is often the first piece of a longer target token (its acceptance
/// 0.6-0.8 where the same candidate with another after it was 0.8-0.95, on the 151k pair): there the
/// curve is the inner candidates' rate, each last candidate counts on it as 1/f of a success, and the
/// last candidate of E(γ) is scaled by f, their pooled acceptance over the curve's (prior 1, at most 1).
/// Pooled, the one-token steps that hard stretches and probes produce priced every longer draft at the
/// last-candidate rate, and the choice stayed short or off where γ = 3-5 paid 1.3-2x.
/// S(γ) is the measured wall time of a step that asked for γ tokens, made nondecreasing in γ (a
/// least-squares line through the measured lengths stands in for the others); only measured lengths
/// compete; on a weak pair a move to a longer one also needs their levels (symmetric running values) to
/// agree, since a length timed by probes alone wins on a lucky sample (longer_on_luck). Where the
/// confidence stop may cut a step short, its time is kept under the candidates it
/// proposed and S(γ) is the time of a step proposing what γ's steps propose on average (ask_time), the
/// same count that E(γ) uses. Leviathan's bound assumes a target pass costs the same for any number of rows;
/// on a CPU it does not (verifying k rows is compute-bound past a few), so S is measured, not modelled. γ = 0
/// (no drafting) is a candidate too, so a pair that does not pay falls back to target-only decoding (do no
/// harm). The first timed steps (once per controller) try the starting γ, γ ± 2 and γ = 0 (the
/// reference every length must beat), and drafting cannot stop before kMinEvidence steps have verified
/// candidates; then every probe_period steps the controller tries a neighbour of its choice (+1 and −1
/// in turn; a longer one with fewer than kSettleSamples timed steps every half period, so the choice
/// climbs faster) and now and then γ = 0 again (its time grows with the context). γ = 0 is timed on
/// its own, never blended with the
/// drafting line: the line's intercept holds the draft's fixed cost, which a step without a draft does
/// not pay, so a blend makes target-only look slower than it is and the controller never stops. Its time
/// is also capped by the draft-free part of recent drafting steps (the target pass over 1 + γ rows, which
/// costs no less than one of 1 row), so every drafting step checks γ = 0 at the load of now. On a shared
/// machine step times are bimodal (descheduled steps take 2-3x): every running time follows the lower
/// envelope of its samples, which is sharp where a mean is not. Step times are kept at a common load: each is
/// divided by the machine's load (a factor that every step's time shares, tracked from each length's
/// deviation from its own level), so that lengths timed at busier or quieter moments compare fairly.
/// While drafting is off, a probe is a step drafting one token (two over a text bridge), with an exponential
/// back-off (kMinProbeGap..kMaxProbeGap steps) that survives restart(). It pays the draft's catch-up on the
/// text committed while it was off, so it is not timed (a probe burst's second step is, where γ = 1 has no
/// timing yet). Each probe
/// step shrinks the old survival counts, so a few probes that accept well (the text turned predictable)
/// bring drafting back within the generation, and probes that do not cost < 1% of the steps.
/// note_repetition() (the committed text repeats an earlier n-gram: a free sign of predictable text)
/// makes the next step a probe after half the back-off (jittered: a looping text must not alias with it).
/// Probes from "off" are paid from a budget of 1.5% of all step time (the time they take beyond what
/// target-only steps would take for the tokens they commit, and what the two target-only steps after them
/// take beyond a settled one: a GPU target rebuilds its single-row graph there) after a small allowance,
/// and drafting resumes where the estimates, probes and their catch-ups' checks included, predict a clear
/// gain (kResumeGain).
/// Timing survives restart() (a property of the models and the machine); the survival curve and α are
/// carried over with less weight (a prior for the next text, not evidence about it).
class draft_length_controller {
 public:
  draft_length_controller() = default;
  explicit draft_length_controller(const generation_config& cfg)
      : policy_(cfg.draft_policy),
        gamma_(cfg.draft_policy == draft_length_policy::confidence ? cfg.max_draft_tokens : cfg.num_draft_tokens),
        start_(gamma_),
        best_(gamma_),
        max_(std::min(cfg.max_draft_tokens, kMaxGamma - 1)),
        confidence_(cfg.confidence_threshold),
        stop_unsure_(cfg.draft_policy == draft_length_policy::adaptive && cfg.sampling.greedy()) {
    // The pair's record starts from a rising curve: past the first candidate, a draft that was right so
    // far is usually right again (measured inner rates at positions 0/1/2: bundled pair .77/.90/.91
    // greedy and .65/.79/.84 at T = 0.7; 151k target at T = 0.7 .57/.60/.61). Without it a fresh
    // controller priced every position it had not reached at the rate of the first one: a first prompt
    // whose opening was hard drafted one or two tokens for its whole length (simulated, bundled Python
    // ~100: prompt 0 at 1.8x where γ = 5 made 3.1x). It weighs kFreshPrior steps, fades with the record
    // (~500 drafting steps) and is outweighed by the first few steps that reach a position.
    for (std::size_t i = 1; i < kMaxGamma; ++i) pair_reached_[i] = kFreshPrior, pair_survived_[i] = kFreshPrior * kFreshRate;
  }

  /// @brief γ for the next step (>= 1; the adaptive policy may return 0: draft nothing this step).
  std::size_t next() const noexcept { return gamma_; }
  /// @brief The adaptive policy's current best γ (next() but for the periodic probes); next() otherwise.
  std::size_t choice() const noexcept { return policy_ == draft_length_policy::adaptive ? best_ : gamma_; }
  /// @brief Confidence floor to pass to the draft: the confidence policy's threshold; adaptive and greedy,
  /// for a step of γ >= kStopFromLength where the choice is too, kStopConfidence past the first candidate
  /// (min_confidence_from()); 0 otherwise. γ is then a cap: a step stops where the draft is unsure of its
  /// next token, which the target would likely reject at a row's cost and a draft pass's. Where the choice
  /// is γ = 1-2 (weak pairs) nothing is trimmed, not even the +1 probe: a trimmed step's later candidates
  /// are the confident ones, and pooled into the survival curve they priced drafting above its worth
  /// (weak pair, side by side: 0.97 of target-only where the controller without the stop read 0.99-1.0).
  /// Nor where the pair's record says it is weak (its first candidate right less than kWeakRate of the
  /// time over ~500 drafting steps), though a good stretch takes the choice to γ >= 3: the weak pair's
  /// Python ~100 read 0.949 of γ = 1 with the stop there, 0.978 without (one run each, side by side).
  /// Probes from "off" draft all they ask (cut short, a probe tests nothing); so does the warm-up, whose
  /// acceptance decides whether an unknown pair is weak. Greedy only: a sampled candidate is accepted by
  /// how q overlaps p, which q's top probability says little about (151k pair, prose ~400, T = 0.7, one
  /// run each: 0.85 of the best static length with the stop, 0.91 without).
  float min_confidence() const noexcept {
    if (stop_unsure_)
      // (a probe from "off" runs while best_ is 0)
      return trims_now(gamma_) ? kStopConfidence : 0.0f;
    return policy_ == draft_length_policy::confidence ? confidence_ : 0.0f;
  }
  /// @brief Candidates drafted before min_confidence() applies. Adaptive: 1. Whether a step drafts at all
  /// is the controller's choice (γ = 0 against its measured rates); a floor on the first candidate turned
  /// steps of an unsure draft into target-only steps that still paid a draft pass, and kept drafting "on"
  /// at a loss.
  std::size_t min_confidence_from() const noexcept {
    return policy_ == draft_length_policy::adaptive ? 1 : 0;
  }

  /// @brief A new generation with the same models: keeps the step timing, weakens the α estimate.
  void restart() noexcept {
    if (policy_ != draft_length_policy::adaptive) {
      gamma_ = start_;
      return;
    }
    accepted_ *= kCarryOver;
    rejections_ *= kCarryOver;
    // The survival curve too: its shape is a prior for the next text, not evidence about it. At full
    // weight (then ~100 steps of memory) a prompt the draft could not predict at all (151k target, T = 0.7:
    // 70 steps in a row with no candidate accepted) kept drafting for 70 steps on the last prompt's record.
    scale_survival(kCarryOver);
    last_factor_ = last_factor();
    steps_ = 0;
    // A weak pair starts the next text at γ = 1 (where it settles), not at the longer draft a good
    // stretch at the end of the last one took it to: the curve that chose it is now a third of its weight
    // and has to be outweighed by the new text's misses first. Weak pair, C ~500 (session 47, `uag bench
    // --trace`): three prompts opened with 25-50 steps of γ = 2 whose second candidate was never right
    // (0.80-0.84x where g1 made 0.97-1.21x). Simulated, 31 recorded cells, quiet / loaded: weak 1.0229 ->
    // 1.0232 / 1.0160 -> 1.0168, others 1.0031 -> 1.0035 / 0.9866 (the simulator's controller climbs less
    // on real timings' luck, so it rarely ends a prompt past γ = 1).
    if (best_ > 1 && weak_record()) gamma_ = best_ = 1;
    off_streak_ = gamma_ == 0 ? 2 : 0;  // the generator prepares the draft on the prompt only when on
  }

  /// @brief Feeds back one step: `proposed` candidates, `accepted` of them, whether the step ended on a
  /// rejection, the measured draft time per candidate and target time of the pass, the whole step's
  /// wall time (seconds; 0 = unknown), and the γ the step asked the draft for (less than next() when the
  /// generator clamped it near the end; such a step's time is not kept).
  void update(std::size_t proposed, std::size_t accepted, bool rejected, double draft_s_per_token,
              double target_s_per_pass, double step_s = 0.0, std::size_t asked = SIZE_MAX) noexcept {
    switch (policy_) {
      case draft_length_policy::constant:
      case draft_length_policy::confidence: break;
      case draft_length_policy::heuristic:
        // HF's num_assistant_tokens schedule.
        if (proposed > 0 && accepted == proposed) gamma_ = std::min(max_, gamma_ + 2);
        else if (proposed > 0) gamma_ = std::max<std::size_t>(1, gamma_ - 1);
        break;
      case draft_length_policy::adaptive:
        adapt(proposed, accepted, rejected, draft_s_per_token, target_s_per_pass,
              asked == SIZE_MAX || asked == gamma_ ? step_s : 0.0, asked == SIZE_MAX ? gamma_ : asked);
        break;
    }
  }

  /// @brief What the draft's catch-up saw: over the last `rows` committed tokens it caught up on, the
  /// acceptance its first candidate would have scored (`agreed`, 0..rows: greedy, the rows where its own
  /// choice agreed with the text; sampled, the sum of min(1, q/p) of the ids that followed,
  /// draft_request::check_p). A probe from "off" tests one candidate (a coin that comes up 20-40% of the
  /// time on a weak pair); the catch-up before it reads the draft on every token committed while
  /// drafting was off, so it prices the first candidate on many positions for the cost of their logits
  /// (and, sampled, their softmax). Counted at the next update(), after a probe's decay. Adaptive only.
  std::size_t catch_up_check_rows() const noexcept {
    return policy_ == draft_length_policy::adaptive ? kCatchUpCheckRows : 0;
  }
  void note_catch_up_agreement(std::size_t rows, double agreed) noexcept {
    if (policy_ != draft_length_policy::adaptive || rows == 0) return;
    const double n = static_cast<double>(rows);
    checked_rows_ += n, checked_agreed_ += agreed > 0.0 ? std::min(agreed, n) : 0.0;  // (NaN: 0)
  }
  /// @brief A free hint that the text has become predictable (e.g. the last committed tokens repeat an
  /// earlier n-gram): while drafting is off, the next step probes a draft after about half the back-off
  /// instead of all of it (schedule_probe()).
  void note_repetition() noexcept {
    // At most halves the back-off: code and prose repeat short phrases all the time, and a hint that
    // probed every few steps would cost more than the draft it looks for.
    if (policy_ == draft_length_policy::adaptive && best_ == 0 && gamma_ == 0 && burst_ == 0 &&
        since_probe_ >= std::max(kMinProbeGap, hint_wait() / 2) && timed_ >= 2 && probe_affordable())
      start_probe();
  }
  /// @brief Whether a step's last candidate may be open: the first piece of a longer target token that
  /// more draft text would have formed (a draft behind a text bridge; see bridged_draft). The controller
  /// then keeps the last candidates' record apart from the others' and probes with two tokens.
  void set_last_candidate_open(bool open) noexcept {
    open_last_ = open;
    last_factor_ = last_factor();
  }
  bool last_candidate_open() const noexcept { return open_last_; }
  /// @brief Steps between probes while drafting is off (adaptive policy; for diagnostics and tests).
  std::size_t probe_gap() const noexcept { return probe_gap_; }

  /// @brief Current estimates (adaptive policy): acceptance α and cost ratio c.
  double alpha() const noexcept { return accepted_ / std::max(1e-9, accepted_ + rejections_); }
  double cost_ratio() const noexcept { return c_; }
  /// @brief Expected committed tokens of a step asking for γ candidates (adaptive policy's survival curve).
  double expected_tokens_per_step(std::size_t gamma) const noexcept {
    return expected_tokens(std::min(gamma, max_));
  }
  /// @brief Predicted wall time of a step drafting γ tokens (adaptive policy; 0 before any timing).
  double predicted_step_seconds(std::size_t gamma) const noexcept {
    return ask_time(std::min(gamma, max_)) * load_;
  }
  /// @brief Expected committed tokens per second of step time at γ, as the adaptive policy ranks the lengths
  /// (at a common load; 0 for a drafting length it has not measured, which does not compete).
  double predicted_rate(std::size_t gamma) const noexcept {
    const std::size_t g = std::min(gamma, max_);
    const double time = g > 0 && !measured(g) ? 0.0 : ask_time(g);
    return time > 0.0 ? expected_tokens(g) / time : 0.0;
  }
  /// @brief Candidates a step asking for γ is expected to propose (adaptive policy; for diagnostics): fewer
  /// than γ where the confidence stop trims its steps or a text bridge holds a last word back.
  double expected_candidates(std::size_t gamma) const noexcept { return ask_rows(std::min(gamma, max_)); }
  /// @brief The survival curve (adaptive policy; for diagnostics): the chance that candidate `position`
  /// (0-based) is accepted as an inner candidate once the ones before it were.
  double position_rate(std::size_t position) const noexcept {
    double prev = alpha(), pair_prev = alpha(), a = 0.0;
    for (std::size_t i = 0; i <= std::min(position, max_); ++i) a = inner_rate(i, prev, pair_prev);
    return a;
  }
  /// @brief The last-candidate factor f (1 unless set_last_candidate_open(); for diagnostics).
  double last_candidate_factor() const noexcept { return last_factor_; }

 private:
  static constexpr std::size_t kMaxGamma = 64;
  static constexpr std::size_t kProbePeriod = 8;  // steps between probes of a neighbouring γ
  static constexpr double kCarryOver = 0.3;       // weight of the previous generation's α
  static constexpr double kWeightDecay = 0.98;    // per timed step: a sample's weight halves in ~35 steps
  static constexpr double kSurvivalDecay = 0.98;  // per step: the survival curve remembers ~50 steps (100
                                                  // before: simulated on 38 recorded cells, 50 follows
                                                  // stretches better; the pair's record steadies it)
  static constexpr double kPseudoCount = 2.0;     // prior weight of a position's neighbour
  static constexpr double kPairDecay = 0.998;     // per drafting step: the pair's record remembers ~500 steps
  static constexpr double kPairPrior = 4.0;       // prior weight of the pair's record at a position
  static constexpr double kFreshPrior = 2.0;      // steps' weight of a fresh record's curve past position 0 ...
  static constexpr double kFreshRate = 0.8;       // ... and its rate there
  static constexpr double kLastPrior = 8.0;       // expected last-candidate successes of the factor's prior (1)
  static constexpr double kMinLastFactor = 0.25;   // floor of f: a last success counts at most 4x
  static constexpr double kStaleDecay = 0.97;     // per step off: the curve's weight halves in ~23 steps
  static constexpr std::size_t kMinProbeGap = 4;   // steps off between probes, doubled after each probe
  static constexpr std::size_t kMaxProbeGap = 32;  // that does not bring drafting back (a probe on ~3% of the
                                                   // steps; kProbeBudget caps what they cost; 64 found a
                                                   // weak pair's good stretches late: sim_s27)
  static constexpr double kProbeDecay = 0.75;     // of the old survival counts, per probe step while off
  static constexpr float kStopConfidence = 0.3f;  // the draft's top probability below which a step stops
  static constexpr std::size_t kStopFromLength = 3;  // ... where the choice drafts at least this many
  // A pair's first-candidate rate below which it is weak. Matrix, greedy, per cell and length: weak pair
  // 0.19-0.42, 151k pair 0.53-0.92, bundled 0.46-0.85 (below 0.5 only on prose ~1,200, where γ = 1 won).
  static constexpr double kWeakRate = 0.5;
  static constexpr double kStopMargin = 1.02;  // gain of target-only over drafting that may stop drafting,
  static constexpr double kStopPersistence = 0.6;  // once a gain of 1 + x has held for 0.6 / x decisions in
                                                   // a row (2%: 30, 5%: 12, 10%: 6, 20%: 3, 60%: 1)
  static constexpr double kOffRelax = 0.2;  // per step off: how far the drafting lengths' frozen timings move
                                            // towards what γ = 0's timing says of them now
  // A catch-up's check (note_catch_up_agreement): rows checked, and each row's weight as a first
  // candidate's outcome (consecutive rows of one text are not independent draws).
  static constexpr std::size_t kCatchUpCheckRows = 16;
  static constexpr double kCheckWeight = 0.5;
  static constexpr double kResumeGain = 1.05;     // predicted gain over γ = 0 that turns drafting back on
  static constexpr double kProbeBudget = 0.015;   // of all step time: the most probes from "off" may cost
  static constexpr double kProbeAllowance = 4.0;  // target-only steps' worth of probing before the budget
  static constexpr std::size_t kMinEvidence = 6;  // steps with candidates before γ = 0 may be chosen
  static constexpr std::size_t kSettleSamples = 4;  // samples of a length that may still be a transient
  static constexpr double kLoadGain = 0.1;    // of a step's deviation from its length's level, to the load
  static constexpr double kLevelGain = 0.02;  // ... and to the level (~50 steps)
  static constexpr double kLoadClip = 0.25;   // log deviation a faster step can move them by
  static constexpr double kStallLog = 0.4;    // log deviation (1.5x) past which a step was descheduled
  static constexpr double kClearLoss = 0.9;         // a shorter neighbour this far below the choice ...
  static constexpr std::size_t kClearLossSkip = 4;  // ... is probed on every kClearLossSkip-th turn
  static constexpr double kAskDecay = 0.9;  // per step asking for a length the stop trims: its record of
                                            // candidates proposed remembers ~10 such steps
  static constexpr double kAskPrior = 1.0;  // steps' weight of that record's prior (untrimmed yield)
  static constexpr std::size_t kZeroRefresh = 64;  // drafting steps between two timings of γ = 0 (near
                                                   // break-even only: elsewhere it cannot flip the choice)

  // A probe drafts one token: the cheapest test of whether the draft is right again, and where a pair
  // that barely pays settles. Once drafting is back, the ±1 probes climb to longer drafts.
  // Probes from "off" are paid from a budget (kProbeBudget of all step time so far, their cost measured
  // against a target-only step), so that however often the back-off or the repetition hint asks, looking
  // for a draft that has started to pay costs < 2%; and an unknown pair's first tokens pay for none.
  // The allowance lets the first probes of a generation through: a pair the warm-up misjudged (two or
  // three steps of evidence) must be able to come back within its first tokens, not after hundreds.
  bool probe_affordable() const noexcept {
    return probe_cost_s_ <= kProbeBudget * elapsed_s_ + kProbeAllowance * zero_time() * load_;
  }
  void start_probe() noexcept {
    if (!probe_affordable()) return;
    since_probe_ = 0;
    const std::size_t g = probe_length();
    burst_ = step_time_[g] > 0.0 ? 1 : 2;  // a second step, timed, where the probe length has no timing
    gamma_ = g;
  }
  // Restarts the count to the next probe from "off" and moves the jitter of the repetition hint's wait.
  void schedule_probe() noexcept {
    since_probe_ = 0;
    probe_phase_ += 0.6180339887498949;
    probe_phase_ -= std::floor(probe_phase_);
  }
  // The repetition hint's wait (before halving): the back-off jittered over
  // [0.8, 1.33) of the back-off by a golden-ratio sequence (its harmonic mean: as many probes as before,
  // on average). The hint fires on every step of a text that repeats, and while off each step commits one
  // token, so probes a fixed number of steps apart sample a looping text at one phase: weak pair, Python
  // ~500, a prompt looping every 6 tokens (γ = 1 paid 1.32x): every probe, 16 steps apart, landed where
  // the draft was wrong, 1 right of 19, and drafting stayed off for the prompt. Elsewhere the back-off is
  // kept exact: a text that does not repeat has no phase to miss.
  std::size_t hint_wait() const noexcept {
    return static_cast<std::size_t>(
        std::lround(static_cast<double>(probe_gap_) / (0.75 + 0.5 * probe_phase_)));
  }
  // Over a text bridge a one-token probe is all last candidate (accepted 0.60-0.70 where the same
  // candidate with another after it was 0.71-0.85 on the 151k pair's C and Python tables, and 0 of 9 on
  // one prompt whose γ = 5 made 2.06x): two tokens put an inner candidate first, which decides the hit.
  std::size_t probe_length() const noexcept { return open_last_ ? 2 : 1; }

  void adapt(std::size_t proposed, std::size_t accepted, bool rejected, double d, double t, double step_s,
             std::size_t requested) noexcept {
    // A step the confidence stop may cut short costs what it proposed (a target pass over 1 + proposed
    // rows, a draft pass per candidate and one more for the token it stopped at), not what it asked for:
    // its time is kept under the candidates it proposed, and what a length asks for is priced from the
    // candidates its steps propose (ask_time). Kept under the length asked, the lower envelope of a mix
    // of full steps and cheap short ones followed the short ones (151k pair, asking for 4: full steps
    // 6.32 ms for 3.01 tokens, 39% cut short at 4.40 ms for 1.57) and priced long drafts ~15% below
    // their cost: adaptive ran at 0.962 of the best static length, drafting longer than it.
    // (A step the generator clamped near the end asked for less than next() but had the same floor.)
    const bool floored = requested > 0 && requested <= max_ && min_confidence() > 0.0f;
    const std::size_t key = floored ? proposed : requested;
    if (floored && proposed == 0) step_s = 0.0;  // nothing drafted: not a drafting step's cost
    // A drafting step right after two or more steps without a draft is not timed: it pays the draft's
    // catch-up on the text committed meanwhile, and the target pass after it runs on caches the catch-up
    // evicted (151k target, C ~800: a probe step took 4.1 ms where a steady γ = 1 step takes 2.15 ms and
    // a target-only step 1.47 ms; draft 1.7 vs 0.37 ms, target 1.9 vs 1.6 ms, the rest 0.5 vs 0.15 ms).
    // Timed, probes made γ = 1 look 1.8x a target-only step instead of 1.46x, and a good pair whose
    // opening was unpredictable stayed off for whole prompts.
    const bool catch_up = requested > 0 && off_streak_ >= 2;
    // The two target-only steps after a probe from "off" pay for the switch back (a GPU target rebuilds
    // its single-row graph after a multi-row pass: 805 and 743 us, then 415): what they take beyond a
    // settled target-only step is the probe's cost, and they are not timed as γ = 0. Uncharged, probes that
    // were right (each brings the next one 4 steps later) ran a GPU target at half speed while off.
    const bool after_probe = requested == 0 && best_ == 0 && off_streak_ < 2;
    // The controller's first timed step pays a process's one-time costs (151k target: 54 ms where steps
    // take 2-3 ms: weights paged in, buffers grown). Kept, it stood for its length for good (the choice
    // never went back to re-time it) and, pooled into the monotone curve and the line, priced every
    // longer draft at 10x: drafting 9% of the steps where γ = 4 ran 1.5x target-only.
    const bool cold = step_s > 0.0 && elapsed_s_ <= 0.0;  // elapsed_s_ sums every timed step so far
    if (step_s > 0.0) {
      elapsed_s_ += step_s;
      // The step's time at the load the estimates are kept at, by the load before this step moves it:
      // normalised by itself, the length timed most often would look steadier than the others, and its
      // lower envelope dearer.
      const double load_free = step_s / load_;
      if (!(catch_up || after_probe || cold) && key <= max_) track_load(key, step_s);
      // A drafting step's time without its draft (the target pass over 1 + γ rows, verification,
      // commits) bounds a target-only step's time from above at the load the machine has now: every step
      // refreshes it, where a timing of γ = 0 alone is taken rarely and may date from another load.
      if (requested > 0) {
        const double own = std::max(0.0, load_free - static_cast<double>(proposed) * d / load_);
        if (!catch_up) nondraft_s_ = track_low(nondraft_s_, own);
        if (!catch_up && proposed > 0) draft_token_s_ = track_low(draft_token_s_, d / load_);
        // A probe from "off" costs the time a target-only run would not have spent on the tokens it
        // committed (a probe that was right commits two tokens for the time of one probe step).
        const double target_only = static_cast<double>(accepted + 1) * zero_time() * load_;
        if (best_ == 0) probe_cost_s_ += std::max(0.0, step_s - target_only);
      } else if (after_probe) {
        probe_cost_s_ += std::max(0.0, step_s - zero_time() * load_);
      } else if (nondraft_s_ > 0.0) {
        // Target-only steps pull a bound from a quieter time up to the load of now.
        nondraft_s_ = std::max(nondraft_s_, track_low(nondraft_s_, load_free));
      }
      step_s = load_free;
    }
    if (catch_up || after_probe || cold) step_s = 0.0;  // counted in the elapsed time (and probe budget) above
    off_streak_ = requested == 0 ? off_streak_ + 1 : 0;
    if (best_ == 0 && requested > 0)  // a probe from "off": a hit when the draft was right on every candidate
      // (over a text bridge the last candidate may be open, so a probe right on all but it is a hit)
      probe_hits_ = proposed > 0 && accepted + (open_last_ && proposed >= 2 ? 1 : 0) >= proposed ? probe_hits_ + 1 : 0;
    if (burst_ > 0 && proposed > 0) {  // a probe while off: its evidence outweighs what drafting saw long ago
      scale_survival(kProbeDecay);
      accepted_ *= kProbeDecay, rejections_ *= kProbeDecay;
    }
    if (checked_rows_ > 0.0) {  // the catch-up's check: first-candidate evidence at kCheckWeight a row
      const double n = kCheckWeight * checked_rows_, ok = kCheckWeight * checked_agreed_;
      reached_[0] += n, survived_[0] += ok;
      accepted_ += ok, rejections_ += n - ok;
      checked_rows_ = checked_agreed_ = 0.0;
    }
    // Exponentially weighted MLE of a geometric acceptance: α = accepted / (accepted + rejections).
    // Steps that ran out of candidates without a rejection are censored: they add accepts only.
    constexpr double decay = 0.95;
    if (proposed > 0) {
      ++drafted_evidence_;
      accepted_ = decay * accepted_ + static_cast<double>(accepted);
      rejections_ = decay * rejections_ + (rejected ? 1.0 : 0.0);
      // Survival curve: candidates 0..accepted-1 were reached and accepted; candidate `accepted` was
      // reached and rejected (if the step ended on a rejection); later ones were never verified.
      scale_survival(kSurvivalDecay);
      for (std::size_t i = 0; i <= max_; ++i) pair_reached_[i] *= kPairDecay, pair_survived_[i] *= kPairDecay;
      first_ok_ = kPairDecay * first_ok_ + (accepted > 0 ? 1.0 : 0.0);
      const std::size_t seen = std::min(accepted + (rejected ? 1 : 0), max_ + 1);
      const std::size_t last = proposed - 1;
      for (std::size_t i = 0; i < seen; ++i) {
        const double ok = i < accepted ? 1.0 : 0.0;
        if (i == last) last_reached_[i] += 1.0, last_survived_[i] += ok;
        else reached_[i] += 1.0, survived_[i] += ok;
        pair_reached_[i] += 1.0, pair_survived_[i] += i == last ? ok / last_factor_ : ok;
      }
      last_factor_ = last_factor();
    } else if (requested == 0 && best_ == 0) {
      // While drafting is off the curve is the hard stretch that switched it off, frozen: it goes stale,
      // and fades towards the pair's record (the prior in expected_tokens). Frozen, it held a good pair
      // off for whole prompts (151k target, C ~500, simulated: off on 60% of the steps where every
      // prompt's best static length paid 1.05-1.8x; a probe every ~100 steps, each one judged against it).
      scale_survival(kStaleDecay);
      // The drafting lengths' timings are frozen too, at the values that switched drafting off: drafting
      // stops where their lower envelopes read high (a few slow steps), and while off nothing times them
      // again (a probe pays a catch-up and is not timed), where γ = 0 is timed every step. Frozen, they
      // priced γ = 1 3.3-4.1% dearer against γ = 0 than it is for as long as drafting was off (weak pair,
      // C ~100, both recordings, `simulate_controller --diagnose`: -0.5 to +0.1% while drafting), and the
      // resume gain waited on that; relaxed, 1.3-1.5%. Each length moves towards its level (the running
      // value of its cost that the load model keeps, symmetric and slow) at the envelope-to-level ratio
      // γ = 0 has now.
      if (level_[0] > 0.0 && step_time_[0] > 0.0) {
        const double envelope = step_time_[0] / level_[0];
        for (std::size_t g = 1; g <= max_; ++g)
          if (step_time_[g] > 0.0 && level_[g] > 0.0)
            step_time_[g] += kOffRelax * (envelope * level_[g] - step_time_[g]);
      }
    }
    if (floored) {  // what a step of this length proposes once the stop may trim it
      ask_rows_[requested] =
          kAskDecay * ask_rows_[requested] + static_cast<double>(std::min(proposed, requested));
      ask_cut_[requested] = kAskDecay * ask_cut_[requested] + (proposed < requested ? 1.0 : 0.0);
      ask_weight_[requested] = kAskDecay * ask_weight_[requested] + 1.0;
      if (step_s > 0.0) ++ask_samples_[requested];
    } else if (requested > 0) {
      // Candidates per candidate asked for (a text bridge may hold the last one back).
      asked_ = kSurvivalDecay * asked_ + static_cast<double>(requested);
      yielded_ = kSurvivalDecay * yielded_ + static_cast<double>(std::min(proposed, requested));
    }
    if (proposed > 0 && t > 0.0 && d >= 0.0) c_ = has_c_ ? 0.8 * c_ + 0.2 * (d / t) : d / t, has_c_ = true;
    // Timing is keyed by the γ asked for, not the candidates that came back: a text bridge may yield
    // fewer candidates than asked (a held-back last word, tokens that merge) for the same cost. Steps the
    // stop may trim are the exception (key: the candidates proposed; see above).
    // (step_s > 0 only when the step asked for what next() said.)
    if (step_s > 0.0 && key <= max_) {
      double& e = step_time_[key];
      // On a loaded machine a step is now and then descheduled for a whole time slice (several times
      // its length): such a sample is capped at twice the running value, so that one stall does not
      // switch drafting off (or on) for many steps.
      // A length's first samples may be a transient, and a length timed only in the warm-up keeps it:
      // the first step of a process took 21 ms, its second 4 ms; on a GPU target the first two target-only
      // passes after a multi-row verification rebuild the single-row graph (953, 854, then 415 us), and
      // the warm-up times γ = 0 exactly then; on a CPU a length's first step passes over a number of rows
      // for the first time (151k target: γ = 2's first step 2.13 ms, its next ones ~1.8). Until a length
      // has kSettleSamples samples, its running value is the fastest of them.
      ++samples_[key];
      e = samples_[key] <= kSettleSamples && e > 0.0 ? std::min(e, step_s) : track_low(e, step_s);
      for (std::size_t g = 0; g <= max_; ++g) weight_[g] *= kWeightDecay;
      weight_[key] += 1.0;
    }
    ++steps_;
    fit();
    const double a = alpha();
    // Warm-up, once timing is supplied: time the starting length and two around it, so that the line
    // has three points after a few steps instead of waiting for the periodic probes.
    if ((step_s > 0.0 || cold) && !warmed_up_) {
      // A pair whose first drafts were mostly rejected times γ = 1 instead of longer drafts: an unknown
      // pair's warm-up should cost little where drafting does not pay. Once done, it never comes back
      // (α crossing 0.5 later would change the list and force an untimed length mid-generation).
      const bool weak = step_time_[start_] > 0.0 && alpha() < kWeakRate;
      const std::size_t lo = weak ? 1 : start_ > 2 ? start_ - 2 : 1;
      for (std::size_t g : {start_, weak ? lo : start_ + 2, lo}) {
        g = std::clamp<std::size_t>(g, 1, max_);
        if (step_time_[g] <= 0.0) {
          gamma_ = g;
          return;
        }
      }
      if (samples_[0] < 3) {  // the reference, a step of the target alone: three samples (free steps)
        gamma_ = 0;
        return;
      }
      warmed_up_ = true;
    }
    if (timed_ < 2) {  // too little timing: the constant-cost bound with the measured cost ratio
      gamma_ = best_ = argmax_length(1, [&](std::size_t g) { return expected_speedup(a, c_, g); });
      return;
    }
    // Only lengths that were measured compete (γ = 0 aside, predicted cautiously by the intercept): the
    // line misses the jump in cost past 8 verified rows and would lure the choice to long drafts again
    // and again. The ±1 probes extend the measured set, so the choice climbs one length at a time.
    const auto tokens_per_second = [&](std::size_t g) { return predicted_rate(g); };
    std::size_t best = argmax_length(0, tokens_per_second);
    // An unknown pair's first drafts say little: two outright rejections switched good pairs off for
    // hundreds of steps (151k target, Python ~1,200: γ = 2 paid 1.36x). Until kMinEvidence steps have
    // verified candidates, "off" means a probe's length, the cheapest step that still gathers evidence.
    if (best == 0 && drafted_evidence_ < kMinEvidence) best = probe_length();
    // Drafting stops only on a settled timing of the length it gives up: a length's first samples may be
    // a transient (a process's first steps, another process's burst), and the warm-up times each drafting
    // length once, before γ = 0. Timed that way during a 0.2 s burst of another process, a fresh
    // controller switched the bundled pair off for most of a 128-token generation (1.08 tokens per pass
    // where 3.2 is usual; uag generate --trace). Until that length has kSettleSamples samples, it keeps
    // drafting at it: once per length per controller, and each such step gathers evidence too.
    // Hysteresis on the way off too: settled drafting stops only where target-only is ahead by a margin.
    // At a near-tie (151k target, T = 0.7: 6 of 7 switches off came at margins of 0.1-2%) stopping gains
    // nothing, and coming back costs probes, a back-off and the resume gain; the acceptance the tie was
    // read from is a few dozen coin flips (the positions where drafting was off accepted as well as
    // those where it ran). Drafting that a probe has just brought back is on trial and gets no margin:
    // one lucky probe of a losing pair must not buy it a longer run.
    // Past the margin, a lead of target-only stops drafting once it has held for a number of decisions
    // in a row that falls as the lead grows (kStopPersistence / lead: a clear loss stops at once): near
    // break-even a stretch of rejections moves the predicted rates by more than the lead, the estimates
    // remember ~50 steps (their errors last as long), and each stop costs a catch-up, probes and the
    // resume gain. On a weak pair that pays ~10% at γ = 1, most stops came at predicted leads of 2-10%
    // (`simulate_controller --diagnose`, weak C ~100, session 27's recording, 40 seeds: 375 stops in 640
    // generations, 364 of them there).
    // Before, a lead of 2-6% had to hold for 6 decisions and one of 6% or more stopped at once: the weak
    // pair's recorded cells were off on 18-69% of their steps where their best static length paid
    // 1.01-1.19x (simulated, 40 seeds, --noise 0.1).
    bool stop_pending = false;
    if (best == 0 && best_ > 0) {
      const std::size_t drafting = argmax_length(1, tokens_per_second);
      const double drafting_rate = tokens_per_second(drafting);
      if (!settled(drafting) ||
          (drafting_run_ >= kMinEvidence && kStopMargin * drafting_rate > tokens_per_second(0))) {
        best = drafting;
      } else {
        stop_pending = true;
        const double lead = std::max(1e-3, tokens_per_second(0) / drafting_rate - 1.0);
        if (static_cast<double>(++stop_decisions_) < kStopPersistence / lead) best = drafting;
      }
    }
    if (!stop_pending) stop_decisions_ = 0;
    // Hysteresis: drafting that was off comes back only for a clear gain, so that noisy step times and
    // one lucky probe do not switch it on and off every few steps.
    if (best_ == 0 && best > 0 && tokens_per_second(best) < kResumeGain * tokens_per_second(0)) best = 0;
    // Drafting resumes on the estimate alone: a probe's outcome is already in it (each probe outweighs the
    // old counts, kProbeDecay), and so is its catch-up's check of the draft on the text committed while
    // off (note_catch_up_agreement: up to 16 first-candidate outcomes where the probe tests one); a hit
    // brings the next probe early. Until session 45 a resume also waited for a probe right on every
    // candidate: where the first candidate is right 20-35% of the time and γ = 1 still pays, that is a
    // coin that comes up once in 3-5 probes, 4-32 steps apart (50-80 once the probe budget binds), so
    // drafting stayed off long after the hard stretch that stopped it (simulated, 31 recorded cells, load
    // and stalls: weak C ~100 0.952 -> 0.968 of the best static length, 151k C ~500 0.939 -> 0.968, off
    // 33% -> 16% of its steps; where drafting loses, 0.976-0.993 of target-only either way;
    // benchmarks/results/sim_s45).
    // (Two hits in a row before that held good pairs with an unlucky warm-up off for hundreds of steps.)
    if (burst_ > 0 && --burst_ > 0) return;  // the burst's timed second step, at the same γ
    if (best == 0) {
      // A probe that was right, judged against a timing of γ = 1 that has not settled: the next step is a
      // timed γ = 1 (another probe, too). γ = 1 is the cheapest drafting step, where a weak pair settles,
      // and while drafting is off nothing else times it (a probe is a catch-up step, and over a text
      // bridge asks for two candidates). The warm-up times it once, right after its longest steps: a
      // transient there (weak pair, AVX2, Python ~500: 4.9 ms where its steps take 3.1) left γ = 2 the best
      // drafting length, drafting stopped on γ = 2's settled timing, and probes that were right were judged
      // against 4.9 ms: a pair that γ = 1 paid 1.14x stayed off for whole prompts (0.87 and 0.94 of γ = 1
      // in two runs of five). Only after a hit: on a pair that loses, timing γ = 1 costs steps for nothing.
      if (best_ == 0 && gamma_ > 0 && probe_hits_ > 0 && !settled(1)) {
        gamma_ = 1;
        return;
      }
      if (best_ > 0 || gamma_ > 0) {
        // Drafting just stopped, or a probe burst ended without bringing it back: wait longer.
        if (best_ == 0) probe_gap_ = probe_hits_ > 0 ? kMinProbeGap : std::min(kMaxProbeGap, 2 * probe_gap_);
        schedule_probe();
      }
      gamma_ = best_ = 0;
      drafting_run_ = 0;
      if (++since_probe_ >= probe_gap_) start_probe();
      return;
    }
    if (longer_on_luck(best)) best = best_;
    if (best_ == 0) probe_gap_ = kMinProbeGap, probe_hits_ = 0;  // drafting is back
    gamma_ = best_ = best;
    ++drafting_steps_, ++drafting_run_;
    if (drafting_steps_ % kZeroRefresh == 0 && tokens_per_second(best) < 1.25 * tokens_per_second(0)) {
      gamma_ = 0;  // near break-even: target-only gets slower as the context grows, time it again
    } else if (best < max_ && !settled(best + 1) && steps_ % (kProbePeriod / 2) == 0) {
      gamma_ = best + 1;  // a longer draft with too few samples to judge: look at it twice as often
    } else if (steps_ % kProbePeriod == 0) {
      // Alternate +1 and −1 around the choice: the choice climbs one measured length at a time. A settled
      // neighbour that clearly loses is probed at a quarter of the rate: a probe costs its whole deficit.
      // The shorter one clearly loses when it is kClearLoss below the choice (what a probe would learn is
      // its step time alone: every step of the choice verifies its positions too, so one sample more cannot
      // move it far). The longer one's probes are the only ones to reach the position past the choice, so it
      // clearly loses only where it could not win even if that candidate were always accepted: a pass over
      // one more row than a tile holds costs a second tile (bundled target with bfloat16 products: γ = 8
      // steps 6.2 ms, γ = 7 4.4 ms), and probing it every 16 steps cost ~1.3% of the steps' time.
      const std::size_t turn = steps_ / kProbePeriod;
      const std::size_t g = turn % 2 == 0 ? std::min(max_, best + 1) : best - 1;
      const bool loses = g > best ? optimistic_tokens(best) / ask_time(g) < tokens_per_second(best)
                                  : tokens_per_second(g) < kClearLoss * tokens_per_second(best);
      const bool rarely = settled(g) && loses;
      if (g != best && (!rarely || (turn / 2) % kClearLossSkip == 0)) gamma_ = g;
    }
  }

  /// Expected committed tokens of a step that asks for γ candidates, from the survival curve. A position
  /// with little data leans on the one before it (pseudo-counts at that position's rate), so the curve
  /// extends flat past the longest drafts measured. The last candidate a request yields is scaled by the
  /// last-candidate factor (1 unless set_last_candidate_open()).
  double expected_tokens(std::size_t g) const noexcept {
    if (g == 0) return 1.0;
    const double m = ask_rows(g);
    double e = 1.0, survive = 1.0, prev = alpha(), pair_prev = alpha();
    for (std::size_t i = 0; static_cast<double>(i) < m && i < kMaxGamma; ++i) {
      const double a_i = inner_rate(i, prev, pair_prev);
      const bool last = static_cast<double>(i + 1) >= m;  // the last candidate the request yields
      survive *= last ? a_i * last_factor_ : a_i;
      e += survive * std::min(1.0, m - static_cast<double>(i));  // a fractional last candidate
    }
    return e;
  }

  /// Whether a step asking for γ would be one the confidence stop may trim, were γ the choice.
  bool floors(std::size_t g) const noexcept {
    return stop_unsure_ && warmed_up_ && g >= kStopFromLength && !weak_record();
  }
  /// Whether a step asking for γ now is one the confidence stop may trim (min_confidence()'s rule: the
  /// choice is in the stop's range too).
  bool trims_now(std::size_t g) const noexcept { return best_ >= kStopFromLength && floors(g); }
  /// Whether γ is priced from the record of its trimmed steps (ask_rows, ask_time), not its own timing.
  bool priced_by_asks(std::size_t g) const noexcept { return floors(g) && ask_weight_[g] > 0.0; }
  /// Whether steps of γ have a record that prices it: a time under γ, or steps the stop may trim.
  bool measured(std::size_t g) const noexcept { return step_time_[g] > 0.0 || priced_by_asks(g); }
  /// On a weak pair (weak_record()), whether a move of the choice to the longer drafting length
  /// g rests on a lucky timing: the lower envelope of a length timed only by the periodic probes drops
  /// 30% of the way at one fast sample and climbs back at 5% a sample, so the longer length that wins the
  /// ranking is the one whose envelope is lowest by chance (the winner's curse). A move up then needs the
  /// lengths' levels (symmetric running values at a common load, track_load()) to agree. Weak pair,
  /// Python ~100, simulated under load: the choice was γ = 2 on a quarter of the drafting steps where g2
  /// made 1.04x and g1 1.13x, with γ = 2 priced at 0.92 of its true cost and γ = 1 at 1.02. Weak pairs
  /// only: a good pair climbs to its long drafts through these moves, and there the envelope's speed pays
  /// (the same test on every pair cost the 151k pair's short prompts 2%).
  bool longer_on_luck(std::size_t g) const noexcept {
    if (best_ == 0 || g <= best_ || !weak_record()) return false;
    if (level_[g] <= 0.0 || level_[best_] <= 0.0) return false;
    return expected_tokens(g) / level_[g] < expected_tokens(best_) / level_[best_];
  }
  /// Whether γ's timing is past its first, possibly transient, samples: of the steps γ takes now. Where
  /// the stop may trim γ and the choice is in its range, those are γ's trimmed steps; while the choice is
  /// below kStopFromLength, a step of γ (a +1 probe) is untrimmed. Counted as trimmed steps alone, those
  /// probes never settled γ (bundled pair on AVX2, choice γ = 2: γ = 3 probed every 4 steps as a length
  /// with too few samples, 0.96 of γ = 2 over three runs).
  bool settled(std::size_t g) const noexcept {
    return (trims_now(g) && priced_by_asks(g) ? ask_samples_[g] : samples_[g]) >= kSettleSamples;
  }
  /// Candidates a step asking for γ proposes: γ times the pooled yield of untrimmed steps (a text bridge may
  /// hold a last word back); where the stop may trim, the record of γ's own steps, with that as its prior.
  double ask_rows(std::size_t g) const noexcept {
    const double yield = asked_ > 0.0 ? std::clamp(yielded_ / asked_, 0.0, 1.0) : 1.0;
    const double full = yield * static_cast<double>(g);
    if (g == 0 || !priced_by_asks(g)) return full;
    const double m = (ask_rows_[g] + kAskPrior * full) / (ask_weight_[g] + kAskPrior);
    return m > static_cast<double>(g) - 1e-9 ? static_cast<double>(g) : m;  // never cut: exactly γ
  }
  /// Time of a step asking for γ: step_time(γ), or where the stop trims γ's steps, the mix of what its
  /// steps cost: those that ran to γ at step_time(γ), those cut short at the time of a step proposing what
  /// they propose on average (interpolated between the candidate counts around it) plus a draft pass for
  /// the token each stopped at. Priced at the mean count of all its steps, a length whose full steps pass
  /// a row tile was priced below its cost: the cost jumps there (bundled pair, the README's command: γ = 8
  /// steps, 58% full at 7.4 ms and 42% cut at 3.6, priced like a 6-candidate step, ~5.1 ms; chosen on 21%
  /// of the steps at 0.89 tokens/ms against γ = 7's 0.96).
  double ask_time(std::size_t g) const noexcept {
    if (g == 0 || timed_ < 2 || !priced_by_asks(g) || ask_cut_[g] <= 0.0) return step_time(g);
    const double cut = ask_cut_[g] / (ask_weight_[g] + kAskPrior);  // the prior: never cut
    // The cut steps' candidates: all the record's less the full steps' γ each.
    const double full_rows = (ask_weight_[g] - ask_cut_[g]) * static_cast<double>(g);
    const double m = std::clamp((ask_rows_[g] - full_rows) / ask_cut_[g], 1.0, static_cast<double>(g));
    const auto lo = static_cast<std::size_t>(m);
    const double frac = m - static_cast<double>(lo);
    const double t_cut =
        lo >= g || frac <= 0.0 ? step_time(lo) : (1.0 - frac) * step_time(lo) + frac * step_time(lo + 1);
    return (1.0 - cut) * step_time(g) + cut * (t_cut + draft_token_s_);
  }

  /// Position i's rate as an inner candidate (one follows it): its inner record, its last record with
  /// each success counted 1/f, and the pair's record as a prior. Advances prev and pair_prev.
  double inner_rate(std::size_t i, double& prev, double& pair_prev) const noexcept {
    const double f = std::max(last_factor_, kMinLastFactor);
    pair_prev = std::min(1.0, (pair_survived_[i] + kPseudoCount * pair_prev) / (pair_reached_[i] + kPseudoCount));
    prev = std::min(1.0, (survived_[i] + last_survived_[i] / f + kPseudoCount * prev + kPairPrior * pair_prev) /
                             (reached_[i] + last_reached_[i] + kPseudoCount + kPairPrior));
    return prev;
  }

  /// An upper bound on the expected tokens of a step asking for γ + 1 candidates: γ's, plus its last
  /// candidate counted as an inner one, plus one more candidate accepted whenever it is reached (each at
  /// most the chance of reaching γ's last candidate, over the last-candidate factor).
  double optimistic_tokens(std::size_t g) const noexcept {
    const double e = expected_tokens(g), reach_last = e - expected_tokens(g - 1);
    return e + 2.0 * std::max(0.0, reach_last) / std::max(last_factor_, kMinLastFactor);
  }

  /// How the steps' last candidates fared against their positions' inner rates (pooled over positions: a
  /// per-position record is sparse past the choice, and its prior would be the position before, lower
  /// than the rising curve it stands for; tried, the choice settled shorter on the bundled pair).
  double last_factor() const noexcept {
    if (!open_last_) return 1.0;
    double prev = alpha(), pair_prev = alpha(), ok = 0.0, expected = 0.0;
    for (std::size_t i = 0; i <= max_; ++i) {
      const double a = inner_rate(i, prev, pair_prev);
      ok += last_survived_[i], expected += last_reached_[i] * a;
    }
    return std::clamp((ok + kLastPrior) / (expected + kLastPrior), kMinLastFactor, 1.0);
  }

  void scale_survival(double f) noexcept {
    for (std::size_t i = 0; i <= max_; ++i) {
      reached_[i] *= f, survived_[i] *= f;
      last_reached_[i] *= f, last_survived_[i] *= f;
    }
  }

  /// The γ in [from, max γ] with the largest rate(γ), the shorter one on near-ties.
  template <class Rate>
  std::size_t argmax_length(std::size_t from, Rate rate) const noexcept {
    std::size_t best = from;
    double best_v = 0.0;
    for (std::size_t g = from; g <= max_; ++g) {
      const double v = rate(g);
      if (v > best_v * 1.0001) best_v = v, best = g;
    }
    return best;
  }

  /// Least-squares line through the measured (γ, step time) points, each weighted by its recent sample
  /// count (γ > 0: a step with no draft skips the draft entirely, so it is not on the same line).
  void fit() noexcept {
    double sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
    timed_ = 0;
    for (std::size_t g = 1; g <= max_; ++g) {
      if (step_time_[g] <= 0.0) continue;
      const double x = static_cast<double>(g), y = step_time_[g], w = weight_[g];
      sw += w, sx += w * x, sy += w * y, sxx += w * x * x, sxy += w * x * y;
      ++timed_;
    }
    const double den = sw * sxx - sx * sx;
    slope_ = timed_ >= 2 && den > 0 ? std::max(0.0, (sw * sxy - sx * sy) / den) : 0.0;
    intercept_ = sw > 0 ? (sy - slope_ * sx) / sw : 0.0;
    // A longer draft never makes a step cheaper, but noisy running means (a few % apart from one length
    // to the next) say so now and then, and the choice would chase the noise: pool adjacent violators
    // into their weighted mean (isotonic regression, O(max γ)).
    monotone_[0] = step_time_[0];  // no draft at all: not on the same curve
    std::size_t n = 0;
    std::size_t first[kMaxGamma];
    double bw[kMaxGamma], bm[kMaxGamma];
    for (std::size_t g = 1; g <= max_; ++g) {
      if (step_time_[g] <= 0.0) continue;
      first[n] = g, bw[n] = std::max(weight_[g], 0.05), bm[n] = step_time_[g], ++n;
      while (n >= 2 && bm[n - 2] > bm[n - 1]) {
        bm[n - 2] = (bw[n - 2] * bm[n - 2] + bw[n - 1] * bm[n - 1]) / (bw[n - 2] + bw[n - 1]);
        bw[n - 2] += bw[n - 1];
        --n;
      }
    }
    for (std::size_t b = 0; b < n; ++b)
      for (std::size_t g = first[b]; g <= max_ && (b + 1 == n || g < first[b + 1]); ++g)
        if (step_time_[g] > 0.0) monotone_[g] = bm[b];
  }

  /// Step time of γ: its measurement, made nondecreasing in γ; the line's prediction where γ was never
  /// timed. A measurement does not fade towards the line as it ages: the cost is not linear in γ (past 8
  /// verified rows a pass takes two row tiles), and an old timing of a long draft, faded, priced it ~20%
  /// below its cost (simulated, bundled pair on Zen 5: γ = 8-12 at 0.78-0.84 of theirs, γ = 5-7 at
  /// 0.91-0.96); once the machine's load drifted, the choice went to them (0.959 of the best static
  /// length where it reads 0.988 on a steady load; 0.977 without the fade). γ = 0 is predicted by the
  /// intercept, which still holds the draft's fixed cost per step: a cautious guess, replaced by a
  /// measurement once γ = 0 is probed.
  double step_time(std::size_t g) const noexcept {
    if (g == 0 && (step_time_[0] > 0.0 || nondraft_s_ > 0.0)) return zero_time();
    if (timed_ < 2) return step_time_[g];
    if (step_time_[g] > 0.0) return monotone_[g];
    return std::max(1e-9, intercept_ + slope_ * static_cast<double>(g));
  }

  /// The machine's load, as a factor common to every step (a multiplicative model: step time = load x
  /// cost of its length). The lengths are timed at different moments, and on a shared machine all step
  /// times drift together by ±20% over tens of steps: compared raw, a length last timed at a quiet moment
  /// looks cheap and one timed at a busy moment dear, and the choice follows the load instead of the
  /// lengths (151k target, T = 0.7: drafting off on 10-39% of the steps where γ = 2 paid 1.1x, γ = 1
  /// priced at 1.44-1.64x a target-only step against a measured 1.2-1.3x). Each timed step moves the load
  /// by most of its deviation from its length's level and the level by a little (the split keeps a
  /// length's cost from following a drift it shares with the others). A step 1.5x its level or more was
  /// descheduled and moves neither; a fast one moves them by at most kLoadClip. A length's first
  /// kSettleSamples samples set its level (the fastest of them) and move no load: a first step over a
  /// new number of rows may be a transient.
  void track_load(std::size_t g, double s) noexcept {
    double& level = level_[g];
    const double x = s / load_;
    if (samples_[g] < kSettleSamples) {  // may be a transient: the fastest sets the level
      level = level > 0.0 ? std::min(level, x) : x;
      return;
    }
    const double r = std::log(x / level);
    if (r > kStallLog) return;  // a descheduled step says nothing about a drift of the load
    // A length with few samples has an uncertain level: its deviation goes mostly to the level (a
    // running mean over its samples so far), so that a rarely timed length does not move the load.
    const double to_level = std::max(kLevelGain, 1.0 / static_cast<double>(samples_[g] - kSettleSamples + 1));
    const double moved = std::max(r, -kLoadClip);
    load_ *= std::exp(kLoadGain * (1.0 - to_level) * moved);
    level *= std::exp(to_level * moved);
  }

  /// Running step time that follows the fast samples: on a shared machine a step is often descheduled
  /// for part of a time slice (times 2-3x the undisturbed one, seen on 2 loaded cores), which a plain
  /// mean averages into every estimate with a spread that hides a 5% difference; the lower envelope is
  /// sharp. A longer step is descheduled more often, so its envelope sits a little higher: a bias against
  /// long drafts, on the side of doing no harm (simulated: 1-3% of a good pair's gain). Rises are still
  /// followed, slowly (~20 steps: the context grows).
  static double track_low(double e, double x) noexcept {
    if (e <= 0.0) return x;
    x = std::min(x, 2.0 * e);
    return x < e ? 0.7 * e + 0.3 * x : 0.95 * e + 0.05 * x;
  }

  /// How often the first candidate was right over the pair's record (~500 drafting steps), counted as it
  /// came, inner or last: pair_survived_[0] weighs a last candidate's success by the last-candidate
  /// factor, which could lift a weak pair's rate. Candidate 0 is never trimmed.
  double first_rate() const noexcept { return pair_reached_[0] > 0.0 ? first_ok_ / pair_reached_[0] : 0.0; }
  /// Whether the pair's record says it is weak: its first candidate right less than kWeakRate of the time.
  /// Only once warmed up: before that the record is empty or a few steps old, not weak.
  bool weak_record() const noexcept { return warmed_up_ && first_rate() < kWeakRate; }

  /// A target-only step's time: its own timing, capped by the draft-free part of recent drafting steps.
  double zero_time() const noexcept {
    if (step_time_[0] <= 0.0) return nondraft_s_;
    return nondraft_s_ > 0.0 ? std::min(step_time_[0], nondraft_s_) : step_time_[0];
  }

  draft_length_policy policy_ = draft_length_policy::constant;
  std::size_t gamma_ = 5;
  std::size_t start_ = 5;
  std::size_t best_ = 5;
  std::size_t max_ = 16;
  float confidence_ = 0.0f;
  bool stop_unsure_ = false;  // adaptive, greedy: min_confidence() stops an unsure draft
  double accepted_ = 1.0, rejections_ = 1.0;  // prior α = 0.5
  double c_ = 0.05;
  bool has_c_ = false;
  std::size_t steps_ = 0;
  std::size_t timed_ = 0;  // draft lengths γ > 0 with a measured step time
  double slope_ = 0.0, intercept_ = 0.0;
  double step_time_[kMaxGamma] = {};  // [γ] = EWMA of the wall time of steps that asked for γ candidates
                                      // (that proposed γ, where the stop may trim)
  double weight_[kMaxGamma] = {};     // [γ] = decayed count of those steps
  double monotone_[kMaxGamma] = {};   // [γ] = step_time_ made nondecreasing in γ (measured lengths only)
  double reached_[kMaxGamma] = {};    // [i] = decayed count of steps that verified candidate i
  double survived_[kMaxGamma] = {};   // [i] = ... in which candidate i was accepted
  double last_reached_[kMaxGamma] = {};   // [i] = decayed count of steps whose last candidate, i, was verified
  double last_survived_[kMaxGamma] = {};  // [i] = ... and accepted
  double last_factor_ = 1.0;              // last_factor() as of the last update
  bool open_last_ = false;                // set_last_candidate_open()
  double pair_reached_[kMaxGamma] = {};   // [i] = reached_ with a long memory (survives restart())
  double pair_survived_[kMaxGamma] = {};  // [i] = survived_ likewise
  double asked_ = 0.0, yielded_ = 0.0;  // decayed candidates asked for / proposed
  std::size_t probe_gap_ = kMinProbeGap;  // steps without a draft between probes (back-off)
  std::size_t samples_[kMaxGamma] = {};  // [γ] = timed steps that asked for γ candidates (proposed γ, where
                                         // the stop may trim)
  double ask_rows_[kMaxGamma] = {};    // [γ] = decayed candidates proposed by steps the stop may trim ...
  double ask_cut_[kMaxGamma] = {};     // [γ] = ... those steps cut short ...
  double ask_weight_[kMaxGamma] = {};  // [γ] = ... and their decayed count
  std::size_t ask_samples_[kMaxGamma] = {};  // [γ] = timed steps of γ the stop may trim
  double draft_token_s_ = 0.0;               // lower envelope of a draft pass's time (at load 1)
  std::size_t since_probe_ = 0;              // steps without a draft since the last probe
  double probe_phase_ = 0.0;                 // the jitter's golden-ratio sequence
  std::size_t burst_ = 0;                 // steps left in the current probe burst
  std::size_t off_streak_ = 0;            // consecutive steps without a draft, up to the last one
  std::size_t drafting_steps_ = 0;        // steps that drafted by choice (for the γ = 0 refresh)
  std::size_t drafting_run_ = 0;          // ... since drafting last came back (for the stop margin)
  std::size_t stop_decisions_ = 0;        // decisions in a row that would stop drafting, past the margin
  double first_ok_ = 0.0;  // pair_reached_[0]'s steps whose candidate 0 was right, unweighted
  double nondraft_s_ = 0.0;               // lower envelope of drafting steps' time less their draft time
  double elapsed_s_ = 0.0;                // all timed steps' wall time (survives restart())
  double probe_cost_s_ = 0.0;             // what probes from "off" cost beyond a target-only step
  double load_ = 1.0;                     // the machine's load: the factor common to every step's time
  double level_[kMaxGamma] = {};          // [γ] = a step's time at load 1 (symmetric running value)
  std::size_t probe_hits_ = 0;            // probes from "off" in a row that were right on every candidate
  double checked_rows_ = 0.0, checked_agreed_ = 0.0;  // note_catch_up_agreement() not yet counted
  std::size_t drafted_evidence_ = 0;      // steps that verified candidates (survives restart())
  bool warmed_up_ = false;                // the warm-up timed its lengths and γ = 0 (survives restart())
};

}  // namespace uag
