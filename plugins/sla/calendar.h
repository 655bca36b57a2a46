// Business calendars ([calendars.<id>]): an IANA time zone, weekly working hours (several ranges
// per day), one-time and annual holidays. Business time counts only working time, in real elapsed
// milliseconds: a working range that contains a DST change lasts what the wall clock says it
// lasts in real time (09:00-17:00 on a 23-hour day is still 8 hours unless the change falls inside
// the range, in which case it is 7 or 9). A local time skipped by a DST change maps to the
// change itself; a repeated one maps to its first occurrence for a range start and its last for a
// range end, so a range never loses the repeated hour.
//
// The two pure operations clocks need are add() (the instant a business duration after a start
// is reached) and between() (business time between two instants). Both run in O(log n) on a
// per-year table of working intervals in UTC, built lazily on first use of a year; the time zone
// database is only consulted when a year's table is built.
//
// Thread-safety: a BusinessCalendar is logically immutable and safe to share; the year tables
// are built under an internal lock and published atomically.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "util/error.h"

namespace flowgate::sla {

// [start, end) in minutes after local midnight; end may be 1440 (24:00).
struct TimeRange {
  int start_min = 0;
  int end_min = 0;
  bool operator==(const TimeRange&) const = default;
};

struct MonthDay {
  int month = 1;  // 1..12
  int day = 1;    // 1..31 (29 February counts only in leap years)
  bool operator==(const MonthDay&) const = default;
};

// What a calendar is compiled from. `week[0]` is Monday. When `always_open` is set the weekly
// hours are ignored and every day is worked from 00:00 to 24:00 (holidays still apply).
struct CalendarSpec {
  std::string id;
  std::string timezone = "UTC";
  bool always_open = false;
  std::array<std::vector<TimeRange>, 7> week;  // sorted, non-overlapping
  std::vector<std::int64_t> holidays;          // one-time: local dates as days since 1970-01-01
  std::vector<MonthDay> annual_holidays;
};

class BusinessCalendar {
 public:
  // Fails (kInvalidArgument) when the time zone is unknown to the system tzdb.
  static Result<std::shared_ptr<const BusinessCalendar>> make(CalendarSpec spec);
  // Round the clock, no holidays: business time is real time (no time zone involved).
  static std::shared_ptr<const BusinessCalendar> always();

  ~BusinessCalendar();
  BusinessCalendar(const BusinessCalendar&) = delete;
  BusinessCalendar& operator=(const BusinessCalendar&) = delete;

  const std::string& id() const { return spec_.id; }
  const CalendarSpec& spec() const { return spec_; }
  bool is_always() const { return identity_; }

  // The instant at which `business_ms` of working time after `start_ms` have passed. A duration
  // that ends exactly at the end of a working range ends there (17:00), not at the start of the
  // next one. 0 → `start_ms`. nullopt when the year 9999 ends first (a calendar with no working
  // time left).
  std::optional<std::int64_t> add(std::int64_t start_ms, std::int64_t business_ms) const;
  // Working time in [from_ms, to_ms); 0 when to_ms <= from_ms.
  std::int64_t between(std::int64_t from_ms, std::int64_t to_ms) const;
  // True when `at_ms` falls inside a working range.
  bool is_working(std::int64_t at_ms) const;

  struct YearTable;  // working intervals of one local calendar year (calendar.cpp)

 private:
  explicit BusinessCalendar(CalendarSpec spec, const void* zone, bool identity);
  const YearTable& year(int y) const;  // the table of local year `y`, built on first use
  int year_of(std::int64_t at_ms) const;
  std::unique_ptr<YearTable> build_year(int y) const;

  CalendarSpec spec_;
  const void* zone_ = nullptr;  // const date::time_zone*, kept out of this header
  bool identity_ = false;

  static constexpr int kFirstCachedYear = 1900;
  static constexpr int kCachedYears = 400;
  mutable std::array<std::atomic<const YearTable*>, kCachedYears> cache_{};
  mutable std::mutex build_mutex_;
  mutable std::vector<std::unique_ptr<YearTable>> owned_;
  mutable std::map<int, std::unique_ptr<YearTable>> far_;
};

// "08:00-12:00" → {480, 720}; "24:00" is allowed as an end. nullopt when malformed or empty.
std::optional<TimeRange> parse_time_range(std::string_view text);
// "12-25" → {12, 25}; nullopt when malformed or not a day of any year.
std::optional<MonthDay> parse_month_day(std::string_view text);
std::string format_time_range(const TimeRange& r);
// A business duration in hours and smaller units, never days (a business day depends on the
// calendar): 50h → "50h", 90 min → "1h30m", 0 → "0s".
std::string format_business_duration(std::int64_t ms);

}  // namespace flowgate::sla
