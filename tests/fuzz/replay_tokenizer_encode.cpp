// Compiles the fuzz_tokenizer_encode harness into test_fuzz (tests/test_fuzz.cpp replays tests/fuzz/regressions/tokenizer_encode/).
#define LLVMFuzzerTestOneInput uag_fuzz_tokenizer_encode_one
#define LLVMFuzzerInitialize uag_fuzz_tokenizer_encode_init
#include "fuzz_tokenizer_encode.cpp"
