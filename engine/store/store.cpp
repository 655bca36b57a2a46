#include "store/store.h"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <fmt/format.h>

#include "store/hash_chain.h"
#include "store/json_text.h"
#include "store/schema.h"
#include "store/sqlite_util.h"
#include "store/wal_checkpointer.h"
#include "store/wal_vfs.h"

namespace flowgate {

using store_internal::StatementScope;
using store_internal::WriteTransaction;

namespace {

constexpr std::int64_t kMaxListLimit = 10'000;
constexpr std::int64_t kMaxEventsLimit = 100'000;
constexpr std::int64_t kWriterQuickCheckBytes = std::int64_t{64} << 20;

// Cached prepared statements, prepared on first use and reused for the Store's lifetime.
enum Slot : std::size_t {
  kUpsertInstance,
  kInsertEvent,
  kInsertRequest,
  kUpsertTimer,
  kDeleteTimer,
  kRaiseMaxInstanceNumber,
  kGetInstance,
  kFindBusinessKey,
  kHistory,
  kEventsAfter,
  kLastPosition,
  kFindRequest,
  kAllTimers,
  kMaxInstanceNumber,
  kGetDefinition,
  kDefinitionExists,
  kInsertDefinition,
  kListDefinitions,
  kListCheckpoints,
  kSlotCount
};

#define FG_INSTANCE_COLUMNS                                                                    \
  "instance_id, workflow_id, version, state, lifecycle, data, extra, business_key, last_seq, " \
  "created_ms, updated_ms, head_hash"
#define FG_EVENT_COLUMNS \
  "position, instance_id, seq, at_ms, type, actor, body, request_id, prev_hash, hash"
#define FG_DEFINITION_COLUMNS "workflow_id, version, content_hash, source_text, file, loaded_ms"

constexpr std::array<const char*, kSlotCount> kSql = {
    // kUpsertInstance: an upsert, never REPLACE (which would delete the row under its events).
    "INSERT INTO instances (" FG_INSTANCE_COLUMNS
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) "
    "ON CONFLICT (instance_id) DO UPDATE SET workflow_id = excluded.workflow_id, "
    "version = excluded.version, state = excluded.state, lifecycle = excluded.lifecycle, "
    "data = excluded.data, extra = excluded.extra, business_key = excluded.business_key, "
    "last_seq = excluded.last_seq, created_ms = excluded.created_ms, "
    "updated_ms = excluded.updated_ms, head_hash = excluded.head_hash",
    // kInsertEvent
    "INSERT INTO events (instance_id, seq, at_ms, type, actor, body, request_id, prev_hash, hash) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    // kInsertRequest
    "INSERT INTO requests (request_id, fingerprint, instance_id, response, at_ms) "
    "VALUES (?1, ?2, ?3, ?4, ?5)",
    // kUpsertTimer
    "INSERT INTO timers (timer_id, instance_id, due_ms, payload) VALUES (?1, ?2, ?3, ?4) "
    "ON CONFLICT (timer_id) DO UPDATE SET instance_id = excluded.instance_id, "
    "due_ms = excluded.due_ms, payload = excluded.payload",
    // kDeleteTimer
    "DELETE FROM timers WHERE timer_id = ?1",
    // kRaiseMaxInstanceNumber
    "UPDATE meta SET value = max(value, ?1) WHERE key = 'max_instance_number'",
    // kGetInstance
    "SELECT " FG_INSTANCE_COLUMNS " FROM instances WHERE instance_id = ?1",
    // kFindBusinessKey
    "SELECT instance_id FROM instances WHERE workflow_id = ?1 AND business_key = ?2",
    // kHistory
    "SELECT " FG_EVENT_COLUMNS " FROM events WHERE instance_id = ?1 ORDER BY seq",
    // kEventsAfter
    "SELECT " FG_EVENT_COLUMNS " FROM events WHERE position > ?1 ORDER BY position LIMIT ?2",
    // kLastPosition
    "SELECT coalesce(max(position), 0) FROM events",
    // kFindRequest
    "SELECT request_id, fingerprint, instance_id, response, at_ms FROM requests "
    "WHERE request_id = ?1",
    // kAllTimers
    "SELECT timer_id, instance_id, due_ms, payload FROM timers WHERE (due_ms, timer_id) > (?1, ?2) "
    "ORDER BY due_ms, timer_id LIMIT ?3",
    // kMaxInstanceNumber
    "SELECT value FROM meta WHERE key = 'max_instance_number'",
    // kGetDefinition
    "SELECT " FG_DEFINITION_COLUMNS " FROM definitions WHERE workflow_id = ?1 AND version = ?2",
    // kDefinitionExists
    "SELECT 1 FROM definitions WHERE workflow_id = ?1 AND version = ?2",
    // kInsertDefinition
    "INSERT INTO definitions (" FG_DEFINITION_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    // kListDefinitions
    "SELECT " FG_DEFINITION_COLUMNS " FROM definitions ORDER BY workflow_id, version",
    // kListCheckpoints
    "SELECT id, position, at_ms, instance_count, event_count, heads_hash FROM checkpoints "
    "ORDER BY id",
};

}  // namespace

