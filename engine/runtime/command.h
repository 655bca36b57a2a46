// Commands (what a caller asks for) and events (what happened). A command is stamped with the
// actor and the time at the edge; decide() turns it into events; apply() folds events into state.
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace flowgate {

// Who issues a command: the verified principal, the roles it holds, and optionally the person it
// acts for (set only by trusted principals).
struct Actor {
  std::string principal;
  std::vector<std::string> roles;
  std::string on_behalf_of;

  bool has_any_role(const std::vector<std::string>& wanted) const;
  nlohmann::json to_json() const;
  static Actor from_json(const nlohmann::json& j);
};

enum class CommandKind {
  kStart,
  kFire,
  kUpdate,
  kSuspend,
  kResume,
  kCancel,
  kMigrate,
  kTimer,   // a durable timer came due (submitted by the engine's scheduler)
  kPlugin,  // a command addressed to a plugin, e.g. plugin "gate", action "vote"
};

std::string_view command_kind_name(CommandKind k);  // "start", "fire", ...

struct Command {
  CommandKind kind = CommandKind::kFire;
  std::string instance_id;     // every kind but start (start: assigned by the engine)
  std::string workflow_id;     // start
  std::optional<int> version;  // start: pin to this version (default: latest)
  std::string business_key;    // start: optional, unique per workflow
  nlohmann::json data = nlohmann::json::object();     // start: initial data; update: patch
  std::string event;                                  // fire
  nlohmann::json payload = nlohmann::json::object();  // fire
  std::string reason;                                 // suspend, resume, cancel
  int to_version = 0;                                 // migrate
  std::map<std::string, std::string> state_mapping;   // migrate: old state → new state
  std::string timer_id;                               // timer
  std::int64_t due_ms = 0;  // timer: when it was due (now - due = lateness)
  std::string plugin;       // plugin: which plugin
  std::string action;       // plugin: what it is asked (payload carries the arguments)
  Actor actor;
  std::string request_id;                      // idempotent retry key, "" = none
  std::optional<std::int64_t> expect_version;  // optimistic concurrency on last_seq

  // A stable digest of what the command asks (not who/when): a request id reused for a different
  // command is refused.
  std::string fingerprint() const;
};

// One event produced by decide(). The engine adds instance id, sequence, time, actor and hashes
// when it records it (store/records.h EventRecord).
struct Event {
  std::string type;
  nlohmann::json body = nlohmann::json::object();
};

// Event types (stable strings, documented in docs/events.md).
namespace events {
inline constexpr const char* kInstanceStarted = "instance_started";
inline constexpr const char* kTransitioned = "transitioned";
inline constexpr const char* kDataChanged = "data_changed";
inline constexpr const char* kSuspended = "suspended";
inline constexpr const char* kResumed = "resumed";
inline constexpr const char* kCancelled = "cancelled";
inline constexpr const char* kCompleted = "completed";
inline constexpr const char* kMigrated = "migrated";
}  // namespace events

}  // namespace flowgate
