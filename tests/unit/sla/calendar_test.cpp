// Business calendars: the public test vectors (ServiceNow / Zendesk documentation examples), DST
// in real hours, holidays, several ranges a day, and add/between as inverses.
#include <catch2/catch.hpp>

#include <random>

#include "definition/value.h"
#include "plugins/sla/calendar.h"

using namespace flowgate;
using namespace flowgate::sla;

namespace {

std::int64_t at(const char* rfc3339) {
  auto ms = parse_datetime_ms(rfc3339);
  REQUIRE(ms);
  return *ms;
}

std::int64_t hours(double h) { return static_cast<std::int64_t>(h * 3'600'000); }

std::shared_ptr<const BusinessCalendar> make(CalendarSpec spec) {
  auto cal = BusinessCalendar::make(std::move(spec));
  REQUIRE(cal);
  return *cal;
}

// Monday to Friday, 09:00-17:00 in `tz`.
std::shared_ptr<const BusinessCalendar> nine_to_five(const char* tz = "UTC") {
  CalendarSpec spec;
  spec.id = "office";
  spec.timezone = tz;
  for (int d = 0; d < 5; ++d) spec.week[d] = {{9 * 60, 17 * 60}};
  return make(std::move(spec));
}

std::string iso(std::int64_t ms) { return format_datetime_ms(ms); }

}  // namespace

TEST_CASE("Friday 16:00 plus 2 business hours on a 9-to-5 calendar is Monday 10:00",
          "[sla][calendar]") {
  auto cal = nine_to_five();
  auto due = cal->add(at("2026-03-06T16:00:00Z"), hours(2));
  REQUIRE(due);
  CHECK(iso(*due) == "2026-03-09T10:00:00Z");
}

TEST_CASE("the same 2 hours in calendar hours end Friday 18:00", "[sla][calendar]") {
  auto due = BusinessCalendar::always()->add(at("2026-03-06T16:00:00Z"), hours(2));
  REQUIRE(due);
  CHECK(iso(*due) == "2026-03-06T18:00:00Z");
}

TEST_CASE("24x7: started 2015-01-01 10:30, 10 hours breach at 20:30", "[sla][calendar]") {
  auto due = BusinessCalendar::always()->add(at("2015-01-01T10:30:00Z"), hours(10));
  REQUIRE(due);
  CHECK(iso(*due) == "2015-01-01T20:30:00Z");
}

TEST_CASE(
    "\"1 day\" on a 09:00-17:00 calendar is 24 business hours: Monday 09:00 to Wednesday 17:00",
    "[sla][calendar]") {
  auto cal = nine_to_five("Europe/Berlin");
  auto one_day = parse_duration_ms("1d");
  REQUIRE(one_day);
  auto due = cal->add(at("2026-03-09T09:00:00+01:00"), *one_day);
  REQUIRE(due);
  CHECK(iso(*due) == iso(at("2026-03-11T17:00:00+01:00")));
}

TEST_CASE("a duration ending exactly at closing time ends at closing time, not next morning",
          "[sla][calendar]") {
  auto cal = nine_to_five();
  CHECK(iso(*cal->add(at("2026-03-09T09:00:00Z"), hours(8))) == "2026-03-09T17:00:00Z");
  CHECK(iso(*cal->add(at("2026-03-09T09:00:00Z"), hours(8) + 1)) == "2026-03-10T09:00:00.001Z");
}

TEST_CASE("a start outside working hours counts from the next opening", "[sla][calendar]") {
  auto cal = nine_to_five();
  CHECK(iso(*cal->add(at("2026-03-07T11:00:00Z"), hours(1))) ==
        "2026-03-09T10:00:00Z");  // Saturday
  CHECK(iso(*cal->add(at("2026-03-09T06:00:00Z"), hours(1))) == "2026-03-09T10:00:00Z");  // early
  CHECK(cal->between(at("2026-03-07T00:00:00Z"), at("2026-03-08T23:59:00Z")) == 0);
}

TEST_CASE("a zero duration is due at its start, even outside working hours", "[sla][calendar]") {
  auto cal = nine_to_five();
  CHECK(*cal->add(at("2026-03-07T11:00:00Z"), 0) == at("2026-03-07T11:00:00Z"));
}

