// The state of one clock of one instance: the fold of its "sla.*" events (apply_clock_event), kept
// as JSON in InstanceState::extra["sla"][<clock id>] (a compact positional array, docs/sla.md
// §Events). Everything time-dependent that the events do not carry (elapsed business time now,
// the due time of the next warning) is computed from it with the clock's calendar.
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "plugins/sla/clock_lifecycle.h"
#include "plugins/sla/sla_config.h"
#include "runtime/command.h"
#include "util/error.h"

namespace flowgate::sla {

// Event types (docs/sla.md lists their bodies).
namespace event {
inline constexpr const char* kStartDeferred = "sla.start_deferred";
inline constexpr const char* kStartDropped = "sla.start_dropped";
inline constexpr const char* kStarted = "sla.started";
inline constexpr const char* kPaused = "sla.paused";
inline constexpr const char* kResumed = "sla.resumed";
inline constexpr const char* kRetargeted = "sla.retargeted";
inline constexpr const char* kWarning = "sla.warning";
inline constexpr const char* kBreached = "sla.breached";
inline constexpr const char* kCompleted = "sla.completed";
inline constexpr const char* kCancelled = "sla.cancelled";
inline constexpr const char* kReset = "sla.reset";
inline constexpr const char* kActionFailed = "sla.action_failed";
}  // namespace event

struct ClockState {
  ClockStatus status = ClockStatus::kPending;
  bool breached = false;
  int cycle = 0;                              // 1-based once started; a reset begins the next
  std::optional<std::int64_t> requested_at;   // pending: a start waits for its target to be known
  std::int64_t started_at = 0;                // may lie before the start command (retroactive)
  std::int64_t target_ms = 0;                 // business ms
  std::string target_source;                  // "4h", "priority=P1", "deadline due_at"
  std::int64_t business_ms = 0;               // business time counted before `running_since`
  std::optional<std::int64_t> running_since;  // running: start of the current segment
  std::optional<std::int64_t> paused_at;      // paused: since when
  std::int64_t paused_ms = 0;                 // real time spent paused in this cycle
  std::int64_t paused_business_ms = 0;        // working time that passed while paused
  int pauses = 0;
  std::optional<std::int64_t> planned_breach_at;   // running: the breach instant (moved by pauses)
  std::optional<std::int64_t> original_breach_at;  // as planned when the cycle started
  std::vector<int> warned;                         // warning percentages recorded in this cycle
  std::optional<std::int64_t> breached_at;
  std::optional<std::int64_t> ended_at;  // completed, cancelled or reset
  bool met = false;                      // completed within its target

  nlohmann::json to_json() const;
  static Result<ClockState> from_json(const nlohmann::json& j);

  // Business time counted up to `at` (pauses excluded).
  std::int64_t elapsed_at(const BusinessCalendar& cal, std::int64_t at) const;
  // Running only: the instant `percent` % of the target is reached (nullopt: never).
  std::optional<std::int64_t> due_at(const BusinessCalendar& cal, int percent) const;
  bool has_warned(int percent) const;
};

// Clock states of an instance, from InstanceState::extra["sla"] (absent clocks are pending).
// A malformed entry is an error (kStorage): the state was not produced by apply.
Result<ClockState> clock_state(const nlohmann::json& extra, const std::string& clock_id);

// Folds one "sla.*" event into the clock it names; the clock lifecycle (MSM) must allow it.
Result<void> apply_clock_event(nlohmann::json& extra, const Event& e, std::int64_t at_ms);

}  // namespace flowgate::sla
