#pragma once
/// @file tokenizer.json post-processors for single sequences: TemplateProcessing, ByteLevel (ids
/// unchanged: it only trims offsets), RobertaProcessing / BertProcessing (<cls> A <sep>), Sequence.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "uag/core/types.hpp"
#include "uag/tokenizer/detail/config.hpp"

namespace uag {

/// @brief The post-processor, reduced to what it does to one sequence: a list of templates applied in turn.
class post_processor {
 public:
  /// @brief One template: items are special-token id runs or the sequence itself (id == -1 marks it).
  struct item {
    bool is_sequence = false;
    token_vector ids;  // special ids when !is_sequence
  };
  using template_t = std::vector<item>;

  static post_processor from_json(detail::json::value v, const std::string& path = "post_processor") {
    post_processor p;
    if (!v.is_null()) p.parse(v, path);
    return p;
  }

  /// @brief Applies the templates to ids (in place) when add_special_tokens.
  void apply(token_vector& ids, bool add_special_tokens) const {
    if (!add_special_tokens || templates_.empty()) return;
    token_vector out;
    for (const auto& t : templates_) {
      out.clear();
      for (const auto& it : t) {
        if (it.is_sequence) out.insert(out.end(), ids.begin(), ids.end());
        else out.insert(out.end(), it.ids.begin(), it.ids.end());
      }
      ids.swap(out);
    }
  }

  /// @brief Number of ids added before / after the sequence by add_special_tokens.
  const std::vector<template_t>& templates() const noexcept { return templates_; }

  /// @brief First special id placed before the sequence (a BOS), if any.
  std::optional<token_id> leading_special() const {
    for (const auto& t : templates_)
      for (const auto& it : t) {
        if (it.is_sequence) break;
        if (!it.ids.empty()) return it.ids.front();
      }
    return std::nullopt;
  }
  /// @brief First special id placed after the sequence (an EOS/SEP), if any.
  std::optional<token_id> trailing_special() const {
    for (const auto& t : templates_) {
      bool after = false;
      for (const auto& it : t) {
        if (it.is_sequence) { after = true; continue; }
        if (after && !it.ids.empty()) return it.ids.front();
      }
    }
    return std::nullopt;
  }

 private:
  std::vector<template_t> templates_;

  static token_id pair_id(detail::json::value obj, std::string_view key, const std::string& path) {
    namespace cfg = detail::cfg;
    const auto v = cfg::req(obj, key, path);
    const std::string p = cfg::join(path, key);
    if (!v.is_array() || v.size() != 2 || !v.at(0).is_string()) cfg::type_error(p, "a [token, id] pair", v);
    return static_cast<token_id>(cfg::as_int(v.at(1), p + "[1]", 0, (1 << 24) - 1));
  }

  void parse(detail::json::value v, const std::string& path) {
    namespace cfg = detail::cfg;
    const std::string_view type = cfg::type_of(v, path);
    if (type == "Sequence") {
      const auto list = cfg::req_array(v, "processors", path);
      for (std::size_t i = 0; i < list.size(); ++i) parse(list.at(i), path + ".processors[" + std::to_string(i) + "]");
    } else if (type == "ByteLevel") {
      // offsets only
    } else if (type == "RobertaProcessing" || type == "BertProcessing") {
      template_t t;
      t.push_back({false, {pair_id(v, "cls", path)}});
      t.push_back({true, {}});
      t.push_back({false, {pair_id(v, "sep", path)}});
      templates_.push_back(std::move(t));
    } else if (type == "TemplateProcessing") {
      const auto single = cfg::req(v, "single", path);
      if (!single.is_array()) cfg::type_error(path + ".single", "an array", single);
      const auto specials = cfg::opt(v, "special_tokens");
      if (specials && !specials->is_object()) cfg::type_error(path + ".special_tokens", "an object", *specials);
      template_t t;
      for (std::size_t i = 0; i < single.size(); ++i) {
        const auto e = single.at(i);
        const std::string ep = path + ".single[" + std::to_string(i) + "]";
        cfg::require_object(e, ep);
        if (auto seq = cfg::opt(e, "Sequence")) {
          cfg::require_object(*seq, ep + ".Sequence");
          const auto id = cfg::req_string(*seq, "id", ep + ".Sequence");
          if (id != "A")
            throw uag::tokenizer_error("tokenizer.template", "'" + ep + "' uses sequence '" + std::string(id) + "' in a single-sequence template");
          t.push_back({true, {}});
        } else if (auto sp = cfg::opt(e, "SpecialToken")) {
          cfg::require_object(*sp, ep + ".SpecialToken");
          const auto name = cfg::req_string(*sp, "id", ep + ".SpecialToken");
          std::optional<detail::json::value> entry;
          if (specials) entry = specials->find(name);
          if (!entry)
            throw uag::tokenizer_error("tokenizer.template", "'" + ep + "' names special token '" + std::string(name) +
                                                                "', which is not in " + path + ".special_tokens");
          const std::string sp_path = path + ".special_tokens['" + std::string(name) + "']";
          cfg::require_object(*entry, sp_path);
          const auto ids = cfg::req_array(*entry, "ids", sp_path);
          item it;
          for (std::size_t k = 0; k < ids.size(); ++k)
            it.ids.push_back(static_cast<token_id>(cfg::as_int(ids.at(k), sp_path + ".ids[" + std::to_string(k) + "]", 0, (1 << 24) - 1)));
          t.push_back(std::move(it));
        } else {
          throw uag::tokenizer_error("tokenizer.template", "'" + ep + "' must hold \"Sequence\" or \"SpecialToken\"");
        }
      }
      templates_.push_back(std::move(t));
    } else {
      cfg::unknown_type(path, type);
    }
  }
};

}  // namespace uag
