// Compile errors: every parse error with its line and column, unknown names with suggestions, and
// the limits that keep hostile input from exhausting the loader.
#include "expr_test_support.h"

using namespace flowgate;
using namespace flowgate::test;

// ---- parse errors ----

TEST_CASE("an empty expression is refused", "[expr][errors]") {
  for (const char* src : {"", "   ", "\n\t"}) {
    auto e = compile_error(src);
    CHECK(e.message == "empty expression");
    CHECK(line_of(e) == 1);
    CHECK(column_of(e) == 1);
  }
}

TEST_CASE("an unterminated string points at its opening quote", "[expr][errors]") {
  auto e = compile_error("region == 'EMEA");
  CHECK(e.message == "unterminated string");
  CHECK(column_of(e) == 11);
  CHECK(compile_error("region == \"EMEA\nand x").message == "unterminated string");
  CHECK(column_of(compile_error("note == 'ends with backslash\\")) == 9);
}

TEST_CASE("an unknown escape is refused where it stands", "[expr][errors]") {
  auto e = compile_error(R"(note == 'tab\there')");
  CHECK(e.message == "unknown escape `\\t` in string");
  CHECK(column_of(e) == 13);
}

TEST_CASE("an unexpected token is named with its column", "[expr][errors]") {
  auto e = compile_error("amount > > 5");
  CHECK(e.message == "expected a value, found `>`");
  CHECK(column_of(e) == 10);
  CHECK(compile_error("amount >").message == "expected a value, found the end of the expression");
  CHECK(column_of(compile_error("amount >")) == 9);
  CHECK(compile_error("(and)").message == "expected a value, found `and`");
  CHECK(compile_error("[1]").message == "expected a value, found `[`");
}

TEST_CASE("a missing closing parenthesis names where it was opened", "[expr][errors]") {
  auto e = compile_error("(amount > 5");
  CHECK(e.message == "expected `)`, found the end of the expression");
  CHECK(column_of(e) == 12);
  CHECK(e.hint == "the `(` at line 1, column 1 is not closed");
  auto c = compile_error("len(note > 1");
  CHECK(c.message == "expected `,` or `)` in the call of len(), found the end of the expression");
  auto l = compile_error("region in ['a' 'b']");
  CHECK(l.message == "expected `,` or `]` in the list, found `'b'`");
  CHECK(column_of(l) == 16);
}

TEST_CASE("trailing text after a complete expression is refused", "[expr][errors]") {
  auto e = compile_error("amount > 5 region");
  CHECK(e.message == "unexpected `region` after the end of the expression");
  CHECK(column_of(e) == 12);
  CHECK(compile_error("amount > 5)").message == "unexpected `)` after the end of the expression");
}

TEST_CASE("bad literals are refused at their column", "[expr][errors]") {
  struct Case {
    const char* src;
    const char* message;
    int column;
  };
  for (const Case& c : {
           Case{"signed_on == 2026-02-30", "invalid date `2026-02-30`", 14},
           Case{"sla > 4x", "invalid duration `4x`", 7},
           Case{"sla > 30m4h", "invalid duration `30m4h`", 7},
           Case{"sla > 1.5h", "invalid number `1.5h`", 7},
           Case{"rate > 0.1234567", "invalid decimal `0.1234567`", 8},
           Case{"count > 99999999999999999999", "integer `99999999999999999999` is too large", 9},
           Case{"due > 2026-03-01T09:00:00", "datetime `2026-03-01T09:00:00` has no time zone", 7},
           Case{"due > 2026-03-01T25:00:00Z", "invalid datetime `2026-03-01T25:00:00Z`", 7},
           Case{"due > 2026-03-01T09:00Zulu", "invalid datetime `2026-03-01T09:00Zulu`", 7},
           Case{"signed_on > 2026-03-01x", "invalid date `2026-03-01x`", 13},
       }) {
    INFO(c.src);
    auto e = compile_error(c.src);
    CHECK(e.message == c.message);
    CHECK(column_of(e) == c.column);
  }
}

TEST_CASE("stray characters get a hint towards the language's spelling", "[expr][errors]") {
  auto eq = compile_error("amount = 5");
  CHECK(eq.message == "unexpected `=`");
  CHECK(eq.hint == "compare with `==`");
  CHECK(column_of(eq) == 8);
  CHECK(compile_error("approved && true").hint == "combine conditions with `and`");
  CHECK(compile_error("approved || true").hint == "combine conditions with `or`");
  CHECK(compile_error("!approved").hint == "negate with `not`");
  auto hash = compile_error("amount # 5");
  CHECK(hash.message == "unexpected character `#`");
  CHECK(column_of(hash) == 8);
}

TEST_CASE("invalid UTF-8 is refused and never echoed raw", "[expr][errors]") {
  auto e = compile_error("note == '\xff'");
  CHECK(e.message == "string is not valid UTF-8");
  CHECK(column_of(e) == 10);
  auto raw = compile_error("amount \xc3 5");
  CHECK(raw.message == "unexpected character `\\xc3`");
  CHECK_NOTHROW(raw.to_json().dump());
  CHECK(compile_error("note == '\xed\xa0\x80'").message ==
        "string is not valid UTF-8");                                                 // surrogate
  CHECK(compile_error("note == '\xc0\xaf'").message == "string is not valid UTF-8");  // overlong
}

