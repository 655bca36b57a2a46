// The fixed lifecycle of one SLA/OLA clock cycle, independent of what a process file says:
//   pending → running ⇄ paused → completed | cancelled; a closed clock starts again (its next
// cycle) from completed or cancelled, and a reset closes an open cycle back to pending, from
// which the next cycle starts. Breach is not a status
// but a flag on the clock: a breached clock keeps running until it is stopped. Implemented once
// with Boost.MSM (clock_lifecycle_msm.cpp, compiled as C++17); this header keeps MPL out of the
// rest of the plugin. Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string_view>

namespace flowgate::sla {

enum class ClockStatus { kPending, kRunning, kPaused, kCompleted, kCancelled };

enum class ClockEvent { kStart, kPause, kResume, kStop, kCancel, kReset };

// The status after `event`, or nullopt when the lifecycle forbids it.
std::optional<ClockStatus> clock_step(ClockStatus from, ClockEvent event);

std::string_view clock_status_name(ClockStatus s);  // "pending", "running", ...
std::optional<ClockStatus> parse_clock_status(std::string_view name);
std::string_view clock_event_name(ClockEvent e);  // "start", "pause", ...
// Running or paused: the cycle is open.
inline bool is_open(ClockStatus s) {
  return s == ClockStatus::kRunning || s == ClockStatus::kPaused;
}

}  // namespace flowgate::sla
