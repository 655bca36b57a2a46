// The [calendars], [sla] and [ola] sections: a complete valid file, and one test per problem with
// its rule id and position.
#include "sla_harness.h"

using namespace sla_test;

namespace {

// The appended text starts on this line of the loaded file.
int first_line() {
  std::string base = read_fixture("tickets.toml");
  return static_cast<int>(std::count(base.begin(), base.end(), '\n')) + 2;
}

LoadResult load_with(const std::string& sections) {
  return load_text(read_fixture("tickets.toml") + "\n" + sections);
}

// Requires a diagnostic with `rule` on line `line` of the appended text (1-based).
const Diagnostic& expect(const LoadResult& r, std::string_view rule, int line) {
  INFO(listing(r));
  CHECK_FALSE(r.ok());
  for (const auto& d : r.diagnostics.items()) {
    if (d.rule == rule && d.location.line == first_line() + line - 1) return d;
  }
  FAIL("no " << rule << " on appended line " << line);
  throw;
}

}  // namespace

TEST_CASE("a complete SLA configuration loads with no diagnostic at all", "[sla][section]") {
  auto r = load_with(R"(
[calendars.berlin]
timezone = "Europe/Berlin"
hours = { mon-thu = ["08:00-12:00", "13:00-18:00"], fri = "08:00-14:00" }
holidays = [2026-04-03, "2026-04-06"]
annual_holidays = ["01-01", "12-25", "12-26"]

[sla.resolution]
name = "Resolution"
calendar = "berlin"
start = { enter = "new" }
pause = { enter = "waiting" }
stop = { enter = ["resolved", "closed"] }
cancel = { event = "cancel" }
reset = { event = "reopen" }
retroactive_start = "reported_at"
target = { by = "priority", values = { P1 = "4h", P2 = "8h", P3 = "2d", P4 = "5d" } }
warnings = [{ at = 50, notify = ["manager"], set = { risk = "'amber'" } }, 75]
breach = { notify = "manager", set = { risk = "'red'", hold = false } }

[ola.l1]
start = { enter = "l1" }
stop = { leave = "l1" }
deadline = "due_at"
breach = { fire = "escalate", payload = { reason = "L1 OLA breached" } }
)");
  INFO(listing(r));
  REQUIRE(r.ok());
  CHECK(r.diagnostics.empty());
  const auto* config = sla::sla_config(*r.workflow);
  REQUIRE(config);
  REQUIRE(config->clocks.size() == 2);
  CHECK(config->clocks[0].id == "resolution");
  CHECK(config->clocks[0].kind == sla::ClockKind::kSla);
  CHECK(config->clocks[0].calendar_id == "berlin");
  CHECK(config->clocks[0].warnings.size() == 2);
  CHECK(config->clocks[0].resume.leave == std::vector<std::string>{"waiting"});  // implied
  CHECK(config->clocks[1].kind == sla::ClockKind::kOla);
  CHECK(config->clocks[1].calendar->is_always());
  const auto& berlin = config->calendars.at("berlin")->spec();
  CHECK(berlin.week[0].size() == 2);
  CHECK(berlin.week[4].size() == 1);
  CHECK(berlin.week[5].empty());
}

TEST_CASE("an unknown key in a clock is reported with a suggestion", "[sla][section]") {
  auto r = load_with(
      "[sla.c]\nstrat = { enter = \"new\" }\nstart = { enter = \"new\" }\n"
      "stop = { enter = \"resolved\" }\ntarget = \"1h\"\n");
  const auto& d = expect(r, "KEY-UNKNOWN", 2);
  CHECK(d.hint == "did you mean 'start'?");
  CHECK(d.location.column == 1);
}

TEST_CASE("a clock without start, stop or target is reported", "[sla][section]") {
  auto r = load_with("[sla.c]\nname = \"C\"\n");
  INFO(listing(r));
  int missing = 0;
  for (const auto& d : r.diagnostics.items()) missing += d.rule == "KEY-MISSING";
  CHECK(missing == 3);
}

TEST_CASE("a malformed duration is reported at its value", "[sla][section]") {
  auto r = load_with(
      "[sla.c]\nstart = { enter = \"new\" }\nstop = { enter = \"resolved\" }\n"
      "target = \"4 hours\"\n");
  const auto& d = expect(r, "VALUE-INVALID", 4);
  CHECK(d.location.column == 10);
  CHECK(d.message.find("'4 hours'") != std::string::npos);
}

TEST_CASE("an unknown time zone is reported with the closest real one", "[sla][section]") {
  auto r = load_with("[calendars.x]\ntimezone = \"Europe/Berln\"\n");
  const auto& d = expect(r, "SLA-TIMEZONE-UNKNOWN", 2);
  CHECK(d.hint == "did you mean 'Europe/Berlin'?");
}

