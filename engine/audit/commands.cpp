#include "audit/commands.h"

#include <algorithm>

#include <fmt/format.h>

#include "definition/value.h"

namespace flowgate::audit {
namespace {

using nlohmann::json;

// Plugin events that begin a command to their plugin, and the payload keys of that command found
// in the event's body (docs/gates.md: "Commands" and "Events").
struct PluginCommandEvent {
  const char* type;
  const char* action;
  std::vector<const char*> keys;
};
const std::vector<PluginCommandEvent>& plugin_command_events() {
  static const std::vector<PluginCommandEvent> table = {
      {"gate.voted",
       "vote",
       {"decision", "answers", "scores", "reason", "revisit_on", "payload", "role", "gate",
        "round"}},
      {"gate.recalled", "recall", {"reason", "gate", "round"}},
  };
  return table;
}

std::string compact(const json& j) {
  std::string s = j.dump(-1, ' ', false, json::error_handler_t::replace);
  return s.size() > 160 ? s.substr(0, 157) + "..." : s;
}

}  // namespace

std::vector<CommandCandidate> candidate_commands(const Event& first, const json& actor,
                                                 std::int64_t at_ms, const FoldState& f,
                                                 const DefinitionSet& defs, const HookSet* hooks) {
  std::vector<CommandCandidate> out;
  const json& b = first.body;
  Command c;
  c.actor = Actor::from_json(actor);
  c.instance_id = f.state.id;
  const Workflow* wf = f.workflow;
  auto add = [&](Command cmd, const Workflow* on, const Workflow* target = nullptr) {
    if (on != nullptr) out.push_back({std::move(cmd), on, target});
  };
  const std::string& type = first.type;
  if (type == events::kInstanceStarted) {
    c.kind = CommandKind::kStart;
    c.workflow_id = b.value("workflow", std::string());
    if (b.contains("version") && b["version"].is_number_integer())
      c.version = b["version"].get<int>();
    c.business_key = b.value("business_key", std::string());
    c.data = b.value("data", json::object());
    const Workflow* pinned = c.version ? defs.workflow(c.workflow_id, *c.version) : nullptr;
    add(std::move(c), pinned);
    return out;
  }
  if (wf == nullptr) return out;
  if (type == events::kTransitioned) {
    c.kind = CommandKind::kFire;
    c.event = b.value("event", std::string());
    c.payload = b.value("payload", json::object());
    add(std::move(c), wf);
  } else if (type == events::kDataChanged) {
    c.kind = CommandKind::kUpdate;
    c.data = json::object();
    if (b.contains("changes") && b["changes"].is_object()) {
      for (const auto& [field, change] : b["changes"].items()) {
        c.data[field] = change.is_object() ? change.value("to", json()) : json();
      }
    }
    add(std::move(c), wf);
  } else if (type == events::kSuspended || type == events::kResumed || type == events::kCancelled) {
    c.kind = type == events::kSuspended ? CommandKind::kSuspend
             : type == events::kResumed ? CommandKind::kResume
                                        : CommandKind::kCancel;
    c.reason = b.value("reason", std::string());
    add(std::move(c), wf);
  } else if (type == events::kMigrated) {
    c.kind = CommandKind::kMigrate;
    c.to_version = b.value("to_version", 0);
    std::string from_state = b.value("from_state", std::string());
    std::string to_state = b.value("to_state", std::string());
    if (from_state != to_state) c.state_mapping[from_state] = to_state;
    const Workflow* target = defs.workflow(wf->id, c.to_version);
    if (target) add(std::move(c), wf, target);
  } else if (auto dot = type.find('.'); dot != std::string::npos && hooks != nullptr) {
    const std::string plugin = type.substr(0, dot);
    const InstanceHooks* owner = hooks->find(plugin);
    if (owner == nullptr) return out;
    // A timer of the plugin that was armed in the state before the event and due by then.
    std::vector<TimerRecord> timers = owner->timers(*wf, f.state);
    std::stable_sort(timers.begin(), timers.end(), [](const TimerRecord& x, const TimerRecord& y) {
      return x.due_ms < y.due_ms;
    });
    for (const TimerRecord& t : timers) {
      if (t.due_ms > at_ms) continue;
      Command tc = c;
      tc.kind = CommandKind::kTimer;
      tc.timer_id = t.timer_id;
      tc.due_ms = t.due_ms;
      tc.payload = t.payload;
      add(std::move(tc), wf);
    }
    Command pc = c;
    pc.kind = CommandKind::kPlugin;
    pc.plugin = plugin;
    pc.action = type.substr(dot + 1);
    pc.payload = b;
    for (const auto& known : plugin_command_events()) {
      if (type != known.type) continue;
      pc.action = known.action;
      pc.payload = json::object();
      for (const char* key : known.keys) {
        if (b.contains(key)) pc.payload[key] = b[key];
      }
    }
    add(std::move(pc), wf);
    if (b.contains("event") && b["event"].is_string()) {
      Command fc = c;
      fc.kind = CommandKind::kFire;
      fc.event = b["event"].get<std::string>();
      fc.payload = b.value("payload", json::object());
      add(std::move(fc), wf);
    }
  }
  return out;
}

std::string describe(const Command& c) {
  std::string who = c.actor.principal;
  switch (c.kind) {
    case CommandKind::kStart:
      return fmt::format("start {} v{} by {} with {}", c.workflow_id, c.version.value_or(0), who,
                         compact(c.data));
    case CommandKind::kFire:
      return fmt::format("fire `{}` by {} with {}", c.event, who, compact(c.payload));
    case CommandKind::kUpdate:
      return fmt::format("update by {} with {}", who, compact(c.data));
    case CommandKind::kSuspend:
    case CommandKind::kResume:
    case CommandKind::kCancel:
      return fmt::format("{} by {}", command_kind_name(c.kind), who);
    case CommandKind::kMigrate:
      return fmt::format("migrate to v{} by {}", c.to_version, who);
    case CommandKind::kTimer:
      return fmt::format("timer `{}` due {}", c.timer_id, format_datetime_ms(c.due_ms));
    case CommandKind::kPlugin:
      return fmt::format("{} {} by {} with {}", c.plugin, c.action, who, compact(c.payload));
  }
  return "unknown command";
}

}  // namespace flowgate::audit
