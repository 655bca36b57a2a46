// The three shipped process files (workflows/*.toml): they load with no diagnostic at all (with the
// built-in SLA and gate plugins reading their sections), name their decision points, and realistic
// cases walk through them. The walks follow the compiled model directly (candidates, guards, set
// assignments), so they check the process design itself, independent of the engine and of the
// stage gates that hold the decision points (tests/unit/gate has the gated journeys).
#include <catch2/catch.hpp>

#include <algorithm>
#include <deque>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "definition/graph.h"
#include "definition/loader.h"
#include "plugins/gate/gate_config.h"
#include "plugins/gate/gate_hooks.h"
#include "plugins/sla/sla_hooks.h"
#include "plugins/sla/sla_section.h"
#include "support/plugin_sections.h"

using namespace flowgate;

namespace {

// What `flowgate graph` draws besides the core: the plugins' notes (clocks, gates).
GraphAnnotations plugin_notes(const Workflow& wf) {
  GraphAnnotations notes;
  gate::GateHooks().annotate_graph(wf, notes);
  sla::make_sla_hooks()->annotate_graph(wf, notes);
  return notes;
}

std::shared_ptr<const Workflow> load_shipped(const std::string& id) {
  const SectionRegistry& registry = test::plugin_sections();
  auto result =
      load_workflow_file(std::string(FLOWGATE_SOURCE_DIR) + "/workflows/" + id + ".toml", registry);
  std::string diagnostics;
  for (const auto& d : result.diagnostics.items()) diagnostics += d.to_string() + "\n";
  INFO(diagnostics);
  REQUIRE(result.ok());
  REQUIRE(result.diagnostics.empty());
  return result.workflow;
}

Value money(const char* text) { return Value::money_units(*parse_decimal_units(text)); }
Value decimal(const char* text) { return Value::decimal_units(*parse_decimal_units(text)); }
Value date(const char* text) { return Value::date(*parse_date_days(text)); }
Value text(const char* s) { return Value::string(s); }
Value member(const char* s) { return Value::enum_member(s); }

using Fields = std::map<std::string, Value>;

// One instance walked through the model as the engine decides (docs/engine.md): for each candidate
// transition in priority order, the `set` assignments are evaluated on the data before the step,
// the guard on the data as it would be after them; the first whose guard holds is taken.
class Walk {
 public:
  Walk(const Workflow& wf, const Fields& start) : wf_(wf), state_(wf.initial) {
    data_.resize(wf.fields.size());
    for (std::size_t i = 0; i < wf.fields.size(); ++i) {
      if (wf.fields[i].default_value) data_[i] = *wf.fields[i].default_value;
    }
    for (const auto& [name, value] : start) {
      auto index = wf.field_index(name);
      REQUIRE(index);
      data_[*index] = value;
    }
  }

  // The state reached, or "" (and nothing changes) when no transition allows the event now.
  std::string fire(const std::string& event, const Fields& payload = {}) {
    INFO("firing " << event << " in " << state_);
    for (const TransitionDef* t : wf_.candidates(state_, event)) {
      std::vector<Value> ev(t->payload.size());
      for (std::size_t i = 0; i < t->payload.size(); ++i) {
        auto it = payload.find(t->payload[i].name);
        if (it != payload.end()) ev[i] = it->second;
      }
      std::vector<Value> after = data_;
      for (const Assignment& a : t->set) {
        auto value = a.value.evaluate(EvalInput{data_, ev, now_ms_});
        REQUIRE(value.has_value());
        after[a.field_index] = *value;
      }
      if (t->guard) {
        auto allowed = t->guard->test(EvalInput{after, ev, now_ms_});
        REQUIRE(allowed.has_value());
        if (!*allowed) continue;
      }
      data_ = std::move(after);
      state_ = t->to;
      now_ms_ += 3'600'000;  // an hour passes between steps
      return state_;
    }
    return "";
  }

  const std::string& state() const { return state_; }
  const Value& data(const std::string& name) const { return data_[*wf_.field_index(name)]; }
  std::int64_t units(const std::string& name) const { return data(name).as_units(); }

