#include "runtime/decide.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "runtime/data_rules.h"
#include "util/diagnostic.h"

namespace flowgate {
namespace {

using nlohmann::json;

Error lifecycle_error(const InstanceState& s, std::string_view what) {
  std::string hint;
  switch (s.lifecycle) {
    case Lifecycle::kSuspended:
      hint = "resume it first";
      break;
    case Lifecycle::kAwaitingGate:
      hint = "it waits for a gate decision; decide or recall the review";
      break;
    case Lifecycle::kCompleted:
      hint = "a completed instance takes no further commands";
      break;
    case Lifecycle::kCancelled:
      hint = "a cancelled instance takes no further commands";
      break;
    case Lifecycle::kActive:
      break;
  }
  return Error(ErrorCode::kLifecycle, fmt::format("cannot {} instance {}: it is {}", what, s.id,
                                                  lifecycle_name(s.lifecycle)))
      .with_hint(std::move(hint))
      .with_data("lifecycle", std::string(lifecycle_name(s.lifecycle)));
}

// {"field": {"from": old, "to": new}} for every slot that differs.
json diff_data(const std::vector<Value>& before, const std::vector<Value>& after,
               const Workflow& wf) {
  json changes = json::object();
  for (std::size_t i = 0; i < wf.fields.size(); ++i) {
    const Value& a = i < before.size() ? before[i] : Value();
    const Value& b = i < after.size() ? after[i] : Value();
    if (!(a == b)) changes[wf.fields[i].name] = {{"from", a.to_json()}, {"to", b.to_json()}};
  }
  return changes;
}

Result<void> check_all_fields(const Workflow& wf, const std::vector<Value>& data) {
  for (std::size_t i = 0; i < wf.fields.size(); ++i) {
    if (auto ok = check_field_value(wf.fields[i], data[i]); !ok) return ok;
  }
  return check_required(wf, data);
}

Result<std::vector<Event>> decide_start(const DecideInput& in) {
  const Workflow& wf = in.workflow;
  const Command& c = in.command;
  if (!c.data.is_null() && !c.data.is_object()) {
    return fail(ErrorCode::kInvalidData, "initial data must be a JSON object");
  }
  auto data = data_from_json(c.data, wf);
  if (!data) return fail(data.error());
  for (std::size_t i = 0; i < wf.fields.size(); ++i) {
    if ((*data)[i].is_null() && wf.fields[i].default_value)
      (*data)[i] = *wf.fields[i].default_value;
  }
  if (auto ok = check_all_fields(wf, *data); !ok) return fail(ok.error());

  json body = {{"workflow", wf.id},
               {"version", wf.version},
               {"definition_hash", wf.content_hash},
               {"state", wf.initial},
               {"data", data_to_json(*data, wf)}};
  if (!c.business_key.empty()) body["business_key"] = c.business_key;
  std::vector<Event> out{{events::kInstanceStarted, std::move(body)}};
  if (const StateDef* init = wf.state(wf.initial); init && init->terminal) {
    out.push_back({events::kCompleted, {{"state", wf.initial}}});
  }
  return out;
}

struct Choice {
  const TransitionDef* transition = nullptr;
  std::vector<Value> payload;
  std::vector<Value> data_after;
};

// Evaluates the `set` assignments of `t` on the data before the step (all at once).
Result<void> assign(const Workflow& wf, const TransitionDef& t, const InstanceState& s, Choice& ch,
                    std::int64_t now_ms) {
  EvalInput before{s.data, ch.payload, now_ms};
  for (const Assignment& a : t.set) {
    auto v = a.value.evaluate(before);
    if (!v) {
      Error e = v.error();
      e.message = fmt::format("assignment to `{}` failed: {}", a.field, e.message);
      return fail(std::move(e));
    }
    ch.data_after[a.field_index] = coerce_to_field(wf.fields[a.field_index], std::move(*v));
  }
  return {};
}

// The core's choice for a fire command: lifecycle, candidates, roles, payload, assignments,
// guards in priority order, then the [data] rules on the result.
Result<Choice> choose_transition(const Workflow& wf, const InstanceState& s, const Command& c,
                                 std::int64_t now_ms) {
  if (!lifecycle_step(s.lifecycle, LifecycleEvent::kWork)) {
    return fail(lifecycle_error(s, fmt::format("fire `{}` on", c.event)));
  }
  auto candidates = wf.candidates(s.state, c.event);
  if (candidates.empty()) {
    std::vector<std::string> allowed = wf.events_from(s.state);
    Error e(ErrorCode::kEventNotAllowed,
            fmt::format("event `{}` is not allowed in state `{}` of {}", c.event, s.state, s.id));
    std::string near = closest_match(c.event, allowed);
    e.hint = !near.empty()     ? fmt::format("did you mean `{}`?", near)
             : allowed.empty() ? std::string("no event leaves this state")
                               : fmt::format("allowed now: {}", fmt::join(allowed, ", "));
    e.data["allowed"] = allowed;
    e.data["state"] = s.state;
    return fail(std::move(e));
  }

  std::set<std::string> required_roles;
  std::vector<const TransitionDef*> permitted;
  for (const TransitionDef* t : candidates) {
    if (t->roles.empty() || c.actor.has_any_role(t->roles)) {
      permitted.push_back(t);
    } else {
      required_roles.insert(t->roles.begin(), t->roles.end());
    }
  }
  if (permitted.empty()) {
    std::vector<std::string> roles(required_roles.begin(), required_roles.end());
    return fail(
        Error(ErrorCode::kForbidden,
              fmt::format("`{}` may not fire `{}` in state `{}`: it needs one of the roles {}",
                          c.actor.principal, c.event, s.state, fmt::join(roles, ", ")))
            .with_hint(fmt::format("the caller holds: {}",
                                   c.actor.roles.empty()
                                       ? std::string("no roles")
                                       : fmt::format("{}", fmt::join(c.actor.roles, ", "))))
            .with_data("required_roles", roles));
  }

  std::vector<std::string> failed_guards;
  for (const TransitionDef* t : permitted) {
    auto payload = parse_payload(*t, c.payload);
    if (!payload) return fail(payload.error());
    Choice ch{t, std::move(*payload), s.data};
    if (auto ok = assign(wf, *t, s, ch, now_ms); !ok) return fail(ok.error());
    if (t->guard) {
      auto ok = t->guard->test(EvalInput{ch.data_after, ch.payload, now_ms});
      if (!ok) return fail(ok.error());
      if (!*ok) {
        failed_guards.push_back(t->guard->source());
        continue;
      }
    }
    if (auto ok = check_all_fields(wf, ch.data_after); !ok) return fail(ok.error());
    return ch;
  }
  std::string quoted = fmt::format("`{}`", fmt::join(failed_guards, "`, `"));
  return fail(Error(ErrorCode::kGuardFailed,
                    fmt::format("event `{}` in state `{}`: guard {} {} false", c.event, s.state,
                                quoted, failed_guards.size() > 1 ? "are all" : "is"))
                  .with_data("guards", failed_guards));
}

// [transitioned, completed?] for a chosen transition.
std::vector<Event> move_events(const Workflow& wf, const InstanceState& s, const Choice& ch) {
  const TransitionDef& t = *ch.transition;
  json payload = json::object();
  for (std::size_t i = 0; i < t.payload.size(); ++i) {
    if (!ch.payload[i].is_null()) payload[t.payload[i].name] = ch.payload[i].to_json();
  }
  std::vector<Event> out;
  out.push_back({events::kTransitioned,
                 {{"event", t.event},
                  {"from", s.state},
                  {"to", t.to},
                  {"transition", t.index},
                  {"payload", std::move(payload)},
                  {"changes", diff_data(s.data, ch.data_after, wf)}}});
  if (const StateDef* to = wf.state(t.to); to && to->terminal) {
    out.push_back({events::kCompleted, {{"state", t.to}}});
  }
  return out;
}

Result<std::vector<Event>> decide_fire(const DecideInput& in) {
  const Workflow& wf = in.workflow;
  const InstanceState& s = *in.state;
  auto chosen = choose_transition(wf, s, in.command, in.now_ms);
  if (!chosen) return fail(chosen.error());
  if (in.hooks) {
    HookContext ctx{wf, in.command, in.now_ms};
    for (const auto& hook : in.hooks->all()) {
      TransitionVerdict v = hook->before_transition(ctx, s, *chosen->transition, chosen->payload);
      if (v.kind == TransitionVerdict::Kind::kDeny) return fail(std::move(v.error));
      if (v.kind == TransitionVerdict::Kind::kHold) return std::move(v.events);
    }
  }
  return move_events(wf, s, *chosen);
}

Result<std::vector<Event>> decide_update(const DecideInput& in) {
  const Workflow& wf = in.workflow;
  const InstanceState& s = *in.state;
  if (!lifecycle_step(s.lifecycle, LifecycleEvent::kWork)) {
    return fail(lifecycle_error(s, "update the data of"));
  }
  if (!in.command.data.is_object()) {
    return fail(ErrorCode::kInvalidData, "the data patch must be a JSON object");
  }
  std::vector<Value> after = s.data;
  for (const auto& [key, value] : in.command.data.items()) {
    auto idx = wf.field_index(key);
    if (!idx) {
      auto parsed = data_from_json(json{{key, value}}, wf);  // for its did-you-mean error
      return fail(parsed.error());
    }
    auto v = parse_field_value(wf.fields[*idx], value);
    if (!v) return fail(v.error());
    after[*idx] = std::move(*v);
  }
  if (auto ok = check_required(wf, after); !ok) return fail(ok.error());
  json changes = diff_data(s.data, after, wf);
  if (changes.empty()) return std::vector<Event>{};
  return std::vector<Event>{{events::kDataChanged, {{"changes", std::move(changes)}}}};
}

Result<std::vector<Event>> decide_lifecycle(const DecideInput& in, LifecycleEvent le,
                                            const char* type, std::string_view verb) {
  const InstanceState& s = *in.state;
  if (!lifecycle_step(s.lifecycle, le)) return fail(lifecycle_error(s, verb));
  json body = {{"state", s.state}};
  if (!in.command.reason.empty()) body["reason"] = in.command.reason;
  return std::vector<Event>{{type, std::move(body)}};
}

Result<std::vector<Event>> decide_migrate(const DecideInput& in) {
  const Workflow& from = in.workflow;
  const InstanceState& s = *in.state;
  const Command& c = in.command;
  if (!lifecycle_step(s.lifecycle, LifecycleEvent::kMigrate))
    return fail(lifecycle_error(s, "migrate"));
  if (in.target == nullptr || in.target->id != from.id) {
    return fail(ErrorCode::kVersionNotFound,
                fmt::format("workflow `{}` has no version {}", from.id, c.to_version));
  }
  const Workflow& to = *in.target;
  if (to.version <= from.version) {
    return fail(
        Error(ErrorCode::kInvalidMigration,
              fmt::format("{} is on version {}; it can only move to a newer version, not {}", s.id,
                          from.version, to.version)));
  }
  for (const auto& [old_state, new_state] : c.state_mapping) {
    if (!from.state(old_state)) {
      return fail(ErrorCode::kInvalidMigration,
                  fmt::format("the mapping names state `{}`, which version {} does not have",
                              old_state, from.version));
    }
    if (!to.state(new_state)) {
      return fail(ErrorCode::kInvalidMigration,
                  fmt::format("the mapping names state `{}`, which version {} does not have",
                              new_state, to.version));
    }
  }
  auto mapped = c.state_mapping.find(s.state);
  std::string target_state = mapped != c.state_mapping.end() ? mapped->second : s.state;
  if (!to.state(target_state)) {
    return fail(Error(ErrorCode::kInvalidMigration,
                      fmt::format("version {} has no state `{}`; map it to one of its states",
                                  to.version, s.state))
                    .with_hint(fmt::format("pass a state mapping such as {}=<state>", s.state)));
  }
  std::vector<Value> data(to.fields.size());
  std::vector<std::string> dropped;
  for (std::size_t i = 0; i < from.fields.size(); ++i) {
    if (s.data[i].is_null()) continue;
    auto idx = to.field_index(from.fields[i].name);
    if (!idx) {
      dropped.push_back(from.fields[i].name);
      continue;
    }
    auto v = parse_field_value(to.fields[*idx], s.data[i].to_json());
    if (!v) {
      return fail(Error(ErrorCode::kInvalidMigration,
                        fmt::format("field `{}` does not fit version {}: {}", from.fields[i].name,
                                    to.version, v.error().message)));
    }
    data[*idx] = std::move(*v);
  }
  for (std::size_t i = 0; i < to.fields.size(); ++i) {
    if (data[i].is_null() && to.fields[i].default_value) data[i] = *to.fields[i].default_value;
  }
  if (auto ok = check_required(to, data); !ok) {
    Error e = ok.error();
    e.code = ErrorCode::kInvalidMigration;
    e.message = fmt::format("version {}: {}", to.version, e.message);
    return fail(std::move(e));
  }
  return std::vector<Event>{{events::kMigrated,
                             {{"from_version", from.version},
                              {"to_version", to.version},
                              {"definition_hash", to.content_hash},
                              {"from_state", s.state},
                              {"to_state", target_state},
                              {"dropped_fields", dropped},
                              {"data", data_to_json(data, to)}}}};
}

Result<std::string> body_string(const json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || !it->is_string()) {
    return fail(ErrorCode::kStorage, fmt::format("malformed event: `{}` missing", key));
  }
  return it->get<std::string>();
}

Result<void> apply_changes(InstanceState& s, const json& changes, const Workflow& wf) {
  if (!changes.is_object()) return fail(ErrorCode::kStorage, "malformed event: `changes` missing");
  for (const auto& [key, change] : changes.items()) {
    auto idx = wf.field_index(key);
    if (!idx || !change.is_object() || !change.contains("to")) {
      return fail(ErrorCode::kStorage, fmt::format("malformed event: bad change of `{}`", key));
    }
    auto v = change["to"].is_null() ? Result<Value>(Value())
                                    : Value::from_json(change["to"], wf.fields[*idx].type);
    if (!v) return fail(ErrorCode::kStorage, fmt::format("malformed event: {}", v.error().message));
    s.data[*idx] = std::move(*v);
  }
  return {};
}

Result<std::vector<Event>> decide_core(const DecideInput& in) {
  const Command& c = in.command;
  switch (c.kind) {
    case CommandKind::kStart:
      return decide_start(in);
    case CommandKind::kFire:
      return decide_fire(in);
    case CommandKind::kUpdate:
      return decide_update(in);
    case CommandKind::kSuspend:
      return decide_lifecycle(in, LifecycleEvent::kSuspend, events::kSuspended, "suspend");
    case CommandKind::kResume:
      return decide_lifecycle(in, LifecycleEvent::kResume, events::kResumed, "resume");
    case CommandKind::kCancel:
      return decide_lifecycle(in, LifecycleEvent::kCancel, events::kCancelled, "cancel");
    case CommandKind::kMigrate:
      return decide_migrate(in);
    case CommandKind::kTimer: {
      const InstanceHooks* owner = in.hooks ? in.hooks->owner_of(c.timer_id) : nullptr;
      if (!owner) {
        return fail(ErrorCode::kInvalidArgument,
                    fmt::format("no plugin owns timer `{}`", c.timer_id));
      }
      TimerRecord timer{c.timer_id, c.instance_id, c.due_ms, c.payload};
      return owner->on_timer(HookContext{in.workflow, c, in.now_ms}, *in.state, timer);
    }
    case CommandKind::kPlugin: {
      const InstanceHooks* plugin = in.hooks ? in.hooks->find(c.plugin) : nullptr;
      if (!plugin) {
        return fail(ErrorCode::kInvalidArgument, fmt::format("no plugin `{}` is loaded", c.plugin));
      }
      return plugin->on_command(HookContext{in.workflow, c, in.now_ms}, *in.state);
    }
  }
  return fail(ErrorCode::kInvalidArgument, "unknown command");
}

}  // namespace

