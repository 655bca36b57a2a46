// The deterministic core. decide() turns (definition, state, command, time) into the events the
// command causes, or a typed error; apply() folds one event into state. Both are pure: no clock, no
// I/O, no globals. Replay is apply() folded over stored events; an audit re-runs decide() to check
// each recorded step was legal.
//
// Fire semantics: the transitions leaving the current state on the event are tried highest priority
// first; those whose roles the actor lacks are skipped (none left → kForbidden); for each, the
// payload is parsed against its declared fields, its `set` assignments are evaluated on the data
// before the step, and its guard is evaluated on the data as it would be after them (with the
// payload as `event.*`). The first whose guard holds is taken, and its assignments apply atomically
// with the move. Reaching a terminal state also emits `completed`.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <vector>

#include "definition/workflow.h"
#include "runtime/command.h"
#include "runtime/hooks.h"
#include "runtime/instance.h"
#include "util/error.h"

namespace flowgate {

struct DecideInput {
  const Workflow& workflow;    // the version the instance is pinned to (start: chosen version)
  const InstanceState* state;  // null for start
  const Command& command;
  std::int64_t now_ms = 0;
  const Workflow* target = nullptr;  // migrate: the version to move to
  const HookSet* hooks = nullptr;    // plugins taking part (see hooks.h); null = core only
};

// For start, command.instance_id is the id the new instance will get.
Result<std::vector<Event>> decide(const DecideInput& in);

// Folds `e` into `s`. `wf` is the definition the instance is pinned to after the event (for
// `migrated`, the target version). `at_ms` is the event's recorded time. Increments last_seq.
// Plugin events ("<plugin>.*") go to their plugin's apply; without `hooks` they only count.
// A malformed event (e.g. a tampered log in replay) is an error and leaves `s` unspecified.
Result<void> apply(InstanceState& s, const Event& e, const Workflow& wf, std::int64_t at_ms,
                   const HookSet* hooks = nullptr);

// For plugins that need a core step (SLA escalation, a gate's "go"):
// The full core fire semantics (lifecycle, roles, payload, guards, priorities) without plugin
// hooks: what decide() would record for `fire` before plugins take part.
Result<std::vector<Event>> fire_events(const Workflow& wf, const InstanceState& s,
                                       const Command& fire, std::int64_t now_ms);
// Takes transition `t` with `payload` unconditionally (no lifecycle, role or guard check): parses
// the payload, evaluates its `set` assignments, checks the data, and returns
// [transitioned, completed?].
Result<std::vector<Event>> transition_events(const Workflow& wf, const InstanceState& s,
                                             const TransitionDef& t, const nlohmann::json& payload,
                                             std::int64_t now_ms);

// The events allowed now from `s`, given its lifecycle (empty unless active).
std::vector<std::string> allowed_events(const Workflow& wf, const InstanceState& s);

}  // namespace flowgate
