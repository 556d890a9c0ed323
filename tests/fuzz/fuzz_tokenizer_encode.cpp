// libFuzzer harness: arbitrary bytes as text for two small tokenizers (see tokenizer_encode_property.hpp).
// Invariants: invalid UTF-8 is an input_error; otherwise decode is valid UTF-8, plain ASCII round-trips
// through the byte-level tokenizer, and the streaming detokenizer's output equals decode.
// Run: build-fuzz/tests/fuzz/fuzz_tokenizer_encode -max_total_time=60 tests/fuzz/corpus/tokenizer_encode
#include <cstdlib>

#include "tokenizer_encode_property.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (!uag_fuzz::tokenizer_encode_property(data, size)) std::abort();
  return 0;
}
