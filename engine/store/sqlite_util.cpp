#include "store/sqlite_util.h"

#include <sqlite3.h>

#include <fmt/format.h>

namespace flowgate::store_internal {

Error sqlite_error(int code, std::string_view sqlite_message, std::string_view doing,
                   const std::string& path, int busy_timeout_ms) {
  Error e;
  switch (code & 0xff) {
    case SQLITE_FULL:
      e = Error(ErrorCode::kDiskFull,
                fmt::format("{} failed: database {} is full (the disk has no space left or the "
                            "database reached its size limit)",
                            doing, path))
              .with_hint("free disk space, then retry; nothing of the failed write was stored");
      break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      e = Error(ErrorCode::kDatabaseLocked,
                fmt::format("{} failed: database {} is locked by another connection (waited {} ms)",
                            doing, path, busy_timeout_ms))
              .with_hint(
                  "another process is writing to this file (a second `flowgate serve`?); "
                  "stop it or use another database");
      break;
    case SQLITE_NOTADB:
      e = Error(ErrorCode::kNotADatabase,
                fmt::format("{} failed: {} is not a flowgate database (SQLite: {})", doing, path,
                            sqlite_message))
              .with_hint("check the path; the file was not modified");
      break;
    case SQLITE_CORRUPT:
      e = Error(ErrorCode::kNotADatabase,
                fmt::format("{} failed: database {} is corrupt (SQLite: {})", doing, path,
                            sqlite_message))
              .with_hint("restore it from a backup; `flowgate verify` reports what is damaged");
      break;
    case SQLITE_CONSTRAINT:
      e = Error(ErrorCode::kStorage,
                fmt::format("{} failed on {}: {}", doing, path, sqlite_message));
      break;
    case SQLITE_READONLY:
      e = Error(ErrorCode::kStorage, fmt::format("{} failed: database {} is read-only (SQLite: {})",
                                                 doing, path, sqlite_message))
              .with_hint(
                  "check the file's permissions and that the store was not opened read-only");
      break;
    case SQLITE_CANTOPEN:
      e = Error(ErrorCode::kStorage, fmt::format("{} failed: cannot open database {} (SQLite: {})",
                                                 doing, path, sqlite_message))
              .with_hint("check that the directory exists and is writable");
      break;
    case SQLITE_IOERR:
      e = Error(ErrorCode::kStorage, fmt::format("{} failed: I/O error on database {} (SQLite: {})",
                                                 doing, path, sqlite_message));
      break;
    default:
      e = Error(ErrorCode::kStorage,
                fmt::format("{} failed on database {}: {}", doing, path, sqlite_message));
      break;
  }
  return std::move(e).with_data("path", path).with_data("sqlite_code", code);
}

Error sqlite_error(const SQLite::Exception& e, std::string_view doing, const std::string& path,
                   int busy_timeout_ms) {
  int code = e.getExtendedErrorCode() >= 0 ? e.getExtendedErrorCode() : e.getErrorCode();
  return sqlite_error(code, e.what(), doing, path, busy_timeout_ms);
}

Error database_corrupt(const std::string& path, std::string_view what) {
  return Error(ErrorCode::kNotADatabase, fmt::format("database {} is corrupt: {}", path, what))
      .with_hint("restore it from a backup; `flowgate verify` reports what is damaged")
      .with_data("path", path);
}

WriteTransaction::WriteTransaction(SQLite::Database& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }

WriteTransaction::~WriteTransaction() {
  if (!done_ && sqlite3_get_autocommit(db_.getHandle()) == 0) db_.tryExec("ROLLBACK");
}

void WriteTransaction::commit() {
  db_.exec("COMMIT");
  done_ = true;
}

StatementScope::~StatementScope() {
  s_.tryReset();
  try {
    s_.clearBindings();  // cannot fail on a prepared statement
  } catch (const SQLite::Exception&) {
  }
}

}  // namespace flowgate::store_internal
