// Code generation: a post-order walk of the checked tree into a flat instruction array, tracking
// the stack depth so that run() can size its stack up front.
#include "definition/expr_program.h"

namespace flowgate::expr {

namespace {

class Emitter {
 public:
  explicit Emitter(Program& p) : p_(p) {}

  void node(const Node& n) {
    switch (n.kind) {
      case NodeKind::kLiteral:
        push(Op::kConst, n, add_constant(n.value));
        return;
      case NodeKind::kRef:
        push(Op::kLoad, n, n.slot, n.scope == RefScope::kData ? 0 : 1);
        return;
      case NodeKind::kNeg:
        node(*n.kids[0]);
        op(Op::kNeg, n, 0);
        return;
      case NodeKind::kNot:
        node(*n.kids[0]);
        op(Op::kNot, n, 0);
        return;
      case NodeKind::kConvert:
        node(*n.kids[0]);
        op(n.conv == Conv::kToUnits     ? Op::kToUnits
           : n.conv == Conv::kDurToDays ? Op::kDurToDays
                                        : Op::kDaysToDur,
           n, 0);
        return;
      case NodeKind::kBinary:
        binary(n);
        return;
      case NodeKind::kAnd:
      case NodeKind::kOr:
        chain(n);
        return;
      case NodeKind::kIn: {
        node(*n.kids[0]);
        auto first = static_cast<std::int32_t>(p_.constants.size());
        for (std::size_t i = 1; i < n.kids.size(); ++i) p_.constants.push_back(n.kids[i]->value);
        op(Op::kIn, n, 0, first, static_cast<std::int32_t>(n.kids.size() - 1));
        return;
      }
      case NodeKind::kCall:
        call(n);
        return;
    }
  }

 private:
  std::int32_t add_constant(const Value& v) {
    p_.constants.push_back(v);
    return static_cast<std::int32_t>(p_.constants.size() - 1);
  }

  // `pops` operands are replaced by one result.
  void op(Op code, const Node& n, int pops, std::int32_t a = 0, std::int32_t b = 0) {
    depth_ -= pops;
    push(code, n, a, b);
  }
  void push(Op code, const Node& n, std::int32_t a = 0, std::int32_t b = 0) {
    p_.code.push_back(Instr{code, n.type, n.offset, a, b});
    p_.max_stack = std::max(p_.max_stack, ++depth_);
  }

  void binary(const Node& n) {
    node(*n.kids[0]);
    node(*n.kids[1]);
    const Type lt = n.kids[0]->type;
    const Type rt = n.kids[1]->type;
    const bool scaled =
        lt == Type::kDecimal || lt == Type::kMoney || rt == Type::kDecimal || rt == Type::kMoney;
    const bool strings = lt == Type::kString || lt == Type::kEnum;
    switch (n.op) {
      case BinOp::kAdd:
        op(Op::kAdd, n, 2);
        return;
      case BinOp::kSub:
        op(Op::kSub, n, 2);
        return;
      case BinOp::kMul:
        op(scaled ? Op::kMulScaled : Op::kMulInt, n, 2);
        return;
      // int / int truncates; every other division is scaled: units / units, duration / units
      // (the checker promoted an int divisor) and duration / duration.
      case BinOp::kDiv:
        op(lt == Type::kInt && rt == Type::kInt ? Op::kDivInt : Op::kDivScaled, n, 2);
        return;
      case BinOp::kMod:
        op(Op::kMod, n, 2);
        return;
      case BinOp::kEq:
        op(Op::kEq, n, 2);
        return;
      case BinOp::kNe:
        op(Op::kNe, n, 2);
        return;
      case BinOp::kLt:
        op(Op::kLt, n, 2, strings);
        return;
      case BinOp::kLe:
        op(Op::kLe, n, 2, strings);
        return;
      case BinOp::kGt:
        op(Op::kGt, n, 2, strings);
        return;
      case BinOp::kGe:
        op(Op::kGe, n, 2, strings);
        return;
    }
  }

  void chain(const Node& n) {
    const Op jump = n.kind == NodeKind::kAnd ? Op::kAndJump : Op::kOrJump;
    std::vector<std::size_t> patches;
    for (std::size_t i = 0; i < n.kids.size(); ++i) {
      node(*n.kids[i]);
      if (i + 1 < n.kids.size()) {
        patches.push_back(p_.code.size());
        p_.code.push_back(Instr{jump, Type::kBool, n.offset, 0, 0});
        --depth_;  // on fall-through the operand is popped
      }
    }
    p_.code.push_back(Instr{Op::kTruthy, Type::kBool, n.offset, 0, 0});
    for (std::size_t at : patches) p_.code[at].a = static_cast<std::int32_t>(p_.code.size());
  }

  void call(const Node& n) {
    if (n.func == Func::kIsSet) {
      const Node& ref = *n.kids[0];
      push(Op::kIsSet, n, ref.slot, ref.scope == RefScope::kData ? 0 : 1);
      return;
    }
    if (n.func == Func::kNow) {
      push(Op::kNow, n);
      return;
    }
    for (const auto& k : n.kids) node(*k);
    const int pops = static_cast<int>(n.kids.size());
    const bool strings = n.type == Type::kString || n.type == Type::kEnum;
    switch (n.func) {
      case Func::kLen:
        op(Op::kLen, n, pops);
        return;
      case Func::kLower:
        op(Op::kLower, n, pops);
        return;
      case Func::kUpper:
        op(Op::kUpper, n, pops);
        return;
      case Func::kMin:
        op(Op::kMin, n, pops, strings);
        return;
      case Func::kMax:
        op(Op::kMax, n, pops, strings);
        return;
      case Func::kAbs:
        op(Op::kAbs, n, pops);
        return;
      case Func::kIsSet:
      case Func::kNow:
        return;  // handled above
    }
  }

  Program& p_;
  std::size_t depth_ = 0;
};

}  // namespace

void emit(const Node& root, Program& p) { Emitter(p).node(root); }

Value value_of(const Cell& c) {
  switch (c.type) {
    case Type::kNull:
      return Value::null();
    case Type::kBool:
      return Value::boolean(c.i != 0);
    case Type::kInt:
      return Value::integer(c.i);
    case Type::kDecimal:
      return Value::decimal_units(c.i);
    case Type::kMoney:
      return Value::money_units(c.i);
    case Type::kString:
      return Value::string(std::string(c.str()));
    case Type::kEnum:
      return Value::enum_member(std::string(c.str()));
    case Type::kDate:
      return Value::date(c.i);
    case Type::kDateTime:
      return Value::datetime(c.i);
    case Type::kDuration:
      return Value::duration(c.i);
  }
  return Value::null();
}

void Program::seal() {
  constant_cells.clear();
  constant_cells.reserve(constants.size());
  for (const Value& v : constants) constant_cells.push_back(cell_of(v));
}

}  // namespace flowgate::expr
