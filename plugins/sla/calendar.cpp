#include "plugins/sla/calendar.h"

#include <algorithm>
#include <chrono>
#include <map>

#include <date/tz.h>
#include <fmt/format.h>

namespace flowgate::sla {

namespace {

constexpr std::int64_t kMsPerMinute = 60'000;
constexpr std::int64_t kMsPerDay = 86'400'000;
constexpr int kMinYear = 0;
constexpr int kMaxYear = 9999;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

std::int64_t days_from_civil(int y, int m, int d) {
  return date::sys_days(date::year{y} / m / d).time_since_epoch().count();
}

int civil_year(std::int64_t days) {
  return static_cast<int>(date::year_month_day(date::sys_days(date::days(days))).year());
}

// Monday = 0 ... Sunday = 6.
int weekday_index(std::int64_t days) {
  unsigned iso = date::weekday(date::sys_days(date::days(days))).iso_encoding();  // Mon=1..Sun=7
  return static_cast<int>(iso) - 1;
}

}  // namespace

struct BusinessCalendar::YearTable {
  std::int64_t start = 0;            // local YYYY-01-01 00:00 as UTC ms
  std::int64_t end = 0;              // local (YYYY+1)-01-01 00:00 as UTC ms
  std::vector<std::int64_t> begins;  // working intervals, sorted, disjoint, non-adjacent
  std::vector<std::int64_t> ends;
  std::vector<std::int64_t> before;  // working ms in this year before interval i
  std::int64_t total = 0;

  // Working ms from `start` to `t` (t within [start, end]).
  std::int64_t cumulative(std::int64_t t) const {
    auto it = std::upper_bound(ends.begin(), ends.end(), t);  // first interval ending after t
    std::size_t i = static_cast<std::size_t>(it - ends.begin());
    if (i == ends.size()) return total;
    return before[i] + std::max<std::int64_t>(0, t - begins[i]);
  }

  // The instant at which `c` working ms (0 < c <= total) of this year have passed.
  std::int64_t instant_at(std::int64_t c) const {
    // First interval whose end reaches c.
    std::size_t lo = 0, hi = begins.size();
    while (lo < hi) {
      std::size_t mid = (lo + hi) / 2;
      if (before[mid] + (ends[mid] - begins[mid]) >= c) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    return begins[lo] + (c - before[lo]);
  }
};

BusinessCalendar::BusinessCalendar(CalendarSpec spec, const void* zone, bool identity)
    : spec_(std::move(spec)), zone_(zone), identity_(identity) {}

BusinessCalendar::~BusinessCalendar() = default;

Result<std::shared_ptr<const BusinessCalendar>> BusinessCalendar::make(CalendarSpec spec) {
  const date::time_zone* zone = nullptr;
  try {
    zone = date::locate_zone(spec.timezone);
  } catch (const std::exception&) {
    return fail(
        Error(ErrorCode::kInvalidArgument, fmt::format("unknown time zone '{}'", spec.timezone))
            .with_hint("use an IANA name such as \"Europe/Berlin\" or \"America/New_York\""));
  }
  std::sort(spec.holidays.begin(), spec.holidays.end());
  spec.holidays.erase(std::unique(spec.holidays.begin(), spec.holidays.end()), spec.holidays.end());
  for (auto& day : spec.week) {
    std::sort(day.begin(), day.end(),
              [](const TimeRange& a, const TimeRange& b) { return a.start_min < b.start_min; });
  }
  return std::shared_ptr<const BusinessCalendar>(
      new BusinessCalendar(std::move(spec), zone, false));
}

std::shared_ptr<const BusinessCalendar> BusinessCalendar::always() {
  static const std::shared_ptr<const BusinessCalendar> calendar(
      new BusinessCalendar(CalendarSpec{"24x7", "UTC", true, {}, {}, {}}, nullptr, true));
  return calendar;
}

std::unique_ptr<BusinessCalendar::YearTable> BusinessCalendar::build_year(int y) const {
  const auto* zone = static_cast<const date::time_zone*>(zone_);
  using date::local_info;
  // Local wall-clock ms → UTC ms; `first` picks the earlier mapping of a repeated local time.
  auto to_utc = [&](std::int64_t local_ms, bool first) -> std::int64_t {
    auto secs = date::local_seconds(std::chrono::seconds(floor_div(local_ms, 1000)));
    local_info info = zone->get_info(secs);
    auto offset_ms = [](const date::sys_info& i) {
      return std::chrono::duration_cast<std::chrono::milliseconds>(i.offset).count();
    };
    switch (info.result) {
      case local_info::unique:
        return local_ms - offset_ms(info.first);
      case local_info::nonexistent:
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   info.first.end.time_since_epoch())
            .count();
      case local_info::ambiguous:
        return local_ms - offset_ms(first ? info.first : info.second);
    }
    return local_ms - offset_ms(info.first);
  };