TEST_CASE("overlapping working ranges are reported", "[sla][section]") {
  auto r = load_with(
      "[calendars.x]\ntimezone = \"UTC\"\nhours = { mon = [\"08:00-12:00\", "
      "\"11:00-13:00\"] }\n");
  expect(r, "SLA-HOURS-OVERLAP", 3);
}

TEST_CASE("a day given twice in the hours is reported", "[sla][section]") {
  auto r = load_with(
      "[calendars.x]\ntimezone = \"UTC\"\n[calendars.x.hours]\nmon-fri = "
      "\"09:00-17:00\"\nwed = \"10:00-12:00\"\n");
  const auto& d = expect(r, "SLA-HOURS-OVERLAP", 5);
  CHECK(d.message.find("wed is given twice") != std::string::npos);
}

TEST_CASE("malformed hours, days and holidays are reported", "[sla][section]") {
  auto r = load_with(
      "[calendars.x]\ntimezone = \"UTC\"\nhours = { mom = \"09:00-17:00\", "
      "tue = \"9:00-17:00\", fri-mon = \"09:00-10:00\" }\n"
      "holidays = [\"2026-02-30\"]\nannual_holidays = [\"12/25\"]\n");
  const auto& day = expect(r, "KEY-UNKNOWN", 3);
  CHECK(day.hint == "did you mean 'mon'?");
  expect(r, "VALUE-INVALID", 3);
  expect(r, "VALUE-INVALID", 4);
  expect(r, "VALUE-INVALID", 5);
  int unknown_days = 0;
  for (const auto& d : r.diagnostics.items()) unknown_days += d.rule == "KEY-UNKNOWN";
  CHECK(unknown_days == 2);  // mom, fri-mon
}

TEST_CASE("hours with no working time at all are refused", "[sla][section]") {
  auto r = load_with("[calendars.x]\ntimezone = \"UTC\"\nhours = { mon = [] }\n");
  expect(r, "SLA-CALENDAR-EMPTY", 3);
}

TEST_CASE("an undeclared calendar is reported with a suggestion", "[sla][section]") {
  auto r = load_with(
      "[sla.c]\ncalendar = \"ofice\"\nstart = { enter = \"new\" }\n"
      "stop = { enter = \"resolved\" }\ntarget = \"1h\"\n");
  const auto& d = expect(r, "SLA-CALENDAR-UNKNOWN", 2);
  CHECK(d.hint == "did you mean 'office'?");
}

TEST_CASE("unknown states and events in conditions are reported", "[sla][section]") {
  auto r = load_with(
      "[sla.c]\nstart = { enter = \"nwe\" }\nstop = { event = \"resolv\" }\n"
      "target = \"1h\"\n");
  CHECK(expect(r, "SLA-STATE-UNKNOWN", 2).hint == "did you mean 'new'?");
  CHECK(expect(r, "SLA-EVENT-UNKNOWN", 3).hint == "did you mean 'resolve'?");
}

TEST_CASE("a condition expression is type-checked against the data, without event fields",
          "[sla][section]") {
  auto r = load_with(
      "[sla.c]\nstart = { when = \"priority == 'P7'\" }\n"
      "stop = { when = \"event.reason == 'x'\" }\npause = { when = \"tier\" }\n"
      "resume = { when = \"tier ==\" }\ntarget = \"1h\"\n");
  expect(r, "GUARD-TYPE", 2);
  expect(r, "GUARD-TYPE", 3);
  const auto& not_bool = expect(r, "GUARD-TYPE", 4);
  CHECK(not_bool.message.find("not bool") != std::string::npos);
  expect(r, "GUARD-SYNTAX", 5);
}

TEST_CASE("an empty condition is reported", "[sla][section]") {
  auto r = load_with("[sla.c]\nstart = {}\nstop = { enter = \"resolved\" }\ntarget = \"1h\"\n");
  expect(r, "SLA-CONDITION-EMPTY", 2);
}

TEST_CASE("a pause on events needs a resume, and a resume needs a pause", "[sla][section]") {
  auto r = load_with(
      "[sla.c]\nstart = { enter = \"new\" }\npause = { event = \"wait\" }\n"
      "stop = { enter = \"resolved\" }\ntarget = \"1h\"\n\n"
      "[sla.d]\nstart = { enter = \"new\" }\nresume = { event = \"reply\" }\n"
      "stop = { enter = \"resolved\" }\ntarget = \"1h\"\n");
  expect(r, "SLA-RESUME-MISSING", 3);
  expect(r, "SLA-PAUSE-MISSING", 9);
}

