// Periods group instances by the UTC time they started.
#include <catch2/catch.hpp>

#include "definition/value.h"
#include "report/report.h"

using namespace flowgate;
using report::Period;
using report::period_of;

namespace {
std::int64_t at(const char* text) { return *parse_datetime_ms(text); }
}  // namespace

TEST_CASE("a month runs from its first midnight to the next month's", "[report]") {
  auto p = period_of(at("2026-02-14T10:00:00Z"), Period::kMonth);
  CHECK(p.label == "2026-02");
  CHECK(*p.from_ms == at("2026-02-01T00:00:00Z"));
  CHECK(*p.to_ms == at("2026-03-01T00:00:00Z"));
}

TEST_CASE("quarters are calendar quarters", "[report]") {
  auto p = period_of(at("2026-12-31T23:59:59Z"), Period::kQuarter);
  CHECK(p.label == "2026-Q4");
  CHECK(*p.from_ms == at("2026-10-01T00:00:00Z"));
  CHECK(*p.to_ms == at("2027-01-01T00:00:00Z"));
  CHECK(period_of(at("2026-04-01T00:00:00Z"), Period::kQuarter).label == "2026-Q2");
}

TEST_CASE("weeks are ISO weeks: Monday to Monday, numbered in the year of their Thursday",
          "[report]") {
  auto p = period_of(at("2026-01-01T12:00:00Z"), Period::kWeek);  // a Thursday
  CHECK(p.label == "2026-W01");
  CHECK(*p.from_ms == at("2025-12-29T00:00:00Z"));
  CHECK(*p.to_ms == at("2026-01-05T00:00:00Z"));
  CHECK(period_of(at("2027-01-01T00:00:00Z"), Period::kWeek).label == "2026-W53");  // a Friday
  CHECK(period_of(at("2024-12-30T08:00:00Z"), Period::kWeek).label == "2025-W01");
}

TEST_CASE("without a period everything is one bucket", "[report]") {
  auto p = period_of(at("2026-02-14T10:00:00Z"), Period::kAll);
  CHECK(p.label == "all");
  CHECK_FALSE(p.from_ms.has_value());
}

TEST_CASE("only the documented period names parse", "[report]") {
  CHECK(report::parse_period("month") == Period::kMonth);
  CHECK(report::parse_period("quarter") == Period::kQuarter);
  CHECK_FALSE(report::parse_period("fortnight").has_value());
}
