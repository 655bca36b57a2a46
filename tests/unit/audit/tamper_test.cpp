// Tamper tests: a database made by driving the shipped workflows (LTC, ITR, presales with their
// SLA clocks and stage gates) is altered the way someone with the file and the `sqlite3` tool
// would, and the real `flowgate verify` binary must find each alteration, name it (kind, instance,
// event) and exit 1. The untouched database verifies clean with exit 0.
#include <catch2/catch.hpp>

#include <SQLiteCpp/SQLiteCpp.h>

#include <filesystem>
#include <string>

#include "support/process.h"
#include "support/temp_dir.h"
#include "unit/audit/history_builder.h"
#include "unit/audit/rechain.h"

using namespace flowgate;
using flowgate::testing::HistoryBuilder;
using flowgate::testing::ProcessResult;
using flowgate::testing::run_process;
using flowgate::testing::TempDir;

namespace {

// One database for every test: building it drives ~200 events through the engine.
const std::string& pristine() {
  static TempDir dir;
  static const std::string path = [] {
    std::string p = dir.file("pristine.db");
    HistoryBuilder b(p);
    b.all();
    b.close();
    return p;
  }();
  return path;
}

// A copy of the pristine database an auditor was handed (the engine closed it: no WAL left).
std::string copy_of_pristine(const TempDir& dir) {
  std::string p = dir.file("audit.db");
  std::filesystem::copy_file(pristine(), p);
  return p;
}

void with_sqlite3_tool(const std::string& db, const std::string& sql) {
  ProcessResult r = run_process({"/usr/bin/env", "sqlite3", db, sql});
  INFO(r.err);
  REQUIRE(r.status == 0);
}

ProcessResult verify(const std::string& db) { return run_process({FLOWGATE_BINARY, "verify", db}); }

std::int64_t scalar(const std::string& db, const std::string& sql) {
  SQLite::Database d(db, SQLite::OPEN_READONLY);
  return d.execAndGet(sql).getInt64();
}

bool contains(const std::string& s, const std::string& needle) {
  return s.find(needle) != std::string::npos;
}

// `flowgate verify` exits 1 and names the finding `kind` and where it is (`where`).
ProcessResult expect_finding(const std::string& db, const std::string& kind,
                             const std::string& where) {
  auto r = verify(db);
  INFO(r.out << r.err);
  CHECK(r.status == 1);
  CHECK(contains(r.out, kind));
  CHECK(contains(r.out, where));
  return r;
}

}  // namespace

TEST_CASE("an untouched database verifies clean with the real binary", "[audit][tamper]") {
  TempDir dir;
  auto db = copy_of_pristine(dir);
  auto r = verify(db);
  INFO(r.out << r.err);
  CHECK(r.status == 0);
  CHECK(contains(r.out, "OK: every hash chain, snapshot, definition and checkpoint verified"));
}

TEST_CASE("one field of one event changed with sqlite3 is named at that event", "[audit][tamper]") {
  TempDir dir;
  auto db = copy_of_pristine(dir);
  auto seq = scalar(db,
                    "SELECT seq FROM events WHERE instance_id = 'ltc-2' AND type = 'transitioned' "
                    "AND body LIKE '%conclude_negotiation%'");
  with_sqlite3_tool(
      db,
      "UPDATE events SET body = replace(body, '270000', '170000') WHERE instance_id = 'ltc-2' "
      "AND seq = " +
          std::to_string(seq));
  expect_finding(db, "event_changed", "ltc-2 #" + std::to_string(seq) + " ");
}

TEST_CASE("an actor rewritten on one event is named at that event", "[audit][tamper]") {
  TempDir dir;
  auto db = copy_of_pristine(dir);
  with_sqlite3_tool(
      db,
      "UPDATE events SET actor = replace(actor, 'ana', 'eve') WHERE instance_id = 'ltc-2' "
      "AND seq = 5");
  expect_finding(db, "event_changed", "ltc-2 #5 ");
}

TEST_CASE("one deleted event is named as missing in its instance", "[audit][tamper]") {
  TempDir dir;
  auto db = copy_of_pristine(dir);
  with_sqlite3_tool(db, "DELETE FROM events WHERE instance_id = 'ltc-2' AND seq = 6");
  expect_finding(db, "event_missing", "event #6 is missing");
}

