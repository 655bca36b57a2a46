// Typed values of instance data, payloads and expressions. A Value is small: a type tag, a 64-bit
// payload and (for strings and enum members) a string. Fixed-point numbers avoid binary floating
// point in money: decimal and money hold units of 1e-6.
// Time: datetime = milliseconds since the Unix epoch (UTC); date = days since the epoch;
// duration = milliseconds. Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace flowgate {

enum class Type : std::uint8_t {
  kNull,  // unset
  kBool,
  kInt,
  kDecimal,
  kMoney,
  kString,
  kEnum,
  kDate,
  kDateTime,
  kDuration,
};

inline constexpr std::int64_t kDecimalScale = 1'000'000;
// Dates and datetimes stay within the years 0000-9999, so every one prints as RFC 3339;
// arithmetic that leaves this range is an evaluation error.
inline constexpr std::int64_t kMinDateDays = -719'528;   // 0000-01-01
inline constexpr std::int64_t kMaxDateDays = 2'932'896;  // 9999-12-31

// "string", "int", "decimal", "money", "bool", "date", "datetime", "duration", "enum", "null".
std::string_view type_name(Type t);
std::optional<Type> parse_type_name(std::string_view name);
// int, decimal and money are numeric; decimal and money share a representation.
bool is_numeric(Type t);

class Value {
 public:
  Value() = default;  // null
  static Value null() { return Value(); }
  static Value boolean(bool b) { return Value(Type::kBool, b ? 1 : 0); }
  static Value integer(std::int64_t i) { return Value(Type::kInt, i); }
  // `units` in 1e-6.
  static Value decimal_units(std::int64_t units) { return Value(Type::kDecimal, units); }
  static Value money_units(std::int64_t units) { return Value(Type::kMoney, units); }
  static Value string(std::string s) { return Value(Type::kString, std::move(s)); }
  static Value enum_member(std::string s) { return Value(Type::kEnum, std::move(s)); }
  static Value date(std::int64_t days) { return Value(Type::kDate, days); }
  static Value datetime(std::int64_t epoch_ms) { return Value(Type::kDateTime, epoch_ms); }
  static Value duration(std::int64_t ms) { return Value(Type::kDuration, ms); }

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool as_bool() const { return i_ != 0; }
  std::int64_t as_int() const { return i_; }  // int, date, datetime, duration, decimal units
  std::int64_t as_units() const { return type_ == Type::kInt ? i_ * kDecimalScale : i_; }
  const std::string& as_string() const { return s_; }

  // Exact equality of type and content (int 1 != decimal 1.0; use compare for numeric order).
  bool operator==(const Value& o) const { return type_ == o.type_ && i_ == o.i_ && s_ == o.s_; }

  // Human/JSON text: "12.5", "2026-03-01", "2026-03-01T09:00:00Z", "4h30m", strings verbatim.
  std::string to_string() const;
  // JSON form: numbers for int; strings for decimal/money ("1250.50"), date, datetime, duration;
  // bool; null.
  nlohmann::json to_json() const;
  // Parses JSON into a value of `type`. Accepts numbers or strings for decimal/money, RFC 3339
  // strings for datetime, "YYYY-MM-DD" for date, "4h30m"/"2d"/"90s" or seconds for duration.
  static Result<Value> from_json(const nlohmann::json& j, Type type);

 private:
  Value(Type t, std::int64_t i) : type_(t), i_(i) {}
  Value(Type t, std::string s) : type_(t), s_(std::move(s)) {}

  Type type_ = Type::kNull;
  std::int64_t i_ = 0;
  std::string s_;
};

// Text parsers shared by the loader, the expression language and the CLI. All return nullopt on
// malformed input.
std::optional<std::int64_t> parse_decimal_units(std::string_view text);  // "-12.345" → units
std::optional<std::int64_t> parse_duration_ms(
    std::string_view text);  // "1d2h30m15s", "90s", "250ms", "2w"
std::optional<std::int64_t> parse_date_days(std::string_view text);    // "2026-03-01"
std::optional<std::int64_t> parse_datetime_ms(std::string_view text);  // RFC 3339, "Z" or offset
std::string format_decimal_units(std::int64_t units);
std::string format_duration_ms(std::int64_t ms);  // "1d2h30m", "0s"
std::string format_date_days(std::int64_t days);
std::string format_datetime_ms(std::int64_t ms);  // "2026-03-01T09:00:00Z" (ms shown if nonzero)

}  // namespace flowgate
