// The compiled SLA/OLA configuration of one workflow version: its business calendars and clock
// definitions, as read from [calendars.<id>], [sla.<id>] and [ola.<id>] by the section handler
// (sla_section.h) and stored in Workflow::extensions["sla"]. docs/sla.md documents the format.
// Thread-safety: immutable after loading; shared read-only.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "definition/expr.h"
#include "definition/workflow.h"
#include "plugins/sla/calendar.h"

namespace flowgate::sla {

enum class ClockKind { kSla, kOla };
std::string_view clock_kind_name(ClockKind k);  // "sla", "ola"

// One condition (start, pause, resume, stop, cancel, reset). It fires in a step when any of its
// triggers fires: the step entered or left one of the states, fired one of the workflow events,
// or made the expression become true (false or unset before the step, true after). At instance
// start the "before" side counts as false everywhere.
struct Condition {
  std::vector<std::string> enter;
  std::vector<std::string> leave;
  std::vector<std::string> events;
  std::optional<Expression> when;
  bool when_falls = false;  // fires when `when` becomes false instead (an implied resume)
  SourceLocation where;

  bool empty() const { return enter.empty() && leave.empty() && events.empty() && !when; }
};

// What a warning or the breach does besides recording its event.
struct Action {
  std::vector<std::string> notify;  // roles to tell (carried in the event, for the watch stream)
  std::vector<Assignment> set;      // data assignments (a data_changed event)
  std::string fire;                 // workflow event fired as escalation ("" = none)
  nlohmann::json payload = nlohmann::json::object();  // its payload

  bool empty() const { return notify.empty() && set.empty() && fire.empty(); }
};

struct Warning {
  int percent = 50;  // 1..99 of the target
  Action action;
};

// The target of a cycle: a fixed business duration, a duration chosen by a data field's value,
// or a deadline (a datetime field) converted to business time at the start.
struct Target {
  enum class Kind { kFixed, kByField, kDeadline };
  Kind kind = Kind::kFixed;
  std::int64_t fixed_ms = 0;
  std::string field;  // kByField, kDeadline
  std::size_t field_index = 0;
  std::map<std::string, std::int64_t> by_value;  // field value (Value::to_string) → ms
  std::optional<std::int64_t> default_ms;        // kByField: values not listed
};

struct ClockDef {
  std::string id;
  ClockKind kind = ClockKind::kSla;
  std::string name;
  std::string description;
  std::string calendar_id;                           // "" = 24x7
  std::shared_ptr<const BusinessCalendar> calendar;  // never null (BusinessCalendar::always())
  Condition start, pause, resume, stop, cancel, reset;
  std::optional<std::size_t> retroactive_field;  // datetime field the start is moved back to
  std::string retroactive_name;
  Target target;
  std::vector<Warning> warnings;  // ascending percent
  Action breach;
  SourceLocation where;
};

struct SlaConfig {
  std::map<std::string, std::shared_ptr<const BusinessCalendar>> calendars;
  std::vector<ClockDef> clocks;  // in file order

  const ClockDef* clock(std::string_view id) const;
};

}  // namespace flowgate::sla
