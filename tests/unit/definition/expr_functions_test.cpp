// Functions, null semantics, enum members and the evaluate/test contract.
#include <atomic>
#include <thread>

#include "expr_test_support.h"

using namespace flowgate;
using namespace flowgate::test;

// ---- functions ----

TEST_CASE("len counts characters of strings and enum members", "[expr][functions]") {
  CHECK(eval("len('abc')") == Value::integer(3));
  CHECK(eval("len('')") == Value::integer(0));
  CHECK(eval("len('naïve')") == Value::integer(5));
  Inputs in;
  in.data[5] = Value::enum_member("P1");
  CHECK(eval("len(priority)", in) == Value::integer(2));
  CHECK(compile_error("len(5)").message == "len() expects a string, got int");
}

TEST_CASE("lower and upper change ASCII letters only", "[expr][functions]") {
  CHECK(eval("lower('AbC-9')") == Value::string("abc-9"));
  CHECK(eval("upper('straße')") == Value::string("STRAßE"));
  Inputs in;
  in.data[1] = Value::string("EMEA");
  in.data[5] = Value::enum_member("P2");
  CHECK(eval("lower(region) == 'emea'", in) == Value::boolean(true));
  CHECK(eval("lower(priority)", in) == Value::string("p2"));
  CHECK(eval("upper(lower(region))", in) == Value::string("EMEA"));
  CHECK(compile_error("upper(approved)").message == "upper() expects a string, got bool");
}

TEST_CASE("is_set tells an unset field from a set one", "[expr][functions]") {
  Inputs in;
  CHECK(eval("is_set(amount)", in) == Value::boolean(false));
  CHECK(eval("is_set(event.reason)", in) == Value::boolean(false));
  in.data[0] = money("0");
  in.event[0] = Value::string("");
  CHECK(eval("is_set(data.amount)", in) == Value::boolean(true));
  CHECK(eval("is_set(event.reason)", in) == Value::boolean(true));
  auto e = compile_error("is_set(amount + 1)");
  CHECK(e.message == "is_set() takes a field reference");
  CHECK(column_of(e) == 8);
  CHECK(compile_error("is_set(nope)").message == "unknown field `nope`");
}

TEST_CASE("min and max pick by order, promoting numbers", "[expr][functions]") {
  CHECK(eval("min(1, 2.5)") == dec("1"));
  CHECK(eval("max(1, 2.5)") == dec("2.5"));
  CHECK(eval("min(3, 2)") == Value::integer(2));
  CHECK(eval("max('b', 'a')") == Value::string("b"));
  CHECK(eval("min(2026-01-01, 2025-06-30)") == date("2025-06-30"));
  CHECK(eval("max(1h, 90m)") == dur("1h30m"));
  CHECK(eval("min(2026-03-01T09:00:00Z, 2026-03-01T08:00:00Z)") ==
        datetime("2026-03-01T08:00:00Z"));
  Inputs in;
  in.data[0] = money("5");
  CHECK(eval("max(amount, 7)", in) == money("7"));
  CHECK(eval("min(amount, 7)", in) == money("5"));
  CHECK(compile_error("min(1, 'a')").message == "min() cannot compare int with string");
  CHECK(compile_error("max(approved, approved)").message == "max() cannot compare bool with bool");
  CHECK(compile_error("max(priority, priority)").message == "max() cannot compare enum with enum");
}

TEST_CASE("abs takes numbers and durations", "[expr][functions]") {
  CHECK(eval("abs(-5)") == Value::integer(5));
  CHECK(eval("abs(5)") == Value::integer(5));
  CHECK(eval("abs(-1.5)") == dec("1.5"));
  CHECK(eval("abs(-1h)") == dur("1h"));
  CHECK(compile_error("abs('x')").message == "abs() expects a number or a duration, got string");
}

TEST_CASE("functions check their argument count", "[expr][functions]") {
  auto e = compile_error("count > 0 and len() > 1");
  CHECK(e.message == "len() takes 1 argument, got 0");
  CHECK(column_of(e) == 15);
  CHECK(compile_error("now(1)").message == "now() takes 0 arguments, got 1");
  CHECK(compile_error("min(1)").message == "min() takes 2 arguments, got 1");
  CHECK(compile_error("abs(1, 2)").message == "abs() takes 1 argument, got 2");
  CHECK(compile_error("is_set()").message == "is_set() takes 1 argument, got 0");
}

