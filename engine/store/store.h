// The durable store: one SQLite file in WAL mode (SQLiteCpp). The writer connection is used by
// one thread only (the engine's writer); readers open their own read-only Store on the same file.
// Every failure is an Error value: a locked database (after a bounded wait) is kDatabaseLocked, a
// file that is not a flowgate database or is corrupt is kNotADatabase (and is never written to),
// a schema newer than this binary is kSchemaTooNew, a full disk is kDiskFull. A failed commit
// leaves nothing of the batch visible.
// Thread-safety: a Store object is not thread-safe; use one per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/records.h"
#include "util/error.h"

namespace flowgate {

inline constexpr int kSchemaVersion = 1;
inline constexpr std::int32_t kApplicationId = 0x46475445;  // "FGTE", PRAGMA application_id

struct StoreOptions {
  std::string path;
  bool read_only = false;
  bool create = true;              // create the file if missing (writer only)
  bool synchronous_full = true;    // PRAGMA synchronous=FULL (default) or NORMAL
  int busy_timeout_ms = 5000;      // bounded wait for a lock held by another process
  std::int64_t max_page_count = 0; // 0 = unlimited; tests use it to simulate a full disk
};

// Everything one group commit writes, in one transaction.
struct WriteBatch {
  std::vector<EventRecord> events;          // hashes already computed; positions assigned on commit
  std::vector<InstanceSnapshot> instances;  // upserts
  std::vector<RequestRecord> requests;
  std::vector<TimerRecord> timers_put;      // upserts by timer_id
  std::vector<std::string> timers_delete;   // by timer_id
  bool empty() const {
    return events.empty() && instances.empty() && requests.empty() && timers_put.empty() &&
           timers_delete.empty();
  }
};

struct InstanceFilter {
  std::string workflow_id;  // "" = any
  std::string state;        // "" = any
  std::string lifecycle;    // "" = any
  std::string business_key; // "" = any
  std::int64_t limit = 100;
  std::string after_id;     // paging: ids greater than this (ordered by id)
};

class Store {
 public:
  static Result<std::unique_ptr<Store>> open(const StoreOptions& options);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const StoreOptions& options() const;

  // Definitions: stored once per (workflow_id, version). Storing the same version again with the
  // same hash is a no-op; with a different hash it is kInvalidDefinition.
  Result<void> put_definition(const StoredDefinition& def);
  Result<std::optional<StoredDefinition>> get_definition(const std::string& workflow_id, int version);
  Result<std::vector<StoredDefinition>> list_definitions();

  // One transaction. Assigns EventRecord::position (returned in order of batch.events).
  Result<std::vector<std::int64_t>> commit(const WriteBatch& batch);

  Result<std::optional<InstanceSnapshot>> get_instance(const std::string& instance_id);
  Result<std::vector<InstanceSnapshot>> list_instances(const InstanceFilter& filter);
  Result<std::optional<std::string>> find_business_key(const std::string& workflow_id,
                                                       const std::string& business_key);
  Result<std::vector<EventRecord>> history(const std::string& instance_id);
  // Events with position > after, in position order, at most `limit`.
  Result<std::vector<EventRecord>> events_after(std::int64_t after, std::int64_t limit);
  Result<std::optional<RequestRecord>> find_request(const std::string& request_id);
  Result<std::vector<TimerRecord>> all_timers();
  // The largest numeric suffix used in instance ids, for the writer's id counter.
  Result<std::int64_t> instance_count();

  // Hashes every chain head into a new checkpoint row (writer only).
  Result<Checkpoint> write_checkpoint(std::int64_t at_ms);
  Result<std::vector<Checkpoint>> checkpoints();

 private:
  struct Impl;
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace flowgate