CommitSql commit_sql() { return {kSql[kUpsertInstance], kSql[kInsertEvent], kSql[kInsertRequest]}; }

namespace {

// "" is stored as NULL in optional text columns.
void bind_optional(SQLite::Statement& s, int index, const std::string& text) {
  if (text.empty()) {
    s.bind(index);
  } else {
    s.bindNoCopy(index, text);
  }
}

std::string_view text_of(const SQLite::Column& c) {
  return {c.getText(), static_cast<std::size_t>(c.getBytes())};
}

// The n of an id "<workflow_id>-<n>"; 0 for ids of any other shape.
std::int64_t instance_number(const std::string& instance_id, const std::string& workflow_id) {
  if (instance_id.size() <= workflow_id.size() + 1 || !instance_id.starts_with(workflow_id) ||
      instance_id[workflow_id.size()] != '-') {
    return 0;
  }
  std::string_view digits(instance_id);
  digits.remove_prefix(workflow_id.size() + 1);
  if (digits.size() > 18) return 0;
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || end != digits.data() + digits.size() || n < 0) return 0;
  return n;
}

}  // namespace

struct Store::Impl {
  StoreOptions options;
  SQLite::Database db;
  std::int64_t max_instance_number = 0;  // writer: the committed value of meta.max_instance_number
  // Writer: the number of committed events, counted once (at the first checkpoint) and then kept
  // by commit(), so that a checkpoint does not count a table of millions of rows each time.
  std::optional<std::int64_t> event_count;
  // Writer: (workflow_id, version) pairs known to be stored; instances may only reference these.
  std::vector<std::pair<std::string, int>> known_definitions;
  // Declared after `db`: statements are finalized before the connection closes.
  std::array<std::optional<SQLite::Statement>, kSlotCount> cached;
  std::map<std::string, SQLite::Statement> list_queries;  // by SQL text (one per filter shape)
  // JSON text of the row being written (two: a row may have two JSON columns).
  store_internal::JsonText json_a, json_b;
  // Writer: checkpoints the WAL off the commit path. Last: its thread stops before `db` closes.
  std::unique_ptr<store_internal::WalCheckpointer> checkpointer;

  Impl(StoreOptions o, SQLite::Database d) : options(std::move(o)), db(std::move(d)) {}

  SQLite::Statement& statement(Slot slot) {
    auto& s = cached[slot];
    if (!s) s.emplace(db, kSql[slot]);
    return *s;
  }

  Error error(const SQLite::Exception& e, std::string_view doing) const {
    return store_internal::sqlite_error(e, doing, options.path, options.busy_timeout_ms);
  }

  Error corrupt(std::string_view what) const {
    return store_internal::database_corrupt(options.path, what);
  }

  Result<void> writable(std::string_view doing) const {
    if (!options.read_only) return {};
    return fail(Error(ErrorCode::kStorage, fmt::format("{} refused: database {} was opened "
                                                       "read-only",
                                                       doing, options.path))
                    .with_hint("writes go through the engine's writer store"));
  }

  Result<nlohmann::json> json_column(const SQLite::Column& c, std::string_view what) const {
    auto j = nlohmann::json::parse(text_of(c), nullptr, false);
    if (j.is_discarded()) return fail(corrupt(fmt::format("{} is not valid JSON", what)));
    return j;
  }

  Result<InstanceSnapshot> read_instance(SQLite::Statement& s) const {
    InstanceSnapshot r;
    r.instance_id = s.getColumn(0).getString();
    r.workflow_id = s.getColumn(1).getString();
    r.version = s.getColumn(2).getInt();
    r.state = s.getColumn(3).getString();
    r.lifecycle = s.getColumn(4).getString();
    auto data = json_column(s.getColumn(5), fmt::format("instances.data of {}", r.instance_id));
    if (!data) return fail(data.error());
    r.data = std::move(*data);
    auto extra = json_column(s.getColumn(6), fmt::format("instances.extra of {}", r.instance_id));
    if (!extra) return fail(extra.error());
    r.extra = std::move(*extra);
    r.business_key = s.getColumn(7).getString();  // NULL reads as ""
    r.last_seq = s.getColumn(8).getInt64();
    r.created_ms = s.getColumn(9).getInt64();
    r.updated_ms = s.getColumn(10).getInt64();
    r.head_hash = s.getColumn(11).getString();
    return r;
  }

