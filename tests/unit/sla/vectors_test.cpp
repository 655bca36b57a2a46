// The issue's test vectors, driven through decide/apply with the SLA hooks: each is one test.
#include "sla_harness.h"

using namespace sla_test;

namespace {

const char* kResolveClock = R"(
[sla.resolve]
calendar = "office"
start = { enter = "new" }
stop = { enter = "resolved" }
target = "2h"
)";

}  // namespace

TEST_CASE("created Friday 16:00 with 2 business hours on Mon-Fri 09-17: due Monday 10:00",
          "[sla][vectors]") {
  Driver d(tickets(kResolveClock), at("2026-03-06T16:00:00Z"));
  d.start();
  auto started = d.events(sla::event::kStarted, "resolve");
  REQUIRE(started.size() == 1);
  CHECK(started[0].body["planned_breach_at"] == "2026-03-09T10:00:00Z");
  d.advance_to(at("2026-03-10T00:00:00Z"));
  auto breached = d.events(sla::event::kBreached, "resolve");
  REQUIRE(breached.size() == 1);
  CHECK(breached[0].body["due_at"] == "2026-03-09T10:00:00Z");
  CHECK(breached[0].body["lateness_ms"] == 0);
  CHECK(d.clock("resolve").breached_at == at("2026-03-09T10:00:00Z"));
}

TEST_CASE("the same 2-hour target in calendar hours (no calendar) is due Friday 18:00",
          "[sla][vectors]") {
  Driver d(tickets(R"(
[sla.resolve]
start = { enter = "new" }
stop = { enter = "resolved" }
target = "2h"
)"),
           at("2026-03-06T16:00:00Z"));
  d.start();
  CHECK(d.clock("resolve").planned_breach_at == at("2026-03-06T18:00:00Z"));
}

TEST_CASE("24x7, started 2015-01-01 10:30 with 10 hours: breach at 20:30", "[sla][vectors]") {
  Driver d(tickets(R"(
[sla.resolve]
start = { enter = "new" }
stop = { enter = "resolved" }
target = "10h"
)"),
           at("2015-01-01T10:30:00Z"));
  d.start();
  d.advance_to(at("2015-01-02T00:00:00Z"));
  auto breached = d.events(sla::event::kBreached, "resolve");
  REQUIRE(breached.size() == 1);
  CHECK(breached[0].body["due_at"] == "2015-01-01T20:30:00Z");
}

TEST_CASE("\"1d\" on a 09:00-17:00 calendar is 24 business hours: Monday 09:00 to Wednesday 17:00",
          "[sla][vectors]") {
  Driver d(tickets(R"(
[sla.resolve]
calendar = "office"
start = { enter = "new" }
stop = { enter = "resolved" }
target = "1d"
)"),
           at("2026-03-09T09:00:00Z"));
  d.start();
  CHECK(d.clock("resolve").planned_breach_at == at("2026-03-11T17:00:00Z"));
}

TEST_CASE(
    "retroactive start: raised to P1 at T+3h, the 8-hour 24x7 SLA starts at T and breaches "
    "at T+8h",
    "[sla][vectors]") {
  Driver d(tickets(R"(
[sla.p1_resolution]
start = { when = "priority == 'P1'" }
retroactive_start = "reported_at"
stop = { enter = "resolved" }
target = { by = "priority", values = { P1 = "8h" }, default = "3d" }
)"),
           at("2026-03-02T08:00:00Z"));
  d.start({{"reported_at", "2026-03-02T08:00:00Z"}});
  CHECK(d.clock("p1_resolution").status == sla::ClockStatus::kPending);
  d.advance(hours(3));
  d.fire("triage", {{"priority", "P1"}});
  auto started = d.events(sla::event::kStarted, "p1_resolution");
  REQUIRE(started.size() == 1);
  CHECK(started[0].body["started_at"] == "2026-03-02T08:00:00Z");
  CHECK(started[0].body["retroactive"] == true);
  CHECK(started[0].body["business_elapsed_ms"] == hours(3));
  CHECK(started[0].body["planned_breach_at"] == "2026-03-02T16:00:00Z");
  d.advance_to(at("2026-03-03T00:00:00Z"));
  auto breached = d.events(sla::event::kBreached, "p1_resolution");
  REQUIRE(breached.size() == 1);
  CHECK(breached[0].body["due_at"] == "2026-03-02T16:00:00Z");
}

