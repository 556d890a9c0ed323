#pragma once
/// @file Typed access to tokenizer.json values with uag errors naming the offending key.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "uag/core/error.hpp"
#include "uag/tokenizer/detail/json.hpp"

namespace uag::detail::cfg {

using json::value;

[[noreturn]] inline void type_error(const std::string& path, std::string_view want, value got) {
  throw uag::tokenizer_error("tokenizer.type", "'" + path + "' must be " + std::string(want) + ", got " +
                                                  json::kind_name(got.type()));
}

inline std::string join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

inline void require_object(value v, const std::string& path) {
  if (!v.is_object()) type_error(path, "an object", v);
}

/// @brief Member `key` of object `obj`, or nullopt when missing or null.
inline std::optional<value> opt(value obj, std::string_view key) {
  auto v = obj.find(key);
  if (!v || v->is_null()) return std::nullopt;
  return v;
}

inline value req(value obj, std::string_view key, const std::string& path) {
  auto v = opt(obj, key);
  if (!v) throw uag::tokenizer_error("tokenizer.missing", "'" + join(path, key) + "' is missing");
  return *v;
}

inline std::string_view req_string(value obj, std::string_view key, const std::string& path) {
  const value v = req(obj, key, path);
  if (!v.is_string()) type_error(join(path, key), "a string", v);
  return v.str();
}

inline std::optional<std::string_view> opt_string(value obj, std::string_view key, const std::string& path) {
  auto v = opt(obj, key);
  if (!v) return std::nullopt;
  if (!v->is_string()) type_error(join(path, key), "a string", *v);
  return v->str();
}

inline bool opt_bool(value obj, std::string_view key, const std::string& path, bool fallback) {
  auto v = opt(obj, key);
  if (!v) return fallback;
  if (!v->is_bool()) type_error(join(path, key), "a boolean", *v);
  return v->as_bool();
}

inline std::int64_t as_int(value v, const std::string& path, std::int64_t lo, std::int64_t hi) {
  if (!v.is_number()) type_error(path, "an integer", v);
  auto i = v.as_int();
  if (!i) type_error(path, "an integer", v);
  if (*i < lo || *i > hi)
    throw uag::tokenizer_error("tokenizer.range", "'" + path + "' = " + std::to_string(*i) + " is outside [" +
                                                     std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return *i;
}

inline std::optional<std::int64_t> opt_int(value obj, std::string_view key, const std::string& path, std::int64_t lo,
                                           std::int64_t hi) {
  auto v = opt(obj, key);
  if (!v) return std::nullopt;
  return as_int(*v, join(path, key), lo, hi);
}

inline value req_array(value obj, std::string_view key, const std::string& path) {
  const value v = req(obj, key, path);
  if (!v.is_array()) type_error(join(path, key), "an array", v);
  return v;
}

/// @brief The "type" string of a component object.
inline std::string_view type_of(value v, const std::string& path) {
  require_object(v, path);
  return req_string(v, "type", path);
}

[[noreturn]] inline void unknown_type(const std::string& path, std::string_view type) {
  throw uag::tokenizer_error("tokenizer.unknown_type", "'" + path + ".type' is '" + std::string(type) +
                                                          "', which is not a known Hugging Face component type");
}

[[noreturn]] inline void unsupported(const std::string& path, std::string_view what) {
  throw uag::unsupported_error("tokenizer.unsupported", "'" + path + "': " + std::string(what) + " is not supported by uag");
}

/// @brief A {"String": s} or {"Regex": r} pattern (Split, Replace).
struct pattern_spec {
  bool is_regex = false;
  std::string text;
};

inline pattern_spec pattern(value obj, const std::string& path) {
  const value p = req(obj, "pattern", path);
  const std::string pp = join(path, "pattern");
  require_object(p, pp);
  if (auto s = opt_string(p, "String", pp)) return {false, std::string(*s)};
  if (auto r = opt_string(p, "Regex", pp)) return {true, std::string(*r)};
  throw uag::tokenizer_error("tokenizer.missing", "'" + pp + "' must hold \"String\" or \"Regex\"");
}

}  // namespace uag::detail::cfg
