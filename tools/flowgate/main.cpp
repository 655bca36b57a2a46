// flowgate: one binary, one subcommand per verb (see command.h).
#include <algorithm>
#include <cstdio>
#include <exception>
#include <iostream>
#include <map>

#include "tools/flowgate/command.h"

namespace flowgate::cli {
std::vector<CommandSpec>& command_registry() {
  static std::vector<CommandSpec> registry;
  return registry;
}
}  // namespace flowgate::cli

int main(int argc, char** argv) {
  using namespace flowgate::cli;
  CLI::App app{"flowgate: a workflow engine for Lead-to-Cash and Issue-to-Resolution"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "flowgate 0.1.0");

  auto& specs = command_registry();
  std::sort(specs.begin(), specs.end(),
            [](const CommandSpec& a, const CommandSpec& b) { return a.name < b.name; });
  std::map<CLI::App*, std::function<int()>> actions;
  for (auto& spec : specs) {
    CLI::App* sub = app.add_subcommand(spec.name, spec.description);
    actions[sub] = spec.setup(*sub);
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  try {
    for (auto& [sub, action] : actions) {
      if (sub->parsed()) return action();
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "flowgate: internal error: %s\n", e.what());
    return kExitStorage;
  }
  return kExitUsage;
}
