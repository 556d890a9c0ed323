// libFuzzer harness: arbitrary bytes as tokenizer.json. Loading must either succeed or throw a uag::error;
// a tokenizer that loads must encode, decode and stream without crashing.
// Run: build-fuzz/tests/fuzz/fuzz_tokenizer_load -max_total_time=60 tests/fuzz/corpus/tokenizer_load
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "uag/tokenizer/hf_tokenizer.hpp"
#include "uag/tokenizer/streaming_detokenizer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  try {
    const auto tok = uag::hf_tokenizer::from_json(json);
    const auto ids = tok.encode("Hello world 123 \xE2\x96\x81x <s> \xF0\x9F\x98\x80 e\xCC\x81", true);
    const std::string text = tok.decode(ids, false);
    (void)tok.decode(ids, true);
    uag::streaming_detokenizer<uag::hf_tokenizer> stream(tok);
    for (const auto id : ids) (void)stream.push(id);
    (void)stream.flush();
    for (std::size_t id = 0; id < tok.vocab_size() && id < 64; ++id) {
      (void)tok.token_bytes(static_cast<uag::token_id>(id));
      (void)tok.is_special(static_cast<uag::token_id>(id));
    }
    (void)text;
  } catch (const uag::error&) {
    // typed errors are the expected outcome for malformed input
  }
  return 0;
}