  auto table = std::make_unique<YearTable>();
  const std::int64_t first_day = days_from_civil(y, 1, 1);
  const std::int64_t next_year_day = days_from_civil(y + 1, 1, 1);
  table->start = to_utc(first_day * kMsPerDay, true);
  table->end = to_utc(next_year_day * kMsPerDay, true);

  const std::vector<TimeRange> whole_day{{0, 1440}};
  auto is_holiday = [&](std::int64_t day) {
    if (std::binary_search(spec_.holidays.begin(), spec_.holidays.end(), day)) return true;
    if (spec_.annual_holidays.empty()) return false;
    date::year_month_day ymd{date::sys_days(date::days(day))};
    MonthDay md{static_cast<int>(static_cast<unsigned>(ymd.month())),
                static_cast<int>(static_cast<unsigned>(ymd.day()))};
    return std::find(spec_.annual_holidays.begin(), spec_.annual_holidays.end(), md) !=
           spec_.annual_holidays.end();
  };
  for (std::int64_t day = first_day; day < next_year_day; ++day) {
    if (is_holiday(day)) continue;
    const auto& ranges = spec_.always_open ? whole_day : spec_.week[weekday_index(day)];
    for (const TimeRange& r : ranges) {
      std::int64_t b = to_utc(day * kMsPerDay + r.start_min * kMsPerMinute, true);
      std::int64_t e = to_utc(day * kMsPerDay + r.end_min * kMsPerMinute, false);
      if (e <= b) continue;  // a range lying wholly inside a skipped hour
      if (!table->ends.empty() && b <= table->ends.back()) {
        table->ends.back() = std::max(table->ends.back(), e);  // adjacent: 24:00 meets 00:00
      } else {
        table->begins.push_back(b);
        table->ends.push_back(e);
      }
    }
  }
  table->before.resize(table->begins.size());
  std::int64_t sum = 0;
  for (std::size_t i = 0; i < table->begins.size(); ++i) {
    table->before[i] = sum;
    sum += table->ends[i] - table->begins[i];
  }
  table->total = sum;
  return table;
}

const BusinessCalendar::YearTable& BusinessCalendar::year(int y) const {
  const int slot = y - kFirstCachedYear;
  if (slot >= 0 && slot < kCachedYears) {
    if (const YearTable* t = cache_[slot].load(std::memory_order_acquire)) return *t;
  }
  std::lock_guard lock(build_mutex_);
  if (slot >= 0 && slot < kCachedYears) {
    if (const YearTable* t = cache_[slot].load(std::memory_order_acquire)) return *t;
    owned_.push_back(build_year(y));
    cache_[slot].store(owned_.back().get(), std::memory_order_release);
    return *owned_.back();
  }
  // Years outside the cached window are rare: kept in a map, found under the lock.
  auto& table = far_[y];
  if (!table) table = build_year(y);
  return *table;
}

int BusinessCalendar::year_of(std::int64_t at_ms) const {
  int y = std::clamp(civil_year(floor_div(at_ms, kMsPerDay)), kMinYear, kMaxYear);
  if (y > kMinYear && at_ms < year(y).start) return y - 1;
  if (y < kMaxYear && at_ms >= year(y).end) return y + 1;
  return y;
}

std::optional<std::int64_t> BusinessCalendar::add(std::int64_t start_ms,
                                                  std::int64_t business_ms) const {
  if (business_ms <= 0) return start_ms;
  if (identity_) return start_ms + business_ms;
  int y = year_of(start_ms);
  std::int64_t at = start_ms;
  std::int64_t left = business_ms;
  for (; y <= kMaxYear; ++y) {
    const YearTable& t = year(y);
    std::int64_t used = at <= t.start ? 0 : t.cumulative(at);
    if (left <= t.total - used) return t.instant_at(used + left);
    left -= t.total - used;
    at = t.end;
  }
  return std::nullopt;
}

std::int64_t BusinessCalendar::between(std::int64_t from_ms, std::int64_t to_ms) const {
  if (to_ms <= from_ms) return 0;
  if (identity_) return to_ms - from_ms;
  const int ya = year_of(from_ms);
  const int yb = year_of(to_ms);
  if (ya == yb) {
    const YearTable& t = year(ya);
    return t.cumulative(to_ms) - t.cumulative(from_ms);
  }
  const YearTable& first = year(ya);
  std::int64_t sum = first.total - first.cumulative(from_ms);
  for (int y = ya + 1; y < yb; ++y) sum += year(y).total;
  return sum + year(yb).cumulative(to_ms);
}

bool BusinessCalendar::is_working(std::int64_t at_ms) const {
  if (identity_) return true;
  const YearTable& t = year(year_of(at_ms));
  auto it = std::upper_bound(t.ends.begin(), t.ends.end(), at_ms);
  if (it == t.ends.end()) return false;
  return t.begins[static_cast<std::size_t>(it - t.ends.begin())] <= at_ms;
}

std::optional<TimeRange> parse_time_range(std::string_view text) {
  auto parse_hm = [](std::string_view s) -> std::optional<int> {
    if (s.size() != 5 || s[2] != ':') return std::nullopt;
    for (std::size_t i : {0u, 1u, 3u, 4u}) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
    }
    int h = (s[0] - '0') * 10 + (s[1] - '0');
    int m = (s[3] - '0') * 10 + (s[4] - '0');
    if (m > 59 || h > 24 || (h == 24 && m != 0)) return std::nullopt;
    return h * 60 + m;
  };
  auto dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto trim = [](std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return s;
  };
  auto a = parse_hm(trim(text.substr(0, dash)));
  auto b = parse_hm(trim(text.substr(dash + 1)));
  if (!a || !b || *a == 1440 || *b <= *a) return std::nullopt;
  return TimeRange{*a, *b};
}

