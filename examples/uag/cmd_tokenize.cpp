// uag tokenize: encode JSON lines of text with a Hugging Face tokenizer.json (exact HF tokenizers parity).
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "uag/core/error.hpp"
#include "uag/tokenizer/hf_tokenizer.hpp"

namespace uag_cli {
namespace {

constexpr const char* tokenize_help = R"(usage: uag tokenize --tokenizer PATH [--add-special-tokens] < in.jsonl > out.jsonl

Reads JSON lines {"text": "..."} on stdin and writes, in order, one line per input:
  {"ids": [...], "decoded": "..."}
where ids = encode(text) and decoded = decode(ids) with special tokens kept. Ids and decodes equal those
of Hugging Face tokenizers (the Rust library) for the BPE tokenizers uag supports.

  --tokenizer PATH       a tokenizer.json, or a model folder holding tokenizer.json (its
                         tokenizer_config.json is read when present) (required)
  --add-special-tokens   apply the post-processor (e.g. prepend BOS), as HF's add_special_tokens=True

Blank input lines are skipped. A line that is not a JSON object with a string "text", or whose text is
not valid UTF-8, stops the command with a one-line error naming the line (exit status 1).)";

int tokenize_main(std::vector<std::string> argv) {
  args a(std::move(argv));
  const auto path = a.take("tokenizer");
  const bool add_special = a.flag("add-special-tokens");
  a.finish();
  if (!path) throw usage_error("--tokenizer PATH is required");
  const auto tok = uag::hf_tokenizer::from_file(*path);

  std::string line;
  std::size_t line_no = 0;
  std::string out;
  while (std::getline(std::cin, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      throw uag::input_error("tokenize.json", "stdin line " + std::to_string(line_no) + " is not valid JSON: " + e.what());
    }
    if (!j.is_object() || !j.contains("text") || !j["text"].is_string())
      throw uag::input_error("tokenize.text", "stdin line " + std::to_string(line_no) + " must be an object with a string \"text\"");
    const std::string& text = j["text"].get_ref<const std::string&>();
    uag::token_vector ids;
    try {
      ids = tok.encode(text, add_special);
    } catch (const uag::input_error& e) {
      throw uag::input_error("tokenize.text", "stdin line " + std::to_string(line_no) + ": " + e.what());
    }
    nlohmann::ordered_json r;  // keys in the documented order: ids, decoded
    r["ids"] = ids;
    r["decoded"] = tok.decode(ids, false);
    out = r.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    out.push_back('\n');
    std::fwrite(out.data(), 1, out.size(), stdout);
  }
  std::fflush(stdout);
  return 0;
}

const registration reg("tokenize", {"encode JSON lines of text with a tokenizer.json (ids + decode)", tokenize_help,
                                    tokenize_main});

}  // namespace
}  // namespace uag_cli
