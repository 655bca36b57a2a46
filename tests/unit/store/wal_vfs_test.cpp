// The coalescing WAL VFS: what a writer through it commits is at once visible to connections on
// SQLite's default VFS, a transaction that spills past the page cache rolls back or commits whole,
// the log restarts from its beginning as before, a failing log write fails only its commit, and a
// writer killed at any moment keeps every commit it reported.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <thread>

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include "store/wal_vfs.h"
#include "support/temp_dir.h"

using flowgate::store_internal::coalescing_wal_vfs;
using flowgate::testing::TempDir;

namespace {

SQLite::Database open_writer(const std::string& path, const char* synchronous) {
  SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE, 5000,
                      coalescing_wal_vfs());
  db.exec("PRAGMA journal_mode = WAL");
  db.exec(std::string("PRAGMA synchronous = ") + synchronous);
  db.exec("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
  return db;
}

// Rows and bytes as a connection on the default VFS sees them.
std::pair<std::int64_t, std::int64_t> seen(SQLite::Database& reader) {
  SQLite::Statement q(reader, "SELECT count(*), coalesce(sum(length(body)), 0) FROM t");
  REQUIRE(q.executeStep());
  return {q.getColumn(0).getInt64(), q.getColumn(1).getInt64()};
}

std::string integrity(const std::string& path) {
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  return db.execAndGet("PRAGMA integrity_check").getString();
}

// Commits `rows` rows of `bytes` bytes each in one transaction.
void commit_rows(SQLite::Database& db, int rows, int bytes, std::int64_t& next_id) {
  SQLite::Transaction tx(db);
  SQLite::Statement insert(db, "INSERT INTO t (id, body) VALUES (?1, ?2)");
  for (int i = 0; i < rows; ++i) {
    insert.bind(1, next_id++);
    insert.bind(2, std::string(static_cast<std::size_t>(bytes), static_cast<char>('a' + i % 26)));
    insert.exec();
    insert.reset();
  }
  tx.commit();
}

// A child process that runs `body(fd)` (fd: the write end of a pipe to the parent) and exits 0
// when it returns, 2 when it throws. Returns the child's pid and the pipe's read end.
std::pair<pid_t, int> fork_child(const std::function<void(int)>& body) {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    close(fds[0]);
    try {
      body(fds[1]);
    } catch (...) {
      _exit(2);
    }
    _exit(0);
  }
  close(fds[1]);
  return {child, fds[0]};
}

std::uintmax_t file_bytes(const std::string& path) {
  std::error_code ec;
  auto n = std::filesystem::file_size(path, ec);
  return ec ? 0 : n;
}

}  // namespace

TEST_CASE("every commit through the coalescing VFS is visible on the default VFS at once",
          "[store][wal_vfs]") {
  for (const char* synchronous : {"NORMAL", "FULL"}) {
    SECTION(synchronous) {
      TempDir dir;
      const std::string path = dir.file("v.db");
      SQLite::Database writer = open_writer(path, synchronous);
      SQLite::Database reader(path, SQLite::OPEN_READONLY);
      std::mt19937 rng(7);
      std::int64_t next_id = 1, rows = 0, bytes = 0;
      for (int commit = 0; commit < 300; ++commit) {
        // From a single small row (a frame or two) to ~40 pages of log.
        const int n = 1 + static_cast<int>(rng() % 40);
        const int size = 10 + static_cast<int>(rng() % 4000);
        commit_rows(writer, n, size, next_id);
        rows += n;
        bytes += std::int64_t{n} * size;
        INFO("commit " << commit << " (" << n << " rows of " << size << " bytes)");
        REQUIRE(seen(reader) == std::make_pair(rows, bytes));
      }
      REQUIRE(integrity(path) == "ok");
    }
  }
}

