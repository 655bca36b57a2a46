// Test harness for the SLA plugin at the decide/apply level: loads tests/fixtures/sla/tickets.toml
// with extra sections (or a shipped workflow), and drives one instance through decide() and apply()
// with the SLA hooks, a simulated time, and the timers the hooks ask for (fired in due order, each
// at its due time, as Engine::advance_clock does).
#pragma once

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "definition/loader.h"
#include "definition/value.h"
#include "plugins/gate/gate_config.h"
#include "plugins/gate/gate_hooks.h"
#include "plugins/sla/clock_state.h"
#include "plugins/sla/sla_hooks.h"
#include "plugins/sla/sla_section.h"
#include "runtime/decide.h"
#include "support/plugin_sections.h"

namespace sla_test {

using namespace flowgate;
using nlohmann::json;

inline std::int64_t at(const char* rfc3339) {
  auto ms = parse_datetime_ms(rfc3339);
  REQUIRE(ms);
  return *ms;
}

inline std::string iso(std::int64_t ms) { return format_datetime_ms(ms); }

inline std::int64_t hours(double h) { return static_cast<std::int64_t>(h * 3'600'000); }

inline std::string read_fixture(const std::string& name) {
  std::ifstream in(std::string(FLOWGATE_SOURCE_DIR) + "/tests/fixtures/sla/" + name);
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The shipped workflows hold stage gates too: the gate plugin runs beside the SLA plugin.
inline const SectionRegistry& sla_registry() { return test::plugin_sections(); }

inline LoadResult load_text(const std::string& text) {
  return load_workflow_text(text, "tickets.toml", sla_registry());
}

inline std::string listing(const LoadResult& r) {
  std::string out;
  for (const auto& d : r.diagnostics.items()) out += d.to_string() + "\n";
  return out;
}

// The fixture with `sections` appended; must load without errors.
inline std::shared_ptr<const Workflow> tickets(const std::string& sections) {
  auto r = load_text(read_fixture("tickets.toml") + "\n" + sections);
  INFO(listing(r));
  REQUIRE(r.ok());
  return r.workflow;
}

// A shipped workflow (workflows/<id>.toml); must load without any diagnostic.
inline std::shared_ptr<const Workflow> shipped(const std::string& id) {
  auto r = load_workflow_file(std::string(FLOWGATE_SOURCE_DIR) + "/workflows/" + id + ".toml",
                              sla_registry());
  INFO(listing(r));
  REQUIRE(r.ok());
  CHECK(r.diagnostics.empty());
  return r.workflow;
}

// The first diagnostic with `rule`, or null.
inline const Diagnostic* find_rule(const LoadResult& r, std::string_view rule) {
  for (const auto& d : r.diagnostics.items()) {
    if (d.rule == rule) return &d;
  }
  return nullptr;
}

class Driver {
 public:
  explicit Driver(std::shared_ptr<const Workflow> wf, std::int64_t now)
      : wf_(std::move(wf)), now_(now) {
    hooks_.add(sla::make_sla_hooks());
    hooks_.add(std::make_shared<gate::GateHooks>());
  }

  // Decides and applies a command at the current time; returns the events (or the error).
  Result<std::vector<Event>> run(Command c) {
    c.instance_id = wf_->id + "-1";
    if (c.actor.principal.empty()) {
      // Someone who holds every role of the workflow: these tests are about clocks, not roles.
      c.actor.principal = "ana";
      for (const RoleDef& r : wf_->roles) c.actor.roles.push_back(r.id);
    }
    auto events =
        decide(DecideInput{*wf_, started_ ? &state_ : nullptr, c, now_, nullptr, &hooks_});
    if (!events) return events;
    if (!started_) state_.id = wf_->id + "-1";
    for (const Event& e : *events) {
      auto ok = apply(state_, e, *wf_, now_, &hooks_);
      INFO(e.type << " " << e.body.dump());
      REQUIRE(ok);
      log_.push_back({e, now_});
    }
    started_ = true;
    return events;
  }

  std::vector<Event> start(json data = json::object()) {
    Command c;
    c.kind = CommandKind::kStart;
    c.workflow_id = wf_->id;
    c.data = std::move(data);
    return must(run(std::move(c)));
  }
  std::vector<Event> fire(const std::string& event, json payload = json::object()) {
    return must(try_fire(event, std::move(payload)));
  }
  Result<std::vector<Event>> try_fire(const std::string& event, json payload = json::object()) {
    Command c;
    c.kind = CommandKind::kFire;
    c.event = event;
    c.payload = std::move(payload);
    return run(std::move(c));
  }
  std::vector<Event> update(json data) {
    Command c;
    c.kind = CommandKind::kUpdate;
    c.data = std::move(data);
    return must(run(std::move(c)));
  }
  std::vector<Event> lifecycle(CommandKind kind) {
    Command c;
    c.kind = kind;
    return must(run(std::move(c)));
  }

  // Fires every timer due up to `to` in due order, each at its due time; then sets the time.
  void advance_to(std::int64_t to) {
    for (int guard = 0; guard < 10'000; ++guard) {
      auto timers = hooks_.find("sla")->timers(*wf_, state_);
      const TimerRecord* next = nullptr;
      for (const auto& t : timers) {
        if (!next || t.due_ms < next->due_ms) next = &t;
      }
      if (!next || next->due_ms > to) break;
      now_ = std::max(now_, next->due_ms);
      fire_timer(*next, now_);
    }
    now_ = std::max(now_, to);
  }
  void advance(std::int64_t ms) { advance_to(now_ + ms); }

  // A timer fired at `when` (possibly late).
  std::vector<Event> fire_timer(const TimerRecord& t, std::int64_t when) {
    now_ = when;
    Command c;
    c.kind = CommandKind::kTimer;
    c.timer_id = t.timer_id;
    c.due_ms = t.due_ms;
    c.payload = t.payload;
    c.actor = Actor{"flowgate:scheduler", {}, ""};
    return must(run(std::move(c)));
  }

  std::vector<TimerRecord> timers() const { return hooks_.find("sla")->timers(*wf_, state_); }

  sla::ClockState clock(const std::string& id) const {
    auto it = state_.extra.find("sla");
    auto st = sla::clock_state(it == state_.extra.end() ? json::object() : *it, id);
    REQUIRE(st);
    return *st;
  }

  json view() const {
    json v = json::object();
    hooks_.find("sla")->describe(*wf_, state_, v);
    return v;
  }

  // Logged events of `type` (optionally for one clock), in order.
  std::vector<Event> events(const std::string& type, const std::string& clock = "") const {
    std::vector<Event> out;
    for (const auto& [e, when] : log_) {
      if (e.type == type && (clock.empty() || e.body.value("clock", "") == clock)) out.push_back(e);
    }
    return out;
  }
  const std::vector<std::pair<Event, std::int64_t>>& log() const { return log_; }

  const InstanceState& state() const { return state_; }
  const Value& data(const std::string& field) const {
    auto idx = wf_->field_index(field);
    REQUIRE(idx);
    return state_.data[*idx];
  }
  std::int64_t now() const { return now_; }
  void set_now(std::int64_t t) { now_ = t; }
  const Workflow& workflow() const { return *wf_; }
  const HookSet& hooks() const { return hooks_; }

 private:
  static std::vector<Event> must(Result<std::vector<Event>> r) {
    if (!r) FAIL(r.error().to_string());
    return *r;
  }

  std::shared_ptr<const Workflow> wf_;
  HookSet hooks_;
  InstanceState state_;
  bool started_ = false;
  std::int64_t now_;
  std::vector<std::pair<Event, std::int64_t>> log_;
};

// The driver's log as stored records of instance `instance_id`.
inline std::vector<EventRecord> records(const Driver& d, const std::string& instance_id) {
  std::vector<EventRecord> out;
  std::int64_t seq = 0;
  for (const auto& [e, when] : d.log()) {
    EventRecord r;
    r.instance_id = instance_id;
    r.seq = ++seq;
    r.at_ms = when;
    r.type = e.type;
    r.body = e.body;
    out.push_back(std::move(r));
  }
  return out;
}

inline std::vector<std::string> types_of(const std::vector<Event>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.type);
  return out;
}

}  // namespace sla_test
