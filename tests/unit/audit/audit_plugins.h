// The built-in plugins (SLA/OLA clocks, stage gates) as the CLI registers them, for audit tests:
// the shipped workflows declare their sections, and their events are folded by their hooks.
#pragma once

#include <memory>

#include "plugin/plugin.h"
#include "plugins/gate/gate_config.h"
#include "plugins/gate/gate_hooks.h"
#include "plugins/sla/sla_hooks.h"
#include "plugins/sla/sla_section.h"

namespace flowgate::testing {

inline const PluginRegistry& audit_registry() {
  static const PluginRegistry registry = [] {
    PluginRegistry r;
    Plugin sla_plugin;
    sla_plugin.name = "sla";
    sla_plugin.sections = std::make_shared<sla::SlaSectionHandler>();
    sla_plugin.hooks = sla::make_sla_hooks();
    (void)r.add(std::move(sla_plugin));
    Plugin gate_plugin;
    gate_plugin.name = gate::kPluginName;
    gate_plugin.sections = std::make_shared<gate::GateSections>();
    gate_plugin.hooks = std::make_shared<gate::GateHooks>();
    (void)r.add(std::move(gate_plugin));
    return r;
  }();
  return registry;
}

inline const SectionRegistry& audit_sections() { return audit_registry().sections(); }
inline const HookSet* audit_hooks() { return audit_registry().hooks().get(); }

}  // namespace flowgate::testing
