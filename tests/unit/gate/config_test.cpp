// [gates.<id>] sections: what compiles, and each rule the section handler reports.
#include <catch2/catch.hpp>

#include <algorithm>

#include "gate_test_support.h"

using namespace flowgate;
using namespace flowgate::gate;
using namespace flowgate::gate::testing;

namespace {

bool has_rule(const LoadResult& r, const std::string& rule) {
  auto rules = rules_of(r);
  return std::find(rules.begin(), rules.end(), rule) != rules.end();
}

std::string message_of(const LoadResult& r, const std::string& rule) {
  for (const auto& d : r.diagnostics.items()) {
    if (d.rule == rule) return d.message + " | " + d.hint;
  }
  return {};
}

}  // namespace

TEST_CASE("a gate section compiles to seats, quorum, exits and criteria in file order", "[gate]") {
  auto wf = load_ok(deal_text());
  const GateConfig* config = gate_config(*wf);
  REQUIRE(config);
  REQUIRE(config->gates.size() == 1);
  const GateDef& g = config->gates[0];
  CHECK(g.id == "bid");
  CHECK(g.name == "Authorise to bid");
  REQUIRE(g.seats.size() == 3);
  CHECK(g.seats[0].role == "sales_director");
  CHECK(g.quorum == QuorumRule::kCount);
  CHECK(g.quorum_count == 2);
  CHECK(g.kill_event == "decline");
  CHECK(g.recycle_event == "rework");
  CHECK(g.pass_score == 6000);
  REQUIRE(g.must_meet.size() == 2);
  CHECK(g.must_meet[0].id == "budget_confirmed");  // file order, not key order
  CHECK(g.must_meet[1].id == "decision_maker");
  REQUIRE(g.should_meet.size() == 2);
  CHECK(g.should_meet[0].id == "competitive_position");
  CHECK(g.should_meet[0].weight == 2);
  CHECK(g.should_meet[1].min == 1);
  CHECK(g.should_meet[1].max == 5);
  REQUIRE(g.transitions.size() == 1);
  CHECK(wf->transitions[g.transitions[0]].event == "authorise");
}

TEST_CASE("weighted quorum takes seat weights and defaults pass_weight to a majority", "[gate]") {
  auto wf = load_ok(replaced(deal_text(), "quorum = 2",
                             "quorum = \"weighted\"\nweights = { sales_director = 3 }"));
  const GateDef& g = gate_config(*wf)->gates[0];
  CHECK(g.quorum == QuorumRule::kWeighted);
  CHECK(g.seats[0].weight == 3);
  CHECK(g.seats[1].weight == 1);
  CHECK(g.total_weight() == 5);
  CHECK(g.pass_weight == 3);
}

TEST_CASE("a transition naming an undeclared gate is GATE-UNDECLARED at its gate key", "[gate]") {
  auto r = load_text(replaced(deal_text(), "gate = \"bid\"", "gate = \"bids\""));
  REQUIRE_FALSE(r.ok());
  CHECK(has_rule(r, rule::kGateUndeclared));
  CHECK(message_of(r, rule::kGateUndeclared).find("did you mean 'bid'?") != std::string::npos);
  for (const auto& d : r.diagnostics.items()) {
    if (d.rule == rule::kGateUndeclared) CHECK(d.location.line == 68);
  }
}

TEST_CASE("a declared gate no transition names is GATE-UNUSED", "[gate]") {
  auto r =
      load_text(deal_text() + "\n[gates.spare]\ngatekeepers = [\"finance\"]\nquorum = \"any\"\n");
  REQUIRE_FALSE(r.ok());
  CHECK(rules_of(r) == std::vector<std::string>{rule::kGateUnused});
}

TEST_CASE("a gate key that does not exist is reported with a suggestion", "[gate]") {
  auto r = load_text(replaced(deal_text(), "quorum = 2", "quorum = 2\nquroum = 3"));
  REQUIRE_FALSE(r.ok());
  CHECK(has_rule(r, rule::kGateKey));
  CHECK(message_of(r, rule::kGateKey).find("did you mean 'quorum'?") != std::string::npos);
}

TEST_CASE("quorum must be any, all, weighted or a count within the seats", "[gate]") {
  CHECK(has_rule(load_text(replaced(deal_text(), "quorum = 2", "quorum = 4")), rule::kGateQuorum));
  CHECK(has_rule(load_text(replaced(deal_text(), "quorum = 2", "quorum = 0")), rule::kGateQuorum));
  CHECK(has_rule(load_text(replaced(deal_text(), "quorum = 2", "quorum = \"most\"")),
                 rule::kGateQuorum));
  CHECK(has_rule(
      load_text(replaced(deal_text(), "quorum = 2", "quorum = 2\nweights = { finance = 2 }")),
      rule::kGateQuorum));
  CHECK(has_rule(
      load_text(replaced(deal_text(), "quorum = 2", "quorum = \"weighted\"\npass_weight = 9")),
      rule::kGateQuorum));
}

