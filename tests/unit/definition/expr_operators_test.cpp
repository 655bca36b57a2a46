// Operators of the expression language: precedence, associativity, the result of every allowed
// type combination, promotions, exact decimals, date/time arithmetic, and run-time failures.
#include <limits>

#include "expr_test_support.h"

using namespace flowgate;
using namespace flowgate::test;

namespace {
constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();

Type type_of(const std::string& src) { return compiled(src).type(); }
}  // namespace

// ---- precedence and associativity ----

TEST_CASE("* / % bind tighter than + -", "[expr][precedence]") {
  CHECK(eval("1 + 2 * 3") == Value::integer(7));
  CHECK(eval("(1 + 2) * 3") == Value::integer(9));
  CHECK(eval("10 - 6 / 2") == Value::integer(7));
  CHECK(eval("10 - 7 % 4") == Value::integer(7));
}

TEST_CASE("unary minus binds tighter than * and +", "[expr][precedence]") {
  CHECK(eval("-2 + 3") == Value::integer(1));
  CHECK(eval("-2 * 3") == Value::integer(-6));
  CHECK(eval("2 - -3") == Value::integer(5));
  CHECK(eval("- - 3") == Value::integer(3));
  CHECK(eval("-(2 + 3)") == Value::integer(-5));
}

TEST_CASE("arithmetic binds tighter than comparison and in", "[expr][precedence]") {
  CHECK(eval("1 + 2 == 3") == Value::boolean(true));
  CHECK(eval("2 * 3 > 5") == Value::boolean(true));
  CHECK(eval("1 + 1 in [2, 3]") == Value::boolean(true));
}

TEST_CASE("comparison binds tighter than not", "[expr][precedence]") {
  CHECK(eval("not 1 == 2") == Value::boolean(true));
  CHECK(eval("not 2 in [1, 2]") == Value::boolean(false));
}

TEST_CASE("not binds tighter than and, and tighter than or", "[expr][precedence]") {
  CHECK(eval("not true and false") == Value::boolean(false));
  CHECK(eval("true or false and false") == Value::boolean(true));
  CHECK(eval("false and false or true") == Value::boolean(true));
  CHECK(eval("1 in [1] and 2 in [3]") == Value::boolean(false));
}

TEST_CASE("binary operators of one level associate to the left", "[expr][precedence]") {
  CHECK(eval("10 - 4 - 3") == Value::integer(3));
  CHECK(eval("100 / 10 / 5") == Value::integer(2));
  CHECK(eval("7 % 4 % 2") == Value::integer(1));  // right-assoc would divide by zero
  CHECK(eval("2 * 3 % 4") == Value::integer(2));
  CHECK(eval("12 / 2 * 3") == Value::integer(18));
}

TEST_CASE("comparisons do not chain", "[expr][precedence]") {
  auto e = compile_error("1 < 2 < 3");
  CHECK(e.message == "comparisons cannot be chained");
  CHECK(column_of(e) == 7);
  CHECK(compile_error("1 == 1 in [true]").message == "comparisons cannot be chained");
}

TEST_CASE("not in negates membership", "[expr]") {
  CHECK(eval("3 not in [1, 2]") == Value::boolean(true));
  CHECK(eval("'a' not in ['a']") == Value::boolean(false));
}

// ---- numbers ----

TEST_CASE("int arithmetic stays int; division truncates toward zero", "[expr][numbers]") {
  CHECK(eval("7 / 2") == Value::integer(3));
  CHECK(eval("-7 / 2") == Value::integer(-3));
  CHECK(eval("7 % 3") == Value::integer(1));
  CHECK(eval("-7 % 3") == Value::integer(-1));
  CHECK(eval("6 * 7") == Value::integer(42));
  CHECK(type_of("count + 1") == Type::kInt);
}

TEST_CASE("decimal arithmetic is exact at six places", "[expr][numbers]") {
  CHECK(eval("0.1 + 0.2 == 0.3") == Value::boolean(true));
  CHECK(eval("0.1 + 0.2") == dec("0.3"));
  CHECK(eval("1.5 * 1.5") == dec("2.25"));
  CHECK(eval("1.0 - 0.9") == dec("0.1"));
  CHECK(eval("0.000001 * 1000000") == dec("1"));
}

