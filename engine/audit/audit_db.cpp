#include "audit/audit_db.h"

#include <sqlite3.h>

#include <filesystem>

#include <fmt/format.h>

#include "audit/page_scan.h"
#include "store/store.h"

namespace flowgate::audit {
namespace {

std::string_view text_view(sqlite3_stmt* s, int col) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, col));
  if (p == nullptr) return {};
  return {p, static_cast<std::size_t>(sqlite3_column_bytes(s, col))};
}

std::string text(sqlite3_stmt* s, int col) { return std::string(text_view(s, col)); }

// A URI file name for sqlite3_open_v2: '?' and '#' and '%' in the path must be escaped.
std::string file_uri(const std::string& path, bool immutable) {
  std::string abs = std::filesystem::absolute(path).string();
  std::string out = "file:";
  for (char c : abs) {
    if (c == '?' || c == '#' || c == '%') {
      out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  out += immutable ? "?mode=ro&immutable=1" : "?mode=ro";
  return out;
}

struct StmtGuard {
  sqlite3_stmt* s;
  ~StmtGuard() { sqlite3_finalize(s); }
};

}  // namespace

EventCursor::~EventCursor() {
  if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}

EventCursor::EventCursor(EventCursor&& o) noexcept
    : stmt_(o.stmt_), path_(std::move(o.path_)), row_(o.row_), error_(std::move(o.error_)) {
  o.stmt_ = nullptr;
}

bool EventCursor::next() {
  if (stmt_ == nullptr) return false;
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) {
    row_.position = sqlite3_column_int64(stmt_, 0);
    row_.instance_id = text_view(stmt_, 1);
    row_.seq = sqlite3_column_int64(stmt_, 2);
    row_.at_ms = sqlite3_column_int64(stmt_, 3);
    row_.type = text_view(stmt_, 4);
    row_.actor = text_view(stmt_, 5);
    row_.body = text_view(stmt_, 6);
    row_.request_id = text_view(stmt_, 7);
    row_.prev_hash = text_view(stmt_, 8);
    row_.hash = text_view(stmt_, 9);
    return true;
  }
  if (rc != SQLITE_DONE) {
    sqlite3* db = sqlite3_db_handle(stmt_);
    int code = sqlite3_extended_errcode(db);
    ErrorCode ec = (code & 0xff) == SQLITE_CORRUPT || (code & 0xff) == SQLITE_NOTADB
                       ? ErrorCode::kNotADatabase
                       : ErrorCode::kStorage;
    error_ =
        Error(ec, fmt::format("reading the events of {} failed: {}", path_, sqlite3_errmsg(db)))
            .with_data("path", path_)
            .with_data("sqlite_code", code);
  }
  sqlite3_finalize(stmt_);
  stmt_ = nullptr;
  return false;
}

AuditDb::~AuditDb() {
  if (snapshot_by_rowid_ != nullptr) sqlite3_finalize(snapshot_by_rowid_);
  if (db_ != nullptr) {
    sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
    sqlite3_close_v2(db_);
  }
}

Error AuditDb::sqlite_failure(std::string_view doing) const {
  int code = db_ ? sqlite3_extended_errcode(db_) : SQLITE_ERROR;
  ErrorCode ec = ErrorCode::kStorage;
  if ((code & 0xff) == SQLITE_CORRUPT || (code & 0xff) == SQLITE_NOTADB)
    ec = ErrorCode::kNotADatabase;
  if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED)
    ec = ErrorCode::kDatabaseLocked;
  return Error(ec, fmt::format("{} in {} failed: {}", doing, path_,
                               db_ ? sqlite3_errmsg(db_) : "cannot open"))
      .with_data("path", path_)
      .with_data("sqlite_code", code);
}

Result<sqlite3_stmt*> AuditDb::prepare(std::string_view sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &s, nullptr) != SQLITE_OK) {
    return fail(sqlite_failure("reading"));
  }
  return s;
}

