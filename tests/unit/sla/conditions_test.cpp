// Clock conditions (enter, leave, event, when), their precedence, reset cycles, warnings and their
// actions, targets by data and by deadline, timers (stale and late), and the instance view.
#include "sla_harness.h"

using namespace sla_test;
using sla::ClockStatus;

namespace {

// 24x7 clock on the fixture with the given condition lines.
std::shared_ptr<const Workflow> clock_with(const std::string& body, const std::string& more = "") {
  return tickets("[sla.c]\n" + body + "\n" + more);
}

constexpr const char* kMonday9 = "2026-03-09T09:00:00Z";

}  // namespace

TEST_CASE("a clock starts on an event", "[sla][conditions]") {
  Driver d(clock_with(
               "start = { event = \"triage\" }\nstop = { enter = \"resolved\" }\ntarget = \"4h\""),
           at(kMonday9));
  d.start();
  CHECK(d.clock("c").status == ClockStatus::kPending);
  d.fire("triage");
  CHECK(d.clock("c").status == ClockStatus::kRunning);
  CHECK(d.clock("c").cycle == 1);
}

TEST_CASE("a clock starts when a condition becomes true, once", "[sla][conditions]") {
  Driver d(clock_with("start = { when = \"priority == 'P2'\" }\nstop = { enter = \"resolved\" }\n"
                      "target = \"4h\""),
           at(kMonday9));
  d.start();
  CHECK(d.clock("c").status == ClockStatus::kPending);
  d.fire("triage", {{"priority", "P2"}});
  CHECK(d.clock("c").status == ClockStatus::kRunning);
  d.update({{"risk", "low"}});  // still P2: no edge, nothing new
  CHECK(d.events(sla::event::kStarted).size() == 1);
}

TEST_CASE("a condition true at instance start fires at the start", "[sla][conditions]") {
  Driver d(clock_with("start = { when = \"tier == 1\" }\nstop = { enter = \"resolved\" }\n"
                      "target = \"4h\""),
           at(kMonday9));
  d.start();
  CHECK(d.clock("c").status == ClockStatus::kRunning);
}

TEST_CASE("start and stop true in the same step: the clock never starts", "[sla][conditions]") {
  Driver d(clock_with("start = { enter = \"l1\" }\nstop = { event = \"triage\" }\ntarget = \"4h\""),
           at(kMonday9));
  d.start();
  d.fire("triage");
  CHECK(d.clock("c").status == ClockStatus::kPending);
  CHECK(d.events(sla::event::kStarted).empty());
}

TEST_CASE("a clock stops when it leaves a state, met within its target", "[sla][conditions]") {
  Driver d(clock_with("start = { enter = \"l1\" }\nstop = { leave = \"l1\" }\ntarget = \"4h\""),
           at(kMonday9));
  d.start();
  d.fire("triage");
  d.advance(hours(1));
  d.fire("resolve");
  auto done = d.events(sla::event::kCompleted, "c");
  REQUIRE(done.size() == 1);
  CHECK(done[0].body["met"] == true);
  CHECK(done[0].body["breached"] == false);
  CHECK(done[0].body["business_elapsed_ms"] == hours(1));
  CHECK(done[0].body["time_left_ms"] == hours(3));
  CHECK(d.clock("c").met);
  CHECK(d.timers().empty());
}

TEST_CASE("stopping exactly at the target counts as breached", "[sla][conditions]") {
  Driver d(clock_with("start = { enter = \"l1\" }\nstop = { leave = \"l1\" }\ntarget = \"4h\""),
           at(kMonday9));
  d.start();
  d.fire("triage");
  d.set_now(d.now() + hours(4));  // the breach timer has not fired yet
  d.fire("resolve");
  auto done = d.events(sla::event::kCompleted, "c");
  REQUIRE(done.size() == 1);
  CHECK(done[0].body["met"] == false);
  CHECK(done[0].body["breached"] == true);
}

