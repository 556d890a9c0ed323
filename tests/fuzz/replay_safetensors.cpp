// Compiles the fuzz_safetensors harness into test_fuzz (tests/test_fuzz.cpp replays tests/fuzz/regressions/safetensors/).
#define LLVMFuzzerTestOneInput uag_fuzz_safetensors_one
#define LLVMFuzzerInitialize uag_fuzz_safetensors_init
#include "fuzz_safetensors.cpp"
