// The core measures over a database written the way production writes it: the shipped workflows
// driven through the real Engine on a simulated clock (unit/audit/history_builder.h), so every
// figure below is counted by hand from the journeys that were driven.
#include <catch2/catch.hpp>

#include "audit/audit_db.h"
#include "report/report.h"
#include "support/temp_dir.h"
#include "unit/audit/audit_plugins.h"
#include "unit/audit/history_builder.h"

using namespace flowgate;
using flowgate::testing::HistoryBuilder;
using flowgate::testing::kAuditT0;
using flowgate::testing::kMinute;
using flowgate::testing::TempDir;
using nlohmann::json;

namespace {

// LTC: won, lost after qualifying, dropped as a lead, one still open; ITR: escalated to L3 and
// reopened once, solved at L1, escalated by an OLA breach; presales: archived.
struct Day {
  TempDir dir;
  std::string db = dir.file("day.db");
  Day() {
    // The journeys one by one (not HistoryBuilder::all(), which grows), interleaved.
    HistoryBuilder b(db);
    std::string open = b.ltc_open(0);
    b.ltc_won();
    b.itr_reopened();
    b.ltc_open(1, open);
    b.ltc_lost();
    b.presales();
    b.ltc_dropped();
    b.ltc_open(2, open);
    b.itr_simple();
    b.itr_breached();
    b.close();
  }
};

const Day& day() {
  static const Day d;
  return d;
}

json report_of(const std::string& db, report::ReportOptions options = {}) {
  auto opened = audit::AuditDb::open(db);
  if (!opened) FAIL(opened.error().to_string());
  auto data = report::collect(**opened, testing::audit_sections(), options);
  if (!data) FAIL(data.error().to_string());
  return report::to_document(*data, options, db, nullptr);
}

json period(const json& doc, const std::string& workflow, std::size_t i = 0) {
  for (const auto& w : doc["workflows"]) {
    if (w["workflow"] == workflow) {
      REQUIRE(w["periods"].size() > i);
      return w["periods"][i];
    }
  }
  FAIL("no workflow " << workflow);
  static const json none;
  return none;
}

const json& row(const json& rows, const std::string& field, const json& value) {
  for (const auto& r : rows) {
    if (r[field] == value) return r;
  }
  FAIL("no row " << field << " = " << value.dump() << " in " << rows.dump());
  static const json none;
  return none;
}

}  // namespace

TEST_CASE("the LTC funnel counts leads, opportunities, contracts and wins", "[report]") {
  const json& ltc = period(report_of(day().db), "ltc");
  CHECK(ltc["instances"] == json{{"started", 4}, {"completed", 3}, {"cancelled", 0}, {"open", 1}});
  const json& f = ltc["funnel"];
  REQUIRE(f.size() == 4);
  CHECK(f[0] == json{{"stage", "ML"}, {"entered", 4}, {"conversion", 1.0}, {"of_started", 1.0}});
  CHECK(f[1] == json{{"stage", "MO"}, {"entered", 3}, {"conversion", 0.75}, {"of_started", 0.75}});
  CHECK(f[2] ==
        json{{"stage", "MCE"}, {"entered", 1}, {"conversion", 0.3333}, {"of_started", 0.25}});
  CHECK(f[3] == json{{"stage", "won"}, {"entered", 1}, {"conversion", 1.0}, {"of_started", 0.25}});
}

TEST_CASE("the LTC win rate counts a dropped lead as lost, the qualified one does not",
          "[report]") {
  const json ltc = period(report_of(day().db), "ltc");
  const json& o = ltc["outcomes"];
  CHECK(o["won"] == 1);
  CHECK(o["lost"] == 2);
  CHECK(o["closed"] == 3);
  CHECK(o["win_rate"] == 0.3333);
  CHECK(o["qualified_closed"] == 2);
  CHECK(o["qualified_win_rate"] == 0.5);
  const json& t = ltc["terminals"];
  CHECK(row(t, "state", "lead_dropped")["count"] == 1);
  CHECK(row(t, "state", "opportunity_lost")["count"] == 1);
  CHECK(row(t, "state", "contract_closed")["count"] == 1);
  CHECK(row(t, "state", "opportunity_withdrawn")["count"] == 0);
}

TEST_CASE("ITR escalation rate per tier counts requests escalated out of each tier", "[report]") {
  const json& itr = period(report_of(day().db), "itr");
  const json& e = itr["escalation"];
  REQUIRE(e.size() == 3);
  // L1: all three entered; the reopened one was escalated by its engineer, the breached one by
  // its OLA (an automatic escalation).
  CHECK(e[0] == json{{"tier", 1},
                     {"entered", 3},
                     {"escalated", 2},
                     {"rate", 0.6667},
                     {"escalations", 2},
                     {"automatic", 1}});
  CHECK(e[1] == json{{"tier", 2},
                     {"entered", 2},
                     {"escalated", 1},
                     {"rate", 0.5},
                     {"escalations", 1},
                     {"automatic", 0}});
  CHECK(e[2] == json{{"tier", 3},
                     {"entered", 1},
                     {"escalated", 0},
                     {"rate", 0.0},
                     {"escalations", 0},
                     {"automatic", 0}});
}

