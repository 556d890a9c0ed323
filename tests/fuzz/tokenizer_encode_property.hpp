#pragma once
// Shared by tests/fuzz/fuzz_tokenizer_encode.cpp and tests/test_tokenizer.cpp (regression inputs): two small
// tokenizers that use most components (byte-level BPE with a regex Split, NFKC + Lowercase, added tokens with
// lstrip/rstrip/single_word; a SentencePiece-style BPE with byte_fallback, Prepend/Replace and a Strip
// decoder) and the invariants checked on each input.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "uag/core/utf8.hpp"
#include "uag/tokenizer/hf_tokenizer.hpp"
#include "uag/tokenizer/streaming_detokenizer.hpp"

namespace uag_fuzz {


std::string byte_level_json() {
  // vocab: the 256 byte-level characters, then a few merges
  std::string vocab;
  const auto& tbl = uag::detail::unicode::byte_to_utf8();
  for (int b = 0; b < 256; ++b) {
    std::string s = tbl[static_cast<std::size_t>(b)];
    if (s == "\"" || s == "\\") s = "\\" + s;
    vocab += "\"" + s + "\":" + std::to_string(b) + ",";
  }
  vocab += "\"he\":256,\"ll\":257,\"hell\":258,\"\xC4\xA0t\":259,\"\xC4\xA0\xC4\xA0\":260";
  return R"({"added_tokens":[
    {"id":261,"content":"<s>","single_word":false,"lstrip":true,"rstrip":false,"normalized":false,"special":true},
    {"id":262,"content":"</s>","single_word":false,"lstrip":false,"rstrip":true,"normalized":false,"special":true},
    {"id":263,"content":"mask","single_word":true,"lstrip":false,"rstrip":false,"normalized":true,"special":false}],
  "normalizer":{"type":"Sequence","normalizers":[{"type":"NFKC"},{"type":"Lowercase"}]},
  "pre_tokenizer":{"type":"Sequence","pretokenizers":[
    {"type":"Split","pattern":{"Regex":"(?i:'s|'t)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},"behavior":"Isolated","invert":false},
    {"type":"Digits","individual_digits":false},
    {"type":"ByteLevel","add_prefix_space":false,"use_regex":false}]},
  "post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>","type_id":0}},{"Sequence":{"id":"A","type_id":0}}],
    "special_tokens":{"<s>":{"id":"<s>","ids":[261],"tokens":["<s>"]}}},
  "decoder":{"type":"ByteLevel"},
  "model":{"type":"BPE","vocab":{)" + vocab + R"(},"merges":["h e","l l","he ll","\u0120 t","\u0120 \u0120"]}})";
}

std::string sentencepiece_json() {
  std::string vocab = "\"<unk>\":0,\"\xE2\x96\x81\":1,\"a\":2,\"b\":3,\"\xE2\x96\x81" "a\":4";
  for (int b = 0; b < 256; ++b) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    vocab += ",\"" + std::string(buf) + "\":" + std::to_string(5 + b);
  }
  return R"({"added_tokens":[{"id":0,"content":"<unk>","special":true,"normalized":false}],
  "normalizer":{"type":"Sequence","normalizers":[{"type":"Prepend","prepend":"\u2581"},{"type":"Replace","pattern":{"String":" "},"content":"\u2581"}]},
  "pre_tokenizer":null,
  "decoder":{"type":"Sequence","decoders":[{"type":"Replace","pattern":{"String":"\u2581"},"content":" "},{"type":"ByteFallback"},{"type":"Fuse"},{"type":"Strip","content":" ","start":1,"stop":0}]},
  "model":{"type":"BPE","unk_token":"<unk>","fuse_unk":true,"byte_fallback":true,"vocab":{)" + vocab + R"(},"merges":["\u2581 a"]}})";
}

}  // namespace uag_fuzz


namespace uag_fuzz {

/// Runs one input through the encode invariants; false when one is violated.
inline bool tokenizer_encode_property(const std::uint8_t* data, std::size_t size) {
  static const auto byte_level = uag::hf_tokenizer::from_json(uag_fuzz::byte_level_json());
  static const auto sentencepiece = uag::hf_tokenizer::from_json(uag_fuzz::sentencepiece_json());
  if (size == 0) return true;
  const auto& tok = (data[0] & 1) ? byte_level : sentencepiece;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  uag::token_vector ids;
  try {
    ids = tok.encode(text, (data[0] & 2) != 0);
  } catch (const uag::input_error&) {
    return !uag::utf8::is_valid(text);  // only invalid UTF-8 may be rejected
  }
  if (!uag::utf8::is_valid(text)) return false;
  const std::string decoded = tok.decode(ids, false);
  if (!uag::utf8::is_valid(decoded)) return false;
  // Byte-level BPE without lossy normalization must give back the text.
  if (&tok == &byte_level && (data[0] & 2) == 0) {
    bool plain = true;
    for (unsigned char c : text) plain = plain && c >= 0x20 && c < 0x7F && c != '<' && !(c >= 'A' && c <= 'Z');
    if (plain && decoded != text) return false;
  }
  uag::streaming_detokenizer<uag::hf_tokenizer> stream(tok);
  std::string streamed;
  for (const auto id : ids) streamed += stream.push(id);
  streamed += stream.flush();
  return streamed == decoded;
}

}  // namespace uag_fuzz