TEST_CASE("gatekeepers and the chair must be declared roles holding a seat", "[gate]") {
  auto undeclared = load_text(replaced(deal_text(), "\"finance\"]\nquorum", "\"financ\"]\nquorum"));
  CHECK(has_rule(undeclared, rule::kGateRole));
  CHECK(message_of(undeclared, rule::kGateRole).find("did you mean 'finance'?") !=
        std::string::npos);
  auto chair = load_text(replaced(deal_text(), "quorum = 2", "quorum = 2\nchair = \"AR\""));
  CHECK(has_rule(chair, rule::kGateRole));
  auto twice =
      load_text(replaced(deal_text(), "\"finance\"]\nquorum", "\"finance\", \"finance\"]\nquorum"));
  CHECK(has_rule(twice, rule::kGateValue));
  auto none = load_text(replaced(
      deal_text(), "gatekeepers = [\"sales_director\", \"presales_lead\", \"finance\"]\n", ""));
  CHECK(has_rule(none, rule::kGateValue));
}

TEST_CASE("kill and recycle must leave every gated state, and recycle must not end the process",
          "[gate]") {
  auto missing = load_text(replaced(deal_text(), "kill = \"decline\"", "kill = \"declined\""));
  CHECK(has_rule(missing, rule::kGateExit));
  CHECK(message_of(missing, rule::kGateExit).find("no transition leaves 'review' on 'declined'") !=
        std::string::npos);
  auto terminal = load_text(replaced(deal_text(), "recycle = \"rework\"", "recycle = \"decline\""));
  CHECK(has_rule(terminal, rule::kGateExit));
  auto itself = load_text(replaced(deal_text(), "kill = \"decline\"", "kill = \"authorise\""));
  CHECK(has_rule(itself, rule::kGateExit));
}

TEST_CASE(
    "criteria need a question, a range with min below max, a positive weight and a "
    "pass_score",
    "[gate]") {
  CHECK(has_rule(load_text(replaced(deal_text(), "min = 1, max = 5", "min = 5, max = 5")),
                 rule::kGateCriterion));
  CHECK(has_rule(load_text(replaced(deal_text(), "max = 10, weight = 2", "max = 10, weight = 0")),
                 rule::kGateCriterion));
  CHECK(has_rule(
      load_text(replaced(deal_text(), "question = \"How good is the expected margin?\", ", "")),
      rule::kGateCriterion));
  CHECK(has_rule(load_text(replaced(deal_text(), "pass_score = 60\n", "")), rule::kGateCriterion));
  CHECK(has_rule(load_text(replaced(deal_text(), "pass_score = 60", "pass_score = 160")),
                 rule::kGateCriterion));
  CHECK(has_rule(load_text(replaced(deal_text(), "decision_maker = \"Do we know who decides?\"",
                                    "decision_maker = true")),
                 rule::kGateCriterion));
  CHECK(
      has_rule(load_text(replaced(deal_text(), "min = 1, max = 5", "min = 1, max = 5, scale = 3")),
               rule::kGateKey));
}

TEST_CASE("a file without any gates section keeps loading without the gate handler's help",
          "[gate]") {
  std::string text = deal_text();
  text = text.substr(0, text.find("[gates.bid]"));
  text = replaced(text, "gate = \"bid\"\n", "");
  auto wf = load_ok(text);
  CHECK(gate_config(*wf) == nullptr);
}

TEST_CASE("a gated transition in a file with no gates section is GATE-UNKNOWN", "[gate]") {
  std::string text = deal_text();
  text = text.substr(0, text.find("[gates.bid]"));
  auto r = load_text(text);
  REQUIRE_FALSE(r.ok());
  CHECK(rules_of(r) == std::vector<std::string>{"GATE-UNKNOWN"});
  CHECK(message_of(r, "GATE-UNKNOWN").find("declares no [gates] section") != std::string::npos);
}

TEST_CASE("seats gives a gatekeeper role several seats; quorum counts seats", "[gate]") {
  auto wf = load_ok(replaced(deal_text(), "quorum = 2", "seats = { finance = 3 }\nquorum = 5"));
  const GateDef& g = gate_config(*wf)->gates[0];
  CHECK(g.seats[2].count == 3);
  CHECK(g.seat_count() == 5);
  CHECK(has_rule(
      load_text(replaced(deal_text(), "quorum = 2", "seats = { finance = 3 }\nquorum = 6")),
      rule::kGateQuorum));
  CHECK(
      has_rule(load_text(replaced(deal_text(), "quorum = 2", "seats = { legal = 3 }\nquorum = 2")),
               rule::kGateQuorum));
  CHECK(has_rule(
      load_text(replaced(deal_text(), "quorum = 2", "seats = { finance = 0 }\nquorum = 2")),
      rule::kGateQuorum));
}
