#pragma once
/// @file AssistedGenerator: the draft-propose / target-verify loop (DESIGN.md §1).
///
/// Lifecycle: construct → begin(prompt) → step() … until done() → stats(); or generate() for all of it.
/// A generator can serve one prompt after another (begin() again): an adaptive draft length keeps the
/// step timing it measured, so later generations start from it.
/// The target decides every emitted token; the draft only changes how many one target pass yields.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "uag/core/error.hpp"
#include "uag/core/types.hpp"
#include "uag/draft/no_draft.hpp"
#include "uag/generation/draft_length.hpp"
#include "uag/generation/draft_source.hpp"
#include "uag/generation/generation_config.hpp"
#include "uag/generation/generation_stats.hpp"
#include "uag/generation/text_stream.hpp"
#include "uag/generation/verifier.hpp"
#include "uag/model/concepts.hpp"
#include "uag/sampling/logits_processor.hpp"
#include "uag/sampling/rng.hpp"
#include "uag/tokenizer/concepts.hpp"

namespace uag {

/// @brief A target model for the generator: a causal LM that carries its tokenizer.
template <class T>
concept target_model = causal_lm<T> && has_tokenizer<T>;

/// @brief Drives `Target` with candidates from `Draft` (any draft_source; no_draft gives the baseline).
/// Not thread-safe; one generation at a time. Buffers are sized in the constructor and begin(); step()
/// allocates nothing for the verification itself.
template <target_model Target, draft_source Draft>
class AssistedGenerator {
 public:
  using tokenizer_type = std::remove_cvref_t<decltype(std::declval<const Target&>().tokenizer())>;
  using text_callback = std::function<void(std::string_view)>;
  using step_callback = std::function<void(const step_record&)>;

  /// requires: target and draft outlive the generator. throws: uag::config_error for an invalid cfg.
  AssistedGenerator(Target& target, Draft& draft, generation_config cfg = {})
      : target_(&target), draft_(&draft), cfg_(std::move(cfg)), text_(target.tokenizer(), cfg_.stop_strings) {
    cfg_.validate();
    controller_ = draft_length_controller(cfg_);
    if constexpr (requires(const Draft& d) { { d.last_candidate_may_be_open() } -> std::convertible_to<bool>; })
      controller_.set_last_candidate_open(draft.last_candidate_may_be_open());
    vocab_ = target.vocab_size();
    processor_ = logits_processor(vocab_, cfg_.sampling);
    presence_.resize(vocab_);
    // Rows of a batched pass may each be off by the tolerance: two logits closer than twice it could swap.
    min_margin_ = 2.0f * (cfg_.batch_tolerance >= 0.0f ? cfg_.batch_tolerance : batch_tolerance_of(target));
    if (cfg_.stop_at_eos)
      if (auto eos = target.tokenizer().eos_id()) cfg_.eos_ids.push_back(*eos);
    batch_.reserve(cfg_.max_draft_tokens + 1);
    proposal_.tokens.reserve(cfg_.max_draft_tokens);
    if (!cfg_.sampling.greedy()) {
      probs_.resize(vocab_);
      residual_.resize(vocab_);
    }
  }

  /// @brief Target-only generator (the baseline): only for Draft = no_draft.
  AssistedGenerator(Target& target, generation_config cfg = {})
    requires std::is_same_v<Draft, no_draft>
      : AssistedGenerator(target, baseline_draft(), std::move(cfg)) {}

  /// @brief Seed of the random stream from the next begin() on (e.g. one per request).
  void set_seed(std::uint64_t seed) noexcept { cfg_.sampling.seed = seed; }

  /// @brief Streams newly committed text (complete UTF-8 only, stop strings removed) to f.
  void on_text(text_callback f) { on_text_ = std::move(f); }
  /// @brief Reports every step to f after it ran (diagnostics: `uag bench --trace`). Unset costs nothing.
  void on_step(step_callback f) { on_step_ = std::move(f); }

  /// @brief Starts a generation from prompt text, encoded with the target tokenizer.
  /// throws: uag::input_error for invalid UTF-8 or a prompt that encodes to no ids (empty, no BOS).
  void begin(std::string_view prompt) { begin_ids(target_->tokenizer().encode(prompt, cfg_.add_special_tokens)); }

