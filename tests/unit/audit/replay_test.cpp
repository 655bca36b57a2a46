// replay() re-decides every recorded command of histories written by the engine (with the SLA and
// gate plugins) and finds steps that were not allowed, even in a history whose chain was
// recomputed to look intact.
#include <catch2/catch.hpp>

#include <SQLiteCpp/SQLiteCpp.h>

#include <set>

#include "audit/replay.h"
#include "audit/verify.h"
#include "definition/value.h"
#include "support/temp_dir.h"
#include "unit/audit/audit_plugins.h"
#include "unit/audit/history_builder.h"
#include "unit/audit/rechain.h"

using namespace flowgate;
using flowgate::testing::HistoryBuilder;
using flowgate::testing::TempDir;

namespace {

audit::ReplayReport replayed(const std::string& db, audit::ReplayOptions o = {}) {
  o.sections = &testing::audit_sections();
  o.hooks = testing::audit_hooks();
  o.progress = 0;
  auto r = audit::replay_database(db, o);
  if (!r) FAIL(r.error().to_string());
  return *r;
}

std::string listed(const std::vector<audit::Finding>& findings) {
  std::string out;
  for (const auto& f : findings) out += f.kind + " " + f.to_string() + "\n";
  return out;
}

struct Sample {
  TempDir dir;
  std::string db = dir.file("fg.db");
  std::vector<std::string> ids;
  Sample() {
    HistoryBuilder b(db);
    ids = b.all();
    b.close();
  }
};

Sample& sample() {
  static Sample s;
  return s;
}

}  // namespace

TEST_CASE("every step of histories written by the engine is reproduced by decide",
          "[audit][replay]") {
  auto r = replayed(sample().db);
  INFO(listed(r.findings));
  CHECK(r.ok());
  CHECK(r.instances == static_cast<std::int64_t>(sample().ids.size()));
  CHECK(r.commands > 50);
  CHECK(r.commands < r.events);  // transitions with completed, votes with decisions, SLA events
}

TEST_CASE("timer steps (SLA breach escalating L1 to L2) are reproduced from the armed timers",
          "[audit][replay]") {
  SQLite::Database db(sample().db, SQLite::OPEN_READONLY);
  // The breached instance escalated without anyone firing `escalate`: an SLA timer did.
  CHECK(db.execAndGet("SELECT count(*) FROM events WHERE type = 'sla.breached'").getInt() >= 1);
  CHECK(db.execAndGet("SELECT count(*) FROM events WHERE actor LIKE '%flowgate:timer%'").getInt() >=
        1);
  audit::ReplayOptions o;
  o.instance_id = sample().ids[7];
  auto r = replayed(sample().db, o);
  INFO(listed(r.findings));
  CHECK(r.ok());
  CHECK(r.instances == 1);
}

TEST_CASE("replay as of a past moment shows the state then", "[audit][replay]") {
  audit::ReplayOptions o;
  o.instance_id = sample().ids[0];  // the won LTC deal
  {
    SQLite::Database db(sample().db, SQLite::OPEN_READONLY);
    o.as_of_ms = db.execAndGet("SELECT created_ms FROM instances WHERE instance_id = '" +
                               o.instance_id + "'")
                     .getInt64() +
                 5 * testing::kMinute;
  }
  auto r = replayed(sample().db, o);
  REQUIRE(r.states.size() == 1);
  CHECK(r.states[0]["state"] == "lead_captured");
  CHECK(r.states[0]["lifecycle"] == "active");
  o.as_of_ms.reset();
  auto now = replayed(sample().db, o);
  CHECK(now.ok());
  CHECK(now.states.empty());
}

TEST_CASE("a step by someone without the role is found even when the chain was recomputed",
          "[audit][replay]") {
  TempDir dir;
  std::filesystem::copy_file(sample().db, dir.file("fg.db"));
  std::int64_t seq = 0;
  {
    SQLite::Database db(dir.file("fg.db"), SQLite::OPEN_READWRITE);
    const char* which = "WHERE instance_id = 'itr-3' AND body LIKE '%\"event\":\"classify\"%'";
    seq = db.execAndGet(std::string("SELECT seq FROM events ") + which).getInt64();
    db.exec(std::string(
                "UPDATE events SET actor = '{\"principal\":\"mallory\",\"roles\":[\"l3_rnd\"]}' ") +
            which);
    testing::rechain(db, "itr-3");
  }
  auto r = replayed(dir.file("fg.db"));
  INFO(listed(r.findings));
  REQUIRE(r.findings.size() == 1);
  CHECK(r.findings[0].kind == "step_not_reproduced");
  CHECK(r.findings[0].instance_id == "itr-3");
  CHECK(r.findings[0].seq == seq);
  CHECK_THAT(r.findings[0].message, Catch::Contains("mallory") && Catch::Contains("roles"));
}

TEST_CASE("a transition whose guard was false is found", "[audit][replay]") {
  TempDir dir;
  std::filesystem::copy_file(sample().db, dir.file("fg.db"));
  {
    SQLite::Database db(dir.file("fg.db"), SQLite::OPEN_READWRITE);
    // confirm_resolution needs 1 <= satisfaction <= 5.
    db.exec(
        "UPDATE events SET body = replace(replace(body, '\"satisfaction\":5', "
        "'\"satisfaction\":9'), '\"to\":5}', '\"to\":9}') "
        "WHERE instance_id = 'itr-7' AND body LIKE '%confirm_resolution%'");
    db.exec(
        "UPDATE instances SET data = replace(data, '\"satisfaction\":5', '\"satisfaction\":9') "
        "WHERE instance_id = 'itr-7'");
    testing::rechain(db, "itr-7");
  }
  auto r = replayed(dir.file("fg.db"));
  INFO(listed(r.findings));
  REQUIRE(r.findings.size() == 1);
  CHECK(r.findings[0].instance_id == "itr-7");
  CHECK_THAT(r.findings[0].message, Catch::Contains("guard"));
}

TEST_CASE("an event decide would not have produced in that step is found", "[audit][replay]") {
  TempDir dir;
  std::filesystem::copy_file(sample().db, dir.file("fg.db"));
  {
    SQLite::Database db(dir.file("fg.db"), SQLite::OPEN_READWRITE);
    // Drop the `completed` that followed the close: the step is then incomplete.
    db.exec("DELETE FROM events WHERE instance_id = 'itr-7' AND type = 'completed'");
    db.exec("UPDATE instances SET lifecycle = 'active' WHERE instance_id = 'itr-7'");
    testing::rechain(db, "itr-7");
  }
  auto r = replayed(dir.file("fg.db"));
  INFO(listed(r.findings));
  REQUIRE_FALSE(r.ok());
  CHECK(r.findings[0].kind == "step_not_reproduced");
  CHECK_THAT(r.findings[0].message, Catch::Contains("completed"));
}

TEST_CASE("replay reproduces every gate outcome: go, hold then go, recycle then go, kill",
          "[audit][replay][gate]") {
  std::set<std::string> decisions;
  {
    SQLite::Database db(sample().db, SQLite::OPEN_READONLY);
    SQLite::Statement q(db,
                        "SELECT DISTINCT json_extract(body, '$.decision') FROM events WHERE "
                        "type = 'gate.decided'");
    while (q.executeStep()) decisions.insert(q.getColumn(0).getString());
  }
  CHECK(decisions == std::set<std::string>{"go", "hold", "kill", "recycle"});
  auto r = replayed(sample().db);
  INFO(listed(r.findings));
  CHECK(r.ok());
}
