// The fixed lifecycle every instance goes through, independent of its workflow graph:
//   active ⇄ suspended, active → awaiting_gate → active, active → completed, any non-final →
//   cancelled. It is implemented once with Boost.MSM (lifecycle_msm.cpp, compiled as C++17);
// this header keeps MPL out of the rest of the code.
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string_view>

namespace flowgate {

enum class Lifecycle { kActive, kSuspended, kAwaitingGate, kCompleted, kCancelled };

enum class LifecycleEvent {
  kWork,  // fire a transition or update data: allowed only while active
  kSuspend,
  kResume,
  kAwaitGate,    // a gated transition opened a review round
  kGateDecided,  // the round closed (go/kill/recycle/recall)
  kComplete,     // a terminal state was reached
  kCancel,
  kMigrate,  // move to a newer definition version: allowed while active or suspended
};

// The lifecycle after `event`, or nullopt when the lifecycle forbids it.
std::optional<Lifecycle> lifecycle_step(Lifecycle from, LifecycleEvent event);

std::string_view lifecycle_name(Lifecycle l);  // "active", "suspended", "awaiting_gate", ...
std::optional<Lifecycle> parse_lifecycle(std::string_view name);
std::string_view lifecycle_event_name(LifecycleEvent e);
bool is_final(Lifecycle l);  // completed or cancelled

}  // namespace flowgate