Result<std::unique_ptr<AuditDb>> AuditDb::open(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return fail(Error(ErrorCode::kStorage, fmt::format("database {} does not exist", path))
                    .with_hint("check the path")
                    .with_data("path", path));
  }
  // The store's read-only open inspects the file (header, application id, schema version) and
  // refuses anything that is not a readable flowgate database, without writing to it.
  StoreOptions so;
  so.path = path;
  so.read_only = true;
  so.quick_check_max_bytes = 0;
  auto probe = Store::open(so);
  bool cannot_open = !probe && probe.error().data.value("sqlite_code", 0) != 0 &&
                     (probe.error().data.value("sqlite_code", 0) & 0xff) == SQLITE_CANTOPEN;
  if (!probe && !cannot_open) return fail(probe.error());
  probe = fail(ErrorCode::kInternal, "closed");  // release the probe's connection

  std::unique_ptr<AuditDb> db(new AuditDb());
  db->path_ = path;
  for (bool immutable : {false, true}) {
    if (db->db_ != nullptr) {
      sqlite3_close_v2(db->db_);
      db->db_ = nullptr;
    }
    int rc = sqlite3_open_v2(file_uri(path, immutable).c_str(), &db->db_,
                             SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc == SQLITE_OK) {
      sqlite3_busy_timeout(db->db_, 5000);
      // Pages are read through a memory map where SQLite allows it (the first kMmapBytes of the
      // file): a scan of the log then costs no read() copy per page. One read transaction for
      // every query: a consistent state even beside a live writer.
      const std::string setup = fmt::format(
          "PRAGMA mmap_size = {}; BEGIN; SELECT count(*) FROM sqlite_master", kMmapBytes);
      rc = sqlite3_exec(db->db_, setup.c_str(), nullptr, nullptr, nullptr);
    }
    if (rc == SQLITE_OK) {
      db->immutable_ = immutable;
      break;
    }
    if (immutable || (sqlite3_extended_errcode(db->db_) & 0xff) != SQLITE_CANTOPEN) {
      return fail(db->sqlite_failure("opening"));
    }
  }
  if (cannot_open) {
    // The probe could not open the file at all (no WAL shared memory): check it is ours here.
    auto s = db->prepare("PRAGMA application_id");
    if (!s) return fail(s.error());
    StmtGuard g{*s};
    if (sqlite3_step(*s) != SQLITE_ROW || sqlite3_column_int(*s, 0) != kApplicationId) {
      return fail(
          Error(ErrorCode::kNotADatabase, fmt::format("{} is not a flowgate database", path))
              .with_data("path", path));
    }
  }
  return db;
}

Result<void> AuditDb::each_row(std::string_view sql, std::string_view what,
                               const std::function<Result<void>(sqlite3_stmt*)>& fn) {
  auto s = prepare(sql);
  if (!s) return fail(s.error());
  StmtGuard g{*s};
  int rc;
  while ((rc = sqlite3_step(*s)) == SQLITE_ROW) {
    if (auto ok = fn(*s); !ok) return ok;
  }
  if (rc != SQLITE_DONE) return fail(sqlite_failure(what));
  return {};
}

Result<std::vector<StoredDefinition>> AuditDb::definitions() {
  std::vector<StoredDefinition> out;
  auto ok = each_row(
      "SELECT workflow_id, version, content_hash, source_text, file, loaded_ms FROM definitions "
      "ORDER BY workflow_id, version",
      "reading definitions", [&](sqlite3_stmt* s) -> Result<void> {
        out.push_back({text(s, 0), sqlite3_column_int(s, 1), text(s, 2), text(s, 3), text(s, 4),
                       sqlite3_column_int64(s, 5)});
        return {};
      });
  if (!ok) return fail(ok.error());
  return out;
}

Result<std::vector<Checkpoint>> AuditDb::checkpoints() {
  std::vector<Checkpoint> out;
  auto ok = each_row(
      "SELECT id, position, at_ms, instance_count, event_count, heads_hash FROM checkpoints "
      "ORDER BY id",
      "reading checkpoints", [&](sqlite3_stmt* s) -> Result<void> {
        out.push_back({sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1),
                       sqlite3_column_int64(s, 2), sqlite3_column_int64(s, 3),
                       sqlite3_column_int64(s, 4), text(s, 5)});
        return {};
      });
  if (!ok) return fail(ok.error());
  return out;
}

namespace {
Result<std::int64_t> single_int(sqlite3* handle, const char* sql,
                                const std::function<Error(std::string_view)>& failure) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(handle, sql, -1, &s, nullptr) != SQLITE_OK)
    return fail(failure("reading"));
  StmtGuard g{s};
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) return sqlite3_column_int64(s, 0);
  if (rc == SQLITE_DONE) return 0;
  return fail(failure("reading"));
}
}  // namespace

Result<std::int64_t> AuditDb::max_instance_number() {
  return single_int(db_, "SELECT value FROM meta WHERE key = 'max_instance_number'",
                    [this](std::string_view d) { return sqlite_failure(d); });
}

Result<std::int64_t> AuditDb::last_position() {
  return single_int(db_, "SELECT coalesce(max(position), 0) FROM events",
                    [this](std::string_view d) { return sqlite_failure(d); });
}

Result<std::int64_t> AuditDb::instance_count() {
  return single_int(db_, "SELECT count(*) FROM instances",
                    [this](std::string_view d) { return sqlite_failure(d); });
}

