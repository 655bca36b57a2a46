// Typed values and their text forms. Every parser here is total: malformed or out-of-range input
// yields nullopt (or an Error from Value::from_json), never an exception or undefined behaviour.
//
// Choices the header leaves open:
// - decimal text is exact: at most 6 fractional digits that are not zero ("0.1000000" is fine,
//   "0.0000001" is refused); no exponent, no thousands separators.
// - money prints with at least two decimals ("1250.50"); decimal prints minimally ("12.5", "3").
// - dates and datetimes are limited to the years 0000-9999 so that every value prints as RFC 3339.
// - a datetime's fraction beyond milliseconds is truncated (a clock reading, not an amount).
// - durations print with days as the largest unit ("14d", not "2w").
#include "definition/value.h"

#include <array>
#include <chrono>
#include <limits>

#include <fmt/format.h>

namespace flowgate {

namespace {

constexpr std::int64_t kMsPerSecond = 1000;
constexpr std::int64_t kMsPerMinute = 60 * kMsPerSecond;
constexpr std::int64_t kMsPerHour = 60 * kMsPerMinute;
constexpr std::int64_t kMsPerDay = 24 * kMsPerHour;
constexpr std::int64_t kMsPerWeek = 7 * kMsPerDay;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `n` digits at `pos`; advances `pos`.
std::optional<int> read_digits(std::string_view s, std::size_t& pos, std::size_t n) {
  if (pos + n > s.size()) return std::nullopt;
  int v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (!is_digit(c)) return std::nullopt;
    v = v * 10 + (c - '0');
  }
  pos += n;
  return v;
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// Days since 1970-01-01 of a valid civil date; nullopt if the date does not exist.
constexpr std::optional<std::int64_t> days_from_civil(int y, int m, int d) {
  using namespace std::chrono;
  year_month_day ymd{year{y}, month{static_cast<unsigned>(m)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  return sys_days{ymd}.time_since_epoch().count();
}

struct Civil {
  int year;
  unsigned month;
  unsigned day;
};

// Only called with days in [kMinDateDays, kMaxDateDays], where chrono's `year` cannot overflow.
Civil civil_from_days(std::int64_t days) {
  using namespace std::chrono;
  year_month_day ymd{sys_days{std::chrono::days{days}}};
  return {static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
          static_cast<unsigned>(ymd.day())};
}

std::string json_kind(const nlohmann::json& j) {
  if (j.is_string()) return fmt::format("string \"{}\"", j.get_ref<const std::string&>());
  if (j.is_boolean() || j.is_number()) return fmt::format("{} {}", j.type_name(), j.dump());
  return j.type_name();
}

std::unexpected<Error> wrong_json(const nlohmann::json& j, Type type, std::string_view expected) {
  return fail(ErrorCode::kInvalidPayload,
              fmt::format("expected {} ({}), got {}", type_name(type), expected, json_kind(j)));
}

// Parses a JSON number's shortest text form ("0.1", "1e+20", "-3") into decimal units.
std::optional<std::int64_t> json_number_units(const nlohmann::json& j) {
  if (j.is_number_integer() || j.is_number_unsigned()) {
    if (j.is_number_unsigned() &&
        j.get<std::uint64_t>() >
            static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return std::nullopt;
    }
    std::int64_t units;
    if (__builtin_mul_overflow(j.get<std::int64_t>(), kDecimalScale, &units)) return std::nullopt;
    return units;
  }
  std::string text = j.dump();
  auto e = text.find_first_of("eE");
  if (e == std::string::npos) return parse_decimal_units(text);
  // Shift the decimal point by the exponent, in text, so the conversion stays exact.
  std::string mantissa = text.substr(0, e);
  int exponent = 0;
  try {
    exponent = std::stoi(text.substr(e + 1));
  } catch (...) {
    return std::nullopt;
  }
  if (exponent > 30 || exponent < -30) return std::nullopt;
  bool negative = !mantissa.empty() && mantissa[0] == '-';
  if (negative) mantissa.erase(0, 1);
  auto dot = mantissa.find('.');
  std::string digits = mantissa;
  int point = static_cast<int>(mantissa.size());
  if (dot != std::string::npos) {
    digits.erase(dot, 1);
    point = static_cast<int>(dot);
  }
  point += exponent;
  if (point <= 0) {
    digits.insert(0, static_cast<std::size_t>(1 - point), '0');
    point = 1;
  }
  if (point > static_cast<int>(digits.size())) digits.append(point - digits.size(), '0');
  // Appended piece by piece: `"-" + digits.substr(...)` trips GCC 12's -Wrestrict false positive
  // at -O3 (the release preset).
  std::string shifted;
  if (negative) shifted.push_back('-');
  shifted.append(digits, 0, static_cast<std::size_t>(point));
  if (static_cast<std::size_t>(point) < digits.size()) {
    shifted.push_back('.');
    shifted.append(digits, static_cast<std::size_t>(point));
  }
  return parse_decimal_units(shifted);
}

}  // namespace

std::string_view type_name(Type t) {
  switch (t) {
    case Type::kNull:
      return "null";
    case Type::kBool:
      return "bool";
    case Type::kInt:
      return "int";
    case Type::kDecimal:
      return "decimal";
    case Type::kMoney:
      return "money";
    case Type::kString:
      return "string";
    case Type::kEnum:
      return "enum";
    case Type::kDate:
      return "date";
    case Type::kDateTime:
      return "datetime";
    case Type::kDuration:
      return "duration";
  }
  return "unknown";
}

std::optional<Type> parse_type_name(std::string_view name) {
  static constexpr std::array kTypes = {
      Type::kNull,   Type::kBool, Type::kInt,  Type::kDecimal,  Type::kMoney,
      Type::kString, Type::kEnum, Type::kDate, Type::kDateTime, Type::kDuration};
  for (Type t : kTypes) {
    if (type_name(t) == name) return t;
  }
  return std::nullopt;
}

bool is_numeric(Type t) { return t == Type::kInt || t == Type::kDecimal || t == Type::kMoney; }

std::string Value::to_string() const {
  switch (type_) {
    case Type::kNull:
      return "null";
    case Type::kBool:
      return i_ != 0 ? "true" : "false";
    case Type::kInt:
      return std::to_string(i_);
    case Type::kDecimal:
      return format_decimal_units(i_);
    case Type::kMoney: {
      // Currency amounts always show cents: "1250.50", "3.00".
      std::string s = format_decimal_units(i_);
      auto dot = s.find('.');
      if (dot == std::string::npos) return s + ".00";
      if (s.size() - dot == 2) s += '0';
      return s;
    }
    case Type::kString:
    case Type::kEnum:
      return s_;
    case Type::kDate:
      return format_date_days(i_);
    case Type::kDateTime:
      return format_datetime_ms(i_);
    case Type::kDuration:
      return format_duration_ms(i_);
  }
  return {};
}

nlohmann::json Value::to_json() const {
  switch (type_) {
    case Type::kNull:
      return nullptr;
    case Type::kBool:
      return i_ != 0;
    case Type::kInt:
      return i_;
    default:
      return to_string();
  }
}

Result<Value> Value::from_json(const nlohmann::json& j, Type type) {
  if (j.is_null()) return Value::null();
  switch (type) {
    case Type::kNull:
      return wrong_json(j, type, "only null");
    case Type::kBool:
      if (j.is_boolean()) return Value::boolean(j.get<bool>());
      return wrong_json(j, type, "true or false");
    case Type::kInt:
      if (j.is_number_integer() && !j.is_number_unsigned())
        return Value::integer(j.get<std::int64_t>());
      if (j.is_number_unsigned() &&
          j.get<std::uint64_t>() <=
              static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return Value::integer(j.get<std::int64_t>());
      }
      if (j.is_number_float()) {
        // 3.0 is an integer written with a point; 3.5 is not.
        auto units = json_number_units(j);
        if (units && *units % kDecimalScale == 0) return Value::integer(*units / kDecimalScale);
      }
      return wrong_json(j, type, "a whole number in the 64-bit range");
    case Type::kDecimal:
    case Type::kMoney: {
      std::optional<std::int64_t> units;
      if (j.is_number()) units = json_number_units(j);
      if (j.is_string()) units = parse_decimal_units(j.get_ref<const std::string&>());
      if (!units)
        return wrong_json(j, type, "a number or a decimal string with at most 6 decimals");
      return type == Type::kMoney ? Value::money_units(*units) : Value::decimal_units(*units);
    }
    case Type::kString:
      if (j.is_string()) return Value::string(j.get<std::string>());
      return wrong_json(j, type, "a string");
    case Type::kEnum:
      if (j.is_string()) return Value::enum_member(j.get<std::string>());
      return wrong_json(j, type, "a member name");
    case Type::kDate:
      if (j.is_string()) {
        if (auto d = parse_date_days(j.get_ref<const std::string&>())) return Value::date(*d);
      }
      return wrong_json(j, type, "\"YYYY-MM-DD\"");
    case Type::kDateTime:
      if (j.is_string()) {
        if (auto ms = parse_datetime_ms(j.get_ref<const std::string&>()))
          return Value::datetime(*ms);
      }
      return wrong_json(j, type, "an RFC 3339 string such as \"2026-03-01T09:00:00Z\"");
    case Type::kDuration: {
      if (j.is_string()) {
        if (auto ms = parse_duration_ms(j.get_ref<const std::string&>()))
          return Value::duration(*ms);
      } else if (j.is_number()) {
        // A number is seconds; fractions down to a millisecond are exact.
        if (auto units = json_number_units(j); units && *units % 1000 == 0) {
          return Value::duration(*units / 1000);
        }
      }
      return wrong_json(j, type, "\"4h30m\", \"2d\", \"90s\" or a number of seconds");
    }
  }
  return wrong_json(j, type, "a value");
}

std::optional<std::int64_t> parse_decimal_units(std::string_view text) {
  std::size_t pos = 0;
  bool negative = false;
  if (pos < text.size() && (text[pos] == '-' || text[pos] == '+')) {
    negative = text[pos] == '-';
    ++pos;
  }
  std::size_t int_start = pos;
  // Accumulate as a negative number so that the most negative value is reachable.
  std::int64_t acc = 0;
  while (pos < text.size() && is_digit(text[pos])) {
    if (__builtin_mul_overflow(acc, 10, &acc) ||
        __builtin_sub_overflow(acc, text[pos] - '0', &acc)) {
      return std::nullopt;
    }
    ++pos;
  }
  if (pos == int_start) return std::nullopt;
  if (__builtin_mul_overflow(acc, kDecimalScale, &acc)) return std::nullopt;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    std::size_t frac_start = pos;
    std::int64_t scale = kDecimalScale / 10;
    std::int64_t frac = 0;
    while (pos < text.size() && is_digit(text[pos])) {
      int digit = text[pos] - '0';
      if (scale == 0) {
        if (digit != 0) return std::nullopt;  // finer than 1e-6: not exactly representable
      } else {
        frac += digit * scale;
        scale /= 10;
      }
      ++pos;
    }
    if (pos == frac_start) return std::nullopt;
    if (__builtin_sub_overflow(acc, frac, &acc)) return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  if (!negative) {
    if (acc == std::numeric_limits<std::int64_t>::min()) return std::nullopt;
    acc = -acc;
  }
  return acc;
}

std::string format_decimal_units(std::int64_t units) {
  // Work in unsigned so that the most negative value has a magnitude.
  bool negative = units < 0;
  std::uint64_t mag =
      negative ? 0 - static_cast<std::uint64_t>(units) : static_cast<std::uint64_t>(units);
  std::uint64_t whole = mag / kDecimalScale;
  std::uint64_t frac = mag % kDecimalScale;
  std::string out = negative ? "-" : "";
  out += std::to_string(whole);
  if (frac != 0) {
    std::string digits = fmt::format("{:06d}", frac);
    digits.erase(digits.find_last_not_of('0') + 1);
    out += "." + digits;
  }
  return out;
}

std::optional<std::int64_t> parse_duration_ms(std::string_view text) {
  struct Unit {
    std::string_view name;
    std::int64_t ms;
  };
  // Largest first: components must appear in this order, each at most once.
  static constexpr std::array<Unit, 6> kUnits = {{{"w", kMsPerWeek},
                                                  {"d", kMsPerDay},
                                                  {"h", kMsPerHour},
                                                  {"m", kMsPerMinute},
                                                  {"s", kMsPerSecond},
                                                  {"ms", 1}}};
  std::size_t pos = 0;
  bool negative = false;
  if (pos < text.size() && text[pos] == '-') {
    negative = true;
    ++pos;
  }
  if (pos == text.size()) return std::nullopt;
  std::size_t next_unit = 0;
  std::int64_t total = 0;
  while (pos < text.size()) {
    std::size_t start = pos;
    std::int64_t n = 0;
    while (pos < text.size() && is_digit(text[pos])) {
      if (__builtin_mul_overflow(n, 10, &n) || __builtin_add_overflow(n, text[pos] - '0', &n)) {
        return std::nullopt;
      }
      ++pos;
    }
    if (pos == start) return std::nullopt;
    std::size_t unit_start = pos;
    while (pos < text.size() && text[pos] >= 'a' && text[pos] <= 'z') ++pos;
    std::string_view unit = text.substr(unit_start, pos - unit_start);
    std::size_t u = next_unit;
    while (u < kUnits.size() && kUnits[u].name != unit) ++u;
    if (u == kUnits.size()) return std::nullopt;
    std::int64_t part;
    if (__builtin_mul_overflow(n, kUnits[u].ms, &part) ||
        __builtin_add_overflow(total, part, &total)) {
      return std::nullopt;
    }
    next_unit = u + 1;
  }
  return negative ? -total : total;
}

std::string format_duration_ms(std::int64_t ms) {
  if (ms == 0) return "0s";
  bool negative = ms < 0;
  std::uint64_t rest =
      negative ? 0 - static_cast<std::uint64_t>(ms) : static_cast<std::uint64_t>(ms);
  std::string out = negative ? "-" : "";
  static constexpr std::array<std::pair<std::uint64_t, std::string_view>, 5> kParts = {
      {{kMsPerDay, "d"}, {kMsPerHour, "h"}, {kMsPerMinute, "m"}, {kMsPerSecond, "s"}, {1, "ms"}}};
  for (auto [size, name] : kParts) {
    if (rest >= size) {
      out += fmt::format("{}{}", rest / size, name);
      rest %= size;
    }
  }
  return out;
}

namespace {
static_assert(kMinDateDays == *days_from_civil(0, 1, 1));
static_assert(kMaxDateDays == *days_from_civil(9999, 12, 31));

std::optional<std::int64_t> parse_date_at(std::string_view s, std::size_t& pos) {
  auto y = read_digits(s, pos, 4);
  if (!y || pos >= s.size() || s[pos++] != '-') return std::nullopt;
  auto m = read_digits(s, pos, 2);
  if (!m || pos >= s.size() || s[pos++] != '-') return std::nullopt;
  auto d = read_digits(s, pos, 2);
  if (!d) return std::nullopt;
  return days_from_civil(*y, *m, *d);
}
}  // namespace

std::optional<std::int64_t> parse_date_days(std::string_view text) {
  std::size_t pos = 0;
  auto days = parse_date_at(text, pos);
  if (!days || pos != text.size()) return std::nullopt;
  return days;
}

std::string format_date_days(std::int64_t days) {
  if (days < kMinDateDays || days > kMaxDateDays)
    return fmt::format("<date out of range: {}>", days);
  Civil c = civil_from_days(days);
  return fmt::format("{:04d}-{:02d}-{:02d}", c.year, c.month, c.day);
}

std::optional<std::int64_t> parse_datetime_ms(std::string_view text) {
  std::size_t pos = 0;
  auto days = parse_date_at(text, pos);
  if (!days || pos >= text.size()) return std::nullopt;
  char sep = text[pos++];
  if (sep != 'T' && sep != 't' && sep != ' ') return std::nullopt;
  auto hh = read_digits(text, pos, 2);
  if (!hh || *hh > 23 || pos >= text.size() || text[pos++] != ':') return std::nullopt;
  auto mm = read_digits(text, pos, 2);
  if (!mm || *mm > 59 || pos >= text.size() || text[pos++] != ':') return std::nullopt;
  auto ss = read_digits(text, pos, 2);
  if (!ss || *ss > 59) return std::nullopt;
  std::int64_t frac_ms = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    std::size_t start = pos;
    std::int64_t scale = 100;
    while (pos < text.size() && is_digit(text[pos])) {
      frac_ms += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  if (pos >= text.size()) return std::nullopt;  // RFC 3339 requires a zone
  std::int64_t offset_min = 0;
  char z = text[pos++];
  if (z == '+' || z == '-') {
    auto oh = read_digits(text, pos, 2);
    if (!oh || *oh > 23 || pos >= text.size() || text[pos++] != ':') return std::nullopt;
    auto om = read_digits(text, pos, 2);
    if (!om || *om > 59) return std::nullopt;
    offset_min = (*oh * 60 + *om) * (z == '-' ? -1 : 1);
  } else if (z != 'Z' && z != 'z') {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  std::int64_t ms = *days * kMsPerDay + *hh * kMsPerHour + *mm * kMsPerMinute + *ss * kMsPerSecond +
                    frac_ms - offset_min * kMsPerMinute;
  // An offset can push an edge date out of the printable years.
  if (ms < kMinDateDays * kMsPerDay || ms >= (kMaxDateDays + 1) * kMsPerDay) return std::nullopt;
  return ms;
}

std::string format_datetime_ms(std::int64_t ms) {
  std::int64_t days = floor_div(ms, kMsPerDay);
  if (days < kMinDateDays || days > kMaxDateDays)
    return fmt::format("<datetime out of range: {}>", ms);
  std::int64_t in_day = ms - days * kMsPerDay;
  std::int64_t h = in_day / kMsPerHour;
  std::int64_t m = in_day % kMsPerHour / kMsPerMinute;
  std::int64_t s = in_day % kMsPerMinute / kMsPerSecond;
  std::int64_t milli = in_day % kMsPerSecond;
  // One buffer, one string: SLA event bodies and instance views format several instants each.
  Civil c = civil_from_days(days);
  char buf[32];
  char* end = fmt::format_to(buf, "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}", c.year, c.month,
                             c.day, h, m, s);
  if (milli != 0) end = fmt::format_to(end, ".{:03d}", milli);
  *end++ = 'Z';
  return std::string(buf, end);
}

}  // namespace flowgate