  /// @brief Starts a generation from prompt ids: prefills the target with all but the last id.
  /// throws: uag::input_error for an empty prompt, ids outside the vocabulary, or a prompt that fills
  /// the context.
  void begin_ids(token_span prompt) {
    const auto t0 = clock::now();
    if (prompt.empty())
      throw input_error("input.empty_prompt", "the prompt has no tokens (empty text and no BOS token)");
    for (token_id t : prompt)
      if (t < 0 || static_cast<std::size_t>(t) >= vocab_)
        throw input_error("input.token_range", "prompt token id " + std::to_string(t) +
                                                   " is outside the target vocabulary of " + std::to_string(vocab_));
    if (prompt.size() >= target_->max_context())
      throw input_error("input.prompt_too_long", "prompt of " + std::to_string(prompt.size()) +
                                                     " tokens leaves no room in a context of " +
                                                     std::to_string(target_->max_context()));
    stats_ = {};
    stats_.prompt_tokens = prompt.size();
    stats_.accepted_histogram.assign(cfg_.max_draft_tokens + 1, 0);
    stats_.accepted_at_position.assign(cfg_.max_draft_tokens, 0);
    stats_.drafted_at_position.assign(cfg_.max_draft_tokens, 0);
    ids_.clear();
    ids_.reserve(prompt.size() + cfg_.max_new_tokens + cfg_.max_draft_tokens + 1);
    ids_.assign(prompt.begin(), prompt.end());
    if (!cfg_.sampling.greedy()) {
      ids_p_.reserve(ids_.capacity());
      ids_p_.assign(prompt.size(), 0.0f);
    }
    presence_.clear();
    for (token_id t : prompt) presence_.push(t);
    random_.reseed(cfg_.sampling.seed);
    controller_.restart();
    text_.begin(prompt);
    output_text_.clear();
    done_ = false;
    steps_ = last_asked_ = 0;
    draft_->reset();
    // A draft the controller has switched off skips the prompt: it catches up (on recent text only)
    // if a probe turns it back on. Otherwise it ingests the prompt at its first drafting step.
    draft_prepared_ = controller_.next() == 0;
    target_->truncate(0);
    if (prompt.size() > 1) forward_last_rows(*target_, prompt.first(prompt.size() - 1), 0);
    stats_.prefill_seconds = seconds_since(t0);
    stats_.total_seconds = stats_.prefill_seconds;
  }

  /// @brief Runs a throwaway generation of a few steps from prompt (nothing is streamed; the controller
  /// keeps the state it had), so that work done on first use — the target's logits rows for a
  /// verification, the draft's runner and its buffers, per-thread tokenizer buffers, first touches of
  /// freshly allocated memory — happens now instead of in the first request. Optional: call it once
  /// after construction, as part of setup. Like begin(), it leaves the models' caches holding this
  /// throwaway sequence; the next begin() starts afresh. cost: a prefill of the prompt and `steps` steps.
  /// throws: as begin() and step().
  void warm_up(std::string_view prompt, std::size_t steps = 4) {
    const draft_length_controller saved = controller_;
    text_callback callback = std::move(on_text_);
    step_callback step_cb = std::move(on_step_);
    on_text_ = nullptr;
    on_step_ = nullptr;
    struct restore {
      AssistedGenerator* g;
      const draft_length_controller& c;
      text_callback& f;
      step_callback& s;
      ~restore() {
        g->controller_ = c;
        g->on_text_ = std::move(f);
        g->on_step_ = std::move(s);
      }
    } guard{this, saved, callback, step_cb};
    begin(prompt);
    for (std::size_t i = 0; i < steps && !done_; ++i) step();
  }

  /// @brief The draft-length controller (its estimates, for diagnostics).
  const draft_length_controller& controller() const noexcept { return controller_; }

  /// @brief True once a stop condition has been met.
  bool done() const noexcept { return done_; }

