#pragma once
// Subcommand registry of the uag command line. Each subcommand lives in its own cmd_<name>.cpp and
// registers itself with a static `uag_cli::registration`.
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace uag_cli {

/// Thrown for bad flags or values: main prints "uag <cmd>: <message>" and exits with code 2.
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct command {
  std::string summary;                                  // one line, shown by `uag --help`
  std::string help;                                     // full text, shown by `uag <cmd> --help`
  std::function<int(std::vector<std::string>)> run;     // args after the subcommand name
};

inline std::map<std::string, command>& registry() {
  static std::map<std::string, command> commands;
  return commands;
}

struct registration {
  registration(std::string name, command cmd) { registry().emplace(std::move(name), std::move(cmd)); }
};

/// Minimal flag parser: --name value, --name=value, and boolean --name.
class args {
 public:
  explicit args(std::vector<std::string> argv) : argv_(std::move(argv)) {}
  /// Takes the value of --name if present (removing it); throws usage_error if the value is missing.
  std::optional<std::string> take(const std::string& name);
  /// Takes a boolean --name if present.
  bool flag(const std::string& name);
  /// Throws usage_error naming the first argument nobody took.
  void finish() const;
  bool wants_help() const;

 private:
  std::vector<std::string> argv_;
};

}  // namespace uag_cli
