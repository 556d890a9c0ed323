// TokenizerBridge, vocabulary intersection (TLI) and bridged_draft: alignment rules on small doubles,
// property tests over the real tokenizers, oracle-draft acceptance, losslessness through the generator.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>
#include <set>

#include "support/bridge_emulation.hpp"
#include "support/chi_square.hpp"
#include "support/test_doubles.hpp"
#include "uag/bridge/bridged_draft.hpp"
#include "uag/bridge/tokenizer_bridge.hpp"
#include "uag/bridge/vocabulary_intersection.hpp"
#include "uag/generation/assisted_generator.hpp"
#include "uag/sampling/logits_processor.hpp"

#if __has_include("uag/tokenizer/hf_tokenizer.hpp")
#include "uag/tokenizer/hf_tokenizer.hpp"
#define UAG_TEST_HAVE_HF 1
#else
#define UAG_TEST_HAVE_HF 0
#endif

using namespace uag_test;
using uag::bridge_config;
using uag::TokenizerBridge;

namespace {

// A tokenizer double: greedy longest match over explicit pieces; ids [0, n_special) are specials
// (0 = BOS, 1 = EOS); prefix_space mimics SentencePiece's dummy prefix (a marker space before the text).
class piece_tokenizer {
 public:
  // salt: tokenizers with equal pieces and salt count as identical (the fingerprint hashes both).
  piece_tokenizer(std::vector<std::string> pieces, bool prefix_space, std::uint64_t salt)
      : pieces_(std::move(pieces)), prefix_space_(prefix_space), fingerprint_(mix(salt + (prefix_space ? 1 : 0))) {
    for (const auto& p : pieces_) fingerprint_ = mix(fingerprint_ ^ std::hash<std::string>{}(p));
  }
  token_vector encode(std::string_view text, bool add_special) const {
    if (!uag::utf8::is_valid(text)) throw uag::input_error("input.utf8", "invalid UTF-8");
    token_vector out;
    if (add_special) out.push_back(0);
    std::string s = (prefix_space_ && !text.empty()) ? " " + std::string(text) : std::string(text);
    std::size_t i = 0;
    while (i < s.size()) {
      std::size_t best_len = 0;
      token_id best = -1;
      for (std::size_t id = 2; id < pieces_.size(); ++id) {
        const auto& p = pieces_[id];
        if (p.size() > best_len && std::string_view(s).substr(i, p.size()) == p)
          best_len = p.size(), best = static_cast<token_id>(id);
      }
      if (best < 0) throw uag::input_error("input.unknown_char", "no token for input");
      out.push_back(best);
      i += best_len;
    }
    return out;
  }
  std::string decode(token_span ids, bool) const {
    std::string s;
    for (token_id t : ids) s += std::string(token_bytes(t));
    return s;
  }
  std::string_view token_bytes(token_id id) const {
    return id < 2 ? std::string_view{} : std::string_view(pieces_.at(static_cast<std::size_t>(id)));
  }
  std::size_t vocab_size() const { return pieces_.size(); }
  std::optional<token_id> bos_id() const { return 0; }
  std::optional<token_id> eos_id() const { return 1; }
  bool is_special(token_id id) const { return id < 2; }
  std::uint64_t fingerprint() const { return fingerprint_; }
  token_id id_of(std::string_view piece) const {
    for (std::size_t i = 2; i < pieces_.size(); ++i)
      if (pieces_[i] == piece) return static_cast<token_id>(i);
    ADD_FAILURE() << "no piece '" << piece << "'";
    return -1;
  }

 private:
  std::vector<std::string> pieces_;
  bool prefix_space_;
  std::uint64_t fingerprint_;
};
static_assert(uag::tokenizer<piece_tokenizer>);

std::vector<std::string> with_specials(std::vector<std::string> pieces) {
  pieces.insert(pieces.begin(), {"", ""});
  return pieces;
}

std::string show(std::string_view s) {
  std::string o = "\"";
  for (unsigned char c : s) {
    if (c == '\n') o += "\\n";
    else if (c < 0x20 || c >= 0x7F) { char b[8]; std::snprintf(b, sizeof b, "\\x%02X", c); o += b; }
    else o += static_cast<char>(c);
  }
  return o + "\"";
}

template <class Tok>
std::string spell(const Tok& tok, token_span ids) {
  std::string s;
  for (token_id id : ids) s += std::string(tok.token_bytes(id));
  return s;
}

}  // namespace

// ---- alignment rules on doubles ----

// The vectors of HF's _get_tokens_diag tests, restated for a text alignment: committed target ids
// [A, B, C]; the draft proposes the text "DE"; the window holds all (complete overlap) or part
// (partial overlap) of the committed tail; either way the new ids are exactly [D, E]; no new text, no ids.
TEST(bridge_test, hf_get_tokens_diag_vectors) {
  const piece_tokenizer target(with_specials({"A", "B", "C", "D", "E"}), false, 1);
  const piece_tokenizer draft(with_specials({"E", "D", "C", "B", "A"}), false, 2);
  for (std::size_t lookbehind : {3u, 2u, 1u}) {
    TokenizerBridge<piece_tokenizer, piece_tokenizer> b(target, draft, {.target_lookbehind = lookbehind});
    ASSERT_FALSE(b.same_tokenizer());
    const token_vector committed{0, target.id_of("A"), target.id_of("B"), target.id_of("C")};
    const token_span ctx = b.sync_draft(committed);
    EXPECT_EQ(spell(draft, ctx), "ABC");
    token_vector out;
    EXPECT_EQ(b.to_target(token_vector{draft.id_of("D"), draft.id_of("E")}, out, true), 2u);
    EXPECT_EQ(out, (token_vector{target.id_of("D"), target.id_of("E")})) << "lookbehind " << lookbehind;
    out.clear();
    b.sync_draft(committed);  // nothing accepted: the drafted ids are dropped from the draft context
    EXPECT_EQ(b.to_target(token_vector{}, out, true), 0u);
    EXPECT_TRUE(out.empty());
  }
}

// "▁the" is committed; the draft continues with "m is": the re-encoding wants "▁them", which would change
// a committed id. The bridge keeps "▁the" and spells "m" with a token starting at the committed end.
TEST(bridge_test, token_straddling_the_committed_end_is_cut_not_rewritten) {
  const piece_tokenizer target(with_specials({" the", " them", " is", "m", "t", "h", "e", " ", "i", "s"}), true, 1);
  const piece_tokenizer draft(with_specials({"t", "h", "e", "m", " is", " ", "i", "s"}), false, 2);
  TokenizerBridge<piece_tokenizer, piece_tokenizer> b(target, draft);
  const token_vector committed{0, target.id_of(" the")};  // text "the": the marker space is not text
  const token_span ctx = b.sync_draft(committed);
  EXPECT_EQ(b.committed_text(), "the");
  EXPECT_EQ(spell(draft, ctx), "the");
  token_vector out;
  b.to_target(token_vector{draft.id_of("m"), draft.id_of(" is")}, out, true);
  EXPECT_EQ(out, (token_vector{target.id_of("m"), target.id_of(" is")}));
}

TEST(bridge_test, last_token_is_held_back_unless_final) {
  const piece_tokenizer target(with_specials({"a", "b", "c", " ", "ab"}), false, 1);
  const piece_tokenizer draft(with_specials({"c", "b", "a", " "}), false, 2);
  TokenizerBridge<piece_tokenizer, piece_tokenizer> b(target, draft);
  const token_vector committed{0, target.id_of("c")};
  b.sync_draft(committed);
  token_vector out;
  // " a" then "b" would merge into "ab": the held-back "a" is not proposed yet.
  b.to_target(token_vector{draft.id_of(" "), draft.id_of("a")}, out, false);
  EXPECT_EQ(out, (token_vector{target.id_of(" ")}));
}

TEST(bridge_test, incomplete_utf8_is_held_back_until_complete) {
  const piece_tokenizer target(with_specials({"a", "\xC3\xA9", "\xC3", "\xA9"}), false, 1);
  const piece_tokenizer draft(with_specials({"\xA9", "\xC3", "a"}), false, 2);
  TokenizerBridge<piece_tokenizer, piece_tokenizer> b(target, draft);
  token_vector committed{0, target.id_of("a")};
  b.sync_draft(committed);
  token_vector out;
  EXPECT_EQ(b.to_target(token_vector{draft.id_of("\xC3")}, out, true), 0u);  // half of "é"
  EXPECT_EQ(b.to_target(token_vector{draft.id_of("\xA9")}, out, true), 1u);
  EXPECT_EQ(out, (token_vector{target.id_of("\xC3\xA9")}));
  // The target commits only the first byte of "é" on its own: the draft context follows byte-exactly.
  committed.push_back(target.id_of("\xC3"));
  const token_span ctx = b.sync_draft(committed);
  EXPECT_EQ(spell(draft, ctx), "a\xC3");
}