  Result<EventRecord> read_event(SQLite::Statement& s) const {
    EventRecord e;
    e.position = s.getColumn(0).getInt64();
    e.instance_id = s.getColumn(1).getString();
    e.seq = s.getColumn(2).getInt64();
    e.at_ms = s.getColumn(3).getInt64();
    e.type = s.getColumn(4).getString();
    auto actor =
        json_column(s.getColumn(5), fmt::format("events.actor at position {}", e.position));
    if (!actor) return fail(actor.error());
    e.actor = std::move(*actor);
    auto body = json_column(s.getColumn(6), fmt::format("events.body at position {}", e.position));
    if (!body) return fail(body.error());
    e.body = std::move(*body);
    e.request_id = s.getColumn(7).getString();
    e.prev_hash = s.getColumn(8).getString();
    e.hash = s.getColumn(9).getString();
    return e;
  }

  Result<std::vector<EventRecord>> read_events(SQLite::Statement& s) const {
    std::vector<EventRecord> out;
    while (s.executeStep()) {
      auto e = read_event(s);
      if (!e) return fail(e.error());
      out.push_back(std::move(*e));
    }
    return out;
  }

  StoredDefinition read_definition(SQLite::Statement& s) const {
    StoredDefinition d;
    d.workflow_id = s.getColumn(0).getString();
    d.version = s.getColumn(1).getInt();
    d.content_hash = s.getColumn(2).getString();
    d.source_text = s.getColumn(3).getString();
    d.file = s.getColumn(4).getString();
    d.loaded_ms = s.getColumn(5).getInt64();
    return d;
  }

  // What commit() reports when a row cannot be written.
  struct FailedRow {
    std::string row;     // "instance ltc-2"
    std::string reason;  // set when the store can say more than SQLite (missing references)
  };

  // Whether definition (workflow_id, version) is stored; throws SQLite::Exception.
  bool definition_stored(const std::string& workflow_id, int version) {
    for (const auto& [id, v] : known_definitions) {
      if (v == version && id == workflow_id) return true;
    }
    StatementScope q(statement(kDefinitionExists));
    q->bindNoCopy(1, workflow_id);
    q->bind(2, version);
    if (!q->executeStep()) return false;
    known_definitions.emplace_back(workflow_id, version);
    return true;
  }

  // Writes every row of the batch. Returns an error for a row the store refuses itself and throws
  // SQLite::Exception for one SQLite refuses, with `failed` describing the row.
  Result<std::vector<std::int64_t>> write_batch(const WriteBatch& batch, FailedRow& failed,
                                                std::int64_t& new_max);
};

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;

const StoreOptions& Store::options() const { return impl_->options; }

