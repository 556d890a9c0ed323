#pragma once
/// @file Token-level intersection (TLI, Timor et al. 2025, arXiv 2502.05202, Alg. 4): the draft ids
/// whose token spells exactly the same bytes as some target token. A draft restricted to them proposes
/// target ids directly, and its distribution q maps into target space, so speculative sampling
/// (Leviathan et al. 2023) stays lossless for heterogeneous vocabularies.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "uag/core/error.hpp"
#include "uag/core/types.hpp"
#include "uag/tokenizer/concepts.hpp"

namespace uag {

/// @brief The draft → target map of a vocabulary pair, built once (O(|V_draft| + |V_target|)).
///
/// Tokens are compared by token_bytes, which already normalises space markers ('▁' and byte-level 'Ġ'
/// both spell ' ') and byte tokens (<0xNN>, byte-level single bytes → the byte). Deterministic rules:
/// - special tokens never map, except draft EOS → target EOS when both exist;
/// - several target ids with the same bytes (SentencePiece "▁" and "<0x20>"): the highest id, i.e. the
///   merged token over the byte-fallback token;
/// - several draft ids with the same bytes all map to that one target id; their q mass adds up.
class vocabulary_intersection {
 public:
  vocabulary_intersection() = default;

  /// @param draft_width  width of the draft's probability rows (the draft model's vocab_size(), which
  ///                     may exceed the tokenizer's: padding ids never map). 0 = draft.vocab_size().
  template <tokenizer TargetTokenizer, tokenizer DraftTokenizer>
  vocabulary_intersection(const TargetTokenizer& target, const DraftTokenizer& draft, std::size_t draft_width = 0) {
    const std::size_t tv = target.vocab_size(), dv = draft.vocab_size();
    draft_width_ = draft_width == 0 ? dv : draft_width;
    target_width_ = tv;
    std::unordered_map<std::string_view, token_id> by_bytes;
    std::vector<std::string> owned;  // token_bytes may return temporaries: keep the keys alive
    owned.reserve(tv);
    by_bytes.reserve(tv);
    for (std::size_t k = tv; k-- > 0;) {
      const auto id = static_cast<token_id>(k);
      if (target.is_special(id)) continue;
      std::string b(std::string_view(target.token_bytes(id)));
      if (b.empty()) continue;
      owned.push_back(std::move(b));
      by_bytes.try_emplace(owned.back(), id);  // descending ids: the highest id wins
    }
    // owned never reallocates past its reserve, so the views stay valid.
    to_target_.assign(draft_width_, -1);
    mask_.assign(draft_width_, 0);
    for (std::size_t k = 0; k < std::min(dv, draft_width_); ++k) {
      const auto id = static_cast<token_id>(k);
      if (draft.is_special(id)) continue;
      const std::string_view b = draft.token_bytes(id);
      if (b.empty()) continue;
      const auto it = by_bytes.find(b);
      if (it == by_bytes.end()) continue;
      to_target_[k] = it->second;
    }
    const auto te = target.eos_id();
    const auto de = draft.eos_id();
    if (te && de && static_cast<std::size_t>(*de) < draft_width_ && static_cast<std::size_t>(*te) < tv)
      to_target_[static_cast<std::size_t>(*de)] = *te;
    from_target_.assign(tv, -1);
    for (std::size_t k = 0; k < draft_width_; ++k) {
      if (to_target_[k] < 0) continue;
      mask_[k] = 1;
      mapped_.push_back(static_cast<token_id>(k));
      token_id& back = from_target_[static_cast<std::size_t>(to_target_[k])];
      if (back < 0) back = static_cast<token_id>(k), ++distinct_targets_;  // ascending: the lowest draft id
    }
  }

  /// @brief Number of draft ids in the intersection.
  std::size_t size() const noexcept { return mapped_.size(); }
  /// @brief Number of distinct target ids they map to.
  std::size_t distinct_targets() const noexcept { return distinct_targets_; }
  std::size_t draft_width() const noexcept { return draft_width_; }
  std::size_t target_width() const noexcept { return target_width_; }

  /// @brief The target id of a draft id, if it is in the intersection.
  std::optional<token_id> to_target(token_id draft_id) const noexcept {
    if (draft_id < 0 || static_cast<std::size_t>(draft_id) >= to_target_.size() || to_target_[static_cast<std::size_t>(draft_id)] < 0)
      return std::nullopt;
    return to_target_[static_cast<std::size_t>(draft_id)];
  }

