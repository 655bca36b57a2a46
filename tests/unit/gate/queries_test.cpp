// gate.pending / gate.show over instance views, the per-gate report, and the diagram notes.
#include <catch2/catch.hpp>

#include "gate_test_support.h"
#include "plugins/gate/graph_notes.h"
#include "plugins/gate/queries.h"
#include "plugins/gate/report.h"

using namespace flowgate;
using namespace flowgate::gate;
using namespace flowgate::gate::testing;
using nlohmann::json;

namespace {

// The view Engine::get returns: the core fields plus the plugin's part.
json view_of(const Journey& j, const std::string& id) {
  json v = j.view();
  v["instance_id"] = id;
  v["workflow"] = j.workflow().id;
  v["state"] = j.state().state;
  v["lifecycle"] = std::string(lifecycle_name(j.state().lifecycle));
  return v;
}

std::vector<EventRecord> records_of(const Journey& j, const std::string& id) {
  std::vector<EventRecord> out;
  std::int64_t seq = 0;
  for (const Recorded& r : j.log()) {
    EventRecord e;
    e.instance_id = id;
    e.seq = ++seq;
    e.at_ms = r.at_ms;
    e.type = r.event.type;
    e.body = r.event.body;
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

TEST_CASE("pending lists the open rounds waiting for a gatekeeper's vote", "[gate][queries]") {
  Journey a = submitted();
  Journey b = submitted();
  REQUIRE(b.vote(sam, passing_go()));
  Journey c(load_ok(deal_text()));
  REQUIRE(c.start());
  std::vector<json> views{view_of(a, "deal-1"), view_of(b, "deal-2"), view_of(c, "deal-3")};

  json for_sam = pending_reviews(views, sam);
  REQUIRE(for_sam.size() == 1);  // deal-2 has his vote already; deal-3 has no round
  CHECK(for_sam[0]["instance_id"] == "deal-1");
  CHECK(for_sam[0]["gate"] == "bid");
  CHECK(for_sam[0]["round"] == 1);
  CHECK(for_sam[0]["your_seats"] == json{"sales_director"});
  CHECK(for_sam[0]["transition"]["event"] == "authorise");
  CHECK(for_sam[0]["submitter"] == "ann");

  CHECK(pending_reviews(views, pat).size() == 2);
  CHECK(pending_reviews(views, ann).empty());  // not a gatekeeper
  Actor submitter_as_gatekeeper = person("ann", {"AR", "finance"});
  CHECK(pending_reviews(views, submitter_as_gatekeeper).empty());  // her own submissions
}

TEST_CASE("pending skips a seat someone else already filled", "[gate][queries]") {
  Journey j = submitted();
  REQUIRE(j.vote(sam, passing_go()));
  std::vector<json> views{view_of(j, "deal-1")};
  CHECK(pending_reviews(views, person("sid", {"sales_director"})).empty());
  CHECK(pending_reviews(views, person("sid", {"sales_director", "finance"}))[0]["your_seats"] ==
        json{"finance"});
}

TEST_CASE("show gives the open round, the round counts and the last closed round",
          "[gate][queries]") {
  Journey j = submitted();
  json before = gate_show(view_of(j, "deal-1"));
  CHECK(before["open"]["round"] == 1);
  CHECK(before["lifecycle"] == "awaiting_gate");
  CHECK_FALSE(before.contains("last"));
  REQUIRE(j.vote(sam, passing_go()));
  REQUIRE(j.vote(fay, passing_go()));
  json after = gate_show(view_of(j, "deal-1"));
  CHECK(after["open"].is_null());
  CHECK(after["rounds"] == json{{"bid", 1}});
  CHECK(after["last"]["decision"] == "go");
  CHECK(after["last"]["votes"] == 2);
  CHECK(after["last"]["opened_at"] == "2026-03-01T11:00:00Z");
  CHECK(after["last"]["closed_at"] == "2026-03-01T13:00:00Z");
  json none = gate_show(json{{"instance_id", "x-1"}, {"state", "draft"}});
  CHECK(none["open"].is_null());
}

TEST_CASE("the report counts rounds and outcomes, the pass rate and the median time to decision",
          "[gate][report]") {
  Journey go = submitted();  // opened at 11:00, decided at 13:00
  REQUIRE(go.vote(sam, passing_go()));
  REQUIRE(go.vote(pat, passing_go()));
  Journey held = submitted();  // hold at 13:00, then go in round 2 at 15:00
  REQUIRE(held.vote(sam, {{"decision", "hold"}, {"reason", "later"}}));
  REQUIRE(held.vote(pat, {{"decision", "hold"}, {"reason", "later"}}));
  REQUIRE(held.vote(sam, passing_go()));
  REQUIRE(held.vote(fay, passing_go()));
  Journey recalled = submitted();
  REQUIRE(recalled.recall(ann));
  Journey open = submitted();

  std::vector<EventRecord> all;
  for (auto [j, id] :
       {std::pair{&go, "deal-1"}, {&held, "deal-2"}, {&recalled, "deal-3"}, {&open, "deal-4"}}) {
    auto r = records_of(*j, id);
    all.insert(all.end(), r.begin(), r.end());
  }
  auto report = gate_report(all);
  REQUIRE(report.size() == 1);
  const GateFigures& f = report[0];
  CHECK(f.workflow == "deal");
  CHECK(f.gate == "bid");
  CHECK(f.rounds == 5);
  CHECK(f.decided == 3);
  CHECK(f.go == 2);
  CHECK(f.hold == 1);
  CHECK(f.recalled == 1);
  CHECK(f.cancelled == 0);
  CHECK(f.open == 1);
  REQUIRE(f.pass_rate);
  CHECK(*f.pass_rate == Approx(2.0 / 3.0));
  REQUIRE(f.median_decision_ms);
  CHECK(*f.median_decision_ms == 2 * kHour);
  json j = f.to_json();
  CHECK(j["pass_rate"] == 0.6667);
  CHECK(j["median_time_to_decision"] == "2h");
}

TEST_CASE("the report has no pass rate or median before any decision", "[gate][report]") {
  Journey j = submitted();
  auto report = gate_report(records_of(j, "deal-1"));
  REQUIRE(report.size() == 1);
  CHECK_FALSE(report[0].pass_rate);
  json out = report[0].to_json();
  CHECK(out["pass_rate"].is_null());
  CHECK(out["median_time_to_decision"].is_null());
}

TEST_CASE("diagram notes name the reviewers on the gated transition and mark its exits",
          "[gate][graph]") {
  auto wf = load_ok(deal_text());
  GraphAnnotations notes = gate_graph_notes(*wf);
  CHECK(notes.transition_notes.at(1) ==
        std::vector<std::string>{"review: sales_director, presales_lead, finance (2 of 3)"});
  CHECK(notes.transition_notes.at(2) == std::vector<std::string>{"kill of gate bid"});
  CHECK(notes.transition_notes.at(3) == std::vector<std::string>{"recycle of gate bid"});
  std::string mermaid = to_mermaid(*wf, notes);
  CHECK(mermaid.find("kill of gate bid") != std::string::npos);
}

TEST_CASE("the gate hooks annotate diagrams with the gate notes", "[gate][graph]") {
  auto wf = load_ok(deal_text());
  GraphAnnotations notes;
  GateHooks().annotate_graph(*wf, notes);
  CHECK(notes.transition_notes == gate_graph_notes(*wf).transition_notes);
}

TEST_CASE("diagram notes show the weights of a weighted gate and a committee's seats",
          "[gate][graph]") {
  auto weighted = load_ok(replaced(deal_text(), "quorum = 2",
                                   "quorum = \"weighted\"\nweights = { sales_director = 2 }"));
  CHECK(gate_graph_notes(*weighted).transition_notes.at(1) ==
        std::vector<std::string>{
            "review: sales_director, presales_lead, finance (weighted 2/1/1, pass 3 of 4)"});
  auto committee = load_ok(replaced(deal_text(), "quorum = 2",
                                    "seats = { finance = 3 }\nquorum = 2\nchair = \"finance\""));
  CHECK(gate_graph_notes(*committee).transition_notes.at(1) ==
        std::vector<std::string>{
            "review: sales_director, presales_lead, finance x3 (chair) (2 of 5)"});
}
