// An instance's history as a timeline a person reads (`flowgate history`): per event the time,
// what happened, the move (from → to), who did it (and for whom), the data it changed, and for each
// move the time the instance had spent in the state it left; review rounds and votes of the gate
// plugin ("gate.*") and the SLA/OLA clocks' starts, pauses, warnings, breaches and ends ("sla.*")
// in words; and a summary of the time spent in each state and stage. Built from the stored events
// alone (and the definition for state and stage names, when it is at hand).
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "definition/workflow.h"
#include "store/records.h"

namespace flowgate::audit {

struct TimelineEntry {
  std::int64_t seq = 0;
  std::int64_t at_ms = 0;
  std::string type;      // the event type
  std::string kind;      // "start", "move", "data", "lifecycle", "gate", "clock", "other"
  std::string what;      // e.g. "qualify_lead", "vote go", "warning 75% of Response (sla)"
  std::string from, to;  // the state move, when there is one
  std::string actor;     // "ana (AR)", "flowgate:timer", "bob for ann (service_desk)"
  std::string details;   // data changes, reasons, scores, due times
  std::optional<std::int64_t> time_in_from_ms;  // moves: time spent in `from` until this event
  bool alert = false;  // a breach, a kill, a cancellation: worth a second look
};

// One stay in a state: entered at `entered_ms`, left at `left_ms` (none: still there).
struct StateStay {
  std::string state;
  std::string stage;
  std::int64_t entered_ms = 0;
  std::optional<std::int64_t> left_ms;
};

struct StateTotal {
  std::string state;
  std::string stage;
  int visits = 0;
  std::int64_t total_ms = 0;  // closed stays only, plus the open one up to `until_ms`
};

struct Timeline {
  std::string instance_id;
  std::string workflow_id;
  int version = 0;
  std::vector<TimelineEntry> entries;
  std::vector<StateStay> stays;
  std::vector<StateTotal> states;  // in order of first entry
  std::vector<StateTotal> stages;  // per stage, in order of first entry
  std::int64_t until_ms = 0;       // the open stay is counted up to here (the last event's time)

  nlohmann::json to_json() const;
};

// `events` of one instance in sequence order; `wf` (may be null) names states and stages.
Timeline build_timeline(const std::vector<EventRecord>& events, const Workflow* wf);

// The timeline as a table for a terminal (lines end in '\n').
std::string render_timeline(const Timeline& t);

// "ana (AR)", "flowgate:timer", "bob for ann (service_desk)" — roles shown when at most three.
std::string describe_actor(const nlohmann::json& actor);

// A value as a person reads it: strings bare, null as "-", anything else as compact JSON.
std::string describe_value(const nlohmann::json& v);

// A `data_changed`/`transitioned` "changes" object as "field: from → to, ...".
std::string describe_changes(const nlohmann::json& changes);

}  // namespace flowgate::audit