TEST_CASE("a forged event inserted with a recomputed hash chain is found", "[audit][tamper]") {
  // The attacker appends a data change to a closed ticket (a satisfaction score nobody gave),
  // recomputes the whole chain and the instance's head, so the chain itself verifies: folding the
  // history with the definition gives it away, at the forged event.
  TempDir dir;
  auto db = copy_of_pristine(dir);
  std::int64_t forged = 0;
  {
    SQLite::Database d(db, SQLite::OPEN_READWRITE);
    auto last = d.execAndGet("SELECT max(seq) FROM events WHERE instance_id = 'itr-3'").getInt64();
    auto at = d.execAndGet("SELECT max(at_ms) FROM events WHERE instance_id = 'itr-3'").getInt64();
    SQLite::Statement ins(d,
                          "INSERT INTO events (instance_id, seq, at_ms, type, actor, body, "
                          "prev_hash, hash) VALUES ('itr-3', ?, ?, 'data_changed', "
                          "'{\"principal\":\"mallory\",\"roles\":[\"service_manager\"]}', "
                          "'{\"changes\":{\"satisfaction\":{\"from\":null,\"to\":5}}}', '', '')");
    forged = last + 1;
    ins.bind(1, forged);
    ins.bind(2, at + 1000);
    ins.exec();
    testing::rechain(d, "itr-3");
  }
  expect_finding(db, "history_invalid", "itr-3 #" + std::to_string(forged) + " ");
}

TEST_CASE("two events of one instance swapped are named as reordered", "[audit][tamper]") {
  TempDir dir;
  auto db = copy_of_pristine(dir);
  with_sqlite3_tool(db,
                    "UPDATE events SET seq = 1000 WHERE instance_id = 'ltc-2' AND seq = 4; "
                    "UPDATE events SET seq = 4 WHERE instance_id = 'ltc-2' AND seq = 5; "
                    "UPDATE events SET seq = 5 WHERE instance_id = 'ltc-2' AND seq = 1000;");
  expect_finding(db, "events_reordered", "ltc-2 #");
}

TEST_CASE("a whole instance deleted with its events is named", "[audit][tamper]") {
  TempDir dir;
  auto db = copy_of_pristine(dir);
  auto events = scalar(db, "SELECT count(*) FROM events WHERE instance_id = 'itr-3'");
  REQUIRE(events > 0);
  SECTION("leaving its timers and idempotency records behind") {
    with_sqlite3_tool(db,
                      "DELETE FROM events WHERE instance_id = 'itr-3'; "
                      "DELETE FROM instances WHERE instance_id = 'itr-3';");
    expect_finding(db, "instance_missing", "itr-3");
  }
  SECTION("with every trace of it") {
    with_sqlite3_tool(db,
                      "DELETE FROM events WHERE instance_id = 'itr-3'; "
                      "DELETE FROM instances WHERE instance_id = 'itr-3'; "
                      "DELETE FROM timers WHERE instance_id = 'itr-3'; "
                      "DELETE FROM requests WHERE instance_id = 'itr-3';");
    expect_finding(db, "instance_missing", "instance number 3 is missing");
  }
}

TEST_CASE("an instance whose last events were cut off disagrees with its snapshot",
          "[audit][tamper]") {
  TempDir dir;
  auto db = copy_of_pristine(dir);
  auto last = scalar(db, "SELECT last_seq FROM instances WHERE instance_id = 'presales-5'");
  REQUIRE(last > 3);
  with_sqlite3_tool(db, "DELETE FROM events WHERE instance_id = 'presales-5' AND seq > " +
                            std::to_string(last - 3) + "; UPDATE instances SET last_seq = " +
                            std::to_string(last - 3) + " WHERE instance_id = 'presales-5';");
  expect_finding(db, "snapshot_mismatch", "presales-5");
}

TEST_CASE("a truncated events table is found for every instance", "[audit][tamper]") {
  TempDir dir;
  auto db = copy_of_pristine(dir);
  auto instances = scalar(db, "SELECT count(*) FROM instances");
  with_sqlite3_tool(db, "DELETE FROM events");
  auto r = expect_finding(db, "checkpoint_mismatch", "instance_events_missing");
  std::size_t named = 0;
  for (auto at = r.out.find("instance_events_missing"); at != std::string::npos;
       at = r.out.find("instance_events_missing", at + 1))
    ++named;
  CHECK(named == static_cast<std::size_t>(instances));
}

TEST_CASE("a stored definition whose text was changed is named", "[audit][tamper]") {
  TempDir dir;
  auto db = copy_of_pristine(dir);
  with_sqlite3_tool(
      db,
      "UPDATE definitions SET source_text = replace(source_text, 'priority', 'Priority') "
      "WHERE workflow_id = 'itr'");
  expect_finding(db, "definition_changed", "itr v1");
}
