// The events read straight from the file's pages (audit/page_scan.h) are SQLite's rows, byte for
// byte; where the pages hold anything else the scan stops and SQLite reads the rest; a database
// whose log holds pages is never read this way; damaged pages never crash it.
#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>

#include "audit/audit_db.h"
#include "audit/page_scan.h"
#include "audit/source.h"
#include "store/schema.h"
#include "support/temp_dir.h"
#include "unit/audit/history_builder.h"

using namespace flowgate;
using flowgate::testing::HistoryBuilder;
using flowgate::testing::TempDir;

namespace {

// An event row with its own copies of the text, comparable.
struct Row {
  std::int64_t position, seq, at_ms;
  std::string instance_id, type, actor, body, request_id, prev_hash, hash;
  bool operator==(const Row&) const = default;
};

Row copy(const audit::EventRow& r) {
  return {r.position,
          r.seq,
          r.at_ms,
          std::string(r.instance_id),
          std::string(r.type),
          std::string(r.actor),
          std::string(r.body),
          std::string(r.request_id),
          std::string(r.prev_hash),
          std::string(r.hash)};
}

void exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string message = err != nullptr ? err : "?";
    sqlite3_free(err);
    FAIL(sql << ": " << message);
  }
}

// A read-only connection inside a read transaction, as AuditDb keeps one.
struct Reader {
  sqlite3* db = nullptr;
  bool ok = false;  // false: SQLite could not read the schema (allowed only when !must)
  explicit Reader(const std::string& path, bool must = true) {
    REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    if (must) exec(db, "BEGIN; SELECT count(*) FROM sqlite_master");
    ok = must || sqlite3_exec(db, "BEGIN; SELECT count(*) FROM sqlite_master", nullptr, nullptr,
                              nullptr) == SQLITE_OK;
  }
  ~Reader() {
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    sqlite3_close_v2(db);
  }
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // SELECT's rows (as the audit cursor reads them); false when SQLite reported an error.
  bool select(std::vector<Row>& out, std::int64_t skip = 0) const {
    sqlite3_stmt* s = nullptr;
    REQUIRE(sqlite3_prepare_v2(db,
                               "SELECT position, instance_id, seq, at_ms, type, actor, body, "
                               "request_id, prev_hash, hash FROM events ORDER BY position LIMIT "
                               "-1 OFFSET ?",
                               -1, &s, nullptr) == SQLITE_OK);
    sqlite3_bind_int64(s, 1, skip);
    auto text = [&](int c) {
      const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, c));
      return p == nullptr ? std::string()
                          : std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s, c)));
    };
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      out.push_back({sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 2),
                     sqlite3_column_int64(s, 3), text(1), text(4), text(5), text(6), text(7),
                     text(8), text(9)});
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE;
  }
};

struct Scanned {
  std::vector<Row> rows;
  audit::EventPageScan::Outcome outcome;
};

Scanned scan(const Reader& r, const std::string& path,
             std::int64_t until = std::numeric_limits<std::int64_t>::max()) {
  auto s = audit::EventPageScan::open(r.db, path);
  REQUIRE(s != nullptr);
  Scanned out;
  out.outcome = s->each(until, [&](const audit::EventRow& e) {
    out.rows.push_back(copy(e));
    return true;
  });
  return out;
}

