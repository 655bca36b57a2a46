// verify() on databases written by the engine: an untouched history is clean, and each kind of
// damage is named at the first bad event. (The CLI-level tamper tests with the sqlite3 tool are in
// tests/unit/audit/tamper_test.cpp.)
#include <catch2/catch.hpp>

#include <SQLiteCpp/SQLiteCpp.h>

#include "audit/verify.h"
#include "support/temp_dir.h"
#include "unit/audit/audit_plugins.h"
#include "unit/audit/history_builder.h"

using namespace flowgate;
using flowgate::testing::HistoryBuilder;
using flowgate::testing::TempDir;

namespace {

audit::VerifyReport verified(const std::string& db, bool all_checkpoints = false,
                             bool fold_thread = true, std::size_t batch_events = 0,
                             bool read_thread = true) {
  audit::VerifyOptions o;
  o.fold_batch_events = batch_events;
  o.read_thread = read_thread;
  o.sections = &testing::audit_sections();
  o.hooks = testing::audit_hooks();
  o.all_checkpoints = all_checkpoints;
  o.fold_thread = fold_thread;
  o.progress = 0;
  auto r = audit::verify_database(db, o);
  if (!r) FAIL(r.error().to_string());
  return *r;
}

std::string kinds(const audit::VerifyReport& r) {
  std::string out;
  for (const auto& f : r.findings) out += f.kind + " " + f.to_string() + "\n";
  return out;
}

// A database written by the engine, then changed by `statements` (run as they are, in order).
std::string tampered(const TempDir& dir, std::initializer_list<const char*> statements) {
  HistoryBuilder b(dir.file("fg.db"));
  b.all();
  b.close();
  SQLite::Database db(dir.file("fg.db"), SQLite::OPEN_READWRITE);
  for (const char* sql : statements) db.exec(sql);
  return dir.file("fg.db");
}

}  // namespace

TEST_CASE("an untouched database written by the engine verifies clean", "[audit][verify]") {
  TempDir dir;
  HistoryBuilder b(dir.file("fg.db"));
  auto ids = b.all();
  b.close();
  auto r = verified(dir.file("fg.db"), /*all_checkpoints=*/true);
  INFO(kinds(r));
  CHECK(r.ok());
  CHECK(r.instances == static_cast<std::int64_t>(ids.size()));
  CHECK(r.definitions == 3);
  CHECK(r.events > 80);
  CHECK(r.checkpoints >= 4);
  CHECK(r.checkpoints_recomputed == r.checkpoints);
  CHECK(r.page_checked);
}

TEST_CASE("an edited event is named as the first bad event of its instance", "[audit][verify]") {
  TempDir dir;
  HistoryBuilder b(dir.file("fg.db"));
  auto ids = b.all();
  b.close();
  std::int64_t seq = 0;
  {
    SQLite::Database db(dir.file("fg.db"), SQLite::OPEN_READWRITE);
    const char* which =
        "WHERE instance_id = 'ltc-2' AND type = 'transitioned' AND body LIKE "
        "'%\"event\":\"conclude_negotiation\"%'";
    seq = db.execAndGet(std::string("SELECT seq FROM events ") + which).getInt64();
    db.exec(std::string("UPDATE events SET body = replace(body, '270000', '170000') ") + which);
  }
  auto r = verified(dir.file("fg.db"));
  INFO(kinds(r));
  REQUIRE_FALSE(r.ok());
  CHECK(r.findings[0].kind == "event_changed");
  CHECK(r.findings[0].instance_id == "ltc-2");
  CHECK(r.findings[0].seq == seq);
}

TEST_CASE("a snapshot whose data was edited disagrees with its events", "[audit][verify]") {
  TempDir dir;
  auto r = verified(tampered(dir, {"UPDATE instances SET data = replace(data, "
                                   "'\"region\":\"emea\"', '\"region\":\"apac\"') "
                                   "WHERE instance_id = 'ltc-2'"}));
  INFO(kinds(r));
  REQUIRE(r.findings.size() == 1);
  CHECK(r.findings[0].kind == "snapshot_mismatch");
  CHECK(r.findings[0].instance_id == "ltc-2");
  CHECK_THAT(r.findings[0].message, Catch::Contains("data.region"));
}

TEST_CASE("a snapshot re-formatted without changing its meaning still agrees", "[audit][verify]") {
  TempDir dir;
  // Whitespace between the members: another text, the same object.
  auto r = verified(tampered(dir, {"UPDATE instances SET data = replace(data, ',\"', ' , \"')"}));
  INFO(kinds(r));
  CHECK(r.ok());
}

TEST_CASE("verify names the same findings on two threads as on one", "[audit][verify]") {
  TempDir dir;
  auto db = tampered(
      dir, {"UPDATE events SET at_ms = at_ms + 1 WHERE instance_id = 'ltc-2' AND seq = 3",
            "DELETE FROM events WHERE instance_id = 'itr-3' AND seq = 2",
            "UPDATE events SET body = replace(body, 'a', 'b') WHERE instance_id = 'itr-8' AND "
            "seq = 4"});
  auto two = verified(db, true, /*fold_thread=*/true);
  auto one = verified(db, true, /*fold_thread=*/false);
  // Batches of 3 events: the queues fill, so the reading thread and the reader fold and hash for
  // the worker.
  auto shared = verified(db, true, /*fold_thread=*/true, /*batch_events=*/3);
  // Read on the reader's own thread (as an export is).
  auto unread = verified(db, true, /*fold_thread=*/true, /*batch_events=*/3, /*read_thread=*/false);
  INFO(kinds(two));
  REQUIRE_FALSE(two.ok());
  CHECK(kinds(two) == kinds(one));
  CHECK(kinds(shared) == kinds(one));
  CHECK(kinds(unread) == kinds(one));
  for (const char* id : {"ltc-2", "itr-3", "itr-8"}) {
    CHECK(kinds(two).find(id) != std::string::npos);
  }
}

TEST_CASE("a second reader of the events reads exactly what the first one sees beside a writer",
          "[audit][verify]") {
  TempDir dir;
  auto path = tampered(dir, {});
  auto db = audit::AuditDb::open(path);
  REQUIRE(db);
  auto source = audit::database_source(**db);
  auto seen = (*db)->last_position();
  REQUIRE(seen);
  {  // A writer appends an event after the first connection began its read transaction.
    SQLite::Database writer(path, SQLite::OPEN_READWRITE);
    writer.exec(
        "INSERT INTO events (position, instance_id, seq, at_ms, type, actor, body, prev_hash, "
        "hash) SELECT position + 1, instance_id, seq + 1, at_ms, type, actor, body, hash, hash "
        "FROM events ORDER BY position DESC LIMIT 1");
  }
  auto second = source->open_event_reader();
  REQUIRE(second);
  REQUIRE(*second != nullptr);
  std::int64_t events = 0, last = 0;
  auto read = (*second)->each_event([&](const audit::EventRow& row) {
    ++events;
    last = row.position;
    return true;
  });
  REQUIRE(read);
  CHECK(events == *seen);
  CHECK(last == *seen);
}

// Not run by default: writes the sample database to $FLOWGATE_SAMPLE_DB for trying the verbs by
// hand (`test_audit "[.sample]"`).
TEST_CASE("write a sample database", "[.sample]") {
  const char* path = std::getenv("FLOWGATE_SAMPLE_DB");
  REQUIRE(path != nullptr);
  HistoryBuilder b(path);
  b.all();
  b.close();
}
