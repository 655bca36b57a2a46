// `flowgate report` on databases written by the real binary: the shipped ITR and LTC processes
// driven step by step through `flowgate start/fire`, then the report's figures checked against
// the journeys driven (json, csv, table), the HTML page rendered in headless Chromium and compared
// with the JSON, and bad input (missing file, not a database, empty database, inverted range,
// hostile names).
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>

#include <nlohmann/json.hpp>

#include "support/process.h"
#include "support/temp_dir.h"

using flowgate::testing::ProcessResult;
using flowgate::testing::run_process;
using flowgate::testing::TempDir;
using nlohmann::json;

namespace {

const std::string kChromium = "/usr/bin/chromium";

struct Desk {
  TempDir dir;
  std::string db = dir.file("desk.db");
  std::string workflows = std::string(FLOWGATE_SOURCE_DIR) + "/workflows";

  ProcessResult run(std::vector<std::string> args) {
    args.insert(args.begin(), FLOWGATE_BINARY);
    return run_process(args);
  }
  std::string start(const std::string& workflow, const std::string& as, const std::string& data) {
    auto r = run({"start", "--db", db, "--workflows", workflows, "--format", "json", "--as", as,
                  "--data", data, workflow});
    INFO(r.err);
    REQUIRE(r.status == 0);
    return json::parse(r.out)["instance_id"];
  }
  void fire(const std::string& id, const std::string& event, const std::string& as,
            const std::string& payload = "{}") {
    auto r = run({"fire", "--db", db, "--workflows", workflows, "--format", "json", "--as", as,
                  "--payload", payload, id, event});
    INFO(id << " " << event << ": " << r.err);
    REQUIRE(r.status == 0);
  }
  // Registered, graded, classified, context looked up and dispatched to L1.
  std::string itr_at_l1() {
    std::string id = start("itr", "service_desk:sam", R"({"channel": "web"})");
    fire(id, "grade", "service_desk:sam", R"({"impact": "low", "urgency": "low"})");
    fire(id, "classify", "service_desk:sam", R"({"category": "software"})");
    fire(id, "look_up_context", "service_desk:sam",
         R"({"coverage": "in_warranty", "service_mode": "remote"})");
    fire(id, "dispatch", "service_desk:sam", R"({"assignee": "Lee at L1"})");
    return id;
  }
  void resolve(const std::string& id, const std::string& as) {
    fire(id, "resolve", as,
         R"({"resolution": "fixed", "root_cause": "cache", "prevention": "patch"})");
  }
  // ITR: solved at L1; escalated to L2 and reopened once; cancelled at registration.
  // LTC: a lead dropped after assignment.
  void drive() {
    std::string solved = itr_at_l1();
    resolve(solved, "l1_engineer:lee");
    fire(solved, "confirm_resolution", "service_desk:sam", R"({"satisfaction": 5})");

    std::string reopened = itr_at_l1();
    fire(reopened, "escalate", "l1_engineer:lee", R"({"reason": "hard", "assignee": "Kim at L2"})");
    resolve(reopened, "l2_expert:kim");
    fire(reopened, "reject_resolution", "service_desk:sam", R"({"reason": "fails again"})");
    fire(reopened, "redispatch", "service_manager:max", R"({"assignee": "Kim at L2"})");
    resolve(reopened, "l2_expert:kim");
    fire(reopened, "confirm_resolution", "service_desk:sam", R"({"satisfaction": 4})");

    std::string cancelled = start("itr", "service_desk:sam", R"({"channel": "hotline"})");
    fire(cancelled, "cancel", "service_desk:sam", R"({"reason": "raised twice"})");

    std::string lead = start("ltc", "marketing:mia", R"({"channel": "referral"})");
    fire(lead, "assign_lead", "marketing:mia", R"({"account_owner": "Cy", "region": "emea"})");
    fire(lead, "drop_lead", "AR:cy", R"({"reason": "no budget"})");
  }
  json report_json(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"report", db, "--format", "json"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = run(args);
    INFO(r.err);
    REQUIRE(r.status == 0);
    return json::parse(r.out);
  }
};

json period_of(const json& doc, const std::string& workflow) {
  for (const auto& w : doc["workflows"]) {
    if (w["workflow"] == workflow && !w["periods"].empty()) return w["periods"][0];
  }
  FAIL("no period of " << workflow);
  return nullptr;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// The DOM Chromium builds from the page (empty when Chromium is missing).
std::string rendered_dom(const std::string& html_path) {
  auto r = run_process({kChromium, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom",
                        "file://" + html_path});
  INFO(r.err);
  REQUIRE(r.status == 0);
  return r.out;
}

bool have_chromium() {
  struct stat st {};
  if (::stat(kChromium.c_str(), &st) == 0) return true;
  WARN("Chromium is not installed at " << kChromium << " (tools/setup.sh installs it)");
  return false;
}

// Attribute text as Chromium serialises it, back to the characters.
std::string unescape(std::string text) {
  for (auto [entity, c] : std::vector<std::pair<std::string, std::string>>{
           {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"}, {"&amp;", "&"}}) {
    for (std::size_t at = text.find(entity); at != std::string::npos;
         at = text.find(entity, at + c.size())) {
      text.replace(at, entity.size(), c);
    }
  }
  return text;
}

// section|workflow|period|key → value text, from the measure rows of a rendered page.
std::map<std::string, std::string> dom_measures(const std::string& dom) {
  std::regex measure(R"re(<tr class="measure" data-section="([^"]*)" data-workflow="([^"]*)" )re"
                     R"re(data-period="([^"]*)" data-key="([^"]*)" data-value="([^"]*)">)re");
  std::map<std::string, std::string> out;
  for (auto it = std::sregex_iterator(dom.begin(), dom.end(), measure);
       it != std::sregex_iterator(); ++it) {
    out[unescape((*it)[1].str() + "|" + (*it)[2].str() + "|" + (*it)[3].str() + "|" +
                 (*it)[4].str())] = unescape((*it)[5]);
  }
  return out;
}

}  // namespace

TEST_CASE("flowgate report counts the ITR and LTC journeys driven through the CLI", "[report]") {
  Desk desk;
  desk.drive();
  json doc = desk.report_json();
  json itr = period_of(doc, "itr");
  CHECK(itr["instances"] == json{{"started", 3}, {"completed", 3}, {"cancelled", 0}, {"open", 0}});
  CHECK(itr["outcomes"]["won"] == 2);
  CHECK(itr["outcomes"]["lost"] == 1);
  CHECK(itr["outcomes"]["win_rate"] == 0.6667);
  CHECK(itr["escalation"][0]["tier"] == 1);
  CHECK(itr["escalation"][0]["entered"] == 2);
  CHECK(itr["escalation"][0]["escalated"] == 1);
  CHECK(itr["escalation"][0]["rate"] == 0.5);
  CHECK(itr["escalation"][1]["entered"] == 1);
  CHECK(itr["escalation"][1]["rate"] == 0.0);
  CHECK(itr["reopen"] == json{{"eligible", 2}, {"reopened", 1}, {"reopens", 1}, {"rate", 0.5}});
  CHECK(itr["funnel"][0] ==
        json{{"stage", "Accept"}, {"entered", 3}, {"conversion", 1.0}, {"of_started", 1.0}});
  CHECK(itr["funnel"][2]["entered"] == 2);  // Handle: the cancelled request never got there
  CHECK(itr["gates"].empty());
  int sla_count = 0, sla_met = 0, ola_count = 0;
  for (const auto& clock : itr["sla"]) {
    CHECK(clock["met"].get<int>() + clock["breached"].get<int>() == clock["count"].get<int>());
    (clock["kind"] == "sla" ? sla_count : ola_count) += clock["count"].get<int>();
    if (clock["kind"] == "sla") sla_met += clock["met"].get<int>();
  }
  CHECK(sla_count > 0);
  CHECK(ola_count > 0);
  CHECK(itr["service_levels"]["sla_count"] == sla_count);
  CHECK(itr["service_levels"]["sla_met"] == sla_met);
  CHECK(itr["service_levels"]["ola_count"] == ola_count);

  json ltc = period_of(doc, "ltc");
  CHECK(ltc["instances"]["started"] == 1);
  CHECK(ltc["outcomes"]["won"] == 0);
  CHECK(ltc["outcomes"]["win_rate"] == 0.0);
  CHECK(ltc["outcomes"]["qualified_win_rate"].is_null());  // no lead became an opportunity
  CHECK(ltc["funnel"][1] ==
        json{{"stage", "MO"}, {"entered", 0}, {"conversion", 0.0}, {"of_started", 0.0}});
}

TEST_CASE("flowgate report --format csv writes one row per measure", "[report]") {
  Desk desk;
  desk.drive();
  auto r = desk.run({"report", desk.db, "--format", "csv", "--workflow", "itr"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(r.out.starts_with("section,workflow,period,key,value\n"));
  CHECK_THAT(r.out, Catch::Contains("\noutcomes,itr,all,win_rate,0.6667\n"));
  CHECK_THAT(r.out, Catch::Contains("\nreopen,itr,all,rate,0.5\n"));
  CHECK_THAT(r.out, Catch::Contains("\nescalation,itr,all,tier1.rate,0.5\n"));
  CHECK_THAT(r.out, Catch::Contains("\nfunnel,itr,all,Handle.entered,2\n"));
  CHECK(r.out.find(",ltc,") == std::string::npos);
}

TEST_CASE("flowgate report prints readable sections by default", "[report]") {
  Desk desk;
  desk.drive();
  auto r = desk.run({"report", desk.db, "--period", "month"});
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Catch::Contains("== itr (Issue to Resolution"));
  CHECK_THAT(r.out, Catch::Contains("escalation per tier"));
  CHECK_THAT(r.out, Catch::Contains("win rate 66.7%"));
  CHECK_THAT(r.out, Catch::Contains("reopen: 1 of 2"));
}

TEST_CASE("the HTML report renders in Chromium and its numbers match the JSON report",
          "[report][chromium]") {
  if (!have_chromium()) return;
  Desk desk;
  desk.drive();
  std::string page = desk.dir.file("report.html");
  auto r = desk.run({"report", desk.db, "--html", page, "--format", "csv"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  std::string dom = rendered_dom(page);
  REQUIRE_THAT(dom, Catch::Contains("flowgate report"));
  CHECK_THAT(dom, Catch::Contains("<svg"));
  auto measures = dom_measures(dom);
  // Every CSV row (the JSON flattened) is on the page with the same value.
  std::istringstream csv(r.out);
  std::string line;
  std::getline(csv, line);
  std::size_t rows = 0;
  std::map<std::string, std::string> csv_values;
  while (std::getline(csv, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string part; std::getline(ss, part, ',');) f.push_back(part);
    if (line.ends_with(",")) f.push_back("");
    REQUIRE(f.size() == 5);
    auto it = measures.find(f[0] + "|" + f[1] + "|" + f[2] + "|" + f[3]);
    INFO(line);
    REQUIRE(it != measures.end());
    CHECK(it->second == f[4]);
    csv_values[it->first] = f[4];
    ++rows;
  }
  CHECK(rows == measures.size());
  // So is every figure of the charts and summary cards.
  std::regex figure(R"re(data-section="([^"]*)" data-workflow="([^"]*)" data-period="([^"]*)" )re"
                    R"re(data-key="([^"]*)" data-value="([^"]*)")re");
  std::size_t figures = 0;
  for (auto it = std::sregex_iterator(dom.begin(), dom.end(), figure); it != std::sregex_iterator();
       ++it, ++figures) {
    std::string key = unescape((*it)[1].str() + "|" + (*it)[2].str() + "|" + (*it)[3].str() + "|" +
                               (*it)[4].str());
    INFO(key);
    REQUIRE(csv_values.count(key) == 1);
    CHECK(unescape((*it)[5]) == csv_values[key]);
  }
  CHECK(figures > rows + 20);  // the table rows, plus cards and chart bars
  // The charts carry the same figures as the JSON.
  json itr = period_of(desk.report_json(), "itr");
  CHECK_THAT(dom, Catch::Contains(R"(data-section="funnel" data-workflow="itr" data-period="all" )"
                                  R"(data-key="Handle.entered" data-value=")" +
                                  itr["funnel"][2]["entered"].dump() + "\""));
  CHECK_THAT(dom, Catch::Contains(R"(data-section="outcomes" data-workflow="itr" )"
                                  R"(data-period="all" data-key="win_rate" data-value="0.6667")"));
  CHECK_THAT(dom, Catch::Contains(R"(data-state="l2_handling" data-visits="2")"));
}

TEST_CASE("hostile names from the database stay text in the rendered page", "[report][chromium]") {
  if (!have_chromium()) return;
  Desk desk;
  desk.workflows = desk.dir.file("hostile");
  std::filesystem::create_directories(desk.workflows);
  std::filesystem::copy_file(
      std::string(FLOWGATE_SOURCE_DIR) + "/tests/fixtures/report/hostile.toml",
      desk.workflows + "/hostile.toml");
  std::string id = desk.start("hostile", "owner:eve", "{}");
  desk.fire(id, "go", "owner:eve", R"({"note": "<script>alert(9)</script>"})");
  desk.fire(id, "finish", "owner:eve");
  std::string page = desk.dir.file("hostile.html");
  REQUIRE(desk.run({"report", desk.db, "--html", page}).status == 0);
  std::string dom = rendered_dom(page);
  CHECK(dom.find("<script") == std::string::npos);
  CHECK(dom.find("<img") == std::string::npos);
  CHECK_THAT(dom, Catch::Contains("&lt;img src=x onerror=alert(1)&gt;"));
  CHECK_THAT(dom, Catch::Contains("data-state=\"middle\" data-visits=\"1\""));
}

TEST_CASE("a missing database or a file that is not one is refused and left alone", "[report]") {
  Desk desk;
  auto missing = desk.run({"report", desk.dir.file("missing.db")});
  CHECK(missing.status == 3);
  CHECK_THAT(missing.err, Catch::Contains("does not exist"));
  CHECK_FALSE(std::filesystem::exists(desk.dir.file("missing.db")));
  std::string notes = desk.dir.file("notes.txt");
  std::ofstream(notes) << "not a database";
  auto foreign = desk.run({"report", notes, "--html", desk.dir.file("x.html")});
  CHECK(foreign.status == 3);
  CHECK_THAT(foreign.err, Catch::Contains("not_a_database"));
  CHECK(slurp(notes) == "not a database");
  CHECK_FALSE(std::filesystem::exists(desk.dir.file("x.html")));
  CHECK(desk.run({"report"}).status == 2);
  desk.drive();
  auto unwritable = desk.run({"report", desk.db, "--html", desk.dir.file("no/such/dir/r.html")});
  CHECK(unwritable.status == 3);
  CHECK_THAT(unwritable.err, Catch::Contains("cannot write"));
}

TEST_CASE("an empty database gives an empty report, not an error", "[report]") {
  Desk desk;
  desk.workflows = desk.dir.file("none");
  std::filesystem::create_directories(desk.workflows);
  // A start that is refused still creates the database, with no definitions.
  REQUIRE(desk.run({"start", "--db", desk.db, "--workflows", desk.workflows, "ltc"}).status == 1);
  json doc = desk.report_json();
  CHECK(doc["workflows"].empty());
  auto table = desk.run({"report", desk.db});
  CHECK(table.status == 0);
  CHECK_THAT(table.out, Catch::Contains("no workflows in the database"));
}

TEST_CASE("--since after --until is a usage error; an unknown workflow a refusal", "[report]") {
  Desk desk;
  desk.drive();
  auto inverted = desk.run({"report", desk.db, "--since", "2026-05-01", "--until", "2026-04-01"});
  CHECK(inverted.status == 2);
  CHECK_THAT(inverted.err, Catch::Contains("is not before --until"));
  auto bad_date = desk.run({"report", desk.db, "--since", "yesterday"});
  CHECK(bad_date.status == 2);
  auto unknown = desk.run({"report", desk.db, "--workflow", "payroll"});
  CHECK(unknown.status == 1);
  CHECK_THAT(unknown.err, Catch::Contains("no workflow `payroll`"));
  CHECK(desk.run({"report", desk.db, "--period", "fortnight"}).status == 2);
  // A range after every start: the workflows are listed, with no periods.
  json later = desk.report_json({"--since", "2999-01-01"});
  for (const auto& w : later["workflows"]) CHECK(w["periods"].empty());
}

TEST_CASE("an edited event that is not JSON, or has a field of the wrong type, is a clear error",
          "[report]") {
  Desk desk;
  desk.drive();
  std::string copy = desk.dir.file("edited.db");
  std::filesystem::copy_file(desk.db, copy);
  auto sql = [&](const std::string& db, const std::string& statement) {
    auto r = run_process({"/usr/bin/sqlite3", db, statement});
    INFO(r.err);
    REQUIRE(r.status == 0);
  };
  sql(desk.db,
      "UPDATE events SET body = '{not json' WHERE position = (SELECT min(position) FROM events "
      "WHERE type = 'transitioned')");
  auto broken = desk.run({"report", desk.db});
  CHECK(broken.status == 3);
  CHECK_THAT(broken.err, Catch::Contains("is not JSON"));
  sql(copy,
      "UPDATE events SET body = json_set(body, '$.met', 'yes') WHERE position = (SELECT "
      "min(position) FROM events WHERE type = 'sla.completed')");
  auto mistyped = desk.run({"report", copy, "--format", "json"});
  CHECK(mistyped.status == 3);
  CHECK_THAT(mistyped.err, Catch::Contains("a sla.* event of workflow itr has a malformed field"));
}

TEST_CASE("gate figures: one lead qualified at its review, one killed", "[report]") {
  Desk desk;
  auto lead = [&](const std::string& owner) {
    std::string id = desk.start("ltc", "marketing:mia", R"({"channel": "web"})");
    desk.fire(id, "assign_lead", "marketing:mia",
              R"({"account_owner": ")" + owner + R"(", "region": "emea"})");
    desk.fire(id, "contact_lead", "AR:" + owner,
              R"({"budget_confirmed": true, "estimated_value": "90000"})");
    desk.fire(id, "qualify_lead", "AR:" + owner, R"({"expected_close": "2026-12-31"})");
    return id;
  };
  auto vote = [&](const std::string& id, std::vector<std::string> args) {
    std::vector<std::string> all = {"gate",
                                    "vote",
                                    "--db",
                                    desk.db,
                                    "--workflows",
                                    desk.workflows,
                                    "--as",
                                    "sales_director:dora",
                                    id};
    all.insert(all.end(), args.begin(), args.end());
    auto r = desk.run(all);
    INFO(r.err);
    REQUIRE(r.status == 0);
  };
  vote(lead("ana"),
       {"--decision", "go", "--answers", R"({"real_need": true, "buying_authority": true})",
        "--scores", R"({"budget_fit": 4, "timing": 3})"});
  vote(lead("bo"), {"--decision", "kill", "--reason", "no authority", "--payload",
                    R"({"reason": "no buying authority"})"});
  json ltc = period_of(desk.report_json(), "ltc");
  REQUIRE(ltc["gates"].size() == 1);
  const json& g = ltc["gates"][0];
  CHECK(g["gate"] == "qualify_lead");
  CHECK(g["rounds"] == 2);
  CHECK(g["decided"] == 2);
  CHECK(g["go"] == 1);
  CHECK(g["kill"] == 1);
  CHECK(g["pass_rate"] == 0.5);
  // The killed lead ended in a loss terminal; the qualified one is an open opportunity.
  CHECK(ltc["instances"]["completed"] == 1);
  CHECK(ltc["funnel"][1]["entered"] == 1);
  CHECK(ltc["outcomes"]["won"] == 0);
  CHECK(ltc["outcomes"]["lost"] == 1);
}
