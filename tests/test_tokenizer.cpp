// Tests of uag::hf_tokenizer (tokenizer.json) and uag::streaming_detokenizer.
//
// Parity: the six real tokenizers (fetched by tests/data/tokenizers/fetch_tokenizers.sh into the cache) on
// every line of tests/data/tokenizers/corpus.jsonl against expected_<name>.jsonl, which HF tokenizers 0.23
// produced (gen_expected.py beside them). Component snippets: small tokenizer.json files under
// tests/data/tokenizers/snippets/ with expectations from the HF reference (make_snippets script there).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fuzz/tokenizer_encode_property.hpp"
#include "uag/tokenizer/hf_tokenizer.hpp"
#include "uag/tokenizer/streaming_detokenizer.hpp"

namespace {

namespace fs = std::filesystem;

const std::vector<std::string> k_names = {"llama2", "llama3", "qwen3", "gemma3", "gpt4o", "deepseek_v3"};

fs::path cache_dir() {
  if (const char* env = std::getenv("UAG_TOKENIZER_CACHE"); env && *env) return env;
  const char* home = std::getenv("HOME");
  return fs::path(home ? home : ".") / ".cache" / "uag" / "tokenizers";
}

fs::path data_dir() { return fs::path(UAG_TEST_DATA_DIR) / "tokenizers"; }

std::string read_text(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<std::string> read_lines(const fs::path& p) {
  std::vector<std::string> lines;
  std::istringstream in(read_text(p));
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) lines.push_back(line);
  return lines;
}

/// Loads a cached real tokenizer, or fails the test saying how to fetch it.
const uag::hf_tokenizer* real_tokenizer(const std::string& name) {
  static std::map<std::string, uag::hf_tokenizer> loaded;
  if (auto it = loaded.find(name); it != loaded.end()) return &it->second;
  const fs::path dir = cache_dir() / name;
  if (!fs::exists(dir / "tokenizer.json")) {
    ADD_FAILURE() << "tokenizer '" << name << "' is not in " << dir
                  << ": run tests/data/tokenizers/fetch_tokenizers.sh (ctest runs it as the fetch_tokenizers fixture)";
    return nullptr;
  }
  return &loaded.emplace(name, uag::hf_tokenizer::from_file(dir)).first->second;
}

std::vector<std::string> corpus() {
  static const std::vector<std::string> texts = [] {
    std::vector<std::string> t;
    for (const auto& line : read_lines(data_dir() / "corpus.jsonl")) t.push_back(nlohmann::json::parse(line).at("text"));
    return t;
  }();
  return texts;
}

std::string show(const uag::token_vector& ids) { return nlohmann::json(ids).dump(); }

// ---------------------------------------------------------------------------------------------------------
// Parity with HF tokenizers on the corpus.

// One test per tokenizer (ctest runs each test in its own process, so each loads its tokenizer once):
// parity, then the properties below.
void corpus_matches_hf_tokenizers(const std::string& name);
void streaming_detokenizer_concatenation_equals_decode(const std::string& name);
void token_bytes_concatenate_to_the_text(const std::string& name);
void token_strings_and_ids_round_trip(const std::string& name);

class real : public ::testing::TestWithParam<std::string> {};

TEST_P(real, parity_with_hf_tokenizers_and_properties) {
  {
    SCOPED_TRACE("parity");
    corpus_matches_hf_tokenizers(GetParam());
  }
  {
    SCOPED_TRACE("streaming");
    streaming_detokenizer_concatenation_equals_decode(GetParam());
  }
  {
    SCOPED_TRACE("token_bytes");
    token_bytes_concatenate_to_the_text(GetParam());
  }
  {
    SCOPED_TRACE("token strings");
    token_strings_and_ids_round_trip(GetParam());
  }
}

INSTANTIATE_TEST_SUITE_P(tokenizer_test, real, ::testing::ValuesIn(k_names), [](const auto& info) { return info.param; });

void corpus_matches_hf_tokenizers(const std::string& name) {
  const auto* tok = real_tokenizer(name);
  ASSERT_NE(tok, nullptr);
  const auto texts = corpus();
  ASSERT_GE(texts.size(), 2000u);
  const auto expected = read_lines(fs::path(UAG_TOKENIZER_EXPECTED_DIR) / ("expected_" + name + ".jsonl"));
  ASSERT_EQ(expected.size(), texts.size()) << "expected_" << name << ".jsonl does not match corpus.jsonl";
  std::size_t mismatches[4] = {0, 0, 0, 0};
  int shown = 0;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const auto e = nlohmann::json::parse(expected[i]);
    const auto ids = tok->encode(texts[i], false);
    const auto ids_special = tok->encode(texts[i], true);
    const std::string decoded = tok->decode(ids_special, false);
    const std::string decoded_skip = tok->decode(ids_special, true);
    const bool ok[4] = {ids == e.at("ids").get<uag::token_vector>(),
                        ids_special == e.at("ids_special").get<uag::token_vector>(),
                        decoded == e.at("decoded").get<std::string>(), decoded_skip == e.at("decoded_skip").get<std::string>()};
    for (int k = 0; k < 4; ++k) {
      if (ok[k]) continue;
      ++mismatches[k];
      if (shown++ < 5) {
        static const char* what[4] = {"ids", "ids_special", "decoded", "decoded_skip"};
        ADD_FAILURE() << name << " line " << i + 1 << " " << what[k] << " differs\n  text: " << nlohmann::json(texts[i]).dump()
                      << "\n  uag:  " << (k == 0 ? show(ids) : k == 1 ? show(ids_special) : nlohmann::json(k == 2 ? decoded : decoded_skip).dump())
                      << "\n  hf:   " << e.at(what[k]).dump();
      }
    }
  }
  std::printf("[ parity   ] %s: %zu lines, mismatches ids=%zu ids_special=%zu decoded=%zu decoded_skip=%zu\n", name.c_str(),
              texts.size(), mismatches[0], mismatches[1], mismatches[2], mismatches[3]);
  EXPECT_EQ(mismatches[0] + mismatches[1] + mismatches[2] + mismatches[3], 0u);
}

