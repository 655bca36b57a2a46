// Helpers for the stage-gate tests: loading process files with the gate section handler, and a
// Journey that drives one instance through decide/apply with the gate plugin (the engine's
// semantics without the store), keeping every event so a test can replay the history.
#pragma once

#include <catch2/catch.hpp>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "definition/loader.h"
#include "plugins/gate/gate_config.h"
#include "plugins/gate/gate_hooks.h"
#include "runtime/decide.h"

namespace flowgate::gate::testing {

inline const SectionRegistry& gate_registry() {
  static const SectionRegistry registry = [] {
    SectionRegistry r;
    r.add(std::make_shared<GateSections>());
    return r;
  }();
  return registry;
}

inline std::string read_text(const std::string& relative) {
  std::ifstream in(std::string(FLOWGATE_SOURCE_DIR) + "/" + relative, std::ios::binary);
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string deal_text() { return read_text("tests/fixtures/gate/deal.toml"); }

// `text` with the first occurrence of `from` replaced by `to` (the occurrence must exist).
inline std::string replaced(std::string text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

inline LoadResult load_text(const std::string& text) {
  return load_workflow_text(text, "test.toml", gate_registry());
}

inline std::shared_ptr<const Workflow> load_ok(const std::string& text) {
  auto result = load_text(text);
  std::string diagnostics;
  for (const auto& d : result.diagnostics.items()) diagnostics += d.to_string() + "\n";
  INFO(diagnostics);
  REQUIRE(result.ok());
  return result.workflow;
}

// The rule ids of a failed load, in order.
inline std::vector<std::string> rules_of(const LoadResult& result) {
  std::vector<std::string> rules;
  for (const auto& d : result.diagnostics.items()) rules.push_back(d.rule);
  return rules;
}

inline Actor person(const std::string& principal, std::vector<std::string> roles) {
  Actor a;
  a.principal = principal;
  a.roles = std::move(roles);
  return a;
}

constexpr std::int64_t kT0 = 1'772'355'600'000;  // 2026-03-01T09:00:00Z
constexpr std::int64_t kHour = 3'600'000;

struct Recorded {
  Event event;
  std::int64_t at_ms = 0;
};

// One instance driven through decide/apply with the gate plugin. Each accepted command's events
// are applied and recorded; a refused command changes nothing.
class Journey {
 public:
  explicit Journey(std::shared_ptr<const Workflow> wf) : wf_(std::move(wf)) {
    hooks_.add(std::make_shared<GateHooks>());
  }

  const Workflow& workflow() const { return *wf_; }
  const HookSet& hooks() const { return hooks_; }
  const InstanceState& state() const { return state_; }
  const std::vector<Recorded>& log() const { return log_; }
  std::int64_t now() const { return now_; }
  void advance(std::int64_t ms) { now_ += ms; }

  Result<std::vector<Event>> run(Command c) {
    c.instance_id = "deal-1";
    DecideInput in{*wf_,   c.kind == CommandKind::kStart ? nullptr : &state_, c, now_, nullptr,
                   &hooks_};
    auto events = decide(in);
    if (!events) return events;
    for (const Event& e : *events) {
      auto ok = flowgate::apply(state_, e, *wf_, now_, &hooks_);
      REQUIRE(ok.has_value());
      log_.push_back({e, now_});
    }
    state_.id = "deal-1";
    now_ += kHour;
    return events;
  }

  Result<std::vector<Event>> start(nlohmann::json data = nlohmann::json::object()) {
    Command c;
    c.kind = CommandKind::kStart;
    c.workflow_id = wf_->id;
    c.data = std::move(data);
    c.actor = person("ann", {"AR"});
    return run(std::move(c));
  }

  Result<std::vector<Event>> fire(const Actor& who, const std::string& event,
                                  nlohmann::json payload = nlohmann::json::object()) {
    Command c;
    c.kind = CommandKind::kFire;
    c.event = event;
    c.payload = std::move(payload);
    c.actor = who;
    return run(std::move(c));
  }

  Result<std::vector<Event>> plugin(const Actor& who, const std::string& action,
                                    nlohmann::json payload) {
    Command c;
    c.kind = CommandKind::kPlugin;
    c.plugin = "gate";
    c.action = action;
    c.payload = std::move(payload);
    c.actor = who;
    return run(std::move(c));
  }
  Result<std::vector<Event>> vote(const Actor& who, nlohmann::json payload) {
    return plugin(who, "vote", std::move(payload));
  }
  Result<std::vector<Event>> recall(const Actor& who,
                                    nlohmann::json payload = nlohmann::json::object()) {
    return plugin(who, "recall", std::move(payload));
  }

  // The state folded again from the recorded events alone.
  InstanceState replay() const {
    InstanceState s;
    s.id = "deal-1";
    for (const Recorded& r : log_) {
      auto ok = flowgate::apply(s, r.event, *wf_, r.at_ms, &hooks_);
      REQUIRE(ok.has_value());
    }
    return s;
  }

  std::vector<std::string> types() const {
    std::vector<std::string> out;
    for (const Recorded& r : log_) out.push_back(r.event.type);
    return out;
  }

  nlohmann::json view() const {
    nlohmann::json v = nlohmann::json::object();
    hooks_.find("gate")->describe(*wf_, state_, v);
    return v;
  }

  std::string data(const std::string& field) const {
    auto i = wf_->field_index(field);
    REQUIRE(i);
    return state_.data[*i].to_string();
  }

 private:
  std::shared_ptr<const Workflow> wf_;
  HookSet hooks_;
  InstanceState state_;
  std::vector<Recorded> log_;
  std::int64_t now_ = kT0;
};

// Types of a list of events.
inline std::vector<std::string> types_of(const std::vector<Event>& events) {
  std::vector<std::string> out;
  for (const Event& e : events) out.push_back(e.type);
  return out;
}

// The refusal slug of a gate error ("" when there is none).
inline std::string slug_of(const Error& e) { return e.data.value("gate_error", std::string()); }

// The people of the deal fixture: ann submits (AR), the others hold one gatekeeper seat each.
inline const Actor ann = person("ann", {"AR"});
inline const Actor sam = person("sam", {"sales_director"});
inline const Actor pat = person("pat", {"presales_lead"});
inline const Actor fay = person("fay", {"finance"});
inline const Actor bob = person("bob", {"AR"});

// A deal (`text`, default the fixture) in review with round 1 of its gate open, submitted by ann.
inline Journey submitted(const std::string& text = deal_text()) {
  Journey j(load_ok(text));
  REQUIRE(j.start());
  REQUIRE(j.fire(ann, "submit", {{"amount", "250000.00"}}));
  REQUIRE(j.fire(ann, "authorise", {{"days", 20}}));
  return j;
}

// A complete, passing set of criteria for the deal fixture's gate.
inline nlohmann::json passing_go() {
  return {{"decision", "go"},
          {"answers", {{"budget_confirmed", true}, {"decision_maker", true}}},
          {"scores", {{"competitive_position", 8}, {"margin", 4}}}};
}

}  // namespace flowgate::gate::testing