TEST_CASE("columns count characters, not bytes, and lines count from 1", "[expr][errors]") {
  auto e = compile_error("note == 'é€' and nope");
  CHECK(column_of(e) == 18);
  auto m = compile_error("amount > 0 and\n  regoin == 'EMEA'");
  CHECK(line_of(m) == 2);
  CHECK(column_of(m) == 3);
  auto p = compile_error("(amount > 0\nand true");
  CHECK(line_of(p) == 2);
  CHECK(column_of(p) == 9);
  CHECK(p.location->file.empty());
}

TEST_CASE("a reference must name a field", "[expr][errors]") {
  CHECK(compile_error("data. > 1").message == "expected a field name after `data.`, found `>`");
  CHECK(compile_error("data.5").message == "expected a field name after `data.`, found `5`");
  auto e = compile_error("data.amount.cents > 1");
  CHECK(e.message == "unexpected `.`");
  CHECK(column_of(e) == 12);
}

// ---- names ----

TEST_CASE("an unknown field is named with the closest declared one", "[expr][errors]") {
  auto e = compile_error("amout > 5");
  CHECK(e.message == "unknown field `amout`");
  CHECK(e.hint == "did you mean `amount`?");
  CHECK(column_of(e) == 1);
  auto q = compile_error("region == 'x' and data.regoin == 'y'");
  CHECK(q.message == "unknown field `regoin`");
  CHECK(q.hint == "did you mean `region`?");
  CHECK(column_of(q) == 19);
  auto ev = compile_error("event.reasn == 'x'");
  CHECK(ev.message == "unknown event field `reasn`");
  CHECK(ev.hint == "did you mean `event.reason`?");
}

TEST_CASE("an unknown name gets the most useful hint available", "[expr][errors]") {
  CHECK(compile_error("reason == 'x'").hint ==
        "did you mean `event.reason`? a bare name refers to a data field");
  CHECK(compile_error("event.count > 1").hint == "did you mean `data.count`?");
  CHECK(compile_error("True").hint == "keywords are lower case: did you mean `true`?");
  CHECK(compile_error("zzzzzz > 1").hint ==
        "declared fields: amount, region, count, rate, approved, priority, signed_on, due, …");
  CHECK(compile_error("x > 1", Scope{}).hint == "the workflow declares no data fields");
  CHECK(compile_error("event.x > 1", Scope{}).hint == "this transition declares no payload");
}

TEST_CASE("event fields are refused where no payload exists", "[expr][errors]") {
  Scope s = ltc_scope();
  s.allow_event = false;
  auto e = compile_error("amount > 0 and event.reason == 'x'", s);
  CHECK(e.message == "event fields are not available here (`event.reason`)");
  CHECK(column_of(e) == 16);
  CHECK(compile_error("reason == 'x'", s).hint == "did you mean `region`?");
}

// ---- limits ----

TEST_CASE("deep nesting is refused cleanly instead of overflowing the stack", "[expr][limits]") {
  for (const std::string& src :
       {std::string(10'000, '('), std::string(10'000, '(') + "1" + std::string(10'000, ')'),
        std::string(300, '(') + "1" + std::string(300, ')'),
        [] {
          std::string s;
          for (int i = 0; i < 10'000; ++i) s += "not ";
          return s + "true";
        }(),
        std::string(10'000, '-') + "1", "len(" + std::string(5'000, '[') + ")"}) {
    auto e = Expression::compile(src, ltc_scope());
    REQUIRE_FALSE(e);
    INFO(e.error().message);
    CHECK((e.error().message == "expression is nested too deeply (more than 256 levels)" ||
           e.error().message.starts_with("expected a value")));
  }
  auto e = compile_error(std::string(300, '(') + "1" + std::string(300, ')'));
  CHECK(e.message == "expression is nested too deeply (more than 256 levels)");
}

TEST_CASE("moderate nesting within the limit compiles", "[expr][limits]") {
  std::string src = std::string(200, '(') + "count" + std::string(200, ')') + " > 1";
  CHECK(compiled(src).type() == Type::kBool);
}

TEST_CASE("long operator chains are bounded by the same depth limit", "[expr][limits]") {
  std::string sum = "count";
  for (int i = 0; i < 300; ++i) sum += " + 1";
  CHECK(compile_error(sum).message == "expression is nested too deeply (more than 256 levels)");
  std::string ok = "count";
  for (int i = 0; i < 200; ++i) ok += " + 1";
  Inputs in;
  in.data[2] = Value::integer(1);
  CHECK(eval(ok, in) == Value::integer(201));
}

TEST_CASE("long and/or chains are flat and compile", "[expr][limits]") {
  std::string src = "approved";
  for (int i = 0; i < 5'000; ++i) src += i % 2 ? " and approved" : " or count > 1";
  auto e = compiled(src);
  Inputs in;
  in.data[4] = Value::boolean(true);
  CHECK(e.test(in.view()) == true);
}

TEST_CASE("many stack cells still evaluate", "[expr][limits]") {
  // min(1, min(1, ...)) keeps one pending argument per level: deeper than the inline stack.
  std::string src = "count";
  for (int i = 0; i < 100; ++i) src = "max(1, " + src + ")";
  Inputs in;
  in.data[2] = Value::integer(7);
  CHECK(eval(src, in) == Value::integer(7));
}

TEST_CASE("oversized source is refused before parsing", "[expr][limits]") {
  std::string src = "approved";
  while (src.size() <= 64 * 1024) src += " or approved";
  auto e = compile_error(src);
  CHECK(e.message.starts_with("expression is too long ("));
  CHECK(e.message.ends_with("bytes; the limit is 65536)"));
}
