// SLA clocks through the real Engine: durable timers on a temporary database, a simulated clock
// advanced with advance_clock, restarts, and replay of the recorded history.
#include <catch2/catch.hpp>

#include "runtime/catalog.h"
#include "runtime/clock.h"
#include "runtime/engine.h"
#include "sla_harness.h"
#include "support/temp_dir.h"

using namespace sla_test;
using flowgate::testing::TempDir;

namespace {

const char* kClocks = R"(
[sla.resolve]
calendar = "office"
start = { enter = "l1" }
pause = { enter = "waiting" }
stop = { enter = "resolved" }
target = "8h"
warnings = [{ at = 50, notify = "manager" }]

[ola.l1]
calendar = "office"
start = { enter = "l1" }
stop = { leave = "l1" }
target = "2h"
breach = { notify = "manager", fire = "escalate", payload = { reason = "L1 OLA breached" } }
)";

constexpr const char* kT0 = "2026-03-09T09:30:00Z";  // a Monday

struct EngineHarness {
  TempDir dir;
  std::shared_ptr<SimulatedClock> clock = std::make_shared<SimulatedClock>(at(kT0));
  std::shared_ptr<HookSet> hooks = std::make_shared<HookSet>();
  std::shared_ptr<const Workflow> wf = tickets(kClocks);
  std::unique_ptr<Engine> engine;

  EngineHarness() {
    hooks->add(sla::make_sla_hooks());
    hooks->add(std::make_shared<gate::GateHooks>());
    open();
  }
  void open() {
    engine.reset();
    auto catalog = std::make_shared<Catalog>();
    catalog->add(wf);
    EngineOptions o;
    o.db_path = dir.file("sla.db");
    o.hooks = hooks;
    o.synchronous_full = false;
    auto e = Engine::open(o, catalog, clock, sla_registry());
    if (!e) FAIL(e.error().to_string());
    engine = std::move(*e);
  }
  CommandOutcome run(Command c) {
    if (c.actor.principal.empty()) c.actor = Actor{"ana", {"agent", "expert", "manager"}, ""};
    auto r = engine->execute(std::move(c));
    if (!r) FAIL(r.error().to_string());
    return *r;
  }
  std::string start() {
    Command c;
    c.kind = CommandKind::kStart;
    c.workflow_id = "tickets";
    return run(c).instance["instance_id"];
  }
  void fire(const std::string& id, const std::string& event) {
    Command c;
    c.kind = CommandKind::kFire;
    c.instance_id = id;
    c.event = event;
    run(c);
  }
  std::vector<EventRecord> history(const std::string& id) {
    auto h = engine->history(id);
    REQUIRE(h);
    return *h;
  }
  std::vector<EventRecord> of_type(const std::string& id, const std::string& type) {
    std::vector<EventRecord> out;
    for (auto& e : history(id)) {
      if (e.type == type) out.push_back(e);
    }
    return out;
  }
};

}  // namespace

TEST_CASE("through the engine, an L1 OLA breach escalates to L2 exactly at its due time",
          "[sla][engine]") {
  EngineHarness h;
  std::string id = h.start();
  h.fire(id, "triage");
  CHECK(h.engine->next_timer_due() == at("2026-03-09T11:30:00Z"));
  REQUIRE(h.engine->advance_clock(at("2026-03-09T16:00:00Z")));
  auto breached = h.of_type(id, "sla.breached");
  REQUIRE(breached.size() == 1);
  CHECK(breached[0].at_ms == at("2026-03-09T11:30:00Z"));
  CHECK(breached[0].body["lateness_ms"] == 0);
  CHECK(breached[0].actor["principal"] == "flowgate:timer");
  auto moves = h.of_type(id, "transitioned");
  REQUIRE(moves.size() == 2);
  CHECK(moves[1].body["event"] == "escalate");
  CHECK(moves[1].at_ms == at("2026-03-09T11:30:00Z"));
  CHECK(moves[1].seq == breached[0].seq + 1);  // the same command: breach, then escalation
  auto view = h.engine->get(id);
  REQUIRE(view);
  CHECK((*view)["state"] == "l2");
  REQUIRE((*view)["clocks"].size() == 2);
  CHECK((*view)["clocks"][1]["id"] == "l1");
  CHECK((*view)["clocks"][1]["breached"] == true);
  CHECK((*view)["clocks"][1]["status"] == "completed");
  // The resolution SLA warned at 50 % (13:30Z) and runs on: 8 business hours end Tuesday 09:30Z.
  CHECK(h.of_type(id, "sla.warning").size() == 1);
  CHECK(h.engine->next_timer_due() == at("2026-03-10T09:30:00Z"));
}

TEST_CASE(
    "after a restart the clock timers are rebuilt; a breach missed while down fires once, "
    "marked late",
    "[sla][engine]") {
  EngineHarness h;
  std::string id = h.start();
  h.fire(id, "triage");
  h.fire(id, "wait");   // the resolution clock pauses; the L1 OLA stops (met)
  h.fire(id, "reply");  // back at L1: the OLA starts its second cycle, due 11:30Z
  h.engine.reset();     // down at 09:30Z with the timers armed
  h.clock->advance_to(at("2026-03-09T12:00:00Z"));
  h.open();
  CHECK(h.engine->next_timer_due() == at("2026-03-09T11:30:00Z"));
  REQUIRE(h.engine->advance_clock(at("2026-03-09T12:00:00Z")));
  auto breached = h.of_type(id, "sla.breached");
  REQUIRE(breached.size() == 1);
  CHECK(breached[0].body["clock"] == "l1");
  CHECK(breached[0].body["due_at"] == "2026-03-09T11:30:00Z");
  CHECK(breached[0].body["lateness_ms"] == 30 * 60'000);
  CHECK(breached[0].at_ms == at("2026-03-09T12:00:00Z"));
  REQUIRE(h.engine->advance_clock(at("2026-03-09T12:30:00Z")));
  CHECK(h.of_type(id, "sla.breached").size() == 1);  // once only
  h.open();
  CHECK(h.of_type(id, "sla.breached").size() == 1);
  CHECK(h.engine->next_timer_due() == at("2026-03-09T13:30:00Z"));  // the 50 % warning
}

TEST_CASE("replaying the recorded events rebuilds the same clocks without a clock",
          "[sla][engine]") {
  EngineHarness h;
  std::string id = h.start();
  h.fire(id, "triage");
  REQUIRE(h.engine->advance_clock(at("2026-03-09T12:00:00Z")));
  h.fire(id, "wait");
  REQUIRE(h.engine->advance_clock(at("2026-03-10T10:00:00Z")));
  h.fire(id, "reply");
  REQUIRE(h.engine->advance_clock(at("2026-03-11T10:00:00Z")));
  InstanceState s;
  s.id = id;
  for (const auto& r : h.history(id)) {
    REQUIRE(apply(s, Event{r.type, r.body}, *h.wf, r.at_ms, h.hooks.get()));
  }
  auto view = h.engine->get(id);
  REQUIRE(view);
  json replayed = json::object();
  for (const auto& hook : h.hooks->all()) hook->describe(*h.wf, s, replayed);
  CHECK(replayed["clocks"] == (*view)["clocks"]);
  auto resolve = sla::clock_state(s.extra["sla"], "resolve");
  REQUIRE(resolve);
  CHECK(resolve->breached);
}
