// The presales measures: the win rate of scored deals against their score (calibration per score
// band) and customer satisfaction, over hand-written LTC histories (each deal's score and outcome
// chosen, so every band's figures are counted by hand) and over engine-driven journeys.
#include <optional>

#include <catch2/catch.hpp>

#include "audit/audit_db.h"
#include "definition/loader.h"
#include "report/render.h"
#include "report/report.h"
#include "support/temp_dir.h"
#include "unit/audit/audit_plugins.h"
#include "unit/audit/history_builder.h"
#include "unit/report/shipped.h"

using namespace flowgate;
using flowgate::testing::shipped;
using nlohmann::json;

namespace {

// LTC deals written event by event: a start, the final quote that records the score (as the
// engine writes a decimal change: its text), and the ending.
struct Deals {
  std::vector<EventRecord> events;
  int next = 0;

  EventRecord event(const std::string& id, const std::string& type, json body) {
    EventRecord e;
    e.instance_id = id;
    e.type = type;
    e.at_ms = static_cast<std::int64_t>(events.size()) * 60'000;
    e.body = std::move(body);
    return e;
  }
  // `end`: a terminal state, "cancelled", or "" for a deal still open.
  std::string deal(std::optional<std::string> score, const std::string& end) {
    std::string id = "ltc-" + std::to_string(++next);
    events.push_back(event(id, "instance_started", {{"state", "lead_captured"}}));
    json changes = json::object();
    if (score) changes["win_probability"] = {{"from", nullptr}, {"to", *score}};
    events.push_back(event(id, "transitioned",
                           {{"from", "final_quote"},
                            {"to", "purchase_list"},
                            {"event", "send_final_quote"},
                            {"changes", changes}}));
    if (end == "cancelled") {
      events.push_back(event(id, "cancelled", json::object()));
    } else if (!end.empty()) {
      events.push_back(
          event(id, "transitioned", {{"from", "purchase_list"}, {"to", end}, {"event", "end"}}));
      events.push_back(event(id, "completed", {{"state", end}}));
    }
    return id;
  }
  void rescore(const std::string& id, const std::string& score) {
    events.push_back(
        event(id, "data_changed", {{"changes", {{"win_probability", {{"to", score}}}}}}));
  }
  json calibration() const {
    return report::core_measures(shipped("ltc"), events).at("calibration");
  }
};

const json& band(const json& bands, const std::string& label) {
  for (const auto& b : bands) {
    if (b["band"] == label) return b;
  }
  FAIL("no band " << label << " in " << bands.dump());
  static const json none;
  return none;
}

}  // namespace

TEST_CASE("scored deals are counted per score band with their wins", "[report][presales]") {
  Deals d;
  d.deal("0.1", "opportunity_lost");
  d.deal("0.15", "cancelled");       // a cancelled deal is lost
  d.deal("0.2", "contract_closed");  // a band's lower bound belongs to it
  d.deal("0.35", "opportunity_lost");
  d.deal("0.45", "contract_closed");
  d.deal("0.5", "contract_closed");
  d.deal("0.55", "opportunity_withdrawn");
  d.deal("0.7", "");  // still open: no outcome yet
  d.deal("0.9", "contract_closed");
  d.deal("1", "contract_closed");  // a certain win belongs to the top band
  const json bands = d.calibration();
  REQUIRE(bands.size() == 5);

  CHECK(band(bands, "0.0-0.2") == json({{"band", "0.0-0.2"},
                                        {"count", 2},
                                        {"won", 0},
                                        {"win_rate", 0.0},
                                        {"mean_score", 0.125},
                                        {"open", 0}}));
  CHECK(band(bands, "0.2-0.4")["count"] == 2);
  CHECK(band(bands, "0.2-0.4")["won"] == 1);
  CHECK(band(bands, "0.2-0.4")["win_rate"] == 0.5);
  CHECK(band(bands, "0.2-0.4")["mean_score"] == 0.275);
  CHECK(band(bands, "0.4-0.6")["count"] == 3);
  CHECK(band(bands, "0.4-0.6")["won"] == 2);
  CHECK(band(bands, "0.4-0.6")["win_rate"] == 0.6667);
  CHECK(band(bands, "0.4-0.6")["mean_score"] == 0.5);
  CHECK(band(bands, "0.6-0.8")["count"] == 0);
  CHECK(band(bands, "0.6-0.8")["open"] == 1);
  CHECK(band(bands, "0.6-0.8")["win_rate"].is_null());
  CHECK(band(bands, "0.8-1.0")["count"] == 2);
  CHECK(band(bands, "0.8-1.0")["won"] == 2);
  CHECK(band(bands, "0.8-1.0")["win_rate"] == 1.0);
  CHECK(band(bands, "0.8-1.0")["mean_score"] == 0.95);
}

TEST_CASE("a deal without a score is not counted in any band", "[report][presales]") {
  Deals d;
  d.deal(std::nullopt, "contract_closed");
  d.deal(std::nullopt, "opportunity_lost");
  d.deal("0.3", "contract_closed");
  const json bands = d.calibration();
  std::int64_t counted = 0, won = 0;
  for (const auto& b : bands) {
    counted += b["count"].get<std::int64_t>() + b["open"].get<std::int64_t>();
    won += b["won"].get<std::int64_t>();
  }
  CHECK(counted == 1);
  CHECK(won == 1);
  CHECK(band(bands, "0.2-0.4")["win_rate"] == 1.0);
}