TEST_CASE("a pause on a data condition resumes when the condition becomes false again",
          "[sla][conditions]") {
  Driver d(clock_with("start = { enter = \"l1\" }\npause = { when = \"hold\" }\n"
                      "stop = { enter = \"resolved\" }\ntarget = \"4h\""),
           at(kMonday9));
  d.start();
  d.fire("triage");
  d.advance(hours(1));
  d.update({{"hold", true}});
  CHECK(d.clock("c").status == ClockStatus::kPaused);
  CHECK(d.clock("c").business_ms == hours(1));
  d.advance(hours(2));
  d.update({{"hold", false}});
  CHECK(d.clock("c").status == ClockStatus::kRunning);
  CHECK(d.clock("c").paused_ms == hours(2));
  CHECK(d.clock("c").planned_breach_at == at("2026-03-09T15:00:00Z"));
}

TEST_CASE("a pause on leaving a state resumes on entering it again", "[sla][conditions]") {
  Driver d(clock_with("start = { enter = \"l1\" }\npause = { leave = \"l1\" }\n"
                      "stop = { enter = \"resolved\" }\ntarget = \"4h\""),
           at(kMonday9));
  d.start();
  d.fire("triage");
  d.fire("wait");
  CHECK(d.clock("c").status == ClockStatus::kPaused);
  d.fire("reply");
  CHECK(d.clock("c").status == ClockStatus::kRunning);
}

TEST_CASE("an explicit resume condition is used instead of the implied one", "[sla][conditions]") {
  Driver d(clock_with("start = { enter = \"l1\" }\npause = { event = \"wait\" }\n"
                      "resume = { event = \"reply\" }\nstop = { enter = \"resolved\" }\n"
                      "target = \"4h\""),
           at(kMonday9));
  d.start();
  d.fire("triage");
  d.fire("wait");
  CHECK(d.clock("c").status == ClockStatus::kPaused);
  d.fire("reply");
  CHECK(d.clock("c").status == ClockStatus::kRunning);
  CHECK(d.clock("c").pauses == 1);
}

TEST_CASE("a stop while paused completes the clock with the pause counted", "[sla][conditions]") {
  Driver d(clock_with("start = { enter = \"new\" }\npause = { enter = \"waiting\" }\n"
                      "stop = { event = \"reply\" }\ntarget = \"4h\""),
           at(kMonday9));
  d.start();
  d.fire("triage");
  d.fire("wait");
  d.advance(hours(2));
  d.fire("reply");
  auto done = d.events(sla::event::kCompleted, "c");
  REQUIRE(done.size() == 1);
  CHECK(done[0].body["paused_ms"] == hours(2));
  CHECK(done[0].body["business_elapsed_ms"] == 0);
}

TEST_CASE("a cancel condition cancels a running clock and wins over stop", "[sla][conditions]") {
  Driver d(clock_with("start = { enter = \"new\" }\ncancel = { enter = \"l2\" }\n"
                      "stop = { event = \"escalate\" }\ntarget = \"4h\""),
           at(kMonday9));
  d.start();
  d.fire("triage");
  d.fire("escalate", {{"reason", "hard"}});
  CHECK(d.clock("c").status == ClockStatus::kCancelled);
  auto cancelled = d.events(sla::event::kCancelled, "c");
  REQUIRE(cancelled.size() == 1);
  CHECK(cancelled[0].body["reason"] == "condition");
  CHECK(d.events(sla::event::kCompleted).empty());
}

TEST_CASE("reaching a terminal state cancels the clocks still open", "[sla][conditions]") {
  Driver d(
      clock_with("start = { enter = \"new\" }\nstop = { enter = \"resolved\" }\ntarget = \"4h\""),
      at(kMonday9));
  d.start();
  d.fire("cancel");
  auto cancelled = d.events(sla::event::kCancelled, "c");
  REQUIRE(cancelled.size() == 1);
  CHECK(cancelled[0].body["reason"] == "instance_completed");
  CHECK(d.timers().empty());
}

TEST_CASE("cancelling the instance cancels its clocks", "[sla][conditions]") {
  Driver d(
      clock_with("start = { enter = \"new\" }\nstop = { enter = \"resolved\" }\ntarget = \"4h\""),
      at(kMonday9));
  d.start();
  d.lifecycle(CommandKind::kCancel);
  auto cancelled = d.events(sla::event::kCancelled, "c");
  REQUIRE(cancelled.size() == 1);
  CHECK(cancelled[0].body["reason"] == "instance_cancelled");
}