// ---------------------------------------------------------------------------------------------------------
// Properties on the real tokenizers.

void streaming_detokenizer_concatenation_equals_decode(const std::string& name) {
  const auto* tok = real_tokenizer(name);
  ASSERT_NE(tok, nullptr);
  std::mt19937 rng(1234);
  const auto texts = corpus();
  for (int round = 0; round < 60; ++round) {
    uag::token_vector ids;
    if (round % 2 == 0) {  // random ids over the whole vocabulary (odd bytes, specials, gaps)
      std::uniform_int_distribution<int> pick(0, static_cast<int>(tok->vocab_size()) - 1);
      const int n = 1 + static_cast<int>(rng() % 40);
      for (int k = 0; k < n; ++k) {
        const uag::token_id id = pick(rng);
        // byte-fallback runs must spell valid UTF-8 (see streaming_detokenizer.hpp); random bytes need not
        if (tok->token_string(id).size() == 6 && tok->token_string(id).substr(0, 3) == "<0x") continue;
        ids.push_back(id);
      }
    } else {  // real text, with special tokens
      ids = tok->encode(texts[rng() % texts.size()], true);
    }
    for (const bool skip : {false, true}) {
      uag::streaming_detokenizer<uag::hf_tokenizer> stream(*tok, skip);
      std::string out;
      for (const auto id : ids) {
        const std::string_view piece = stream.push(id);
        EXPECT_TRUE(uag::utf8::is_valid(piece));
        out += piece;
      }
      out += stream.flush();
      ASSERT_EQ(out, tok->decode(ids, skip)) << name << " ids " << show(ids) << " skip " << skip;
    }
  }
}

