// Read-only access to a flowgate database for audit: verify, replay, export and report. The file
// is first inspected by the store's read-only open (so a file that is not a flowgate database is
// refused with the store's errors and never written to), then read through one raw SQLite
// connection inside one read transaction, so every query sees the same consistent state even while
// an engine keeps writing. A copy handed to an auditor (no -wal or -shm beside it, on a read-only
// medium) opens too: when SQLite cannot set up WAL shared memory, the file is opened immutable.
// Event rows are streamed by position with zero-copy views of their columns.
// Thread-safety: an AuditDb and its cursors belong to one thread.
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

struct sqlite3;
struct sqlite3_stmt;

namespace flowgate::audit {

class EventPageScan;

// One stored event, as text. The views stay valid until the cursor moves.
struct EventRow {
  std::int64_t position = 0;
  std::int64_t seq = 0;
  std::int64_t at_ms = 0;
  std::string_view instance_id;
  std::string_view type;
  std::string_view actor;  // JSON text
  std::string_view body;   // JSON text
  std::string_view request_id;
  std::string_view prev_hash;
  std::string_view hash;
};

// The columns of an instance row that chain checks need (no JSON).
struct InstanceHead {
  std::int64_t rowid = 0;
  std::string instance_id;
  std::string workflow_id;
  int version = 0;
  std::int64_t last_seq = 0;
  std::string head_hash;
};

// An instance row's columns as stored, without parsing its JSON (data, extra): verify compares
// them with the fold's text first. The views stay valid until the next call on the AuditDb.
struct SnapshotText {
  std::string_view instance_id;
  std::string_view workflow_id;
  int version = 0;
  std::string_view state;
  std::string_view lifecycle;
  std::string_view data;          // JSON text
  std::string_view extra;         // JSON text
  std::string_view business_key;  // "" when NULL
  std::int64_t last_seq = 0;
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
  std::string_view head_hash;
};

// Which events a cursor returns (all conditions must hold). Order is always by position.
struct EventFilter {
  std::string instance_id;  // "" = every instance (an instance uses the (instance_id, seq) index)
  std::string workflow_id;  // "" = every workflow (instances whose id starts "<workflow>-")
  std::optional<std::int64_t> since_ms;        // events at or after this time
  std::optional<std::int64_t> until_ms;        // events at or before this time
  std::optional<std::int64_t> until_position;  // events at or before this position
  std::int64_t skip = 0;  // leaves out the first `skip` events the query returns
};

class EventCursor {
 public:
  ~EventCursor();
  EventCursor(EventCursor&&) noexcept;
  EventCursor& operator=(EventCursor&&) = delete;
  EventCursor(const EventCursor&) = delete;

  // Advances to the next row: true with a row, false at the end or on an error (see error()).
  bool next();
  const EventRow& row() const { return row_; }
  const std::optional<Error>& error() const { return error_; }

 private:
  friend class AuditDb;
  EventCursor(sqlite3_stmt* stmt, std::string path) : stmt_(stmt), path_(std::move(path)) {}
  sqlite3_stmt* stmt_;
  std::string path_;
  EventRow row_;
  std::optional<Error> error_;
};

class AuditDb {
 public:
  // How much of the file is read through a memory map (SQLite caps it at its compile-time
  // SQLITE_MAX_MMAP_SIZE, 2 GB in Debian's build; the rest is read with read()).
  static constexpr std::int64_t kMmapBytes = std::int64_t{1} << 40;
  // kStorage when the file is missing; the store's errors (kNotADatabase, kSchemaTooNew, ...)
  // when it is not a readable flowgate database.
  static Result<std::unique_ptr<AuditDb>> open(const std::string& path);
  ~AuditDb();
  AuditDb(const AuditDb&) = delete;
  AuditDb& operator=(const AuditDb&) = delete;

  const std::string& path() const { return path_; }
  // True when the file had to be opened immutable (a copy without its WAL shared memory).
  bool immutable() const { return immutable_; }

  Result<std::vector<StoredDefinition>> definitions();
  Result<std::vector<Checkpoint>> checkpoints();
  Result<std::int64_t> max_instance_number();
  // max(position), 0 when there are no events (cheap: the rowid B-tree's last entry).
  Result<std::int64_t> last_position();
  Result<std::int64_t> instance_count();
  // Every instance row, by rowid.
  Result<void> each_instance_head(const std::function<void(InstanceHead&&)>& fn);
  // One full snapshot by rowid (from each_instance_head) or by id.
  Result<std::optional<InstanceSnapshot>> snapshot_by_rowid(std::int64_t rowid);
  Result<std::optional<InstanceSnapshot>> snapshot(const std::string& instance_id);
  // The same row's columns as text (nullopt when the row is gone).
  Result<std::optional<SnapshotText>> snapshot_text_by_rowid(std::int64_t rowid);
  // Every snapshot, by instance id, optionally of one workflow.
  Result<void> each_snapshot(const std::string& workflow_id,
                             const std::function<void(InstanceSnapshot&&)>& fn);
  Result<EventCursor> events(const EventFilter& filter);
  // A scan of every event straight from the file's pages (page_scan.h), or null when the file
  // cannot be read that way now or set_read_pages(false) turned it off (each_event of a
  // DatabaseSource then reads through SQLite alone).
  std::unique_ptr<EventPageScan> page_scan();
  bool read_pages() const { return read_pages_; }
  void set_read_pages(bool on) { read_pages_ = on; }
  // Instance ids that idempotency records or timers refer to but that have no instance row (a
  // deleted instance leaves them behind), sorted.
  Result<std::vector<std::string>> dangling_instance_references();
  // PRAGMA quick_check: reads every page. Returns the problems SQLite reports (empty = none).
  Result<std::vector<std::string>> page_check();

 private:
  AuditDb() = default;
  Error sqlite_failure(std::string_view doing) const;
  Result<sqlite3_stmt*> prepare(std::string_view sql);
  // Runs `sql` (no parameters) and calls `fn` for every row.
  Result<void> each_row(std::string_view sql, std::string_view what,
                        const std::function<Result<void>(sqlite3_stmt*)>& fn);
  Result<InstanceSnapshot> read_snapshot(sqlite3_stmt* stmt);
  // Steps snapshot_by_rowid_ to the row `rowid`: true when it exists (the row is then current).
  Result<bool> step_instance_row(std::int64_t rowid);

  std::string path_;
  sqlite3* db_ = nullptr;
  bool immutable_ = false;
  bool read_pages_ = true;
  sqlite3_stmt* snapshot_by_rowid_ = nullptr;
};

}  // namespace flowgate::audit
