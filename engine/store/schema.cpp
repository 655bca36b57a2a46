#include "store/schema.h"

#include <algorithm>
#include <array>
#include <filesystem>
#include <vector>

#include <SQLiteCpp/Statement.h>
#include <fmt/format.h>

#include "store/sqlite_util.h"

namespace flowgate::store_internal {
namespace {

// Version 1: the whole schema (docs/store.md documents every column). JSON columns hold compact
// JSON text; "" in optional text columns is stored as NULL. Two choices made for the write path
// (measured by bench/bench_store): events.position is the rowid without AUTOINCREMENT (events are
// never deleted, so positions are not reused, and it saves an update of sqlite_sequence per
// event), and an instance's definition is checked by Store::commit rather than by a foreign key
// (an SQLite check on every instance upsert cost ~20% of the commit).
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY NOT NULL,
  value NOT NULL
) WITHOUT ROWID;

CREATE TABLE definitions (
  workflow_id  TEXT NOT NULL,
  version      INTEGER NOT NULL CHECK (version >= 1),
  content_hash TEXT NOT NULL UNIQUE,
  source_text  TEXT NOT NULL,
  file         TEXT NOT NULL,
  loaded_ms    INTEGER NOT NULL,
  PRIMARY KEY (workflow_id, version)
);

CREATE TABLE instances (
  instance_id  TEXT PRIMARY KEY NOT NULL CHECK (instance_id <> ''),
  workflow_id  TEXT NOT NULL,
  version      INTEGER NOT NULL,
  state        TEXT NOT NULL,
  lifecycle    TEXT NOT NULL,
  data         TEXT NOT NULL,
  extra        TEXT NOT NULL,
  business_key TEXT CHECK (business_key <> ''),
  last_seq     INTEGER NOT NULL CHECK (last_seq >= 0),
  created_ms   INTEGER NOT NULL,
  updated_ms   INTEGER NOT NULL,
  head_hash    TEXT NOT NULL
);
CREATE UNIQUE INDEX instances_business_key ON instances (workflow_id, business_key)
  WHERE business_key IS NOT NULL;
CREATE INDEX instances_workflow_state ON instances (workflow_id, state);
CREATE INDEX instances_updated ON instances (updated_ms);

CREATE TABLE events (
  position    INTEGER PRIMARY KEY,
  instance_id TEXT NOT NULL REFERENCES instances (instance_id),
  seq         INTEGER NOT NULL CHECK (seq >= 1),
  at_ms       INTEGER NOT NULL,
  type        TEXT NOT NULL,
  actor       TEXT NOT NULL,
  body        TEXT NOT NULL,
  request_id  TEXT,
  prev_hash   TEXT NOT NULL,
  hash        TEXT NOT NULL,
  UNIQUE (instance_id, seq)
);
CREATE INDEX events_at ON events (at_ms);

CREATE TABLE timers (
  timer_id    TEXT PRIMARY KEY NOT NULL,
  instance_id TEXT REFERENCES instances (instance_id),
  due_ms      INTEGER NOT NULL,
  payload     TEXT NOT NULL
);
CREATE INDEX timers_due ON timers (due_ms);
CREATE INDEX timers_instance ON timers (instance_id);

CREATE TABLE requests (
  request_id  TEXT PRIMARY KEY NOT NULL,
  fingerprint TEXT NOT NULL,
  instance_id TEXT,
  response    TEXT NOT NULL,
  at_ms       INTEGER NOT NULL
);

CREATE TABLE checkpoints (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  position       INTEGER NOT NULL,
  at_ms          INTEGER NOT NULL,
  instance_count INTEGER NOT NULL,
  event_count    INTEGER NOT NULL,
  heads_hash     TEXT NOT NULL
);

INSERT INTO meta (key, value) VALUES ('max_instance_number', 0);
)sql";

// Append a step to add a version; never edit a released step (databases already ran it).
const std::array<Migration, 1> kMigrations = {{
    {1, "create the schema: meta, definitions, instances, events, timers, requests, checkpoints",
     [](SQLite::Database& db) { db.exec(kSchemaV1); }},
}};

constexpr std::array<std::string_view, 7> kCurrentTables = {
    "meta", "definitions", "instances", "events", "timers", "requests", "checkpoints"};

std::vector<std::string> user_tables(SQLite::Database& db) {
  std::vector<std::string> names;
  SQLite::Statement q(db,
                      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                      "'sqlite\\_%' ESCAPE '\\' ORDER BY name");
  while (q.executeStep()) names.push_back(q.getColumn(0).getString());
  return names;
}

std::int64_t file_size(const std::string& path) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);  // stat only: never opens the file
  return ec ? -1 : static_cast<std::int64_t>(size);
}

Error corrupt(const InspectOptions& o, std::string_view what) {
  return database_corrupt(o.path, what);
}

}  // namespace

std::span<const Migration> migrations() { return kMigrations; }

std::span<const std::string_view> current_tables() { return kCurrentTables; }

