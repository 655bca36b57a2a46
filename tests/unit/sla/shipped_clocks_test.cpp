// The clocks of the shipped workflows (workflows/*.toml) in realistic cases: ITR's response and
// resolution SLAs and its tiered OLAs with functional escalation, LTC's first-contact and
// question-answer clocks, presales' call-back clock. Berlin is UTC+1 in early March 2026, so the
// 08:00-18:00 calendars work 07:00-17:00Z.
#include "sla_harness.h"

using namespace sla_test;
using sla::ClockStatus;

namespace {

void dispatch_p3(Driver& d) {
  d.fire("grade", {{"impact", "medium"}, {"urgency", "medium"}});
  d.fire("classify", {{"category", "software"}});
  d.fire("look_up_context", {{"coverage", "service_contract"}, {"service_mode", "remote"}});
}

}  // namespace

TEST_CASE(
    "ITR P3: retroactive SLAs, L1 OLA breach escalates to L2, waiting pauses, resolved in "
    "time",
    "[sla][shipped][itr]") {
  Driver d(shipped("itr"), at("2026-03-09T07:40:00Z"));
  d.start({{"channel", "hotline"}, {"reported_at", "2026-03-09T07:30:00Z"}});
  // The priority is not known yet: both customer clocks wait for it.
  CHECK(d.clock("response").requested_at == at("2026-03-09T07:40:00Z"));
  d.set_now(at("2026-03-09T07:50:00Z"));
  dispatch_p3(d);
  auto response = d.clock("response");
  CHECK(response.status == ClockStatus::kRunning);
  CHECK(response.started_at == at("2026-03-09T07:30:00Z"));  // from the report
  CHECK(response.planned_breach_at == at("2026-03-09T11:30:00Z"));
  CHECK(d.clock("resolution").planned_breach_at == at("2026-03-16T07:30:00Z"));  // 50 business h

  d.set_now(at("2026-03-09T08:00:00Z"));
  d.fire("dispatch", {{"assignee", "lena"}});
  CHECK(d.clock("response").status == ClockStatus::kCompleted);
  CHECK(d.clock("response").met);
  CHECK(d.clock("l1").planned_breach_at == at("2026-03-09T10:00:00Z"));

  // Nobody at L1 moves it: the OLA breaches at 10:00Z and escalates to L2 at that moment.
  d.advance_to(at("2026-03-09T12:00:00Z"));
  CHECK(d.state().state == "l2_handling");
  CHECK(d.data("assignee") == Value::string("l2-duty"));
  CHECK(d.data("tier") == Value::integer(2));
  CHECK(d.data("escalations") == Value::integer(1));
  auto l1 = d.clock("l1");
  CHECK(l1.status == ClockStatus::kCompleted);
  CHECK(l1.breached);
  CHECK(l1.breached_at == at("2026-03-09T10:00:00Z"));
  CHECK(d.clock("l2").started_at == at("2026-03-09T10:00:00Z"));
  CHECK(d.clock("l2").planned_breach_at == at("2026-03-10T10:00:00Z"));  // 10 business hours

  // L2 needs the customer: every clock pauses until the customer answers the next morning.
  d.fire("wait_for_customer", {{"reason", "need logs"}});
  CHECK(d.clock("resolution").status == ClockStatus::kPaused);
  CHECK(d.clock("l2").status == ClockStatus::kPaused);
  d.set_now(at("2026-03-10T08:00:00Z"));
  d.fire("customer_replied");
  CHECK(d.state().state == "l2_handling");
  CHECK(d.clock("l2").paused_business_ms == hours(6));
  CHECK(d.clock("l2").planned_breach_at == at("2026-03-10T16:00:00Z"));
  CHECK(d.clock("resolution").planned_breach_at == at("2026-03-16T13:30:00Z"));

  d.set_now(at("2026-03-10T09:00:00Z"));
  d.fire("resolve",
         {{"resolution", "fixed"}, {"root_cause", "bad config"}, {"prevention", "lint it"}});
  CHECK(d.clock("resolution").status == ClockStatus::kCompleted);
  CHECK(d.clock("resolution").met);
  CHECK(d.clock("l2").met);
  CHECK(d.timers().empty());
}

