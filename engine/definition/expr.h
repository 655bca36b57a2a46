// The guard and assignment expression language: a small typed language compiled once at load time
// and evaluated many times without re-parsing.
//
//   literals     42  12.5  "text" 'text'  true false  null  2026-03-01  2026-03-01T09:00:00Z  4h30m
//   references   data.amount  event.reason  amount (a bare name means data.<name>)
//   operators    (by precedence, loosest first) or; and; not; == != < <= > >= in; + -; * / %;
//                unary -; parentheses. `x in [a, b, c]` takes a list literal of constants.
//   functions    len(s) lower(s) upper(s) is_set(ref) now() min(a,b) max(a,b) abs(n)
//
// Types are checked against a Scope at compile time: an error names the line and column inside the
// expression source. Numbers promote int → decimal → money; datetime − datetime = duration;
// datetime ± duration = datetime; date ± duration (whole days) = date. Enum fields compare with
// string literals that must be members. Null (an unset field) propagates through arithmetic;
// ordering comparisons with null are false; `==`/`!=` compare with null; `and`/`or`/`not` treat
// null as false.
//
// Thread-safety: a compiled Expression is immutable and may be evaluated concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "definition/value.h"
#include "util/error.h"

namespace flowgate {

struct ScopeField {
  std::string name;
  Type type = Type::kNull;
  std::vector<std::string> enum_values;  // members, when type == kEnum
};

// What names an expression may reference. The index of a field in `data` (`event`) is the slot it
// reads from EvalInput::data (EvalInput::event).
struct Scope {
  std::vector<ScopeField> data;
  std::vector<ScopeField> event;
  bool allow_event = true;  // false where no command payload exists (e.g. plugin conditions)
};

struct EvalInput {
  std::span<const Value> data;
  std::span<const Value> event;
  std::int64_t now_ms = 0;  // the command's time; what now() returns
};

class Expression {
 public:
  Expression();  // the constant `true`
  // Parses and type-checks `source`. On error the Error's location has line/column relative to
  // `source` (1-based) and an empty file: the loader maps it into the process file.
  static Result<Expression> compile(std::string_view source, const Scope& scope);

  Type type() const;                                   // the static result type
  const std::string& source() const;                   // the text it was compiled from
  const std::vector<std::string>& data_refs() const;   // data fields referenced, sorted, unique
  const std::vector<std::string>& event_refs() const;  // event fields referenced, sorted, unique

  // Runtime failures (division by zero, overflow) are kEvaluation errors.
  Result<Value> evaluate(const EvalInput& in) const;
  // For guards: a null or false result is false.
  Result<bool> test(const EvalInput& in) const;

 private:
  friend bool are_exclusive(const Expression& a, const Expression& b);  // reads the compiled tree
  struct Program;
  std::shared_ptr<const Program> program_;
};

// True when no input can make both guards true: used by the validator for transitions on the same
// (state, event) and priority. Conservative: false means "could not prove it". Recognises
// comparisons of the same reference with constants whose ranges do not overlap (==, !=, <, <=, >,
// >=, in [...]), `X` versus `not X`, `is_set(x)` versus `not is_set(x)`, and conjunctions in which
// any pair of conjuncts is exclusive.
bool are_exclusive(const Expression& a, const Expression& b);

}  // namespace flowgate
