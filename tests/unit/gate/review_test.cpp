// Review rounds through decide/apply with the gate plugin: a gated transition holds the instance,
// votes close the round, and each decision (go, kill, hold, recycle, recall) has its effect;
// replaying the recorded events reproduces every outcome.
#include <catch2/catch.hpp>

#include "gate_test_support.h"

using namespace flowgate;
using namespace flowgate::gate;
using namespace flowgate::gate::testing;
using nlohmann::json;

namespace {

json with(json base, const json& extra) {
  for (const auto& [k, v] : extra.items()) base[k] = v;
  return base;
}

json refusal(const std::string& decision, const std::string& reason) {
  return {{"decision", decision}, {"reason", reason}};
}

void check_replay(const Journey& j) {
  InstanceState replayed = j.replay();
  CHECK(replayed.state == j.state().state);
  CHECK(replayed.lifecycle == j.state().lifecycle);
  CHECK(replayed.data == j.state().data);
  CHECK(replayed.extra == j.state().extra);
  CHECK(replayed.last_seq == j.state().last_seq);
}

}  // namespace

TEST_CASE("firing a gated transition opens a review round instead of moving the instance",
          "[gate][review]") {
  Journey j(load_ok(deal_text()));
  REQUIRE(j.start());
  REQUIRE(j.fire(ann, "submit", {{"amount", "250000.00"}}));
  auto events = j.fire(ann, "authorise", {{"days", 20}});
  REQUIRE(events);
  REQUIRE(types_of(*events) == std::vector<std::string>{"gate.submitted"});
  const json& body = (*events)[0].body;
  CHECK(body["gate"] == "bid");
  CHECK(body["round"] == 1);
  CHECK(body["transition"] == 1);
  CHECK(body["event"] == "authorise");
  CHECK(body["from"] == "review");
  CHECK(body["to"] == "approved");
  CHECK(body["payload"] == json{{"days", 20}});
  CHECK(body["submitter"] == "ann");
  CHECK(j.state().state == "review");
  CHECK(j.state().lifecycle == Lifecycle::kAwaitingGate);
  CHECK(j.state().extra["gate"]["open"]["round"] == 1);
  CHECK(j.state().data[*j.workflow().field_index("days")].is_null());
}

TEST_CASE("an instance awaiting a gate refuses other transitions and data changes",
          "[gate][review]") {
  Journey j = submitted();
  auto fire = j.fire(sam, "decline", {{"reason", "skip the review"}});
  REQUIRE_FALSE(fire);
  CHECK(fire.error().code == ErrorCode::kLifecycle);
  CHECK(fire.error().message.find("awaiting_gate") != std::string::npos);
  Command update;
  update.kind = CommandKind::kUpdate;
  update.data = {{"amount", "1.00"}};
  update.actor = ann;
  auto changed = j.run(update);
  REQUIRE_FALSE(changed);
  CHECK(changed.error().code == ErrorCode::kLifecycle);
  CHECK(j.state().lifecycle == Lifecycle::kAwaitingGate);
}

TEST_CASE("go: two passing votes execute the held transition with its payload", "[gate][review]") {
  Journey j = submitted();
  auto first = j.vote(sam, passing_go());
  REQUIRE(first);
  CHECK(types_of(*first) == std::vector<std::string>{"gate.voted"});
  CHECK((*first)[0].body["voter"] == "sam");
  CHECK((*first)[0].body["role"] == "sales_director");
  auto second = j.vote(pat, with(passing_go(), {{"reason", "strong position"}}));
  REQUIRE(second);
  CHECK(types_of(*second) ==
        std::vector<std::string>{"gate.voted", "gate.decided", "transitioned"});
  const json& decided = (*second)[1].body;
  CHECK(decided["decision"] == "go");
  CHECK(decided["decided_by"] == "quorum");
  CHECK(decided["score"] == "78.33");  // (2 * 8/10 + 3/4) / 3
  CHECK(decided["votes"]["go"] == 2);
  CHECK(decided["transition"] == 1);
  CHECK(j.state().state == "approved");
  CHECK(j.state().lifecycle == Lifecycle::kActive);
  CHECK(j.data("days") == "20");
  CHECK(j.data("authorised_on") != "");
  check_replay(j);
}