TEST_CASE("ITR P1 goes straight to L2, whose OLA breach hands it to R&D before the SLA is at risk",
          "[sla][shipped][itr]") {
  Driver d(shipped("itr"), at("2026-03-09T08:00:00Z"));
  d.start({{"channel", "hotline"}});
  d.fire("grade", {{"impact", "high"}, {"urgency", "high"}});
  d.fire("classify", {{"category", "network"}});
  d.fire("look_up_context", {{"coverage", "in_warranty"}, {"service_mode", "on_site"}});
  d.fire("dispatch", {{"assignee", "omar"}});
  CHECK(d.state().state == "l2_handling");
  CHECK(d.clock("l1").status == ClockStatus::kPending);
  d.advance_to(at("2026-03-09T10:30:00Z"));
  CHECK(d.state().state == "l3_handling");
  CHECK(d.data("assignee") == Value::string("rnd-duty"));
  CHECK(d.clock("l3").planned_breach_at == at("2026-03-09T14:00:00Z"));
  // 2h at L2 + 4h at L3 = 6h, before the 8h P1 resolution target (16:00Z).
  CHECK(d.clock("resolution").planned_breach_at == at("2026-03-09T16:00:00Z"));
  auto warnings = d.events(sla::event::kWarning, "resolution");
  REQUIRE(warnings.empty());
  // The manager hears at 50 % and 75 % of the resolution target; at 75 % the request is at risk.
  d.advance_to(at("2026-03-09T14:30:00Z"));
  warnings = d.events(sla::event::kWarning, "resolution");
  REQUIRE(warnings.size() == 2);
  CHECK(warnings[0].body["notify"] == json::array({"service_manager"}));
  CHECK(warnings[1].body["due_at"] == "2026-03-09T14:00:00Z");
  CHECK(d.data("sla_at_risk") == Value::boolean(true));
  CHECK(d.clock("l3").breached);  // no tier above R&D: the service manager is told
  CHECK(d.events(sla::event::kBreached, "l3")[0].body["notify"] ==
        json::array({"service_manager"}));
}

TEST_CASE("ITR: a reopened request starts a new resolution cycle from the reopening",
          "[sla][shipped][itr]") {
  Driver d(shipped("itr"), at("2026-03-09T08:00:00Z"));
  d.start({{"channel", "web"}, {"reported_at", "2026-03-09T07:00:00Z"}});
  dispatch_p3(d);
  d.fire("dispatch", {{"assignee", "lena"}});
  d.advance(hours(1));
  d.fire("resolve", {{"resolution", "workaround"}, {"root_cause", "cache"}, {"prevention", "ttl"}});
  d.advance(hours(2));
  d.fire("reject_resolution", {{"reason", "still slow"}});
  auto resolution = d.clock("resolution");
  CHECK(resolution.cycle == 2);
  CHECK(resolution.started_at == at("2026-03-09T11:00:00Z"));
  CHECK(resolution.status == ClockStatus::kRunning);
  d.fire("redispatch", {{"assignee", "lena"}});
  CHECK(d.clock("l1").cycle == 2);
}

TEST_CASE("LTC: a web lead not contacted within 90 working minutes breaches its first-contact OLA",
          "[sla][shipped][ltc]") {
  Driver d(shipped("ltc"), at("2026-03-09T09:00:00Z"));
  d.start({{"channel", "web"}});
  CHECK(d.clock("first_contact").planned_breach_at == at("2026-03-09T10:30:00Z"));
  d.fire("assign_lead", {{"account_owner", "Ana Silva"}, {"region", "emea"}});
  d.advance_to(at("2026-03-09T11:00:00Z"));
  auto breached = d.events(sla::event::kBreached, "first_contact");
  REQUIRE(breached.size() == 1);
  CHECK(breached[0].body["notify"] == json::array({"sales_director", "marketing"}));
  CHECK(d.events(sla::event::kWarning, "first_contact").size() == 2);
  d.fire("contact_lead", {{"budget_confirmed", true}, {"estimated_value", "50000.00"}});
  auto done = d.events(sla::event::kCompleted, "first_contact");
  REQUIRE(done.size() == 1);
  CHECK(done[0].body["met"] == false);
}

TEST_CASE("LTC: a trade-show lead captured on Friday evening has two working days",
          "[sla][shipped][ltc]") {
  Driver d(shipped("ltc"), at("2026-03-06T18:00:00Z"));  // Friday 19:00 in Berlin
  d.start({{"channel", "trade_show"}});
  CHECK(d.clock("first_contact").planned_breach_at == at("2026-03-10T17:00:00Z"));
}

TEST_CASE("LTC: an open customer question is answered within 24 hours of being asked",
          "[sla][shipped][ltc]") {
  Driver d(shipped("ltc"), at("2026-03-09T09:00:00Z"));
  d.start({{"channel", "referral"}});
  d.set_now(at("2026-03-10T12:00:00Z"));
  d.update({{"open_question", "Does it run on premises?"},
            {"question_asked_at", "2026-03-10T08:00:00Z"}});
  auto clock = d.clock("question_answer");
  CHECK(clock.status == ClockStatus::kRunning);
  CHECK(clock.started_at == at("2026-03-10T08:00:00Z"));
  CHECK(clock.planned_breach_at == at("2026-03-11T08:00:00Z"));
  d.set_now(at("2026-03-11T07:00:00Z"));
  d.update({{"open_question", nullptr}});
  CHECK(d.clock("question_answer").status == ClockStatus::kCompleted);
  CHECK(d.clock("question_answer").met);
  // The next question starts the next cycle.
  d.set_now(at("2026-03-12T09:00:00Z"));
  d.update({{"open_question", "What does support cost?"},
            {"question_asked_at", "2026-03-12T09:00:00Z"}});
  CHECK(d.clock("question_answer").cycle == 2);
  CHECK(d.clock("question_answer").started_at == at("2026-03-12T09:00:00Z"));
}

