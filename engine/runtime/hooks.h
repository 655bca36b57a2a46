// How plugins take part in decide/apply. A plugin (SLA clocks, stage gates, third-party .so) is an
// InstanceHooks: every method is pure — same inputs, same outputs, no clock, no I/O, no globals —
// so replay and audit reproduce what it decided.
//
// Naming: a plugin named "sla" owns the event types "sla.*" and the timer ids "sla/..."; the core
// routes those to it. Its per-instance state lives in InstanceState::extra["sla"].
//
// How decide uses the hooks, for every command:
//   1. fire: after the core has chosen the transition (roles, payload, guard), each plugin's
//      before_transition may deny it (an error) or hold it (its events are recorded instead of the
//      move, e.g. a gate opening a review round).
//      timer: the owning plugin's on_timer gives the events; plugin command: its on_command.
//   2. The events are applied to a scratch copy; then each plugin, in registration order, gets
//      after_events(before, after, events) once and may add events (start/stop clocks, ...).
//   3. The engine asks each plugin for timers(after) and arms/disarms the difference to
//      timers(before) in the same transaction.
// Thread-safety: implementations must be immutable after construction (called from any thread).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "definition/graph.h"
#include "definition/value.h"
#include "definition/workflow.h"
#include "runtime/command.h"
#include "runtime/instance.h"
#include "store/records.h"
#include "util/error.h"

namespace flowgate {

struct HookContext {
  const Workflow& workflow;
  const Command& command;   // the command being decided (kind kTimer for timers)
  std::int64_t now_ms = 0;  // the command's time
};

struct TransitionVerdict {
  enum class Kind { kAllow, kHold, kDeny };
  Kind kind = Kind::kAllow;
  std::vector<Event> events;  // kHold: recorded instead of the transition
  Error error;                // kDeny: the refusal

  static TransitionVerdict allow() { return {}; }
  static TransitionVerdict hold(std::vector<Event> ev) { return {Kind::kHold, std::move(ev), {}}; }
  static TransitionVerdict deny(Error e) { return {Kind::kDeny, {}, std::move(e)}; }
};

class InstanceHooks {
 public:
  virtual ~InstanceHooks() = default;

  // Owns event types "<name>.*", timer ids "<name>/...", extra["<name>"], commands for "<name>".
  virtual std::string name() const = 0;

  // The transition `t` was chosen for a fire command; `payload` is parsed per t.payload.
  virtual TransitionVerdict before_transition(const HookContext&, const InstanceState&,
                                              const TransitionDef&, std::span<const Value>) const {
    return TransitionVerdict::allow();
  }

  // Events were applied (before → after); add more (may be empty). Called once per command.
  virtual Result<std::vector<Event>> after_events(const HookContext&, const InstanceState& before,
                                                  const InstanceState& after,
                                                  std::span<const Event> events) const {
    (void)before, (void)after, (void)events;
    return std::vector<Event>{};
  }

  // One of this plugin's timers came due. ctx.now_ms - timer.due_ms is its lateness. After it,
  // timers() must no longer contain this timer id with this due time.
  virtual Result<std::vector<Event>> on_timer(const HookContext&, const InstanceState&,
                                              const TimerRecord&) const {
    return std::vector<Event>{};
  }

  // A command addressed to this plugin (Command::kind == kPlugin, Command::action, payload).
  virtual Result<std::vector<Event>> on_command(const HookContext& ctx,
                                                const InstanceState&) const {
    return fail(ErrorCode::kInvalidArgument,
                "plugin `" + name() + "` takes no command `" + ctx.command.action + "`");
  }

  // Folds one of this plugin's events into `s` (usually s.extra[name()]); may move the lifecycle
  // with lifecycle_step (a gate round: active → awaiting_gate → active).
  virtual Result<void> apply(InstanceState& s, const Event& e, const Workflow& wf,
                             std::int64_t at_ms) const {
    (void)s, (void)e, (void)wf, (void)at_ms;
    return {};
  }

  // The timers this plugin wants armed for `s` (pure function of the state). Ids are per instance
  // ("sla/response/breach"); the engine keeps each instance's timers apart.
  virtual std::vector<TimerRecord> timers(const Workflow&, const InstanceState&) const {
    return {};
  }

  // Adds this plugin's share of the instance view (e.g. view["clocks"], view["gate"]).
  virtual void describe(const Workflow&, const InstanceState&, nlohmann::json& view) const {
    (void)view;
  }

  // Adds this plugin's lines to a diagram of `wf` (clocks on states, reviewers on gated
  // transitions). Not part of decide: it may be called without any instance.
  virtual void annotate_graph(const Workflow&, GraphAnnotations& notes) const { (void)notes; }
};

// The plugins an engine runs with, in registration order.
class HookSet {
 public:
  void add(std::shared_ptr<const InstanceHooks> hooks) { hooks_.push_back(std::move(hooks)); }
  const std::vector<std::shared_ptr<const InstanceHooks>>& all() const { return hooks_; }
  const InstanceHooks* find(std::string_view name) const {
    for (const auto& h : hooks_) {
      if (h->name() == name) return h.get();
    }
    return nullptr;
  }
  // The plugin owning an event type "<name>.x" or a timer id "<name>/x"; null for core types.
  const InstanceHooks* owner_of(std::string_view type_or_timer) const {
    auto cut = type_or_timer.find_first_of("./");
    return cut == std::string_view::npos ? nullptr : find(type_or_timer.substr(0, cut));
  }

 private:
  std::vector<std::shared_ptr<const InstanceHooks>> hooks_;
};

}  // namespace flowgate
