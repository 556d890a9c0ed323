// Compiles the fuzz_bridge harness into test_fuzz (tests/test_fuzz.cpp replays tests/fuzz/regressions/bridge/).
#define LLVMFuzzerTestOneInput uag_fuzz_bridge_one
#define LLVMFuzzerInitialize uag_fuzz_bridge_init
#include "fuzz_bridge.cpp"