TEST_CASE("presales: the customer is called back within three working days of each meeting",
          "[sla][shipped][presales]") {
  Driver d(shipped("presales"), at("2026-03-09T08:00:00Z"));
  d.start();
  d.fire("kick_off", {{"solution_responsible", "Sam Rivera"}});
  d.set_now(at("2026-03-09T15:00:00Z"));
  d.update({{"last_meeting_at", "2026-03-09T09:00:00Z"}});  // recorded late: counts from 09:00Z
  CHECK(d.clock("customer_callback").planned_breach_at == at("2026-03-12T09:00:00Z"));
  d.advance_to(at("2026-03-11T10:00:00Z"));  // the 67 % warning comes at 09:06Z
  d.update({{"last_callback_at", "2026-03-11T10:00:00Z"}});
  CHECK(d.clock("customer_callback").met);
  // A second meeting: a new cycle from that meeting.
  d.set_now(at("2026-03-16T16:00:00Z"));
  d.update({{"last_meeting_at", "2026-03-16T14:00:00Z"}});
  auto clock = d.clock("customer_callback");
  CHECK(clock.cycle == 2);
  CHECK(clock.started_at == at("2026-03-16T14:00:00Z"));
  d.advance_to(at("2026-03-20T00:00:00Z"));
  CHECK(d.clock("customer_callback").breached);
  CHECK(d.events(sla::event::kWarning, "customer_callback").size() == 2);  // one per cycle
}

TEST_CASE("LTC: a bid authorisation the gatekeepers leave open for two working days breaches",
          "[sla][shipped][ltc][gate]") {
  Driver d(shipped("ltc"), at("2026-03-09T09:00:00Z"));  // Monday 10:00 in Berlin
  auto vote_go = [&](const std::string& who, const std::string& role, json answers, json scores) {
    Command v;
    v.kind = CommandKind::kPlugin;
    v.plugin = "gate";
    v.action = "vote";
    v.actor.principal = who;
    v.actor.roles = {role};
    v.payload = {
        {"decision", "go"}, {"answers", std::move(answers)}, {"scores", std::move(scores)}};
    auto r = d.run(v);
    INFO((r ? std::string() : r.error().to_string()));
    REQUIRE(r);
  };
  d.start({{"channel", "web"}});
  d.fire("assign_lead", {{"account_owner", "Ana Silva"}, {"region", "emea"}});
  d.fire("contact_lead", {{"budget_confirmed", true}, {"estimated_value", "300000"}});
  d.fire("qualify_lead", {{"expected_close", "2026-09-30"}});
  vote_go("dora", "sales_director", {{"real_need", true}, {"buying_authority", true}},
          {{"budget_fit", 4}, {"timing", 3}});
  d.fire("complete_analysis", {{"main_competitor", "Globex"}});
  d.fire("record_first_contact", {{"budget_approved", true}, {"budget_amount", "320000"}});
  d.fire("send_initial_quote", {{"amount", "310000"}});
  d.fire("authorise_to_bid", {{"presales_days", 25}});
  REQUIRE(d.state().lifecycle == Lifecycle::kAwaitingGate);
  auto clock = d.clock("bid_decision");
  CHECK(clock.status == ClockStatus::kRunning);
  // Two 10-hour working days from Monday 10:00 Berlin: Wednesday 10:00 Berlin.
  CHECK(clock.planned_breach_at == at("2026-03-11T09:00:00Z"));
  d.advance_to(at("2026-03-11T10:00:00Z"));
  auto breached = d.events(sla::event::kBreached, "bid_decision");
  REQUIRE(breached.size() == 1);
  CHECK(breached[0].body["notify"] == json::array({"sales_director"}));
  CHECK(d.events(sla::event::kWarning, "bid_decision").size() == 1);
  // The decision, late, stops the clock as breached; the deal goes on.
  vote_go("pia", "presales_lead", {{"budget_confirmed", true}, {"decision_maker_identified", true}},
          {{"competitive_position", 7}, {"strategic_fit", 8}, {"presales_cost", 6}});
  vote_go("dora", "sales_director",
          {{"budget_confirmed", true}, {"decision_maker_identified", true}},
          {{"competitive_position", 8}, {"strategic_fit", 7}, {"presales_cost", 7}});
  CHECK(d.state().state == "second_contact");
  auto done = d.events(sla::event::kCompleted, "bid_decision");
  REQUIRE(done.size() == 1);
  CHECK(done[0].body["met"] == false);
}
