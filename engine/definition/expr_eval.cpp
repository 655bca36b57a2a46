// The stack machine that runs a compiled expression. Instructions are typed by the checker, so each
// case does one thing; the only run-time type test is on loads, which verify that the caller's
// values match the declared field types. Null propagates through arithmetic and functions,
// ordering comparisons with null are false, and logic treats null as false.
#include <fmt/format.h>

#include "definition/expr_program.h"

namespace flowgate::expr {

namespace {

constexpr std::int64_t kMsPerDay = 86'400'000;

bool is_text(Type t) { return t == Type::kString || t == Type::kEnum; }
bool truthy(const Cell& c) { return c.type == Type::kBool && c.i != 0; }
Cell bool_cell(bool b) { return Cell{Type::kBool, b ? 1 : 0, nullptr, 0}; }
Cell null_cell() { return Cell{Type::kNull, 0, nullptr, 0}; }

bool equal(const Cell& a, const Cell& b) {
  if (a.is_null() || b.is_null()) return a.is_null() && b.is_null();
  if (is_text(a.type)) return a.str() == b.str();
  return a.i == b.i;
}

// <0, 0, >0; never called with nulls.
int order(const Cell& a, const Cell& b, bool strings) {
  if (strings) return a.str().compare(b.str());
  return a.i < b.i ? -1 : a.i > b.i ? 1 : 0;
}

// num / den rounded half away from zero; nullopt when it does not fit in 64 bits.
std::optional<std::int64_t> round_div(__int128 num, __int128 den) {
  __int128 q = num / den;
  __int128 r = num % den;
  __int128 abs_r2 = (r < 0 ? -r : r) * 2;
  if (abs_r2 >= (den < 0 ? -den : den)) q += ((num < 0) == (den < 0)) ? 1 : -1;
  if (q > std::numeric_limits<std::int64_t>::max() ||
      q < std::numeric_limits<std::int64_t>::min()) {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(q);
}

bool in_date_range(Type t, std::int64_t v) {
  if (t == Type::kDate) return v >= kMinDateDays && v <= kMaxDateDays;
  if (t == Type::kDateTime)
    return v >= kMinDateDays * kMsPerDay && v < (kMaxDateDays + 1) * kMsPerDay;
  return true;
}

std::size_t utf8_chars(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// The name of the field a load reads, for error messages.
const Node* find_ref(const Node* n, const Instr& ins) {
  if (n == nullptr) return nullptr;
  if (n->kind == NodeKind::kRef && n->slot == ins.a &&
      (n->scope == RefScope::kEvent) == (ins.b == 1)) {
    return n;
  }
  for (const auto& k : n->kids) {
    if (const Node* f = find_ref(k.get(), ins)) return f;
  }
  return nullptr;
}

Error eval_error(const Program& p, const Instr& ins, std::string msg) {
  Error e(ErrorCode::kEvaluation,
          p.source.empty() ? msg : fmt::format("{} in `{}`", msg, printable(p.source, 120)));
  if (!p.source.empty()) e.location = locate(p.source, ins.loc);
  return e;
}

// A loaded value whose type differs from the declared one: widen numbers, accept text for enums.
std::optional<Cell> coerce(const Value& v, Type declared) {
  Type t = v.type();
  if (t == Type::kNull) return null_cell();
  if ((declared == Type::kDecimal || declared == Type::kMoney) && is_numeric(t)) {
    std::int64_t units = v.as_int();
    if (t == Type::kInt && __builtin_mul_overflow(units, kDecimalScale, &units))
      return std::nullopt;
    return Cell{declared, units, nullptr, 0};
  }
  if (is_text(declared) && is_text(t)) {
    const std::string& s = v.as_string();
    return Cell{declared, 0, s.data(), s.size()};
  }
  return std::nullopt;
}

Error load_error(const Program& p, const Instr& ins, const Value& v) {
  const Node* ref = find_ref(p.tree.get(), ins);
  std::string name = ref ? fmt::format("{}.{}", ins.b == 0 ? "data" : "event", ref->name)
                         : fmt::format("{} slot {}", ins.b == 0 ? "data" : "event", ins.a);
  return eval_error(p, ins,
                    fmt::format("{} holds a {} value but is declared {}", name, type_name(v.type()),
                                type_name(ins.type)));
}

}  // namespace

bool run(const Program& p, const EvalInput& in, Scratch& scratch, Cell& result) {
  Cell inline_stack[kInlineStack];
  Cell* base = inline_stack;
  if (p.max_stack > kInlineStack) {
    scratch.stack.resize(p.max_stack);
    base = scratch.stack.data();
  }
  Cell* sp = base;
  const Instr* const code = p.code.data();
  const std::size_t size = p.code.size();

  auto failed = [&scratch](Error e) {
    scratch.error = std::move(e);
    return false;
  };
  // Binary operations pop the right operand and overwrite the left one with the result.
  auto operands = [&sp]() -> std::pair<Cell&, const Cell&> {
    --sp;
    return {sp[-1], sp[0]};
  };

  for (std::size_t pc = 0; pc < size; ++pc) {
    const Instr& ins = code[pc];
    switch (ins.op) {
      case Op::kConst:
        *sp++ = p.constant_cells[static_cast<std::size_t>(ins.a)];
        break;
      case Op::kLoad: {
        std::span<const Value> values = ins.b == 0 ? in.data : in.event;
        auto slot = static_cast<std::size_t>(ins.a);
        if (slot >= values.size()) {
          *sp++ = null_cell();  // a payload field that was not sent
          break;
        }
        const Value& v = values[slot];
        if (v.type() == ins.type) {
          *sp++ = cell_of(v);
          break;
        }
        auto c = coerce(v, ins.type);
        if (!c) return failed(load_error(p, ins, v));
        *sp++ = *c;
        break;
      }
      case Op::kIsSet: {
        std::span<const Value> values = ins.b == 0 ? in.data : in.event;
        auto slot = static_cast<std::size_t>(ins.a);
        *sp++ = bool_cell(slot < values.size() && !values[slot].is_null());
        break;
      }
      case Op::kNow:
        *sp++ = Cell{Type::kDateTime, in.now_ms, nullptr, 0};
        break;
      case Op::kNeg:
      case Op::kAbs: {
        Cell& a = sp[-1];
        if (a.is_null() || (ins.op == Op::kAbs && a.i >= 0)) break;
        if (a.i == std::numeric_limits<std::int64_t>::min()) {
          return failed(eval_error(p, ins, "arithmetic overflow"));
        }
        a.i = -a.i;
        break;
      }
      case Op::kAdd:
      case Op::kSub:
      case Op::kMulInt:
      case Op::kMulScaled:
      case Op::kDivInt:
      case Op::kDivScaled:
      case Op::kMod: {
        auto [a, b] = operands();
        if (a.is_null() || b.is_null()) {
          a = null_cell();
          break;
        }
        std::int64_t r = 0;
        bool overflow = false;
        switch (ins.op) {
          case Op::kAdd:
            overflow = __builtin_add_overflow(a.i, b.i, &r);
            break;
          case Op::kSub:
            overflow = __builtin_sub_overflow(a.i, b.i, &r);
            break;
          case Op::kMulInt:
            overflow = __builtin_mul_overflow(a.i, b.i, &r);
            break;
          case Op::kMulScaled: {
            auto q = round_div(static_cast<__int128>(a.i) * b.i, kDecimalScale);
            overflow = !q;
            r = q.value_or(0);
            break;
          }
          case Op::kDivInt:
          case Op::kMod:
            if (b.i == 0) return failed(eval_error(p, ins, "division by zero"));
            if (a.i == std::numeric_limits<std::int64_t>::min() && b.i == -1) {
              overflow = ins.op == Op::kDivInt;  // the remainder is 0
              break;
            }
            r = ins.op == Op::kDivInt ? a.i / b.i : a.i % b.i;
            break;
          case Op::kDivScaled: {
            if (b.i == 0) return failed(eval_error(p, ins, "division by zero"));
            auto q = round_div(static_cast<__int128>(a.i) * kDecimalScale, b.i);
            overflow = !q;
            r = q.value_or(0);
            break;
          }
          default:
            break;
        }
        if (overflow) return failed(eval_error(p, ins, "arithmetic overflow"));
        if (!in_date_range(ins.type, r)) {
          return failed(eval_error(
              p, ins, fmt::format("{} out of range (years 0000-9999)", type_name(ins.type))));
        }
        a = Cell{ins.type, r, nullptr, 0};
        break;
      }
      case Op::kToUnits: {
        Cell& a = sp[-1];
        if (a.is_null()) break;
        if (__builtin_mul_overflow(a.i, kDecimalScale, &a.i)) {
          return failed(
              eval_error(p, ins, fmt::format("value too large for {}", type_name(ins.type))));
        }
        a.type = ins.type;
        break;
      }
      case Op::kDurToDays: {
        Cell& a = sp[-1];
        if (a.is_null()) break;
        if (a.i % kMsPerDay != 0) {
          return failed(eval_error(
              p, ins,
              fmt::format("date arithmetic needs whole days, got {}", format_duration_ms(a.i))));
        }
        a = Cell{Type::kInt, a.i / kMsPerDay, nullptr, 0};
        break;
      }
      case Op::kDaysToDur: {
        Cell& a = sp[-1];
        if (a.is_null()) break;
        a = Cell{Type::kDuration, a.i * kMsPerDay, nullptr, 0};  // |days| < 3e6: cannot overflow
        break;
      }
      case Op::kEq:
      case Op::kNe: {
        auto [a, b] = operands();
        bool eq = equal(a, b);
        a = bool_cell(ins.op == Op::kEq ? eq : !eq);
        break;
      }
      case Op::kLt:
      case Op::kLe:
      case Op::kGt:
      case Op::kGe: {
        auto [a, b] = operands();
        if (a.is_null() || b.is_null()) {
          a = bool_cell(false);
          break;
        }
        int c = order(a, b, ins.a != 0);
        bool r = ins.op == Op::kLt   ? c < 0
                 : ins.op == Op::kLe ? c <= 0
                 : ins.op == Op::kGt ? c > 0
                                     : c >= 0;
        a = bool_cell(r);
        break;
      }
      case Op::kIn: {
        Cell& a = sp[-1];
        const Cell* first = p.constant_cells.data() + ins.a;
        bool found = false;
        for (const Cell* c = first; c != first + ins.b && !found; ++c) found = equal(a, *c);
        a = bool_cell(found);
        break;
      }
      case Op::kNot:
        sp[-1] = bool_cell(!truthy(sp[-1]));
        break;
      case Op::kAndJump:
        if (!truthy(sp[-1])) {
          sp[-1] = bool_cell(false);
          pc = static_cast<std::size_t>(ins.a) - 1;
        } else {
          --sp;
        }
        break;
      case Op::kOrJump:
        if (truthy(sp[-1])) {
          sp[-1] = bool_cell(true);
          pc = static_cast<std::size_t>(ins.a) - 1;
        } else {
          --sp;
        }
        break;
      case Op::kTruthy:
        sp[-1] = bool_cell(truthy(sp[-1]));
        break;
      case Op::kLen: {
        Cell& a = sp[-1];
        if (!a.is_null())
          a = Cell{Type::kInt, static_cast<std::int64_t>(utf8_chars(a.str())), nullptr, 0};
        break;
      }
      case Op::kLower:
      case Op::kUpper: {
        Cell& a = sp[-1];
        if (a.is_null()) break;
        std::string& s = scratch.strings.emplace_front(a.str());
        // ASCII only: letters outside ASCII are left as they are.
        for (char& ch : s) {
          if (ins.op == Op::kLower && ch >= 'A' && ch <= 'Z')
            ch = static_cast<char>(ch - 'A' + 'a');
          if (ins.op == Op::kUpper && ch >= 'a' && ch <= 'z')
            ch = static_cast<char>(ch - 'a' + 'A');
        }
        a = Cell{Type::kString, 0, s.data(), s.size()};
        break;
      }
      case Op::kMin:
      case Op::kMax: {
        auto [a, b] = operands();
        if (a.is_null() || b.is_null()) {
          a = null_cell();
          break;
        }
        int c = order(a, b, ins.a != 0);
        if ((ins.op == Op::kMin && c > 0) || (ins.op == Op::kMax && c < 0)) a = b;
        a.type = ins.type;
        break;
      }
    }
  }
  // Field by field: a whole-cell copy of the cell just written stalls on store forwarding.
  result.type = base[0].type;
  result.i = base[0].i;
  result.s = base[0].s;
  result.n = base[0].n;
  return true;
}

}  // namespace flowgate::expr