Result<void> AuditDb::each_instance_head(const std::function<void(InstanceHead&&)>& fn) {
  return each_row(
      "SELECT rowid, instance_id, workflow_id, version, last_seq, head_hash FROM instances",
      "reading instances", [&](sqlite3_stmt* s) -> Result<void> {
        fn(InstanceHead{sqlite3_column_int64(s, 0), text(s, 1), text(s, 2),
                        sqlite3_column_int(s, 3), sqlite3_column_int64(s, 4), text(s, 5)});
        return {};
      });
}

namespace {
constexpr const char* kSnapshotColumns =
    "instance_id, workflow_id, version, state, lifecycle, data, extra, business_key, last_seq, "
    "created_ms, updated_ms, head_hash";
}

namespace {
// The current row of a kSnapshotColumns query, as views into the statement.
SnapshotText snapshot_text(sqlite3_stmt* s) {
  SnapshotText t;
  t.instance_id = text_view(s, 0);
  t.workflow_id = text_view(s, 1);
  t.version = sqlite3_column_int(s, 2);
  t.state = text_view(s, 3);
  t.lifecycle = text_view(s, 4);
  t.data = text_view(s, 5);
  t.extra = text_view(s, 6);
  t.business_key = text_view(s, 7);
  t.last_seq = sqlite3_column_int64(s, 8);
  t.created_ms = sqlite3_column_int64(s, 9);
  t.updated_ms = sqlite3_column_int64(s, 10);
  t.head_hash = text_view(s, 11);
  return t;
}
}  // namespace

Result<InstanceSnapshot> AuditDb::read_snapshot(sqlite3_stmt* s) {
  const SnapshotText t = snapshot_text(s);
  InstanceSnapshot snap;
  snap.instance_id = std::string(t.instance_id);
  snap.workflow_id = std::string(t.workflow_id);
  snap.version = t.version;
  snap.state = std::string(t.state);
  snap.lifecycle = std::string(t.lifecycle);
  for (auto [json_text, target, name] :
       {std::tuple{t.data, &snap.data, "data"}, {t.extra, &snap.extra, "extra"}}) {
    *target = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
    if (target->is_discarded() || !target->is_object()) {
      return fail(Error(ErrorCode::kNotADatabase,
                        fmt::format("{} is corrupt: instances.{} of {} is not a JSON object", path_,
                                    name, snap.instance_id))
                      .with_data("path", path_));
    }
  }
  snap.business_key = std::string(t.business_key);
  snap.last_seq = t.last_seq;
  snap.created_ms = t.created_ms;
  snap.updated_ms = t.updated_ms;
  snap.head_hash = std::string(t.head_hash);
  return snap;
}

Result<bool> AuditDb::step_instance_row(std::int64_t rowid) {
  if (snapshot_by_rowid_ == nullptr) {
    auto s = prepare(fmt::format("SELECT {} FROM instances WHERE rowid = ?", kSnapshotColumns));
    if (!s) return fail(s.error());
    snapshot_by_rowid_ = *s;
  }
  sqlite3_reset(snapshot_by_rowid_);
  sqlite3_bind_int64(snapshot_by_rowid_, 1, rowid);
  int rc = sqlite3_step(snapshot_by_rowid_);
  if (rc == SQLITE_DONE) return false;
  if (rc != SQLITE_ROW) return fail(sqlite_failure("reading an instance"));
  return true;
}

Result<std::optional<InstanceSnapshot>> AuditDb::snapshot_by_rowid(std::int64_t rowid) {
  auto found = step_instance_row(rowid);
  if (!found) return fail(found.error());
  if (!*found) return std::optional<InstanceSnapshot>();
  auto snap = read_snapshot(snapshot_by_rowid_);
  sqlite3_reset(snapshot_by_rowid_);
  if (!snap) return fail(snap.error());
  return std::optional<InstanceSnapshot>(std::move(*snap));
}

Result<std::optional<SnapshotText>> AuditDb::snapshot_text_by_rowid(std::int64_t rowid) {
  auto found = step_instance_row(rowid);
  if (!found) return fail(found.error());
  if (!*found) return std::optional<SnapshotText>();
  // The row stays current (and the views valid) until the statement is reset by the next call.
  SnapshotText t = snapshot_text(snapshot_by_rowid_);
  return std::optional<SnapshotText>(t);
}

Result<std::optional<InstanceSnapshot>> AuditDb::snapshot(const std::string& instance_id) {
  auto s = prepare(fmt::format("SELECT {} FROM instances WHERE instance_id = ?", kSnapshotColumns));
  if (!s) return fail(s.error());
  StmtGuard g{*s};
  sqlite3_bind_text(*s, 1, instance_id.data(), static_cast<int>(instance_id.size()), SQLITE_STATIC);
  int rc = sqlite3_step(*s);
  if (rc == SQLITE_DONE) return std::optional<InstanceSnapshot>();
  if (rc != SQLITE_ROW) return fail(sqlite_failure("reading an instance"));
  auto snap = read_snapshot(*s);
  if (!snap) return fail(snap.error());
  return std::optional<InstanceSnapshot>(std::move(*snap));
}

