// The expression language: literals, references, operators and their precedence, functions,
// null semantics and run-time errors.
#include "expr_test_support.h"

using namespace flowgate;
using namespace flowgate::test;

TEST_CASE("a default expression is the constant true", "[expr]") {
  Expression e;
  CHECK(e.type() == Type::kBool);
  CHECK(e.source() == "true");
  CHECK(e.test(Inputs{}.view()) == true);
  CHECK(e.data_refs().empty());
}

TEST_CASE("the typical LTC guard compiles, references its fields and decides", "[expr]") {
  auto e = compiled("data.amount >= 100000 and region in ['APAC', 'EMEA']");
  CHECK(e.type() == Type::kBool);
  CHECK(e.data_refs() == std::vector<std::string>{"amount", "region"});
  CHECK(e.event_refs().empty());
  Inputs in;
  in.data[0] = money("250000");
  in.data[1] = Value::string("EMEA");
  CHECK(e.test(in.view()) == true);
  in.data[1] = Value::string("AMER");
  CHECK(e.test(in.view()) == false);
  in.data[1] = Value::string("APAC");
  in.data[0] = money("99999.99");
  CHECK(e.test(in.view()) == false);
}

TEST_CASE("literals of every kind evaluate to their values", "[expr]") {
  CHECK(eval("42") == Value::integer(42));
  CHECK(eval("12.5") == dec("12.5"));
  CHECK(eval("\"text\"") == Value::string("text"));
  CHECK(eval("'text'") == Value::string("text"));
  CHECK(eval("true") == Value::boolean(true));
  CHECK(eval("false") == Value::boolean(false));
  CHECK(eval("null").is_null());
  CHECK(eval("2026-03-01") == date("2026-03-01"));
  CHECK(eval("2026-03-01T09:00:00Z") == datetime("2026-03-01T09:00:00Z"));
  CHECK(eval("2026-03-01T10:00:00+01:00") == datetime("2026-03-01T09:00:00Z"));
  CHECK(eval("4h30m") == dur("4h30m"));
  CHECK(eval("1d2h") == dur("1d2h"));
  CHECK(eval("90s") == dur("90s"));
  CHECK(eval("250ms") == dur("250ms"));
  CHECK(eval("2w") == dur("14d"));
}

TEST_CASE("string literals decode their escapes", "[expr]") {
  CHECK(eval(R"("say \"hi\"")") == Value::string("say \"hi\""));
  CHECK(eval(R"('it\'s')") == Value::string("it's"));
  CHECK(eval(R"('a\\b')") == Value::string("a\\b"));
  CHECK(eval(R"('line\nbreak')") == Value::string("line\nbreak"));
  CHECK(eval(R"("it's")") == Value::string("it's"));
  CHECK(eval("'naïve €'") == Value::string("naïve €"));
}

TEST_CASE("references read data by bare or qualified name and event by event.name", "[expr]") {
  Inputs in;
  in.data[2] = Value::integer(7);
  in.event[0] = Value::string("budget");
  CHECK(eval("count", in) == Value::integer(7));
  CHECK(eval("data.count", in) == Value::integer(7));
  CHECK(eval("event.reason", in) == Value::string("budget"));
  auto e = compiled("count + data.count > 0 and event.reason == 'x' and is_set(event.channel)");
  CHECK(e.data_refs() == std::vector<std::string>{"count"});
  CHECK(e.event_refs() == std::vector<std::string>{"channel", "reason"});
}

TEST_CASE("a field named like a keyword is reachable through data.", "[expr]") {
  Scope s;
  s.data = {{"in", Type::kInt, {}}, {"not", Type::kBool, {}}};
  auto e = compiled("data.in > 1 and data.not", s);
  std::vector<Value> data = {Value::integer(2), Value::boolean(true)};
  CHECK(e.test(EvalInput{data, {}, 0}) == true);
}

TEST_CASE("expressions may span lines", "[expr]") {
  auto e = compiled("amount > 0\n  and region == 'EMEA'\n");
  CHECK(e.type() == Type::kBool);
}
