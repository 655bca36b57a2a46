// The WAL checkpointer: checkpoints leave the commit path, the log is reused instead of growing
// under back-to-back commits, and nothing committed is lost.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include <SQLiteCpp/SQLiteCpp.h>

#include "store/wal_checkpointer.h"
#include "support/temp_dir.h"

using flowgate::store_internal::WalCheckpointer;
using flowgate::store_internal::WalCheckpointerOptions;
using flowgate::testing::TempDir;

namespace {

std::uintmax_t wal_bytes(const std::string& db) {
  std::error_code ec;
  auto n = std::filesystem::file_size(db + "-wal", ec);
  return ec ? 0 : n;
}

// Commits `n` transactions of one ~3 KiB row each (a page or two of log per commit).
void commit_rows(SQLite::Database& db, int n, int first) {
  SQLite::Statement insert(db, "INSERT INTO t (id, body) VALUES (?1, ?2)");
  const std::string body(3000, 'x');
  for (int i = 0; i < n; ++i) {
    SQLite::Transaction tx(db);
    insert.bind(1, first + i);
    insert.bind(2, body);
    insert.exec();
    insert.reset();
    tx.commit();
  }
}

// A database in WAL mode with the table commit_rows() fills.
void open_wal_db(SQLite::Database& db) {
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = FULL");
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
}

// The small thresholds the tests use: 3,000 commits of a page or two fill the log many times.
constexpr int kInline = 400;
constexpr int kCommits = 3000;
WalCheckpointerOptions small_thresholds(const std::string& path) {
  return WalCheckpointerOptions{.path = path, .background_pages = 50, .inline_pages = kInline};
}

}  // namespace

TEST_CASE("the WAL checkpointer keeps the log bounded under back-to-back commits and loses nothing",
          "[store][wal]") {
  TempDir dir;
  const std::string path = dir.file("wal.db");
  std::uintmax_t largest = 0;
  std::int64_t background = 0;
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE, 5000);
    open_wal_db(db);
    WalCheckpointer checkpointer(small_thresholds(path));
    checkpointer.attach(db.getHandle());
    for (int round = 0; round < kCommits / 100; ++round) {
      commit_rows(db, 100, round * 100);
      largest = std::max(largest, wal_bytes(path));
    }
    background = checkpointer.background_runs() + checkpointer.inline_runs();
    INFO("bg " << checkpointer.background_runs() << " inline " << checkpointer.inline_runs()
               << " largest " << largest);
    CHECK(checkpointer.background_runs() > 0);
  }
  CHECK(background > 0);
  // Without checkpoints the log would hold every commit: ~2 pages x 3,000 commits. With them it
  // never grows far past the inline threshold (plus what one round of commits adds).
  CHECK(largest < static_cast<std::uintmax_t>(kInline + 100 * 3) * 4200);

  SQLite::Database check(path, SQLite::OPEN_READONLY);
  CHECK(check.execAndGet("SELECT count(*) FROM t").getInt() == kCommits);
  CHECK(check.execAndGet("PRAGMA integrity_check").getString() == "ok");
}

TEST_CASE("a WAL checkpointer that was never needed starts no thread and changes nothing",
          "[store][wal]") {
  TempDir dir;
  const std::string path = dir.file("wal.db");
  SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE, 5000);
  open_wal_db(db);
  {
    WalCheckpointer checkpointer(WalCheckpointerOptions{.path = path});
    checkpointer.attach(db.getHandle());
    commit_rows(db, 10, 0);
    CHECK(checkpointer.background_runs() == 0);
    CHECK(checkpointer.inline_runs() == 0);
  }
  CHECK(db.execAndGet("SELECT count(*) FROM t").getInt() == 10);
}

TEST_CASE(
    "the last pages of a checkpoint are copied after the commit that finds them, and the log "
    "stays bounded",
    "[store][wal]") {
  TempDir dir;
  const std::string path = dir.file("wal.db");
  SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE, 5000);
  open_wal_db(db);
  WalCheckpointer checkpointer(small_thresholds(path));
  checkpointer.attach(db.getHandle());
  int deferred = 0;
  std::uintmax_t largest = 0;
  for (int i = 0; i < kCommits; ++i) {
    commit_rows(db, 1, i);
    if (checkpointer.tail_due()) {
      ++deferred;
      const auto runs = checkpointer.inline_runs();
      checkpointer.finish_tail();  // what the engine does once the commit's callers are answered
      CHECK_FALSE(checkpointer.tail_due());
      CHECK(checkpointer.inline_runs() == runs + 1);
    }
    checkpointer.finish_tail();  // nothing due: nothing happens
    largest = std::max(largest, wal_bytes(path));
  }
  INFO("deferred " << deferred << " background " << checkpointer.background_runs() << " inline "
                   << checkpointer.inline_runs() << " largest " << largest);
  CHECK(deferred > 0);
  CHECK(checkpointer.background_runs() > 0);
  CHECK(largest < static_cast<std::uintmax_t>(kInline + 100 * 3) * 4200);
  CHECK(db.execAndGet("SELECT count(*) FROM t").getInt() == kCommits);
  CHECK(db.execAndGet("PRAGMA integrity_check").getString() == "ok");
}
