// Compiles the fuzz_tokenizer_load harness into test_fuzz (tests/test_fuzz.cpp replays tests/fuzz/regressions/tokenizer_load/).
#define LLVMFuzzerTestOneInput uag_fuzz_tokenizer_load_one
#define LLVMFuzzerInitialize uag_fuzz_tokenizer_load_init
#include "fuzz_tokenizer_load.cpp"
