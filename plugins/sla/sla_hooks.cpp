// How a step moves the clocks. For each clock, in file order:
//   not running (pending, completed, cancelled): start fires (and neither stop nor cancel) → a
//                      new cycle starts (or is deferred while its target is unknown; a deferred
//                      start begins once it is known, at the time it was asked for)
//   running / paused   cancel → cancelled; else reset → the cycle closes and the next starts at
//                      once; else stop → completed (met or breached), and when start fires too the
//                      next cycle starts at once; else pause (running) / resume (paused)
// then a by-field or deadline target is re-read when the data changed, warnings and the breach
// already due are recorded (with their actions), and a clock still open when the instance ends
// (terminal state or cancelled) is cancelled. Actions that fire transitions may move the instance
// again: the conditions are then evaluated on those moves too (a few rounds at most).
#include "plugins/sla/sla_hooks.h"

#include <algorithm>
#include <array>
#include <map>
#include <set>

#include <fmt/format.h>

#include "definition/graph.h"
#include "plugins/sla/clock_state.h"
#include "plugins/sla/sla_section.h"
#include "runtime/data_rules.h"
#include "runtime/decide.h"

namespace flowgate::sla {

using nlohmann::json;

namespace {

constexpr int kMaxRounds = 4;  // escalations that trigger escalations: bounded

bool is_sla_event(const Event& e) { return e.type.starts_with("sla."); }

// What a step did, as the conditions see it.
struct Facts {
  std::set<std::string> entered, left, fired;
  bool fresh = false;  // nothing held before (instance start, or a migration to a new layout)
  std::string ended;   // "instance_completed", "instance_cancelled" or ""
  std::vector<Value> before_data, after_data;
  bool data_changed = false;
};

Facts facts_of(std::span<const Event> events, const std::vector<Value>& before_data,
               const std::vector<Value>& after_data, std::size_t field_count) {
  Facts f;
  for (const Event& e : events) {
    const json& b = e.body;
    if (e.type == events::kInstanceStarted) {
      f.fresh = true;
      f.entered.insert(b.value("state", std::string()));
    } else if (e.type == events::kTransitioned) {
      f.fired.insert(b.value("event", std::string()));
      std::string from = b.value("from", std::string());
      std::string to = b.value("to", std::string());
      if (from != to) {
        f.left.insert(from);
        f.entered.insert(to);
      }
    } else if (e.type == events::kMigrated) {
      f.fresh = true;
      std::string from = b.value("from_state", std::string());
      std::string to = b.value("to_state", std::string());
      if (from != to) {
        f.left.insert(from);
        f.entered.insert(to);
      }
    } else if (e.type == events::kCompleted) {
      f.ended = "instance_completed";
    } else if (e.type == events::kCancelled) {
      f.ended = "instance_cancelled";
    } else if (auto dot = e.type.find('.'); dot != std::string::npos && !is_sla_event(e)) {
      // Another plugin's event: by its type, and by "<type>:<id>" when its body names its subject
      // under the plugin's name (a gate event's "gate").
      f.fired.insert(e.type);
      auto subject = b.find(e.type.substr(0, dot));
      if (subject != b.end() && subject->is_string()) {
        f.fired.insert(e.type + ":" + subject->get<std::string>());
      }
    }
  }
  if (before_data.size() != field_count) f.fresh = true;
  f.before_data = f.fresh ? std::vector<Value>(field_count) : before_data;
  f.after_data = after_data;
  f.data_changed = f.before_data != f.after_data;
  return f;
}

bool holds(const Expression& e, const std::vector<Value>& data, std::int64_t now) {
  if (data.empty() && !e.data_refs().empty()) return false;
  auto r = e.test(EvalInput{data, {}, now});
  return r && *r;  // an evaluation error counts as false (docs/sla.md)
}

bool fires(const Condition& c, const Facts& f, std::int64_t now) {
  auto any_in = [](const std::vector<std::string>& names, const std::set<std::string>& seen) {
    return std::any_of(names.begin(), names.end(), [&](const auto& n) { return seen.count(n); });
  };
  if (any_in(c.enter, f.entered) || any_in(c.leave, f.left) || any_in(c.events, f.fired)) {
    return true;
  }
  if (!c.when) return false;
  bool before = !f.fresh && holds(*c.when, f.before_data, now);
  bool after = holds(*c.when, f.after_data, now);
  return c.when_falls ? (before && !after) : (!before && after);
}

json time_json(std::optional<std::int64_t> ms) {
  return ms ? json(format_datetime_ms(*ms)) : json(nullptr);
}

// One plugin step: events are recorded in order and folded at once into a scratch copy of the
// instance, so every later decision sees the clocks and data as they are now. The copy is made on
// the first event: most steps move no clock and only read the state they were given.
class Step {
 public:
  Step(const SlaHooks& hooks, const HookContext& ctx, const InstanceState& given)
      : hooks_(hooks), ctx_(ctx), s_(&given) {}
  Step(const Step&) = delete;
  Step& operator=(const Step&) = delete;

