// How a round's outcome follows from its votes: quorum rules, the chair, must-meet knock-outs,
// the weighted should-meet score, and which non-go decision wins when go is out of reach.
#include <catch2/catch.hpp>

#include "gate_test_support.h"
#include "plugins/gate/round.h"

using namespace flowgate;
using namespace flowgate::gate;
using namespace flowgate::gate::testing;

namespace {

GateDef gate_with(const std::string& quorum_lines) {
  auto wf = load_ok(replaced(deal_text(), "quorum = 2", quorum_lines));
  return gate_config(*wf)->gates[0];
}

Vote go(const std::string& voter, const std::string& role, std::int64_t position = 8,
        std::int64_t margin = 4, std::int64_t weight = 1) {
  Vote v;
  v.voter = voter;
  v.role = role;
  v.weight = weight;
  v.decision = Decision::kGo;
  v.answers = {{"budget_confirmed", true}, {"decision_maker", true}};
  v.scores = {{"competitive_position", position}, {"margin", margin}};
  return v;
}

Vote against(const std::string& voter, const std::string& role, Decision d,
             std::int64_t weight = 1) {
  Vote v;
  v.voter = voter;
  v.role = role;
  v.weight = weight;
  v.decision = d;
  v.reason = "because";
  return v;
}

Round round_of(std::vector<Vote> votes) {
  Round r;
  r.gate = "bid";
  r.number = 1;
  r.votes = std::move(votes);
  return r;
}

}  // namespace

TEST_CASE("two of three go votes pass a gate with quorum 2", "[gate][outcome]") {
  GateDef g = gate_with("quorum = 2");
  Outcome one = evaluate(g, round_of({go("sam", "sales_director")}));
  CHECK_FALSE(one.decided);
  CHECK(one.go_votes == 1);
  CHECK(one.needed == 2);
  CHECK(one.open_seats == std::vector<std::string>{"presales_lead", "finance"});
  Outcome two = evaluate(g, round_of({go("sam", "sales_director"), go("pat", "presales_lead")}));
  CHECK(two.decided);
  CHECK(two.decision == Decision::kGo);
  CHECK(two.decided_by == "quorum");
}

TEST_CASE("quorum 2 closes with the non-go decision once two go votes are out of reach",
          "[gate][outcome]") {
  GateDef g = gate_with("quorum = 2");
  Outcome o = evaluate(g, round_of({against("sam", "sales_director", Decision::kKill),
                                    against("fay", "finance", Decision::kRecycle, 2)}));
  CHECK(o.decided);
  CHECK(o.decision == Decision::kRecycle);  // more weight than the kill
  CHECK(o.reason == "fay: because");
}

TEST_CASE("any one go vote passes an any-quorum gate; every seat refusing closes it",
          "[gate][outcome]") {
  GateDef g = gate_with("quorum = \"any\"");
  CHECK(evaluate(g, round_of({go("sam", "sales_director")})).decision == Decision::kGo);
  Outcome waiting = evaluate(g, round_of({against("sam", "sales_director", Decision::kHold)}));
  CHECK_FALSE(waiting.decided);
  Outcome closed = evaluate(g, round_of({against("sam", "sales_director", Decision::kHold),
                                         against("pat", "presales_lead", Decision::kKill),
                                         against("fay", "finance", Decision::kKill)}));
  CHECK(closed.decided);
  CHECK(closed.decision == Decision::kKill);
}

TEST_CASE("a unanimous gate needs every seat's go and closes at the first other vote",
          "[gate][outcome]") {
  GateDef g = gate_with("quorum = \"all\"");
  CHECK_FALSE(
      evaluate(g, round_of({go("sam", "sales_director"), go("pat", "presales_lead")})).decided);
  CHECK(evaluate(g, round_of({go("sam", "sales_director"), go("pat", "presales_lead"),
                              go("fay", "finance")}))
            .decision == Decision::kGo);
  Outcome o = evaluate(
      g, round_of({go("sam", "sales_director"), against("pat", "presales_lead", Decision::kHold)}));
  CHECK(o.decided);
  CHECK(o.decision == Decision::kHold);
}