namespace {

// Returns whether the database is in WAL mode (an in-memory database is not).
bool configure_writer(SQLite::Database& db, const StoreOptions& o) {
  const std::string mode = db.execAndGet("PRAGMA journal_mode = WAL").getString();
  if (mode != "wal" && mode != "memory") {
    throw SQLite::Exception(
        fmt::format("cannot switch the database to WAL mode (journal_mode is {})", mode),
        SQLITE_CANTOPEN);
  }
  db.exec(o.synchronous_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
  db.exec("PRAGMA foreign_keys = ON");
  db.exec("PRAGMA cache_size = -32768");  // 32 MiB: instance upserts touch pages all over
  if (o.max_page_count > 0) db.exec(fmt::format("PRAGMA max_page_count = {}", o.max_page_count));
  return mode == "wal";
}

}  // namespace

Result<std::unique_ptr<Store>> Store::open(const StoreOptions& options) {
  namespace fs = std::filesystem;
  if (options.path.empty()) return fail(ErrorCode::kInvalidArgument, "no database path given");
  if (options.busy_timeout_ms < 0 || options.max_page_count < 0 ||
      options.quick_check_max_bytes < StoreOptions::kQuickCheckDefault) {
    return fail(ErrorCode::kInvalidArgument,
                "busy_timeout_ms, max_page_count and quick_check_max_bytes must not be negative");
  }
  std::int64_t quick_check_max_bytes = options.quick_check_max_bytes;
  if (quick_check_max_bytes == StoreOptions::kQuickCheckDefault) {
    quick_check_max_bytes = options.read_only ? 0 : kWriterQuickCheckBytes;
  }
  const std::string& path = options.path;
  std::error_code ec;
  const auto status = fs::status(path, ec);
  const bool exists = fs::exists(status);
  if (exists && fs::is_directory(status)) {
    return fail(Error(ErrorCode::kNotADatabase,
                      fmt::format("{} is a directory, not a flowgate database", path))
                    .with_data("path", path));
  }
  if (!exists && (options.read_only || !options.create)) {
    return fail(Error(ErrorCode::kStorage, fmt::format("database {} does not exist", path))
                    .with_hint(options.read_only
                                   ? "start the engine (flowgate serve) once to create it"
                                   : "check the path")
                    .with_data("path", path));
  }
  store_internal::InspectOptions inspect_options{
      .path = path,
      .quick_check_max_bytes = quick_check_max_bytes,
      .busy_timeout_ms = options.busy_timeout_ms,
  };
  try {
    if (exists) {
      // Inspect through a read-only connection first: a file we refuse is never written to.
      SQLite::Database probe(path, SQLite::OPEN_READONLY, options.busy_timeout_ms);
      auto state = store_internal::inspect(probe, inspect_options);
      if (!state) return fail(std::move(state.error()));
      if (state->empty && (options.read_only || !options.create)) {
        return fail(Error(ErrorCode::kNotADatabase,
                          fmt::format("{} is an empty SQLite database, not yet a flowgate "
                                      "database",
                                      path))
                        .with_hint("open it with the engine's writer (flowgate serve) to "
                                   "initialise it")
                        .with_data("path", path));
      }
      if (options.read_only) {
        if (state->schema_version < kSchemaVersion) {
          return fail(Error(ErrorCode::kStorage,
                            fmt::format("database schema {} is older than this flowgate ({}) "
                                        "and a read-only store cannot upgrade it",
                                        state->schema_version, kSchemaVersion))
                          .with_hint("open it once with the engine's writer (flowgate serve) "
                                     "to upgrade it")
                          .with_data("path", path));
        }
        return std::unique_ptr<Store>(new Store(std::make_unique<Impl>(options, std::move(probe))));
      }
    }
    SQLite::Database db(path, SQLite::OPEN_READWRITE | (exists ? 0 : SQLite::OPEN_CREATE),
                        options.busy_timeout_ms,
                        options.coalesce_wal_writes ? store_internal::coalescing_wal_vfs() : "");
    const bool wal = configure_writer(db, options);
    auto migrated =
        store_internal::migrate(db, store_internal::migrations(), kSchemaVersion, inspect_options);
    if (!migrated) return fail(std::move(migrated.error()));
    auto impl = std::make_unique<Impl>(options, std::move(db));
    if (wal && options.background_checkpoints) {
      impl->checkpointer =
          std::make_unique<store_internal::WalCheckpointer>(store_internal::WalCheckpointerOptions{
              .path = path, .synchronous_full = options.synchronous_full});
      impl->checkpointer->attach(impl->db.getHandle());
    }
    {
      StatementScope q(impl->statement(kMaxInstanceNumber));
      if (q->executeStep()) impl->max_instance_number = q->getColumn(0).getInt64();
    }
    return std::unique_ptr<Store>(new Store(std::move(impl)));
  } catch (const SQLite::Exception& e) {
    return fail(store_internal::sqlite_error(e, "open", path, options.busy_timeout_ms));
  }
}

Result<void> Store::put_definition(const StoredDefinition& def) {
  if (auto ok = impl_->writable("storing a definition"); !ok) return ok;
  if (def.workflow_id.empty() || def.version < 1) {
    return fail(ErrorCode::kInvalidArgument,
                "a stored definition needs a workflow id and a version >= 1");
  }
  if (def.content_hash != sha256_hex(def.source_text)) {
    return fail(ErrorCode::kInvalidArgument,
                fmt::format("content_hash of {} version {} is not the SHA-256 of its source text",
                            def.workflow_id, def.version));
  }
  try {
    WriteTransaction txn(impl_->db);
    {
      StatementScope q(impl_->statement(kGetDefinition));
      q->bindNoCopy(1, def.workflow_id);
      q->bind(2, def.version);
      if (q->executeStep()) {
        const std::string stored_hash = q->getColumn(2).getString();
        if (stored_hash == def.content_hash) return {};
        return fail(Error(ErrorCode::kInvalidDefinition,
                          fmt::format("version {} of {} is already stored with different "
                                      "content; bump [workflow].version",
                                      def.version, def.workflow_id))
                        .with_data("stored_hash", stored_hash)
                        .with_data("new_hash", def.content_hash));
      }
    }
    {
      SQLite::Statement same(
          impl_->db, "SELECT workflow_id, version FROM definitions WHERE content_hash = ?1");
      same.bindNoCopy(1, def.content_hash);
      if (same.executeStep()) {
        return fail(ErrorCode::kInvalidDefinition,
                    fmt::format("the content of {} version {} is already stored as {} version {}",
                                def.workflow_id, def.version, same.getColumn(0).getString(),
                                same.getColumn(1).getInt()));
      }
    }
    {
      StatementScope q(impl_->statement(kInsertDefinition));
      q->bindNoCopy(1, def.workflow_id);
      q->bind(2, def.version);
      q->bindNoCopy(3, def.content_hash);
      q->bindNoCopy(4, def.source_text);
      q->bindNoCopy(5, def.file);
      q->bind(6, static_cast<std::int64_t>(def.loaded_ms));
      q->exec();
    }
    txn.commit();
    impl_->known_definitions.emplace_back(def.workflow_id, def.version);
    return {};
  } catch (const SQLite::Exception& e) {
    return fail(impl_->error(
        e, fmt::format("storing definition {} version {}", def.workflow_id, def.version)));
  }
}

Result<std::optional<StoredDefinition>> Store::get_definition(const std::string& workflow_id,
                                                              int version) {
  try {
    StatementScope q(impl_->statement(kGetDefinition));
    q->bindNoCopy(1, workflow_id);
    q->bind(2, version);
    if (!q->executeStep()) return std::optional<StoredDefinition>();
    return std::optional<StoredDefinition>(impl_->read_definition(*q));
  } catch (const SQLite::Exception& e) {
    return fail(
        impl_->error(e, fmt::format("reading definition {} version {}", workflow_id, version)));
  }
}

Result<std::vector<StoredDefinition>> Store::list_definitions() {
  try {
    StatementScope q(impl_->statement(kListDefinitions));
    std::vector<StoredDefinition> out;
    while (q->executeStep()) out.push_back(impl_->read_definition(*q));
    return out;
  } catch (const SQLite::Exception& e) {
    return fail(impl_->error(e, "listing definitions"));
  }
}

Result<std::vector<std::int64_t>> Store::Impl::write_batch(const WriteBatch& batch,
                                                           FailedRow& failed,
                                                           std::int64_t& new_max) {
  // The JSON text of each column in encode_json()'s order: precomputed or serialized here.
  const bool precomputed =
      batch.json_texts.size() == 2 * batch.instances.size() + 2 * batch.events.size() +
                                     batch.requests.size() + batch.timers_put.size();
  std::size_t encoded = 0;
  auto text = [&](const nlohmann::json& j, store_internal::JsonText& out) -> const std::string& {
    if (precomputed) return batch.json_texts[encoded++];
    return out(j);
  };
  // Instances first: events and timers reference them (immediate foreign keys).
  {
    auto& s = statement(kUpsertInstance);
    for (const auto& in : batch.instances) {
      if (!definition_stored(in.workflow_id, in.version)) {
        return fail(Error(ErrorCode::kStorage,
                          fmt::format("commit failed on {}: instance {} is pinned to {} version "
                                      "{}, which is not stored; store the definition first",
                                      options.path, in.instance_id, in.workflow_id, in.version))
                        .with_data("path", options.path));
      }
      StatementScope q(s);
      q->bindNoCopy(1, in.instance_id);
      q->bindNoCopy(2, in.workflow_id);
      q->bind(3, in.version);
      q->bindNoCopy(4, in.state);
      q->bindNoCopy(5, in.lifecycle);
      q->bindNoCopy(6, text(in.data, json_a));
      q->bindNoCopy(7, text(in.extra, json_b));
      bind_optional(*q, 8, in.business_key);
      q->bind(9, static_cast<std::int64_t>(in.last_seq));
      q->bind(10, static_cast<std::int64_t>(in.created_ms));
      q->bind(11, static_cast<std::int64_t>(in.updated_ms));
      q->bindNoCopy(12, in.head_hash);
      try {
        q->exec();
      } catch (const SQLite::Exception&) {
        failed.row = fmt::format("instance {}", in.instance_id);
        throw;
      }
      new_max = std::max(new_max, instance_number(in.instance_id, in.workflow_id));
    }
  }
  std::vector<std::int64_t> positions;
  positions.reserve(batch.events.size());
  {
    auto& s = statement(kInsertEvent);
    for (const auto& ev : batch.events) {
      StatementScope q(s);
      q->bindNoCopy(1, ev.instance_id);
      q->bind(2, static_cast<std::int64_t>(ev.seq));
      q->bind(3, static_cast<std::int64_t>(ev.at_ms));
      q->bindNoCopy(4, ev.type);
      q->bindNoCopy(5, text(ev.actor, json_a));
      q->bindNoCopy(6, text(ev.body, json_b));
      bind_optional(*q, 7, ev.request_id);
      q->bindNoCopy(8, ev.prev_hash);
      q->bindNoCopy(9, ev.hash);
      try {
        q->exec();
      } catch (const SQLite::Exception& e) {
        failed.row = fmt::format("event {} of instance {}", ev.seq, ev.instance_id);
        if (e.getExtendedErrorCode() == SQLITE_CONSTRAINT_FOREIGNKEY) {
          failed.reason = fmt::format(
              "event {} of instance {} belongs to an instance that is "
              "neither stored nor in the batch",
              ev.seq, ev.instance_id);
        }
        throw;
      }
      positions.push_back(sqlite3_last_insert_rowid(db.getHandle()));
    }
  }
  {
    auto& s = statement(kInsertRequest);
    for (const auto& r : batch.requests) {
      StatementScope q(s);
      q->bindNoCopy(1, r.request_id);
      q->bindNoCopy(2, r.fingerprint);
      bind_optional(*q, 3, r.instance_id);
      q->bindNoCopy(4, text(r.response, json_a));
      q->bind(5, static_cast<std::int64_t>(r.at_ms));
      try {
        q->exec();
      } catch (const SQLite::Exception&) {
        failed.row = fmt::format("request {}", r.request_id);
        throw;
      }
    }
  }
  // Puts before deletes: a timer id in both ends up deleted.
  {
    auto& s = statement(kUpsertTimer);
    for (const auto& t : batch.timers_put) {
      StatementScope q(s);
      q->bindNoCopy(1, t.timer_id);
      bind_optional(*q, 2, t.instance_id);
      q->bind(3, static_cast<std::int64_t>(t.due_ms));
      q->bindNoCopy(4, text(t.payload, json_a));
      try {
        q->exec();
      } catch (const SQLite::Exception& e) {
        failed.row = fmt::format("timer {}", t.timer_id);
        if (e.getExtendedErrorCode() == SQLITE_CONSTRAINT_FOREIGNKEY) {
          failed.reason = fmt::format(
              "timer {} belongs to instance {}, which is neither stored "
              "nor in the batch",
              t.timer_id, t.instance_id);
        }
        throw;
      }
    }
  }
  {
    auto& s = statement(kDeleteTimer);
    for (const auto& id : batch.timers_delete) {
      StatementScope q(s);
      q->bindNoCopy(1, id);
      try {
        q->exec();
      } catch (const SQLite::Exception&) {
        failed.row = fmt::format("timer {} (deleting it)", id);
        throw;
      }
    }
  }
  if (new_max > max_instance_number) {
    StatementScope q(statement(kRaiseMaxInstanceNumber));
    q->bind(1, new_max);
    q->exec();
  }
  return positions;
}

void encode_json(WriteBatch& batch) {
  thread_local store_internal::JsonText json;
  auto& out = batch.json_texts;
  out.clear();
  out.reserve(2 * batch.instances.size() + 2 * batch.events.size() + batch.requests.size() +
              batch.timers_put.size());
  for (const auto& in : batch.instances) {
    out.push_back(json(in.data));
    out.push_back(json(in.extra));
  }
  for (const auto& ev : batch.events) {
    out.push_back(json(ev.actor));
    out.push_back(json(ev.body));
  }
  for (const auto& r : batch.requests) out.push_back(json(r.response));
  for (const auto& t : batch.timers_put) out.push_back(json(t.payload));
}

void Store::finish_commit() {
  if (impl_->checkpointer) impl_->checkpointer->finish_tail();
}

Result<std::vector<std::int64_t>> Store::commit(const WriteBatch& batch) {
  if (auto ok = impl_->writable("commit"); !ok) return fail(std::move(ok.error()));
  if (batch.empty()) return std::vector<std::int64_t>();
  Impl::FailedRow failed;
  std::int64_t new_max = 0;
  try {
    WriteTransaction txn(impl_->db);
    auto positions = impl_->write_batch(batch, failed, new_max);
    if (!positions) return positions;  // WriteTransaction rolls back
    txn.commit();
    impl_->max_instance_number = std::max(impl_->max_instance_number, new_max);
    if (impl_->event_count) *impl_->event_count += static_cast<std::int64_t>(batch.events.size());
    return positions;
  } catch (const SQLite::Exception& e) {
    // WriteTransaction has rolled back: nothing of the batch is visible.
    Error err = impl_->error(
        e, failed.row.empty() ? std::string("commit") : fmt::format("commit of {}", failed.row));
    if (!failed.reason.empty()) {
      err.message = fmt::format("commit failed on {}: {} (SQLite: {})", impl_->options.path,
                                failed.reason, e.what());
    }
    if ((e.getErrorCode() & 0xff) == SQLITE_CONSTRAINT) err.data["constraint"] = e.what();
    return fail(std::move(err));
  } catch (const std::exception& e) {
    return fail(ErrorCode::kInternal,
                fmt::format("commit failed on {}: {}", impl_->options.path, e.what()));
  }
}

Result<std::optional<InstanceSnapshot>> Store::get_instance(const std::string& instance_id) {
  try {
    StatementScope q(impl_->statement(kGetInstance));
    q->bindNoCopy(1, instance_id);
    if (!q->executeStep()) return std::optional<InstanceSnapshot>();
    auto r = impl_->read_instance(*q);
    if (!r) return fail(std::move(r.error()));
    return std::optional<InstanceSnapshot>(std::move(*r));
  } catch (const SQLite::Exception& e) {
    return fail(impl_->error(e, fmt::format("reading instance {}", instance_id)));
  }
}

Result<std::vector<InstanceSnapshot>> Store::list_instances(const InstanceFilter& filter) {
  if (filter.limit < 1) {
    return fail(ErrorCode::kInvalidArgument,
                fmt::format("limit must be at least 1 (got {})", filter.limit));
  }
  std::string sql = "SELECT " FG_INSTANCE_COLUMNS " FROM instances WHERE instance_id > :after";
  if (!filter.workflow_id.empty()) sql += " AND workflow_id = :workflow";
  if (!filter.state.empty()) sql += " AND state = :state";
  if (!filter.lifecycle.empty()) sql += " AND lifecycle = :lifecycle";
  if (!filter.business_key.empty()) sql += " AND business_key = :key";
  sql += " ORDER BY instance_id LIMIT :limit";
  try {
    auto it = impl_->list_queries.find(sql);
    if (it == impl_->list_queries.end()) {
      it = impl_->list_queries.emplace(sql, SQLite::Statement(impl_->db, sql)).first;
    }
    StatementScope q(it->second);
    q->bindNoCopy(":after", filter.after_id);
    if (!filter.workflow_id.empty()) q->bindNoCopy(":workflow", filter.workflow_id);
    if (!filter.state.empty()) q->bindNoCopy(":state", filter.state);
    if (!filter.lifecycle.empty()) q->bindNoCopy(":lifecycle", filter.lifecycle);
    if (!filter.business_key.empty()) q->bindNoCopy(":key", filter.business_key);
    q->bind(":limit", static_cast<std::int64_t>(std::min(filter.limit, kMaxListLimit)));
    std::vector<InstanceSnapshot> out;
    while (q->executeStep()) {
      auto r = impl_->read_instance(*q);
      if (!r) return fail(std::move(r.error()));
      out.push_back(std::move(*r));
    }
    return out;
  } catch (const SQLite::Exception& e) {
    return fail(impl_->error(e, "listing instances"));
  }
}

Result<std::optional<std::string>> Store::find_business_key(const std::string& workflow_id,
                                                            const std::string& business_key) {
  if (business_key.empty()) return std::optional<std::string>();
  try {
    StatementScope q(impl_->statement(kFindBusinessKey));
    q->bindNoCopy(1, workflow_id);
    q->bindNoCopy(2, business_key);
    if (!q->executeStep()) return std::optional<std::string>();
    return std::optional<std::string>(q->getColumn(0).getString());
  } catch (const SQLite::Exception& e) {
    return fail(impl_->error(e, fmt::format("looking up business key {}", business_key)));
  }
}

Result<std::vector<EventRecord>> Store::history(const std::string& instance_id) {
  try {
    StatementScope q(impl_->statement(kHistory));
    q->bindNoCopy(1, instance_id);
    return impl_->read_events(*q);
  } catch (const SQLite::Exception& e) {
    return fail(impl_->error(e, fmt::format("reading the history of {}", instance_id)));
  }
}

Result<std::vector<EventRecord>> Store::events_after(std::int64_t after, std::int64_t limit) {
  if (limit < 1) {
    return fail(ErrorCode::kInvalidArgument,
                fmt::format("limit must be at least 1 (got {})", limit));
  }
  try {
    StatementScope q(impl_->statement(kEventsAfter));
    q->bind(1, after);
    q->bind(2, std::min(limit, kMaxEventsLimit));
    return impl_->read_events(*q);
  } catch (const SQLite::Exception& e) {
    return fail(impl_->error(e, fmt::format("reading events after position {}", after)));
  }
}

Result<std::int64_t> Store::last_position() {
  try {
    StatementScope q(impl_->statement(kLastPosition));
    q->executeStep();
    return q->getColumn(0).getInt64();
  } catch (const SQLite::Exception& e) {
    return fail(impl_->error(e, "reading the last event position"));
  }
}

Result<std::optional<RequestRecord>> Store::find_request(const std::string& request_id) {
  try {
    StatementScope q(impl_->statement(kFindRequest));
    q->bindNoCopy(1, request_id);
    if (!q->executeStep()) return std::optional<RequestRecord>();
    RequestRecord r;
    r.request_id = q->getColumn(0).getString();
    r.fingerprint = q->getColumn(1).getString();
    r.instance_id = q->getColumn(2).getString();
    auto response =
        impl_->json_column(q->getColumn(3), fmt::format("requests.response of {}", r.request_id));
    if (!response) return fail(std::move(response.error()));
    r.response = std::move(*response);
    r.at_ms = q->getColumn(4).getInt64();
    return std::optional<RequestRecord>(std::move(r));
  } catch (const SQLite::Exception& e) {
    return fail(impl_->error(e, fmt::format("looking up request {}", request_id)));
  }
}

Result<std::int64_t> Store::scan_request_ids(const std::function<bool(std::string_view)>& each) {
  try {
    // The primary key's index holds every id: a covering scan, without the responses.
    SQLite::Statement q(impl_->db, "SELECT request_id FROM requests");
    std::int64_t n = 0;
    while (q.executeStep()) {
      ++n;
      if (!each(text_of(q.getColumn(0)))) break;
    }
    return n;
  } catch (const SQLite::Exception& e) {
    return fail(impl_->error(e, "reading the request ids"));
  }
}

Result<std::vector<TimerRecord>> Store::all_timers() { return timers_after(std::nullopt, -1); }

Result<std::vector<TimerRecord>> Store::timers_after(const std::optional<TimerKey>& after,
                                                     std::int64_t limit) {
  try {
    StatementScope q(impl_->statement(kAllTimers));
    // Timer ids are never empty, so (min, "") is before every timer.
    q->bind(1, after ? after->due_ms : std::numeric_limits<std::int64_t>::min());
    q->bind(2, after ? after->timer_id : std::string());
    q->bind(3, limit);
    std::vector<TimerRecord> out;
    while (q->executeStep()) {
      TimerRecord t;
      t.timer_id = q->getColumn(0).getString();
      t.instance_id = q->getColumn(1).getString();
      t.due_ms = q->getColumn(2).getInt64();
      auto payload =
          impl_->json_column(q->getColumn(3), fmt::format("timers.payload of {}", t.timer_id));
      if (!payload) return fail(std::move(payload.error()));
      t.payload = std::move(*payload);
      out.push_back(std::move(t));
    }
    return out;
  } catch (const SQLite::Exception& e) {
    return fail(impl_->error(e, "reading timers"));
  }
}

Result<std::int64_t> Store::max_instance_number() {
  if (!impl_->options.read_only) return impl_->max_instance_number;
  try {
    StatementScope q(impl_->statement(kMaxInstanceNumber));
    if (!q->executeStep()) return fail(impl_->corrupt("meta has no max_instance_number"));
    return q->getColumn(0).getInt64();
  } catch (const SQLite::Exception& e) {
    return fail(impl_->error(e, "reading the instance counter"));
  }
}

Result<Checkpoint> Store::write_checkpoint(std::int64_t at_ms) {
  if (auto ok = impl_->writable("writing a checkpoint"); !ok) return fail(std::move(ok.error()));
  try {
    WriteTransaction txn(impl_->db);
    Checkpoint c;
    c.at_ms = at_ms;
    HeadsHasher heads;
    {
      // BINARY collation: instance ids ordered bytewise, as docs/audit.md specifies.
      SQLite::Statement q(impl_->db,
                          "SELECT instance_id, last_seq, head_hash FROM instances "
                          "ORDER BY instance_id");
      while (q.executeStep()) {
        heads.add(text_of(q.getColumn(0)), q.getColumn(1).getInt64(), text_of(q.getColumn(2)));
        ++c.instance_count;
      }
    }
    c.heads_hash = heads.finish();
    {
      SQLite::Statement q(impl_->db, "SELECT coalesce(max(position), 0) FROM events");
      q.executeStep();
      c.position = q.getColumn(0).getInt64();
    }
    if (!impl_->event_count) {
      SQLite::Statement q(impl_->db, "SELECT count(*) FROM events");
      q.executeStep();
      impl_->event_count = q.getColumn(0).getInt64();
    }
    c.event_count = *impl_->event_count;
    {
      SQLite::Statement q(impl_->db,
                          "INSERT INTO checkpoints (position, at_ms, instance_count, event_count, "
                          "heads_hash) VALUES (?1, ?2, ?3, ?4, ?5)");
      q.bind(1, c.position);
      q.bind(2, c.at_ms);
      q.bind(3, c.instance_count);
      q.bind(4, c.event_count);
      q.bind(5, c.heads_hash);
      q.exec();
      c.id = impl_->db.getLastInsertRowid();
    }
    txn.commit();
    return c;
  } catch (const SQLite::Exception& e) {
    return fail(impl_->error(e, "writing a checkpoint"));
  }
}

Result<std::vector<Checkpoint>> Store::checkpoints() {
  try {
    StatementScope q(impl_->statement(kListCheckpoints));
    std::vector<Checkpoint> out;
    while (q->executeStep()) {
      Checkpoint c;
      c.id = q->getColumn(0).getInt64();
      c.position = q->getColumn(1).getInt64();
      c.at_ms = q->getColumn(2).getInt64();
      c.instance_count = q->getColumn(3).getInt64();
      c.event_count = q->getColumn(4).getInt64();
      c.heads_hash = q->getColumn(5).getString();
      out.push_back(std::move(c));
    }
    return out;
  } catch (const SQLite::Exception& e) {
    return fail(impl_->error(e, "reading checkpoints"));
  }
}

}  // namespace flowgate
