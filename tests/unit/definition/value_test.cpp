#include <catch2/catch.hpp>

#include <limits>

#include "definition/value.h"

using namespace flowgate;
using nlohmann::json;

namespace {
constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kDay = 86'400'000;
}  // namespace

TEST_CASE("type names round-trip and unknown names are refused", "[value]") {
  for (Type t : {Type::kNull, Type::kBool, Type::kInt, Type::kDecimal, Type::kMoney, Type::kString,
                 Type::kEnum, Type::kDate, Type::kDateTime, Type::kDuration}) {
    CHECK(parse_type_name(type_name(t)) == t);
  }
  CHECK(type_name(Type::kDateTime) == "datetime");
  CHECK_FALSE(parse_type_name("integer"));
  CHECK_FALSE(parse_type_name("Money"));
  CHECK_FALSE(parse_type_name(""));
}

TEST_CASE("int, decimal and money are the numeric types", "[value]") {
  CHECK(is_numeric(Type::kInt));
  CHECK(is_numeric(Type::kDecimal));
  CHECK(is_numeric(Type::kMoney));
  CHECK_FALSE(is_numeric(Type::kDuration));
  CHECK_FALSE(is_numeric(Type::kString));
}

TEST_CASE("decimal text parses exactly into micro-units", "[value]") {
  CHECK(parse_decimal_units("12.5") == 12'500'000);
  CHECK(parse_decimal_units("-12.345") == -12'345'000);
  CHECK(parse_decimal_units("+3") == 3'000'000);
  CHECK(parse_decimal_units("0.000001") == 1);
  CHECK(parse_decimal_units("0.1000000000") == 100'000);  // trailing zeros are exact
  CHECK(parse_decimal_units("007.50") == 7'500'000);
  CHECK(parse_decimal_units("9223372036854.775807") == kMax);
  CHECK(parse_decimal_units("-9223372036854.775808") == kMin);
}

TEST_CASE("decimal text that is malformed, inexact or too large is refused", "[value]") {
  for (const char* bad :
       {"", "-", "+", ".5", "5.", "1.2.3", "1e3", "1,000", " 1", "1 ", "abc", "0.0000001",
        "9223372036854.775808", "-9223372036854.775809", "99999999999999999999", "--1", "0x10"}) {
    INFO(bad);
    CHECK_FALSE(parse_decimal_units(bad));
  }
}

TEST_CASE("decimals print minimally and round-trip", "[value]") {
  CHECK(format_decimal_units(12'500'000) == "12.5");
  CHECK(format_decimal_units(3'000'000) == "3");
  CHECK(format_decimal_units(-1) == "-0.000001");
  CHECK(format_decimal_units(0) == "0");
  for (std::int64_t u : {std::int64_t{0}, std::int64_t{1}, std::int64_t{-1},
                         std::int64_t{123456789}, std::int64_t{-987654321012}, kMax, kMin}) {
    INFO(u);
    CHECK(parse_decimal_units(format_decimal_units(u)) == u);
  }
}

TEST_CASE("durations parse from unit sequences largest first", "[value]") {
  CHECK(parse_duration_ms("1d2h30m15s") == kDay + 2 * 3'600'000 + 30 * 60'000 + 15'000);
  CHECK(parse_duration_ms("90s") == 90'000);
  CHECK(parse_duration_ms("250ms") == 250);
  CHECK(parse_duration_ms("2w") == 14 * kDay);
  CHECK(parse_duration_ms("4h30m") == 4 * 3'600'000 + 30 * 60'000);
  CHECK(parse_duration_ms("1m500ms") == 60'500);
  CHECK(parse_duration_ms("0s") == 0);
  CHECK(parse_duration_ms("-4h") == -4 * 3'600'000);
}

TEST_CASE("malformed durations are refused", "[value]") {
  for (const char* bad : {"", "-", "4", "h", "4x", "30m4h", "1h1h", "1.5h", "4 h", "4H", "1d-2h",
                          "99999999999999999999ms", "15250284453w", "4hours", "ms"}) {
    INFO(bad);
    CHECK_FALSE(parse_duration_ms(bad));
  }
}

TEST_CASE("durations print with days as the largest unit and round-trip", "[value]") {
  CHECK(format_duration_ms(0) == "0s");
  CHECK(format_duration_ms(kDay + 2 * 3'600'000 + 30 * 60'000) == "1d2h30m");
  CHECK(format_duration_ms(14 * kDay) == "14d");
  CHECK(format_duration_ms(1'500) == "1s500ms");
  CHECK(format_duration_ms(-90'000) == "-1m30s");
  for (std::int64_t ms :
       {std::int64_t{1}, std::int64_t{-1}, std::int64_t{123456789012}, kMax, kMin + 1}) {
    INFO(ms);
    CHECK(parse_duration_ms(format_duration_ms(ms)) == ms);
  }
}

TEST_CASE("dates parse to days since the epoch, leap years included", "[value]") {
  CHECK(parse_date_days("1970-01-01") == 0);
  CHECK(parse_date_days("1969-12-31") == -1);
  CHECK(parse_date_days("2026-03-01") == 20513);
  CHECK(parse_date_days("2024-02-29"));
  CHECK(parse_date_days("2000-02-29"));
  CHECK_FALSE(parse_date_days("1900-02-29"));
  CHECK_FALSE(parse_date_days("2026-02-29"));
  CHECK(parse_date_days("0000-01-01") == -719528);
  CHECK(parse_date_days("9999-12-31") == 2932896);
}

TEST_CASE("malformed dates are refused", "[value]") {
  for (const char* bad : {"", "2026-3-1", "2026-13-01", "2026-00-10", "2026-04-31", "26-03-01",
                          "2026/03/01", "2026-03-01T", "20260301", "+2026-03-01", "2026-03-1x"}) {
    INFO(bad);
    CHECK_FALSE(parse_date_days(bad));
  }
}

TEST_CASE("dates print as YYYY-MM-DD and round-trip", "[value]") {
  CHECK(format_date_days(0) == "1970-01-01");
  CHECK(format_date_days(-1) == "1969-12-31");
  for (const char* d : {"2024-02-29", "0000-01-01", "9999-12-31", "1600-03-01", "2100-02-28"}) {
    CHECK(format_date_days(*parse_date_days(d)) == d);
  }
}

TEST_CASE("RFC 3339 datetimes convert offsets to UTC epoch milliseconds", "[value]") {
  CHECK(parse_datetime_ms("1970-01-01T00:00:00Z") == 0);
  CHECK(parse_datetime_ms("2026-03-01T09:00:00Z") == 20513 * kDay + 9 * 3'600'000);
  CHECK(parse_datetime_ms("2026-03-01T10:30:00+01:30") ==
        parse_datetime_ms("2026-03-01T09:00:00Z"));
  CHECK(parse_datetime_ms("2026-02-28T23:00:00-10:00") ==
        parse_datetime_ms("2026-03-01T09:00:00Z"));
  CHECK(parse_datetime_ms("1970-01-01T00:00:00.250Z") == 250);
  CHECK(parse_datetime_ms("1970-01-01T00:00:00.1Z") == 100);
  CHECK(parse_datetime_ms("1970-01-01T00:00:00.123999Z") == 123);  // beyond ms: truncated
  CHECK(parse_datetime_ms("1969-12-31T23:59:59.999Z") == -1);
  CHECK(parse_datetime_ms("2026-03-01t09:00:00z") == parse_datetime_ms("2026-03-01T09:00:00Z"));
  CHECK(parse_datetime_ms("2026-03-01 09:00:00Z") == parse_datetime_ms("2026-03-01T09:00:00Z"));
}

TEST_CASE("malformed datetimes are refused", "[value]") {
  for (const char* bad :
       {"", "2026-03-01", "2026-03-01T09:00:00", "2026-03-01T09:00Z", "2026-03-01T24:00:00Z",
        "2026-03-01T09:60:00Z", "2026-03-01T09:00:60Z", "2026-03-01T09:00:00+0100",
        "2026-03-01T09:00:00+24:00", "2026-03-01T09:00:00.Z", "2026-02-30T09:00:00Z",
        "2026-03-01T09:00:00Zjunk", "2026-03-01X09:00:00Z", "0000-01-01T00:00:00+01:00",
        "9999-12-31T23:00:00-01:00"}) {
    INFO(bad);
    CHECK_FALSE(parse_datetime_ms(bad));
  }
}

TEST_CASE("datetimes print in UTC with milliseconds only when present", "[value]") {
  CHECK(format_datetime_ms(0) == "1970-01-01T00:00:00Z");
  CHECK(format_datetime_ms(-1) == "1969-12-31T23:59:59.999Z");
  CHECK(format_datetime_ms(*parse_datetime_ms("2024-02-29T12:34:56.789+05:00")) ==
        "2024-02-29T07:34:56.789Z");
  for (const char* t :
       {"2026-03-01T09:00:00Z", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999Z"}) {
    CHECK(format_datetime_ms(*parse_datetime_ms(t)) == t);
  }
}

TEST_CASE("values print in their human form", "[value]") {
  CHECK(Value().to_string() == "null");
  CHECK(Value::boolean(true).to_string() == "true");
  CHECK(Value::integer(-42).to_string() == "-42");
  CHECK(Value::decimal_units(12'500'000).to_string() == "12.5");
  CHECK(Value::money_units(1'250'500'000).to_string() == "1250.50");
  CHECK(Value::money_units(3'000'000).to_string() == "3.00");
  CHECK(Value::money_units(1'234).to_string() == "0.001234");
  CHECK(Value::string("a b").to_string() == "a b");
  CHECK(Value::enum_member("P1").to_string() == "P1");
  CHECK(Value::date(20513).to_string() == "2026-03-01");
  CHECK(Value::duration(4 * 3'600'000 + 30 * 60'000).to_string() == "4h30m");
}

TEST_CASE("values serialise to JSON: ints as numbers, exact kinds as strings", "[value]") {
  CHECK(Value().to_json().is_null());
  CHECK(Value::boolean(false).to_json() == json(false));
  CHECK(Value::integer(7).to_json() == json(7));
  CHECK(Value::money_units(1'250'500'000).to_json() == json("1250.50"));
  CHECK(Value::decimal_units(100'000).to_json() == json("0.1"));
  CHECK(Value::datetime(0).to_json() == json("1970-01-01T00:00:00Z"));
  CHECK(Value::duration(90'000).to_json() == json("1m30s"));
}

TEST_CASE("every kind of value round-trips through JSON", "[value]") {
  for (const Value& v :
       {Value(), Value::boolean(true), Value::integer(kMin), Value::decimal_units(-5),
        Value::money_units(kMax), Value::string("x\"y"), Value::enum_member("P2"),
        Value::date(-719528), Value::datetime(-1), Value::duration(1)}) {
    INFO(v.to_string());
    auto back = Value::from_json(v.to_json(), v.type());
    REQUIRE(back);
    CHECK(*back == v);
  }
}

TEST_CASE("decimal and money accept JSON numbers exactly", "[value]") {
  CHECK(Value::from_json(json(0.1), Type::kDecimal)->as_int() == 100'000);
  CHECK(Value::from_json(json(1250.5), Type::kMoney)->as_int() == 1'250'500'000);
  CHECK(Value::from_json(json(3), Type::kMoney)->as_int() == 3'000'000);
  CHECK(Value::from_json(json(1e-6), Type::kDecimal)->as_int() == 1);
  CHECK(Value::from_json(json(1.5e3), Type::kDecimal)->as_int() == 1'500'000'000);
  CHECK(Value::from_json(json(-2.5e-3), Type::kDecimal)->as_int() == -2'500);
  CHECK_FALSE(Value::from_json(json(1e-7), Type::kDecimal));
  CHECK_FALSE(Value::from_json(json(1e20), Type::kDecimal));
  CHECK_FALSE(Value::from_json(json(9'300'000'000'000), Type::kMoney));
}

TEST_CASE("ints accept whole JSON numbers only", "[value]") {
  CHECK(Value::from_json(json(3.0), Type::kInt)->as_int() == 3);
  CHECK(Value::from_json(json(std::uint64_t{5}), Type::kInt)->as_int() == 5);
  CHECK_FALSE(Value::from_json(json(3.5), Type::kInt));
  CHECK_FALSE(Value::from_json(json(std::numeric_limits<std::uint64_t>::max()), Type::kInt));
  CHECK_FALSE(Value::from_json(json("3"), Type::kInt));
}

TEST_CASE("durations accept unit strings or a number of seconds", "[value]") {
  CHECK(Value::from_json(json("4h30m"), Type::kDuration)->as_int() == 16'200'000);
  CHECK(Value::from_json(json(90), Type::kDuration)->as_int() == 90'000);
  CHECK(Value::from_json(json(1.5), Type::kDuration)->as_int() == 1'500);
  CHECK_FALSE(Value::from_json(json(0.0001), Type::kDuration));
  CHECK_FALSE(Value::from_json(json("4 hours"), Type::kDuration));
}

TEST_CASE("JSON null is an unset value of any type", "[value]") {
  for (Type t : {Type::kInt, Type::kString, Type::kDate, Type::kMoney}) {
    auto v = Value::from_json(json(nullptr), t);
    REQUIRE(v);
    CHECK(v->is_null());
  }
}

TEST_CASE("JSON of the wrong kind is refused with what was expected and what came", "[value]") {
  auto e = Value::from_json(json(true), Type::kMoney);
  REQUIRE_FALSE(e);
  CHECK(e.error().code == ErrorCode::kInvalidPayload);
  CHECK(e.error().message ==
        "expected money (a number or a decimal string with at most 6 decimals), "
        "got boolean true");
  auto d = Value::from_json(json("2026-02-30"), Type::kDate);
  REQUIRE_FALSE(d);
  CHECK(d.error().message == "expected date (\"YYYY-MM-DD\"), got string \"2026-02-30\"");
  CHECK_FALSE(Value::from_json(json(1), Type::kString));
  CHECK_FALSE(Value::from_json(json("x"), Type::kBool));
  CHECK_FALSE(Value::from_json(json::array(), Type::kEnum));
  CHECK_FALSE(Value::from_json(json("2026-03-01T09:00:00"), Type::kDateTime));
  CHECK_FALSE(Value::from_json(json(1), Type::kNull));
}

TEST_CASE("value equality is exact in type and content", "[value]") {
  CHECK(Value::integer(1) != Value::decimal_units(kDecimalScale));
  CHECK(Value::string("P1") != Value::enum_member("P1"));
  CHECK(Value::integer(1).as_units() == Value::decimal_units(kDecimalScale).as_units());
}