Result<void> AuditDb::each_snapshot(const std::string& workflow_id,
                                    const std::function<void(InstanceSnapshot&&)>& fn) {
  auto s = prepare(fmt::format("SELECT {} FROM instances {} ORDER BY instance_id", kSnapshotColumns,
                               workflow_id.empty() ? "" : "WHERE workflow_id = ?"));
  if (!s) return fail(s.error());
  StmtGuard g{*s};
  if (!workflow_id.empty()) {
    sqlite3_bind_text(*s, 1, workflow_id.data(), static_cast<int>(workflow_id.size()),
                      SQLITE_STATIC);
  }
  int rc;
  while ((rc = sqlite3_step(*s)) == SQLITE_ROW) {
    auto snap = read_snapshot(*s);
    if (!snap) return fail(snap.error());
    fn(std::move(*snap));
  }
  if (rc != SQLITE_DONE) return fail(sqlite_failure("reading instances"));
  return {};
}

Result<EventCursor> AuditDb::events(const EventFilter& filter) {
  std::string sql =
      "SELECT position, instance_id, seq, at_ms, type, actor, body, request_id, prev_hash, hash "
      "FROM events";
  std::vector<std::string> where;
  if (!filter.instance_id.empty()) where.push_back("instance_id = ?1");
  if (!filter.workflow_id.empty())
    where.push_back(
        "instance_id IN (SELECT instance_id FROM "
        "instances WHERE workflow_id = ?2)");
  if (filter.since_ms) where.push_back("at_ms >= ?3");
  if (filter.until_ms) where.push_back("at_ms <= ?4");
  if (filter.until_position) where.push_back("position <= ?5");
  for (std::size_t i = 0; i < where.size(); ++i) sql += (i == 0 ? " WHERE " : " AND ") + where[i];
  sql += filter.instance_id.empty() ? " ORDER BY position" : " ORDER BY seq";
  if (filter.skip > 0) sql += " LIMIT -1 OFFSET ?6";
  auto s = prepare(sql);
  if (!s) return fail(s.error());
  if (!filter.instance_id.empty()) {
    sqlite3_bind_text(*s, 1, filter.instance_id.data(), static_cast<int>(filter.instance_id.size()),
                      SQLITE_TRANSIENT);
  }
  if (!filter.workflow_id.empty()) {
    sqlite3_bind_text(*s, 2, filter.workflow_id.data(), static_cast<int>(filter.workflow_id.size()),
                      SQLITE_TRANSIENT);
  }
  if (filter.since_ms) sqlite3_bind_int64(*s, 3, *filter.since_ms);
  if (filter.until_ms) sqlite3_bind_int64(*s, 4, *filter.until_ms);
  if (filter.until_position) sqlite3_bind_int64(*s, 5, *filter.until_position);
  if (filter.skip > 0) sqlite3_bind_int64(*s, 6, filter.skip);
  return EventCursor(*s, path_);
}

std::unique_ptr<EventPageScan> AuditDb::page_scan() {
  return read_pages_ ? EventPageScan::open(db_, path_) : nullptr;
}

Result<std::vector<std::string>> AuditDb::dangling_instance_references() {
  std::vector<std::string> out;
  auto ok = each_row(
      "SELECT instance_id FROM requests WHERE instance_id IS NOT NULL AND instance_id <> '' AND "
      "instance_id NOT IN (SELECT instance_id FROM instances) UNION SELECT instance_id FROM timers "
      "WHERE instance_id IS NOT NULL AND instance_id <> '' AND instance_id NOT IN (SELECT "
      "instance_id FROM instances) ORDER BY 1",
      "reading requests and timers", [&](sqlite3_stmt* s) -> Result<void> {
        out.push_back(text(s, 0));
        return {};
      });
  if (!ok) return fail(ok.error());
  return out;
}

Result<std::vector<std::string>> AuditDb::page_check() {
  auto s = prepare("PRAGMA quick_check");
  if (!s) return fail(s.error());
  StmtGuard g{*s};
  std::vector<std::string> problems;
  int rc;
  while ((rc = sqlite3_step(*s)) == SQLITE_ROW) {
    std::string line = text(*s, 0);
    if (line != "ok") problems.push_back(std::move(line));
  }
  if (rc != SQLITE_DONE) {
    Error e = sqlite_failure("checking the pages");
    if (e.code == ErrorCode::kNotADatabase) return std::vector<std::string>{e.message};
    return fail(std::move(e));
  }
  return problems;
}

}  // namespace flowgate::audit