TEST_CASE("a weighted gate passes when the go weight reaches pass_weight", "[gate][outcome]") {
  GateDef g = gate_with("quorum = \"weighted\"\nweights = { sales_director = 3 }\npass_weight = 3");
  CHECK(evaluate(g, round_of({go("sam", "sales_director", 8, 4, 3)})).decision == Decision::kGo);
  Outcome two_small = evaluate(g, round_of({go("pat", "presales_lead"), go("fay", "finance")}));
  CHECK_FALSE(two_small.decided);  // weight 2 of 3, the director's seat still open
  CHECK(two_small.go_weight == 2);
  Outcome out_of_reach =
      evaluate(g, round_of({against("sam", "sales_director", Decision::kKill, 3)}));
  CHECK(out_of_reach.decided);
  CHECK(out_of_reach.decision == Decision::kKill);
}

TEST_CASE("the chair's vote decides the round at once", "[gate][outcome]") {
  GateDef g = gate_with("quorum = \"all\"\nchair = \"finance\"");
  Outcome o = evaluate(
      g, round_of({go("sam", "sales_director"), against("fay", "finance", Decision::kRecycle)}));
  CHECK(o.decided);
  CHECK(o.decision == Decision::kRecycle);
  CHECK(o.decided_by == "chair");
  CHECK(o.reason == "because");
}

TEST_CASE("a must-meet no from any voter means the round cannot pass", "[gate][outcome]") {
  GateDef g = gate_with("quorum = \"any\"");
  Vote hold = against("pat", "presales_lead", Decision::kHold);
  hold.answers = {{"budget_confirmed", false}};
  Outcome o = evaluate(g, round_of({hold}));
  CHECK(o.decided);
  CHECK(o.decision == Decision::kHold);
  CHECK(o.knocked_out == std::vector<std::string>{"budget_confirmed (pat)"});
}

TEST_CASE("the weighted score is the weighted mean of each criterion's mean score",
          "[gate][outcome]") {
  GateDef g = gate_with("quorum = 2");
  // position: mean 6 of 0..10 → 0.6, weight 2; margin: mean 3 of 1..5 → 0.5, weight 1.
  Outcome o =
      evaluate(g, round_of({go("sam", "sales_director", 8, 4), go("pat", "presales_lead", 4, 2)}));
  REQUIRE(o.score);
  CHECK(format_hundredths(*o.score) == "56.67");  // (2*0.6 + 0.5) / 3
  CHECK_FALSE(o.score_ok);
  CHECK_FALSE(o.decided);  // the quorum is met but the score is not: finance may still vote
  Outcome all =
      evaluate(g, round_of({go("sam", "sales_director", 8, 4), go("pat", "presales_lead", 4, 2),
                            against("fay", "finance", Decision::kRecycle)}));
  CHECK(all.decided);  // every seat voted and go cannot pass
  CHECK(all.decision == Decision::kRecycle);
}

TEST_CASE("a tie between non-go decisions goes to the milder one", "[gate][outcome]") {
  GateDef g = gate_with("quorum = \"all\"");
  Outcome o = evaluate(g, round_of({against("sam", "sales_director", Decision::kKill),
                                    against("pat", "presales_lead", Decision::kRecycle)}));
  CHECK(o.decided);
  CHECK(o.decision == Decision::kRecycle);
}

TEST_CASE("unanswered criteria are listed by name until some vote covers them", "[gate][outcome]") {
  GateDef g = gate_with("quorum = 2");
  Vote hold = against("pat", "presales_lead", Decision::kHold);
  hold.scores = {{"margin", 2}};
  Outcome o = evaluate(g, round_of({hold}));
  CHECK(o.unanswered ==
        std::vector<std::string>{"budget_confirmed", "decision_maker", "competitive_position"});
  CHECK_FALSE(o.score);
}