// A file with the store's schema and `rows` events of assorted shapes: text of many lengths (some
// spilling onto overflow pages, around the lengths where the local part changes), NULL request
// ids, integers of every stored width.
void fill(const std::string& path, int rows, int page_size, int reserved, std::uint32_t seed) {
  SQLite::Database file(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  sqlite3* db = file.getHandle();
  exec(db, fmt::format("PRAGMA page_size = {}", page_size));
  if (reserved > 0) {
    int n = reserved;
    REQUIRE(sqlite3_file_control(db, "main", SQLITE_FCNTL_RESERVE_BYTES, &n) == SQLITE_OK);
  }
  // The store's own schema, every step of it.
  for (const auto& m : store_internal::migrations()) m.apply(file);
  exec(db, "BEGIN");
  sqlite3_stmt* s = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?,?)", -1, &s,
                             nullptr) == SQLITE_OK);
  std::mt19937 rng(seed);
  const std::int64_t widths[] = {1,
                                 0,
                                 127,
                                 -128,
                                 30000,
                                 -8'000'000,
                                 2'000'000'000,
                                 140'000'000'000'000,
                                 -9'000'000'000'000'000'000};
  const int usable = page_size - reserved;
  std::int64_t position = 0;
  for (int i = 0; i < rows; ++i) {
    position += 1 + static_cast<std::int64_t>(rng() % 3);  // gaps, as deletions leave
    std::size_t body_len = rng() % 400;
    switch (rng() % 10) {
      case 0:  // around the largest record that stays on its page
        body_len = static_cast<std::size_t>(usable - 35 - 140 + static_cast<int>(rng() % 20) - 10);
        break;
      case 1:  // several overflow pages
        body_len = static_cast<std::size_t>(usable) * (1 + rng() % 5) + rng() % 100;
        break;
      default:
        break;
    }
    std::string body(body_len, 'x');
    for (auto& c : body) c = static_cast<char>('a' + rng() % 26);
    const std::int64_t seq = std::max<std::int64_t>(1, std::llabs(widths[rng() % 9]));
    const std::string id = fmt::format("inst-{}", i);
    const std::string type = i % 7 == 0 ? "instance_started" : "transitioned";
    const std::string actor = R"({"principal":"ana","roles":["AR"]})";
    const std::string request = fmt::format("req-{}", i);
    const std::string prev(64, 'a' + static_cast<char>(i % 26));
    const std::string hash(64, 'b');
    sqlite3_bind_int64(s, 1, position);
    sqlite3_bind_text(s, 2, id.data(), static_cast<int>(id.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 3, seq);
    sqlite3_bind_int64(s, 4, widths[rng() % 9]);
    sqlite3_bind_text(s, 5, type.data(), static_cast<int>(type.size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 6, actor.data(), static_cast<int>(actor.size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 7, body.data(), static_cast<int>(body.size()), SQLITE_TRANSIENT);
    if (i % 3 == 0) {
      sqlite3_bind_null(s, 8);
    } else {
      sqlite3_bind_text(s, 8, request.data(), static_cast<int>(request.size()), SQLITE_TRANSIENT);
    }
    sqlite3_bind_text(s, 9, prev.data(), static_cast<int>(prev.size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 10, hash.data(), static_cast<int>(hash.size()), SQLITE_TRANSIENT);
    REQUIRE(sqlite3_step(s) == SQLITE_DONE);
    sqlite3_reset(s);
  }
  sqlite3_finalize(s);
  exec(db, "COMMIT");
}

// "" when equal, else the first difference (the vectors are too long to print).
std::string difference(const std::vector<Row>& got, const std::vector<Row>& expected) {
  for (std::size_t i = 0; i < std::min(got.size(), expected.size()); ++i) {
    if (!(got[i] == expected[i])) {
      return fmt::format("row {} differs: position {} / {}, body length {} / {}", i,
                         got[i].position, expected[i].position, got[i].body.size(),
                         expected[i].body.size());
    }
  }
  return got.size() == expected.size()
             ? ""
             : fmt::format("{} rows, expected {}", got.size(), expected.size());
}

std::vector<Row> sqlite_rows(const std::string& path) {
  Reader r(path);
  std::vector<Row> rows;
  REQUIRE(r.select(rows));
  return rows;
}

// Every event through an AuditDb source: from the pages where it can (or through SQLite alone).
std::vector<Row> source_rows(const std::string& path, bool read_pages) {
  auto db = audit::AuditDb::open(path);
  REQUIRE(db);
  (*db)->set_read_pages(read_pages);
  auto source = audit::database_source(**db);
  std::vector<Row> rows;
  auto ok = source->each_event([&](const audit::EventRow& e) {
    rows.push_back(copy(e));
    return true;
  });
  REQUIRE(ok);
  return rows;
}

}  // namespace

TEST_CASE("the page scan reads exactly SQLite's rows, in any page size", "[audit][page_scan]") {
  TempDir dir;
  for (const auto& [page_size, reserved, rows] : std::vector<std::tuple<int, int, int>>{
           {4096, 0, 6000}, {512, 0, 3000}, {1024, 32, 2000}, {65536, 0, 3000}, {4096, 0, 0}}) {
    INFO("page size " << page_size << ", reserved " << reserved << ", rows " << rows);
    const std::string path = dir.file(fmt::format("events-{}-{}-{}.db", page_size, reserved, rows));
    fill(path, rows, page_size, reserved, static_cast<std::uint32_t>(page_size + rows));
    const std::vector<Row> expected = sqlite_rows(path);
    REQUIRE(expected.size() == static_cast<std::size_t>(rows));
    Reader r(path);
    Scanned got = scan(r, path);
    CHECK(got.outcome.stopped == "");
    CHECK(got.outcome.finished);
    REQUIRE(got.rows.size() == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
      INFO("row " << i << " at position " << expected[i].position);
      REQUIRE(got.rows[i] == expected[i]);
    }
    if (rows > 0) {
      // Up to a position: the rows before it, and it says it went as far as asked.
      const std::int64_t until = expected[expected.size() / 2].position;
      Scanned half = scan(r, path, until);
      CHECK(half.outcome.finished);
      CHECK(half.rows.size() == expected.size() / 2 + 1);
      CHECK(half.rows.back() == expected[expected.size() / 2]);
    }
  }
}

TEST_CASE("the page scan stops when fn says so", "[audit][page_scan]") {
  TempDir dir;
  const std::string path = dir.file("events.db");
  fill(path, 500, 4096, 0, 7);
  Reader r(path);
  auto s = audit::EventPageScan::open(r.db, path);
  REQUIRE(s);
  int seen = 0;
  auto out = s->each(std::numeric_limits<std::int64_t>::max(),
                     [&](const audit::EventRow&) { return ++seen < 10; });
  CHECK(seen == 10);
  CHECK(out.finished);
}

TEST_CASE("a value of another type than its column's hands the rest to SQLite",
          "[audit][page_scan]") {
  TempDir dir;
  HistoryBuilder b(dir.file("fg.db"));
  b.all();
  b.close();
  const std::string path = dir.file("fg.db");
  const std::vector<Row> untouched = source_rows(path, false);
  REQUIRE(untouched.size() > 40);
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    // A blob in a text column, text in an integer column: SQLite converts them when read.
    exec(db, "UPDATE events SET actor = CAST(actor AS BLOB) WHERE position = 20");
    exec(db, "UPDATE events SET at_ms = 'soon' WHERE position = 30");
    sqlite3_close(db);
  }
  REQUIRE_FALSE(std::filesystem::exists(path + "-wal"));
  {
    Reader r(path);
    Scanned got = scan(r, path);
    CHECK_FALSE(got.outcome.finished);
    CHECK(got.outcome.stopped.find("a text column holding another type") == 0);
    REQUIRE(got.outcome.last_position);
    CHECK(*got.outcome.last_position == 19);
    CHECK(got.outcome.delivered == 19);
  }
  const std::vector<Row> through_sqlite = source_rows(path, false);
  const std::vector<Row> from_pages = source_rows(path, true);
  CHECK(difference(from_pages, through_sqlite) == "");
  auto at = [](const std::vector<Row>& rows, std::int64_t position) {
    for (const Row& row : rows) {
      if (row.position == position) return row;
    }
    FAIL("no event at position " << position);
    return Row{};
  };
  CHECK(at(through_sqlite, 20).actor == at(untouched, 20).actor);
  CHECK(at(through_sqlite, 30).at_ms == 0);  // 'soon' as an integer
}

TEST_CASE("a database whose log holds pages is read through SQLite", "[audit][page_scan]") {
  TempDir dir;
  const std::string path = dir.file("events.db");
  fill(path, 300, 4096, 0, 11);
  sqlite3* writer = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &writer) == SQLITE_OK);
  exec(writer, "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0");
  {
    Reader r(path);  // the log is empty: the file is the snapshot
    CHECK(audit::EventPageScan::open(r.db, path) != nullptr);
  }
  exec(writer,
       "UPDATE events SET body = 'changed' WHERE position IN (SELECT position FROM events "
       "ORDER BY position LIMIT 5)");
  REQUIRE(std::filesystem::file_size(path + "-wal") > 0);
  {
    Reader r(path);
    CHECK(audit::EventPageScan::open(r.db, path) == nullptr);
    std::vector<Row> rows;
    REQUIRE(r.select(rows));
    CHECK(rows.front().body == "changed");
  }
  sqlite3_close(writer);
  REQUIRE_FALSE(std::filesystem::exists(path + "-wal"));
  // A rollback journal beside the file (a writer's, under way) is not read past either.
  Reader r(path);
  std::ofstream(path + "-journal") << "journal";
  CHECK(audit::EventPageScan::open(r.db, path) == nullptr);
}