TEST_CASE("a transaction that spills past the page cache rolls back or commits whole",
          "[store][wal_vfs]") {
  TempDir dir;
  const std::string path = dir.file("v.db");
  SQLite::Database writer = open_writer(path, "NORMAL");
  writer.exec("PRAGMA cache_size = 8");  // pages: 500 rows of 3000 bytes spill many times
  SQLite::Database reader(path, SQLite::OPEN_READONLY);
  std::int64_t next_id = 1;
  commit_rows(writer, 3, 100, next_id);
  {
    SQLite::Transaction tx(writer);
    SQLite::Statement insert(writer, "INSERT INTO t (id, body) VALUES (?1, ?2)");
    for (int i = 0; i < 500; ++i) {
      insert.bind(1, next_id + i);
      insert.bind(2, std::string(3000, 'r'));
      insert.exec();
      insert.reset();
    }
    // The writer reads back its own spilled pages (the gathered log is written out first).
    REQUIRE(writer.execAndGet("SELECT count(*) FROM t").getInt64() == 503);
    REQUIRE(seen(reader).first == 3);
  }  // rolled back
  REQUIRE(seen(reader) == std::make_pair(std::int64_t{3}, std::int64_t{300}));
  REQUIRE(writer.execAndGet("SELECT count(*) FROM t").getInt64() == 3);
  // 1,600 rows of 3,000 bytes: more log than the VFS gathers before writing out (4 MiB).
  commit_rows(writer, 1600, 3000, next_id);
  REQUIRE(seen(reader) == std::make_pair(std::int64_t{1603}, std::int64_t{300 + 1600 * 3000}));
  REQUIRE(integrity(path) == "ok");
}

TEST_CASE(
    "a log write that fails fails its commit, keeps every earlier one, and the writer goes on",
    "[store][wal_vfs]") {
  TempDir dir;
  const std::string path = dir.file("v.db");
  std::int64_t committed = 0;
  {
    SQLite::Database writer = open_writer(path, "NORMAL");
    std::int64_t next_id = 1;
    commit_rows(writer, 10, 1000, next_id);
    committed = next_id - 1;
  }
  // In a child: the file size limit (RLIMIT_FSIZE) makes the log's writes fail part-way, as a
  // full disk would; the child reports how many rows it committed and whether it went on.
  auto [child, from_child] = fork_child([&](int to_parent) {
    signal(SIGXFSZ, SIG_IGN);
    std::int64_t report[3] = {0, 0, 0};  // rows committed, commits refused, rows after lifting
    SQLite::Database writer = open_writer(path, "NORMAL");
    writer.exec("PRAGMA wal_autocheckpoint = 0");
    std::int64_t next_id = writer.execAndGet("SELECT max(id) + 1 FROM t").getInt64();
    rlimit limit{};
    getrlimit(RLIMIT_FSIZE, &limit);
    const rlimit unlimited = limit;
    limit.rlim_cur = static_cast<rlim_t>(std::filesystem::file_size(path)) + 200'000;
    setrlimit(RLIMIT_FSIZE, &limit);
    for (int i = 0; i < 200 && report[1] == 0; ++i) {
      const std::int64_t before = next_id;
      try {
        commit_rows(writer, 5, 3000, next_id);
        report[0] = next_id - 1;
      } catch (const SQLite::Exception&) {
        ++report[1];
        next_id = before;
      }
    }
    setrlimit(RLIMIT_FSIZE, &unlimited);
    commit_rows(writer, 5, 3000, next_id);
    report[2] = writer.execAndGet("SELECT count(*) FROM t").getInt64();
    if (write(to_parent, report, sizeof report) != sizeof report) _exit(3);
  });
  int status = 0;
  waitpid(child, &status, 0);
  std::int64_t report[3] = {0, 0, 0};
  REQUIRE(read(from_child, report, sizeof report) == sizeof report);
  close(from_child);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  INFO("committed " << report[0] << ", refused " << report[1] << ", after " << report[2]);
  REQUIRE(report[1] == 1);              // a commit was refused
  REQUIRE(report[0] > committed);       // after some that fitted
  REQUIRE(report[2] == report[0] + 5);  // nothing of the refused one, and the writer went on
  REQUIRE(integrity(path) == "ok");
  SQLite::Database plain(path, SQLite::OPEN_READONLY);
  REQUIRE(plain.execAndGet("SELECT count(*) FROM t").getInt64() == report[2]);
}