TEST_CASE("decimal division and multiplication round half away from zero", "[expr][numbers]") {
  CHECK(eval("1.0 / 3") == dec("0.333333"));
  CHECK(eval("2.0 / 3") == dec("0.666667"));
  CHECK(eval("-2.0 / 3") == dec("-0.666667"));
  CHECK(eval("0.000001 * 0.5") == dec("0.000001"));
  CHECK(eval("0.000001 * 0.4") == dec("0"));
  CHECK(eval("-0.000001 * 0.5") == dec("-0.000001"));
}

TEST_CASE("numbers promote int to decimal to money", "[expr][numbers]") {
  CHECK(eval("1 + 0.5") == dec("1.5"));
  CHECK(type_of("count + rate") == Type::kDecimal);
  CHECK(type_of("rate * count") == Type::kDecimal);
  CHECK(type_of("amount + 1") == Type::kMoney);
  CHECK(type_of("amount * rate") == Type::kMoney);
  CHECK(type_of("count * amount") == Type::kMoney);
  CHECK(type_of("amount - amount") == Type::kMoney);
  CHECK(type_of("amount / 3") == Type::kMoney);
  CHECK(type_of("-amount") == Type::kMoney);
  Inputs in;
  in.data[0] = money("100.00");
  in.data[2] = Value::integer(3);
  in.data[3] = dec("0.19");
  CHECK(eval("amount * rate", in) == money("19"));
  CHECK(eval("amount / count", in) == money("33.333333"));
  CHECK(eval("amount + count", in) == money("103"));
  CHECK(eval("count + rate", in) == dec("3.19"));
}

TEST_CASE("mixed numbers compare by value", "[expr][numbers]") {
  CHECK(eval("1 == 1.0") == Value::boolean(true));
  CHECK(eval("1 < 1.5") == Value::boolean(true));
  CHECK(eval("2.5 >= 3") == Value::boolean(false));
  CHECK(eval("1 != 1.000001") == Value::boolean(true));
  Inputs in;
  in.data[0] = money("100000");
  CHECK(eval("amount == 100000", in) == Value::boolean(true));
  CHECK(eval("amount <= 99999.99", in) == Value::boolean(false));
  CHECK(eval("amount in [5, 100000.0]", in) == Value::boolean(true));
}

TEST_CASE("% takes ints only", "[expr][numbers]") {
  auto e = compile_error("rate % 2");
  CHECK(e.message == "`%` needs int operands, got decimal and int");
  CHECK(column_of(e) == 6);
  CHECK(compile_error("amount % count").message == "`%` needs int operands, got money and int");
}

TEST_CASE("arithmetic on text, bool and null is refused naming operator and types",
          "[expr][numbers]") {
  CHECK(compile_error("region + 'x'").message == "cannot apply `+` to string and string");
  CHECK(compile_error("approved * 2").message == "cannot apply `*` to bool and int");
  CHECK(compile_error("priority - 1").message == "cannot apply `-` to enum and int");
  CHECK(compile_error("amount / region").message == "cannot apply `/` to money and string");
  auto e = compile_error("count + null");
  CHECK(e.message == "cannot apply `+` to int and null");
  CHECK_FALSE(e.hint.empty());
  CHECK(compile_error("-region").message == "cannot apply unary `-` to string");
  CHECK(compile_error("-approved").message == "cannot apply unary `-` to bool");
  CHECK(compile_error("-signed_on").message == "cannot apply unary `-` to date");
}

TEST_CASE("division by zero is an evaluation error at run time", "[expr][numbers]") {
  Inputs in;
  in.data[0] = money("10");
  in.data[2] = Value::integer(0);
  in.data[3] = dec("0");
  for (const char* src : {"10 / count", "10 % count", "amount / count", "amount / rate",
                          "1h / count", "1h / (sla - sla)"}) {
    INFO(src);
    in.data[8] = dur("1h");
    auto e = eval_error(src, in);
    CHECK(e.message.starts_with("division by zero"));
    REQUIRE(e.location);
  }
  auto e = eval_error("amount / count", in);
  CHECK(column_of(e) == 8);
}