TEST_CASE("a table other than the store's is not read from its pages", "[audit][page_scan]") {
  TempDir dir;
  const std::string path = dir.file("other.db");
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  exec(db,
       "CREATE TABLE events (position INTEGER PRIMARY KEY, instance_id TEXT, seq INTEGER, "
       "at_ms INTEGER, type TEXT, actor TEXT, body TEXT, request_id TEXT, prev_hash TEXT, "
       "hash TEXT, extra TEXT)");
  sqlite3_close(db);
  Reader r(path);
  CHECK(audit::EventPageScan::open(r.db, path) == nullptr);
}

TEST_CASE("damaged pages never crash the page scan, and what it reads is SQLite's",
          "[audit][page_scan]") {
  TempDir dir;
  const std::string clean = dir.file("clean.db");
  fill(clean, 3000, 1024, 0, 5);
  const auto size = std::filesystem::file_size(clean);
  std::mt19937 rng(20261124);
  int compared = 0, stopped = 0;
  for (int round = 0; round < 200; ++round) {
    const std::string path = dir.file(fmt::format("damaged-{}.db", round));
    std::filesystem::copy_file(clean, path);
    {
      std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
      // Bytes at random, past the file header (a broken one is SQLite's to refuse).
      for (int k = 0, n = 1 + static_cast<int>(rng() % 8); k < n; ++k) {
        f.seekp(static_cast<std::streamoff>(100 + rng() % (size - 100)));
        char byte = static_cast<char>(rng());
        f.write(&byte, 1);
      }
    }
    INFO("round " << round);
    Reader r(path, /*must=*/false);
    auto s = r.ok ? audit::EventPageScan::open(r.db, path) : nullptr;
    if (s == nullptr) continue;  // the schema itself was hit: SQLite refuses the file
    std::vector<Row> got;
    auto out = s->each(std::numeric_limits<std::int64_t>::max(), [&](const audit::EventRow& e) {
      got.push_back(copy(e));
      return true;
    });
    if (!out.finished) ++stopped;
    // What SQLite reads past the point where the scan stopped, as DatabaseSource goes on.
    std::vector<Row> rest;
    const bool sqlite_ok = out.finished || r.select(rest, out.delivered);
    got.insert(got.end(), rest.begin(), rest.end());
    std::vector<Row> expected;
    if (sqlite_ok && r.select(expected)) {
      ++compared;
      CHECK(difference(got, expected) == "");
    }
    std::filesystem::remove(path);
  }
  // Both ways were taken: damage the scan read through and damage it left to SQLite.
  CHECK(compared > 0);
  CHECK(stopped > 0);
}
