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

audit::VerifyReport verified(const std::string& db, bool all_checkpoints = false) {
  audit::VerifyOptions o;
  o.sections = &testing::audit_sections();
  o.hooks = testing::audit_hooks();
  o.all_checkpoints = all_checkpoints;
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

// Not run by default: writes the sample database to $FLOWGATE_SAMPLE_DB for trying the verbs by
// hand (`test_audit "[.sample]"`).
TEST_CASE("write a sample database", "[.sample]") {
  const char* path = std::getenv("FLOWGATE_SAMPLE_DB");
  REQUIRE(path != nullptr);
  HistoryBuilder b(path);
  b.all();
  b.close();
}