  /// @brief One draft + verify step: a single target forward pass.
  /// The first step after begin() drafts nothing: the target's prefill alone decides the first token, so
  /// it reaches on_text as soon as target-only decoding would deliver it (the draft's prefill and its
  /// proposal never add to the time to first token). The draft ingests the committed ids (prompt and
  /// first token) at the start of the first step that drafts, timed as draft_prefill_seconds.
  /// returns: the number of tokens committed (>= 1 unless done() was already true).
  std::size_t step() {
    if (done_) return 0;
    const bool first = stats_.target_passes == 0;
    const std::size_t n = ids_.size();  // the target cache holds ids_[0, n-1); ids_[n-1] is pending
    const std::size_t remaining = cfg_.max_new_tokens - stats_.new_tokens;
    const std::size_t room = target_->max_context() - n;  // candidates that still fit in the cache
    // The baseline (no_draft) never asks for candidates: its steps are plain target-only steps.
    const std::size_t limit =
        first || std::is_same_v<Draft, no_draft> ? 0 : std::min({controller_.next(), remaining - 1, room});
    // The draft catches up on what was committed while it did not run: the prompt at its first drafting
    // step (prepare_draft), or the tokens of target-only steps before this one (inside propose).
    const bool catch_up = limit > 0 && (!draft_prepared_ || last_asked_ == 0);
    if (limit > 0 && !draft_prepared_) prepare_draft();
    last_asked_ = limit;
    const auto t_step = clock::now();

    // 1. Draft.
    proposal_.clear();
    double draft_s = 0.0;
    if (limit > 0) {
      const auto t0 = clock::now();
      draft_request req;
      req.max_tokens = limit;
      req.min_confidence = controller_.min_confidence();
      req.min_confidence_from = controller_.min_confidence_from();
      req.sample = !cfg_.sampling.greedy() && cfg_.verifier != sampling_verifier::exact_match;
      req.want_q = req.sample;
      req.target_vocab_size = vocab_;
      req.sampling = &cfg_.sampling;
      req.random = &random_;
      req.check_rows = catch_up ? controller_.catch_up_check_rows() : 0;
      if (req.sample) {
        // Only the ids of target-only steps carry p: check those (a row without p would cost its logits
        // for nothing).
        std::size_t known = 0;
        while (known < req.check_rows && known < ids_p_.size() && ids_p_[ids_p_.size() - 1 - known] > 0.0f)
          ++known;
        req.check_rows = known;
        req.check_p = ids_p_;
      }
      draft_->propose(token_span(ids_), req, proposal_);
      controller_.note_catch_up_agreement(proposal_.checked_rows, proposal_.agreed_rows);
      draft_s = seconds_since(t0);
      if (proposal_.tokens.size() > limit) proposal_.tokens.resize(limit);
      check_proposal();
      stats_.bridge_seconds += proposal_.bridge_seconds;
      stats_.draft_seconds += draft_s - proposal_.bridge_seconds;
      stats_.draft_model_tokens += proposal_.draft_tokens;
    }
    const token_span cands(proposal_.tokens);
    const std::size_t m = cands.size();

    // 2. One target pass over the pending token and the candidates.
    const auto t1 = clock::now();
    batch_.clear();
    batch_.push_back(ids_.back());
    batch_.insert(batch_.end(), cands.begin(), cands.end());
    const logits_view rows = target_->forward(token_span(batch_));
    double target_s = seconds_since(t1);
    stats_.target_seconds += target_s;
    ++stats_.target_passes;
    check_rows(rows, m + 1);

    // 3. Verify.
    const auto t2 = clock::now();
    verify_result v = verify(rows, cands);
    stats_.verify_seconds += seconds_since(t2);
    stats_.drafted += m;
    stats_.accepted += v.accepted;
    stats_.rejections += v.rejected ? 1 : 0;
    ++stats_.accepted_histogram[v.accepted];
    for (std::size_t i = 0; i < m; ++i) ++stats_.drafted_at_position[i];
    for (std::size_t i = 0; i < v.accepted; ++i) ++stats_.accepted_at_position[i];

    // 4. Roll the target cache back to the kept tokens, then commit them one by one so that stop
    //    conditions fire at exactly the token where target-only decoding would stop.
    if (v.uncertain) {
      const auto t3 = clock::now();
      v.next = recheck_row(n, cands, v.accepted);
      const double s = seconds_since(t3);
      target_s += s;  // the controller prices the step with its extra pass
      stats_.target_seconds += s;
    } else if (v.accepted < m) {
      target_->truncate(n + v.accepted);
    }
    // Sampled, a target-only step knows p of the id it commits (probs_ holds its row): the draft's
    // catch-up weighs its own q there (draft_request::check_p).
    const float p_next = m == 0 && !cfg_.sampling.greedy() ? probs_[static_cast<std::size_t>(v.next)] : 0.0f;
    std::size_t committed = 0;
    for (std::size_t i = 0; i <= v.accepted && !done_; ++i, ++committed)
      commit(i < v.accepted ? cands[i] : v.next, i < v.accepted ? 0.0f : p_next);
    const double step_s = seconds_since(t_step);
    if (!first)  // the first step's length was not the controller's choice
      controller_.update(m, v.accepted, v.rejected, m ? draft_s / static_cast<double>(m) : 0.0, target_s,
                         step_s, limit);
    if (controller_.next() == 0 && cfg_.draft_policy == draft_length_policy::adaptive && repeats_ngram())
      controller_.note_repetition();
    stats_.total_seconds += step_s;
    const std::size_t index = steps_++;
    if (on_step_)
      on_step_({.index = index,
                .asked = limit,
                .proposed = m,
                .accepted = v.accepted,
                .committed = committed,
                .next_gamma = controller_.next(),
                .rejected = v.rejected,
                .draft_caught_up = catch_up,
                .last_open = controller_.last_candidate_open(),
                .checked_rows = proposal_.checked_rows,
                .agreed_rows = proposal_.agreed_rows,
                .draft_seconds = draft_s,
                .target_seconds = target_s,
                .step_seconds = step_s});
    return committed;
  }

