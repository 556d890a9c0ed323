# Component tests (one line per component): uag_add_test(<component>)
uag_add_test(generator)
uag_add_test(sampling)
uag_add_test(draft)
uag_add_test(model)
if(TARGET uag_cli)  # the command-line test drives the built uag binary
  uag_add_test(cli)
  add_dependencies(test_cli uag_cli)
  # ratio_stats.hpp (uag bench's interval) has no dependencies: tested directly as well as through the CLI.
  target_include_directories(test_cli PRIVATE ${PROJECT_SOURCE_DIR}/examples/uag)
endif()
# Tokenizer parity needs the six real tokenizers: the fetch_tokenizers test (cached, sha256-checked)
# runs first as a ctest fixture, so `ctest` alone fetches them.
add_test(NAME fetch_tokenizers COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/data/tokenizers/fetch_tokenizers.sh)
set_tests_properties(fetch_tokenizers PROPERTIES FIXTURES_SETUP tokenizers LABELS tokenizer)
set(UAG_TEST_PROPERTIES_tokenizer FIXTURES_REQUIRED tokenizers)
uag_add_test(tokenizer)
# The bridge tests use the six real tokenizers too.
set(UAG_TEST_PROPERTIES_bridge FIXTURES_REQUIRED tokenizers)
uag_add_test(bridge)
# Load: 10,000 random generations on test models, heap in use must not grow.
uag_add_test(load)
# Fuzz regressions: crash inputs of the libFuzzer harnesses (tests/fuzz/) replayed through the harness code.
set(UAG_TEST_PROPERTIES_fuzz FIXTURES_REQUIRED tokenizers)
uag_add_test(fuzz fuzz/replay_bridge.cpp fuzz/replay_generator.cpp fuzz/replay_safetensors.cpp
             fuzz/replay_tokenizer_load.cpp fuzz/replay_tokenizer_encode.cpp)
# llama.cpp adapter (UAG_WITH_LLAMA_CPP): GGUF fixtures are written into the build folder first.
if(UAG_WITH_LLAMA_CPP)
  set(UAG_GGUF_DIR ${CMAKE_CURRENT_BINARY_DIR}/gguf)
  add_test(NAME make_gguf_fixtures
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/data/gguf/make_fixtures.sh ${UAG_GGUF_DIR} ${UAG_GGUF_PY}
                   ${CMAKE_CURRENT_SOURCE_DIR}/data/models ${UAG_BUNDLED_MODELS_DIR} ${UAG_LLAMA_QUANTIZE})
  set_tests_properties(make_gguf_fixtures PROPERTIES FIXTURES_SETUP gguf LABELS llama_cpp)
  set(UAG_TEST_PROPERTIES_llama_cpp FIXTURES_REQUIRED gguf TIMEOUT 900)
  uag_add_test(llama_cpp)
  target_link_libraries(test_llama_cpp PRIVATE uag::llama_cpp)
  target_compile_definitions(test_llama_cpp PRIVATE UAG_GGUF_DIR="${UAG_GGUF_DIR}")
  # The target split over rpc-server processes on 127.0.0.1 (label llama_cpp_rpc, matched by -L llama_cpp).
  set(UAG_TEST_PROPERTIES_llama_cpp_rpc FIXTURES_REQUIRED gguf TIMEOUT 300)
  uag_add_test(llama_cpp_rpc)
  target_link_libraries(test_llama_cpp_rpc PRIVATE uag::llama_cpp)
  target_compile_definitions(test_llama_cpp_rpc PRIVATE UAG_GGUF_DIR="${UAG_GGUF_DIR}" UAG_RPC_SERVER="${UAG_RPC_SERVER}")
  if(TARGET uag_cli)  # the command-line cases run the built uag
    add_dependencies(test_llama_cpp_rpc uag_cli)
  endif()
endif()
if(TARGET uag_cli AND UAG_BUILD_BENCHMARKS)  # the command-line test replays a bench trace (benchmarks/)
  add_dependencies(test_cli replay_controller simulate_controller)
endif()