TEST_CASE("connections through the coalescing VFS name it", "[store][wal_vfs]") {
  TempDir dir;
  SQLite::Database writer = open_writer(dir.file("v.db"), "NORMAL");
  char* name = nullptr;
  REQUIRE(sqlite3_file_control(writer.getHandle(), "main", SQLITE_FCNTL_VFSNAME, &name) ==
          SQLITE_OK);
  REQUIRE(name != nullptr);
  const std::string vfs = name;
  sqlite3_free(name);
  REQUIRE(vfs.rfind("flowgate-wal/", 0) == 0);
}

TEST_CASE("the log restarts from its beginning after checkpoints, as on the default VFS",
          "[store][wal_vfs]") {
  TempDir dir;
  const std::string path = dir.file("v.db");
  std::int64_t next_id = 1;
  {
    SQLite::Database writer = open_writer(path, "FULL");
    writer.exec("PRAGMA wal_autocheckpoint = 0");
    SQLite::Database reader(path, SQLite::OPEN_READWRITE);
    std::uintmax_t largest = 0;
    for (int round = 0; round < 40; ++round) {
      for (int i = 0; i < 10; ++i) commit_rows(writer, 4, 2000, next_id);
      // A checkpoint on another connection (default VFS), as the engine's checkpointer does; the
      // writer's next commit starts the log again at its first frame.
      reader.exec("PRAGMA wal_checkpoint(RESTART)");
      largest = std::max(largest, file_bytes(path + "-wal"));
      REQUIRE(seen(reader).first == next_id - 1);
    }
    // Ten commits of 4 rows fill a few dozen pages: the log was reused, not grown 40 times.
    CHECK(largest < 1'000'000);
  }
  REQUIRE(integrity(path) == "ok");
  SQLite::Database plain(path, SQLite::OPEN_READONLY);
  REQUIRE(plain.execAndGet("SELECT count(*) FROM t").getInt64() == next_id - 1);
}

TEST_CASE("a writer on the coalescing VFS killed at any moment keeps every commit it reported",
          "[store][wal_vfs]") {
  TempDir dir;
  const std::string path = dir.file("v.db");
  { open_writer(path, "NORMAL"); }
  std::mt19937 rng(11);
  std::int64_t reported_total = 0;
  for (int round = 0; round < 12; ++round) {
    auto [child, from_child] = fork_child([&](int to_parent) {
      SQLite::Database writer = open_writer(path, round % 2 == 0 ? "NORMAL" : "FULL");
      std::int64_t next_id = writer.execAndGet("SELECT coalesce(max(id), 0) + 1 FROM t").getInt64();
      for (;;) {
        commit_rows(writer, 1 + static_cast<int>(next_id % 30), 1500, next_id);
        const std::int64_t committed = next_id - 1;
        if (write(to_parent, &committed, sizeof committed) != sizeof committed) _exit(3);
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 80));
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    REQUIRE(WIFSIGNALED(status));
    std::int64_t reported = 0, r = 0;
    while (read(from_child, &r, sizeof r) == sizeof r) reported = r;
    close(from_child);
    SQLite::Database check(path, SQLite::OPEN_READWRITE);  // recovers the log
    const std::int64_t rows = check.execAndGet("SELECT count(*) FROM t").getInt64();
    const std::int64_t max_id = check.execAndGet("SELECT coalesce(max(id), 0) FROM t").getInt64();
    INFO("round " << round << ": reported " << reported << ", stored " << rows);
    REQUIRE(rows >= reported);  // every reported commit survived
    REQUIRE(rows == max_id);    // and no transaction survived in part
    reported_total = rows;
  }
  REQUIRE(reported_total > 0);
  REQUIRE(integrity(path) == "ok");
}