TEST_CASE("a deal's last score is the one its outcome is held against", "[report][presales]") {
  Deals d;
  std::string id = d.deal("0.9", "");
  d.rescore(id, "0.3");
  d.events.push_back(d.event(id, "completed", {{"state", "opportunity_lost"}}));
  const json bands = d.calibration();
  CHECK(band(bands, "0.8-1.0")["count"] == 0);
  CHECK(band(bands, "0.2-0.4")["count"] == 1);
  CHECK(band(bands, "0.2-0.4")["mean_score"] == 0.3);
}

TEST_CASE("a score outside 0..1 or not a number is not counted", "[report][presales]") {
  Deals d;
  d.deal("1.5", "contract_closed");
  d.deal("high", "contract_closed");
  for (const auto& b : d.calibration()) CHECK(b["count"] == 0);
}

TEST_CASE("an empty period gives empty bands, not a division by zero", "[report][presales]") {
  const json measures = report::core_measures(shipped("ltc"), std::span<const EventRecord>());
  const json& bands = measures.at("calibration");
  REQUIRE(bands.size() == 5);
  for (const auto& b : bands) {
    CHECK(b["count"] == 0);
    CHECK(b["won"] == 0);
    CHECK(b["open"] == 0);
    CHECK(b["win_rate"].is_null());
    CHECK(b["mean_score"].is_null());
  }
}

TEST_CASE("only workflows that record a score or a satisfaction get those measures",
          "[report][presales]") {
  const std::span<const EventRecord> none;
  CHECK(report::core_measures(shipped("ltc"), none).contains("calibration"));
  CHECK(report::core_measures(shipped("presales"), none).contains("calibration"));
  CHECK_FALSE(report::core_measures(shipped("itr"), none).contains("calibration"));
  CHECK(report::core_measures(shipped("itr"), none).contains("satisfaction"));
  CHECK_FALSE(report::core_measures(shipped("ltc"), none).contains("satisfaction"));
  CHECK_FALSE(report::core_measures(shipped("presales"), none).contains("satisfaction"));
}

TEST_CASE("the score and the satisfaction are read from a database the engine wrote",
          "[report][presales]") {
  flowgate::testing::TempDir dir;
  const std::string db = dir.file("scored.db");
  {
    flowgate::testing::HistoryBuilder b(db);
    b.ltc_won();       // scored 0.7 with the final quote, then won
    b.ltc_lost();      // lost before a final quote: no score
    b.presales();      // scored 0.65 at close, then archived
    b.itr_reopened();  // satisfaction 4
    b.itr_simple();    // satisfaction 5
    b.close();
  }
  auto opened = audit::AuditDb::open(db);
  REQUIRE(opened);
  report::ReportOptions options;
  auto data = report::collect(**opened, testing::audit_sections(), options);
  REQUIRE(data);
  const json doc = report::to_document(*data, options, db, nullptr);
  std::map<std::string, json> periods;
  for (const auto& w : doc["workflows"]) {
    REQUIRE(w["periods"].size() == 1);
    periods[w["workflow"]] = w["periods"][0];
  }
  const json& ltc = periods.at("ltc")["calibration"];
  CHECK(band(ltc, "0.6-0.8")["count"] == 1);
  CHECK(band(ltc, "0.6-0.8")["won"] == 1);
  CHECK(band(ltc, "0.6-0.8")["mean_score"] == 0.7);
  std::int64_t ltc_scored = 0;
  for (const auto& b : ltc) ltc_scored += b["count"].get<std::int64_t>();
  CHECK(ltc_scored == 1);
  CHECK(band(periods.at("presales")["calibration"], "0.6-0.8")["mean_score"] == 0.65);
  CHECK(periods.at("itr")["satisfaction"] == json({{"count", 2}, {"mean", 4.5}}));
}

TEST_CASE("the calibration is shown in the table, the CSV and the page", "[report][presales]") {
  Deals d;
  d.deal("0.45", "contract_closed");
  d.deal("0.5", "contract_closed");
  d.deal("0.55", "opportunity_lost");
  report::ReportData data;
  data.workflows.push_back(shipped("ltc"));
  report::Bucket b;
  b.workflow = "ltc";
  b.period = report::period_of(0, report::Period::kAll);
  for (auto& e : d.events) b.add(std::move(e));
  data.buckets.push_back(std::move(b));
  const json doc = report::to_document(data, {}, "deals.db", nullptr);

  const std::string csv = report::render_csv(doc);
  CHECK_THAT(csv, Catch::Contains("calibration,ltc,all,0.4-0.6.count,3\n"));
  CHECK_THAT(csv, Catch::Contains("calibration,ltc,all,0.4-0.6.win_rate,0.6667\n"));
  CHECK_THAT(csv, Catch::Contains("calibration,ltc,all,0.8-1.0.win_rate,\n"));
  const std::string table = report::render_table(doc);
  CHECK_THAT(table, Catch::Contains("win rate of scored deals against their score"));
  CHECK_THAT(table, Catch::Contains("score 0.4-0.6"));
  const std::string page = report::render_html(doc);
  CHECK_THAT(page, Catch::Contains(R"(data-section="calibration" data-workflow="ltc" )"
                                   R"(data-period="all" data-key="0.4-0.6.win_rate" )"
                                   R"(data-value="0.6667")"));
}