void token_bytes_concatenate_to_the_text(const std::string& name) {
  const auto* tok = real_tokenizer(name);
  ASSERT_NE(tok, nullptr);
  const auto texts = corpus();
  int checked = 0;
  for (std::size_t i = 0; i < texts.size(); i += 7) {
    const auto ids = tok->encode(texts[i], false);
    std::string bytes;
    bool has_added = false;
    for (const auto id : ids) {
      bytes += tok->token_bytes(id);
      has_added = has_added || tok->is_special(id);
    }
    if (has_added) continue;
    // Byte-level tokenizers without a normalizer reproduce the text exactly; the others after their decode.
    if (name == "llama3" || name == "gpt4o" || name == "deepseek_v3") {
      EXPECT_EQ(bytes, texts[i]) << name << " line " << i + 1;
    } else if (name == "llama2") {
      EXPECT_EQ(bytes.substr(bytes.empty() ? 0 : 1), tok->decode(ids, false)) << "line " << i + 1;  // Strip drops 1 space
    } else {
      EXPECT_EQ(bytes, tok->decode(ids, false)) << name << " line " << i + 1;
    }
    ++checked;
  }
  EXPECT_GT(checked, 100);
}

void token_strings_and_ids_round_trip(const std::string& name) {
  const auto* tok = real_tokenizer(name);
  ASSERT_NE(tok, nullptr);
  int n = 0;
  for (uag::token_id id = 0; id < static_cast<uag::token_id>(tok->vocab_size()); id += 97) {
    const auto s = tok->token_string(id);
    if (s.empty()) continue;
    const auto back = tok->token_to_id(s);
    ASSERT_TRUE(back.has_value()) << id;
    EXPECT_EQ(*back, id) << "token '" << s << "'";
    ++n;
  }
  EXPECT_GT(n, 100);
  EXPECT_FALSE(tok->token_to_id("this is surely not a token \x01\x02").has_value());
}

TEST(tokenizer_test, special_ids_and_fingerprints_of_real_tokenizers) {
  const auto* llama2 = real_tokenizer("llama2");
  const auto* qwen3 = real_tokenizer("qwen3");
  ASSERT_NE(llama2, nullptr);
  ASSERT_NE(qwen3, nullptr);
  // Loading the same files again gives the same fingerprint; another tokenizer another one.
  EXPECT_EQ(uag::hf_tokenizer::from_file(cache_dir() / "llama2").fingerprint(), llama2->fingerprint());
  EXPECT_NE(llama2->fingerprint(), qwen3->fingerprint());
  // Values as written in their tokenizer.json / tokenizer_config.json.
  EXPECT_EQ(llama2->bos_id(), llama2->token_to_id("<s>"));
  EXPECT_EQ(llama2->eos_id(), llama2->token_to_id("</s>"));
  EXPECT_TRUE(llama2->is_special(*llama2->bos_id()));
  EXPECT_EQ(llama2->token_bytes(*llama2->bos_id()), "");
  EXPECT_EQ(qwen3->eos_id(), qwen3->token_to_id("<|im_end|>"));
  EXPECT_FALSE(qwen3->bos_id().has_value());
  // A non-special added token keeps its text.
  const auto tool = qwen3->token_to_id("<tool_call>");
  ASSERT_TRUE(tool.has_value());
  EXPECT_FALSE(qwen3->is_special(*tool));
  EXPECT_EQ(qwen3->token_bytes(*tool), "<tool_call>");
  // SentencePiece byte tokens and the space marker.
  const auto nl = llama2->token_to_id("<0x0A>");
  ASSERT_TRUE(nl.has_value());
  EXPECT_EQ(llama2->token_bytes(*nl), "\n");
  EXPECT_EQ(llama2->token_string(*nl), "<0x0A>");
  const auto hello = llama2->token_to_id("\xE2\x96\x81the");
  ASSERT_TRUE(hello.has_value());
  EXPECT_EQ(llama2->token_bytes(*hello), " the");
}

// ---------------------------------------------------------------------------------------------------------
// Errors: every bad input is a typed error with a stable id.

template <class E>
void expect_error(const std::function<void()>& f, const std::string& id_and_text) {
  try {
    f();
    ADD_FAILURE() << "no exception; wanted " << id_and_text;
  } catch (const E& e) {
    EXPECT_NE(std::string(e.what()).find(id_and_text), std::string::npos) << "message: " << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type: " << e.what();
  }
}