Result<std::vector<Event>> decide(const DecideInput& in) {
  if (in.command.kind != CommandKind::kStart && in.state == nullptr) {
    return fail(ErrorCode::kInstanceNotFound,
                fmt::format("no instance `{}`", in.command.instance_id));
  }
  auto events = decide_core(in);
  if (!events || in.hooks == nullptr || in.hooks->all().empty() || events->empty()) return events;

  // Plugins see the step as a whole (before → after) and may add events, in registration order.
  InstanceState before;
  if (in.state) {
    before = *in.state;
  } else {
    before.id = in.command.instance_id;
  }
  InstanceState after = before;
  const Workflow* wf = &in.workflow;
  auto fold = [&](const Event& e) -> Result<void> {
    if (e.type == events::kMigrated && in.target) wf = in.target;
    auto ok = apply(after, e, *wf, in.now_ms, in.hooks);
    if (!ok) {
      return fail(ErrorCode::kInternal,
                  fmt::format("event `{}` could not be applied: {}", e.type, ok.error().message));
    }
    return {};
  };
  for (const Event& e : *events) {
    if (auto ok = fold(e); !ok) return fail(ok.error());
  }
  for (const auto& hook : in.hooks->all()) {
    auto more = hook->after_events(HookContext{*wf, in.command, in.now_ms}, before, after, *events);
    if (!more) return fail(more.error());
    for (Event& e : *more) {
      if (auto ok = fold(e); !ok) return fail(ok.error());
      events->push_back(std::move(e));
    }
  }
  return events;
}