TEST_CASE("division of constants by zero is a load-time error", "[expr][numbers]") {
  auto e = compile_error("count > 1 / 0");
  CHECK(e.message == "division by zero");
  CHECK(column_of(e) == 11);
  CHECK(compile_error("5 % 0").message == "division by zero");
  CHECK(compile_error("1.5 / 0.0").message == "division by zero");
}

TEST_CASE("integer overflow is an evaluation error, never a wrap-around", "[expr][numbers]") {
  Inputs in;
  in.data[2] = Value::integer(kMax);
  CHECK(eval_error("count + 1", in).message.starts_with("arithmetic overflow"));
  CHECK(eval_error("count * 2", in).message.starts_with("arithmetic overflow"));
  CHECK(eval_error("-count - 2", in).message.starts_with("arithmetic overflow"));
  in.data[2] = Value::integer(kMin);
  CHECK(eval_error("-count", in).message.starts_with("arithmetic overflow"));
  CHECK(eval_error("abs(count)", in).message.starts_with("arithmetic overflow"));
  CHECK(eval_error("count / -1", in).message.starts_with("arithmetic overflow"));
  CHECK(eval_error("count - 1", in).message.starts_with("arithmetic overflow"));
  CHECK(eval("count % -1", in) == Value::integer(0));
  in.data[0] = money("9000000000000");
  CHECK(eval_error("amount * amount", in).message.starts_with("arithmetic overflow"));
  in.data[2] = Value::integer(kMax / 1000);
  CHECK(eval_error("count + 0.5", in).message.starts_with("value too large for decimal"));
}

TEST_CASE("constant overflow is a load-time error", "[expr][numbers]") {
  CHECK(compile_error("9223372036854775807 + 1").message == "arithmetic overflow");
  auto e = compile_error("99999999999999999999 > count");
  CHECK(e.message == "integer `99999999999999999999` is too large");
  CHECK(compile_error("9223372036854775807 + 0.5").message ==
        "`9223372036854775807` is too large for decimal");
}

// ---- durations, dates and datetimes ----