TEST(bridge_test, draft_eos_ends_the_proposal_and_specials_are_never_candidates) {
  const piece_tokenizer target(with_specials({"a", "b"}), false, 1);
  const piece_tokenizer draft(with_specials({"b", "a"}), false, 2);
  TokenizerBridge<piece_tokenizer, piece_tokenizer> b(target, draft);
  b.sync_draft(token_vector{0, target.id_of("a")});
  token_vector out;
  b.to_target(token_vector{draft.id_of("b"), 1, draft.id_of("a")}, out, true);
  EXPECT_EQ(out, (token_vector{target.id_of("b")}));
  // After the target commits its own EOS nothing is re-encoded across it.
  const token_vector committed{0, target.id_of("a"), target.id_of("b"), 1};
  const token_span ctx = b.sync_draft(committed);
  EXPECT_EQ(spell(draft, ctx), "ab");
  for (token_id id : ctx.subspan(1)) EXPECT_FALSE(draft.is_special(id));
}

TEST(bridge_test, identical_tokenizers_take_the_fast_path) {
  const piece_tokenizer a(with_specials({"a", "b"}), false, 42);
  const piece_tokenizer a_copy(with_specials({"a", "b"}), false, 42);
  const piece_tokenizer other(with_specials({"a", "b"}), false, 43);
  TokenizerBridge<piece_tokenizer, piece_tokenizer> same(a, a_copy);
  EXPECT_TRUE(same.same_tokenizer());
  const token_vector committed{0, 2, 3};
  const token_span ctx = same.sync_draft(committed);
  EXPECT_EQ(token_vector(ctx.begin(), ctx.end()), committed);
  token_vector out;
  same.to_target(token_vector{3, 1}, out);
  EXPECT_EQ(out, (token_vector{3, 1}));  // ids (EOS included) pass through
  EXPECT_FALSE((TokenizerBridge<piece_tokenizer, piece_tokenizer>(a, other).same_tokenizer()));
  // Without fingerprints only the same object is "the same tokenizer".
  const test_tokenizer t1(3), t2(3);
  EXPECT_TRUE((TokenizerBridge<test_tokenizer, test_tokenizer>(t1, t1).same_tokenizer()));
  EXPECT_FALSE((TokenizerBridge<test_tokenizer, test_tokenizer>(t1, t2).same_tokenizer()));
}

// target_starts: for each of the draft context's last ids, the committed target id that starts where it
// starts (a sampled catch-up's check weighs the draft's q there against the target's p of that id).
// Committed "ab c abc" splits as target [ab][ ][c][ a][bc] and draft [a][b][ ][c][ ab][c].
TEST(bridge_test, target_starts_pairs_draft_ids_with_the_target_ids_that_start_with_them) {
  const piece_tokenizer target(with_specials({"a", "b", "c", " ", "ab", "bc", " a"}), false, 1);
  const piece_tokenizer draft(with_specials({"a", "b", "c", " ", " ab"}), false, 2);
  TokenizerBridge<piece_tokenizer, piece_tokenizer> b(target, draft);
  const token_vector committed{
      0, target.id_of("ab"), target.id_of(" "), target.id_of("c"), target.id_of(" a"), target.id_of("bc")};
  const token_span ctx = b.sync_draft(committed);
  ASSERT_EQ(token_vector(ctx.begin(), ctx.end()),
            (token_vector{0, draft.id_of("a"), draft.id_of("b"), draft.id_of(" "), draft.id_of("c"),
                          draft.id_of(" ab"), draft.id_of("c")}));
  // Nine asked of a context of seven: the first two are -1; BOS spells nothing; "b" and the last "c"
  // start inside target tokens.
  std::vector<std::ptrdiff_t> starts(9, 7);
  b.target_starts(starts);
  EXPECT_EQ(starts, (std::vector<std::ptrdiff_t>{-1, -1, -1, 1, -1, 2, 3, 4, -1}));
  std::vector<std::ptrdiff_t> last(2, 7);
  b.target_starts(last);
  EXPECT_EQ(last, (std::vector<std::ptrdiff_t>{4, -1}));
  // Identical tokenizers: each id is its own.
  const piece_tokenizer copy(with_specials({"a", "b", "c", " ", "ab", "bc", " a"}), false, 1);
  TokenizerBridge<piece_tokenizer, piece_tokenizer> same(target, copy);
  ASSERT_TRUE(same.same_tokenizer());
  same.sync_draft(committed);
  std::vector<std::ptrdiff_t> own(8, 7);
  same.target_starts(own);
  EXPECT_EQ(own, (std::vector<std::ptrdiff_t>{-1, -1, 0, 1, 2, 3, 4, 5}));
}