  const Workflow& wf() const { return ctx_.workflow; }
  std::int64_t now() const { return ctx_.now_ms; }
  const InstanceState& state() const { return *s_; }
  std::vector<Event> take() { return std::move(events_); }
  std::size_t size() const { return events_.size(); }
  const std::vector<Event>& events() const { return events_; }

  Result<ClockState> clock(const std::string& id) const {
    auto it = s_->extra.find("sla");
    if (it == s_->extra.end()) return ClockState{};
    return clock_state(*it, id);
  }

  Result<void> emit(std::string type, json body) {
    if (!scratch_) {
      scratch_ = *s_;
      s_ = &*scratch_;
    }
    Event e{std::move(type), std::move(body)};
    auto ok = flowgate::apply(*scratch_, e, ctx_.workflow, ctx_.now_ms, &hooks_.self());
    if (!ok) {
      return fail(ErrorCode::kInternal, fmt::format("the SLA plugin produced an event it cannot "
                                                    "apply (`{}`): {}",
                                                    e.type, ok.error().message));
    }
    events_.push_back(std::move(e));
    return {};
  }

 private:
  const SlaHooks& hooks_;
  const HookContext& ctx_;
  const InstanceState* s_;  // the given state, or scratch_ once an event is folded
  std::optional<InstanceState> scratch_;
  std::vector<Event> events_;
};

json base_body(const ClockDef& def, int cycle) {
  return {{"clock", def.id}, {"kind", std::string(clock_kind_name(def.kind))}, {"cycle", cycle}};
}

struct ResolvedTarget {
  std::int64_t ms = 0;
  std::string source;
};

// The target of a cycle started at `start` given the data now; nullopt while it is unknown.
std::optional<ResolvedTarget> resolve_target(const ClockDef& def, const std::vector<Value>& data,
                                             std::int64_t start) {
  const Target& t = def.target;
  switch (t.kind) {
    case Target::Kind::kFixed:
      return ResolvedTarget{t.fixed_ms, format_business_duration(t.fixed_ms)};
    case Target::Kind::kByField: {
      const Value& v = t.field_index < data.size() ? data[t.field_index] : Value();
      if (!v.is_null()) {
        auto it = t.by_value.find(v.to_string());
        if (it != t.by_value.end()) {
          return ResolvedTarget{it->second, fmt::format("{}={}", t.field, v.to_string())};
        }
      }
      if (t.default_ms && !v.is_null()) {
        return ResolvedTarget{*t.default_ms,
                              fmt::format("{}={} (default)", t.field, v.to_string())};
      }
      return std::nullopt;
    }
    case Target::Kind::kDeadline: {
      const Value& v = t.field_index < data.size() ? data[t.field_index] : Value();
      if (v.is_null()) return std::nullopt;
      return ResolvedTarget{def.calendar->between(start, v.as_int()),
                            fmt::format("deadline {} = {}", t.field, v.to_string())};
    }
  }
  return std::nullopt;
}

std::string unknown_target_reason(const ClockDef& def) {
  return def.target.kind == Target::Kind::kDeadline
             ? fmt::format("the deadline field '{}' is not set", def.target.field)
             : fmt::format("no target for the current value of '{}'", def.target.field);
}

// Business and real pause totals of the cycle, counting an ongoing pause up to `now`.
struct Totals {
  std::int64_t business = 0;
  std::int64_t paused = 0;
  std::int64_t paused_business = 0;
};

Totals totals(const ClockDef& def, const ClockState& st, std::int64_t now) {
  Totals t{st.elapsed_at(*def.calendar, now), st.paused_ms, st.paused_business_ms};
  if (st.paused_at) {
    t.paused += now - *st.paused_at;
    t.paused_business += def.calendar->between(*st.paused_at, now);
  }
  return t;
}

json closing_body(const ClockDef& def, const ClockState& st, std::int64_t now) {
  Totals t = totals(def, st, now);
  json b = base_body(def, st.cycle);
  b["business_elapsed_ms"] = t.business;
  b["elapsed_ms"] = now - st.started_at;
  b["paused_ms"] = t.paused;
  b["paused_business_ms"] = t.paused_business;
  b["target_ms"] = st.target_ms;
  b["started_at"] = format_datetime_ms(st.started_at);
  b["original_breach_at"] = time_json(st.original_breach_at);
  return b;
}

Result<void> start_cycle(Step& step, const ClockDef& def, const ClockState& st,
                         std::int64_t asked_at) {
  const std::int64_t now = step.now();
  std::int64_t start = asked_at;
  bool retroactive = asked_at < now;
  // The field moves a start back when it names a moment after the previous cycle's start (always
  // for the first cycle): a new meeting moves the next call-back clock, while a reopened issue
  // does not go back to when it was first reported.
  if (def.retroactive_field) {
    const Value& v = step.state().data[*def.retroactive_field];
    if (!v.is_null() && v.as_int() < start && (st.cycle == 0 || v.as_int() > st.started_at)) {
      start = v.as_int();
      retroactive = true;
    }
  }
  auto target = resolve_target(def, step.state().data, start);
  if (!target) {
    if (st.requested_at) return {};  // still waiting
    json b = base_body(def, st.cycle);
    b["requested_at"] = format_datetime_ms(asked_at);
    b["reason"] = unknown_target_reason(def);
    return step.emit(event::kStartDeferred, std::move(b));
  }
  json b = base_body(def, st.cycle + 1);
  b["started_at"] = format_datetime_ms(start);
  b["retroactive"] = retroactive;
  b["target_ms"] = target->ms;
  b["target"] = format_business_duration(target->ms);
  b["target_source"] = target->source;
  b["calendar"] = def.calendar_id.empty() ? "24x7" : def.calendar_id;
  b["planned_breach_at"] = time_json(def.calendar->add(start, target->ms));
  b["business_elapsed_ms"] = def.calendar->between(start, now);
  return step.emit(event::kStarted, std::move(b));
}

Result<void> perform(Step& step, const ClockDef& def, const ClockState& st, const Action& action,
                     const std::string& on) {
  const std::int64_t now = step.now();
  auto failed = [&](const char* what, const Error& e) {
    json b = base_body(def, st.cycle);
    b["on"] = on;
    b["action"] = what;
    b["error"] = e.message;
    b["code"] = std::string(error_code_name(e.code));
    return step.emit(event::kActionFailed, std::move(b));
  };
  if (!action.set.empty()) {
    const InstanceState& s = step.state();
    std::optional<Error> problem;
    if (!lifecycle_step(s.lifecycle, LifecycleEvent::kWork)) {
      problem = Error(ErrorCode::kLifecycle,
                      fmt::format("the instance is {}", lifecycle_name(s.lifecycle)));
    }
    json changes = json::object();
    for (const Assignment& a : action.set) {
      if (problem) break;
      auto v = a.value.evaluate(EvalInput{s.data, {}, now});
      if (!v) {
        problem = v.error();
        break;
      }
      const FieldDef& field = step.wf().fields[a.field_index];
      Value value = coerce_to_field(field, std::move(*v));
      if (auto ok = check_field_value(field, value); !ok) {
        problem = ok.error();
        break;
      }
      if (!(value == s.data[a.field_index])) {
        changes[a.field] = {{"from", s.data[a.field_index].to_json()}, {"to", value.to_json()}};
      }
    }
    if (problem) {
      if (auto ok = failed("set", *problem); !ok) return ok;
    } else if (!changes.empty()) {
      if (auto ok = step.emit(events::kDataChanged, {{"changes", std::move(changes)}}); !ok) {
        return ok;
      }
    }
  }
  if (!action.fire.empty()) {
    const InstanceState& s = step.state();
    Command fire;
    fire.kind = CommandKind::kFire;
    fire.instance_id = s.id;
    fire.event = action.fire;
    fire.payload = action.payload;
    fire.actor.principal = kSlaActor;
    // The process file asked for this escalation: it acts with the roles of the transitions it
    // fires, and everything else (lifecycle, payload, guards, priorities) is the core's.
    std::set<std::string> roles;
    for (const TransitionDef* t : step.wf().candidates(s.state, action.fire)) {
      roles.insert(t->roles.begin(), t->roles.end());
    }
    fire.actor.roles.assign(roles.begin(), roles.end());
    auto moved = fire_events(step.wf(), s, fire, now);
    if (!moved) return failed("fire", moved.error());
    for (Event& e : *moved) {
      if (auto ok = step.emit(e.type, std::move(e.body)); !ok) return ok;
    }
  }
  return {};
}

// Records every warning and the breach due by `limit` (in due order), with their actions.
Result<void> catch_up(Step& step, const ClockDef& def, std::int64_t limit) {
  const std::int64_t now = step.now();
  for (;;) {
    auto st = step.clock(def.id);
    if (!st) return fail(st.error());
    if (st->status != ClockStatus::kRunning || st->breached) return {};
    const Warning* next = nullptr;
    for (const Warning& w : def.warnings) {
      if (!st->has_warned(w.percent)) {
        next = &w;
        break;
      }
    }
    auto due = st->due_at(*def.calendar, next ? next->percent : 100);
    if (!due || *due > limit) return {};
    const Action& action = next ? next->action : def.breach;
    json b = base_body(def, st->cycle);
    if (next) b["percent"] = next->percent;
    b["due_at"] = format_datetime_ms(*due);
    b["lateness_ms"] = std::max<std::int64_t>(0, now - *due);
    b["business_elapsed_ms"] = st->elapsed_at(*def.calendar, std::max(now, *due));
    b["target_ms"] = st->target_ms;
    b["planned_breach_at"] = time_json(st->planned_breach_at);
    b["notify"] = action.notify;
    if (auto ok = step.emit(next ? event::kWarning : event::kBreached, std::move(b)); !ok)
      return ok;
    std::string on = next ? fmt::format("warning {}%", next->percent) : std::string("breach");
    if (auto ok = perform(step, def, *st, action, on); !ok) return ok;
  }
}

Result<void> retarget(Step& step, const ClockDef& def, const ClockState& st) {
  auto target = resolve_target(def, step.state().data, st.started_at);
  if (!target || target->ms == st.target_ms) return {};
  json b = base_body(def, st.cycle);
  b["from_target_ms"] = st.target_ms;
  b["target_ms"] = target->ms;
  b["target"] = format_business_duration(target->ms);
  b["target_source"] = target->source;
  b["planned_breach_at"] =
      st.running_since
          ? time_json(def.calendar->add(*st.running_since,
                                        std::max<std::int64_t>(0, target->ms - st.business_ms)))
          : json(nullptr);
  return step.emit(event::kRetargeted, std::move(b));
}

Result<void> process_clock(Step& step, const ClockDef& def, const Facts& f) {
  const std::int64_t now = step.now();
  auto current = step.clock(def.id);
  if (!current) return fail(current.error());
  const ClockState st = *current;
  const bool start = fires(def.start, f, now);
  const bool stop = fires(def.stop, f, now);
  const bool cancel = fires(def.cancel, f, now);
  const bool reset = !def.reset.empty() && fires(def.reset, f, now);

  if (!is_open(st.status)) {
    if (st.requested_at && (stop || cancel || !f.ended.empty())) {
      json b = base_body(def, st.cycle);
      b["requested_at"] = time_json(st.requested_at);
      b["reason"] = f.ended.empty() ? (stop ? "stop" : "cancel") : f.ended;
      return step.emit(event::kStartDropped, std::move(b));
    }
    if (st.requested_at) {
      // Asked for earlier: it starts, at the time it was asked for, once its target is known.
      if (auto ok = start_cycle(step, def, st, *st.requested_at); !ok) return ok;
    } else if (start && !stop && !cancel && f.ended.empty()) {
      if (auto ok = start_cycle(step, def, st, now); !ok) return ok;
    } else {
      return {};
    }
    // A clock started by this step may be paused by it too.
    if (!def.pause.empty() && fires(def.pause, f, now)) {
      auto started = step.clock(def.id);
      if (!started) return fail(started.error());
      if (started->status == ClockStatus::kRunning) {
        json b = base_body(def, started->cycle);
        b["business_elapsed_ms"] = started->elapsed_at(*def.calendar, now);
        b["time_left_ms"] = started->target_ms - started->elapsed_at(*def.calendar, now);
        if (auto ok = step.emit(event::kPaused, std::move(b)); !ok) return ok;
      }
    }
  } else if (cancel) {
    json b = closing_body(def, st, now);
    b["reason"] = "condition";
    b["breached"] = st.breached;
    return step.emit(event::kCancelled, std::move(b));
  } else if (reset) {
    json b = closing_body(def, st, now);
    b["breached"] = st.breached;
    if (auto ok = step.emit(event::kReset, std::move(b)); !ok) return ok;
    auto pending = step.clock(def.id);
    if (!pending) return fail(pending.error());
    if (auto ok = start_cycle(step, def, *pending, now); !ok) return ok;
  } else if (stop) {
    json b = closing_body(def, st, now);
    bool breached = st.breached || b["business_elapsed_ms"].get<std::int64_t>() >= st.target_ms;
    b["breached"] = breached;
    b["met"] = !breached;
    b["time_left_ms"] = st.target_ms - b["business_elapsed_ms"].get<std::int64_t>();
    b["planned_breach_at"] = time_json(st.planned_breach_at);
    if (auto ok = step.emit(event::kCompleted, std::move(b)); !ok) return ok;
    // A step that ends one cycle and begins another (a gate's hold: decided, then reopened).
    if (!start || !f.ended.empty()) return {};
    auto closed = step.clock(def.id);
    if (!closed) return fail(closed.error());
    if (auto ok = start_cycle(step, def, *closed, now); !ok) return ok;
  } else if (st.status == ClockStatus::kRunning && !def.pause.empty() && fires(def.pause, f, now)) {
    json b = base_body(def, st.cycle);
    b["business_elapsed_ms"] = st.elapsed_at(*def.calendar, now);
    b["time_left_ms"] = st.target_ms - st.elapsed_at(*def.calendar, now);
    if (auto ok = step.emit(event::kPaused, std::move(b)); !ok) return ok;
  } else if (st.status == ClockStatus::kPaused && !def.resume.empty() &&
             fires(def.resume, f, now)) {
    json b = base_body(def, st.cycle);
    b["paused_ms"] = now - st.paused_at.value_or(now);
    b["paused_business_ms"] = def.calendar->between(st.paused_at.value_or(now), now);
    b["planned_breach_at"] =
        time_json(def.calendar->add(now, std::max<std::int64_t>(0, st.target_ms - st.business_ms)));
    if (auto ok = step.emit(event::kResumed, std::move(b)); !ok) return ok;
  }

  auto now_state = step.clock(def.id);
  if (!now_state) return fail(now_state.error());
  if (is_open(now_state->status) && f.data_changed && def.target.kind != Target::Kind::kFixed) {
    if (auto ok = retarget(step, def, *now_state); !ok) return ok;
  }
  if (auto ok = catch_up(step, def, now); !ok) return ok;
  if (!f.ended.empty()) {
    auto last = step.clock(def.id);
    if (!last) return fail(last.error());
    if (is_open(last->status)) {
      json b = closing_body(def, *last, now);
      b["reason"] = f.ended;
      b["breached"] = last->breached;
      return step.emit(event::kCancelled, std::move(b));
    }
  }
  return {};
}

// Clocks the instance has but its (new) definition does not: closed when it migrates.
Result<void> close_orphans(Step& step, const SlaConfig* config) {
  auto it = step.state().extra.find("sla");
  if (it == step.state().extra.end() || !it->is_object()) return {};
  std::vector<std::string> ids;
  for (const auto& [id, value] : it->items()) {
    if (config == nullptr || config->clock(id) == nullptr) ids.push_back(id);
  }
  for (const std::string& id : ids) {
    auto st = step.clock(id);
    if (!st) return fail(st.error());
    if (!is_open(st->status)) continue;
    ClockDef orphan;
    orphan.id = id;
    orphan.calendar = BusinessCalendar::always();
    json b = closing_body(orphan, *st, step.now());
    b.erase("kind");
    b["reason"] = "not_in_version";
    b["breached"] = st->breached;
    if (auto ok = step.emit(event::kCancelled, std::move(b)); !ok) return ok;
  }
  return {};
}

std::optional<TimerRecord> next_timer(const ClockDef& def, const ClockState& st,
                                      const std::string& instance_id) {
  if (st.status != ClockStatus::kRunning || st.breached) return std::nullopt;
  for (const Warning& w : def.warnings) {
    if (st.has_warned(w.percent)) continue;
    auto due = st.due_at(*def.calendar, w.percent);
    if (!due) return std::nullopt;
    return TimerRecord{fmt::format("sla/{}/warning-{}", def.id, w.percent), instance_id, *due, {}};
  }
  auto due = st.due_at(*def.calendar, 100);
  if (!due) return std::nullopt;
  return TimerRecord{fmt::format("sla/{}/breach", def.id), instance_id, *due, {}};
}

}  // namespace

SlaHooks::SlaHooks() {
  // A non-owning handle on this object: the set lives exactly as long as it does.
  self_.add(std::shared_ptr<const InstanceHooks>(this, [](const InstanceHooks*) {}));
}

Result<std::vector<Event>> SlaHooks::after_events(const HookContext& ctx,
                                                  const InstanceState& before,
                                                  const InstanceState& after,
                                                  std::span<const Event> events) const {
  const SlaConfig* config = sla_config(ctx.workflow);
  const bool has_clocks = after.extra.contains("sla");
  if (config == nullptr && !has_clocks) return std::vector<Event>{};
  Step step(*this, ctx, after);
  const std::size_t fields = ctx.workflow.fields.size();
  Facts facts = facts_of(events, before.data, after.data, fields);
  if (facts.fresh && has_clocks) {
    if (auto ok = close_orphans(step, config); !ok) return fail(ok.error());
  }
  if (config == nullptr) return step.take();
  for (int round = 0; round < kMaxRounds; ++round) {
    const std::size_t mark = step.size();
    const std::vector<Value> data_before = step.state().data;
    for (const ClockDef& def : config->clocks) {
      if (auto ok = process_clock(step, def, facts); !ok) return fail(ok.error());
    }
    // Actions may have moved the instance (escalation) or changed its data: those moves are a
    // step of their own for the conditions.
    std::vector<Event> moved;
    for (std::size_t i = mark; i < step.size(); ++i) {
      if (!is_sla_event(step.events()[i])) moved.push_back(step.events()[i]);
    }
    if (moved.empty()) break;
    facts = facts_of(moved, data_before, step.state().data, fields);
  }
  return step.take();
}

Result<std::vector<Event>> SlaHooks::on_timer(const HookContext& ctx, const InstanceState& s,
                                              const TimerRecord& timer) const {
  const SlaConfig* config = sla_config(ctx.workflow);
  // "sla/<clock>/<what>"
  std::string_view id = timer.timer_id;
  auto first = id.find('/');
  auto second = first == std::string_view::npos ? first : id.find('/', first + 1);
  if (config == nullptr || second == std::string_view::npos) return std::vector<Event>{};
  const ClockDef* def = config->clock(id.substr(first + 1, second - first - 1));
  if (def == nullptr) return std::vector<Event>{};
  auto it = s.extra.find("sla");
  auto st = clock_state(it == s.extra.end() ? json::object() : *it, def->id);
  if (!st) return fail(st.error());
  auto expected = next_timer(*def, *st, s.id);
  // A timer the state no longer asks for (stopped, paused, retargeted since it was armed) is stale.
  if (!expected || expected->timer_id != timer.timer_id || expected->due_ms != timer.due_ms) {
    return std::vector<Event>{};
  }
  Step step(*this, ctx, s);
  if (auto ok = catch_up(step, *def, std::max(ctx.now_ms, timer.due_ms)); !ok) {
    return fail(ok.error());
  }
  return step.take();
}

Result<void> SlaHooks::apply(InstanceState& s, const Event& e, const Workflow&,
                             std::int64_t at_ms) const {
  return apply_clock_event(s.extra["sla"], e, at_ms);
}

std::vector<TimerRecord> SlaHooks::timers(const Workflow& wf, const InstanceState& s) const {
  std::vector<TimerRecord> out;
  const SlaConfig* config = sla_config(wf);
  auto it = s.extra.find("sla");
  if (config == nullptr || it == s.extra.end()) return out;
  for (const ClockDef& def : config->clocks) {
    auto st = clock_state(*it, def.id);
    if (!st) continue;
    if (auto t = next_timer(def, *st, s.id)) out.push_back(std::move(*t));
  }
  return out;
}

void SlaHooks::describe(const Workflow& wf, const InstanceState& s, json& view) const {
  const SlaConfig* config = sla_config(wf);
  if (config == nullptr || config->clocks.empty()) return;
  auto it = s.extra.find("sla");
  json clocks = json::array();
  for (const ClockDef& def : config->clocks) {
    auto st = clock_state(it == s.extra.end() ? json::object() : *it, def.id);
    if (!st) continue;
    json c = {{"id", def.id},
              {"kind", std::string(clock_kind_name(def.kind))},
              {"name", def.name},
              {"calendar", def.calendar_id.empty() ? "24x7" : def.calendar_id},
              {"status", std::string(clock_status_name(st->status))},
              {"breached", st->breached},
              {"cycle", st->cycle}};
    if (st->requested_at) c["start_requested_at"] = time_json(st->requested_at);
    if (st->cycle > 0) {
      c["started_at"] = format_datetime_ms(st->started_at);
      c["target"] = format_business_duration(st->target_ms);
      c["target_source"] = st->target_source;
      // Counted up to the last change; while running add the business time since running_since.
      c["business_elapsed_s"] = st->business_ms / 1000;
      c["time_left_s"] = (st->target_ms - st->business_ms) / 1000;
      c["running_since"] = time_json(st->running_since);
      c["paused_since"] = time_json(st->paused_at);
      c["paused_s"] = st->paused_ms / 1000;
      c["pauses"] = st->pauses;
      c["planned_breach_at"] = time_json(st->planned_breach_at);
      c["original_breach_at"] = time_json(st->original_breach_at);
      c["warnings_sent"] = st->warned;
      c["breached_at"] = time_json(st->breached_at);
      c["ended_at"] = time_json(st->ended_at);
      if (st->status == ClockStatus::kCompleted) c["met"] = st->met;
    }
    clocks.push_back(std::move(c));
  }
  view["clocks"] = std::move(clocks);
}

void SlaHooks::annotate_graph(const Workflow& wf, GraphAnnotations& notes) const {
  const SlaConfig* config = sla_config(wf);
  if (config == nullptr) return;
  // state → verb → clocks, in a fixed verb order so diagrams are stable.
  static constexpr std::array<const char*, 5> kVerbs = {"start", "pause", "stop", "cancel",
                                                        "stop on leaving"};
  std::map<std::string, std::array<std::vector<std::string>, kVerbs.size()>> by_state;
  for (const ClockDef& def : config->clocks) {
    std::string name = fmt::format("{}.{}", clock_kind_name(def.kind), def.id);
    auto mark = [&](const std::vector<std::string>& states, std::size_t verb) {
      for (const std::string& s : states) by_state[s][verb].push_back(name);
    };
    mark(def.start.enter, 0);
    mark(def.pause.enter, 1);
    mark(def.stop.enter, 2);
    mark(def.cancel.enter, 3);
    mark(def.stop.leave, 4);
    auto note_fire = [&](const Action& action, const std::string& what) {
      if (action.fire.empty()) return;
      for (const TransitionDef& t : wf.transitions) {
        if (t.event != action.fire) continue;
        bool from_clock_state =
            def.start.enter.empty() ||
            std::any_of(def.start.enter.begin(), def.start.enter.end(),
                        [&](const std::string& s) { return t.from_any || t.leaves(s); });
        if (from_clock_state) notes.transition_notes[t.index].push_back(what + " of " + name);
      }
    };
    for (const Warning& w : def.warnings) note_fire(w.action, fmt::format("on {}%", w.percent));
    note_fire(def.breach, "on breach");
  }
  for (const auto& [state, verbs] : by_state) {
    for (std::size_t v = 0; v < kVerbs.size(); ++v) {
      if (verbs[v].empty()) continue;
      notes.state_notes[state].push_back(
          fmt::format("clock {}: {}", kVerbs[v], fmt::join(verbs[v], ", ")));
    }
  }
}

std::shared_ptr<const SlaHooks> make_sla_hooks() { return std::make_shared<const SlaHooks>(); }

}  // namespace flowgate::sla
