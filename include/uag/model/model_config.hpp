#pragma once
/// @file Hugging Face config.json for the Llama family (Llama, Mistral, Qwen2, Qwen3), read into one
/// validated struct. Accepts both transformers 4.x keys (`rope_theta` + `rope_scaling`) and 5.x
/// (`rope_parameters`).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "uag/core/error.hpp"
#include "uag/core/types.hpp"
#include "uag/model/safetensors.hpp"

namespace uag {

/// @brief Supported model families.
enum class architecture { llama, mistral, qwen2, qwen3 };

/// @brief How rotary position embeddings are scaled (transformers `rope_type`).
enum class rope_kind { none, linear, dynamic, llama3 };

/// @brief Rotary embedding parameters.
struct rope_config {
  rope_kind type = rope_kind::none;             // "default" → none
  double theta = 10000.0;                        // base period (rope_theta)
  double factor = 1.0;                           // linear / dynamic / llama3 scaling factor
  double low_freq_factor = 1.0;                  // llama3 only
  double high_freq_factor = 4.0;                 // llama3 only
  std::size_t original_max_position_embeddings = 0;  // llama3 only (0: unset)
};

/// @brief A validated model configuration. Shapes of every weight follow from it.
struct model_config {
  std::string architecture_name;          // as written in config.json, e.g. "LlamaForCausalLM"
  uag::architecture arch = uag::architecture::llama;
  std::size_t vocab_size = 0;             // rows of embed_tokens and lm_head
  std::size_t hidden_size = 0;            // model width
  std::size_t intermediate_size = 0;      // MLP width
  std::size_t n_layers = 0;               // num_hidden_layers
  std::size_t n_heads = 0;                // num_attention_heads
  std::size_t n_kv_heads = 0;             // num_key_value_heads (grouped-query attention), divides n_heads
  std::size_t head_dim = 0;               // explicit head_dim, else hidden_size / n_heads
  std::size_t max_position_embeddings = 0;
  double rms_norm_eps = 1e-6;
  rope_config rope;
  bool tie_word_embeddings = false;       // lm_head shares embed_tokens
  bool qkv_bias = false;                  // q/k/v projections have biases (Qwen2; Llama/Qwen3 attention_bias)
  bool o_bias = false;                    // o_proj has a bias (Llama/Qwen3 attention_bias)
  bool mlp_bias = false;                  // gate/up/down have biases (Llama mlp_bias)
  bool qk_norm = false;                   // per-head RMSNorm on q and k before RoPE (Qwen3)
  std::optional<std::size_t> sliding_window;  // attention span in tokens for sliding layers
  std::vector<bool> sliding_layers;       // per layer: uses sliding_window (size n_layers)
  std::optional<token_id> bos_token_id;
  std::vector<token_id> eos_token_ids;

  /// @brief Query width: n_heads * head_dim.
  std::size_t q_dim() const noexcept { return n_heads * head_dim; }
  /// @brief Key/value width: n_kv_heads * head_dim.
  std::size_t kv_dim() const noexcept { return n_kv_heads * head_dim; }

  /// @brief Parses and validates a config.json text.
  /// throws: format_error "[uag.model_config.json]" (syntax), config_error "[uag.model_config.{missing,type,range}]",
  ///         unsupported_error "[uag.model_config.{architecture,unsupported,rope}]" naming the option.
  static model_config from_json(std::string_view text);

  /// @brief Reads path and parses it with from_json. throws: io_error, or as from_json.
  static model_config from_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw io_error("io.open", "cannot open '" + path.string() + "'");
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return from_json(text);
  }
};

