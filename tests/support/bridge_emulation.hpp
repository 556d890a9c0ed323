#pragma once
// Test/benchmark support for the bridge: a draft emulated from a known text (what a perfect draft model
// would write), and the running text of a token sequence as the bridge spells it.
#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "uag/bridge/tokenizer_bridge.hpp"

namespace uag_test {
using uag::token_id;
using uag::token_span;
using uag::token_vector;

// The draft as a test emulates it: a continuation of `done` bytes of `text` in draft ids — canonical
// draft tokens from the first canonical boundary at or after `done`, and byte-exact greedy tokens for a
// piece that starts inside a canonical token.
template <class DraftTok>
struct emulated_draft {
  const DraftTok& tok;
  uag::detail::tokenizer_facts<DraftTok> facts{tok};
  std::string text;
  token_vector canon;
  std::vector<std::size_t> ends;  // byte end of canon[i] in text (token_bytes, marker space removed)

  emulated_draft(const DraftTok& t, std::string txt) : tok(t), text(std::move(txt)) {
    canon = tok.encode(text, false);
    std::size_t pos = 0;
    for (std::size_t i = 0; i < canon.size(); ++i) {
      std::string_view b = tok.token_bytes(canon[i]);
      if (i == 0 && facts.prefix_space() && !b.empty() && b.front() == ' ') b.remove_prefix(1);
      pos += b.size();
      ends.push_back(pos);
    }
  }
  bool canonical_spells_text() const { return !ends.empty() && ends.back() == text.size(); }

  // Up to n draft ids continuing text[done:].
  token_vector continuation(std::size_t done, std::size_t n) const {
    token_vector out;
    std::size_t i = done == 0 ? 0 : static_cast<std::size_t>(std::upper_bound(ends.begin(), ends.end(), done) - ends.begin());
    if (i < canon.size()) {
      const std::size_t start = i == 0 ? 0 : ends[i - 1];
      if (start < done) {  // done falls inside canon[i]
        if (!facts.encode_greedy(std::string_view(text).substr(done, ends[i] - done), out)) return {};
        ++i;
      }
    }
    for (; i < canon.size() && out.size() < n; ++i) out.push_back(canon[i]);
    if (out.size() > n) out.resize(n);
    return out;
  }
};

template <class Tok>
std::string run_text(const Tok& tok, token_span ids) {  // text as the bridge spells it (marker removed)
  uag::detail::tokenizer_facts<Tok> f(tok);
  uag::detail::token_run<Tok> run;
  for (token_id id : ids) run.push(f, id);
  return run.text;
}


}  // namespace uag_test
