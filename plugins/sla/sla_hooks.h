// The SLA/OLA plugin's part in decide/apply (runtime/hooks.h), plugin name "sla":
// - after_events evaluates every clock's start/pause/resume/stop/cancel/reset conditions on the
//   step (states entered and left, workflow events fired, data before → after) and records
//   "sla.*" events; warnings and breaches already due (a retroactive start, a smaller target) are
//   recorded in the same step, with their actions;
// - timers() asks for the next warning or breach of every running clock (timer id
//   "sla/<clock>/warning-<percent>" or "sla/<clock>/breach"), on_timer records it with its
//   lateness and performs its actions: notify (roles named in the event), set data (a core
//   data_changed event), fire a transition (functional escalation, by the actor "flowgate:sla",
//   with the full core fire semantics and the roles of the transitions it fires);
// - apply folds "sla.*" events into InstanceState::extra["sla"]; describe adds view["clocks"];
//   annotate_graph marks clocks on diagrams.
// docs/sla.md gives the semantics and every event body.
// Thread-safety: immutable after construction; all methods are pure.
#pragma once

#include <memory>

#include "runtime/hooks.h"

namespace flowgate::sla {

// The principal recorded as the actor of escalations the plugin fires.
inline constexpr const char* kSlaActor = "flowgate:sla";

class SlaHooks final : public InstanceHooks {
 public:
  SlaHooks();
  SlaHooks(const SlaHooks&) = delete;
  SlaHooks& operator=(const SlaHooks&) = delete;

  std::string name() const override { return "sla"; }
  Result<std::vector<Event>> after_events(const HookContext& ctx, const InstanceState& before,
                                          const InstanceState& after,
                                          std::span<const Event> events) const override;
  Result<std::vector<Event>> on_timer(const HookContext& ctx, const InstanceState& s,
                                      const TimerRecord& timer) const override;
  Result<void> apply(InstanceState& s, const Event& e, const Workflow& wf,
                     std::int64_t at_ms) const override;
  std::vector<TimerRecord> timers(const Workflow& wf, const InstanceState& s) const override;
  void describe(const Workflow& wf, const InstanceState& s, nlohmann::json& view) const override;
  // On states: the clocks entering them starts, stops, pauses or cancels ("start: sla.response");
  // on transitions a warning or breach fires: "on breach of ola.l1".
  void annotate_graph(const Workflow& wf, GraphAnnotations& notes) const override;

  // This plugin alone, for folding its own events into scratch states.
  const HookSet& self() const { return self_; }

 private:
  HookSet self_;
};

std::shared_ptr<const SlaHooks> make_sla_hooks();

}  // namespace flowgate::sla
