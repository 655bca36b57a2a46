// Builds a database the way production does: the shipped workflows (workflows/*.toml) with the
// built-in plugins (SLA/OLA clocks, gates), driven through the real Engine on a simulated clock by
// the people who do the work; time passes through Engine::advance_clock, so due timers fire (SLA
// warnings, breaches, escalations) exactly as they would.
#pragma once

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/catalog.h"
#include "runtime/clock.h"
#include "runtime/engine.h"
#include "unit/audit/audit_plugins.h"

namespace flowgate::testing {

inline constexpr std::int64_t kAuditT0 = 1'767'596'400'000;  // Monday 2026-01-05T07:00:00Z
inline constexpr std::int64_t kHour = 3'600'000;
inline constexpr std::int64_t kMinute = 60'000;

struct Step {
  std::string event;
  std::string as;  // "ROLE:user"
  std::string payload = "{}";
};

class HistoryBuilder {
 public:
  explicit HistoryBuilder(std::string db_path, std::int64_t checkpoint_every = 25)
      : db_(std::move(db_path)) {
    sections_ = &audit_sections();
    catalog_ = std::make_shared<Catalog>();
    Diagnostics diags;
    load_workflow_dir(std::string(FLOWGATE_SOURCE_DIR) + "/workflows", *sections_, *catalog_,
                      diags);
    for (const auto& d : diags.items()) UNSCOPED_INFO(d.to_string());
    REQUIRE_FALSE(diags.has_errors());
    EngineOptions o;
    o.db_path = db_;
    o.synchronous_full = false;
    o.checkpoint_every = checkpoint_every;
    o.run_scheduler = false;
    o.hooks = audit_registry().hooks();
    auto e = Engine::open(o, catalog_, clock_, *sections_);
    if (!e) FAIL(e.error().to_string());
    engine_ = std::move(*e);
  }

  static Actor as(const std::string& spec) {
    Actor a;
    auto colon = spec.find(':');
    a.roles = {spec.substr(0, colon)};
    a.principal = spec.substr(colon + 1);
    return a;
  }

  // Lets time pass; timers due meanwhile fire in order.
  void pass(std::int64_t ms) {
    auto r = engine_->advance_clock(clock_->now_ms() + ms);
    if (!r) FAIL(r.error().to_string());
  }
  std::int64_t now() const { return clock_->now_ms(); }

  std::string start(const std::string& workflow, const std::string& spec, const std::string& data,
                    const std::string& key = "") {
    Command c;
    c.kind = CommandKind::kStart;
    c.workflow_id = workflow;
    c.data = nlohmann::json::parse(data);
    c.business_key = key;
    c.actor = as(spec);
    auto r = engine_->execute(std::move(c));
    if (!r) FAIL(r.error().to_string());
    pass(10 * kMinute);
    return r->instance["instance_id"].get<std::string>();
  }

  void fire(const std::string& id, const Step& s, std::int64_t then = 20 * kMinute) {
    Command c;
    c.kind = CommandKind::kFire;
    c.instance_id = id;
    c.event = s.event;
    c.payload = nlohmann::json::parse(s.payload);
    c.actor = as(s.as);
    c.request_id = id + "/" + std::to_string(++requests_);
    auto r = engine_->execute(std::move(c));
    if (!r) FAIL(id + " " + s.event + ": " + r.error().to_string());
    pass(then);
  }

  void run(const std::string& id, const std::vector<Step>& steps) {
    for (const auto& s : steps) fire(id, s);
  }

  void lifecycle(const std::string& id, CommandKind kind, const std::string& spec,
                 const std::string& reason) {
    Command c;
    c.kind = kind;
    c.instance_id = id;
    c.reason = reason;
    c.actor = as(spec);
    auto r = engine_->execute(std::move(c));
    if (!r) FAIL(r.error().to_string());
    pass(10 * kMinute);
  }

