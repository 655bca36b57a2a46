// Which command produced a recorded event? Replay reconstructs commands from the history alone:
// the first event of each command tells what was asked —
//   instance_started → start (workflow, pinned version, data, business key)
//   transitioned     → fire (event, payload)
//   data_changed     → update (the new values)
//   suspended, resumed, cancelled → the same lifecycle command (reason)
//   migrated         → migrate (target version, old state → new state)
//   "<plugin>.*"     → a timer of that plugin that was armed and due then (its timers() of the
//                      state before the event, due at or before the event's time), a command to
//                      the plugin (gate.voted → vote, gate.recalled → recall with the payload
//                      keys docs/gates.md lists; other types: action = the part after the dot,
//                      payload = the body), or a fire held by the plugin (body `event` and
//                      `payload`, e.g. gate.submitted)
// always with the recorded actor and at the recorded time. `completed` never starts a command.
// Several candidates may be returned; replay keeps those whose decide() reproduces the record.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "audit/definitions.h"
#include "audit/fold.h"
#include "runtime/command.h"
#include "runtime/hooks.h"

namespace flowgate::audit {

struct CommandCandidate {
  Command command;
  const Workflow* workflow = nullptr;  // what decide runs against (start: the pinned version)
  const Workflow* target = nullptr;    // migrate
};

// `f` is the instance before the event (not started yet for instance_started).
std::vector<CommandCandidate> candidate_commands(const Event& first, const nlohmann::json& actor,
                                                 std::int64_t at_ms, const FoldState& f,
                                                 const DefinitionSet& defs, const HookSet* hooks);

// "fire `escalate` with {...}", "timer sla/resolution/breach due 2026-…", ... for messages.
std::string describe(const Command& c);

}  // namespace flowgate::audit