TEST_CASE("kill: the declared exit runs with the voters' reasons", "[gate][review]") {
  Journey j = submitted();
  REQUIRE(j.vote(sam, refusal("kill", "no budget this year")));
  auto closing = j.vote(fay, refusal("kill", "margin too thin"));
  REQUIRE(closing);
  CHECK(types_of(*closing) ==
        std::vector<std::string>{"gate.voted", "gate.decided", "transitioned", "completed"});
  CHECK((*closing)[1].body["decision"] == "kill");
  CHECK(j.state().state == "withdrawn");
  CHECK(j.state().lifecycle == Lifecycle::kCompleted);
  CHECK(j.data("withdrawal_reason") == "sam: no budget this year; fay: margin too thin");
  check_replay(j);
}

TEST_CASE("kill takes the exit payload a voter gives", "[gate][review]") {
  Journey j = submitted();
  REQUIRE(j.vote(sam, with(refusal("kill", "no"), {{"payload", {{"reason", "lost to a rival"}}}})));
  REQUIRE(j.vote(fay, refusal("kill", "no")));
  CHECK(j.data("withdrawal_reason") == "lost to a rival");
}

TEST_CASE("hold then go: a hold closes the round and the next one opens for the same transition",
          "[gate][review]") {
  Journey j = submitted();
  REQUIRE(j.vote(
      sam, with(refusal("hold", "wait for the budget round"), {{"revisit_on", "2026-04-01"}})));
  auto held = j.vote(pat, refusal("hold", "same"));
  REQUIRE(held);
  CHECK(types_of(*held) == std::vector<std::string>{"gate.voted", "gate.decided", "gate.reopened"});
  CHECK((*held)[1].body["decision"] == "hold");
  CHECK((*held)[1].body["revisit_on"] == "2026-04-01");
  CHECK((*held)[2].body["round"] == 2);
  CHECK((*held)[2].body["submitter"] == "ann");
  CHECK(j.state().lifecycle == Lifecycle::kAwaitingGate);
  CHECK(j.state().state == "review");
  CHECK(j.view()["gate"]["open"]["revisit_on"] == "2026-04-01");

  auto late = j.vote(fay, with(passing_go(), {{"round", 1}}));
  REQUIRE_FALSE(late);
  CHECK(slug_of(late.error()) == "round_closed");

  REQUIRE(j.vote(sam, passing_go()));
  auto go = j.vote(pat, with(passing_go(), {{"round", 2}}));
  REQUIRE(go);
  CHECK(j.state().state == "approved");
  CHECK(j.state().extra["gate"]["closed"].size() == 2);
  check_replay(j);
}

TEST_CASE("recycle then go: back to the draft, and the next submission opens round 2",
          "[gate][review]") {
  Journey j = submitted();
  REQUIRE(j.vote(sam, refusal("recycle", "sharpen the value case")));
  auto back = j.vote(pat, refusal("recycle", "add references"));
  REQUIRE(back);
  CHECK(types_of(*back) == std::vector<std::string>{"gate.voted", "gate.decided", "transitioned"});
  CHECK(j.state().state == "draft");
  CHECK(j.state().lifecycle == Lifecycle::kActive);
  CHECK(j.data("rework_notes") == "sam: sharpen the value case; pat: add references");

  REQUIRE(j.fire(ann, "submit", {{"amount", "240000.00"}}));
  auto again = j.fire(ann, "authorise", {{"days", 15}});
  REQUIRE(again);
  CHECK((*again)[0].body["round"] == 2);
  REQUIRE(j.vote(sam, passing_go()));
  REQUIRE(j.vote(fay, passing_go()));
  CHECK(j.state().state == "approved");
  CHECK(j.data("days") == "15");
  check_replay(j);
}

