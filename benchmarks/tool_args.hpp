#pragma once
// The command-line reading the controller tools share (replay_controller, simulate_controller): flags
// with or without a value, positional arguments, and one usage message for every mistake.
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace uag_tools {

struct tool_usage {
  std::string line;  // "name ARG ... [--flag V]": printed after every mistake

  [[noreturn]] void fail(const std::string& why) const { throw std::invalid_argument(why + "\nusage: " + line); }

  std::size_t count(const std::string& flag, const char* text) const {
    try {
      std::size_t used = 0;
      const unsigned long long v = std::stoull(text, &used);
      if (used == std::string(text).size() && text[0] != '-') return static_cast<std::size_t>(v);
    } catch (const std::exception&) {
    }
    fail(flag + ": '" + text + "' is not a non-negative integer");
  }

  double amount(const std::string& flag, const char* text) const {
    try {
      std::size_t used = 0;
      const double v = std::stod(text, &used);
      if (used == std::string(text).size() && v >= 0.0) return v;
    } catch (const std::exception&) {
    }
    fail(flag + ": '" + text + "' is not a non-negative number");
  }

  /// Walks argv: each "--flag" goes to on_flag(flag, value), where value() takes the next argument and
  /// on_flag returns false for a flag it does not know; the rest are returned, in order.
  template <class OnFlag>
  std::vector<std::string> walk(int argc, char** argv, OnFlag on_flag) const {
    std::vector<std::string> positional;
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      if (!a.starts_with("--")) {
        positional.push_back(a);
        continue;
      }
      const auto value = [&]() -> const char* {
        if (i + 1 >= argc) fail(a + " needs a value");
        return argv[++i];
      };
      if (!on_flag(a, value)) fail("unknown flag " + a);
    }
    return positional;
  }
};

}  // namespace uag_tools