  /// @brief Runs to completion. returns: the generated text (also streamed to on_text, if set).
  std::string generate(std::string_view prompt) {
    begin(prompt);
    while (!done()) step();
    return output_text_;
  }

  /// @brief Prompt followed by output ids.
  token_span tokens() const noexcept { return ids_; }
  /// @brief Generated ids only.
  token_span output_ids() const noexcept {
    return token_span(ids_).subspan(stats_.prompt_tokens);
  }
  /// @brief Text streamed so far.
  const std::string& text() const noexcept { return output_text_; }
  const generation_stats& stats() const noexcept { return stats_; }
  const generation_config& config() const noexcept { return cfg_; }

 private:
  using clock = std::chrono::steady_clock;
  static double seconds_since(clock::time_point t) {
    return std::chrono::duration<double>(clock::now() - t).count();
  }
  static no_draft& baseline_draft() {
    static no_draft none;
    return none;
  }

  // True when the last kNgram committed ids occurred before in the recent text (a prompt-lookup hit):
  // repeated code or boilerplate, where even a weak draft tends to be right. O(kLookBack), no allocation.
  bool repeats_ngram() const noexcept {
    constexpr std::size_t kNgram = 8, kLookBack = 1024;  // 8 ids: copying, not a common phrase
    const std::size_t n = ids_.size();
    if (n < 2 * kNgram) return false;
    const token_id* tail = ids_.data() + n - kNgram;
    const std::size_t lo = n > kLookBack + kNgram ? n - kLookBack - kNgram : 0;
    for (std::size_t i = n - kNgram; i-- > lo;)
      if (std::equal(tail, tail + kNgram, ids_.data() + i)) return true;
    return false;
  }

  // Runs the draft over everything committed so far in one go (draft_source_with_prepare), so that
  // every later step is timed for drafting alone.
  void prepare_draft() {
    draft_prepared_ = true;
    if constexpr (draft_source_with_prepare<Draft>) {
      const auto t0 = clock::now();
      draft_->prepare(token_span(ids_), cfg_.sampling);
      const double s = seconds_since(t0);
      stats_.draft_prefill_seconds += s;
      stats_.total_seconds += s;
    }
  }

  void check_proposal() const {
    for (token_id t : proposal_.tokens)
      if (t < 0 || static_cast<std::size_t>(t) >= vocab_)
        throw model_error("draft.token_range", "draft proposed token id " + std::to_string(t) +
                                                   " outside the target vocabulary of " + std::to_string(vocab_));
    if (proposal_.has_q && proposal_.q.size() < proposal_.tokens.size() * vocab_)
      throw model_error("draft.q_shape", "draft supplied " + std::to_string(proposal_.q.size()) +
                                             " q values for " + std::to_string(proposal_.tokens.size()) +
                                             " candidates of vocabulary " + std::to_string(vocab_));
  }

  // The target's logits for `ids` ids must be ids x vocab.
  void check_rows(const logits_view& rows, std::size_t ids) const {
    if (rows.rows != ids || rows.cols != vocab_)
      throw model_error("model.logits_shape", "target returned " + std::to_string(rows.rows) + "x" +
                                                  std::to_string(rows.cols) + " logits for " + std::to_string(ids) +
                                                  " ids, expected " + std::to_string(ids) + "x" + std::to_string(vocab_));
  }