TEST_CASE("the submitter can recall an open round; nobody else can", "[gate][review]") {
  Journey j = submitted();
  REQUIRE(j.vote(sam, passing_go()));
  auto other = j.recall(bob, {{"reason", "mine now"}});
  REQUIRE_FALSE(other);
  CHECK(other.error().code == ErrorCode::kForbidden);
  CHECK(slug_of(other.error()) == "not_submitter");
  auto recalled = j.recall(ann, {{"reason", "numbers changed"}});
  REQUIRE(recalled);
  CHECK(types_of(*recalled) == std::vector<std::string>{"gate.recalled"});
  CHECK(j.state().lifecycle == Lifecycle::kActive);
  CHECK(j.state().state == "review");
  CHECK(j.state().extra["gate"]["closed"][0]["decision"] == "recalled");
  auto vote = j.vote(pat, passing_go());
  REQUIRE_FALSE(vote);
  CHECK(slug_of(vote.error()) == "no_open_round");
  check_replay(j);
}

TEST_CASE("a vote with no open round is refused", "[gate][bad-input]") {
  Journey j(load_ok(deal_text()));
  REQUIRE(j.start());
  auto vote = j.vote(sam, passing_go());
  REQUIRE_FALSE(vote);
  CHECK(vote.error().code == ErrorCode::kGate);
  CHECK(slug_of(vote.error()) == "no_open_round");
}

TEST_CASE("a vote naming an unknown gate is refused with a suggestion", "[gate][bad-input]") {
  Journey j = submitted();
  auto vote = j.vote(sam, with(passing_go(), {{"gate", "bids"}}));
  REQUIRE_FALSE(vote);
  CHECK(slug_of(vote.error()) == "unknown_gate");
  CHECK(vote.error().hint == "did you mean `bid`?");
}

TEST_CASE("a vote naming an unknown criterion is refused", "[gate][bad-input]") {
  Journey j = submitted();
  auto vote = j.vote(sam, with(passing_go(), {{"scores", {{"margn", 3}}}}));
  REQUIRE_FALSE(vote);
  CHECK(vote.error().code == ErrorCode::kInvalidPayload);
  CHECK(slug_of(vote.error()) == "unknown_criterion");
  CHECK(vote.error().hint == "did you mean `margin`?");
  auto misplaced = j.vote(sam, with(passing_go(), {{"answers", {{"margin", true}}}}));
  REQUIRE_FALSE(misplaced);
  CHECK(slug_of(misplaced.error()) == "unknown_criterion");
}

TEST_CASE("a score outside its declared range is refused", "[gate][bad-input]") {
  Journey j = submitted();
  auto vote =
      j.vote(sam, with(passing_go(), {{"scores", {{"competitive_position", 11}, {"margin", 4}}}}));
  REQUIRE_FALSE(vote);
  CHECK(slug_of(vote.error()) == "score_out_of_range");
  CHECK(vote.error().message.find("0..10") != std::string::npos);
  auto fraction =
      j.vote(sam, with(passing_go(), {{"scores", {{"competitive_position", 7.5}, {"margin", 4}}}}));
  REQUIRE_FALSE(fraction);
  CHECK(slug_of(fraction.error()) == "score_out_of_range");
}

TEST_CASE("a go vote missing a must-meet answer names what is missing", "[gate][bad-input]") {
  Journey j = submitted();
  auto vote = j.vote(sam, with(passing_go(), {{"answers", {{"budget_confirmed", true}}}}));
  REQUIRE_FALSE(vote);
  CHECK(slug_of(vote.error()) == "missing_answers");
  CHECK(vote.error().data["missing"] == json{"decision_maker"});
}

TEST_CASE("a go vote cannot answer no to a must-meet or score below the pass score",
          "[gate][bad-input]") {
  Journey j = submitted();
  auto no = j.vote(
      sam,
      with(passing_go(), {{"answers", {{"budget_confirmed", false}, {"decision_maker", true}}}}));
  REQUIRE_FALSE(no);
  CHECK(slug_of(no.error()) == "go_blocked");
  auto low =
      j.vote(sam, with(passing_go(), {{"scores", {{"competitive_position", 3}, {"margin", 2}}}}));
  REQUIRE_FALSE(low);
  CHECK(slug_of(low.error()) == "go_blocked");
  CHECK(low.error().message.find("28.33") != std::string::npos);
}

