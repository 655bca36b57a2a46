#include "audit/source.h"

#include <algorithm>
#include <limits>

#include "audit/page_scan.h"

namespace flowgate::audit {
namespace {

class DatabaseSource final : public AuditSource {
 public:
  DatabaseSource(AuditDb& db, EventFilter filter) : db_(db), filter_(std::move(filter)) {}
  DatabaseSource(std::unique_ptr<AuditDb> owned, EventFilter filter)
      : owned_(std::move(owned)), db_(*owned_), filter_(std::move(filter)) {}
  const std::string& name() const override { return db_.path(); }
  bool complete() const override {
    return filter_.instance_id.empty() && filter_.workflow_id.empty() && !filter_.since_ms &&
           !filter_.until_ms;
  }
  Result<std::vector<StoredDefinition>> definitions() override { return db_.definitions(); }
  Result<std::vector<Checkpoint>> checkpoints() override { return db_.checkpoints(); }
  Result<std::int64_t> max_instance_number() override { return db_.max_instance_number(); }
  Result<std::int64_t> last_position() override { return db_.last_position(); }
  Result<void> each_instance_head(const std::function<void(InstanceHead&&)>& fn) override {
    if (!filter_.instance_id.empty()) {
      auto snap = db_.snapshot(filter_.instance_id);
      if (!snap) return fail(snap.error());
      if (*snap) {
        InstanceHead h{0,
                       (*snap)->instance_id,
                       (*snap)->workflow_id,
                       (*snap)->version,
                       (*snap)->last_seq,
                       (*snap)->head_hash};
        fn(std::move(h));
      }
      return {};
    }
    return db_.each_instance_head([&](InstanceHead&& h) {
      if (filter_.workflow_id.empty() || h.workflow_id == filter_.workflow_id) fn(std::move(h));
    });
  }
  Result<std::optional<InstanceSnapshot>> snapshot(const InstanceHead& head) override {
    if (head.rowid > 0) return db_.snapshot_by_rowid(head.rowid);
    return db_.snapshot(head.instance_id);
  }
  Result<std::optional<SnapshotText>> snapshot_text(const InstanceHead& head) override {
    if (head.rowid > 0) return db_.snapshot_text_by_rowid(head.rowid);
    return std::optional<SnapshotText>();
  }
  Result<std::vector<std::string>> dangling_instance_references() override {
    return db_.dangling_instance_references();
  }
  // A full scan reads the file's pages where it can (page_scan.h), and SQLite reads the rest.
  Result<void> each_event(const std::function<bool(const EventRow&)>& fn) override {
    EventFilter filter = filter_;
    if (filter.instance_id.empty() && filter.workflow_id.empty() && !filter.since_ms &&
        !filter.until_ms && filter.skip == 0) {
      if (auto scan = db_.page_scan()) {
        const auto out = scan->each(
            filter.until_position.value_or(std::numeric_limits<std::int64_t>::max()), fn);
        if (out.finished) return {};
        filter.skip = out.delivered;
      }
    }
    auto cursor = db_.events(filter);
    if (!cursor) return fail(cursor.error());
    while (cursor->next()) {
      if (!fn(cursor->row())) return {};
    }
    if (cursor->error()) return fail(*cursor->error());
    return {};
  }
  // The second connection opens its own read transaction, which may see events a live writer
  // committed since this one began: positions only grow (a commit appends), so limiting it to
  // this connection's newest position gives it exactly the same rows.
  Result<std::unique_ptr<AuditSource>> open_event_reader() override {
    auto last = db_.last_position();
    if (!last) return fail(last.error());
    auto db = AuditDb::open(db_.path());
    if (!db) return fail(db.error());
    (*db)->set_read_pages(db_.read_pages());
    EventFilter filter = filter_;
    filter.until_position = filter.until_position ? std::min(*filter.until_position, *last) : *last;
    return std::unique_ptr<AuditSource>(
        std::make_unique<DatabaseSource>(std::move(*db), std::move(filter)));
  }

 private:
  std::unique_ptr<AuditDb> owned_;  // when the source opened its own connection
  AuditDb& db_;
  EventFilter filter_;
};

}  // namespace

std::unique_ptr<AuditSource> database_source(AuditDb& db, EventFilter filter) {
  return std::make_unique<DatabaseSource>(db, std::move(filter));
}

}  // namespace flowgate::audit
