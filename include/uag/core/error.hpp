#pragma once
/// @file One exception hierarchy for the whole library. Every message starts with a stable,
/// greppable id: "[uag.<area>.<what>] details".
#include <stdexcept>
#include <string>
#include <string_view>

namespace uag {

/// @brief Base of every exception uag throws.
class error : public std::runtime_error {
 public:
  /// @param id   stable id without the "uag." prefix, e.g. "config.gamma"
  /// @param what human-readable details naming the offending value
  error(std::string_view id, std::string_view what)
      : std::runtime_error("[uag." + std::string(id) + "] " + std::string(what)), id_("uag." + std::string(id)) {}
  /// @brief The stable id, e.g. "uag.config.gamma".
  const std::string& id() const noexcept { return id_; }

 private:
  std::string id_;
};

/// @brief Invalid configuration value (generation config, sampling settings, model config).
class config_error : public error { using error::error; };
/// @brief Invalid input data from the caller: empty prompt, out-of-range token id, invalid UTF-8.
class input_error : public error { using error::error; };
/// @brief A model broke its contract at run time: wrong logits shape, NaN/inf logits, cache misuse.
class model_error : public error { using error::error; };
/// @brief A tokenizer file or tokenizer operation failed.
class tokenizer_error : public error { using error::error; };
/// @brief A model file (safetensors, config.json) is malformed or inconsistent.
class format_error : public error { using error::error; };
/// @brief A file could not be opened or read.
class io_error : public error { using error::error; };
/// @brief A feature present in a file is recognised but not supported by uag.
class unsupported_error : public error { using error::error; };

}  // namespace uag