TEST_CASE("an unknown function is named with the closest known one", "[expr][functions]") {
  auto e = compile_error("lenn(note) > 3");
  CHECK(e.message == "unknown function `lenn`");
  CHECK(e.hint == "did you mean `len`?");
  CHECK(column_of(e) == 1);
  auto f = compile_error("frobnicate(1)");
  CHECK(f.hint.starts_with("functions: len, lower, upper"));
}

// ---- null ----

TEST_CASE("null propagates through arithmetic and functions", "[expr][null]") {
  Inputs in;  // everything unset
  for (const char* src : {"amount + 1", "count * 2", "-rate", "sla / 2", "due - 1h",
                          "signed_on + 1d", "len(note)", "lower(region)", "min(amount, 5)",
                          "max(5, count)", "abs(rate)", "due - due", "signed_on - signed_on"}) {
    INFO(src);
    CHECK(eval(src, in).is_null());
  }
}

TEST_CASE("ordering comparisons with null are false both ways", "[expr][null]") {
  Inputs in;
  CHECK(eval("amount > 0", in) == Value::boolean(false));
  CHECK(eval("amount <= 0", in) == Value::boolean(false));
  CHECK(eval("not (amount > 0)", in) == Value::boolean(true));
  CHECK(eval("region < 'm'", in) == Value::boolean(false));
  CHECK(eval("amount + 1 >= 0", in) == Value::boolean(false));
}

TEST_CASE("== and != compare with null", "[expr][null]") {
  Inputs in;
  CHECK(eval("amount == null", in) == Value::boolean(true));
  CHECK(eval("null == amount", in) == Value::boolean(true));
  CHECK(eval("amount != null", in) == Value::boolean(false));
  CHECK(eval("amount == 5", in) == Value::boolean(false));
  CHECK(eval("amount != 5", in) == Value::boolean(true));
  CHECK(eval("amount == rate", in) == Value::boolean(true));  // both unset
  CHECK(eval("null == null") == Value::boolean(true));
  CHECK(eval("amount in [1, 2]", in) == Value::boolean(false));
  CHECK(eval("amount in [1, null]", in) == Value::boolean(true));
  in.data[0] = money("1");
  CHECK(eval("amount == null", in) == Value::boolean(false));
  CHECK(eval("amount in [1, null]", in) == Value::boolean(true));
}

TEST_CASE("and, or and not treat null as false", "[expr][null]") {
  Inputs in;
  CHECK(eval("approved and true", in) == Value::boolean(false));
  CHECK(eval("approved or true", in) == Value::boolean(true));
  CHECK(eval("approved or false", in) == Value::boolean(false));
  CHECK(eval("not approved", in) == Value::boolean(true));
  CHECK(eval("approved", in).is_null());
  auto guard = compiled("approved");
  CHECK(guard.test(in.view()) == false);
}

TEST_CASE("a payload field that was not sent reads as null", "[expr][null]") {
  auto e = compiled("is_set(event.channel) or event.discount == null");
  std::vector<Value> data(10);
  CHECK(e.test(EvalInput{data, {}, 0}) == true);
}

TEST_CASE("and and or short-circuit", "[expr]") {
  Inputs in;
  in.data[2] = Value::integer(0);
  CHECK(eval("count != 0 and 10 / count > 1", in) == Value::boolean(false));
  CHECK(eval("count == 0 or 10 / count > 1", in) == Value::boolean(true));
  CHECK(eval("approved or approved or count == 0", in) == Value::boolean(true));
}

TEST_CASE("and, or and not need bool operands", "[expr]") {
  auto e = compile_error("region == 'x' and amount");
  CHECK(e.message == "`and` expects bool operands, got money");
  CHECK(column_of(e) == 19);
  CHECK(compile_error("1 or true").message == "`or` expects bool operands, got int");
  CHECK(compile_error("not region").message == "`not` expects bool operands, got string");
  CHECK(compile_error("null and true").message == "`and` expects bool operands, got null");
}

// ---- enums ----