TEST_CASE("ITR reopen rate: one of three resolved requests failed its return visit", "[report]") {
  const json& itr = period(report_of(day().db), "itr");
  CHECK(itr["reopen"] == json{{"eligible", 3}, {"reopened", 1}, {"reopens", 1}, {"rate", 0.3333}});
  CHECK(itr["outcomes"]["won"] == 3);
  CHECK(itr["outcomes"]["win_rate"] == 1.0);
}

TEST_CASE("time in stage and state of a request solved at L1 add up to its cycle time",
          "[report]") {
  TempDir dir;
  std::string db = dir.file("simple.db");
  {
    HistoryBuilder b(db);
    b.itr_simple();
  }
  const json& itr = period(report_of(db), "itr");
  // Started, then six steps 20 minutes apart after a first 10 minutes (history_builder.h).
  CHECK(itr["cycle_time"]["count"] == 1);
  CHECK(itr["cycle_time"]["p50_ms"] == 110 * kMinute);
  CHECK(row(itr["state_time"], "state", "registered")["p50_ms"] == 10 * kMinute);
  CHECK(row(itr["state_time"], "state", "l1_handling")["p90_ms"] == 20 * kMinute);
  std::int64_t stages = 0;
  for (const auto& s : itr["stage_time"]) stages += s["p50_ms"].get<std::int64_t>();
  CHECK(stages == 110 * kMinute);
  CHECK(row(itr["stage_time"], "stage", "Handle")["p50"] == "20m");
  CHECK(row(itr["state_time"], "state", "l2_handling")["visits"] == 0);
  CHECK(row(itr["state_time"], "state", "l2_handling")["p50_ms"].is_null());
}

TEST_CASE("an open instance is not timed in the stage it is still in", "[report]") {
  const json& ltc = period(report_of(day().db), "ltc");
  // Four leads were in ML and all left it; of the three in MO, the open one is still there.
  CHECK(row(ltc["stage_time"], "stage", "ML")["count"] == 4);
  CHECK(row(ltc["stage_time"], "stage", "MO")["count"] == 2);
  CHECK(row(ltc["stage_time"], "stage", "MCE")["count"] == 1);
}

TEST_CASE("transitions are counted per move for the diagram", "[report]") {
  const json& itr = period(report_of(day().db), "itr");
  const json& t = itr["transitions"];
  std::int64_t resolves = 0;
  for (const auto& m : t) {
    if (m["event"] == "resolve") resolves += m["count"].get<std::int64_t>();
  }
  CHECK(resolves == 4);  // twice for the reopened request, once for each of the others
}

TEST_CASE("--workflow keeps one workflow; --since after every start leaves no periods",
          "[report]") {
  report::ReportOptions only;
  only.workflow = "presales";
  json doc = report_of(day().db, only);
  REQUIRE(doc["workflows"].size() == 1);
  CHECK(period(doc, "presales")["outcomes"]["won"] == 1);

  report::ReportOptions later;
  later.since_ms = kAuditT0 + 365LL * 24 * 3'600'000;
  json empty = report_of(day().db, later);
  CHECK(empty["workflows"].size() == 3);
  for (const auto& w : empty["workflows"]) CHECK(w["periods"].empty());
}

TEST_CASE("--until before the first start selects nothing, --since at the start everything",
          "[report]") {
  report::ReportOptions before;
  before.until_ms = kAuditT0;
  json none = report_of(day().db, before);  // kept: the loop below iterates into it
  for (const auto& w : none["workflows"]) CHECK(w["periods"].empty());
  report::ReportOptions from_start;
  from_start.since_ms = kAuditT0;
  CHECK(period(report_of(day().db, from_start), "ltc")["instances"]["started"] == 4);
}

TEST_CASE("monthly periods split instances by the month they started", "[report]") {
  report::ReportOptions monthly;
  monthly.period = report::Period::kMonth;
  json doc = report_of(day().db, monthly);
  std::int64_t started = 0;
  for (const auto& w : doc["workflows"]) {
    for (const auto& p : w["periods"]) {
      CHECK(p["period"].get<std::string>().starts_with("2026-"));
      started += p["instances"]["started"].get<std::int64_t>();
    }
  }
  CHECK(started == 8);
}

TEST_CASE("since not before until and an unknown workflow are refused", "[report]") {
  auto opened = audit::AuditDb::open(day().db);
  REQUIRE(opened);
  report::ReportOptions inverted;
  inverted.since_ms = kAuditT0 + 1;
  inverted.until_ms = kAuditT0;
  auto r = report::collect(**opened, testing::audit_sections(), inverted);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kInvalidArgument);
  CHECK_THAT(r.error().message, Catch::Contains("not before --until"));
  report::ReportOptions unknown;
  unknown.workflow = "payroll";
  auto u = report::collect(**opened, testing::audit_sections(), unknown);
  REQUIRE_FALSE(u);
  CHECK_THAT(u.error().message, Catch::Contains("no workflow `payroll`"));
}
