// The plugins every CLI verb runs with: built-in plugins (each registers itself from a
// tools/flowgate/plugin_*.cpp file with a BuiltinPluginRegistrar) plus third-party shared objects
// from the directory named by FLOWGATE_PLUGIN_DIR. A third-party plugin that fails to load stops
// the program with a clear error, unless its name is listed in FLOWGATE_OPTIONAL_PLUGINS
// (comma-separated): then a warning is printed and flowgate runs without it (docs/plugins.md).
// Thread-safety: built on first use (thread-safe static); read-only afterwards.
#pragma once

#include <functional>
#include <memory>

#include "definition/section_registry.h"
#include "plugin/plugin.h"
#include "runtime/hooks.h"

namespace flowgate::cli {

const PluginRegistry& cli_plugins();
// Shorthands: the sections the plugins claim, and their hooks (for EngineOptions::hooks).
const SectionRegistry& cli_sections();
std::shared_ptr<const HookSet> cli_hooks();

using BuiltinPluginFactory = std::function<Plugin()>;
struct BuiltinPluginRegistrar {
  explicit BuiltinPluginRegistrar(BuiltinPluginFactory factory);
};

}  // namespace flowgate::cli