TEST_CASE("a pause of 1 business hour moves the planned breach by 1 business hour",
          "[sla][vectors]") {
  Driver d(tickets(R"(
[sla.resolve]
calendar = "office"
start = { enter = "l1" }
pause = { enter = "waiting" }
stop = { enter = "resolved" }
target = "4h"
)"),
           at("2026-03-09T09:00:00Z"));
  d.start();
  d.fire("triage", {{"priority", "P3"}});
  const std::int64_t planned = *d.clock("resolve").planned_breach_at;
  CHECK(planned == at("2026-03-09T13:00:00Z"));
  d.advance(hours(1));
  d.fire("wait");
  CHECK(d.clock("resolve").status == sla::ClockStatus::kPaused);
  CHECK(d.timers().empty());
  d.advance(hours(1));
  d.fire("reply");
  auto resumed = d.events(sla::event::kResumed, "resolve");
  REQUIRE(resumed.size() == 1);
  CHECK(resumed[0].body["paused_business_ms"] == hours(1));
  CHECK(*d.clock("resolve").planned_breach_at == planned + hours(1));
  CHECK(d.clock("resolve").original_breach_at == planned);
}

TEST_CASE("a pause over the weekend moves the breach by the business time it covered only",
          "[sla][vectors]") {
  Driver d(tickets(R"(
[sla.resolve]
calendar = "office"
start = { enter = "l1" }
pause = { enter = "waiting" }
stop = { enter = "resolved" }
target = "4h"
)"),
           at("2026-03-06T15:00:00Z"));  // Friday
  d.start();
  d.fire("triage");
  d.fire("wait");                         // paused at once: nothing used yet
  d.set_now(at("2026-03-09T10:00:00Z"));  // Monday 10:00: 2h Friday + 1h Monday paused
  d.fire("reply");
  CHECK(d.events(sla::event::kResumed)[0].body["paused_business_ms"] == hours(3));
  CHECK(d.clock("resolve").planned_breach_at == at("2026-03-09T14:00:00Z"));
}

TEST_CASE("an L1 OLA breach escalates to L2 exactly at its due time", "[sla][vectors]") {
  Driver d(tickets(R"(
[ola.l1]
calendar = "office"
start = { enter = "l1" }
stop = { leave = "l1" }
target = "2h"
breach = { notify = ["manager"], fire = "escalate", payload = { reason = "L1 OLA breached" } }

[ola.l2]
calendar = "office"
start = { enter = "l2" }
stop = { leave = "l2" }
target = "1d"
)"),
           at("2026-03-09T09:30:00Z"));
  d.start();
  d.fire("triage", {{"priority", "P3"}});
  d.advance_to(at("2026-03-09T18:00:00Z"));
  REQUIRE(d.events(sla::event::kBreached, "l1").size() == 1);
  auto moves = d.events(events::kTransitioned);
  REQUIRE(moves.size() == 2);
  CHECK(moves[1].body["event"] == "escalate");
  CHECK(moves[1].body["to"] == "l2");
  CHECK(moves[1].body["payload"]["reason"] == "L1 OLA breached");
  // The escalation happened at the due time: 09:30 + 2 business hours.
  for (const auto& [e, when] : d.log()) {
    if (e.type == events::kTransitioned && e.body["event"] == "escalate") {
      CHECK(iso(when) == "2026-03-09T11:30:00Z");
    }
  }
  CHECK(d.state().state == "l2");
  auto l1 = d.clock("l1");
  CHECK(l1.status == sla::ClockStatus::kCompleted);
  CHECK(l1.breached);
  CHECK_FALSE(l1.met);
  auto l2 = d.clock("l2");
  CHECK(l2.status == sla::ClockStatus::kRunning);
  CHECK(l2.started_at == at("2026-03-09T11:30:00Z"));
  CHECK(d.events(sla::event::kBreached, "l1")[0].body["notify"] == json::array({"manager"}));
}

TEST_CASE("a clock on a New York calendar counts the March DST change in real hours",
          "[sla][vectors][dst]") {
  Driver d(tickets(R"(
[calendars.new_york]
timezone = "America/New_York"

[sla.resolve]
calendar = "new_york"
start = { enter = "new" }
stop = { enter = "resolved" }
target = "24h"
)"),
           at("2015-03-07T12:00:00-05:00"));
  d.start();
  // 24 real hours later; the wall clock says 13:00 because 02:00-03:00 did not exist.
  CHECK(d.clock("resolve").planned_breach_at == at("2015-03-08T13:00:00-04:00"));
}