  // A gatekeeper's vote on the open review round (plugin command "gate"/"vote", docs/gates.md).
  void vote(const std::string& id, const std::string& spec, const std::string& payload,
            std::int64_t then = 20 * kMinute) {
    Command c;
    c.kind = CommandKind::kPlugin;
    c.instance_id = id;
    c.plugin = "gate";
    c.action = "vote";
    c.payload = nlohmann::json::parse(payload);
    c.actor = as(spec);
    auto r = engine_->execute(std::move(c));
    if (!r) FAIL(id + " vote by " + spec + ": " + r.error().to_string());
    pass(then);
  }

  void update(const std::string& id, const std::string& spec, const std::string& data) {
    Command c;
    c.kind = CommandKind::kUpdate;
    c.instance_id = id;
    c.data = nlohmann::json::parse(data);
    c.actor = as(spec);
    auto r = engine_->execute(std::move(c));
    if (!r) FAIL(r.error().to_string());
    pass(10 * kMinute);
  }

  // LTC: a web lead becomes a signed, delivered and paid contract (tools/demo.sh), through every
  // gate; authorise_to_bid is held once by the chair and passes in its second round.
  std::string ltc_won() {
    std::string id = start("ltc", "marketing:mia", R"J({"channel": "web"})J", "CRM-4711");
    run(id,
        {{"assign_lead", "marketing:mia", R"J({"account_owner": "Ana Silva", "region": "emea"})J"},
         {"contact_lead", "AR:ana", R"J({"budget_confirmed": true, "estimated_value": "300000"})J"},
         {"qualify_lead", "AR:ana", R"J({"expected_close": "2026-09-30"})J"}});
    qualify(id);
    run(id, {{"complete_analysis", "AR:ana", R"J({"main_competitor": "Globex"})J"},
             {"record_first_contact", "AR:ana",
              R"J({"budget_approved": true, "budget_amount": "320000"})J"},
             {"send_initial_quote", "SR:sven", R"J({"amount": "310000"})J"},
             {"authorise_to_bid", "AR:ana", R"J({"presales_days": 25})J"}});
    vote(
        id, "sales_director:dora",
        R"J({"decision": "hold", "reason": "wait for the budget round", "revisit_on": "2026-02-02"})J",
        kHour);
    vote(
        id, "sales_director:dora",
        R"J({"decision": "go", "answers": {"budget_confirmed": true, "decision_maker_identified": true},
             "scores": {"competitive_position": 7, "strategic_fit": 8, "presales_cost": 6}})J");
    run(id, {{"record_needs", "SR:sven", R"J({"pain_points": "month-end close takes 9 days"})J"},
             {"shortlist_solution", "AR:ana"},
             {"complete_poc", "SR:sven", R"J({"outcome": "passed"})J"},
             {"map_decision_makers", "AR:ana", R"J({"supporter": "CFO office"})J"},
             {"send_final_quote", "SR:sven", R"J({"amount": "300000", "win_probability": "0.7"})J"},
             {"confirm_purchase_list", "AR:ana",
              R"J({"procurement_method": "tender", "final_budget": "300000"})J"},
             {"assess_risk", "finance:fay", R"J({"risk_level": "medium"})J"},
             {"start_negotiation", "AR:ana"},
             {"conclude_negotiation", "AR:ana",
              R"J({"contract_value": "270000", "payment_terms_days": 45})J"},
             {"authorise_to_contract", "AR:ana"}});
    const char* contract_go =
        R"J({"decision": "go", "answers": {"price_within_mandate": true, "terms_acceptable": true},
        "scores": {"margin": 7, "delivery_risk": 8, "customer_credit": 9}})J";
    vote(id, "sales_director:dora", contract_go);
    vote(id, "finance:fay", contract_go);
    run(id, {{"complete_contract_review", "legal:lou"},
             {"sign_contract", "AR:ana", R"J({"signed_on": "2026-08-14"})J"},
             {"hand_over_contract", "FR:fred", R"J({"delivery_plan": "DP-2026-117"})J"}});
    const char* handover_go = R"J({"decision": "go", "answers": {"delivery_plan_agreed": true,
        "team_staffed": true, "solution_walked_through": true}})J";
    vote(id, "AR:ana", handover_go);
    vote(id, "SR:sven", handover_go);
    run(id, {{"deliver_po", "FR:fred", R"J({"amount": "120000"})J"},
             {"invoice_po", "finance:fay", R"J({"amount": "120000"})J"},
             {"record_payment", "AR:ana", R"J({"amount": "120000"})J"},
             {"deliver_po", "FR:fred", R"J({"amount": "150000"})J"},
             {"invoice_po", "finance:fay", R"J({"amount": "150000"})J"},
             {"complete_delivery", "FR:fred", R"J({"accepted_on": "2026-11-02"})J"},
             {"record_payment", "finance:fay", R"J({"amount": "150000"})J"},
             {"close_contract", "FR:fred"}});
    const char* closure_go = R"J({"decision": "go", "answers": {"delivery_accepted": true,
        "invoiced_in_full": true, "paid_in_full": true}})J";
    vote(id, "finance:fay", closure_go);
    vote(id, "AR:ana", closure_go);
    return id;
  }

  // The chair of qualify_lead passes the lead.
  void qualify(const std::string& id) {
    vote(id, "sales_director:dora",
         R"J({"decision": "go", "answers": {"real_need": true, "buying_authority": true},
             "scores": {"budget_fit": 4, "timing": 3}})J");
  }

  // LTC: a lead that qualifies, then the opportunity is lost on price.
  std::string ltc_lost() {
    std::string id = start("ltc", "marketing:mia", R"J({"channel": "trade_show"})J", "CRM-4712");
    run(id,
        {{"assign_lead", "marketing:mia", R"J({"account_owner": "Bo Berg", "region": "apac"})J"},
         {"contact_lead", "AR:bo", R"J({"budget_confirmed": true, "estimated_value": "90000"})J"},
         {"qualify_lead", "AR:bo", R"J({"expected_close": "2026-06-30"})J"}});
    qualify(id);
    run(id, {{"complete_analysis", "AR:bo", R"J({"main_competitor": "Initech"})J"},
             {"lose_opportunity", "AR:bo", R"J({"reason": "price"})J"}});
    return id;
  }

  // LTC: a lead dropped before it qualifies.
  std::string ltc_dropped() {
    std::string id = start("ltc", "marketing:mia", R"J({"channel": "referral"})J");
    run(id,
        {{"assign_lead", "marketing:mia", R"J({"account_owner": "Cy Chan", "region": "emea"})J"},
         {"drop_lead", "AR:cy", R"J({"reason": "no budget this year"})J"}});
    return id;
  }

  // LTC: an opportunity still open, suspended and resumed once, with a data correction. Its
  // steps are spread between the other histories (`part` 0, 1, 2), so the log interleaves.
  std::string ltc_open(int part, std::string id = "") {
    if (part == 0) {
      id = start("ltc", "marketing:mia", R"J({"channel": "web"})J", "CRM-4713");
      run(id, {{"assign_lead", "marketing:mia",
                R"J({"account_owner": "Ana Silva", "region": "emea"})J"}});
    } else if (part == 1) {
      run(id, {{"contact_lead", "AR:ana",
                R"J({"budget_confirmed": true, "estimated_value": "150000"})J"},
               {"qualify_lead", "AR:ana", R"J({"expected_close": "2026-12-31"})J"}});
      qualify(id);
      lifecycle(id, CommandKind::kSuspend, "AR:ana", "customer reorganising");
    } else {
      pass(24 * kHour);
      lifecycle(id, CommandKind::kResume, "AR:ana", "new sponsor named");
      update(id, "AR:ana", R"J({"region": "apac"})J");
    }
    return id;
  }

  // ITR: escalated L1 → L2 → L3, reopened once, then confirmed (tools/demo.sh).
  std::string itr_reopened() {
    std::string id = start("itr", "service_desk:sam", R"J({"channel": "web"})J", "TCK-9001");
    run(id,
        {{"grade", "service_desk:sam", R"J({"impact": "medium", "urgency": "high"})J"},
         {"classify", "service_desk:sam", R"J({"category": "software"})J"},
         {"look_up_context", "service_desk:sam",
          R"J({"coverage": "service_contract", "service_mode": "remote"})J"},
         {"dispatch", "service_desk:sam", R"J({"assignee": "Lee (L1)"})J"},
         {"escalate", "l1_engineer:lee",
          R"J({"reason": "not in knowledge base", "assignee": "Kim (L2)"})J"},
         {"wait_for_customer", "l2_expert:kim", R"J({"reason": "need server logs"})J"},
         {"customer_replied", "service_desk:sam"},
         {"raise_lead", "l2_expert:kim", R"J({"lead_ref": "LTC-2026-0042"})J"},
         {"escalate", "l2_expert:kim",
          R"J({"reason": "product defect suspected", "assignee": "R&D storage team"})J"},
         {"de_escalate", "l3_rnd:rita", R"J({"assignee": "Kim (L2)"})J"},
         {"resolve", "l2_expert:kim",
          R"J({"resolution": "workaround", "root_cause": "cache not invalidated", "prevention": "patch 4.2.1 scheduled"})J"},
         {"reject_resolution", "service_desk:sam", R"J({"reason": "fails again after restart"})J"},
         {"redispatch", "service_manager:max", R"J({"assignee": "Kim (L2)"})J"},
         {"resolve", "l2_expert:kim",
          R"J({"resolution": "fixed", "root_cause": "cache not invalidated", "prevention": "patch 4.2.1 installed"})J"},
         {"confirm_resolution", "service_desk:sam", R"J({"satisfaction": 4})J"}});
    return id;
  }

  // ITR: solved at L1 the first time.
  std::string itr_simple() {
    std::string id = start("itr", "service_desk:sam", R"J({"channel": "hotline"})J");
    run(id,
        {{"grade", "service_desk:sam", R"J({"impact": "low", "urgency": "low"})J"},
         {"classify", "service_desk:sam", R"J({"category": "how_to"})J"},
         {"look_up_context", "service_desk:sam",
          R"J({"coverage": "in_warranty", "service_mode": "remote"})J"},
         {"dispatch", "service_desk:sam", R"J({"assignee": "Lee (L1)"})J"},
         {"resolve", "l1_engineer:lee",
          R"J({"resolution": "user_training", "root_cause": "menu moved", "prevention": "release notes"})J"},
         {"confirm_resolution", "service_desk:sam", R"J({"satisfaction": 5})J"}});
    return id;
  }

  // Presales: kickoff to archive (tools/demo.sh); the solution phase's rapid review sends the
  // deliverables back once (recycle), the bid committee passes the bid with two of three seats.
  std::string presales() {
    std::string id = start("presales", "presales_lead:pia", "{}", "OPP-4711");
    fire(id, {"kick_off", "presales_lead:pia", R"J({"solution_responsible": "Sven"})J"});
    const char* review_go = R"J({"decision": "go", "answers": {"deliverables_complete": true},
        "scores": {"quality": 4, "customer_fit": 4}})J";
    for (std::string phase : {"introduction", "survey", "solution", "bidding"}) {
      fire(id, {"confirm_resources", "presales_lead:pia", R"J({"days": 5})J"});
      fire(id,
           {"submit_deliverables", "SR:sven", "{\"deliverable\": \"" + phase + " deliverables\"}"});
      fire(id, {"pass_review", "SR:sven", "{\"summary\": \"" + phase + " passed\"}"});
      if (phase == "solution") {
        vote(id, "sales_director:dora",
             R"J({"decision": "recycle", "reason": "value case missing",
                 "payload": {"findings": "value case missing"}})J");
        fire(id,
             {"submit_deliverables", "SR:sven", R"J({"deliverable": "solution document v2"})J"});
        fire(id, {"pass_review", "SR:sven", R"J({"summary": "solution passed"})J"});
      }
      vote(id, "presales_lead:pia", review_go);
      vote(id, "sales_director:dora", review_go);
    }
    fire(id, {"pass_bid_review", "SR:sven", R"J({"summary": "bid approved"})J"});
    const char* bid_go = R"J({"decision": "go", "answers": {"technical_compliance": true,
        "price_authorised": true}, "scores": {"win_themes": 8, "price_competitiveness": 6}})J";
    vote(id, "bid_committee:bo", bid_go);
    vote(id, "bid_committee:bea", bid_go);
    fire(id, {"score_win_probability", "AR:ana",
              R"J({"win_probability": "0.65", "supporter": "CFO office"})J"});
    fire(id, {"archive", "presales_lead:pia",
              R"J({"assessment": "good", "lessons_learned": "start the survey earlier"})J"});
    return id;
  }

  // ITR: left at L1 past its 2-hour OLA; the breach escalates it to L2 by itself (an SLA action),
  // then L2 resolves it.
  std::string itr_breached() {
    // The next working morning (08:00 in Berlin), so that the OLA counts working hours.
    std::int64_t days = (now() - kAuditT0) / (24 * kHour) + 1;
    pass(kAuditT0 + days * 24 * kHour - now());
    std::string id = start("itr", "service_desk:sam", R"J({"channel": "chat"})J");
    run(id, {{"grade", "service_desk:sam", R"J({"impact": "medium", "urgency": "medium"})J"},
             {"classify", "service_desk:sam", R"J({"category": "network"})J"},
             {"look_up_context", "service_desk:sam",
              R"J({"coverage": "in_warranty", "service_mode": "remote"})J"},
             {"dispatch", "service_desk:sam", R"J({"assignee": "Lee (L1)"})J"}});
    pass(6 * kHour);
    run(id,
        {{"resolve", "l2_expert:kim",
          R"J({"resolution": "fixed", "root_cause": "switch firmware", "prevention": "firmware pinned"})J"},
         {"confirm_resolution", "service_desk:sam", R"J({"satisfaction": 3})J"}});
    return id;
  }

  // LTC: the qualify-lead review kills the lead (the chair's kill runs the gate's exit, drop_lead,
  // with the payload the chair gives).
  std::string ltc_killed() {
    std::string id = start("ltc", "marketing:mia", R"J({"channel": "existing_customer"})J");
    run(id,
        {{"assign_lead", "marketing:mia", R"J({"account_owner": "Di Dorn", "region": "emea"})J"},
         {"contact_lead", "AR:di", R"J({"budget_confirmed": false, "estimated_value": "40000"})J"},
         {"qualify_lead", "AR:di", R"J({"expected_close": "2026-12-31"})J"}});
    vote(id, "sales_director:dora",
         R"J({"decision": "kill", "reason": "no budget and no buying authority",
             "payload": {"reason": "no budget this year"}})J");
    return id;
  }

  // Every history above, in an interleaved order (as a busy day would write them).
  std::vector<std::string> all() {
    std::vector<std::string> ids;
    std::string open = ltc_open(0);
    ids.push_back(ltc_won());
    ids.push_back(itr_reopened());
    ltc_open(1, open);
    ids.push_back(ltc_lost());
    ids.push_back(presales());
    ids.push_back(ltc_dropped());
    ltc_open(2, open);
    ids.push_back(itr_simple());
    ids.push_back(itr_breached());
    ids.push_back(open);
    ids.push_back(ltc_killed());
    return ids;
  }

  // Stops the engine (writing its final checkpoint).
  void close() { engine_.reset(); }
  Engine& engine() { return *engine_; }
  const std::string& db() const { return db_; }

 private:
  std::string db_;
  const SectionRegistry* sections_ = nullptr;
  std::shared_ptr<Catalog> catalog_;
  std::shared_ptr<SimulatedClock> clock_ = std::make_shared<SimulatedClock>(kAuditT0);
  std::unique_ptr<Engine> engine_;
  int requests_ = 0;
};

}  // namespace flowgate::testing