  // Greedy, batched row `row` too close to call: drop it and everything after it from the target's cache
  // and decode its input alone, as target-only decoding would; returns the target's choice there.
  token_id recheck_row(std::size_t n, token_span cands, std::size_t row) {
    target_->truncate(n - 1 + row);
    const token_id input = row == 0 ? ids_[n - 1] : cands[row - 1];
    const logits_view one = target_->forward(token_span(&input, 1));
    check_rows(one, 1);
    detail::candidate_context cc(presence_, cands);
    cc.advance_to(row);
    ++stats_.target_passes;
    ++stats_.rechecked_rows;
    return processor_.argmax(one.row(0), &presence_);
  }

  verify_result verify(const logits_view& rows, token_span cands) {
    // A one-row pass is what target-only decoding runs: nothing to guard.
    if (cfg_.sampling.greedy()) return verify_greedy(rows, cands, processor_, presence_, cands.empty() ? 0.0f : min_margin_);
    const bool speculative = cfg_.verifier == sampling_verifier::speculative ||
                             (cfg_.verifier == sampling_verifier::automatic && proposal_.has_q);
    if (speculative && !cands.empty()) {
      if (!proposal_.has_q)
        throw config_error("config.verifier", "speculative sampling needs the draft's q in target space; this "
                                              "draft source gives none (use exact_match)");
      return verify_speculative(rows, cands, proposal_.q, processor_, presence_, random_, probs_, residual_);
    }
    return verify_exact_match(rows, cands, processor_, presence_, random_, probs_);
  }

  // p: the target's probability of t where the step sampled it from one row alone (0 = unknown).
  void commit(token_id t, float p = 0.0f) {
    ids_.push_back(t);
    if (!cfg_.sampling.greedy()) ids_p_.push_back(p);
    presence_.push(t);
    ++stats_.new_tokens;
    chunk_.clear();
    const bool is_eos = std::find(cfg_.eos_ids.begin(), cfg_.eos_ids.end(), t) != cfg_.eos_ids.end();
    if (is_eos) {
      finish(stop_reason::eos);
      return;
    }
    if (text_.push(t, chunk_)) {
      emit();
      finish(stop_reason::stop_string);
      return;
    }
    emit();
    if (stats_.new_tokens >= cfg_.max_new_tokens) finish(stop_reason::max_new_tokens);
    else if (ids_.size() >= target_->max_context()) finish(stop_reason::context_full);
  }

  void finish(stop_reason r) {
    done_ = true;
    stats_.reason = r;
    chunk_.clear();
    if (r != stop_reason::stop_string) text_.finish(chunk_);
    emit();
  }

  void emit() {
    if (chunk_.empty()) return;
    output_text_ += chunk_;
    if (on_text_) on_text_(chunk_);
    chunk_.clear();
  }

  Target* target_;
  Draft* draft_;
  generation_config cfg_;
  std::size_t vocab_ = 0;
  logits_processor processor_;
  token_presence presence_;          // committed ids, for the repetition penalty
  rng random_;
  draft_length_controller controller_;
  text_stream<tokenizer_type> text_;
  text_callback on_text_;
  step_callback on_step_;
  token_vector ids_;                 // prompt + committed output
  std::vector<float> ids_p_;         // sampled: the target's p of each id in ids_ where known (commit())
  token_vector batch_;               // (1 + γ) ids of one target pass
  draft_proposal proposal_;
  std::vector<float> probs_;         // (vocab) p of one row
  std::vector<float> residual_;      // (vocab) max(0, p − q)
  std::string chunk_;                // text committed by the current token
  std::string output_text_;
  generation_stats stats_;
  bool done_ = false;
  std::size_t steps_ = 0;            // steps of this generation (step_record::index)
  std::size_t last_asked_ = 0;       // candidates the previous step asked for (step_record::draft_caught_up)
  bool draft_prepared_ = false;      // prepare_draft() ran for this generation
  float min_margin_ = 0.0f;          // greedy: batched rows whose top two logits are closer are rechecked
};

/// @brief The target-only baseline: same API, same stopping and sampling code, no draft.
template <target_model Target>
using baseline_generator = AssistedGenerator<Target, no_draft>;

}  // namespace uag