Result<std::vector<Event>> fire_events(const Workflow& wf, const InstanceState& s,
                                       const Command& fire, std::int64_t now_ms) {
  auto chosen = choose_transition(wf, s, fire, now_ms);
  if (!chosen) return fail(chosen.error());
  return move_events(wf, s, *chosen);
}

Result<std::vector<Event>> transition_events(const Workflow& wf, const InstanceState& s,
                                             const TransitionDef& t, const json& payload,
                                             std::int64_t now_ms) {
  auto parsed = parse_payload(t, payload);
  if (!parsed) return fail(parsed.error());
  Choice ch{&t, std::move(*parsed), s.data};
  if (auto ok = assign(wf, t, s, ch, now_ms); !ok) return fail(ok.error());
  if (auto ok = check_all_fields(wf, ch.data_after); !ok) return fail(ok.error());
  return move_events(wf, s, ch);
}

Result<void> apply(InstanceState& s, const Event& e, const Workflow& wf, std::int64_t at_ms,
                   const HookSet* hooks) {
  const json& b = e.body;
  auto step = [&](LifecycleEvent le) -> Result<void> {
    auto next = lifecycle_step(s.lifecycle, le);
    if (!next) {
      return fail(ErrorCode::kStorage, fmt::format("event `{}` is not possible while {}", e.type,
                                                   lifecycle_name(s.lifecycle)));
    }
    s.lifecycle = *next;
    return {};
  };
  Result<void> ok;
  if (e.type == events::kInstanceStarted) {
    auto state = body_string(b, "state");
    if (!state) return fail(state.error());
    auto data = data_from_json(b.value("data", json::object()), wf);
    if (!data) return fail(ErrorCode::kStorage, "malformed event: " + data.error().message);
    s.workflow_id = wf.id;
    s.version = wf.version;
    s.state = *state;
    s.lifecycle = Lifecycle::kActive;
    s.data = std::move(*data);
    s.business_key = b.value("business_key", std::string());
    s.created_ms = at_ms;
  } else if (e.type == events::kTransitioned) {
    ok = step(LifecycleEvent::kWork);
    if (ok) ok = apply_changes(s, b.value("changes", json::object()), wf);
    auto to = body_string(b, "to");
    if (!to) return fail(to.error());
    s.state = *to;
  } else if (e.type == events::kDataChanged) {
    ok = step(LifecycleEvent::kWork);
    if (ok) ok = apply_changes(s, b.value("changes", json()), wf);
  } else if (e.type == events::kCompleted) {
    ok = step(LifecycleEvent::kComplete);
  } else if (e.type == events::kSuspended) {
    ok = step(LifecycleEvent::kSuspend);
  } else if (e.type == events::kResumed) {
    ok = step(LifecycleEvent::kResume);
  } else if (e.type == events::kCancelled) {
    ok = step(LifecycleEvent::kCancel);
  } else if (e.type == events::kMigrated) {
    ok = step(LifecycleEvent::kMigrate);
    auto to_state = body_string(b, "to_state");
    if (!to_state) return fail(to_state.error());
    auto data = data_from_json(b.value("data", json::object()), wf);
    if (!data) return fail(ErrorCode::kStorage, "malformed event: " + data.error().message);
    s.version = wf.version;
    s.state = *to_state;
    s.data = std::move(*data);
  } else if (hooks) {
    const InstanceHooks* owner = hooks->owner_of(e.type);
    if (!owner) {
      return fail(ErrorCode::kStorage,
                  fmt::format("event `{}` belongs to no loaded plugin", e.type));
    }
    ok = owner->apply(s, e, wf, at_ms);
  }
  if (!ok) return ok;
  ++s.last_seq;
  s.updated_ms = at_ms;
  return {};
}

std::vector<std::string> allowed_events(const Workflow& wf, const InstanceState& s) {
  if (s.lifecycle != Lifecycle::kActive) return {};
  return wf.events_from(s.state);
}

}  // namespace flowgate