TEST_CASE("a completed clock starts its next cycle when its start condition fires again",
          "[sla][conditions][cycles]") {
  Driver d(clock_with("start = { enter = \"l1\" }\nstop = { enter = \"resolved\" }\n"
                      "retroactive_start = \"reported_at\"\ntarget = \"4h\""),
           at(kMonday9));
  d.start({{"reported_at", "2026-03-09T08:00:00Z"}});
  d.fire("triage");
  CHECK(d.clock("c").started_at == at("2026-03-09T08:00:00Z"));  // retroactive: first cycle
  d.advance(hours(1));
  d.fire("resolve");
  d.advance(hours(1));
  d.fire("reopen");
  CHECK(d.clock("c").status == ClockStatus::kRunning);
  CHECK(d.clock("c").cycle == 2);
  CHECK(d.clock("c").started_at == at("2026-03-09T11:00:00Z"));  // not moved back again
  d.advance(hours(5));
  d.fire("resolve");
  auto done = d.events(sla::event::kCompleted, "c");
  REQUIRE(done.size() == 2);
  CHECK(done[0].body["cycle"] == 1);
  CHECK(done[0].body["met"] == true);
  CHECK(done[1].body["cycle"] == 2);
  CHECK(done[1].body["met"] == false);
  CHECK(d.events(sla::event::kBreached).size() == 1);
  CHECK(d.events(sla::event::kReset).empty());
}

TEST_CASE("a reset of a closed clock does nothing", "[sla][conditions][reset]") {
  Driver d(clock_with("start = { enter = \"new\" }\nstop = { enter = \"l1\" }\n"
                      "reset = { event = \"wait\" }\ntarget = \"4h\""),
           at(kMonday9));
  d.start();
  d.fire("triage");
  d.fire("wait");
  CHECK(d.clock("c").status == ClockStatus::kCompleted);
  CHECK(d.events(sla::event::kReset).empty());
}

TEST_CASE("a reset of a running clock restarts it with a fresh target",
          "[sla][conditions][reset]") {
  Driver d(clock_with("start = { enter = \"l1\" }\nstop = { enter = \"resolved\" }\n"
                      "reset = { enter = \"l2\" }\ntarget = \"4h\"\nwarnings = [50]"),
           at(kMonday9));
  d.start();
  d.fire("triage");
  d.advance(hours(3));
  CHECK(d.clock("c").has_warned(50));
  d.fire("escalate", {{"reason", "x"}});
  auto reset = d.events(sla::event::kReset, "c");
  REQUIRE(reset.size() == 1);
  CHECK(reset[0].body["business_elapsed_ms"] == hours(3));
  auto c = d.clock("c");
  CHECK(c.cycle == 2);
  CHECK(c.warned.empty());
  CHECK(c.planned_breach_at == at("2026-03-09T16:00:00Z"));
}

TEST_CASE("warnings at 50 and 75 percent notify, set data, then the breach", "[sla][warnings]") {
  Driver d(
      clock_with("calendar = \"office\"\nstart = { enter = \"l1\" }\n"
                 "stop = { enter = \"resolved\" }\ntarget = \"8h\"\n"
                 "warnings = [{ at = 50, notify = \"manager\", set = { risk = \"'amber'\" } },\n"
                 "            { at = 75, notify = [\"manager\"], set = { risk = \"'red'\" } }]\n"
                 "breach = { set = { escalated = true } }"),
      at(kMonday9));
  d.start();
  d.fire("triage");
  auto timers = d.timers();
  REQUIRE(timers.size() == 1);
  CHECK(timers[0].timer_id == "sla/c/warning-50");
  CHECK(timers[0].due_ms == at("2026-03-09T13:00:00Z"));
  d.advance_to(at("2026-03-09T13:00:00Z"));
  CHECK(d.state().data[*d.workflow().field_index("risk")] == Value::string("amber"));
  REQUIRE(d.timers().size() == 1);
  CHECK(d.timers()[0].timer_id == "sla/c/warning-75");
  CHECK(d.timers()[0].due_ms == at("2026-03-09T15:00:00Z"));
  d.advance_to(at("2026-03-10T12:00:00Z"));
  auto warnings = d.events(sla::event::kWarning, "c");
  REQUIRE(warnings.size() == 2);
  CHECK(warnings[0].body["percent"] == 50);
  CHECK(warnings[1].body["percent"] == 75);
  CHECK(warnings[1].body["notify"] == json::array({"manager"}));
  CHECK(d.state().data[*d.workflow().field_index("risk")] == Value::string("red"));
  auto breached = d.events(sla::event::kBreached, "c");
  REQUIRE(breached.size() == 1);
  CHECK(breached[0].body["due_at"] == "2026-03-09T17:00:00Z");  // 8 business hours: closing time
  CHECK(d.state().data[*d.workflow().field_index("escalated")] == Value::boolean(true));
  CHECK(d.timers().empty());  // a breached clock asks for no more timers
  CHECK(d.clock("c").status == ClockStatus::kRunning);
}

