// The plugin sections the shipped process files use (SLA clocks, calendars, stage gates), as the
// flowgate CLI reads them. For tests that load workflows/*.toml without the CLI's plugin registry.
// Link flowgate_sla and flowgate_gate to use it.
#pragma once

#include <memory>

#include "definition/loader.h"
#include "plugins/gate/gate_config.h"
#include "plugins/sla/sla_section.h"

namespace flowgate::test {

inline const SectionRegistry& plugin_sections() {
  static const SectionRegistry registry = [] {
    SectionRegistry r;
    r.add(std::make_shared<sla::SlaSectionHandler>());
    r.add(std::make_shared<gate::GateSections>());
    return r;
  }();
  return registry;
}

}  // namespace flowgate::test
