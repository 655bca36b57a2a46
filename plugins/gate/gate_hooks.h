// The stage-gate plugin's part in decide/apply (engine/runtime/hooks.h). Firing a gated transition
// opens a review round instead of moving the instance (it waits in `awaiting_gate`); gatekeepers
// vote with plugin commands ("vote", "recall"); the plugin computes the round's outcome from the
// votes and, when it closes, records the decision and takes the held transition (go), the declared
// exit (kill) or the declared way back (recycle), or opens the next round (hold).
//
// Events (docs/gates.md §Events): gate.submitted, gate.voted, gate.decided, gate.reopened,
// gate.recalled, gate.cancelled. State: InstanceState::extra["gate"] = {"rounds": {gate: last round
// number}, "open": round or null, "closed": [summary of each closed round]}. Thread-safety:
// immutable; every method is pure.
#pragma once

#include <string>

#include "runtime/hooks.h"

namespace flowgate::gate {

// Event types.
inline constexpr const char* kSubmitted = "gate.submitted";
inline constexpr const char* kVoted = "gate.voted";
inline constexpr const char* kDecided = "gate.decided";
inline constexpr const char* kReopened = "gate.reopened";
inline constexpr const char* kRecalled = "gate.recalled";
inline constexpr const char* kCancelled = "gate.cancelled";  // the instance was cancelled mid-round

class GateHooks : public InstanceHooks {
 public:
  std::string name() const override;
  TransitionVerdict before_transition(const HookContext& ctx, const InstanceState& s,
                                      const TransitionDef& t,
                                      std::span<const Value> payload) const override;
  Result<std::vector<Event>> on_command(const HookContext& ctx,
                                        const InstanceState& s) const override;
  Result<std::vector<Event>> after_events(const HookContext& ctx, const InstanceState& before,
                                          const InstanceState& after,
                                          std::span<const Event> events) const override;
  Result<void> apply(InstanceState& s, const Event& e, const Workflow& wf,
                     std::int64_t at_ms) const override;
  void describe(const Workflow& wf, const InstanceState& s, nlohmann::json& view) const override;
  // Reviewers and quorum on gated transitions, "kill/recycle of gate X" on exits (graph_notes.h).
  void annotate_graph(const Workflow& wf, GraphAnnotations& notes) const override;
};

// The person behind a command: the one acted for, else the principal.
std::string person_of(const Actor& actor);

}  // namespace flowgate::gate
