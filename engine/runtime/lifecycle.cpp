#include "runtime/lifecycle.h"

namespace flowgate {

std::string_view lifecycle_name(Lifecycle l) {
  switch (l) {
    case Lifecycle::kActive:
      return "active";
    case Lifecycle::kSuspended:
      return "suspended";
    case Lifecycle::kAwaitingGate:
      return "awaiting_gate";
    case Lifecycle::kCompleted:
      return "completed";
    case Lifecycle::kCancelled:
      return "cancelled";
  }
  return "unknown";
}

std::optional<Lifecycle> parse_lifecycle(std::string_view name) {
  for (Lifecycle l : {Lifecycle::kActive, Lifecycle::kSuspended, Lifecycle::kAwaitingGate,
                      Lifecycle::kCompleted, Lifecycle::kCancelled}) {
    if (lifecycle_name(l) == name) return l;
  }
  return std::nullopt;
}

std::string_view lifecycle_event_name(LifecycleEvent e) {
  switch (e) {
    case LifecycleEvent::kWork:
      return "work";
    case LifecycleEvent::kSuspend:
      return "suspend";
    case LifecycleEvent::kResume:
      return "resume";
    case LifecycleEvent::kAwaitGate:
      return "await_gate";
    case LifecycleEvent::kGateDecided:
      return "gate_decided";
    case LifecycleEvent::kComplete:
      return "complete";
    case LifecycleEvent::kCancel:
      return "cancel";
    case LifecycleEvent::kMigrate:
      return "migrate";
  }
  return "unknown";
}

bool is_final(Lifecycle l) { return l == Lifecycle::kCompleted || l == Lifecycle::kCancelled; }

}  // namespace flowgate