namespace detail {

using model_json = nlohmann::json;

inline const model_json* config_find(const model_json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return nullptr;
  return &*it;
}

inline double config_number(const model_json& j, const char* key, std::optional<double> fallback, double lo, double hi) {
  const model_json* v = config_find(j, key);
  if (!v) {
    if (!fallback) throw config_error("model_config.missing", std::string("config.json has no '") + key + "'");
    return *fallback;
  }
  if (!v->is_number()) throw config_error("model_config.type", std::string("'") + key + "' must be a number, got " + v->dump());
  const double d = v->get<double>();
  if (!std::isfinite(d) || d < lo || d > hi)
    throw config_error("model_config.range", std::string("'") + key + "' = " + v->dump() + " is outside [" +
                                                 std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return d;
}

inline std::size_t config_size(const model_json& j, const char* key, std::optional<std::size_t> fallback, std::size_t lo,
                               std::size_t hi) {
  const model_json* v = config_find(j, key);
  if (!v) {
    if (!fallback) throw config_error("model_config.missing", std::string("config.json has no '") + key + "'");
    return *fallback;
  }
  if (!v->is_number_integer())
    throw config_error("model_config.type", std::string("'") + key + "' must be an integer, got " + v->dump());
  if (v->is_number_unsigned()) {
    const auto u = v->get<std::uint64_t>();
    if (u >= lo && u <= hi) return static_cast<std::size_t>(u);
  }
  throw config_error("model_config.range", std::string("'") + key + "' = " + v->dump() + " is outside [" +
                                               std::to_string(lo) + ", " + std::to_string(hi) + "]");
}

inline bool config_bool(const model_json& j, const char* key, bool fallback) {
  const model_json* v = config_find(j, key);
  if (!v) return fallback;
  if (!v->is_boolean()) throw config_error("model_config.type", std::string("'") + key + "' must be true or false, got " + v->dump());
  return v->get<bool>();
}

inline std::optional<token_id> config_token(const model_json& v, const char* key) {
  if (!v.is_number_integer() || v.get<std::int64_t>() < 0 || v.get<std::int64_t>() > std::numeric_limits<token_id>::max())
    throw config_error("model_config.type", std::string("'") + key + "' must be a token id, got " + v.dump());
  return static_cast<token_id>(v.get<std::int64_t>());
}

/// Reads rope settings from a `rope_parameters` (5.x) or `rope_scaling` (4.x) object.
inline void read_rope_object(const model_json& r, rope_config& rope, const char* what) {
  if (!r.is_object()) throw config_error("model_config.type", std::string("'") + what + "' must be an object, got " + r.dump());
  for (const auto& [k, v] : r.items())
    if (v.is_object())
      throw unsupported_error("model_config.rope", std::string("per-layer-type '") + what + "' (key '" + k + "') is not supported");
  std::string type = "default";
  if (const model_json* t = config_find(r, "rope_type")) {
    if (!t->is_string()) throw config_error("model_config.type", std::string(what) + ".rope_type must be a string");
    type = t->get<std::string>();
  } else if (const model_json* t2 = config_find(r, "type")) {
    if (!t2->is_string()) throw config_error("model_config.type", std::string(what) + ".type must be a string");
    type = t2->get<std::string>();
  }
  if (config_find(r, "rope_theta")) rope.theta = config_number(r, "rope_theta", std::nullopt, 1e-6, 1e12);
  if (const model_json* p = config_find(r, "partial_rotary_factor"); p && !(p->is_number() && p->get<double>() == 1.0))
    throw unsupported_error("model_config.rope", "partial_rotary_factor " + p->dump() + " is not supported");
  if (type == "default") {
    rope.type = rope_kind::none;
    return;
  }
  if (type == "linear") rope.type = rope_kind::linear;
  else if (type == "dynamic") rope.type = rope_kind::dynamic;
  else if (type == "llama3") rope.type = rope_kind::llama3;
  else
    throw unsupported_error("model_config.rope", "rope_type '" + type + "' is not supported (default, linear, dynamic, llama3 are)");
  rope.factor = config_number(r, "factor", std::nullopt, 1e-3, 1e6);
  if (rope.type == rope_kind::llama3) {
    rope.low_freq_factor = config_number(r, "low_freq_factor", std::nullopt, 1e-6, 1e6);
    rope.high_freq_factor = config_number(r, "high_freq_factor", std::nullopt, 1e-6, 1e6);
    if (!(rope.high_freq_factor > rope.low_freq_factor))
      throw config_error("model_config.range", "llama3 rope needs high_freq_factor > low_freq_factor");
    rope.original_max_position_embeddings =
        config_size(r, "original_max_position_embeddings", std::nullopt, 1, std::size_t{1} << 26);
  }
}

}  // namespace detail

inline model_config model_config::from_json(std::string_view text) {
  using json = nlohmann::json;
  const json j = detail::parse_json_limited(text, "model_config.json", "config.json");
  if (!j.is_object()) throw format_error("model_config.json", "config.json is not a JSON object");
  model_config c;

  // Architecture: first entry of "architectures", else model_type.
  if (const json* a = detail::config_find(j, "architectures")) {
    if (!a->is_array() || a->empty() || !(*a)[0].is_string())
      throw config_error("model_config.type", "'architectures' must be a non-empty array of strings");
    c.architecture_name = (*a)[0].get<std::string>();
  } else if (const json* mt = detail::config_find(j, "model_type"); mt && mt->is_string()) {
    c.architecture_name = mt->get<std::string>();
  } else {
    throw config_error("model_config.missing", "config.json has neither 'architectures' nor 'model_type'");
  }
  const std::string& an = c.architecture_name;
  if (an == "LlamaForCausalLM" || an == "llama") c.arch = architecture::llama;
  else if (an == "MistralForCausalLM" || an == "mistral") c.arch = architecture::mistral;
  else if (an == "Qwen2ForCausalLM" || an == "qwen2") c.arch = architecture::qwen2;
  else if (an == "Qwen3ForCausalLM" || an == "qwen3") c.arch = architecture::qwen3;
  else
    throw unsupported_error("model_config.architecture",
                            "architecture '" + an + "' is not supported (LlamaForCausalLM, MistralForCausalLM, "
                            "Qwen2ForCausalLM, Qwen3ForCausalLM are)");

  constexpr std::size_t big = std::size_t{1} << 20;
  c.vocab_size = detail::config_size(j, "vocab_size", std::nullopt, 1, std::size_t{1} << 24);
  c.hidden_size = detail::config_size(j, "hidden_size", std::nullopt, 1, 1 << 16);
  c.intermediate_size = detail::config_size(j, "intermediate_size", std::nullopt, 1, big);
  c.n_layers = detail::config_size(j, "num_hidden_layers", std::nullopt, 1, 1024);
  c.n_heads = detail::config_size(j, "num_attention_heads", std::nullopt, 1, 1024);
  c.n_kv_heads = detail::config_size(j, "num_key_value_heads", c.n_heads, 1, 1024);
  if (c.n_heads % c.n_kv_heads != 0)
    throw config_error("model_config.range", "num_attention_heads " + std::to_string(c.n_heads) +
                                                 " is not a multiple of num_key_value_heads " + std::to_string(c.n_kv_heads));
  if (detail::config_find(j, "head_dim")) {
    c.head_dim = detail::config_size(j, "head_dim", std::nullopt, 2, 1024);
  } else {
    if (c.hidden_size % c.n_heads != 0)
      throw config_error("model_config.range", "hidden_size " + std::to_string(c.hidden_size) +
                                                   " is not a multiple of num_attention_heads " + std::to_string(c.n_heads));
    c.head_dim = c.hidden_size / c.n_heads;
  }
  if (c.head_dim % 2 != 0) throw config_error("model_config.range", "head_dim " + std::to_string(c.head_dim) + " is odd");
  c.max_position_embeddings = detail::config_size(j, "max_position_embeddings", 2048, 1, std::size_t{1} << 26);
  c.rms_norm_eps = detail::config_number(j, "rms_norm_eps", 1e-6, 0.0, 1.0);
  c.tie_word_embeddings = detail::config_bool(j, "tie_word_embeddings", false);

  if (const json* act = detail::config_find(j, "hidden_act")) {
    if (!act->is_string() || (act->get<std::string>() != "silu" && act->get<std::string>() != "swish"))
      throw unsupported_error("model_config.unsupported", "hidden_act " + act->dump() + " is not supported (silu is)");
  }
  if (const json* tp = detail::config_find(j, "pretraining_tp"); tp && !(tp->is_number_integer() && tp->get<int>() == 1)) {
    // pretraining_tp only splits the matmuls in transformers; the result is the same math. Accept any positive int.
    if (!tp->is_number_integer() || tp->get<long long>() < 1)
      throw config_error("model_config.type", "'pretraining_tp' must be a positive integer");
  }

  // Rotary embeddings: 5.x rope_parameters, else 4.x rope_theta + rope_scaling.
  if (const json* rp = detail::config_find(j, "rope_parameters")) {
    if (detail::config_find(j, "rope_theta")) c.rope.theta = detail::config_number(j, "rope_theta", std::nullopt, 1e-6, 1e12);
    detail::read_rope_object(*rp, c.rope, "rope_parameters");
  } else {
    c.rope.theta = detail::config_number(j, "rope_theta", 10000.0, 1e-6, 1e12);
    if (const json* rs = detail::config_find(j, "rope_scaling")) detail::read_rope_object(*rs, c.rope, "rope_scaling");
  }
  if (const json* p = detail::config_find(j, "partial_rotary_factor"); p && !(p->is_number() && p->get<double>() == 1.0))
    throw unsupported_error("model_config.rope", "partial_rotary_factor " + p->dump() + " is not supported");

  // Biases and norms by family.
  switch (c.arch) {
    case architecture::llama:
      c.qkv_bias = c.o_bias = detail::config_bool(j, "attention_bias", false);
      c.mlp_bias = detail::config_bool(j, "mlp_bias", false);
      break;
    case architecture::mistral:
      break;
    case architecture::qwen2:
      c.qkv_bias = true;
      break;
    case architecture::qwen3:
      c.qkv_bias = c.o_bias = detail::config_bool(j, "attention_bias", false);
      c.qk_norm = true;
      break;
  }

  // Sliding-window attention: per-layer "layer_types" when present (5.x), else family defaults.
  if (detail::config_find(j, "sliding_window"))
    c.sliding_window = detail::config_size(j, "sliding_window", std::nullopt, 1, std::size_t{1} << 26);
  c.sliding_layers.assign(c.n_layers, false);
  if (const json* lt = detail::config_find(j, "layer_types")) {
    if (!lt->is_array() || lt->size() != c.n_layers)
      throw config_error("model_config.type", "'layer_types' must list one type per layer (" + std::to_string(c.n_layers) + ")");
    for (std::size_t i = 0; i < c.n_layers; ++i) {
      const json& t = (*lt)[i];
      if (t == "full_attention") continue;
      if (t == "sliding_attention") {
        if (!c.sliding_window)
          throw config_error("model_config.missing", "layer " + std::to_string(i) + " is sliding_attention but sliding_window is null");
        c.sliding_layers[i] = true;
        continue;
      }
      throw unsupported_error("model_config.unsupported", "layer type " + t.dump() + " is not supported");
    }
  } else if (c.sliding_window) {
    if (c.arch == architecture::mistral) {
      c.sliding_layers.assign(c.n_layers, true);
    } else if ((c.arch == architecture::qwen2 || c.arch == architecture::qwen3) &&
               detail::config_bool(j, "use_sliding_window", false)) {
      const std::size_t first = detail::config_size(j, "max_window_layers", c.n_layers, 0, 1 << 20);
      for (std::size_t i = first; i < c.n_layers; ++i) c.sliding_layers[i] = true;
    }
  }

  if (const json* b = detail::config_find(j, "bos_token_id")) c.bos_token_id = detail::config_token(*b, "bos_token_id");
  if (const json* e = detail::config_find(j, "eos_token_id")) {
    if (e->is_array()) {
      for (const auto& x : *e) c.eos_token_ids.push_back(*detail::config_token(x, "eos_token_id"));
    } else {
      c.eos_token_ids.push_back(*detail::config_token(*e, "eos_token_id"));
    }
  }
  return c;
}

}  // namespace uag