Result<FileState> inspect(SQLite::Database& db, const InspectOptions& o) {
  try {
    // The first read of the header fails with SQLITE_NOTADB for a file that is not SQLite.
    const std::int64_t app_id = db.execAndGet("PRAGMA application_id").getInt64();
    const auto tables = user_tables(db);
    if (app_id == 0 && tables.empty()) return FileState{.empty = true};
    if (app_id != kApplicationId) {
      std::string why = app_id == 0
                            ? fmt::format("it has tables ({}) but no flowgate application_id",
                                          fmt::join(tables, ", "))
                            : fmt::format("its application_id is {:#010x}; flowgate's is {:#010x}",
                                          static_cast<std::uint32_t>(app_id),
                                          static_cast<std::uint32_t>(kApplicationId));
      return fail(Error(ErrorCode::kNotADatabase,
                        fmt::format("{} is a SQLite database of another application, not a "
                                    "flowgate database: {}",
                                    o.path, why))
                      .with_hint("check the path; the file was not modified")
                      .with_data("path", o.path));
    }
    FileState state;
    if (tables.empty()) return state;  // flowgate application_id, no schema yet: version 0
    if (!std::ranges::binary_search(tables, std::string("meta"))) {
      return fail(corrupt(o, "its meta table is missing"));
    }
    {
      SQLite::Statement q(db, "SELECT value FROM meta WHERE key = 'schema_version'");
      if (!q.executeStep()) return fail(corrupt(o, "meta has no schema_version"));
      auto col = q.getColumn(0);
      if (!col.isInteger() || col.getInt64() < 0 || col.getInt64() > 1'000'000) {
        return fail(corrupt(
            o, fmt::format("meta.schema_version is not a version number ({})", col.getString())));
      }
      state.schema_version = col.getInt();
    }
    if (state.schema_version > o.newest_version) {
      return fail(Error(ErrorCode::kSchemaTooNew,
                        fmt::format("database schema {} is newer than this flowgate ({}); upgrade "
                                    "flowgate",
                                    state.schema_version, o.newest_version))
                      .with_hint(fmt::format("{} was written by a newer flowgate release", o.path))
                      .with_data("path", o.path)
                      .with_data("schema_version", state.schema_version));
    }
    if (state.schema_version == kSchemaVersion) {
      for (auto name : kCurrentTables) {
        if (!std::ranges::binary_search(tables, std::string(name))) {
          return fail(corrupt(o, fmt::format("table {} is missing", name)));
        }
      }
    }
    const std::int64_t size = file_size(o.path);
    if (o.quick_check_max_bytes > 0 && size >= 0 && size <= o.quick_check_max_bytes) {
      SQLite::Statement q(db, "PRAGMA quick_check(5)");
      std::vector<std::string> problems;
      while (q.executeStep()) problems.push_back(q.getColumn(0).getString());
      if (problems.size() != 1 || problems[0] != "ok") {
        return fail(corrupt(o, fmt::format("{}", fmt::join(problems, "; "))));
      }
    }
    return state;
  } catch (const SQLite::Exception& e) {
    return fail(sqlite_error(e, "open", o.path, o.busy_timeout_ms));
  }
}

Result<int> migrate(SQLite::Database& db, std::span<const Migration> steps, int target,
                    const InspectOptions& options) {
  for (std::size_t i = 0; i < steps.size(); ++i) {
    if (steps[i].version != static_cast<int>(i) + 1) {
      return fail(ErrorCode::kInternal,
                  fmt::format("migration steps must be numbered 1, 2, ...; step {} is numbered {}",
                              i + 1, steps[i].version));
    }
  }
  if (target < 0 || target > static_cast<int>(steps.size())) {
    return fail(ErrorCode::kInternal,
                fmt::format("no migration steps lead to schema version {}", target));
  }
  InspectOptions in_txn = options;
  in_txn.quick_check_max_bytes = 0;  // the caller has checked the file already
  in_txn.newest_version = target;
  int step_version = 0;
  try {
    WriteTransaction txn(db);
    auto state = inspect(db, in_txn);
    if (!state) return fail(std::move(state.error()));
    const int from = state->empty ? 0 : state->schema_version;
    if (from == 0) db.exec(fmt::format("PRAGMA application_id = {}", kApplicationId));
    for (const auto& step : steps) {
      if (step.version <= from || step.version > target) continue;
      step_version = step.version;
      step.apply(db);
      SQLite::Statement set(db,
                            "INSERT INTO meta (key, value) VALUES ('schema_version', ?1) "
                            "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
      set.bind(1, step.version);
      set.exec();
    }
    txn.commit();
    return from;
  } catch (const SQLite::Exception& e) {
    std::string doing = step_version == 0
                            ? std::string("preparing the schema")
                            : fmt::format("migrating the schema to version {}", step_version);
    return fail(sqlite_error(e, doing, options.path, options.busy_timeout_ms));
  } catch (const std::exception& e) {
    return fail(ErrorCode::kStorage,
                fmt::format("migrating database {} to schema version {} failed: {}", options.path,
                            step_version, e.what()));
  }
}

}  // namespace flowgate::store_internal
