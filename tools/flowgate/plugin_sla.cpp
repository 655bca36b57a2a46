// The SLA/OLA plugin, built in: [calendars], [sla] and [ola] sections and the clocks they define
// (plugins/sla, docs/sla.md).
#include "plugins/sla/sla_hooks.h"
#include "plugins/sla/sla_section.h"
#include "tools/flowgate/sections.h"

namespace flowgate::cli {
namespace {

BuiltinPluginRegistrar sla_plugin([] {
  return Plugin{"sla", std::make_shared<sla::SlaSectionHandler>(), sla::make_sla_hooks()};
});

}  // namespace
}  // namespace flowgate::cli