TEST_CASE("a timer missed while the engine was down fires once, late, with everything it missed",
          "[sla][timers]") {
  Driver d(clock_with("start = { enter = \"l1\" }\nstop = { enter = \"resolved\" }\n"
                      "target = \"4h\"\nwarnings = [50]"),
           at(kMonday9));
  d.start();
  d.fire("triage");
  auto timer = d.timers().at(0);
  CHECK(timer.timer_id == "sla/c/warning-50");
  auto events = d.fire_timer(timer, at("2026-03-09T14:00:00Z"));  // 3h late
  CHECK(types_of(events) == std::vector<std::string>{"sla.warning", "sla.breached"});
  CHECK(events[0].body["lateness_ms"] == hours(3));
  CHECK(events[1].body["lateness_ms"] == hours(1));
  CHECK(d.timers().empty());
  // The same timer again (a duplicate delivery) is stale: nothing happens.
  CHECK(d.fire_timer(timer, at("2026-03-09T14:00:01Z")).empty());
}

TEST_CASE("a timer the state no longer asks for is ignored", "[sla][timers]") {
  Driver d(clock_with("start = { enter = \"l1\" }\npause = { enter = \"waiting\" }\n"
                      "stop = { enter = \"resolved\" }\ntarget = \"4h\""),
           at(kMonday9));
  d.start();
  d.fire("triage");
  auto timer = d.timers().at(0);
  d.fire("wait");
  CHECK(d.fire_timer(timer, timer.due_ms).empty());
  CHECK(d.clock("c").status == ClockStatus::kPaused);
}

TEST_CASE("warnings already due at a retroactive start are recorded at once, late",
          "[sla][warnings]") {
  Driver d(clock_with("start = { enter = \"l1\" }\nretroactive_start = \"reported_at\"\n"
                      "stop = { enter = \"resolved\" }\ntarget = \"4h\"\nwarnings = [50, 75]"),
           at("2026-03-09T12:00:00Z"));
  d.start({{"reported_at", "2026-03-09T09:00:00Z"}});
  auto events = d.fire("triage");
  std::vector<std::string> sla_types;
  for (const auto& e : events) {
    if (e.type.starts_with("sla.")) sla_types.push_back(e.type);
  }
  CHECK(sla_types == std::vector<std::string>{"sla.started", "sla.warning", "sla.warning"});
  CHECK(d.events(sla::event::kWarning)[0].body["lateness_ms"] == hours(1));
  CHECK(d.timers().at(0).timer_id == "sla/c/breach");
}

TEST_CASE("a retroactive start never moves the start into the future", "[sla][conditions]") {
  Driver d(clock_with("start = { enter = \"l1\" }\nretroactive_start = \"reported_at\"\n"
                      "stop = { enter = \"resolved\" }\ntarget = \"4h\""),
           at(kMonday9));
  d.start({{"reported_at", "2026-03-10T09:00:00Z"}});
  d.fire("triage");
  CHECK(d.clock("c").started_at == at(kMonday9));
  CHECK(d.events(sla::event::kStarted)[0].body["retroactive"] == false);
}

TEST_CASE("a target by priority follows a priority change while running", "[sla][targets]") {
  Driver d(clock_with("start = { enter = \"l1\" }\nstop = { enter = \"resolved\" }\n"
                      "target = { by = \"priority\", values = { P1 = \"2h\", P2 = \"4h\", "
                      "P3 = \"8h\", P4 = \"1d\" } }"),
           at(kMonday9));
  d.start();
  d.fire("triage", {{"priority", "P3"}});
  CHECK(d.clock("c").target_ms == hours(8));
  d.advance(hours(1));
  d.update({{"priority", "P2"}});
  auto re = d.events(sla::event::kRetargeted, "c");
  REQUIRE(re.size() == 1);
  CHECK(re[0].body["from_target_ms"] == hours(8));
  CHECK(re[0].body["target_ms"] == hours(4));
  CHECK(re[0].body["target_source"] == "priority=P2");
  CHECK(d.clock("c").planned_breach_at == at("2026-03-09T13:00:00Z"));
  // Already past the P1 target: the breach is recorded in the same step, 1h late.
  d.advance(hours(2));
  auto events = d.update({{"priority", "P1"}});
  auto breached = d.events(sla::event::kBreached, "c");
  REQUIRE(breached.size() == 1);
  CHECK(breached[0].body["due_at"] == "2026-03-09T11:00:00Z");
  CHECK(breached[0].body["lateness_ms"] == hours(1));
}

