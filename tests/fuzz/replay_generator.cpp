// Compiles the fuzz_generator harness into test_fuzz (tests/test_fuzz.cpp replays tests/fuzz/regressions/generator/).
#define LLVMFuzzerTestOneInput uag_fuzz_generator_one
#define LLVMFuzzerInitialize uag_fuzz_generator_init
#include "fuzz_generator.cpp"
