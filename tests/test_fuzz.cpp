// Fuzz regressions: every input under tests/fuzz/regressions/<harness>/ that once crashed a libFuzzer
// harness (tests/fuzz/fuzz_<harness>.cpp) is replayed through the same harness code. A harness aborts on
// a broken invariant and lets nothing but uag::error escape, so a regression fails (or crashes) this test.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int uag_fuzz_bridge_one(const std::uint8_t*, std::size_t);
extern "C" int uag_fuzz_generator_one(const std::uint8_t*, std::size_t);
extern "C" int uag_fuzz_safetensors_one(const std::uint8_t*, std::size_t);
extern "C" int uag_fuzz_tokenizer_load_one(const std::uint8_t*, std::size_t);
extern "C" int uag_fuzz_tokenizer_encode_one(const std::uint8_t*, std::size_t);

namespace {
namespace fs = std::filesystem;

// Replays every file of tests/fuzz/regressions/<name>/ and the seed corpus tests/fuzz/corpus/<name>/.
std::size_t replay(const std::string& name, int (*one)(const std::uint8_t*, std::size_t)) {
  std::size_t n = 0;
  for (const char* where : {"regressions", "corpus"}) {
    const fs::path dir = fs::path(UAG_SOURCE_DIR) / "tests" / "fuzz" / where / name;
    if (!fs::is_directory(dir)) continue;
    for (const auto& e : fs::directory_iterator(dir)) {
      if (!e.is_regular_file()) continue;
      std::ifstream in(e.path(), std::ios::binary);
      const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      SCOPED_TRACE(e.path().string());
      EXPECT_EQ(one(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()), 0);
      ++n;
    }
  }
  return n;
}
}  // namespace

TEST(fuzz_test, generator_regressions) { EXPECT_GE(replay("generator", uag_fuzz_generator_one), 2u); }
TEST(fuzz_test, bridge_regressions) { EXPECT_GE(replay("bridge", uag_fuzz_bridge_one), 1u); }
TEST(fuzz_test, safetensors_regressions) { EXPECT_GE(replay("safetensors", uag_fuzz_safetensors_one), 1u); }
TEST(fuzz_test, tokenizer_load_regressions) { EXPECT_GE(replay("tokenizer_load", uag_fuzz_tokenizer_load_one), 1u); }
TEST(fuzz_test, tokenizer_encode_regressions) {
  EXPECT_GE(replay("tokenizer_encode", uag_fuzz_tokenizer_encode_one), 1u);
}