TEST_CASE("a start waits for its target and begins at the time it was asked for",
          "[sla][targets]") {
  Driver d(clock_with("start = { enter = \"new\" }\nstop = { enter = \"resolved\" }\n"
                      "target = { by = \"priority\", values = { P1 = \"2h\", P2 = \"4h\", "
                      "P3 = \"8h\", P4 = \"1d\" } }"),
           at(kMonday9));
  d.start();
  CHECK(d.clock("c").status == ClockStatus::kPending);
  CHECK(d.clock("c").requested_at == at(kMonday9));
  REQUIRE(d.events(sla::event::kStartDeferred).size() == 1);
  d.advance(hours(1));
  d.fire("triage", {{"priority", "P1"}});
  auto c = d.clock("c");
  CHECK(c.status == ClockStatus::kRunning);
  CHECK(c.started_at == at(kMonday9));
  CHECK(c.planned_breach_at == at("2026-03-09T11:00:00Z"));
}

TEST_CASE("a start waiting for its target is dropped when the stop comes first", "[sla][targets]") {
  Driver d(
      clock_with("start = { enter = \"new\" }\nstop = { enter = \"resolved\" }\n"
                 "target = { by = \"priority\", values = { P1 = \"2h\" } , default = \"8h\" }"),
      at(kMonday9));
  d.start();
  d.fire("triage");  // no priority given
  d.fire("resolve");
  REQUIRE(d.events(sla::event::kStartDropped).size() == 1);
  CHECK_FALSE(d.clock("c").requested_at);
  CHECK(d.clock("c").status == ClockStatus::kPending);
}

TEST_CASE("a deadline target breaches at the deadline", "[sla][targets]") {
  Driver d(clock_with("calendar = \"office\"\nstart = { enter = \"l1\" }\n"
                      "stop = { enter = \"resolved\" }\ndeadline = \"due_at\""),
           at(kMonday9));
  d.start({{"due_at", "2026-03-10T12:00:00Z"}});
  d.fire("triage");
  auto c = d.clock("c");
  CHECK(c.target_ms == hours(11));
  CHECK(c.planned_breach_at == at("2026-03-10T12:00:00Z"));
  CHECK(c.target_source == "deadline due_at = 2026-03-10T12:00:00Z");
}

TEST_CASE("a breach escalation that the core refuses is recorded, and the clock goes on",
          "[sla][actions]") {
  Driver d(
      clock_with("start = { enter = \"l1\" }\nstop = { enter = \"resolved\" }\ntarget = \"2h\"\n"
                 "breach = { fire = \"escalate\", payload = { reason = \"late\" }, "
                 "set = { escalated = true } }"),
      at(kMonday9));
  d.start();
  d.fire("triage");
  d.lifecycle(CommandKind::kSuspend);
  d.advance(hours(3));
  auto failed = d.events(sla::event::kActionFailed, "c");
  REQUIRE(failed.size() == 2);
  CHECK(failed[0].body["action"] == "set");
  CHECK(failed[1].body["action"] == "fire");
  CHECK(failed[1].body["code"] == "lifecycle");
  CHECK(d.state().state == "l1");
  CHECK(d.clock("c").breached);
}