TEST_CASE("retroactive starts and deadlines need datetime fields", "[sla][section]") {
  auto r = load_with(
      "[sla.c]\nstart = { enter = \"new\" }\nstop = { enter = \"resolved\" }\n"
      "retroactive_start = \"risk\"\ndeadline = \"due_a\"\n");
  expect(r, "SLA-FIELD-TYPE", 4);
  CHECK(expect(r, "SLA-FIELD-UNKNOWN", 5).hint == "did you mean 'due_at'?");
}

TEST_CASE("target and deadline together are a conflict", "[sla][section]") {
  auto r = load_with(
      "[sla.c]\nstart = { enter = \"new\" }\nstop = { enter = \"resolved\" }\n"
      "target = \"1h\"\ndeadline = \"due_at\"\n");
  expect(r, "SLA-TARGET-CONFLICT", 5);
}

TEST_CASE("a target by field names real values and covers every member", "[sla][section]") {
  auto r = load_with(
      "[sla.c]\nstart = { enter = \"new\" }\nstop = { enter = \"resolved\" }\n"
      "target = { by = \"priority\", values = { P1 = \"1h\", P5 = \"2h\" } }\n");
  CHECK(expect(r, "SLA-TARGET-VALUE", 4).message.find("'P5'") != std::string::npos);
  const auto& incomplete = expect(r, "SLA-TARGET-INCOMPLETE", 4);
  CHECK(incomplete.message.find("'P2', 'P3', 'P4'") != std::string::npos);
}

TEST_CASE("a target by a datetime field is refused", "[sla][section]") {
  auto r = load_with(
      "[sla.c]\nstart = { enter = \"new\" }\nstop = { enter = \"resolved\" }\n"
      "target = { by = \"due_at\", values = { x = \"1h\" } }\n");
  expect(r, "SLA-FIELD-TYPE", 4);
}

TEST_CASE("warnings lie between 1 and 99 percent, once each", "[sla][section]") {
  auto r = load_with(
      "[sla.c]\nstart = { enter = \"new\" }\nstop = { enter = \"resolved\" }\n"
      "target = \"1h\"\nwarnings = [0, 50, { at = 50 }, 100]\n");
  int n = 0;
  for (const auto& d : r.diagnostics.items()) n += d.rule == "SLA-WARNING-PERCENT";
  CHECK(n == 3);
}

TEST_CASE("actions name declared roles, fields and events, with a payload that fits",
          "[sla][section]") {
  auto r = load_with(
      "[sla.c]\nstart = { enter = \"new\" }\nstop = { enter = \"resolved\" }\n"
      "target = \"1h\"\n"
      "warnings = [{ at = 50, notify = \"managr\", set = { riks = \"'x'\" } }]\n"
      "breach = { fire = \"escalate\" }\n"
      "[ola.d]\nstart = { enter = \"new\" }\nstop = { enter = \"resolved\" }\n"
      "target = \"1h\"\nbreach = { fire = \"escalat\", payload = { reason = \"x\" } }\n"
      "[ola.e]\nstart = { enter = \"new\" }\nstop = { enter = \"resolved\" }\n"
      "target = \"1h\"\nbreach = { payload = { reason = \"x\" }, notfy = \"agent\" }\n");
  CHECK(expect(r, "SLA-ROLE-UNKNOWN", 5).hint == "did you mean 'manager'?");
  CHECK(expect(r, "SET-UNKNOWN-FIELD", 5).hint == "did you mean 'risk'?");
  CHECK(expect(r, "SLA-PAYLOAD-INVALID", 6).message.find("reason") != std::string::npos);
  CHECK(expect(r, "SLA-EVENT-UNKNOWN", 11).hint == "did you mean 'escalate'?");
  expect(r, "SLA-PAYLOAD-INVALID", 16);
  CHECK(expect(r, "KEY-UNKNOWN", 16).hint == "did you mean 'notify'?");
}

TEST_CASE("the same id as an SLA and an OLA is a duplicate", "[sla][section]") {
  auto r = load_with(
      "[sla.c]\nstart = { enter = \"new\" }\nstop = { enter = \"resolved\" }\n"
      "target = \"1h\"\n[ola.c]\nstart = { enter = \"new\" }\n"
      "stop = { enter = \"resolved\" }\ntarget = \"1h\"\n");
  expect(r, "ID-DUPLICATE", 5);
}

TEST_CASE("sections of the wrong shape are reported, not crashed on", "[sla][section]") {
  // Top-level keys go before the first table; [calendars] may follow its sub-table.
  auto r = load_text("sla = 3\nola = { c = 4 }\n" + read_fixture("tickets.toml") +
                     "\n[calendars]\nx = \"UTC\"\n");
  INFO(listing(r));
  CHECK_FALSE(r.ok());
  int type_errors = 0;
  for (const auto& d : r.diagnostics.items()) type_errors += d.rule == "VALUE-TYPE";
  CHECK(type_errors == 3);
}