/// A tiny valid byte-level BPE tokenizer.json: vocab a, b, ab, Ġ, and "<|end|>" as a special token.
std::string tiny_json(const std::string& model_extra = "", const std::string& merges = "[\"a b\"]",
                      const std::string& pre = R"({"type":"ByteLevel","add_prefix_space":false,"use_regex":true})") {
  return R"({"version":"1.0","added_tokens":[{"id":4,"content":"<|end|>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true}],
  "normalizer":null,"pre_tokenizer":)" + pre + R"(,"post_processor":null,"decoder":{"type":"ByteLevel"},
  "model":{"type":"BPE",)" + model_extra + R"("vocab":{"a":0,"b":1,"ab":2,"Ġ":3},"merges":)" + merges + "}}";
}

TEST(tokenizer_test, tiny_tokenizer_loads_and_works) {
  const auto tok = uag::hf_tokenizer::from_json(tiny_json());
  EXPECT_EQ(tok.vocab_size(), 5u);
  EXPECT_EQ(tok.encode("ab", false), (uag::token_vector{2}));
  EXPECT_EQ(tok.encode("ab<|end|>a", false), (uag::token_vector{2, 4, 0}));
  EXPECT_EQ(tok.decode(uag::token_vector{2, 4, 0}, false), "ab<|end|>a");
  EXPECT_EQ(tok.decode(uag::token_vector{2, 4, 0}, true), "aba");
  EXPECT_TRUE(tok.is_special(4));
  EXPECT_FALSE(tok.is_special(2));
  EXPECT_EQ(tok.token_bytes(3), " ");
  // Equal content (other key order and spacing) gives an equal fingerprint; other merges do not.
  std::string spaced = tiny_json();
  spaced.insert(1, "  ");
  EXPECT_EQ(uag::hf_tokenizer::from_json(spaced).fingerprint(), tok.fingerprint());
  EXPECT_NE(uag::hf_tokenizer::from_json(tiny_json("", "[]")).fingerprint(), tok.fingerprint());
}

TEST(tokenizer_test, malformed_json_is_a_tokenizer_error) {
  expect_error<uag::tokenizer_error>([] { uag::hf_tokenizer::from_json("{\"model\": "); }, "[uag.tokenizer.json]");
  expect_error<uag::tokenizer_error>([] { uag::hf_tokenizer::from_json("{\"a\":1,}"); }, "[uag.tokenizer.json]");
  expect_error<uag::tokenizer_error>([] { uag::hf_tokenizer::from_json(""); }, "[uag.tokenizer.json]");
  expect_error<uag::tokenizer_error>([] { uag::hf_tokenizer::from_json("{\"a\":\"\\ud800\"}"); }, "lone surrogate");
  expect_error<uag::tokenizer_error>([] { uag::hf_tokenizer::from_json(std::string(100000, '[')); }, "nesting");
  expect_error<uag::tokenizer_error>([] { uag::hf_tokenizer::from_json("{\"a\":\"\xff\"}"); }, "not valid UTF-8");
}