TEST_CASE("a voter without a gatekeeper role is refused", "[gate][bad-input]") {
  Journey j = submitted();
  auto vote = j.vote(bob, passing_go());
  REQUIRE_FALSE(vote);
  CHECK(vote.error().code == ErrorCode::kForbidden);
  CHECK(slug_of(vote.error()) == "not_gatekeeper");
  auto seat = j.vote(sam, with(passing_go(), {{"role", "finance"}}));
  REQUIRE_FALSE(seat);
  CHECK(slug_of(seat.error()) == "not_gatekeeper");
}

TEST_CASE("the submitter may not decide their own review", "[gate][bad-input]") {
  Journey j(load_ok(deal_text()));
  REQUIRE(j.start());
  REQUIRE(j.fire(ann, "submit", {{"amount", "250000.00"}}));
  REQUIRE(j.fire(sam, "authorise", {{"days", 20}}));
  auto vote = j.vote(sam, passing_go());
  REQUIRE_FALSE(vote);
  CHECK(vote.error().code == ErrorCode::kForbidden);
  CHECK(slug_of(vote.error()) == "self_approval");
  Actor proxy = person("svc", {"sales_director"});
  proxy.on_behalf_of = "sam";
  auto behalf = j.vote(proxy, passing_go());
  REQUIRE_FALSE(behalf);
  CHECK(slug_of(behalf.error()) == "self_approval");
}

TEST_CASE("a vote after the round closed is refused", "[gate][bad-input]") {
  Journey j = submitted();
  REQUIRE(j.vote(sam, passing_go()));
  REQUIRE(j.vote(pat, passing_go()));
  auto late = j.vote(fay, with(passing_go(), {{"round", 1}}));
  REQUIRE_FALSE(late);
  CHECK(slug_of(late.error()) == "no_open_round");
  CHECK(j.state().state == "approved");
}

TEST_CASE(
    "a reviewer votes once per round: a repeat changes nothing, a different vote is "
    "refused",
    "[gate][bad-input]") {
  Journey j = submitted();
  REQUIRE(j.vote(sam, passing_go()));
  auto repeat = j.vote(sam, passing_go());
  REQUIRE(repeat);
  CHECK(repeat->empty());
  auto change = j.vote(sam, refusal("kill", "changed my mind"));
  REQUIRE_FALSE(change);
  CHECK(slug_of(change.error()) == "already_voted");
}

TEST_CASE("a gate that allows changing votes replaces the earlier vote", "[gate][review]") {
  Journey j =
      submitted(replaced(deal_text(), "quorum = 2", "quorum = 2\nallow_vote_change = true"));
  REQUIRE(j.vote(sam, passing_go()));
  auto change = j.vote(sam, refusal("hold", "wait for legal"));
  REQUIRE(change);
  CHECK((*change)[0].body["replaces"] == true);
  json view = j.view();
  REQUIRE(view["gate"]["open"]["votes"].size() == 1);
  CHECK(view["gate"]["open"]["votes"][0]["decision"] == "hold");
  check_replay(j);
}

TEST_CASE("a decision the gate does not declare, or a non-go vote without a reason, is refused",
          "[gate][bad-input]") {
  Journey j = submitted(replaced(deal_text(), "kill = \"decline\"\n", ""));
  auto kill = j.vote(sam, refusal("kill", "no"));
  REQUIRE_FALSE(kill);
  CHECK(slug_of(kill.error()) == "decision_unavailable");
  auto bare = j.vote(sam, {{"decision", "hold"}});
  REQUIRE_FALSE(bare);
  CHECK(slug_of(bare.error()) == "bad_vote");
  auto unknown = j.vote(sam, {{"decision", "maybe"}});
  REQUIRE_FALSE(unknown);
  CHECK(slug_of(unknown.error()) == "bad_vote");
  auto extra = j.vote(sam, with(passing_go(), {{"comment", "x"}}));
  REQUIRE_FALSE(extra);
  CHECK(extra.error().code == ErrorCode::kInvalidPayload);
}