TEST_CASE("a DST change inside the window is counted in real hours (America/New_York, March)",
          "[sla][calendar][dst]") {
  CalendarSpec spec;
  spec.id = "ny";
  spec.timezone = "America/New_York";
  spec.always_open = true;
  auto cal = make(spec);
  // 2015-03-08 02:00 EST jumps to 03:00 EDT: 24 real hours after Saturday noon is Sunday 13:00.
  auto due = cal->add(at("2015-03-07T12:00:00-05:00"), hours(24));
  REQUIRE(due);
  CHECK(iso(*due) == iso(at("2015-03-08T13:00:00-04:00")));
  CHECK(cal->between(at("2015-03-08T00:00:00-05:00"), at("2015-03-09T00:00:00-04:00")) ==
        hours(23));
}

TEST_CASE("a working range that contains the spring-forward hour is one hour shorter",
          "[sla][calendar][dst]") {
  CalendarSpec spec;
  spec.id = "ny_sunday";
  spec.timezone = "America/New_York";
  spec.week[6] = {{0, 12 * 60}};  // Sundays 00:00-12:00
  auto cal = make(spec);
  CHECK(cal->between(at("2015-03-07T00:00:00-05:00"), at("2015-03-09T00:00:00-04:00")) ==
        hours(11));
  // Midnight to 12:00 local, 11 business hours later: 12:00 EDT.
  CHECK(iso(*cal->add(at("2015-03-08T00:00:00-05:00"), hours(11))) ==
        iso(at("2015-03-08T12:00:00-04:00")));
}

TEST_CASE("a working range that contains the fall-back hour keeps the repeated hour",
          "[sla][calendar][dst]") {
  CalendarSpec spec;
  spec.id = "ny_sunday";
  spec.timezone = "America/New_York";
  spec.week[6] = {{0, 3 * 60}};  // Sundays 00:00-03:00; on 2015-11-01 01:00-02:00 happens twice
  auto cal = make(spec);
  CHECK(cal->between(at("2015-10-31T00:00:00-04:00"), at("2015-11-02T00:00:00-05:00")) == hours(4));
}

TEST_CASE("Berlin office hours on the last Sunday of March still open at 08:00 local",
          "[sla][calendar][dst]") {
  CalendarSpec spec;
  spec.id = "berlin";
  spec.timezone = "Europe/Berlin";
  for (int d = 0; d < 7; ++d) spec.week[d] = {{8 * 60, 18 * 60}};
  auto cal = make(spec);
  // 2026-03-29: CET → CEST at 02:00. Opening is 08:00 CEST = 06:00Z.
  CHECK(iso(*cal->add(at("2026-03-29T00:00:00Z"), 1)) == "2026-03-29T06:00:00.001Z");
  CHECK(iso(*cal->add(at("2026-03-28T00:00:00Z"), 1)) == "2026-03-28T07:00:00.001Z");
}

TEST_CASE("several working ranges a day skip the lunch break", "[sla][calendar]") {
  CalendarSpec spec;
  spec.id = "lunch";
  for (int d = 0; d < 5; ++d) spec.week[d] = {{8 * 60, 12 * 60}, {13 * 60, 18 * 60}};
  auto cal = make(spec);
  CHECK(iso(*cal->add(at("2026-03-09T11:00:00Z"), hours(2))) == "2026-03-09T14:00:00Z");
  CHECK(cal->between(at("2026-03-09T00:00:00Z"), at("2026-03-10T00:00:00Z")) == hours(9));
  CHECK_FALSE(cal->is_working(at("2026-03-09T12:30:00Z")));
  CHECK(cal->is_working(at("2026-03-09T13:00:00Z")));
}

