// uag: universal assisted decoding from the command line.
#include <cstdio>
#include <exception>
#include <iostream>

#include "cli.hpp"
#include "uag/core/error.hpp"

namespace uag_cli {

std::optional<std::string> args::take(const std::string& name) {
  const std::string flag = "--" + name;
  for (std::size_t i = 0; i < argv_.size(); ++i) {
    if (argv_[i] == flag) {
      if (i + 1 >= argv_.size()) throw usage_error(flag + " needs a value");
      std::string value = argv_[i + 1];
      argv_.erase(argv_.begin() + static_cast<std::ptrdiff_t>(i), argv_.begin() + static_cast<std::ptrdiff_t>(i) + 2);
      return value;
    }
    if (argv_[i].rfind(flag + "=", 0) == 0) {
      std::string value = argv_[i].substr(flag.size() + 1);
      argv_.erase(argv_.begin() + static_cast<std::ptrdiff_t>(i));
      return value;
    }
  }
  return std::nullopt;
}

bool args::flag(const std::string& name) {
  const std::string flag = "--" + name;
  for (std::size_t i = 0; i < argv_.size(); ++i) {
    if (argv_[i] == flag) {
      argv_.erase(argv_.begin() + static_cast<std::ptrdiff_t>(i));
      return true;
    }
  }
  return false;
}

void args::finish() const {
  if (!argv_.empty()) throw usage_error("unknown argument '" + argv_.front() + "'");
}

bool args::wants_help() const {
  for (const auto& a : argv_)
    if (a == "--help" || a == "-h") return true;
  return false;
}

}  // namespace uag_cli

int main(int argc, char** argv) {
  auto& commands = uag_cli::registry();
  auto print_usage = [&] {
    std::printf("uag %s: universal assisted decoding\n\nusage: uag <command> [options]\n\ncommands:\n", "0.1.0");
    for (const auto& [name, cmd] : commands) std::printf("  %-10s %s\n", name.c_str(), cmd.summary.c_str());
    std::printf("\nRun 'uag <command> --help' for the options of a command.\n");
  };
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    print_usage();
    return argc < 2 ? 2 : 0;
  }
  const std::string name = argv[1];
  auto it = commands.find(name);
  if (it == commands.end()) {
    std::fprintf(stderr, "uag: unknown command '%s' (try 'uag --help')\n", name.c_str());
    return 2;
  }
  std::vector<std::string> rest(argv + 2, argv + argc);
  if (uag_cli::args(rest).wants_help()) {
    std::printf("%s\n", it->second.help.c_str());
    return 0;
  }
  try {
    return it->second.run(std::move(rest));
  } catch (const uag_cli::usage_error& e) {
    std::fprintf(stderr, "uag %s: %s\n", name.c_str(), e.what());
    return 2;
  } catch (const uag::error& e) {
    std::fprintf(stderr, "uag %s: %s\n", name.c_str(), e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "uag %s: unexpected error: %s\n", name.c_str(), e.what());
    return 1;
  }
}
