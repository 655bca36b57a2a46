// The plugins the scenario tests run with (the CLI's built-in SLA and gate plugins), and paths of
// the fixtures under tests/fixtures/scenario/.
#pragma once

#include <memory>
#include <string>

#include "definition/section_registry.h"
#include "plugins/gate/gate_config.h"
#include "plugins/gate/gate_hooks.h"
#include "plugins/sla/sla_hooks.h"
#include "plugins/sla/sla_section.h"
#include "runtime/hooks.h"
#include "scenario/runner.h"
#include "scenario/scenario.h"

namespace scenario_test {

inline const flowgate::SectionRegistry& sections() {
  static const flowgate::SectionRegistry registry = [] {
    flowgate::SectionRegistry r;
    r.add(std::make_shared<flowgate::sla::SlaSectionHandler>());
    r.add(std::make_shared<flowgate::gate::GateSections>());
    return r;
  }();
  return registry;
}

inline std::shared_ptr<const flowgate::HookSet> hooks() {
  static const auto set = [] {
    auto h = std::make_shared<flowgate::HookSet>();
    h->add(flowgate::sla::make_sla_hooks());
    h->add(std::make_shared<flowgate::gate::GateHooks>());
    return h;
  }();
  return set;
}

inline flowgate::scenario::RunOptions run_options() {
  flowgate::scenario::RunOptions o;
  o.hooks = hooks();
  o.sections = &sections();
  return o;
}

inline std::string fixture(const std::string& name) {
  return std::string(FLOWGATE_SOURCE_DIR) + "/tests/fixtures/scenario/" + name;
}

inline std::string shipped(const std::string& name) {
  return std::string(FLOWGATE_SOURCE_DIR) + "/workflows/" + name;
}

}  // namespace scenario_test