TEST_CASE("one-time and annual holidays are not worked", "[sla][calendar]") {
  CalendarSpec spec;
  spec.id = "holidays";
  spec.timezone = "Europe/Berlin";
  for (int d = 0; d < 5; ++d) spec.week[d] = {{9 * 60, 17 * 60}};
  spec.holidays = {*parse_date_days("2026-04-03"), *parse_date_days("2026-04-06")};  // Easter
  spec.annual_holidays = {{12, 25}, {12, 26}, {1, 1}};
  auto cal = make(spec);
  // Thursday before Good Friday, 16:00 + 2h: Good Friday and Easter Monday are skipped.
  CHECK(iso(*cal->add(at("2026-04-02T16:00:00+02:00"), hours(2))) ==
        iso(at("2026-04-07T10:00:00+02:00")));
  // 2026-12-24 (Thursday) 16:00 + 2h: 25th, weekend, then Monday 28th.
  CHECK(iso(*cal->add(at("2026-12-24T16:00:00+01:00"), hours(2))) ==
        iso(at("2026-12-28T10:00:00+01:00")));
  // Across the new year: Thursday 31 December 16:00 + 2h skips Friday 1 January (annual) and the
  // weekend.
  CHECK(iso(*cal->add(at("2026-12-31T16:00:00+01:00"), hours(2))) ==
        iso(at("2027-01-04T10:00:00+01:00")));
}

TEST_CASE("business time across several years adds up year by year", "[sla][calendar]") {
  auto cal = nine_to_five();
  std::int64_t from = at("2024-06-03T09:00:00Z");
  std::int64_t to = at("2027-06-03T09:00:00Z");
  std::int64_t business = cal->between(from, to);
  CHECK(business % hours(8) == 0);
  CHECK(business / hours(8) == 783);  // weekdays from 2024-06-03 to 2027-06-02
  CHECK(*cal->add(from, business) == at("2027-06-02T17:00:00Z"));
}

TEST_CASE("add and between are inverses on random instants and durations", "[sla][calendar]") {
  CalendarSpec spec;
  spec.id = "mixed";
  spec.timezone = "America/New_York";
  for (int d = 0; d < 6; ++d) spec.week[d] = {{7 * 60 + 30, 12 * 60}, {12 * 60 + 45, 19 * 60}};
  spec.annual_holidays = {{7, 4}, {12, 25}};
  auto cal = make(spec);
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<std::int64_t> start(at("2014-01-01T00:00:00Z"),
                                                    at("2030-01-01T00:00:00Z"));
  std::uniform_int_distribution<std::int64_t> length(0, hours(2000));
  for (int i = 0; i < 2000; ++i) {
    std::int64_t s = start(rng);
    std::int64_t d = length(rng);
    auto due = cal->add(s, d);
    REQUIRE(due);
    INFO(iso(s) << " + " << d);
    CHECK(cal->between(s, *due) == d);
    CHECK(*due >= s);
    if (d > 0) CHECK(cal->is_working(*due - 1));
  }
}

TEST_CASE("an unknown time zone is refused", "[sla][calendar]") {
  CalendarSpec spec;
  spec.id = "moon";
  spec.timezone = "Moon/Tranquility_Base";
  auto cal = BusinessCalendar::make(spec);
  REQUIRE_FALSE(cal);
  CHECK(cal.error().message.find("Moon/Tranquility_Base") != std::string::npos);
}

TEST_CASE("time ranges and annual dates parse strictly", "[sla][calendar]") {
  CHECK(parse_time_range("08:00-12:30") == TimeRange{480, 750});
  CHECK(parse_time_range("13:00 - 24:00") == TimeRange{780, 1440});
  CHECK_FALSE(parse_time_range("12:00-08:00"));
  CHECK_FALSE(parse_time_range("09:00-09:00"));
  CHECK_FALSE(parse_time_range("9:00-17:00"));
  CHECK_FALSE(parse_time_range("09:00-24:30"));
  CHECK_FALSE(parse_time_range("09:60-10:00"));
  CHECK_FALSE(parse_time_range("24:00-24:00"));
  CHECK(parse_month_day("02-29") == MonthDay{2, 29});
  CHECK_FALSE(parse_month_day("02-30"));
  CHECK_FALSE(parse_month_day("13-01"));
  CHECK(format_time_range({480, 1440}) == "08:00-24:00");
}

TEST_CASE("business durations print in hours, never days", "[sla][calendar]") {
  CHECK(format_business_duration(50 * 3'600'000LL) == "50h");
  CHECK(format_business_duration(90 * 60'000LL) == "1h30m");
  CHECK(format_business_duration(1'500) == "1s500ms");
  CHECK(format_business_duration(0) == "0s");
  CHECK(format_business_duration(-30 * 60'000LL) == "-30m");
}
