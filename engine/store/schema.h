// Internal to store/: the SQLite schema, its forward migrations, and the inspection that decides,
// without writing, whether a file is a flowgate database this binary can use.
//
// Schema versions: 0 is "no schema yet" (a new or empty file, or one that only carries the flowgate
// application_id); each Migration moves the schema from version-1 to version, and a new database
// is created by running every step from 0. The version lives in meta.schema_version and is
// updated in the same transaction as the step, so a failed step leaves the previous version intact.
// docs/store.md describes every table.
// Thread-safety: functions act on the connection they are given; one thread per connection.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include <SQLiteCpp/Database.h>

#include "store/store.h"
#include "util/error.h"

namespace flowgate::store_internal {

struct Migration {
  int version;  // the schema version after this step; steps are numbered 1, 2, 3, ... in order
  std::string_view description;
  // Runs inside the migration transaction; throws SQLite::Exception (or std::exception) on failure.
  std::function<void(SQLite::Database&)> apply;
};

// The steps of this binary, version 1 .. kSchemaVersion.
std::span<const Migration> migrations();

// Tables every database at kSchemaVersion has.
std::span<const std::string_view> current_tables();

// What inspect() found in a file.
struct FileState {
  bool empty = false;      // no tables and no application_id: a fresh file that may be initialised
  int schema_version = 0;  // meaningful when !empty
};

struct InspectOptions {
  std::string path;                        // for messages
  std::int64_t quick_check_max_bytes = 0;  // run PRAGMA quick_check when the file is this small
  int busy_timeout_ms = 0;                 // for messages
  int newest_version = kSchemaVersion;     // a larger schema_version is kSchemaTooNew
};

// Reads the header, application_id, tables and schema_version (and, for small files, runs
// PRAGMA quick_check) through `db`, which may be read-only; never writes. Errors:
// kNotADatabase (not SQLite, another application's database, corrupt, missing tables),
// kSchemaTooNew, kDatabaseLocked, kStorage.
Result<FileState> inspect(SQLite::Database& db, const InspectOptions& options);

// Brings the schema from its current version to `target` by running `steps` in one
// BEGIN IMMEDIATE transaction; sets PRAGMA application_id when starting from version 0. Re-reads
// the version inside the transaction, so concurrent openers migrate once. Returns the version
// found before migrating.
Result<int> migrate(SQLite::Database& db, std::span<const Migration> steps, int target,
                    const InspectOptions& options);

}  // namespace flowgate::store_internal
