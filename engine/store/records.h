// The rows the store keeps: stored definitions, instance snapshots, events (hash-chained),
// timers, idempotency records and checkpoints. Plain values shared by store/, runtime/ and audit/.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace flowgate {

struct StoredDefinition {
  std::string workflow_id;
  int version = 0;
  std::string content_hash;  // hex SHA-256 of source_text
  std::string source_text;
  std::string file;  // where it was loaded from
  std::int64_t loaded_ms = 0;
};

// The current state of one instance, as the writer last committed it.
struct InstanceSnapshot {
  std::string instance_id;
  std::string workflow_id;
  int version = 0;  // definition version the instance is pinned to
  std::string state;
  std::string lifecycle;  // "active", "suspended", "awaiting_gate", "completed", "cancelled"
  nlohmann::json data = nlohmann::json::object();   // field → JSON value (Value::to_json)
  nlohmann::json extra = nlohmann::json::object();  // plugin state, pending gate transition, ...
  std::string business_key;                         // "" = none; unique per workflow otherwise
  std::int64_t last_seq = 0;  // sequence of the newest event; the optimistic-concurrency version
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
  std::string head_hash;  // hash of the newest event
};

// One event in an instance's history. `position` is global and assigned by the store on append;
// `seq` is per instance, 1-based and gapless.
struct EventRecord {
  std::int64_t position = 0;
  std::string instance_id;
  std::int64_t seq = 0;
  std::int64_t at_ms = 0;                           // the command's time (from the injected clock)
  std::string type;                                 // "instance_started", "transitioned", ...
  nlohmann::json actor = nlohmann::json::object();  // {"principal", "roles", "on_behalf_of"?}
  nlohmann::json body = nlohmann::json::object();   // type-specific fields
  std::string request_id;  // the command's request id, "" if none (not hashed)
  std::string prev_hash;   // hash of event seq-1 of the same instance; "" for seq 1
  std::string hash;        // see store/hash_chain.h
};

// A durable timer: fired as a command at `due_ms`.
struct TimerRecord {
  std::string timer_id;  // unique: the engine stores "<instance>#<plugin's timer id>"
  std::string instance_id;
  std::int64_t due_ms = 0;
  nlohmann::json payload = nlohmann::json::object();
};

// Where a timer stands in firing order: by due time, then by id.
struct TimerKey {
  std::int64_t due_ms = 0;
  std::string timer_id;
  auto operator<=>(const TimerKey&) const = default;
};

// The first answer given to a request id; a retry gets the same answer and changes nothing.
struct RequestRecord {
  std::string request_id;
  std::string fingerprint;  // hash of the command, to refuse reuse for another command
  std::string instance_id;
  nlohmann::json response;  // the result (or error) returned the first time
  std::int64_t at_ms = 0;
};

struct Checkpoint {
  std::int64_t id = 0;
  std::int64_t position = 0;  // global position covered (max events.position at the time)
  std::int64_t at_ms = 0;
  std::int64_t instance_count = 0;
  std::int64_t event_count = 0;
  std::string heads_hash;  // see store/hash_chain.h
};

}  // namespace flowgate