  /// @brief A draft id that maps to target id t (the lowest, where several do), if any.
  std::optional<token_id> to_draft(token_id target_id) const noexcept {
    if (target_id < 0 || static_cast<std::size_t>(target_id) >= from_target_.size() ||
        from_target_[static_cast<std::size_t>(target_id)] < 0)
      return std::nullopt;
    return from_target_[static_cast<std::size_t>(target_id)];
  }

  /// @brief (draft width) 1 for draft ids in the intersection: the draft_options::allowed mask.
  const std::vector<std::uint8_t>& mask() const noexcept { return mask_; }
  /// @brief Draft ids in the intersection, ascending.
  const token_vector& mapped_draft_ids() const noexcept { return mapped_; }

  /// @brief Restricts a draft probability row to the intersection and renormalises it in place.
  /// requires: probs.size() == draft_width(). returns: the mass the row had inside the intersection
  /// (0: nothing allowed, the row is left all zero). cost: O(draft width).
  double restrict_probabilities(std::span<float> probs) const {
    check_width(probs.size(), draft_width_, "probability row");
    double s = 0.0;
    for (std::size_t i = 0; i < probs.size(); ++i) {
      if (!mask_[i]) probs[i] = 0.0f;
      s += probs[i];
    }
    if (s <= 0.0) return 0.0;
    const double inv = 1.0 / s;
    for (float& v : probs) v = static_cast<float>(v * inv);
    return s;
  }

  /// @brief Sets logits outside the intersection to -inf (a softmax afterwards renormalises).
  /// requires: logits.size() == draft_width().
  void restrict_logits(std::span<float> logits) const {
    check_width(logits.size(), draft_width_, "logits row");
    for (std::size_t i = 0; i < logits.size(); ++i)
      if (!mask_[i]) logits[i] = -std::numeric_limits<float>::infinity();
  }

  /// @brief Writes the target-space row of a draft distribution: q_target[t] = Σ q_draft[d] over the
  /// draft ids d that map to t; every other entry 0. When q_draft is the (restricted) distribution the
  /// draft sampled d from, q_target is exactly the distribution of the proposed target id to_target(d).
  /// requires: q_draft.size() == draft_width(), q_target.size() >= target_width() (extra entries, e.g.
  /// a padded target vocabulary, are zeroed). cost: O(target width + intersection).
  void map_row(std::span<const float> q_draft, std::span<float> q_target) const {
    check_row_widths(q_draft.size(), q_target.size());
    std::fill(q_target.begin(), q_target.end(), 0.0f);
    add_row(q_draft, q_target);
  }

  /// @brief map_row() into a row that is already zero (a freshly grown vector): adds the mapped mass
  /// only, so a 151,936-wide target row (600 KB) is zeroed once per candidate, not twice. requires: as
  /// map_row(), and q_target all zero. cost: O(intersection).
  void add_row(std::span<const float> q_draft, std::span<float> q_target) const {
    check_row_widths(q_draft.size(), q_target.size());
    for (token_id d : mapped_) q_target[static_cast<std::size_t>(to_target_[static_cast<std::size_t>(d)])] += q_draft[static_cast<std::size_t>(d)];
  }

 private:
  void check_row_widths(std::size_t draft, std::size_t target) const {
    check_width(draft, draft_width_, "draft q row");
    if (target < target_width_)
      throw input_error("bridge.tli.width", "target q row has " + std::to_string(target) +
                                                " entries, expected at least " + std::to_string(target_width_));
  }
  static void check_width(std::size_t got, std::size_t want, const char* what) {
    if (got != want)
      throw input_error("bridge.tli.width", std::string(what) + " has " + std::to_string(got) +
                                                " entries, expected " + std::to_string(want));
  }

  std::size_t draft_width_ = 0;
  std::size_t target_width_ = 0;
  std::size_t distinct_targets_ = 0;
  std::vector<token_id> to_target_;   // (draft width) target id or -1
  std::vector<token_id> from_target_;  // (target width) the lowest draft id mapping to it, or -1
  std::vector<std::uint8_t> mask_;    // (draft width) 1 = in the intersection
  token_vector mapped_;               // draft ids in the intersection
};

}  // namespace uag
