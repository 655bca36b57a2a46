// The SLA report from recorded events: counts, on-time rate and percentiles per clock.
#include "plugins/sla/report.h"
#include "sla_harness.h"

using namespace sla_test;

namespace {

const char* kClock = R"(
[sla.resolve]
start = { enter = "l1" }
stop = { enter = "resolved" }
target = "4h"

[ola.l1]
start = { enter = "l1" }
stop = { leave = "l1" }
target = "1h"
)";

// One ticket resolved `after` hours after triage, as instance `id`.
std::vector<EventRecord> ticket(const std::string& id, double after) {
  Driver d(tickets(kClock), at("2026-03-09T09:00:00Z"));
  d.start();
  d.fire("triage");
  d.advance(hours(after));
  d.fire("resolve");
  return records(d, id);
}

}  // namespace

TEST_CASE("the report counts met and breached cycles per clock, with the on-time rate",
          "[sla][report]") {
  std::vector<EventRecord> all;
  int n = 0;
  for (double h : {0.5, 1.0, 2.0, 3.0, 5.0}) {
    auto r = ticket("tickets-" + std::to_string(++n), h);
    all.insert(all.end(), r.begin(), r.end());
  }
  auto rows = sla::clock_report(all);
  REQUIRE(rows.size() == 2);
  const auto& l1 = rows[0];
  CHECK(l1.clock == "l1");
  CHECK(l1.kind == "ola");
  CHECK(l1.workflow == "tickets");
  CHECK(l1.count == 5);
  CHECK(l1.met == 1);  // 0.5h only; 1.0h reaches the target exactly: breached
  CHECK(l1.breached == 4);
  CHECK(l1.on_time_rate == Approx(0.2));
  const auto& resolve = rows[1];
  CHECK(resolve.clock == "resolve");
  CHECK(resolve.kind == "sla");
  CHECK(resolve.met == 4);
  CHECK(resolve.breached == 1);
  CHECK(resolve.on_time_rate == Approx(0.8));
  CHECK(resolve.p50_business_ms == hours(2));
  CHECK(resolve.p90_business_ms == hours(5));
}

TEST_CASE("open cycles and cancelled ones are counted apart from the rate", "[sla][report]") {
  Driver open(tickets(kClock), at("2026-03-09T09:00:00Z"));
  open.start();
  open.fire("triage");
  open.advance(hours(6));  // both clocks breach, still open
  Driver cancelled(tickets(kClock), at("2026-03-09T09:00:00Z"));
  cancelled.start();
  cancelled.fire("triage");
  cancelled.lifecycle(CommandKind::kCancel);
  std::vector<EventRecord> all = records(open, "tickets-1");
  auto more = records(cancelled, "tickets-2");
  all.insert(all.end(), more.begin(), more.end());
  auto rows = sla::clock_report(all);
  REQUIRE(rows.size() == 2);
  for (const auto& row : rows) {
    INFO(row.clock);
    CHECK(row.count == 0);
    CHECK_FALSE(row.on_time_rate);
    CHECK_FALSE(row.p50_business_ms);
    CHECK(row.open == 1);
    CHECK(row.open_breached == 1);
    CHECK(row.cancelled == 1);
  }
  CHECK(rows[0].to_json()["on_time_rate"].is_null());
}

TEST_CASE("percentiles use the nearest rank", "[sla][report]") {
  std::vector<std::int64_t> v{5, 1, 4, 2, 3, 6, 7, 8, 9, 10};
  CHECK(sla::percentile(v, 50) == 5);
  CHECK(sla::percentile(v, 90) == 9);
  CHECK(sla::percentile(v, 100) == 10);
  std::vector<std::int64_t> one{42};
  CHECK(sla::percentile(one, 90) == 42);
  std::vector<std::int64_t> none;
  CHECK_FALSE(sla::percentile(none, 50));
}
