// The section handler of the SLA plugin: claims [calendars.<id>], [sla.<id>] and [ola.<id>],
// validates them against the core model with file:line:col diagnostics (rule ids in docs/sla.md)
// and compiles an immutable SlaConfig into Workflow::extensions["sla"].
// Thread-safety: stateless; compile() is reentrant.
#pragma once

#include <memory>

#include "definition/section_registry.h"
#include "plugins/sla/sla_config.h"

namespace flowgate::sla {

// Rule ids of the plugin's own checks (the core ids KEY-UNKNOWN, KEY-MISSING, VALUE-TYPE,
// VALUE-INVALID, ID-INVALID, ID-DUPLICATE, GUARD-SYNTAX, GUARD-TYPE and SET-* are reused).
namespace rule {
inline constexpr std::string_view kTimezoneUnknown = "SLA-TIMEZONE-UNKNOWN";
inline constexpr std::string_view kHoursOverlap = "SLA-HOURS-OVERLAP";
inline constexpr std::string_view kCalendarEmpty = "SLA-CALENDAR-EMPTY";
inline constexpr std::string_view kCalendarUnknown = "SLA-CALENDAR-UNKNOWN";
inline constexpr std::string_view kStateUnknown = "SLA-STATE-UNKNOWN";
inline constexpr std::string_view kEventUnknown = "SLA-EVENT-UNKNOWN";
inline constexpr std::string_view kFieldUnknown = "SLA-FIELD-UNKNOWN";
inline constexpr std::string_view kFieldType = "SLA-FIELD-TYPE";
inline constexpr std::string_view kRoleUnknown = "SLA-ROLE-UNKNOWN";
inline constexpr std::string_view kConditionEmpty = "SLA-CONDITION-EMPTY";
inline constexpr std::string_view kResumeMissing = "SLA-RESUME-MISSING";
inline constexpr std::string_view kPauseMissing = "SLA-PAUSE-MISSING";
inline constexpr std::string_view kTargetConflict = "SLA-TARGET-CONFLICT";
inline constexpr std::string_view kTargetValue = "SLA-TARGET-VALUE";
inline constexpr std::string_view kTargetIncomplete = "SLA-TARGET-INCOMPLETE";
inline constexpr std::string_view kWarningPercent = "SLA-WARNING-PERCENT";
inline constexpr std::string_view kPayloadInvalid = "SLA-PAYLOAD-INVALID";
}  // namespace rule

class SlaSectionHandler : public SectionHandler {
 public:
  std::string name() const override { return "sla"; }
  std::vector<std::string> sections() const override { return {"calendars", "sla", "ola"}; }
  std::shared_ptr<const void> compile(const toml::table& root, const Workflow& wf,
                                      const std::string& file, Diagnostics& diags) const override;
};

// The SlaConfig of a loaded workflow, or null when it has no SLA sections.
inline const SlaConfig* sla_config(const Workflow& wf) { return wf.extension<SlaConfig>("sla"); }

}  // namespace flowgate::sla