 private:
  const Workflow& wf_;
  std::string state_;
  std::vector<Value> data_;
  std::int64_t now_ms_ = 1'772'355'600'000;  // 2026-03-01T09:00:00Z
};

std::set<std::string> events_of(const Workflow& wf) {
  std::set<std::string> events;
  for (const auto& t : wf.transitions) events.insert(t.event);
  return events;
}

std::vector<std::string> sources_of(const Workflow& wf, const TransitionDef& t) {
  if (!t.from_any) return t.from;
  std::vector<std::string> sources;
  for (const auto& s : wf.states) {
    if (!s.terminal) sources.push_back(s.id);
  }
  return sources;
}

// States reachable from the initial state along transitions, ignoring guards.
std::set<std::string> reachable(const Workflow& wf) {
  std::set<std::string> seen{wf.initial};
  std::deque<std::string> queue{wf.initial};
  while (!queue.empty()) {
    std::string s = queue.front();
    queue.pop_front();
    for (const auto& t : wf.transitions) {
      auto sources = sources_of(wf, t);
      if (std::find(sources.begin(), sources.end(), s) == sources.end()) continue;
      if (seen.insert(t.to).second) queue.push_back(t.to);
    }
  }
  return seen;
}

// States from which some terminal state can be reached.
std::set<std::string> can_finish(const Workflow& wf) {
  std::set<std::string> done;
  for (const auto& s : wf.states) {
    if (s.terminal) done.insert(s.id);
  }
  for (bool changed = true; changed;) {
    changed = false;
    for (const auto& t : wf.transitions) {
      if (!done.contains(t.to)) continue;
      for (const auto& s : sources_of(wf, t)) changed |= done.insert(s).second;
    }
  }
  return done;
}

}  // namespace

TEST_CASE("every shipped workflow loads with no error and no warning", "[shipped]") {
  for (const char* id : {"ltc", "itr", "presales"}) {
    INFO(id);
    auto wf = load_shipped(id);
    CHECK(wf->id == id);
  }
}

TEST_CASE("every state of every shipped workflow is reachable and can reach an end", "[shipped]") {
  for (const char* id : {"ltc", "itr", "presales"}) {
    INFO(id);
    auto wf = load_shipped(id);
    auto seen = reachable(*wf);
    auto finishing = can_finish(*wf);
    for (const auto& s : wf->states) {
      INFO(s.id);
      CHECK(seen.contains(s.id));
      CHECK(finishing.contains(s.id));
    }
  }
}

TEST_CASE("every transition of a shipped workflow says which roles may fire it", "[shipped]") {
  for (const char* id : {"ltc", "itr", "presales"}) {
    auto wf = load_shipped(id);
    for (const auto& t : wf->transitions) {
      INFO(id << " transition " << t.index << " " << t.event);
      CHECK_FALSE(t.roles.empty());
    }
  }
}

