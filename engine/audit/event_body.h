// Internal to audit/: reading an event body for apply() quickly. A general JSON parser (nlohmann)
// costs several microseconds per body, most of it building objects apply() never reads; verify
// folds millions of events. parse_body_for_apply() builds only what apply() and fold_event() read
// of each core event type —
//   instance_started  everything (workflow, version, definition_hash, state, data, business_key)
//   transitioned      `to`, and of `changes` each field's `to`
//   data_changed      of `changes` each field's `to`
//   migrated          to_version, definition_hash, to_state, data
//   suspended, resumed, cancelled, completed: nothing
// — with a small strict parser (objects, arrays, strings with every escape, integers, true, false,
// null). Plugin events, and anything the small parser does not take (floating-point numbers,
// malformed text), are parsed in full by nlohmann, so the result is always what a full parse would
// give apply(). tests/unit/audit/event_body_test.cpp folds histories both ways.
//
// apply_from_text() goes one step further for the events that only move the lifecycle and change
// data (transitioned, data_changed, completed, suspended, resumed, cancelled): it reads the text
// and changes the state exactly as apply() would, with apply()'s own pieces (lifecycle_step,
// Value::from_json), without building any JSON object. Whenever anything is unusual (another
// type, a lifecycle step apply() refuses, an unknown field, a value of the wrong type, duplicate
// keys, text the small parser does not take) it changes nothing and returns false, and the caller
// uses parse_body_for_apply() and apply(), which give the authoritative result or error.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "definition/workflow.h"
#include "runtime/instance.h"

namespace flowgate::audit {

// False when `body` is not a JSON object.
bool parse_body_for_apply(std::string_view type, std::string_view body, nlohmann::json& out);

// True when the event was applied (as apply(s, {type, body}, wf, at_ms) would); false when `s` is
// unchanged and the caller must use apply().
bool apply_from_text(InstanceState& s, std::string_view type, std::string_view body,
                     const Workflow& wf, std::int64_t at_ms);

}  // namespace flowgate::audit
