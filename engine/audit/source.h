// Where an audit reads a history from: a database file (AuditDb) or an export file (export.h).
// Verify runs the same checks on both, so an auditor can re-verify an export offline.
// Thread-safety: a source belongs to one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "audit/audit_db.h"
#include "store/records.h"
#include "util/error.h"

namespace flowgate::audit {

class AuditSource {
 public:
  virtual ~AuditSource() = default;
  virtual const std::string& name() const = 0;
  // False for a filtered export (--since, --workflow, --instance): histories may start after
  // seq 1 (the first exported event's prev_hash anchors the chain), and checkpoints, position gaps
  // and numbering are not checked.
  virtual bool complete() const = 0;
  virtual Result<std::vector<StoredDefinition>> definitions() = 0;
  virtual Result<std::vector<Checkpoint>> checkpoints() = 0;
  virtual Result<std::int64_t> max_instance_number() = 0;
  virtual Result<std::int64_t> last_position() = 0;  // for progress; 0 when unknown
  virtual Result<void> each_instance_head(const std::function<void(InstanceHead&&)>& fn) = 0;
  virtual Result<std::optional<InstanceSnapshot>> snapshot(const InstanceHead& head) = 0;
  // The instance row as stored text, for a comparison without parsing its JSON; nullopt when the
  // source has no such text (use snapshot()). Views valid until the next call on the source.
  virtual Result<std::optional<SnapshotText>> snapshot_text(const InstanceHead&) {
    return std::optional<SnapshotText>();
  }
  // Instance ids that other records (idempotency records, timers) still name but that have no
  // instance: traces of a deleted instance. Empty when the source has no such records.
  virtual Result<std::vector<std::string>> dangling_instance_references() {
    return std::vector<std::string>{};
  }
  // Every event by position; `fn` returns false to stop early.
  virtual Result<void> each_event(const std::function<bool(const EventRow&)>& fn) = 0;
  // A source of its own (for another thread) whose each_event() returns exactly the events this
  // one's does, read through a second connection: so reading can overlap the checks. Null when the
  // source cannot be read twice (an export file).
  virtual Result<std::unique_ptr<AuditSource>> open_event_reader() {
    return std::unique_ptr<AuditSource>();
  }
};

// A database, read through `db` (which must outlive the source), optionally filtered.
std::unique_ptr<AuditSource> database_source(AuditDb& db, EventFilter filter = {});

}  // namespace flowgate::audit
