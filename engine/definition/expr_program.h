// Internal to the expression compiler (definition/expr.h): the compiled form of an expression and
// the stages that produce and run it.
//
//   parse (expr_parser.cpp) → check (expr_check.cpp: types, slots, promotions, constant folding)
//   → emit (expr_emit.cpp: a flat instruction array for a stack machine) → run (expr_eval.cpp).
//
// Every instruction is typed at compile time, so the machine never dispatches on operand types;
// references are slot indexes; `in` lists are ranges of constants. Running allocates nothing
// unless the expression calls lower()/upper() or needs more than kInlineStack stack cells.
// Thread-safety: a Program is immutable once sealed and may be run concurrently.
#pragma once

#include <cstdint>
#include <forward_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "definition/expr.h"
#include "definition/expr_syntax.h"

namespace flowgate::expr {

// One stack slot. Strings are views: into the input values, the program's constants, or Scratch.
// Deliberately trivial (no initialisers) so that the inline stack costs nothing to set up.
struct Cell {
  Type type;  // kNull for an unset value
  std::int64_t i;
  const char* s;
  std::size_t n;

  std::string_view str() const { return {s, n}; }
  bool is_null() const { return type == Type::kNull; }
};

// A view: `v` must outlive the cell. Inline because every load runs it.
inline Cell cell_of(const Value& v) {
  const std::string& s = v.as_string();
  return Cell{v.type(), v.as_int(), s.data(), s.size()};
}
Value value_of(const Cell& c);

enum class Op : std::uint8_t {
  kConst,  // push constants[a]
  kLoad,   // push (b == 0 ? data : event)[a], checked against the declared type
  kIsSet,  // push bool: (b == 0 ? data : event)[a] is not null
  kNow,    // push now_ms as a datetime
  kNeg,
  kAdd,  // raw int64 add/sub: ints, units, durations, dates ± days, datetimes ± durations
  kSub,
  kMulInt,     // a * b
  kMulScaled,  // a * b / 1e6, rounded half away from zero (units × units, duration × decimal)
  kDivInt,     // truncating
  kDivScaled,  // a * 1e6 / b, rounded half away from zero
  kMod,
  kToUnits,    // int → units
  kDurToDays,  // duration → days; fails unless whole days
  kDaysToDur,  // days → duration
  kEq,
  kNe,
  kLt,  // a == 1: compare strings; else int64
  kLe,
  kGt,
  kGe,
  kIn,       // top in constants[a, a + b)
  kNot,      // null → true
  kAndJump,  // top falsy: replace with false and jump to a; else pop
  kOrJump,   // top truthy: replace with true and jump to a; else pop
  kTruthy,   // top → bool, null → false
  kLen,
  kLower,
  kUpper,
  kMin,  // a == 1: strings
  kMax,
  kAbs,
};

struct Instr {
  Op op;
  Type type;          // result type (kLoad: the declared type of the field)
  std::uint32_t loc;  // source offset, for runtime errors
  std::int32_t a = 0;
  std::int32_t b = 0;
};

struct Program {
  std::string source;
  Type type = Type::kNull;
  std::vector<std::string> data_refs;
  std::vector<std::string> event_refs;
  std::vector<Instr> code;
  std::vector<Value> constants;
  std::vector<Cell> constant_cells;  // views of `constants`, built by seal()
  std::size_t max_stack = 0;
  NodePtr tree;  // the checked, folded tree (for are_exclusive)

  // Builds the constant views. After this the Program must not be moved or modified.
  void seal();
};

// What running needs besides the stack: owned strings made by lower()/upper(), the stack itself
// when a program needs more than the inline one, and the error of a failed run.
inline constexpr std::size_t kInlineStack = 32;
struct Scratch {
  std::forward_list<std::string> strings;
  std::vector<Cell> stack;
  std::optional<Error> error;  // optional: a default Error allocates (its JSON data)
};

// Runs a sealed program into `result`; on failure returns false and leaves a kEvaluation error,
// located in the source, in scratch.error. The result's strings are views into `in`, `p` or
// `scratch`. (Not a Result<Cell>: returning a large std::expected costs more than the typical
// guard itself.)
bool run(const Program& p, const EvalInput& in, Scratch& scratch, Cell& result);

// Type-checks `root` against `scope`, resolving references, inserting promotions and folding
// constants in place. Errors are kInvalidDefinition, located in `source`.
Result<void> check(Node& root, const Scope& scope, std::string_view source,
                   std::vector<std::string>& data_refs, std::vector<std::string>& event_refs);

// Appends code for `root` to `p` (which must not be sealed yet).
void emit(const Node& root, Program& p);

}  // namespace flowgate::expr

namespace flowgate {
// The pimpl of Expression is exactly the compiled program.
struct Expression::Program : expr::Program {};
}  // namespace flowgate
