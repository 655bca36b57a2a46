// A plugin: the process-file sections it claims (definition/section_registry.h) and its hooks into
// decide/apply (runtime/hooks.h). Built-in plugins are added by the program that links them (the
// flowgate CLI); third-party plugins are shared objects with a versioned C entry point, loaded by
// load_shared_plugin().
//
// A shared object exports
//     extern "C" const FlowgatePluginEntry* flowgate_plugin_entry(void);
// returning a static entry whose api_version is kFlowgatePluginApiVersion and whose create()
// returns a heap-allocated flowgate::Plugin (freed with destroy()). The plugin is built against the
// same flowgate headers and compiler as the host.
// Thread-safety: a PluginRegistry is filled before use and then read-only.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "definition/section_registry.h"
#include "runtime/hooks.h"
#include "util/error.h"

namespace flowgate {

struct Plugin {
  std::string name;
  std::shared_ptr<const SectionHandler> sections;  // may be null
  std::shared_ptr<const InstanceHooks> hooks;      // may be null
};

}  // namespace flowgate

inline constexpr int kFlowgatePluginApiVersion = 1;

extern "C" {
struct FlowgatePluginEntry {
  int api_version;
  const char* name;
  flowgate::Plugin* (*create)();
  void (*destroy)(flowgate::Plugin*);
};
typedef const FlowgatePluginEntry* (*FlowgatePluginEntryFn)(void);
}

namespace flowgate {

class PluginRegistry {
 public:
  PluginRegistry();
  // Refuses a second plugin with the same name or a section another plugin claims.
  Result<void> add(Plugin plugin);
  const std::vector<Plugin>& plugins() const { return plugins_; }
  const SectionRegistry& sections() const { return sections_; }
  std::shared_ptr<const HookSet> hooks() const { return hooks_; }

 private:
  std::vector<Plugin> plugins_;
  SectionRegistry sections_;
  std::shared_ptr<HookSet> hooks_;
};

// Loads one shared-object plugin. It is first loaded in a child process, so a plugin that crashes
// while loading is reported (with its signal) instead of taking the caller down. A missing file, a
// missing entry symbol, a wrong API version or a failing create() are clear kInvalidArgument
// errors. The library stays loaded for the life of the process.
Result<Plugin> load_shared_plugin(const std::string& path);

// Loads every *.so in `dir` (sorted) into `registry`. A plugin that fails to load is an error,
// unless its file name without extension (or its plugin name) is in `optional`: then it is
// skipped and the reason is returned as a warning.
Result<std::vector<std::string>> load_plugin_dir(const std::string& dir,
                                                 const std::vector<std::string>& optional,
                                                 PluginRegistry& registry);

}  // namespace flowgate
