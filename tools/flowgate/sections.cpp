#include "tools/flowgate/sections.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "tools/flowgate/command.h"

namespace flowgate::cli {
namespace {

std::vector<BuiltinPluginFactory>& builtin_factories() {
  static std::vector<BuiltinPluginFactory> factories;
  return factories;
}

std::vector<std::string> split_commas(const char* text) {
  std::vector<std::string> out;
  std::string cur;
  for (const char* p = text; p && *p; ++p) {
    if (*p == ',') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else if (*p != ' ') {
      cur += *p;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

[[noreturn]] void die(const Error& e) {
  std::fprintf(stderr, "flowgate: %s\n", e.to_string().c_str());
  std::exit(kExitUsage);
}

PluginRegistry build_registry() {
  PluginRegistry registry;
  for (const auto& factory : builtin_factories()) {
    if (auto ok = registry.add(factory()); !ok) die(ok.error());
  }
  if (const char* dir = std::getenv("FLOWGATE_PLUGIN_DIR"); dir && *dir) {
    auto warnings =
        load_plugin_dir(dir, split_commas(std::getenv("FLOWGATE_OPTIONAL_PLUGINS")), registry);
    if (!warnings) die(warnings.error());
    for (const auto& w : *warnings) std::fprintf(stderr, "flowgate: warning: %s\n", w.c_str());
  }
  return registry;
}

}  // namespace

BuiltinPluginRegistrar::BuiltinPluginRegistrar(BuiltinPluginFactory factory) {
  builtin_factories().push_back(std::move(factory));
}

const PluginRegistry& cli_plugins() {
  static const PluginRegistry registry = build_registry();
  return registry;
}

const SectionRegistry& cli_sections() { return cli_plugins().sections(); }

std::shared_ptr<const HookSet> cli_hooks() { return cli_plugins().hooks(); }

}  // namespace flowgate::cli
