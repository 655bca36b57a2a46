// The durable store: one SQLite file in WAL mode (SQLiteCpp). The writer connection is used by
// one thread only (the engine's writer); readers open their own read-only Store on the same file.
// Every failure is an Error value: a locked database (after a bounded wait) is kDatabaseLocked, a
// file that is not a flowgate database or is corrupt is kNotADatabase (and is never written to),
// a schema newer than this binary is kSchemaTooNew, a full disk is kDiskFull. A failed commit
// leaves nothing of the batch visible.
// Thread-safety: a Store object is not thread-safe; use one per thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/records.h"
#include "util/error.h"

namespace flowgate {

inline constexpr int kSchemaVersion = 1;
inline constexpr std::int32_t kApplicationId = 0x46475445;  // "FGTE", PRAGMA application_id

struct StoreOptions {
  std::string path;
  bool read_only = false;
  bool create = true;               // create the file if missing (writer only)
  bool synchronous_full = true;     // PRAGMA synchronous=FULL (default) or NORMAL
  int busy_timeout_ms = 5000;       // bounded wait for a lock held by another process
  std::int64_t max_page_count = 0;  // 0 = unlimited; tests use it to simulate a full disk
  // Writer: WAL checkpoints on a thread of their own, off the commit path (wal_checkpointer.h);
  // false = SQLite's autocheckpoint inside the commit that fills the log (benchmarks compare).
  bool background_checkpoints = true;
  // Writer: each commit's WAL frames reach the kernel in one write (wal_vfs.h) instead of two per
  // frame; false = SQLite's default VFS (benchmarks compare).
  bool coalesce_wal_writes = true;
  // On open, PRAGMA quick_check (reads every page, ~2 ms per MiB) runs when the file is at most
  // this large; otherwise only the header and schema are checked and `flowgate verify` does the
  // deep check. 0 = never. kQuickCheckDefault = 64 MiB for a writer and never for a reader
  // (readers are opened on demand; a reader that meets a damaged page gets kNotADatabase from
  // that read).
  std::int64_t quick_check_max_bytes = kQuickCheckDefault;
  static constexpr std::int64_t kQuickCheckDefault = -1;
};

// Everything one group commit writes, in one transaction.
struct WriteBatch {
  std::vector<EventRecord> events;          // hashes already computed; positions assigned on commit
  std::vector<InstanceSnapshot> instances;  // upserts
  std::vector<RequestRecord> requests;
  std::vector<TimerRecord> timers_put;     // upserts by timer_id
  std::vector<std::string> timers_delete;  // by timer_id, applied after timers_put (coalesce
                                           // changes to one timer before committing)
  // The JSON columns' text, in the order commit() writes them: each instance's data and extra,
  // each event's actor and body, each request's response, each put timer's payload. Optional:
  // encode_json() fills it on the deciding thread so that the committing thread only binds;
  // commit() serializes what is missing.
  std::vector<std::string> json_texts;

  bool empty() const {
    return events.empty() && instances.empty() && requests.empty() && timers_put.empty() &&
           timers_delete.empty();
  }
};

// Fills batch.json_texts from the batch's JSON values. Touches no database.
void encode_json(WriteBatch& batch);

struct InstanceFilter {
  std::string workflow_id;   // "" = any
  std::string state;         // "" = any
  std::string lifecycle;     // "" = any
  std::string business_key;  // "" = any
  std::int64_t limit = 100;
  std::string after_id;  // paging: ids greater than this (ordered by id)
};

// The SQL of the statements Store::commit writes a batch's rows with (their parameters in the
// order of the instances, events and requests columns): bench_engine's bare loop appends the
// engine's rows with the very same statements.
struct CommitSql {
  const char* upsert_instance;  // ?1..?12: FG_INSTANCE_COLUMNS' order (store.cpp)
  const char* insert_event;     // ?1..?9: instance_id, seq, at_ms, type, actor, body, request_id,
                                // prev_hash, hash
  const char* insert_request;   // ?1..?5: request_id, fingerprint, instance_id, response, at_ms
};
CommitSql commit_sql();

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
  Result<std::optional<StoredDefinition>> get_definition(const std::string& workflow_id,
                                                         int version);
  Result<std::vector<StoredDefinition>> list_definitions();

  // One transaction. Assigns EventRecord::position (returned in order of batch.events).
  Result<std::vector<std::int64_t>> commit(const WriteBatch& batch);
  // Writer: the WAL housekeeping a commit left for after its callers are answered (the last
  // pages of a background checkpoint; wal_checkpointer.h). Without this call the next commit
  // does it first.
  void finish_commit();

  Result<std::optional<InstanceSnapshot>> get_instance(const std::string& instance_id);
  // Ordered by instance_id; at most filter.limit (capped at 10,000) rows.
  Result<std::vector<InstanceSnapshot>> list_instances(const InstanceFilter& filter);
  Result<std::optional<std::string>> find_business_key(const std::string& workflow_id,
                                                       const std::string& business_key);
  Result<std::vector<EventRecord>> history(const std::string& instance_id);
  // Events with position > after, in position order, at most `limit` (capped at 100,000).
  Result<std::vector<EventRecord>> events_after(std::int64_t after, std::int64_t limit);
  Result<std::optional<RequestRecord>> find_request(const std::string& request_id);
  // Gives `each` every stored request id (in no particular order) until it returns false, all in
  // one read transaction; returns how many it gave.
  Result<std::int64_t> scan_request_ids(const std::function<bool(std::string_view)>& each);
  Result<std::vector<TimerRecord>> all_timers();
  // Timers after `after` (all when none) in (due time, timer id) order, at most `limit`
  // (negative: no limit).
  Result<std::vector<TimerRecord>> timers_after(const std::optional<TimerKey>& after,
                                                std::int64_t limit);
  // The largest n of instance ids "<workflow_id>-<n>" ever committed (0 if none), for the
  // writer's id counter. Kept in meta, raised within commit().
  Result<std::int64_t> max_instance_number();
  // The position of the newest event (0 if none): where a watcher starts to follow the log.
  Result<std::int64_t> last_position();

  // Hashes every chain head into a new checkpoint row (writer only).
  Result<Checkpoint> write_checkpoint(std::int64_t at_ms);
  Result<std::vector<Checkpoint>> checkpoints();

 private:
  struct Impl;
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace flowgate