TEST_CASE("the instance view lists every clock with its status and times", "[sla][view]") {
  Driver d(tickets(R"(
[sla.response]
calendar = "office"
start = { enter = "new" }
stop = { leave = "new" }
target = "1h"

[ola.l1]
start = { enter = "l1" }
stop = { leave = "l1" }
target = "2h"
)"),
           at(kMonday9));
  d.start();
  json v = d.view();
  REQUIRE(v["clocks"].size() == 2);
  CHECK(v["clocks"][0]["id"] == "response");
  CHECK(v["clocks"][0]["kind"] == "sla");
  CHECK(v["clocks"][0]["status"] == "running");
  CHECK(v["clocks"][0]["calendar"] == "office");
  CHECK(v["clocks"][0]["planned_breach_at"] == "2026-03-09T10:00:00Z");
  CHECK(v["clocks"][0]["target"] == "1h");
  CHECK(v["clocks"][1]["id"] == "l1");
  CHECK(v["clocks"][1]["kind"] == "ola");
  CHECK(v["clocks"][1]["status"] == "pending");
  CHECK(v["clocks"][1]["calendar"] == "24x7");
}

TEST_CASE("malformed SLA events are refused by apply", "[sla][apply]") {
  auto hooks = sla::make_sla_hooks();
  auto wf = tickets("");
  InstanceState s;
  CHECK_FALSE(hooks->apply(s, Event{"sla.paused", {{"cycle", 1}}}, *wf, 0));
  CHECK_FALSE(
      hooks->apply(s, Event{"sla.paused", {{"clock", "x"}, {"business_elapsed_ms", 0}}}, *wf, 0));
  CHECK_FALSE(hooks->apply(s, Event{"sla.started", {{"clock", "x"}, {"cycle", 1}}}, *wf, 0));
  CHECK_FALSE(hooks->apply(s, Event{"sla.bogus", {{"clock", "x"}}}, *wf, 0));
  s.extra["sla"]["x"] = {{"status", "flying"}};
  CHECK_FALSE(hooks->apply(s, Event{"sla.warning", {{"clock", "x"}, {"percent", 50}}}, *wf, 0));
}

namespace {

std::shared_ptr<const Workflow> deal_with(const std::string& sections) {
  std::ifstream in(std::string(FLOWGATE_SOURCE_DIR) + "/tests/fixtures/gate/deal.toml");
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf() << "\n" << sections;
  auto r = load_text(text.str());
  INFO(listing(r));
  REQUIRE(r.ok());
  return r.workflow;
}

}  // namespace

TEST_CASE("a review clock runs from a gate submission to its recall (another plugin's events)",
          "[sla][conditions][gate]") {
  Driver d(deal_with(R"(
[ola.bid_review]
start = { events = ["gate.submitted:bid", "gate.reopened:bid"] }
stop = { events = ["gate.decided:bid", "gate.recalled:bid"] }
target = "2d"
)"),
           at(kMonday9));
  d.start();
  d.fire("submit", {{"amount", "1000.00"}});
  d.fire("authorise", {{"days", 5}});
  CHECK(d.state().lifecycle == Lifecycle::kAwaitingGate);
  CHECK(d.clock("bid_review").status == ClockStatus::kRunning);
  d.advance(hours(3));
  Command recall;
  recall.kind = CommandKind::kPlugin;
  recall.plugin = "gate";
  recall.action = "recall";
  recall.payload = {{"reason", "numbers changed"}};
  REQUIRE(d.run(recall));
  auto done = d.events(sla::event::kCompleted, "bid_review");
  REQUIRE(done.size() == 1);
  CHECK(done[0].body["business_elapsed_ms"] == hours(3));
  CHECK(done[0].body["met"] == true);
}

TEST_CASE("plugin events in conditions are checked: form, own events, declared gates",
          "[sla][section][gate]") {
  std::ifstream in(std::string(FLOWGATE_SOURCE_DIR) + "/tests/fixtures/gate/deal.toml");
  std::stringstream text;
  text << in.rdbuf() << R"(
[ola.a]
start = { events = ["gate.submitted:nope"] }
stop = { event = "sla.breached" }
target = "1h"

[ola.b]
start = { event = "gate..x" }
stop = { event = "finish", events = ["finish"] }
target = "1h"
)";
  auto r = load_text(text.str());
  INFO(listing(r));
  CHECK_FALSE(r.ok());
  int unknown = 0;
  for (const auto& d : r.diagnostics.items()) unknown += d.rule == "SLA-EVENT-UNKNOWN";
  CHECK(unknown == 3);
  const Diagnostic* both = find_rule(r, "KEY-UNKNOWN");
  REQUIRE(both);
  CHECK(both->message.find("both 'event' and 'events'") != std::string::npos);
}