TEST_CASE("the chair decides at once", "[gate][review]") {
  Journey j = submitted(
      replaced(deal_text(), "quorum = 2", "quorum = \"all\"\nchair = \"sales_director\""));
  auto decided = j.vote(sam, passing_go());
  REQUIRE(decided);
  CHECK((*decided)[1].body["decided_by"] == "chair");
  CHECK(j.state().state == "approved");
  CHECK(j.state().extra["gate"]["closed"][0]["decision"] == "go");
}

TEST_CASE("a chair's go cannot pass a round whose weighted score is below the pass score",
          "[gate][bad-input]") {
  Journey j = submitted(
      replaced(deal_text(), "quorum = 2", "quorum = \"any\"\nchair = \"sales_director\""));
  json low = refusal("hold", "weak case");
  low["scores"] = {{"competitive_position", 0}, {"margin", 1}};
  REQUIRE(j.vote(pat, low));
  CHECK(j.state().lifecycle == Lifecycle::kAwaitingGate);
  auto go = j.vote(sam, passing_go());
  REQUIRE_FALSE(go);
  CHECK(slug_of(go.error()) == "go_blocked");
  CHECK(go.error().message.find("39.17") != std::string::npos);
  REQUIRE(j.vote(sam, refusal("recycle", "rework the case")));
  CHECK(j.state().state == "draft");
}

TEST_CASE("a must-meet no closes the round at once with the non-go decision", "[gate][review]") {
  Journey j = submitted(replaced(deal_text(), "quorum = 2", "quorum = \"any\""));
  json knock = refusal("hold", "budget not approved yet");
  knock["answers"] = {{"budget_confirmed", false}};
  auto closed = j.vote(pat, knock);
  REQUIRE(closed);
  CHECK(types_of(*closed) ==
        std::vector<std::string>{"gate.voted", "gate.decided", "gate.reopened"});
  CHECK((*closed)[1].body["knocked_out"] == json{"budget_confirmed (pat)"});
  CHECK(j.state().extra["gate"]["open"]["round"] == 2);
}

TEST_CASE("describe shows the open round: seats, criteria, votes and the outcome so far",
          "[gate][review]") {
  Journey j = submitted();
  REQUIRE(j.vote(sam, passing_go()));
  json open = j.view()["gate"]["open"];
  CHECK(open["gate"] == "bid");
  CHECK(open["name"] == "Authorise to bid");
  CHECK(open["round"] == 1);
  CHECK(open["transition"]["event"] == "authorise");
  CHECK(open["submitter"] == "ann");
  CHECK(open["opened_at"] == "2026-03-01T11:00:00Z");
  CHECK(open["quorum"] == json{{"rule", "n_of_m"}, {"needed", 2}});
  CHECK(open["seats"][0] == json{{"role", "sales_director"},
                                 {"weight", 1},
                                 {"seats", 1},
                                 {"chair", false},
                                 {"voted_by", {"sam"}}});
  CHECK(open["seats"][1]["voted_by"].empty());
  CHECK(open["criteria"]["must_meet"].size() == 2);
  CHECK(open["criteria"]["pass_score"] == "60.00");
  CHECK(open["decisions"] == json{"go", "hold", "kill", "recycle"});
  CHECK(open["votes"][0]["at"] == "2026-03-01T12:00:00Z");
  CHECK(open["outcome"]["decided"] == false);
  CHECK(open["outcome"]["go_votes"] == 1);
  CHECK(open["outcome"]["score"] == "78.33");
  CHECK(open["outcome"]["open_seats"] == json{"presales_lead", "finance"});
}

TEST_CASE("a kill whose exit payload cannot be built refuses the vote and changes nothing",
          "[gate][bad-input]") {
  std::string text = replaced(deal_text(), "payload = { reason = \"string\" }",
                              "payload = { reason = \"string\", code = \"int\" }");
  Journey j = submitted(text);
  REQUIRE(j.vote(sam, refusal("kill", "no")));
  auto closing = j.vote(fay, refusal("kill", "no"));
  REQUIRE_FALSE(closing);
  CHECK(closing.error().message.find("takes `decline`") != std::string::npos);
  CHECK(j.state().lifecycle == Lifecycle::kAwaitingGate);
  REQUIRE(j.vote(fay, with(refusal("kill", "no"), {{"payload", {{"reason", "no"}, {"code", 7}}}})));
  CHECK(j.state().state == "withdrawn");
}