TEST_CASE("an enum compares with string constants that are members", "[expr][enum]") {
  Inputs in;
  in.data[5] = Value::enum_member("P2");
  CHECK(eval("priority == 'P2'", in) == Value::boolean(true));
  CHECK(eval("'P2' == priority", in) == Value::boolean(true));
  CHECK(eval("priority != 'P1'", in) == Value::boolean(true));
  CHECK(eval("priority in ['P1', 'P2']", in) == Value::boolean(true));
  CHECK(eval("priority == upper('p3')", in) == Value::boolean(false));  // folds, then checked
  in.data[1] = Value::string("P2");
  CHECK(eval("priority == region", in) == Value::boolean(true));  // non-constant text: by name
}

TEST_CASE("a string constant that is not a member is refused with a suggestion", "[expr][enum]") {
  auto e = compile_error("priority == 'P9'");
  CHECK(e.message == "`P9` is not a member of enum `priority`");
  CHECK(e.hint == "did you mean `P1`?");
  CHECK(column_of(e) == 13);
  auto l = compile_error("priority in ['P1', 'urgent']");
  CHECK(l.message == "`urgent` is not a member of enum `priority`");
  CHECK(l.hint == "members: P1, P2, P3");
  CHECK(column_of(l) == 20);
  auto v = compile_error("event.channel == 'wbe'");
  CHECK(v.message == "`wbe` is not a member of enum `channel`");
  CHECK(v.hint == "did you mean `web`?");
  CHECK(compile_error("'p1' == priority").message == "`p1` is not a member of enum `priority`");
}

// ---- evaluate / test ----

TEST_CASE("the static type is known after compiling", "[expr]") {
  CHECK(compiled("amount").type() == Type::kMoney);
  CHECK(compiled("now()").type() == Type::kDateTime);
  CHECK(compiled("'x'").type() == Type::kString);
  CHECK(compiled("priority").type() == Type::kEnum);
  CHECK(compiled("null").type() == Type::kNull);
  CHECK(compiled("amount > 0").type() == Type::kBool);
}

TEST_CASE("test() refuses an expression that is not a condition", "[expr]") {
  auto e = compiled("amount + 1");
  auto r = e.test(Inputs{}.view());
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kEvaluation);
  CHECK(r.error().message == "`amount + 1` is a money expression, not a condition");
  CHECK(compiled("null").test(Inputs{}.view()) == false);
}

TEST_CASE("evaluation results carry their declared type", "[expr]") {
  Inputs in;
  in.data[0] = Value::integer(5);  // an int stored in a money field still reads as money
  CHECK(eval("amount", in) == money("5"));
  in.data[5] = Value::string("P1");  // an enum field given as a plain string
  CHECK(eval("priority", in) == Value::enum_member("P1"));
}

TEST_CASE("a value of the wrong type for its field is an evaluation error", "[expr]") {
  Inputs in;
  in.data[0] = Value::string("lots");
  auto e = eval_error("amount > 5", in);
  CHECK(e.message == "data.amount holds a string value but is declared money in `amount > 5`");
  CHECK(column_of(e) == 1);
  in.data[0] = Value::null();
  in.event[1] = Value::boolean(true);
  CHECK(eval_error("event.discount > 0.1", in)
            .message.starts_with("event.discount holds a bool value but is declared decimal"));
}

TEST_CASE("string results own their text beyond the evaluation", "[expr]") {
  Inputs in;
  in.data[9] = Value::string("A long note that does not fit in a small-string buffer");
  auto e = compiled("lower(note)");
  Value v = *e.evaluate(in.view());
  in.data[9] = Value::string("changed");
  CHECK(v == Value::string("a long note that does not fit in a small-string buffer"));
}

TEST_CASE("a compiled expression can be evaluated from many threads", "[expr]") {
  auto e = compiled("amount >= 100000 and region in ['APAC', 'EMEA'] and lower(region) != 'x'");
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      Inputs in;
      for (int i = 0; i < 2000; ++i) {
        in.data[0] = Value::money_units((t * 2000 + i) * 100 * kDecimalScale);
        in.data[1] = Value::string(i % 2 ? "APAC" : "AMER");
        bool expected = (t * 2000 + i) * 100 >= 100000 && i % 2;
        if (e.test(in.view()) != expected) ++wrong;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(wrong == 0);
}