TEST(tokenizer_test, wrong_types_are_tokenizer_errors) {
  expect_error<uag::tokenizer_error>([] { uag::hf_tokenizer::from_json("[1,2]"); }, "[uag.tokenizer.type] 'tokenizer.json' must be an object, got an array");
  expect_error<uag::tokenizer_error>([] { uag::hf_tokenizer::from_json("{}"); }, "[uag.tokenizer.missing] 'model' is missing");
  expect_error<uag::tokenizer_error>([] { uag::hf_tokenizer::from_json(R"({"model":{"type":"BPE","vocab":[],"merges":[]}})"); },
                                     "[uag.tokenizer.type] 'model.vocab' must be an object, got an array");
  expect_error<uag::tokenizer_error>([] { uag::hf_tokenizer::from_json(R"({"model":{"type":"BPE","vocab":{"a":"0"},"merges":[]}})"); },
                                     "must be an integer");
  expect_error<uag::tokenizer_error>([] { uag::hf_tokenizer::from_json(R"({"model":{"type":"BPE","vocab":{"a":-1},"merges":[]}})"); },
                                     "[uag.tokenizer.range]");
  expect_error<uag::tokenizer_error>([] { uag::hf_tokenizer::from_json(tiny_json("\"byte_fallback\":1,")); },
                                     "'model.byte_fallback' must be a boolean, got a number");
  expect_error<uag::tokenizer_error>([] { uag::hf_tokenizer::from_json(tiny_json("", "[\"a b\"]", R"({"type":"Split","pattern":{"Regex":5},"behavior":"Isolated"})")); },
                                     "'pre_tokenizer.pattern.Regex' must be a string");
  expect_error<uag::tokenizer_error>([] { uag::hf_tokenizer::from_json(tiny_json("", "[\"a b\"]", R"({"type":"Split","pattern":{"Regex":"("},"behavior":"Isolated"})")); },
                                     "[uag.tokenizer.regex]");
}

TEST(tokenizer_test, unknown_and_unsupported_components) {
  expect_error<uag::tokenizer_error>([] { uag::hf_tokenizer::from_json(tiny_json("", "[\"a b\"]", R"({"type":"Frobnicate"})")); },
                                     "[uag.tokenizer.unknown_type] 'pre_tokenizer.type' is 'Frobnicate'");
  expect_error<uag::unsupported_error>([] { uag::hf_tokenizer::from_json(R"({"model":{"type":"Unigram","vocab":[]}})"); },
                                       "[uag.tokenizer.unsupported] 'model': the Unigram model");
  expect_error<uag::unsupported_error>([] { uag::hf_tokenizer::from_json(R"({"model":{"type":"WordPiece","vocab":{}}})"); },
                                       "the WordPiece model");
  expect_error<uag::unsupported_error>([] { uag::hf_tokenizer::from_json(tiny_json("\"dropout\":0.1,")); }, "BPE dropout");
  EXPECT_NO_THROW(uag::hf_tokenizer::from_json(tiny_json("\"dropout\":null,")));
}

TEST(tokenizer_test, merges_and_vocab_errors) {
  expect_error<uag::tokenizer_error>([] { uag::hf_tokenizer::from_json(tiny_json("", "[\"a c\"]")); },
                                     "[uag.tokenizer.merge] merge 'a c' names unknown token 'c'");
  expect_error<uag::tokenizer_error>([] { uag::hf_tokenizer::from_json(tiny_json("", "[\"b a\"]")); },
                                     "[uag.tokenizer.merge] merge 'b a' makes 'ba', which is not in the vocab");
  expect_error<uag::tokenizer_error>([] { uag::hf_tokenizer::from_json(tiny_json("", "[\"ab\"]")); }, "[uag.tokenizer.merge]");
  expect_error<uag::tokenizer_error>([] { uag::hf_tokenizer::from_json(R"({"model":{"type":"BPE","vocab":{"a":0,"b":0},"merges":[]}})"); },
                                     "[uag.tokenizer.vocab] id 0 is used by both 'a' and 'b'");
  // The [a, b] merge form is accepted too.
  EXPECT_EQ(uag::hf_tokenizer::from_json(tiny_json("", "[[\"a\",\"b\"]]")).encode("ab", false), (uag::token_vector{2}));
}

TEST(tokenizer_test, invalid_input_is_an_input_error) {
  const auto tok = uag::hf_tokenizer::from_json(tiny_json());
  expect_error<uag::input_error>([&] { tok.encode("ab\xC3", false); }, "[uag.tokenizer.utf8] input is not valid UTF-8 at byte 2");
  expect_error<uag::input_error>([&] { tok.encode("\xED\xA0\x80", true); }, "[uag.tokenizer.utf8]");
  expect_error<uag::input_error>([&] { tok.decode(uag::token_vector{0, 5}, false); }, "[uag.tokenizer.id] token id 5 is out of range");
  expect_error<uag::input_error>([&] { tok.decode(uag::token_vector{-1}, false); }, "[uag.tokenizer.id]");
  EXPECT_EQ(tok.token_bytes(99), "");
  EXPECT_EQ(tok.token_string(-3), "");
  EXPECT_FALSE(tok.is_special(1000));
}

TEST(tokenizer_test, encode_into_equals_encode_and_reuses_the_buffer) {
  const auto tok = uag::hf_tokenizer::from_file(fs::path(UAG_BUNDLED_MODELS_DIR) / "target/tokenizer.json");
  uag::token_vector out;
  for (const char* text : {"Hello world", "  leading spaces, \xC3\xA9mojis \xF0\x9F\x98\x80", "", "a\nb\n\n"})
    for (const bool special : {false, true}) {
      tok.encode_into(text, special, out);
      EXPECT_EQ(out, tok.encode(text, special)) << text << " " << special;
    }
  tok.encode_into("a longer sentence warms the buffer up first", false, out);
  const auto* storage = out.data();
  tok.encode_into("then a short one", false, out);
  EXPECT_EQ(out.data(), storage);  // no reallocation
  EXPECT_EQ(out, tok.encode("then a short one", false));
  expect_error<uag::input_error>([&] { tok.encode_into("ab\xC3", false, out); }, "[uag.tokenizer.utf8]");
  EXPECT_TRUE(out.empty());
}

TEST(tokenizer_test, missing_file_is_an_io_error) {
  expect_error<uag::io_error>([] { uag::hf_tokenizer::from_file("/nonexistent/dir/tokenizer.json"); }, "[uag.tokenizer.open]");
}

// ---------------------------------------------------------------------------------------------------------
// Component snippets: tests/data/tokenizers/snippets/<name>.json with expectations made by the reference.

TEST(tokenizer_test, component_snippets_match_reference) {
  const fs::path dir = data_dir() / "snippets";
  const auto expected = read_lines(dir / "expected.jsonl");
  ASSERT_FALSE(expected.empty()) << "missing " << dir / "expected.jsonl";
  int checked = 0;
  for (const auto& line : expected) {
    const auto e = nlohmann::json::parse(line);
    const std::string file = e.at("tokenizer");
    const auto tok = uag::hf_tokenizer::from_json(read_text(dir / file));
    const std::string text = e.at("text");
    EXPECT_EQ(tok.encode(text, false), e.at("ids").get<uag::token_vector>()) << file << " text " << nlohmann::json(text).dump();
    const auto ids_special = e.at("ids_special").get<uag::token_vector>();
    EXPECT_EQ(tok.encode(text, true), ids_special) << file << " text " << nlohmann::json(text).dump();
    if (!e.at("decoded").is_null()) {  // null where HF itself panics
      EXPECT_EQ(tok.decode(ids_special, false), e.at("decoded").get<std::string>()) << file << " text " << nlohmann::json(text).dump();
    }
    if (!e.at("decoded_skip").is_null()) {
      EXPECT_EQ(tok.decode(ids_special, true), e.at("decoded_skip").get<std::string>()) << file << " text " << nlohmann::json(text).dump();
    }
    ++checked;
  }
  EXPECT_GT(checked, 10);
}

// ---------------------------------------------------------------------------------------------------------
// Fuzzer findings (tests/fuzz): inputs that once misbehaved.

TEST(tokenizer_test, fuzz_regressions) {
  const fs::path dir = fs::path(UAG_SOURCE_DIR) / "tests" / "fuzz" / "regressions";
  int n = 0;
  // Files named tokenizer_<harness>_* or kept in a folder named tokenizer_<harness>/.
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    const std::string file = entry.path().filename().string();
    const std::string folder = entry.path().parent_path().filename().string() + "_";
    const std::string name = folder.rfind("tokenizer_", 0) == 0 ? folder + file : file;
    const std::string data = read_text(entry.path());
    if (name.rfind("tokenizer_encode_", 0) == 0) {
      EXPECT_TRUE(uag_fuzz::tokenizer_encode_property(reinterpret_cast<const std::uint8_t*>(data.data()), data.size())) << name;
      ++n;
    } else if (name.rfind("tokenizer_load_", 0) == 0) {
      try {
        const auto tok = uag::hf_tokenizer::from_json(data);
        (void)tok.decode(tok.encode("hello world 123 \xE2\x96\x81 <s>", true), false);
      } catch (const uag::error&) {
        // a typed error is the expected outcome for most malformed inputs
      }
      ++n;
    }
  }
  EXPECT_GT(n, 0);
}

}  // namespace