std::optional<MonthDay> parse_month_day(std::string_view text) {
  if (text.size() != 5 || text[2] != '-') return std::nullopt;
  for (std::size_t i : {0u, 1u, 3u, 4u}) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
  }
  int m = (text[0] - '0') * 10 + (text[1] - '0');
  int d = (text[3] - '0') * 10 + (text[4] - '0');
  if (m < 1 || m > 12 || d < 1) return std::nullopt;
  // Longest each month can be (February in a leap year).
  constexpr int kMaxDay[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (d > kMaxDay[m - 1]) return std::nullopt;
  return MonthDay{m, d};
}

std::string format_time_range(const TimeRange& r) {
  return fmt::format("{:02}:{:02}-{:02}:{:02}", r.start_min / 60, r.start_min % 60, r.end_min / 60,
                     r.end_min % 60);
}

std::string format_business_duration(std::int64_t ms) {
  if (ms == 0) return "0s";
  std::string out = ms < 0 ? "-" : "";
  std::uint64_t left = ms < 0 ? 0 - static_cast<std::uint64_t>(ms) : static_cast<std::uint64_t>(ms);
  constexpr std::pair<std::uint64_t, const char*> kUnits[] = {
      {3'600'000, "h"}, {60'000, "m"}, {1000, "s"}, {1, "ms"}};
  for (const auto& [size, unit] : kUnits) {
    if (left >= size) {
      out += fmt::format("{}{}", left / size, unit);
      left %= size;
    }
  }
  return out;
}

}  // namespace flowgate::sla
