#pragma once
// What the controller tools share (replay_controller, simulate_controller): reading flags and
// positional arguments with one usage message for every mistake, reading JSON-lines files with the file
// and line named in every error, and main()'s error handling.
#include <cstddef>
#include <cstdio>
#include <exception>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

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

  /// The positional arguments, which must be exactly n (`missing` says what the first n are).
  const std::vector<std::string>& exactly(const std::vector<std::string>& args, std::size_t n,
                                          const std::string& missing) const {
    if (args.size() < n) fail(missing);
    if (args.size() > n) fail("unexpected argument '" + args[n] + "'");
    return args;
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

/// Calls fn(line, where) for every non-empty line of a JSON-lines file, where = "PATH:LINE" for messages.
/// throws: std::runtime_error naming the file it cannot read, or the line that is not JSON (as `what`,
/// e.g. "a `uag bench --trace` step", when given).
template <class Fn>
void read_json_lines(const std::string& path, const std::string& what, Fn fn) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot read");
  std::size_t lineno = 0;
  for (std::string line; std::getline(in, line);) {
    ++lineno;
    if (line.empty()) continue;
    const std::string where = path + ":" + std::to_string(lineno);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception&) {
      throw std::runtime_error(where + ": " + (what.empty() ? "" : "not " + what + ": ") + "not JSON");
    }
    fn(j, where);
  }
}

/// main() of a tool: its exit status, or 2 and one line on stderr for any error.
template <class Fn>
int run_tool(const char* name, Fn fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", name, e.what());
    return 2;
  }
}

}  // namespace uag_tools
