// Internal to store/: the few pieces every SQLite call site in store/ shares — mapping SQLite
// errors to flowgate Errors, a write-transaction guard that never leaves a transaction open, and
// a guard that resets a cached prepared statement however its use ends.
// Thread-safety: each object belongs to the thread that uses its connection.
#pragma once

#include <string>
#include <string_view>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Exception.h>
#include <SQLiteCpp/Statement.h>

#include "util/error.h"

namespace flowgate::store_internal {

// Maps an SQLite result code to a flowgate Error: SQLITE_FULL → kDiskFull, BUSY/LOCKED →
// kDatabaseLocked, CORRUPT/NOTADB → kNotADatabase, anything else (constraint violations included,
// with SQLite's message naming the constraint) → kStorage. `doing` names the operation
// ("commit", "open", ...); the message always names the file.
Error sqlite_error(int code, std::string_view sqlite_message, std::string_view doing,
                   const std::string& path, int busy_timeout_ms);
Error sqlite_error(const SQLite::Exception& e, std::string_view doing, const std::string& path,
                   int busy_timeout_ms);

// kNotADatabase for a flowgate database whose content is damaged ("what" says how).
Error database_corrupt(const std::string& path, std::string_view what);

// BEGIN IMMEDIATE on construction (waiting up to the connection's busy timeout for the write
// lock); ROLLBACK on destruction unless commit() succeeded. SQLite rolls some failures back by
// itself (SQLITE_FULL may), so the guard only rolls back a transaction that is still open.
class WriteTransaction {
 public:
  explicit WriteTransaction(SQLite::Database& db);  // throws SQLite::Exception
  ~WriteTransaction();
  WriteTransaction(const WriteTransaction&) = delete;
  WriteTransaction& operator=(const WriteTransaction&) = delete;
  void commit();  // throws SQLite::Exception; on failure the destructor still rolls back

 private:
  SQLite::Database& db_;
  bool done_ = false;
};

// Resets a cached statement and clears its bindings when the scope ends, so that a statement
// never keeps a read transaction open (which would stop WAL checkpoints) or points at freed text.
class StatementScope {
 public:
  explicit StatementScope(SQLite::Statement& s) : s_(s) {}
  ~StatementScope();
  StatementScope(const StatementScope&) = delete;
  StatementScope& operator=(const StatementScope&) = delete;
  SQLite::Statement* operator->() { return &s_; }
  SQLite::Statement& operator*() { return s_; }

 private:
  SQLite::Statement& s_;
};

}  // namespace flowgate::store_internal
