// The report written for people and tools: CSV rows, the text table and the HTML page, with names
// from the database that try to break out of HTML, SVG and CSV
// (tests/fixtures/report/hostile.toml).
#include <catch2/catch.hpp>

#include <regex>

#include "definition/loader.h"
#include "report/render.h"
#include "report/report.h"
#include "unit/audit/audit_plugins.h"

using namespace flowgate;
using nlohmann::json;

namespace {

EventRecord event(std::int64_t seq, std::int64_t at_ms, std::string type, json body,
                  std::string instance = "hostile-1") {
  EventRecord e;
  e.instance_id = std::move(instance);
  e.seq = seq;
  e.position = seq;
  e.at_ms = at_ms;
  e.type = std::move(type);
  e.body = std::move(body);
  e.actor = {{"principal", "<b>mallory</b>"}, {"roles", json::array()}};
  return e;
}

// One hostile instance that went start → middle → done, plus a hostile SLA row.
json hostile_document() {
  auto loaded =
      load_workflow_file(std::string(FLOWGATE_SOURCE_DIR) + "/tests/fixtures/report/hostile.toml",
                         testing::audit_sections());
  REQUIRE(loaded.ok());
  report::ReportData data;
  data.workflows.push_back(report::process_shape(*loaded.workflow));
  report::Bucket b;
  b.workflow = "hostile";
  b.period = report::period_of(0, report::Period::kAll);
  std::vector<EventRecord> events = {
      event(1, 0, "instance_started", {{"workflow", "hostile"}, {"state", "start"}}),
      event(2, 60'000, "transitioned",
            {{"from", "start"},
             {"to", "middle"},
             {"event", "go"},
             {"payload", {{"note", "<script>alert(3)</script>"}}}}),
      event(3, 180'000, "transitioned", {{"from", "middle"}, {"to", "done"}, {"event", "finish"}}),
      event(4, 180'000, "completed", {{"state", "done"}}),
      event(1, 0, "instance_started", {{"workflow", "hostile"}, {"state", "start"}}, "hostile-2"),
      event(2, 30'000, "transitioned", {{"from", "start"}, {"to", "gave_up"}, {"event", "give_up"}},
            "hostile-2"),
      event(3, 30'000, "completed", {{"state", "gave_up"}}, "hostile-2")};
  for (auto& e : events) b.add(std::move(e));
  data.buckets.push_back(std::move(b));
  data.warnings.push_back("<script>alert('warning')</script>");
  report::ReportOptions options;
  return report::to_document(data, options, "<evil>.db", [](const report::Bucket&, json& p) {
    p["sla"] = json::array({{{"clock", "<script>alert('clock')</script>"},
                             {"kind", "sla\"><x>"},
                             {"count", 2},
                             {"met", 1},
                             {"breached", 1},
                             {"on_time_rate", 0.5}}});
  });
}

}  // namespace

TEST_CASE("html_escape turns markup into text", "[report]") {
  CHECK(report::html_escape(R"(<a href="x" title='y'>&</a>)") ==
        "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;");
}

TEST_CASE("hostile names reach the HTML page only as text", "[report]") {
  std::string html = report::render_html(hostile_document());
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("<img") == std::string::npos);
  CHECK(html.find("<x>") == std::string::npos);
  CHECK(html.find("<b>") == std::string::npos);
  CHECK(html.find("]]>") == std::string::npos);
  CHECK_THAT(html, Catch::Contains("&lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt;"));
  CHECK_THAT(html, Catch::Contains("&lt;img src=x onerror=alert(1)&gt;"));
  CHECK_THAT(html, Catch::Contains("&lt;script&gt;alert(&#39;warning&#39;)&lt;/script&gt;"));
  // Only our own markup: the page has no script, no external reference.
  CHECK(html.find("src=\"") == std::string::npos);
  CHECK(html.find("href=") == std::string::npos);
}

TEST_CASE("the HTML page carries every measure of the CSV in data- attributes", "[report]") {
  json doc = hostile_document();
  std::string html = report::render_html(doc);
  auto rows = report::flatten(doc);
  REQUIRE_FALSE(rows.empty());
  std::regex measure(R"re(<tr class="measure" data-section="([^"]*)" data-workflow="([^"]*)" )re"
                     R"re(data-period="([^"]*)" data-key="([^"]*)" data-value="([^"]*)">)re");
  std::size_t i = 0;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), measure);
       it != std::sregex_iterator(); ++it, ++i) {
    REQUIRE(i < rows.size());
    CHECK((*it)[1] == report::html_escape(rows[i].section));
    CHECK((*it)[4] == report::html_escape(rows[i].key));
    CHECK((*it)[5] == (rows[i].value.is_null() ? "" : rows[i].value.dump()));
  }
  CHECK(i == rows.size());
}

TEST_CASE("hostile stage names are quoted in CSV", "[report]") {
  std::string csv = report::render_csv(hostile_document());
  CHECK(csv.starts_with("section,workflow,period,key,value\n"));
  CHECK_THAT(csv, Catch::Contains("funnel,hostile,all,\"<b>stage, one</b>.entered\",2\n"));
  CHECK_THAT(csv,
             Catch::Contains("funnel,hostile,all,\"Stage \"\"two\"\"\nnext line.entered\",1\n"));
}

TEST_CASE("the hostile process: one of two journeys won, each stage timed", "[report]") {
  json doc = hostile_document();
  const json& p = doc["workflows"][0]["periods"][0];
  CHECK(p["outcomes"]["won"] == 1);
  CHECK(p["outcomes"]["win_rate"] == 0.5);
  CHECK(p["cycle_time"]["p90_ms"] == 180'000);
  CHECK(p["stage_time"][0]["p90_ms"] == 60'000);
  CHECK(p["stage_time"][1]["p50_ms"] == 120'000);
}

TEST_CASE("an empty report says so in every format", "[report]") {
  report::ReportData nothing;
  json doc = report::to_document(nothing, {}, "empty.db", nullptr);
  CHECK(doc["workflows"].empty());
  CHECK_THAT(report::render_table(doc), Catch::Contains("no workflows in the database"));
  CHECK(report::render_csv(doc) == "section,workflow,period,key,value\n");
  CHECK_THAT(report::render_html(doc), Catch::Contains("No workflows in the database."));
}

TEST_CASE("control characters in names are shown escaped in the table", "[report]") {
  std::string table = report::render_table(hostile_document());
  CHECK_THAT(table, Catch::Contains("Stage \"two\"\\x0anext line"));
  CHECK(table.find("\"two\"\nnext") == std::string::npos);
}

TEST_CASE("a document with missing sections still renders", "[report]") {
  json doc = {{"workflows",
               json::array({{{"workflow", "x"}, {"periods", json::array({json::object()})}}})}};
  CHECK_THAT(report::render_table(doc), Catch::Contains("== x"));
  CHECK_THAT(report::render_html(doc), Catch::Contains("</html>"));
  CHECK(report::render_csv(doc) == "section,workflow,period,key,value\n");
}
