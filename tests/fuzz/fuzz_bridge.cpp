// libFuzzer harness for the TokenizerBridge on real tokenizer pairs: the input is a random stream of
// draft runs (ordinary text tokens, byte fragments, specials, any id), how many candidates the target
// accepts, and the target's own next token (ordinary or any id).
// Invariants (a violation aborts): the bridge never throws; committed text only grows (committed target
// ids are never rewritten); after every resync the draft context spells the committed text exactly;
// candidates spell a prefix of the drafted text; candidate and committed ids always decode.
// The six real tokenizers are loaded once from ${UAG_TOKENIZER_CACHE:-$HOME/.cache/uag/tokenizers}
// (tests/data/tokenizers/fetch_tokenizers.sh fetches them).
// Run: nice -n 19 build-fuzz/tests/fuzz/fuzz_bridge -max_total_time=600 tests/fuzz/corpus/bridge
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "uag/bridge/tokenizer_bridge.hpp"
#include "uag/core/utf8.hpp"
#include "uag/tokenizer/hf_tokenizer.hpp"

namespace {

using uag::hf_tokenizer;
using uag::token_id;
using uag::token_span;
using uag::token_vector;

struct loaded {
  std::string name;
  std::unique_ptr<hf_tokenizer> tok;
  token_vector pool;  // ordinary text tokens a model would write
};

std::vector<loaded>& tokenizers() {
  static std::vector<loaded> all = [] {
    const char* c = std::getenv("UAG_TOKENIZER_CACHE");
    const char* home = std::getenv("HOME");
    const std::filesystem::path dir =
        c && *c ? std::filesystem::path(c) : std::filesystem::path(home ? home : ".") / ".cache" / "uag" / "tokenizers";
    std::vector<loaded> v;
    for (const char* name : {"llama2", "llama3", "gemma3", "gpt4o", "qwen3", "deepseek_v3"}) {
      loaded l{name, std::make_unique<hf_tokenizer>(hf_tokenizer::from_file(dir / name / "tokenizer.json")), {}};
      for (const char* w : {" the", " word", "字", "\n", "é", "()", " 42", "ing", " ", "  ", "\xF0\x9F\x98\x80", "x",
                            " un", "believ", "able", "\t", "\xE2\x96\x81", "'s", ".", "def"})
        for (token_id id : l.tok->encode(w, false)) l.pool.push_back(id);
      v.push_back(std::move(l));
    }
    return v;
  }();
  return all;
}

struct reader {
  const std::uint8_t* p;
  std::size_t n;
  bool empty() const { return n == 0; }
  std::uint8_t byte() {
    if (n == 0) return 0;
    --n;
    return *p++;
  }
  std::uint32_t u16() { return static_cast<std::uint32_t>(byte()) | (static_cast<std::uint32_t>(byte()) << 8); }
  std::uint32_t u24() { return u16() | (static_cast<std::uint32_t>(byte()) << 16); }
};

token_id pick(reader& r, const loaded& l) {
  const std::uint8_t b = r.byte();
  if (b % 4 == 0) return static_cast<token_id>(r.u24() % l.tok->vocab_size());  // any id at all
  return l.pool[r.byte() % l.pool.size()];
}

const char* g_pair[2] = {"", ""};  // (target, draft) of the current input, for the report

[[noreturn]] void fail(const char* what, const std::string& a, const std::string& b) {
  std::fprintf(stderr, "fuzz_bridge invariant broken (%s <- %s): %s\n  a=%s\n  b=%s\n", g_pair[0], g_pair[1], what,
               a.c_str(), b.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)tokenizers();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  auto& all = tokenizers();
  reader r{data, size};
  const std::uint8_t sel = r.byte();
  const loaded& t = all[sel % all.size()];
  const loaded& d = all[(sel / all.size()) % all.size()];
  g_pair[0] = t.name.c_str();
  g_pair[1] = d.name.c_str();
  const std::uint8_t knobs = r.byte();
  uag::bridge_config cfg;
  cfg.target_lookbehind = 1 + knobs % 8;
  cfg.draft_lookbehind = 1 + (knobs / 8) % 8;
  cfg.hold_back = static_cast<uag::hold_back_policy>((knobs / 64) % 3);
  uag::TokenizerBridge<hf_tokenizer, hf_tokenizer> b(*t.tok, *d.tok, cfg);

  token_vector committed = t.tok->encode("Q:", true);
  const uag::detail::tokenizer_facts<hf_tokenizer> facts(*t.tok);
  uag::detail::token_run<hf_tokenizer> check;  // the bridge's spelling of committed
  for (token_id id : committed) check.push(facts, id);
  token_vector cands, run;
  std::string prev_committed;
  for (int step = 0; step < 64 && !r.empty(); ++step) {
    try {
      b.sync_draft(committed);
    } catch (const std::exception& e) {
      fail("sync_draft threw", e.what(), "");
    }
    const std::string now_committed(b.committed_text());
    if (!b.same_tokenizer()) {
      if (b.draft_text() != b.committed_text()) fail("draft context != committed text", std::string(b.draft_text()), now_committed);
      if (now_committed.compare(0, prev_committed.size(), prev_committed) != 0)
        fail("committed text rewritten", prev_committed, now_committed);
    }
    prev_committed = now_committed;

    const std::uint8_t op = r.byte();
    run.clear();
    for (std::size_t n = 1 + op % 6; run.size() < n;) run.push_back(pick(r, d));
    cands.clear();
    try {
      b.to_target(run, cands, (op & 0x40) != 0);
    } catch (const std::exception& e) {
      fail("to_target threw", e.what(), "");
    }
    for (token_id id : cands)
      if (id < 0 || static_cast<std::size_t>(id) >= t.tok->vocab_size()) fail("candidate out of range", std::to_string(id), "");
    if (!b.same_tokenizer()) {
      // Candidates spell a prefix of the drafted text (in the bridge's own spelling of the target run).
      auto with = check;
      for (token_id id : cands) with.push(facts, id);
      const std::string proposed = with.text.substr(std::min(now_committed.size(), with.text.size()));
      const std::string drafted(b.draft_text().substr(std::min(now_committed.size(), b.draft_text().size())));
      if (drafted.compare(0, proposed.size(), proposed) != 0) {
        // Allowed only where the target's normaliser rewrites the drafted text itself (a literal "▁" is a
        // space to SentencePiece tokenizers, NFC composes characters): the bridge proposes the target's
        // own spelling of new text. Where the target spells the drafted text exactly, so must the candidates.
        const std::string valid = drafted.substr(0, uag::utf8::valid_prefix_length(drafted));
        uag::detail::token_run<hf_tokenizer> re;
        for (token_id id : t.tok->encode(valid, false)) re.push(facts, id);
        if (re.text == valid) fail("candidates do not spell the drafted text", proposed, drafted);
      }
    }
    try {
      const std::string text = t.tok->decode(cands, false);
      if (!uag::utf8::is_valid(text)) fail("candidate text is not valid UTF-8", text, "");
    } catch (const std::exception& e) {
      fail("candidate decode threw", e.what(), "");
    }
    // The target accepts a prefix of the candidates, then commits one token of its own.
    const std::size_t k = cands.empty() ? 0 : r.byte() % (cands.size() + 1);
    for (std::size_t i = 0; i < k; ++i) committed.push_back(cands[i]), check.push(facts, cands[i]);
    committed.push_back(pick(r, t));
    check.push(facts, committed.back());
  }
  try {
    const std::string text = t.tok->decode(committed, false);
    if (!uag::utf8::is_valid(text)) fail("committed text is not valid UTF-8", text, "");
  } catch (const std::exception& e) {
    fail("committed decode threw", e.what(), "");
  }
  return 0;
}