TEST_CASE("a committee role with several seats takes one vote from each of its members",
          "[gate][review]") {
  std::string committee =
      replaced(deal_text(), "quorum = 2", "seats = { finance = 3 }\nquorum = 3");
  Journey j = submitted(committee);
  REQUIRE(j.vote(fay, passing_go()));
  REQUIRE(j.vote(person("fin", {"finance"}), passing_go()));
  CHECK(j.view()["gate"]["open"]["seats"][2]["voted_by"] == json{"fay", "fin"});
  CHECK(j.view()["gate"]["open"]["outcome"]["open_seats"] ==
        json{"sales_director", "presales_lead", "finance"});
  REQUIRE(j.vote(person("fio", {"finance"}), passing_go()));
  auto fourth = j.vote(person("fred", {"finance"}), passing_go());
  CHECK(j.state().state == "approved");  // three of five seats voted go: quorum 3 met
  REQUIRE_FALSE(fourth);
  CHECK(slug_of(fourth.error()) == "no_open_round");
}

TEST_CASE("a member of a role whose seats are all filled cannot vote", "[gate][bad-input]") {
  Journey j = submitted(replaced(deal_text(), "quorum = 2", "seats = { finance = 2 }\nquorum = 4"));
  REQUIRE(j.vote(fay, passing_go()));
  REQUIRE(j.vote(person("fin", {"finance"}), passing_go()));
  auto third = j.vote(person("fio", {"finance"}), passing_go());
  REQUIRE_FALSE(third);
  CHECK(slug_of(third.error()) == "seat_taken");
}

TEST_CASE("a recycle honours its exit's guard: a false guard refuses the closing vote",
          "[gate][bad-input]") {
  std::string text = replaced(deal_text(), "payload = { notes = \"string\" }",
                              "guard = \"data.amount < 100000\"\npayload = { notes = \"string\" }");
  Journey j = submitted(text);
  REQUIRE(j.vote(sam, refusal("recycle", "smaller scope")));
  auto closing = j.vote(pat, refusal("recycle", "smaller scope"));
  REQUIRE_FALSE(closing);
  CHECK(closing.error().code == ErrorCode::kGuardFailed);
  CHECK(closing.error().message.find("the recycle of gate `bid` takes `rework`") !=
        std::string::npos);
  CHECK(j.state().lifecycle == Lifecycle::kAwaitingGate);
  REQUIRE(j.vote(pat, refusal("hold", "shrink the scope first")));  // hold ties recycle and wins
  CHECK(j.state().extra["gate"]["open"]["round"] == 2);
}

TEST_CASE("cancelling an instance mid-round ends the round; votes are then refused",
          "[gate][review]") {
  Journey j = submitted();
  REQUIRE(j.vote(sam, passing_go()));
  auto suspend = j.run([] {
    Command c;
    c.kind = CommandKind::kSuspend;
    c.actor = sam;
    return c;
  }());
  REQUIRE_FALSE(suspend);
  CHECK(suspend.error().code == ErrorCode::kLifecycle);
  Command cancel;
  cancel.kind = CommandKind::kCancel;
  cancel.reason = "customer went away";
  cancel.actor = sam;
  auto cancelled = j.run(cancel);
  REQUIRE(cancelled);
  CHECK(types_of(*cancelled) == std::vector<std::string>{"cancelled", "gate.cancelled"});
  CHECK(j.state().lifecycle == Lifecycle::kCancelled);
  CHECK(j.state().extra["gate"]["open"].is_null());
  CHECK(j.state().extra["gate"]["closed"][0]["decision"] == "cancelled");
  auto vote = j.vote(pat, passing_go());
  REQUIRE_FALSE(vote);
  CHECK(slug_of(vote.error()) == "no_open_round");
  check_replay(j);
}