TEST_CASE("durations add, subtract, scale and divide", "[expr][time]") {
  CHECK(eval("1h + 30m") == dur("1h30m"));
  CHECK(eval("1h - 2h") == dur("-1h"));
  CHECK(eval("2 * 1h") == dur("2h"));
  CHECK(eval("1h * 2") == dur("2h"));
  CHECK(eval("1h * 1.5") == dur("1h30m"));
  CHECK(eval("0.5 * 1d") == dur("12h"));
  CHECK(eval("1h / 4") == dur("15m"));
  CHECK(eval("1h / 0.5") == dur("2h"));
  CHECK(eval("1h / 7") == Value::duration(514'286));  // rounded to the millisecond
  CHECK(eval("3h / 2h") == dec("1.5"));
  CHECK(eval("-90s") == dur("-1m30s"));
  CHECK(eval("90s > 1m") == Value::boolean(true));
  CHECK(type_of("sla * count") == Type::kDuration);
}

TEST_CASE("durations do not mix with money, text or bare numbers in + and -", "[expr][time]") {
  CHECK(compile_error("1h * amount").message == "cannot apply `*` to duration and money");
  CHECK(compile_error("1h + 1").message == "cannot apply `+` to duration and int");
  CHECK(compile_error("1h * 1h").message == "cannot apply `*` to duration and duration");
  CHECK(compile_error("2 / 1h").message == "cannot apply `/` to int and duration");
  CHECK(compile_error("1h % 2").message == "`%` needs int operands, got duration and int");
}

TEST_CASE("datetime arithmetic with durations and between datetimes", "[expr][time]") {
  CHECK(eval("2026-03-01T09:00:00Z + 4h") == datetime("2026-03-01T13:00:00Z"));
  CHECK(eval("4h + 2026-03-01T09:00:00Z") == datetime("2026-03-01T13:00:00Z"));
  CHECK(eval("2026-03-01T09:00:00Z - 1d") == datetime("2026-02-28T09:00:00Z"));
  CHECK(eval("2026-03-01T09:00:00Z - 2026-02-28T21:30:00Z") == dur("11h30m"));
  CHECK(eval("2026-02-28T21:30:00Z - 2026-03-01T09:00:00Z") == dur("-11h30m"));
  CHECK(eval("2024-02-28T12:00:00Z + 1d") == datetime("2024-02-29T12:00:00Z"));
  CHECK(eval("1970-01-01T00:00:00Z - 1ms") == datetime("1969-12-31T23:59:59.999Z"));
  CHECK(eval("2026-03-01T09:00:00+02:00 < 2026-03-01T08:00:00Z") == Value::boolean(true));
  CHECK(compile_error("2026-03-01T09:00:00Z + 2026-03-01T09:00:00Z").message ==
        "cannot apply `+` to datetime and datetime");
  CHECK(compile_error("1h - 2026-03-01T09:00:00Z").message ==
        "cannot apply `-` to duration and datetime");
}

TEST_CASE("date arithmetic counts whole days across leap years", "[expr][time]") {
  CHECK(eval("2026-03-01 + 1d") == date("2026-03-02"));
  CHECK(eval("1d + 2026-03-01") == date("2026-03-02"));
  CHECK(eval("2026-03-01 - 1w") == date("2026-02-22"));
  CHECK(eval("2024-02-28 + 1d") == date("2024-02-29"));
  CHECK(eval("2023-02-28 + 1d") == date("2023-03-01"));
  CHECK(eval("2024-03-01 - 2024-02-01") == dur("29d"));
  CHECK(eval("2023-03-01 - 2023-02-01") == dur("28d"));
  CHECK(eval("2024-02-01 - 2024-03-01") == dur("-29d"));
  CHECK(eval("1900-03-01 - 1900-02-28") == dur("1d"));  // 1900 is not a leap year
  CHECK(eval("2000-03-01 - 2000-02-28") == dur("2d"));  // 2000 is
  CHECK(eval("0000-03-01 - 0000-02-28") == dur("2d"));  // year 0 is, proleptically
  CHECK(eval("1970-01-01 - 1d") == date("1969-12-31"));
  CHECK(eval("1969-12-31 + 1d") == date("1970-01-01"));
  CHECK(eval("1960-01-01 - 1970-01-01") == dur("-3653d"));
}

TEST_CASE("date arithmetic with a partial day is refused", "[expr][time]") {
  auto e = compile_error("signed_on + 4h");
  CHECK(e.message == "date arithmetic needs whole days, got 4h");
  CHECK(column_of(e) == 13);
  Inputs in;
  in.data[6] = date("2026-03-01");
  in.data[8] = dur("4h");
  CHECK(eval_error("signed_on + sla", in)
            .message.starts_with("date arithmetic needs whole days, got 4h"));
  in.data[8] = dur("2d");
  CHECK(eval("signed_on + sla", in) == date("2026-03-03"));
  CHECK(eval("signed_on - sla", in) == date("2026-02-27"));
}

TEST_CASE("dates and datetimes do not mix", "[expr][time]") {
  auto e = compile_error("signed_on < due");
  CHECK(e.message == "cannot compare date with datetime using `<`");
  CHECK(e.hint == "a date has no time of day: compare dates with dates");
  CHECK(compile_error("due - signed_on").message == "cannot apply `-` to datetime and date");
  CHECK(compile_error("signed_on + due").message == "cannot apply `+` to date and datetime");
}

TEST_CASE("dates and datetimes outside the years 0000-9999 are errors", "[expr][time]") {
  CHECK(compile_error("9999-12-31 + 1d").message == "date out of range (years 0000-9999)");
  CHECK(compile_error("0000-01-01T00:00:00Z - 1ms").message ==
        "datetime out of range (years 0000-9999)");
  Inputs in;
  in.data[6] = date("0000-01-01");
  CHECK(eval_error("signed_on - 1d", in).message.starts_with("date out of range"));
  in.data[8] = Value::duration(kMax);
  CHECK(eval_error("signed_on + sla", in).message.starts_with("date arithmetic needs whole days"));
}

TEST_CASE("now() is the command's time", "[expr][time]") {
  Inputs in;
  in.now_ms = *parse_datetime_ms("2026-03-01T12:00:00Z");
  in.data[7] = datetime("2026-03-01T09:00:00Z");
  CHECK(eval("now()", in) == datetime("2026-03-01T12:00:00Z"));
  CHECK(eval("now() - due", in) == dur("3h"));
  CHECK(eval("now() - due > 2h", in) == Value::boolean(true));
  CHECK(eval("due + 4h < now()", in) == Value::boolean(false));
}

// ---- comparisons ----

TEST_CASE("each kind compares with itself", "[expr][compare]") {
  CHECK(eval("'a' < 'b'") == Value::boolean(true));
  CHECK(eval("'B' < 'a'") == Value::boolean(true));  // byte order
  CHECK(eval("'abc' >= 'abc'") == Value::boolean(true));
  CHECK(eval("'x' != 'y'") == Value::boolean(true));
  CHECK(eval("true == true") == Value::boolean(true));
  CHECK(eval("true != false") == Value::boolean(true));
  CHECK(eval("2026-03-01 > 2026-02-28") == Value::boolean(true));
  CHECK(eval("2026-03-01 <= 2026-03-01") == Value::boolean(true));
  CHECK(eval("2026-03-01T09:00:00Z == 2026-03-01T10:00:00+01:00") == Value::boolean(true));
  CHECK(eval("1d == 24h") == Value::boolean(true));
  CHECK(eval("250ms < 1s") == Value::boolean(true));
}

TEST_CASE("comparing different kinds names both types and the operator", "[expr][compare]") {
  auto e = compile_error("data.amount >= 'lots'");
  CHECK(e.message == "cannot compare money with string using `>=`");
  CHECK(column_of(e) == 13);
  CHECK(compile_error("region == 5").message == "cannot compare string with int using `==`");
  CHECK(compile_error("approved == 1").message == "cannot compare bool with int using `==`");
  CHECK(compile_error("sla > 5").message == "cannot compare duration with int using `>`");
  CHECK(compile_error("signed_on == '2026-03-01'").message ==
        "cannot compare date with string using `==`");
}

TEST_CASE("ordering needs an ordered kind", "[expr][compare]") {
  auto b = compile_error("true < false");
  CHECK(b.message == "cannot compare bool with bool using `<`");
  CHECK(b.hint == "bool values have no order");
  auto e = compile_error("priority > 'P1'");
  CHECK(e.message == "cannot compare enum with string using `>`");
  CHECK(e.hint == "enum members have no order: use `in [...]`");
  auto n = compile_error("amount > null");
  CHECK(n.message == "cannot compare money with null using `>`");
  CHECK(n.hint.find("is_set") != std::string::npos);
}

TEST_CASE("in takes a list of constants of a compatible type", "[expr][compare]") {
  CHECK(eval("2 in [1, 2, 3]") == Value::boolean(true));
  CHECK(eval("4 in [1, 2, 3]") == Value::boolean(false));
  CHECK(eval("2 in []") == Value::boolean(false));
  CHECK(eval("1h in [60m, 2h]") == Value::boolean(true));
  CHECK(eval("2026-03-01 in [2026-03-01]") == Value::boolean(true));
  CHECK(eval("'b' in ['a', 'b',]") == Value::boolean(true));
  CHECK(eval("-1 in [-1, 2 * 3]") == Value::boolean(true));  // constant expressions fold
  auto e = compile_error("region in ['EMEA', note]");
  CHECK(e.message == "list elements of `in` must be constants");
  CHECK(column_of(e) == 20);
  auto t = compile_error("amount in [1, 'a']");
  CHECK(t.message == "cannot compare money with string in the list of `in`");
  CHECK(column_of(t) == 15);
  auto l = compile_error("region in 'EMEA'");
  CHECK(l.message == "expected `[` after `in`, found `'EMEA'`");
  CHECK(column_of(l) == 11);
}