TEST_CASE("workflows/README.md shows the current diagram of every shipped workflow", "[shipped]") {
  std::ifstream file(std::string(FLOWGATE_SOURCE_DIR) + "/workflows/README.md");
  REQUIRE(file);
  std::string readme((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  std::vector<std::string> blocks;
  const std::string open = "```mermaid\n";
  for (auto at = readme.find(open); at != std::string::npos; at = readme.find(open, at)) {
    at += open.size();
    auto end = readme.find("```\n", at);
    REQUIRE(end != std::string::npos);
    blocks.push_back(readme.substr(at, end - at));
    at = end;
  }
  REQUIRE(blocks.size() == 3);
  const char* ids[] = {"ltc", "itr", "presales"};
  for (std::size_t i = 0; i < 3; ++i) {
    INFO(ids[i] << ": regenerate with `flowgate graph workflows/" << ids[i]
                << ".toml --format mermaid`");
    auto wf = load_shipped(ids[i]);
    CHECK(blocks[i] == to_mermaid(*wf, plugin_notes(*wf)));
  }
}

// --- Lead to Cash --------------------------------------------------------------------------

TEST_CASE("LTC names its decision points and their negative outcomes", "[shipped][ltc]") {
  auto wf = load_shipped("ltc");
  auto events = events_of(*wf);
  for (const char* e : {"qualify_lead", "drop_lead", "authorise_to_bid", "decline_bid", "requote",
                        "authorise_to_contract", "decline_contract", "mitigate_risk",
                        "lose_opportunity", "hand_over_contract", "close_contract"}) {
    INFO(e);
    CHECK(events.contains(e));
  }
  std::vector<std::string> stages;
  for (const auto& s : wf->states) {
    if (std::find(stages.begin(), stages.end(), s.stage) == stages.end()) stages.push_back(s.stage);
  }
  CHECK(stages == std::vector<std::string>{"ML", "MO", "MCE"});
  CHECK(wf->state("contract_signed")->owner == "FR");
  CHECK(wf->state("cash_collection")->owner == "AR");
}

TEST_CASE("a won LTC deal walks from a web lead to a closed, fully paid contract",
          "[shipped][ltc]") {
  auto wf = load_shipped("ltc");
  Walk w(*wf, {{"channel", member("web")}});
  CHECK(w.fire("assign_lead", {{"account_owner", text("Ana Silva")}, {"region", member("emea")}}) ==
        "lead_assigned");
  CHECK(w.fire("contact_lead", {{"budget_confirmed", Value::boolean(false)},
                                {"estimated_value", money("250000")}}) == "lead_contacted");
  CHECK(w.fire("nurture_lead") == "nurturing");
  CHECK(w.fire("reengage_lead", {{"budget_confirmed", Value::boolean(true)},
                                 {"estimated_value", money("300000")}}) == "lead_contacted");
  CHECK(w.fire("qualify_lead", {{"expected_close", date("2026-09-30")}}) == "opportunity_analysis");
  CHECK(w.fire("complete_analysis", {{"main_competitor", text("Globex")}}) == "first_contact");
  CHECK(w.fire("record_first_contact", {{"budget_approved", Value::boolean(true)},
                                        {"budget_amount", money("320000")}}) == "initial_quote");
  CHECK(w.fire("send_initial_quote", {{"amount", money("310000")}}) == "bid_authorisation");
  CHECK(w.fire("authorise_to_bid", {{"presales_days", Value::integer(25)}}) == "second_contact");
  CHECK(w.fire("record_needs", {{"pain_points", text("month-end close takes 9 days")}}) ==
        "solution_evaluation");
  CHECK(w.fire("shortlist_solution") == "proof_of_concept");
  CHECK(w.fire("complete_poc", {{"outcome", member("passed")}}) == "decision_mapping");
  CHECK(w.fire("map_decision_makers", {{"supporter", text("CFO office")}}) == "final_quote");
  CHECK(w.fire("send_final_quote", {{"amount", money("300000")},
                                    {"win_probability", decimal("0.7")}}) == "purchase_list");
  CHECK(w.fire("confirm_purchase_list", {{"procurement_method", member("tender")},
                                         {"final_budget", money("300000")}}) == "risk_assessment");
  CHECK(w.fire("assess_risk", {{"risk_level", member("medium")}}) == "order_process");
  CHECK(w.fire("start_negotiation") == "negotiation");
  CHECK(w.fire("conclude_negotiation",
               {{"contract_value", money("270000")}, {"payment_terms_days", Value::integer(45)}}) ==
        "contract_authorisation");
  CHECK(w.fire("authorise_to_contract") == "contract_review");
  CHECK(w.fire("complete_contract_review") == "awaiting_signature");
  CHECK(w.fire("sign_contract", {{"signed_on", date("2026-08-14")}}) == "contract_signed");
  CHECK(w.fire("hand_over_contract", {{"delivery_plan", text("DP-2026-117")}}) == "delivery");

  // Two purchase orders; invoices and payments never run ahead of what precedes them.
  CHECK(w.fire("deliver_po", {{"amount", money("120000")}}) == "delivery");
  CHECK(w.fire("invoice_po", {{"amount", money("150000")}}).empty());
  CHECK(w.fire("invoice_po", {{"amount", money("120000")}}) == "delivery");
  CHECK(w.fire("record_payment", {{"amount", money("120000")}}) == "delivery");
  CHECK(w.fire("complete_delivery", {{"accepted_on", date("2026-11-02")}}).empty());
  CHECK(w.fire("deliver_po", {{"amount", money("200000")}}).empty());  // beyond the contract
  CHECK(w.fire("deliver_po", {{"amount", money("150000")}}) == "delivery");
  CHECK(w.fire("invoice_po", {{"amount", money("150000")}}) == "delivery");
  CHECK(w.fire("complete_delivery", {{"accepted_on", date("2026-11-02")}}) == "cash_collection");
  CHECK(w.fire("close_contract").empty());  // 150,000 still outstanding
  CHECK(w.fire("record_payment", {{"amount", money("150000")}}) == "cash_collection");
  CHECK(w.fire("close_contract") == "contract_closed");

  CHECK(w.data("po_delivered") == Value::integer(2));
  CHECK(w.units("collected_amount") == w.units("contract_value"));
  CHECK(w.data("win_probability").as_units() == 700'000);
  CHECK(w.data("first_contacted_at").type() == Type::kDateTime);
}

TEST_CASE("LTC does not authorise a high-risk contract until the risk is mitigated",
          "[shipped][ltc]") {
  auto wf = load_shipped("ltc");
  Walk w(*wf, {{"channel", member("referral")}});
  w.fire("assign_lead", {{"account_owner", text("Ana Silva")}, {"region", member("apac")}});
  w.fire("contact_lead",
         {{"budget_confirmed", Value::boolean(true)}, {"estimated_value", money("80000")}});
  w.fire("qualify_lead", {{"expected_close", date("2026-06-30")}});
  w.fire("complete_analysis", {{"main_competitor", text("none known")}});
  w.fire("record_first_contact",
         {{"budget_approved", Value::boolean(true)}, {"budget_amount", money("90000")}});
  w.fire("send_initial_quote", {{"amount", money("85000")}});
  w.fire("authorise_to_bid", {{"presales_days", Value::integer(8)}});
  w.fire("record_needs", {{"pain_points", text("no spare parts")}});
  w.fire("shortlist_solution");
  w.fire("complete_poc", {{"outcome", member("waived")}});
  w.fire("map_decision_makers", {{"supporter", text("plant manager")}});
  w.fire("send_final_quote", {{"amount", money("84000")}, {"win_probability", decimal("0.5")}});
  w.fire("confirm_purchase_list",
         {{"procurement_method", member("direct_purchase")}, {"final_budget", money("84000")}});
  w.fire("assess_risk", {{"risk_level", member("high")}});
  w.fire("start_negotiation");
  REQUIRE(w.fire("conclude_negotiation", {{"contract_value", money("80000")},
                                          {"payment_terms_days", Value::integer(30)}}) ==
          "contract_authorisation");

  CHECK(w.fire("authorise_to_contract").empty());
  CHECK(w.fire("mitigate_risk", {{"actions", text("phased delivery, bank guarantee")}}) ==
        "risk_assessment");
  CHECK(w.fire("assess_risk", {{"risk_level", member("low")}}) == "order_process");
  w.fire("start_negotiation");
  // A price more than 15 % under the final quote is not authorised either.
  w.fire("conclude_negotiation",
         {{"contract_value", money("70000")}, {"payment_terms_days", Value::integer(30)}});
  CHECK(w.fire("authorise_to_contract").empty());
  CHECK(w.fire("decline_contract", {{"reason", text("price below floor")}}) ==
        "opportunity_withdrawn");
}

TEST_CASE("LTC never puts an existing customer's lead into marketing nurture", "[shipped][ltc]") {
  auto wf = load_shipped("ltc");
  Walk w(*wf, {{"channel", member("existing_customer")}});
  w.fire("assign_lead", {{"account_owner", text("Ana Silva")}, {"region", member("emea")}});
  w.fire("contact_lead",
         {{"budget_confirmed", Value::boolean(false)}, {"estimated_value", money("0")}});
  CHECK(w.fire("nurture_lead").empty());
  CHECK(w.fire("qualify_lead", {{"expected_close", date("2026-06-30")}}).empty());  // no value yet
  CHECK(w.fire("drop_lead", {{"reason", text("no need this year")}}) == "lead_dropped");
}

// --- Issue to Resolution -------------------------------------------------------------------

TEST_CASE("ITR grades every impact and urgency pair to the priority of the matrix",
          "[shipped][itr]") {
  auto wf = load_shipped("itr");
  const std::map<std::pair<std::string, std::string>, std::string> matrix = {
      {{"high", "high"}, "P1"},   {{"high", "medium"}, "P2"},   {{"high", "low"}, "P3"},
      {{"medium", "high"}, "P2"}, {{"medium", "medium"}, "P3"}, {{"medium", "low"}, "P4"},
      {{"low", "high"}, "P3"},    {{"low", "medium"}, "P4"},    {{"low", "low"}, "P4"},
  };
  for (const auto& [pair, priority] : matrix) {
    INFO("impact " << pair.first << ", urgency " << pair.second);
    Walk w(*wf, {{"channel", member("hotline")}});
    CHECK(w.fire("grade", {{"impact", member(pair.first.c_str())},
                           {"urgency", member(pair.second.c_str())}}) == "graded");
    CHECK(w.data("priority").as_string() == priority);
  }
}

TEST_CASE("an ITR request escalates, pauses, returns to its tier, is reopened and then confirmed",
          "[shipped][itr]") {
  auto wf = load_shipped("itr");
  Walk w(*wf, {{"channel", member("web")}});
  CHECK(w.fire("grade", {{"impact", member("medium")}, {"urgency", member("high")}}) == "graded");
  CHECK(w.fire("classify", {{"category", member("software")}}) == "classified");
  CHECK(w.fire("look_up_context", {{"coverage", member("service_contract")},
                                   {"service_mode", member("remote")}}) == "ready_for_dispatch");
  CHECK(w.fire("dispatch", {{"assignee", text("Lee (L1)")}}) == "l1_handling");
  CHECK(w.fire("escalate", {{"reason", text("not in knowledge base")},
                            {"assignee", text("Kim (L2)")}}) == "l2_handling");
  CHECK(w.fire("wait_for_customer", {{"reason", text("need server logs")}}) ==
        "waiting_for_customer");
  CHECK(w.fire("customer_replied") == "l2_handling");
  CHECK(w.fire("raise_lead", {{"lead_ref", text("LTC-2026-0042")}}) == "l2_handling");
  CHECK(w.fire("escalate", {{"reason", text("product defect suspected")},
                            {"assignee", text("R&D storage team")}}) == "l3_handling");
  CHECK(w.fire("de_escalate", {{"assignee", text("Kim (L2)")}}) == "l2_handling");
  CHECK(w.fire("resolve", {{"resolution", member("workaround")},
                           {"root_cause", text("cache not invalidated")},
                           {"prevention", text("patch 4.2.1 scheduled")}}) == "resolved");
  CHECK(w.fire("reject_resolution", {{"reason", text("fails again after restart")}}) == "reopened");
  CHECK(w.fire("redispatch", {{"assignee", text("Kim (L2)")}}) == "l2_handling");
  CHECK(w.fire("resolve", {{"resolution", member("fixed")},
                           {"root_cause", text("cache not invalidated")},
                           {"prevention", text("patch 4.2.1 installed")}}) == "resolved");
  CHECK(w.fire("confirm_resolution", {{"satisfaction", Value::integer(6)}}).empty());
  CHECK(w.fire("confirm_resolution", {{"satisfaction", Value::integer(4)}}) == "closed");

  CHECK(w.data("priority").as_string() == "P2");
  CHECK(w.data("escalations") == Value::integer(2));
  CHECK(w.data("reopen_count") == Value::integer(1));
  CHECK(w.data("leads_raised") == Value::integer(1));
  CHECK(w.data("tier") == Value::integer(2));
}

// A request from `channel`, graded impact × urgency, classified and looked up: ready for dispatch.
Walk accepted_request(const Workflow& wf, const char* channel, const char* impact,
                      const char* urgency) {
  Walk w(wf, {{"channel", member(channel)}});
  REQUIRE(w.fire("grade", {{"impact", member(impact)}, {"urgency", member(urgency)}}) == "graded");
  REQUIRE(w.fire("classify", {{"category", member("software")}}) == "classified");
  REQUIRE(w.fire("look_up_context", {{"coverage", member("service_contract")},
                                     {"service_mode", member("remote")}}) == "ready_for_dispatch");
  return w;
}

TEST_CASE("a P1 request is dispatched straight to L2", "[shipped][itr]") {
  auto wf = load_shipped("itr");
  Walk w = accepted_request(*wf, "hotline", "high", "high");
  CHECK(w.fire("dispatch", {{"assignee", text("Kim (L2)")}}) == "l2_handling");
  CHECK(w.data("tier") == Value::integer(2));
}

TEST_CASE("an ITR product defect cannot be resolved without a defect reference", "[shipped][itr]") {
  auto wf = load_shipped("itr");
  Walk w = accepted_request(*wf, "chat", "low", "low");
  REQUIRE(w.fire("dispatch", {{"assignee", text("Lee (L1)")}}) == "l1_handling");
  Fields resolution = {{"resolution", member("product_defect")},
                       {"root_cause", text("firmware overflow")},
                       {"prevention", text("fix in next firmware")}};
  CHECK(w.fire("resolve", resolution).empty());
  resolution["defect_ref"] = text("REQ-8812");
  CHECK(w.fire("resolve", resolution) == "resolved");
  CHECK(w.data("defect_ref").as_string() == "REQ-8812");
}

TEST_CASE("an internal-audit finding is verified internally and any request can be cancelled",
          "[shipped][itr]") {
  auto wf = load_shipped("itr");
  Walk audit = accepted_request(*wf, "internal_audit", "medium", "low");
  audit.fire("dispatch", {{"assignee", text("Lee (L1)")}});
  audit.fire("resolve", {{"resolution", member("fixed")},
                         {"root_cause", text("weak password policy")},
                         {"prevention", text("policy enforced centrally")}});
  CHECK(audit.fire("verify_internal_fix") == "closed");

  Walk customer(*wf, {{"channel", member("email")}});
  CHECK(customer.fire("verify_internal_fix").empty());
  CHECK(customer.fire("cancel", {{"reason", text("raised in error")}}) == "cancelled");
}

// --- Presales ------------------------------------------------------------------------------

TEST_CASE("presales walks every phase through rapid reviews and the bid committee to the archive",
          "[shipped][presales]") {
  auto wf = load_shipped("presales");
  Walk w(*wf, {});
  CHECK(w.fire("kick_off", {{"solution_responsible", text("Noor (SR)")}}) ==
        "introduction_resourcing");
  const std::vector<std::string> phases = {"introduction", "survey", "solution", "bidding"};
  for (const auto& phase : phases) {
    INFO(phase);
    CHECK(w.fire("confirm_resources", {{"days", Value::integer(0)}}).empty());
    CHECK(w.fire("confirm_resources", {{"days", Value::integer(5)}}) == phase + "_work");
    CHECK(w.fire("submit_deliverables", {{"deliverable", text("dms://presales/1")}}) ==
          phase + "_review");
    if (phase == "survey") {
      CHECK(w.fire("rework", {{"findings", text("competitor analysis missing")}}) == "survey_work");
      CHECK(w.fire("submit_deliverables", {{"deliverable", text("dms://presales/2")}}) ==
            "survey_review");
    }
    CHECK_FALSE(w.fire("pass_review", {{"summary", text("good")}}).empty());
  }
  REQUIRE(w.state() == "bid_committee_review");
  CHECK(w.fire("fail_bid_review", {{"findings", text("margin too thin")}}) == "bidding_work");
  CHECK(w.fire("submit_deliverables", {{"deliverable", text("dms://presales/bid-v2")}}) ==
        "bidding_review");
  CHECK(w.fire("pass_review", {{"summary", text("margin fixed")}}) == "bid_committee_review");
  CHECK(w.fire("pass_bid_review", {{"summary", text("approved")}}) == "closing");
  CHECK(w.fire("score_win_probability",
               {{"win_probability", decimal("1.2")}, {"supporter", text("CIO")}})
            .empty());
  CHECK(w.fire("score_win_probability", {{"win_probability", decimal("0.65")},
                                         {"supporter", text("CIO")}}) == "presales_assessment");
  CHECK(w.fire("archive", {{"assessment", member("good")},
                           {"lessons_learned", text("survey earlier")}}) == "archived");

  CHECK(w.data("allocated_days") == Value::integer(20));
  CHECK(w.data("reviews_passed") == Value::integer(5));
  CHECK(w.data("rework_count") == Value::integer(1));
  CHECK(w.data("bid_review_failures") == Value::integer(1));
}

TEST_CASE("presales names its review decisions and can be abandoned from any open phase",
          "[shipped][presales]") {
  auto wf = load_shipped("presales");
  auto events = events_of(*wf);
  for (const char* e : {"confirm_resources", "pass_review", "rework", "pass_bid_review",
                        "fail_bid_review", "score_win_probability", "abandon"}) {
    INFO(e);
    CHECK(events.contains(e));
  }
  Walk w(*wf, {});
  w.fire("kick_off", {{"solution_responsible", text("Noor (SR)")}});
  w.fire("confirm_resources", {{"days", Value::integer(3)}});
  CHECK(w.fire("abandon", {{"reason", text("opportunity lost")}}) == "abandoned");
}
