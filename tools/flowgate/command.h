// Registration of CLI verbs. Each verb lives in its own cmd_<verb>.cpp and registers itself with a
// static CommandRegistrar; main() builds the CLI11 app from the registry.
//
// Exit status contract (docs/cli.md): 0 done, 1 refused (validation errors, engine refusal),
// 2 usage error, 3 storage error.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace flowgate::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitRefused = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitStorage = 3;

// `setup` adds the subcommand's options to `sub` and returns the action to run when it is chosen;
// the action returns the exit status.
using CommandSetup = std::function<std::function<int()>(CLI::App& sub)>;

struct CommandSpec {
  std::string name;
  std::string description;
  CommandSetup setup;
};

std::vector<CommandSpec>& command_registry();

struct CommandRegistrar {
  CommandRegistrar(std::string name, std::string description, CommandSetup setup) {
    command_registry().push_back({std::move(name), std::move(description), std::move(setup)});
  }
};

}  // namespace flowgate::cli
