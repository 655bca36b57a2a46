// Shared helpers for the expression tests: a scope resembling a Lead-to-Cash workflow and short
// ways to compile, evaluate and inspect compile errors.
#pragma once

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "definition/expr.h"
#include "definition/value.h"

namespace flowgate::test {

// data: amount money, region string, count int, rate decimal, approved bool, priority enum,
//       signed_on date, due datetime, sla duration, note string
// event: reason string, discount decimal, channel enum
inline Scope ltc_scope() {
  Scope s;
  s.data = {{"amount", Type::kMoney, {}},   {"region", Type::kString, {}},
            {"count", Type::kInt, {}},      {"rate", Type::kDecimal, {}},
            {"approved", Type::kBool, {}},  {"priority", Type::kEnum, {"P1", "P2", "P3"}},
            {"signed_on", Type::kDate, {}}, {"due", Type::kDateTime, {}},
            {"sla", Type::kDuration, {}},   {"note", Type::kString, {}}};
  s.event = {{"reason", Type::kString, {}},
             {"discount", Type::kDecimal, {}},
             {"channel", Type::kEnum, {"web", "phone", "chat"}}};
  return s;
}

// Slots follow ltc_scope(); unset fields are null.
struct Inputs {
  std::vector<Value> data = std::vector<Value>(10);
  std::vector<Value> event = std::vector<Value>(3);
  std::int64_t now_ms = 0;
  EvalInput view() const { return EvalInput{data, event, now_ms}; }
};

inline Expression compiled(const std::string& src, const Scope& scope = ltc_scope()) {
  auto e = Expression::compile(src, scope);
  INFO(src);
  if (!e) INFO(e.error().to_string());
  REQUIRE(e);
  return *e;
}

// Evaluates a constant or field expression; fails the test on any error.
inline Value eval(const std::string& src, const Inputs& in = {}) {
  auto e = compiled(src);
  auto v = e.evaluate(in.view());
  INFO(src);
  if (!v) INFO(v.error().to_string());
  REQUIRE(v);
  return *v;
}

inline Error compile_error(const std::string& src, const Scope& scope = ltc_scope()) {
  auto e = Expression::compile(src, scope);
  INFO(src);
  REQUIRE_FALSE(e);
  CHECK(e.error().code == ErrorCode::kInvalidDefinition);
  return e.error();
}

inline Error eval_error(const std::string& src, const Inputs& in = {}) {
  auto e = compiled(src);
  auto v = e.evaluate(in.view());
  INFO(src);
  REQUIRE_FALSE(v);
  CHECK(v.error().code == ErrorCode::kEvaluation);
  return v.error();
}

inline int column_of(const Error& e) { return e.location ? e.location->column : 0; }
inline int line_of(const Error& e) { return e.location ? e.location->line : 0; }

inline Value money(const char* text) { return Value::money_units(*parse_decimal_units(text)); }
inline Value dec(const char* text) { return Value::decimal_units(*parse_decimal_units(text)); }
inline Value dur(const char* text) { return Value::duration(*parse_duration_ms(text)); }
inline Value date(const char* text) { return Value::date(*parse_date_days(text)); }
inline Value datetime(const char* text) { return Value::datetime(*parse_datetime_ms(text)); }

}  // namespace flowgate::test
