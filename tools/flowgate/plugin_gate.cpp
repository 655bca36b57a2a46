// The stage-gate plugin, built in: [gates.<id>] sections and review rounds (plugins/gate,
// docs/gates.md).
#include "plugins/gate/gate_config.h"
#include "plugins/gate/gate_hooks.h"
#include "tools/flowgate/sections.h"

namespace flowgate::cli {
namespace {

BuiltinPluginRegistrar gate_plugin([] {
  return Plugin{gate::kPluginName, std::make_shared<gate::GateSections>(),
                std::make_shared<gate::GateHooks>()};
});

}  // namespace
}  // namespace flowgate::cli