TEST(bridge_test, invalid_config_is_rejected) {
  const piece_tokenizer a(with_specials({"a"}), false, 1);
  EXPECT_THROW((TokenizerBridge<piece_tokenizer, piece_tokenizer>(a, a, {.target_lookbehind = 0})), uag::config_error);
  EXPECT_THROW((TokenizerBridge<piece_tokenizer, piece_tokenizer>(a, a, {.draft_lookbehind = 100000})), uag::config_error);
  const test_tokenizer ttok(4), dtok(3);
  test_model draft_model(dtok, {.seed = 1});
  using draft_type = uag::bridged_draft<test_model, test_tokenizer>;
  for (std::size_t factor : {0, 17}) {
    try {
      draft_type d(draft_model, ttok, {.draft_budget_factor = factor});
      ADD_FAILURE() << "draft_budget_factor " << factor << " accepted";
    } catch (const uag::config_error& e) {
      EXPECT_NE(std::string(e.what()).find("draft_budget_factor"), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(draft_type(draft_model, ttok, {.extra_draft_tokens = 65}), uag::config_error);
  EXPECT_NO_THROW(draft_type(draft_model, ttok, {.draft_budget_factor = 1}));
}

// ---- the step-by-step property harness (used with doubles and with the real tokenizers) ----

namespace {

struct property_stats {
  std::size_t texts = 0;
  std::size_t target_tokens = 0;   // canonical target tokens over all texts
  std::size_t ambiguous = 0;       // canonical target tokens not reproduced exactly
  std::size_t ambiguous_texts = 0; // texts with at least one
  std::size_t steps = 0;
  std::size_t max_lag = 0;         // most bytes drafted but not yet proposed after a step
  std::size_t failures = 0;
};

// Counts canonical tokens that do not appear in `got` at the same byte span.
template <class Tok>
std::size_t ambiguous_positions(const Tok& tok, token_span canonical, token_span got) {
  uag::detail::tokenizer_facts<Tok> f(tok);
  uag::detail::token_run<Tok> a, b;
  for (token_id id : canonical) a.push(f, id);
  for (token_id id : got) b.push(f, id);
  std::set<std::tuple<std::int64_t, std::int64_t, token_id>> have;
  for (std::size_t i = 0; i < b.size(); ++i) have.insert({b.start_of(i), b.ends[i], b.ids[i]});
  std::size_t n = 0;
  for (std::size_t i = 0; i < a.size(); ++i) n += have.count({a.start_of(i), a.ends[i], a.ids[i]}) ? 0 : 1;
  return n;
}

// Feeds `text` through the bridge as a draft would (random runs of 1..6 draft tokens continuing the
// committed text), the target accepting every candidate. Checks after each step that the committed
// target text is a prefix of the text drafted so far, and at the end that it is the whole text.
template <class TT, class DT>
void feed_text(const TT& target, const DT& draft, const std::string& text, std::uint64_t seed, property_stats& st,
               const std::string& label) {
  emulated_draft<DT> em(draft, text);
  if (!em.canonical_spells_text()) return;  // the draft's normaliser rewrites this text: not a bridge case
  TokenizerBridge<TT, DT> bridge(target, draft);
  std::mt19937_64 rng(seed);
  token_vector committed;
  {
    const token_vector pre = target.encode("a", true);
    for (token_id id : pre) {
      if (!target.is_special(id)) break;
      committed.push_back(id);
    }
  }
  const std::size_t prefix = committed.size();
  std::size_t stalls = 0, max_run = 6;
  token_vector cands;
  token_vector prev_ctx;
  std::size_t prev_synced = 0;
  for (std::size_t step = 0; step < 4 * text.size() + 16; ++step) {
    const token_span ctx = bridge.sync_draft(committed);
    // Resynchronisation is bounded: the context keeps all but at most draft_lookbehind of the ids that
    // spelled the previously committed text, so the draft cache is cropped only near its end.
    const auto keep = static_cast<std::size_t>(std::mismatch(prev_ctx.begin(), prev_ctx.end(), ctx.begin(), ctx.end()).first - prev_ctx.begin());
    if (keep + bridge.config().draft_lookbehind < prev_synced) {
      ADD_FAILURE() << label << ": resync dropped " << prev_synced - keep << " draft ids at step " << step;
      ++st.failures;
      return;
    }
    prev_ctx.assign(ctx.begin(), ctx.end());
    prev_synced = ctx.size();
    const std::string done_text = std::string(bridge.committed_text());
    if (bridge.draft_text() != done_text) {
      ADD_FAILURE() << label << ": draft context spells a different text than the committed target ids";
      ++st.failures;
      return;
    }
    (void)ctx;
    if (done_text.size() >= text.size()) break;
    // Random runs; after repeated empty steps (a long word held back) the draft writes longer runs.
    const std::size_t n = stalls > 4 ? max_run : 1 + rng() % max_run;
    const token_vector run = em.continuation(done_text.size(), n);
    if (run.empty()) {
      ADD_FAILURE() << label << ": emulated draft cannot continue at byte " << done_text.size();
      ++st.failures;
      return;
    }
    const std::string drafted = spell(draft, run);
    const bool final = done_text.size() + drafted.size() >= text.size();
    cands.clear();
    bridge.to_target(run, cands, final);
    committed.insert(committed.end(), cands.begin(), cands.end());
    ++st.steps;
    if (std::getenv("UAG_BRIDGE_TRACE"))
    {
      std::printf("step %zu done=%s drafted=%s cands=%s now=%s |", step, show(done_text).c_str(), show(drafted).c_str(),
                  show(spell(target, cands)).c_str(), show(run_text(target, token_span(committed))).c_str());
      for (token_id id : run) std::printf(" %d", id);
      std::printf(" | dctx");
      for (token_id id : bridge.draft_context()) std::printf(" %d", id);
      std::printf("\n");
    }
    const std::string now = run_text(target, token_span(committed));
    if (text.compare(0, now.size(), now) != 0 || now.size() > text.size()) {
      ADD_FAILURE() << label << ": committed text is not a prefix of the text at step " << step << "\n  got  "
                    << show(now) << "\n  want " << show(text.substr(0, now.size() + 8));
      ++st.failures;
      return;
    }
    st.max_lag = std::max(st.max_lag, done_text.size() + drafted.size() - now.size());
    if (cands.empty()) {
      if (++stalls > 4) max_run = std::min<std::size_t>(max_run * 2, 256);
    } else {
      stalls = 0;
      max_run = 6;
    }
  }
  const std::string final_text = run_text(target, token_span(committed));
  if (final_text != text) {
    ADD_FAILURE() << label << ": final text differs\n  got  " << show(final_text) << "\n  want "
                  << show(text);
    ++st.failures;
    return;
  }
  const token_vector canonical = target.encode(text, false);
  st.target_tokens += canonical.size();
  const std::size_t amb = ambiguous_positions(target, canonical, token_span(committed).subspan(prefix));
  st.ambiguous += amb;
  st.ambiguous_texts += amb ? 1 : 0;
  if (amb && std::getenv("UAG_BRIDGE_AMBIG")) {
    std::printf("AMBIG %s\n  canon:", label.c_str());
    for (token_id id : canonical) std::printf(" %s", show(target.token_bytes(id)).c_str());
    std::printf("\n  got  :");
    for (token_id id : token_span(committed).subspan(prefix)) std::printf(" %s", show(target.token_bytes(id)).c_str());
    std::printf("\n");
  }
  ++st.texts;
}

// The oracle draft: it proposes exactly the text the target will produce (the target's canonical
// encoding of `text`). The target accepts candidates while they equal its own next token, then adds
// its own token. returns {accepted, proposed}.
template <class TT, class DT>
std::pair<std::size_t, std::size_t> oracle_run(const TT& target, const DT& draft, const std::string& text,
                                               std::size_t gamma) {
  emulated_draft<DT> em(draft, text);
  const token_vector truth = target.encode(text, true);
  TokenizerBridge<TT, DT> bridge(target, draft);
  std::size_t first_text = 0;
  while (first_text < truth.size() && target.is_special(truth[first_text])) ++first_text;
  // Prompt: the specials and the first target token.
  token_vector committed(truth.begin(), truth.begin() + static_cast<std::ptrdiff_t>(std::min(first_text + 1, truth.size())));
  std::size_t accepted = 0, proposed = 0;
  token_vector cands;
  while (committed.size() < truth.size()) {
    bridge.sync_draft(committed);
    const std::size_t done = bridge.committed_text().size();
    const token_vector run = em.continuation(done, gamma + 1);
    cands.clear();
    const bool final = done + spell(draft, run).size() >= text.size();
    bridge.to_target(run, cands, final);
    if (cands.size() > gamma) cands.resize(gamma);
    proposed += cands.size();
    for (token_id c : cands) {
      if (committed.size() >= truth.size() || c != truth[committed.size()]) break;
      committed.push_back(c);
      ++accepted;
    }
    if (committed.size() < truth.size()) committed.push_back(truth[committed.size()]);  // the target's own token
  }
  return {accepted, proposed};
}

std::string random_double_text(std::mt19937_64& rng, const std::vector<std::string>& alphabet, std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s += alphabet[rng() % alphabet.size()];
  return s;
}

}  // namespace

TEST(bridge_test, property_on_doubles_with_prefix_space_and_split_characters) {
  // Target: SentencePiece-like (marker space), words, bytes of "é" and a whole "é"; draft: plain, other ids.
  const piece_tokenizer target(
      with_specials({" the", " them", "the", "m", " ", "t", "h", "e", "a", "b", "ab", " ab", "\n", "\xC3\xA9", "\xC3", "\xA9"}), true, 1);
  const piece_tokenizer draft(with_specials({"\xA9", "\xC3", "\n", "b", "a", "e", "h", "t", " ", "m", "th", " th", "em"}), false, 2);
  const std::vector<std::string> alphabet{"the", " ", "m", "a", "b", "\xC3\xA9", "\n", "h", "e", " the"};
  std::mt19937_64 rng(7);
  property_stats st, st_rev;
  for (int i = 0; i < 200; ++i) {
    const std::string text = random_double_text(rng, alphabet, 1 + rng() % 30);
    feed_text(target, draft, text, 100 + i, st, "double t<-d");
    feed_text(draft, target, text, 100 + i, st_rev, "double d<-t");
  }
  EXPECT_EQ(st.failures + st_rev.failures, 0u);
  EXPECT_EQ(st.texts, 200u);
  EXPECT_EQ(st_rev.texts, 200u);
  std::printf("[bridge] doubles: %zu/%zu ambiguous target tokens (prefix-space target), %zu/%zu (plain target)\n",
              st.ambiguous, st.target_tokens, st_rev.ambiguous, st_rev.target_tokens);
}

// ---- vocabulary intersection (TLI) ----

TEST(bridge_test, tli_maps_by_bytes_with_deterministic_duplicates) {
  // target: "▁"-like " " appears twice (as a merged token and as a byte token): the higher id wins.
  const piece_tokenizer target(with_specials({" ", "a", "b", " a", " "}), false, 1);
  const piece_tokenizer draft(with_specials({"b", " a", "z", " ", "a"}), false, 2);
  const uag::vocabulary_intersection tli(target, draft);
  EXPECT_EQ(tli.size(), 5u);  // b, " a", " ", a, and EOS
  EXPECT_EQ(tli.to_target(draft.id_of("b")), target.id_of("b"));
  EXPECT_EQ(tli.to_target(draft.id_of(" a")), target.id_of(" a"));
  EXPECT_EQ(tli.to_target(draft.id_of(" ")), token_id{6});  // the higher of target ids 2 and 6
  EXPECT_EQ(tli.to_target(draft.id_of("z")), std::nullopt);
  EXPECT_EQ(tli.to_target(1), token_id{1});                 // EOS ↔ EOS
  EXPECT_EQ(tli.to_target(0), std::nullopt);                // BOS: special, never mapped
  EXPECT_EQ(tli.to_target(99), std::nullopt);
  EXPECT_EQ(tli.mask()[static_cast<std::size_t>(draft.id_of("z"))], 0);
  // Back from target to draft: the draft id of a mapped target id; none for the lower " " twin, for a
  // target id no draft id spells, or outside the vocabulary.
  EXPECT_EQ(tli.to_draft(target.id_of("b")), draft.id_of("b"));
  EXPECT_EQ(tli.to_draft(token_id{6}), draft.id_of(" "));
  EXPECT_EQ(tli.to_draft(token_id{2}), std::nullopt);
  EXPECT_EQ(tli.to_draft(1), token_id{1});
  EXPECT_EQ(tli.to_draft(0), std::nullopt);
  EXPECT_EQ(tli.to_draft(-1), std::nullopt);
  EXPECT_EQ(tli.to_draft(99), std::nullopt);

  std::vector<float> p{0.05f, 0.1f, 0.2f, 0.3f, 0.15f, 0.1f, 0.1f};  // draft width 7
  const double inside = tli.restrict_probabilities(p);
  EXPECT_NEAR(inside, 1.0 - 0.05 - 0.15, 1e-6);  // BOS and "z" are outside
  EXPECT_NEAR(std::accumulate(p.begin(), p.end(), 0.0), 1.0, 1e-6);
  EXPECT_EQ(p[0], 0.0f);
  EXPECT_EQ(p[static_cast<std::size_t>(draft.id_of("z"))], 0.0f);

  std::vector<float> q(target.vocab_size() + 3, 7.0f);  // a padded target row
  tli.map_row(p, q);
  EXPECT_NEAR(std::accumulate(q.begin(), q.end(), 0.0), 1.0, 1e-6);
  for (std::size_t t = 0; t < q.size(); ++t) {
    double want = 0;
    for (std::size_t d = 0; d < p.size(); ++d)
      if (auto m = tli.to_target(static_cast<token_id>(d)); m && static_cast<std::size_t>(*m) == t) want += p[d];
    EXPECT_NEAR(q[t], want, 1e-7) << "target id " << t;
  }
  // add_row (what the bridged draft uses on a freshly zeroed row) adds the same mass and nothing else.
  std::vector<float> added(q.size(), 0.0f), twice(q.size(), 0.0f);
  tli.add_row(p, added);
  EXPECT_EQ(added, q);
  tli.add_row(p, twice);
  tli.add_row(p, twice);
  for (std::size_t t = 0; t < q.size(); ++t) EXPECT_FLOAT_EQ(twice[t], 2.0f * q[t]) << "target id " << t;
  std::vector<float> logits(7, 1.0f);
  tli.restrict_logits(logits);
  EXPECT_TRUE(std::isinf(logits[static_cast<std::size_t>(draft.id_of("z"))]));
  EXPECT_EQ(logits[static_cast<std::size_t>(draft.id_of("b"))], 1.0f);
  std::vector<float> wrong(3);
  EXPECT_THROW(tli.restrict_probabilities(wrong), uag::input_error);
  EXPECT_THROW(tli.map_row(p, wrong), uag::input_error);
  EXPECT_THROW(tli.add_row(p, wrong), uag::input_error);
  EXPECT_THROW(tli.add_row(wrong, added), uag::input_error);
}

// ---- bridged_draft through the generator ----

namespace {
template <class Draft>
token_vector run_gen(test_model& target, Draft& draft, const token_vector& prompt, uag::generation_config cfg,
                     uag::generation_stats* stats = nullptr) {
  uag::AssistedGenerator<test_model, Draft> gen(target, draft, cfg);
  gen.begin_ids(prompt);
  while (!gen.done()) gen.step();
  if (stats) *stats = gen.stats();
  return token_vector(gen.output_ids().begin(), gen.output_ids().end());
}
token_vector run_base(test_model& target, const token_vector& prompt, const uag::generation_config& cfg) {
  uag::baseline_generator<test_model> gen(target, cfg);
  gen.begin_ids(prompt);
  while (!gen.done()) gen.step();
  return token_vector(gen.output_ids().begin(), gen.output_ids().end());
}
}  // namespace

static_assert(uag::draft_source<uag::bridged_draft<test_model, test_tokenizer>>);

TEST(bridge_test, greedy_bridged_output_equals_target_only_output) {
  const test_tokenizer ttok(4), dtok(3);  // different vocabularies: ids shift after "c"
  std::size_t accepted = 0, drafted = 0;
  for (int seed = 0; seed < 60; ++seed) {
    test_model target(ttok, {.seed = static_cast<std::uint64_t>(seed), .sharpness = 4.0f});
    test_model draft_model(dtok, {.seed = static_cast<std::uint64_t>(seed), .sharpness = 4.0f, .extra_vocab = 3});
    uag::generation_config cfg;
    cfg.max_new_tokens = 40;
    cfg.num_draft_tokens = 1 + static_cast<std::size_t>(seed % 6);
    const token_vector prompt{0, static_cast<token_id>(2 + seed % 4), 8};
    const token_vector base = run_base(target, prompt, cfg);
    for (auto mode : {uag::bridge_mode::text, uag::bridge_mode::tli}) {
      uag::bridged_draft<test_model, test_tokenizer> draft(draft_model, ttok, {.mode = mode});
      uag::generation_stats st;
      EXPECT_EQ(run_gen(target, draft, prompt, cfg, &st), base) << "seed " << seed;
      accepted += st.accepted;
      drafted += st.drafted;
    }
  }
  EXPECT_GT(drafted, 0u);
  std::printf("[bridge] doubles greedy: %zu/%zu candidates accepted\n", accepted, drafted);
}

// Drafting on past γ + 1 tokens (text mode) stops where the draft's context ends; it must not keep a
// draft that still has room for γ + 1 tokens from drafting at all.
TEST(bridge_test, text_draft_near_a_full_context_still_drafts_what_fits) {
  const test_tokenizer ttok(4), dtok(3);
  const token_vector committed{0, 2, 8, 3, 2, 8, 4, 2};
  const uag::sampling_config sampling{};
  uag::rng random(1);
  const uag::draft_request req{.max_tokens = 2, .sampling = &sampling, .random = &random};
  // The smallest draft context at which a proposal runs the draft at all, for a budget factor.
  auto smallest_that_drafts = [&](std::size_t factor) {
    for (std::size_t max_context = 1; max_context < 64; ++max_context) {
      test_model draft_model(dtok, {.seed = 3, .max_context = max_context});
      uag::bridged_draft<test_model, test_tokenizer> draft(
          draft_model, ttok, {.mode = uag::bridge_mode::text, .draft_budget_factor = factor, .window = {}});
      uag::draft_proposal out;
      draft.propose(committed, req, out);
      if (out.draft_tokens > 0) return max_context;
    }
    return std::size_t{0};
  };
  const std::size_t exact = smallest_that_drafts(1);
  ASSERT_GT(exact, 0u);
  EXPECT_EQ(smallest_that_drafts(2), exact);
  EXPECT_EQ(smallest_that_drafts(16), exact);
}

// The first drafting step (the second; the first token comes from the target alone) re-encodes the
// prompt and first token for the draft and runs the draft over it in one pass, in every bridge mode.
TEST(bridge_test, second_step_prefills_the_bridged_draft) {
  static_assert(uag::draft_source_with_prepare<uag::bridged_draft<test_model, test_tokenizer>>);
  const test_tokenizer ttok(4), dtok(3);
  test_model target(ttok, {.seed = 9});
  for (auto mode : {uag::bridge_mode::text, uag::bridge_mode::tli}) {
    test_model draft_model(dtok, {.seed = 10});
    uag::bridged_draft<test_model, test_tokenizer> draft(draft_model, ttok, {.mode = mode});
    uag::generation_config cfg;
    cfg.max_new_tokens = 12;
    uag::AssistedGenerator<test_model, uag::bridged_draft<test_model, test_tokenizer>> gen(target, draft, cfg);
    const token_vector prompt{0, 2, 8, 3};
    gen.begin_ids(prompt);
    gen.step();
    EXPECT_EQ(draft_model.forward_calls(), 0u);
    gen.step();
    EXPECT_GT(draft_model.n_cached(), 0u);
    EXPECT_GT(gen.stats().draft_prefill_seconds, 0.0);
    EXPECT_EQ(draft_model.forward_calls(), gen.stats().draft_model_tokens + 1);  // + the one prefill pass
    while (!gen.done()) gen.step();
    EXPECT_EQ(token_vector(gen.output_ids().begin(), gen.output_ids().end()), run_base(target, prompt, cfg));
  }
}

TEST(bridge_test, identical_tokenizer_draft_is_fully_accepted_on_the_fast_path) {
  const test_tokenizer tok(4);
  test_model target(tok, {.seed = 5});
  test_model twin(tok, {.seed = 5, .extra_vocab = 7});  // same tokenizer, padded model vocabulary
  uag::bridged_draft<test_model, test_tokenizer> draft(twin, tok);
  EXPECT_TRUE(draft.same_tokenizer());
  uag::generation_config cfg;
  cfg.max_new_tokens = 30;
  cfg.stop_at_eos = false;
  uag::generation_stats st;
  const token_vector prompt{0, 2};
  EXPECT_EQ(run_gen(target, draft, prompt, cfg, &st), run_base(target, prompt, cfg));
  EXPECT_EQ(st.accepted, st.drafted);
  EXPECT_GT(st.drafted, 0u);
}

// TLI + speculative sampling on a heterogeneous pair: the first three tokens follow the target's exact
// distribution (20,000 samples), and q really is in target space.
TEST(bridge_test, tli_speculative_sampling_matches_target_distribution) {
  const test_tokenizer ttok(3), dtok(2);  // V_target = 11; the draft lacks "c" and has other ids
  test_model target(ttok, {.seed = 77, .sharpness = 2.5f, .eos_bias = -50.0f});
  test_model draft_model(dtok, {.seed = 78, .sharpness = 2.5f, .eos_bias = -50.0f});
  uag::bridged_draft<test_model, test_tokenizer> draft(draft_model, ttok, {.mode = uag::bridge_mode::tli});
  ASSERT_NE(draft.intersection(), nullptr);
  EXPECT_EQ(draft.intersection()->size(), dtok.vocab_size() - 1);  // all but BOS
  const std::size_t V = ttok.vocab_size();
  uag::generation_config cfg;
  cfg.max_new_tokens = 3;
  cfg.stop_at_eos = false;
  cfg.num_draft_tokens = 3;
  cfg.sampling.temperature = 0.9f;
  cfg.sampling.top_k = 8;
  cfg.verifier = uag::sampling_verifier::speculative;
  const token_vector prompt{0, 2};
  // exact distribution of the first three tokens
  uag::logits_processor proc(V, cfg.sampling);
  std::vector<float> row(V), p1(V), p2(V), p3(V);
  std::vector<double> probs(V * V * V, 0.0);
  token_vector ctx = prompt;
  target.row_for(ctx, row.data());
  proc.probabilities(row, nullptr, p1);
  for (std::size_t a = 0; a < V; ++a) {
    ctx.push_back(static_cast<token_id>(a));
    target.row_for(ctx, row.data());
    proc.probabilities(row, nullptr, p2);
    for (std::size_t b = 0; b < V; ++b) {
      ctx.push_back(static_cast<token_id>(b));
      target.row_for(ctx, row.data());
      proc.probabilities(row, nullptr, p3);
      for (std::size_t c = 0; c < V; ++c) probs[(a * V + b) * V + c] = double(p1[a]) * p2[b] * p3[c];
      ctx.pop_back();
    }
    ctx.pop_back();
  }
  std::vector<double> counts(V * V * V, 0.0);
  std::size_t accepted = 0, drafted = 0;
  for (std::size_t i = 0; i < 20000; ++i) {
    auto c = cfg;
    c.sampling.seed = i;
    uag::generation_stats st;
    const token_vector t = run_gen(target, draft, prompt, c, &st);
    ASSERT_EQ(t.size(), 3u);
    counts[(static_cast<std::size_t>(t[0]) * V + static_cast<std::size_t>(t[1])) * V + static_cast<std::size_t>(t[2])] += 1;
    accepted += st.accepted;
    drafted += st.drafted;
  }
  const auto r = uag_test::chi_square(counts, probs);
  EXPECT_GT(r.p_value, 0.001) << "chi2 " << r.statistic << " dof " << r.dof;
  EXPECT_GT(drafted, 0u);
  EXPECT_GT(accepted, 0u);
  std::printf("[bridge] TLI chi-square p = %.4f (dof %zu), %zu/%zu candidates accepted\n", r.p_value, r.dof, accepted,
              drafted);
}

// A sampled catch-up's check through the bridge (bridged_draft::sampled_check_points): over TLI between
// two tokenizers that are the same by content but not by identity (no fingerprints: the bridge re-encodes
// the text), and over the fast path. Drafted by the target's twin, a row paired with the right target
// token scores min(1, q/p) = 1 but where the re-encoded draft ids differ from the target's ("ab" for
// "a" "b": the twin then sees another context); paired with the wrong one (an off-by-one in the
// alignment or in p) it scores q of another token. A draft with other weights scores clearly less.
TEST(bridge_test, sampled_catch_up_check_pairs_draft_rows_with_the_targets_tokens) {
  const test_tokenizer ttok(3), dtok(3);
  test_model target(ttok, {.seed = 77, .sharpness = 2.5f, .eos_bias = -50.0f});
  const auto mean_score = [&](std::uint64_t draft_seed, bool tli) {
    test_model draft_model(tli ? dtok : ttok, {.seed = draft_seed, .sharpness = 2.5f, .eos_bias = -50.0f});
    uag::bridged_draft<test_model, test_tokenizer> draft(
        draft_model, ttok, {.mode = tli ? uag::bridge_mode::tli : uag::bridge_mode::text});
    EXPECT_EQ(draft.intersection() != nullptr, tli);
    uag::generation_config cfg;
    cfg.max_new_tokens = 400;
    cfg.stop_at_eos = false;
    cfg.draft_policy = uag::draft_length_policy::adaptive;
    cfg.sampling.temperature = 0.7f;
    std::size_t checked = 0;
    double agreed = 0.0;
    // Catch-ups come where the controller timed target-only steps: its warm-up's (once in a controller's
    // life, so each generation gets a fresh generator: 6 rows each) and its probes (how many depends on
    // the measured step times: under a sanitizer, one generator reused over 100 generations checked 38
    // rows). Generations run until 40 rows are checked.
    for (std::uint64_t seed = 0; seed < 100 && checked < 40; ++seed) {
      uag::AssistedGenerator<test_model, uag::bridged_draft<test_model, test_tokenizer>> gen(target, draft,
                                                                                             cfg);
      gen.on_step([&](const uag::step_record& r) { checked += r.checked_rows, agreed += r.agreed_rows; });
      gen.set_seed(seed);
      gen.begin_ids(token_vector{0, 2});
      while (!gen.done()) gen.step();
    }
    EXPECT_GE(checked, 40u) << "draft seed " << draft_seed << (tli ? " tli" : " fast path");
    return checked ? agreed / static_cast<double>(checked) : 0.0;
  };
  const double twin_tli = mean_score(77, true), twin_fast = mean_score(77, false),
               other = mean_score(78, true);
  std::printf("[bridge] sampled check: twin TLI %.3f, twin fast path %.3f, other draft TLI %.3f a row\n",
              twin_tli, twin_fast, other);
  EXPECT_NEAR(twin_fast, 1.0, 1e-4);
  EXPECT_GT(twin_tli, 0.8);
  EXPECT_LT(other, twin_tli - 0.2);
}

// ---- the six real tokenizers ----
#if UAG_TEST_HAVE_HF
namespace {

std::filesystem::path tokenizer_dir() {
  if (const char* c = std::getenv("UAG_TOKENIZER_CACHE"); c && *c) return c;
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home ? home : ".") / ".cache" / "uag" / "tokenizers";
}

// Loaded once per process and shared by the tests below.
const uag::hf_tokenizer& real(const std::string& name) {
  static std::map<std::string, std::unique_ptr<uag::hf_tokenizer>> cache;
  auto& slot = cache[name];
  if (!slot) slot = std::make_unique<uag::hf_tokenizer>(uag::hf_tokenizer::from_file(tokenizer_dir() / name / "tokenizer.json"));
  return *slot;
}

// Corpus texts (tests/data/tokenizers/corpus.jsonl) of the kinds a draft would write: prose, code,
// emoji, CJK and other scripts, mixed, whitespace runs, contractions. Seeded choice.
std::vector<std::string> corpus_texts(std::size_t n, std::uint64_t seed) {
  static std::vector<std::string> pool = [] {
    std::vector<std::string> p;
    std::ifstream in(std::string(UAG_TEST_DATA_DIR) + "/tokenizers/corpus.jsonl");
    std::string line;
    const std::set<std::string> kinds{"prose", "code", "unicode", "emoji", "mixed", "whitespace", "contraction", "long"};
    while (std::getline(in, line)) {
      const auto j = nlohmann::json::parse(line);
      if (kinds.count(j.at("kind").get<std::string>())) p.push_back(j.at("text").get<std::string>());
    }
    return p;
  }();
  std::vector<std::string> out;
  if (pool.empty()) return out;
  std::mt19937_64 rng(seed);
  while (out.size() < n) {
    std::string t = pool[rng() % pool.size()];
    if (t.size() > 1500) t.resize(uag::utf8::valid_prefix_length(std::string_view(t).substr(0, 1500)));
    if (!t.empty()) out.push_back(std::move(t));
  }
  return out;
}

// Texts whose canonical encoding spells them exactly for both tokenizers (a normaliser such as Qwen's
// NFC leaves them unchanged); the others are counted, not tested: no bridge can keep text a
// tokenizer rewrites.
template <class Tok>
bool spells_exactly(const Tok& tok, const std::string& text) {
  return run_text(tok, token_span(tok.encode(text, false))) == text;
}

const std::vector<std::pair<std::string, std::string>> kPairs{  // (target, draft)
    {"llama2", "llama3"}, {"llama3", "llama2"},   // SentencePiece ↔ byte-level
    {"gemma3", "gpt4o"},  {"gpt4o", "gemma3"},
    {"qwen3", "llama3"},  {"llama3", "qwen3"},
    {"deepseek_v3", "qwen3"}, {"qwen3", "gemma3"},
    {"gemma3", "llama2"}, {"llama2", "gemma3"},
    {"gpt4o", "deepseek_v3"}, {"deepseek_v3", "llama2"},
};

}  // namespace

TEST(bridge_test, real_tokenizers_step_by_step_property) {
  const auto texts = corpus_texts(40, 2025);
  ASSERT_FALSE(texts.empty()) << "corpus.jsonl missing";
  std::size_t pair_index = 0;
  for (const auto& [tname, dname] : kPairs) {
    const auto& target = real(tname);
    const auto& draft = real(dname);
    property_stats st;
    std::size_t skipped = 0;
    for (std::size_t i = 0; i < texts.size(); ++i) {
      if (!spells_exactly(target, texts[i]) || !spells_exactly(draft, texts[i])) {
        ++skipped;
        continue;
      }
      feed_text(target, draft, texts[i], 1000 * pair_index + i, st, tname + " <- " + dname);
    }
    EXPECT_EQ(st.failures, 0u) << tname << " <- " << dname;
    EXPECT_GE(st.texts, texts.size() / 2) << tname << " <- " << dname;
    std::printf("[bridge] property %-12s <- %-12s texts %zu (skipped %zu) steps %zu ambiguous %zu / %zu target tokens"
                " (%.3f%%) in %zu texts; max lag %zu bytes\n",
                tname.c_str(), dname.c_str(), st.texts, skipped, st.steps, st.ambiguous, st.target_tokens,
                100.0 * double(st.ambiguous) / double(std::max<std::size_t>(st.target_tokens, 1)), st.ambiguous_texts,
                st.max_lag);
    ++pair_index;
  }
}

// The greedy index (one arena, open addressing) against a reference map built the obvious way: every
// token's bytes find the highest id with those bytes; bytes no token has find nothing.
TEST(bridge_test, real_tokenizers_greedy_index_matches_a_reference_map) {
  for (const std::string name : {"llama2", "qwen3", "gemma3"}) {
    const auto& tok = real(name);
    const uag::detail::bytes_index index(tok);
    std::map<std::string, token_id> ref;
    std::size_t max_len = 0;
    for (std::size_t k = 0; k < tok.vocab_size(); ++k) {
      const auto id = static_cast<token_id>(k);
      const std::string_view b = tok.token_bytes(id);
      if (tok.is_special(id) || b.empty()) continue;
      ref[std::string(b)] = id;  // ascending ids: the highest wins
      max_len = std::max(max_len, b.size());
    }
    ASSERT_EQ(index.size(), ref.size()) << name;
    EXPECT_EQ(index.max_len(), max_len) << name;
    for (const auto& [bytes, id] : ref) ASSERT_EQ(index.find(bytes), std::optional<token_id>(id)) << name << " " << bytes;
    std::size_t absent = 0;
    for (const auto& [bytes, id] : ref) {
      const std::string longer = bytes + "\x01\x02\xff";
      if (ref.count(longer)) continue;
      EXPECT_EQ(index.find(longer), std::nullopt) << name;
      if (++absent == 2000) break;
    }
    EXPECT_EQ(index.find(""), std::nullopt) << name;
  }
}

TEST(bridge_test, real_tokenizers_oracle_draft_acceptance) {
  const auto texts = corpus_texts(80, 77);
  for (const auto& [tname, dname] : kPairs) {
    const auto& target = real(tname);
    const auto& draft = real(dname);
    std::size_t accepted = 0, proposed = 0, target_tokens = 0, passes = 0;
    for (const auto& text : texts) {
      if (!spells_exactly(target, text) || !spells_exactly(draft, text)) continue;
      const auto [a, p] = oracle_run(target, draft, text, 5);
      if (std::getenv("UAG_BRIDGE_ORACLE")) {
        const std::size_t nn = target.encode(text, false).size();
        std::printf("  %s<-%s tokens %zu accepted %zu proposed %zu passes %zu  %s\n", tname.c_str(), dname.c_str(), nn, a, p, nn - a, show(text.substr(0, 60)).c_str());
      }
      accepted += a;
      proposed += p;
      const std::size_t n = target.encode(text, false).size();
      target_tokens += n;
      passes += n > a ? n - a : 0;
    }
    ASSERT_GT(proposed, 0u) << tname << " <- " << dname;
    const double rate = double(accepted) / double(proposed);
    EXPECT_GE(rate, 0.95) << tname << " <- " << dname;
    std::printf("[bridge] oracle %-12s <- %-12s accepted %zu / %zu candidates = %.4f; %.2f target tokens per pass\n",
                tname.c_str(), dname.c_str(), accepted, proposed, rate, double(target_tokens) / double(std::max<std::size_t>(passes, 1)));
  }
}

// A draft model that writes a known text in its own tokens (the emulated perfect draft): each row's
// argmax is the next draft id of the text after what its cache spells, EOS at the end.
class text_oracle_model {
 public:
  text_oracle_model(const uag::hf_tokenizer& tok, std::string text) : em_(tok, std::move(text)) {}
  std::size_t vocab_size() const { return em_.tok.vocab_size(); }
  std::size_t n_cached() const { return ids_.size(); }
  std::size_t max_context() const { return 4096; }
  const uag::hf_tokenizer& tokenizer() const { return em_.tok; }
  uag::logits_view forward(token_span ids) {
    out_.assign(ids.size() * vocab_size(), 0.0f);
    for (std::size_t i = 0; i < ids.size(); ++i) {
      ids_.push_back(ids[i]);
      const token_vector next = em_.continuation(run_text(em_.tok, token_span(ids_)).size(), 1);
      const token_id t = next.empty() ? *em_.tok.eos_id() : next[0];
      out_[i * vocab_size() + static_cast<std::size_t>(t)] = 10.0f;
    }
    return {out_.data(), ids.size(), vocab_size()};
  }
  void truncate(std::size_t n) { ids_.resize(n); }

 private:
  emulated_draft<uag::hf_tokenizer> em_;
  token_vector ids_;
  std::vector<float> out_;
};

namespace {

// What a bridged oracle draft proposed over a walk through a text, one committed target token at a time.
struct oracle_walk {
  std::size_t steps = 0, short_steps = 0, proposed = 0, right = 0, fed = 0;
};

// Walks `text` (target ids `truth`) with an oracle draft under cfg, asking for γ candidates per step and
// stopping short of the end (where the draft runs out of text, not of budget); adds to w.
void walk_oracle(const uag::hf_tokenizer& target, const uag::hf_tokenizer& dtok, const std::string& text,
                 const token_vector& truth, const uag::bridged_draft_config& cfg, std::size_t gamma, oracle_walk& w) {
  text_oracle_model draft_model(dtok, text);
  uag::bridged_draft<text_oracle_model, uag::hf_tokenizer> draft(draft_model, target, cfg);
  const uag::sampling_config sampling{};
  uag::rng random(1);
  const uag::draft_request req{.max_tokens = gamma, .sampling = &sampling, .random = &random};
  uag::draft_proposal out;
  for (std::size_t k = 1; k + 12 < truth.size(); ++k) {
    out.clear();
    draft.propose(token_span(truth.data(), k), req, out);
    ASSERT_LE(out.tokens.size(), gamma);
    ++w.steps;
    w.short_steps += out.tokens.size() < gamma;
    w.proposed += out.tokens.size();
    w.fed += out.draft_tokens;
    std::size_t i = 0;
    while (i < out.tokens.size() && out.tokens[i] == truth[k + i]) ++i;
    w.right += i;
  }
}

}  // namespace

// A target whose tokens are longer than the draft's (Qwen's 151k vocabulary over Llama 2's 32k): with the
// last word held back, γ + 1 draft tokens often end inside one word, and a step asked for γ candidates
// got fewer, or none (a γ = 1 probe of the adaptive controller then tests nothing). The bridged draft
// drafts on, within a budget, until the text yields γ.
TEST(bridge_test, real_tokenizers_text_draft_yields_the_candidates_asked_for) {
  const auto& target = real("qwen3");
  const auto& dtok = real("llama2");
  std::size_t texts = 0;
  for (std::size_t gamma : {1, 3}) {
    // [0]: the old draft of exactly γ + 1 draft tokens (budget factor 1); [1]: the default budget.
    oracle_walk w[2];
    for (const auto& text : corpus_texts(40, 31)) {
      if (!spells_exactly(target, text) || !spells_exactly(dtok, text)) continue;
      const token_vector truth = target.encode(text, false);
      if (truth.size() < 40) continue;
      texts += gamma == 1;
      for (std::size_t f = 0; f < 2; ++f)
        walk_oracle(target, dtok, text, truth,
                    {.mode = uag::bridge_mode::text,
                     .bridge = {.hold_back = uag::hold_back_policy::last_word},
                     .extra_draft_tokens = 1,
                     .draft_budget_factor = f == 0 ? 1 : uag::bridged_draft_config{}.draft_budget_factor},
                    gamma, w[f]);
    }
    std::size_t steps[2] = {w[0].steps, w[1].steps}, short_steps[2] = {w[0].short_steps, w[1].short_steps};
    std::size_t proposed[2] = {w[0].proposed, w[1].proposed}, right[2] = {w[0].right, w[1].right};
    std::printf("[bridge] qwen3 <- llama2 text draft, gamma %zu: steps short of gamma %zu -> %zu of %zu; candidates right %zu/%zu -> %zu/%zu\n",
                gamma, short_steps[0], short_steps[1], steps[1], right[0], proposed[0], right[1], proposed[1]);
    EXPECT_GT(short_steps[0], steps[0] / 10) << "gamma " << gamma << ": the old draft was not short: no test";
    EXPECT_LT(short_steps[1] * 3, short_steps[0]) << "gamma " << gamma;
    EXPECT_GE(right[1] * 4, right[0] * 5) << "gamma " << gamma;  // >= 25% more right candidates
    // The corpus is built to be hard (runs of one letter, Thai, Cyrillic, Persian): a word longer than
    // max_held_word_bytes is proposed but for its last token, and BPE may split its end differently once
    // the word is finished. Longer drafts reach such words more often; a wrong candidate costs a row.
    EXPECT_GE(static_cast<double>(right[1]) / static_cast<double>(proposed[1]), 0.8) << "gamma " << gamma;
  }
  EXPECT_GE(texts, 5u);
}

// The default text draft drafts γ tokens and proposes all of their text: holding back the last word
// costs a draft forward per step (two per candidate at γ = 1) for a little acceptance. An oracle draft
// (it writes the true text) over Qwen3 / Llama 2, the pair whose long target tokens make the hold-back
// matter most, walked one committed token at a time: the default runs the draft on fewer ids per step
// and gets more right candidates per draft id than the hold-back did.
TEST(bridge_test, real_tokenizers_text_draft_without_hold_back_is_right_more_per_draft_token) {
  const auto& target = real("qwen3");
  const auto& dtok = real("llama2");
  const uag::bridged_draft_config held{.mode = uag::bridge_mode::text,
                                       .bridge = {.hold_back = uag::hold_back_policy::last_word},
                                       .extra_draft_tokens = 1};
  const uag::bridged_draft_config plain{.mode = uag::bridge_mode::text};
  for (std::size_t gamma : {1, 3}) {
    oracle_walk w[2];  // [0] held, [1] default
    for (const auto& text : corpus_texts(40, 31)) {
      if (!spells_exactly(target, text) || !spells_exactly(dtok, text)) continue;
      const token_vector truth = target.encode(text, false);
      if (truth.size() < 40) continue;
      for (std::size_t f = 0; f < 2; ++f) walk_oracle(target, dtok, text, truth, f == 0 ? held : plain, gamma, w[f]);
    }
    std::size_t steps[2] = {w[0].steps, w[1].steps}, fed[2] = {w[0].fed, w[1].fed};
    std::size_t proposed[2] = {w[0].proposed, w[1].proposed}, right[2] = {w[0].right, w[1].right};
    ASSERT_GT(steps[1], 100u);
    std::printf("[bridge] qwen3 <- llama2 oracle text draft, gamma %zu: draft ids per step %.2f -> %.2f, right candidates "
                "%zu/%zu -> %zu/%zu, right per draft id %.3f -> %.3f\n",
                gamma, double(fed[0]) / double(steps[0]), double(fed[1]) / double(steps[1]), right[0], proposed[0],
                right[1], proposed[1], double(right[0]) / double(fed[0]), double(right[1]) / double(fed[1]));
    EXPECT_LT(fed[1] * 5, fed[0] * 4) << "gamma " << gamma;  // >= 20% fewer draft ids per step
    EXPECT_GT(double(right[1]) / double(fed[1]), 1.1 * double(right[0]) / double(fed[0])) << "gamma " << gamma;
    EXPECT_GE(proposed[1], steps[1] * gamma * 9 / 10) << "gamma " << gamma;  // still yields what is asked
  }
}

TEST(bridge_test, real_tokenizers_same_content_takes_the_fast_path) {
  const auto path = tokenizer_dir() / "qwen3" / "tokenizer.json";
  const auto a = uag::hf_tokenizer::from_file(path);
  std::ifstream in(path, std::ios::binary);
  std::string json((std::istreambuf_iterator<char>(in)), {});
  const auto b = uag::hf_tokenizer::from_json(json + "\n  \n");  // another file, same content
  EXPECT_TRUE((TokenizerBridge<uag::hf_tokenizer, uag::hf_tokenizer>(a, b).same_tokenizer()));
  EXPECT_FALSE((TokenizerBridge<uag::hf_tokenizer, uag::hf_tokenizer>(a, real("llama3")).same_tokenizer()));
  EXPECT_FALSE((TokenizerBridge<uag::hf_tokenizer, uag::hf_tokenizer>(real("llama3"), real("deepseek_v3")).same_tokenizer()));
}

TEST(bridge_test, real_tokenizers_vocabulary_intersection) {
  for (const auto& [tname, dname] : kPairs) {
    const auto& target = real(tname);
    const auto& draft = real(dname);
    const uag::vocabulary_intersection tli(target, draft);
    std::size_t checked = 0;
    for (token_id d : tli.mapped_draft_ids()) {
      const token_id t = *tli.to_target(d);
      if (draft.is_special(d)) {
        EXPECT_EQ(draft.eos_id(), d);
        EXPECT_EQ(target.eos_id(), t);
        continue;
      }
      ASSERT_EQ(draft.token_bytes(d), target.token_bytes(t)) << dname << " id " << d << " -> " << tname << " id " << t;
      ++checked;
    }
    EXPECT_EQ(checked + (tli.to_target(draft.eos_id().value_or(-1)) ? 1 : 0), tli.size());
    std::printf("[bridge] TLI %-12s <- %-12s intersection %zu draft ids (%.1f%% of %zu) -> %zu target ids\n",
                tname.c_str(), dname.c_str(), tli.size(), 100.0 * double(tli.size()) / double(draft.vocab_size()),
                draft.vocab_size(), tli.distinct_targets());
  }
  // Llama 3 and Qwen 3 share most of a byte-level BPE vocabulary; every single byte maps both ways.
  const uag::vocabulary_intersection lq(real("qwen3"), real("llama3"));
  EXPECT_GT(lq.size(), 60000u);
  const auto& llama3 = real("llama3");
  std::size_t single_bytes = 0;
  for (std::size_t id = 0; id < llama3.vocab_size(); ++id)
    if (!llama3.is_special(static_cast<token_id>(id)) && llama3.token_bytes(static_cast<token_id>(id)).size() == 1)
      single_bytes += lq.to_target(static_cast<token_id>(id)) ? 1 : 0;
  EXPECT_EQ(single_bytes, 256u);
  // SentencePiece "▁the" and byte-level "Ġthe" are the same token.
  const uag::vocabulary_intersection sl(real("llama2"), llama3);
  const auto the_l3 = llama3.token_to_id("\xC4\xA0the");
  const auto the_l2 = real("llama2").token_to_id("\xE2\x96\x81the");
  ASSERT_TRUE(the_l3 && the_l2);
  EXPECT_EQ(sl.to_target(*the_l3), the_l2);
}
#endif

// ---- bridged_draft end to end with real tokenizers ----
#if UAG_TEST_HAVE_HF
namespace {
// A causal LM over any tokenizer whose logits are a hash of (seed, last 2 ids): emits arbitrary ids,
// including byte fragments and specials, which is what stresses a bridge.
template <class Tok>
class hashed_model {
 public:
  hashed_model(const Tok& tok, std::uint64_t seed, std::size_t pad = 0) : tok_(&tok), seed_(seed), vocab_(tok.vocab_size() + pad) {}
  std::size_t vocab_size() const { return vocab_; }
  std::size_t n_cached() const { return ids_.size(); }
  std::size_t max_context() const { return 4096; }
  const Tok& tokenizer() const { return *tok_; }
  uag::logits_view forward(token_span ids) {
    out_.resize(ids.size() * vocab_);
    for (std::size_t i = 0; i < ids.size(); ++i) {
      ids_.push_back(ids[i]);
      std::uint64_t h = mix(seed_);
      for (std::size_t j = ids_.size() - std::min<std::size_t>(2, ids_.size()); j < ids_.size(); ++j) h = mix(h ^ static_cast<std::uint64_t>(ids_[j]));
      float* row = out_.data() + i * vocab_;
      for (std::size_t v = 0; v < vocab_; ++v) row[v] = -4.0f;
      for (int k = 0; k < 64; ++k) {  // a few likely ids, so that greedy text is not all one token
        const std::uint64_t r = mix(h + static_cast<std::uint64_t>(k));
        row[r % tok_->vocab_size()] = 6.0f * static_cast<float>(static_cast<double>(r >> 40) * 0x1.0p-24);
      }
    }
    return {out_.data(), ids.size(), vocab_};
  }
  void truncate(std::size_t n) { ids_.resize(n); }

 private:
  const Tok* tok_;
  std::uint64_t seed_;
  std::size_t vocab_;
  token_vector ids_;
  std::vector<float> out_;
};
}  // namespace

TEST(bridge_test, real_tokenizers_greedy_bridged_output_equals_target_only_output) {
  using model = hashed_model<uag::hf_tokenizer>;
  static_assert(uag::draft_source<uag::bridged_draft<model, uag::hf_tokenizer>>);
  for (const auto& [tname, dname] : std::vector<std::pair<std::string, std::string>>{{"llama2", "qwen3"}, {"gemma3", "llama3"}}) {
    const auto& ttok = real(tname);
    const auto& dtok = real(dname);
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
      model target(ttok, seed);
      model draft_model(dtok, seed + 100, 64);  // padded draft vocabulary
      uag::generation_config cfg;
      cfg.max_new_tokens = 24;
      cfg.num_draft_tokens = 4;
      const token_vector prompt = ttok.encode("The quick brown fox", true);
      uag::baseline_generator<model> base(target, cfg);
      base.begin_ids(prompt);
      while (!base.done()) base.step();
      const token_vector want(base.output_ids().begin(), base.output_ids().end());
      for (auto mode : {uag::bridge_mode::text, uag::bridge_mode::tli}) {
        uag::bridged_draft<model, uag::hf_tokenizer> draft(draft_model, ttok, {.mode = mode});
        uag::AssistedGenerator<model, uag::bridged_draft<model, uag::hf_tokenizer>> gen(target, draft, cfg);
        gen.begin_ids(prompt);
        while (!gen.done()) gen.step();
        EXPECT_EQ(token_vector(gen.output_ids().begin(), gen.output_ids().end()), want)
            << tname << " <- " << dname << " seed " << seed << " mode " << int(mode);
        EXPECT_GT(gen.stats().drafted, 0u);
      }
    }
  }
}
#endif

#if UAG_TEST_HAVE_HF
// Qwen 3 normalises to NFC, Llama 3 does not: a decomposed "é" drafted by Llama 3 becomes Qwen's
// composed "é"; the committed target text is the normalised one and the draft follows it.
TEST(bridge_test, real_tokenizers_normalizer_rewrites_new_text_only) {
  const auto& qwen = real("qwen3");
  const auto& llama = real("llama3");
  TokenizerBridge<uag::hf_tokenizer, uag::hf_tokenizer> b(qwen, llama);
  token_vector committed = qwen.encode("I like caf", false);
  b.sync_draft(committed);
  token_vector cands;
  b.to_target(llama.encode("e\xCC\x81 au lait.", false), cands, true);
  ASSERT_FALSE(cands.empty());
  committed.insert(committed.end(), cands.begin(), cands.end());
  EXPECT_EQ(qwen.decode(committed, true), "I like caf\xC3\xA9 au lait.");
  const token_span ctx = b.sync_draft(committed);
  EXPECT_EQ(b.draft_text(), b.committed_text());
  EXPECT_EQ(llama.decode(ctx, true), "I like caf\xC3\xA9 au lait.");
}

// A draft that writes bytes which are not UTF-8 (byte-level tokens for 0xFF, a lone continuation byte)
// gets no candidates for them; the target's own token then replaces them in the draft context.
TEST(bridge_test, real_tokenizers_invalid_draft_bytes_give_no_candidates) {
  const auto& target = real("gemma3");
  const auto& draft = real("gpt4o");
  TokenizerBridge<uag::hf_tokenizer, uag::hf_tokenizer> b(target, draft);
  token_vector committed = target.encode("Hello", true);
  b.sync_draft(committed);
  token_vector garbage;
  for (std::size_t id = 0; id < draft.vocab_size() && garbage.size() < 2; ++id) {
    const auto bytes = draft.token_bytes(static_cast<token_id>(id));
    if (bytes == "\xFF" || bytes == "\x80") garbage.push_back(static_cast<token_id>(id));
  }
  ASSERT_EQ(garbage.size(), 2u);
  token_vector cands;
  EXPECT_EQ(b.to_target(garbage, cands, true), 0u);
  const token_vector world = target.encode(" world", false);
  committed.insert(committed.end(), world.begin(), world.end());
  const token_span ctx = b.sync_draft(committed);
  EXPECT_EQ(draft.decode(ctx, true), "Hello world");
  EXPECT_EQ(b.draft_text(), "Hello world");
}
#endif

#if UAG_TEST_HAVE_HF
// Random draft ids (byte fragments, invalid UTF-8, specials) and random target tokens of its own: the
// bridge never throws, candidates always spell a prefix of the drafted text, and after every resync the
// draft context spells the committed text exactly.
TEST(bridge_test, real_tokenizers_random_ids_keep_the_invariants) {
  for (const auto& [tname, dname] : std::vector<std::pair<std::string, std::string>>{
           {"llama2", "gpt4o"}, {"gemma3", "llama3"}, {"deepseek_v3", "llama2"}, {"gpt4o", "gemma3"}}) {
    const auto& target = real(tname);
    const auto& draft = real(dname);
    TokenizerBridge<uag::hf_tokenizer, uag::hf_tokenizer> b(target, draft);
    std::mt19937_64 rng(11);
    token_vector committed = target.encode("Start:", true);
    token_vector cands;
    std::size_t total = 0;
    for (int step = 0; step < 300; ++step) {
      b.sync_draft(committed);
      ASSERT_EQ(b.draft_text(), b.committed_text()) << tname << " <- " << dname << " step " << step;
      const std::string before = std::string(b.committed_text());
      token_vector run;
      for (std::size_t n = 1 + rng() % 6; run.size() < n;) {
        // mostly ordinary text tokens, sometimes any id at all
        const token_id id = rng() % 4 == 0 ? static_cast<token_id>(rng() % draft.vocab_size())
                                           : draft.encode(rng() % 2 ? " word" : "字", false).front();
        run.push_back(id);
      }
      cands.clear();
      ASSERT_NO_THROW(b.to_target(run, cands, rng() % 4 == 0));
      const std::string drafted = std::string(b.draft_text().substr(before.size()));
      committed.insert(committed.end(), cands.begin(), cands.end());
      total += cands.size();
      const std::string now = run_text(target, token_span(committed));
      const std::string proposed = now.substr(std::min(before.size(), now.size()));
      EXPECT_EQ(drafted.compare(0, proposed.size(), proposed), 0)
          << tname << " <- " << dname << " step " << step << ": candidates " << show(proposed) << " drafted " << show(drafted);
      // the target's own token: usually plain text, sometimes any id (specials, byte fragments)
      committed.push_back(rng() % 5 == 0 ? static_cast<token_id>(rng() % target.vocab_size())
                                         : target.encode(" ok", false).back());
    }
    EXPECT_GT(total, 100u) << tname << " <- " << dname;
  }
}
#endif
