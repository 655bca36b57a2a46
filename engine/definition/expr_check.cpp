// The type checker. It walks the parsed tree bottom-up, gives every node its static type, resolves
// references to slots, makes numeric promotions and date/duration unit changes explicit as kConvert
// nodes, and folds every operation whose operands are all constants (so `2 * 1h` costs nothing at
// run time and `1 / 0` is a load-time error).
//
// Typing rules (docs/process-files.md, "Expressions", summarises them for users):
//   numbers   int, decimal and money mix; the result has the wider type (int < decimal < money).
//             int / int truncates toward zero; % takes ints only.
//   time      datetime − datetime = duration; datetime ± duration = datetime; date ± duration =
//             date (whole days, else an evaluation error); date − date = duration;
//             duration ± duration; duration × or ÷ an int or decimal; duration ÷ duration =
//             decimal.
//   compare   == and != work on any two values of one kind (numbers, text incl. enum members,
//             bool, date, datetime, duration) and with null; < <= > >= on numbers, strings, dates,
//             datetimes and durations. An enum compared with a constant string needs a member.
//   logic     and, or, not take bools; `x not in [...]` means `not (x in [...])`.
//   rounding  decimal/money × and ÷ keep 6 places, rounding half away from zero.
#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "definition/expr_program.h"
#include "util/diagnostic.h"

namespace flowgate::expr {

namespace {

bool is_text(Type t) { return t == Type::kString || t == Type::kEnum; }
bool is_scaled(Type t) { return t == Type::kDecimal || t == Type::kMoney; }
int numeric_rank(Type t) { return t == Type::kInt ? 0 : t == Type::kDecimal ? 1 : 2; }
Type wider(Type a, Type b) { return numeric_rank(a) >= numeric_rank(b) ? a : b; }

constexpr std::int64_t kMsPerDay = 86'400'000;

struct FuncInfo {
  std::string_view name;
  Func func;
};
constexpr std::array<FuncInfo, 8> kFunctions = {{{"len", Func::kLen},
                                                 {"lower", Func::kLower},
                                                 {"upper", Func::kUpper},
                                                 {"is_set", Func::kIsSet},
                                                 {"now", Func::kNow},
                                                 {"min", Func::kMin},
                                                 {"max", Func::kMax},
                                                 {"abs", Func::kAbs}}};

std::string join_names(const std::vector<std::string>& names, std::size_t limit = 8) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < limit; ++i) {
    if (i > 0) out += ", ";
    out += names[i];
  }
  if (names.size() > limit) out += ", …";
  return out;
}

std::vector<std::string> names_of(const std::vector<ScopeField>& fields) {
  std::vector<std::string> out;
  for (const auto& f : fields) out.push_back(f.name);
  return out;
}

// Where the text of a node begins: its leftmost operand for infix operators.
std::uint32_t start_of(const Node* n) {
  while (!n->kids.empty() &&
         (n->kind == NodeKind::kBinary || n->kind == NodeKind::kAnd || n->kind == NodeKind::kOr ||
          n->kind == NodeKind::kIn || n->kind == NodeKind::kConvert)) {
    n = n->kids[0].get();
  }
  return n->offset;
}

class Checker {
 public:
  Checker(const Scope& scope, std::string_view src) : scope_(scope), src_(src) {}

  std::vector<std::string> data_refs;
  std::vector<std::string> event_refs;

  Result<void> node(Node& n) {
    if (n.kind == NodeKind::kLiteral) {
      n.type = n.value.type();
      return {};
    }
    if (n.kind == NodeKind::kRef) return reference(n);
    if (n.kind == NodeKind::kCall && (n.name == "is_set")) return is_set(n);
    for (auto& k : n.kids) {
      if (auto r = node(*k); !r) return r;
    }
    Result<void> typed;
    switch (n.kind) {
      case NodeKind::kNeg:
        typed = negation(n);
        break;
      case NodeKind::kNot:
        typed = logic_operand(n, *n.kids[0], "not");
        break;
      case NodeKind::kAnd:
      case NodeKind::kOr:
        for (auto& k : n.kids) {
          typed = logic_operand(n, *k, n.kind == NodeKind::kAnd ? "and" : "or");
          if (!typed) break;
        }
        break;
      case NodeKind::kBinary:
        typed = is_comparison(n.op) ? comparison(n) : arithmetic(n);
        break;
      case NodeKind::kIn:
        typed = membership(n);
        break;
      case NodeKind::kCall:
        typed = call(n);
        break;
      case NodeKind::kLiteral:
      case NodeKind::kRef:
      case NodeKind::kConvert:
        break;
    }
    if (!typed) return typed;
    return fold(n);
  }

 private:
  std::unexpected<Error> error(std::uint32_t offset, std::string msg, std::string hint = {}) {
    return fail(compile_error(src_, offset, std::move(msg), std::move(hint)));
  }

  // ---- references ----

  Result<void> reference(Node& n) {
    const bool event = n.scope == RefScope::kEvent;
    if (event && !scope_.allow_event) {
      return error(n.offset,
                   fmt::format("event fields are not available here (`event.{}`)", n.name),
                   "payload fields exist only in a transition's guard and set");
    }
    const auto& fields = event ? scope_.event : scope_.data;
    for (std::size_t i = 0; i < fields.size(); ++i) {
      if (fields[i].name == n.name) {
        n.slot = static_cast<int>(i);
        n.type = fields[i].type;
        (event ? event_refs : data_refs).push_back(n.name);
        return {};
      }
    }
    return unknown_reference(n);
  }

  std::unexpected<Error> unknown_reference(const Node& n) {
    const bool event = n.scope == RefScope::kEvent;
    const bool bare = !n.qualified;
    auto names = names_of(event ? scope_.event : scope_.data);
    std::string message = fmt::format("unknown {}field `{}`", event ? "event " : "", n.name);
    std::string hint;
    auto in_other = [&](const std::vector<ScopeField>& other) {
      return std::any_of(other.begin(), other.end(),
                         [&](const ScopeField& f) { return f.name == n.name; });
    };
    std::string lower = n.name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    // Exact names elsewhere and miscased keywords first: they beat a near spelling.
    if (!event && bare && scope_.allow_event && in_other(scope_.event)) {
      hint = fmt::format("did you mean `event.{}`? a bare name refers to a data field", n.name);
    } else if (event && in_other(scope_.data)) {
      hint = fmt::format("did you mean `data.{}`?", n.name);
    } else if (bare && (lower == "true" || lower == "false" || lower == "null" || lower == "and" ||
                        lower == "or" || lower == "not" || lower == "in")) {
      hint = fmt::format("keywords are lower case: did you mean `{}`?", lower);
    } else if (std::string near = closest_match(n.name, names); !near.empty()) {
      hint = fmt::format("did you mean `{}{}`?", event ? "event." : "", near);
    } else if (names.empty()) {
      hint = event ? "this transition declares no payload" : "the workflow declares no data fields";
    } else {
      hint = fmt::format("declared {}fields: {}", event ? "payload " : "", join_names(names));
    }
    return error(n.offset, std::move(message), std::move(hint));
  }

  const ScopeField& field_of(const Node& ref) const {
    const auto& fields = ref.scope == RefScope::kEvent ? scope_.event : scope_.data;
    return fields[static_cast<std::size_t>(ref.slot)];
  }

  // An enum compared with a constant string: the constant must be a member.
  Result<void> check_member(const Node& a, const Node& b) {
    const Node* e = a.type == Type::kEnum ? &a : b.type == Type::kEnum ? &b : nullptr;
    const Node* s = e == &a ? &b : &a;
    if (e == nullptr || e->kind != NodeKind::kRef || !s->is_literal() || s->type != Type::kString)
      return {};
    const ScopeField& field = field_of(*e);
    const std::string& member = s->value.as_string();
    if (std::find(field.enum_values.begin(), field.enum_values.end(), member) !=
        field.enum_values.end()) {
      return {};
    }
    std::string near = closest_match(member, field.enum_values);
    return error(s->offset,
                 fmt::format("`{}` is not a member of enum `{}`", printable(member), field.name),
                 near.empty() ? fmt::format("members: {}", join_names(field.enum_values))
                              : fmt::format("did you mean `{}`?", near));
  }

  // ---- conversions ----

  // Wraps `kid` in a conversion, or converts a constant in place.
  Result<void> convert(NodePtr& kid, Conv conv, Type to) {
    if (kid->is_literal()) {
      Value& v = kid->value;
      if (!v.is_null()) {
        std::int64_t x = v.as_int();
        switch (conv) {
          case Conv::kToUnits:
            if (__builtin_mul_overflow(x, kDecimalScale, &x)) {
              return error(kid->offset,
                           fmt::format("`{}` is too large for {}", v.to_string(), type_name(to)));
            }
            v = to == Type::kMoney ? Value::money_units(x) : Value::decimal_units(x);
            break;
          case Conv::kDurToDays:
            if (x % kMsPerDay != 0) {
              return error(
                  kid->offset,
                  fmt::format("date arithmetic needs whole days, got {}", format_duration_ms(x)),
                  "use a datetime for times of day");
            }
            v = Value::integer(x / kMsPerDay);
            break;
          case Conv::kDaysToDur:
            v = Value::duration(x * kMsPerDay);
            break;
        }
      }
      kid->type = to;
      return {};
    }
    auto wrap = std::make_unique<Node>();
    wrap->kind = NodeKind::kConvert;
    wrap->conv = conv;
    wrap->type = to;
    wrap->offset = kid->offset;
    wrap->height = kid->height + 1;
    wrap->kids.push_back(std::move(kid));
    kid = std::move(wrap);
    return {};
  }

  // Brings an int operand up to `to` when `to` is decimal or money.
  Result<void> promote(NodePtr& kid, Type to) {
    if (kid->type == Type::kInt && is_scaled(to)) return convert(kid, Conv::kToUnits, to);
    return {};
  }
  Result<Type> promote_pair(Node& n) {
    Type to = wider(n.kids[0]->type, n.kids[1]->type);
    if (auto r = promote(n.kids[0], to); !r) return fail(std::move(r.error()));
    if (auto r = promote(n.kids[1], to); !r) return fail(std::move(r.error()));
    return to;
  }

  // ---- operators ----

  Result<void> negation(Node& n) {
    Type t = n.kids[0]->type;
    if (!is_numeric(t) && t != Type::kDuration) {
      return error(n.offset, fmt::format("cannot apply unary `-` to {}", type_name(t)));
    }
    n.type = t;
    return {};
  }

  Result<void> logic_operand(Node& n, const Node& operand, std::string_view op) {
    if (operand.type != Type::kBool) {
      return error(start_of(&operand),
                   fmt::format("`{}` expects bool operands, got {}", op, type_name(operand.type)),
                   operand.type == Type::kNull ? "" : "compare it to get a bool, e.g. x > 0");
    }
    n.type = Type::kBool;
    return {};
  }

  Result<void> arithmetic(Node& n) {
    const Type l = n.kids[0]->type;
    const Type r = n.kids[1]->type;
    auto both = [&](Type a, Type b) { return l == a && r == b; };
    auto either = [&](Type a, Type b) { return both(a, b) || both(b, a); };
    auto result = [&](Type t) -> Result<void> {
      n.type = t;
      return {};
    };
    if (l != Type::kNull && r != Type::kNull) {
      switch (n.op) {
        case BinOp::kAdd:
        case BinOp::kSub: {
          const bool add = n.op == BinOp::kAdd;
          if (is_numeric(l) && is_numeric(r)) {
            auto t = promote_pair(n);
            if (!t) return fail(std::move(t.error()));
            return result(*t);
          }
          if (both(Type::kDuration, Type::kDuration)) return result(Type::kDuration);
          if (both(Type::kDateTime, Type::kDuration) ||
              (add && both(Type::kDuration, Type::kDateTime))) {
            return result(Type::kDateTime);
          }
          if (!add && both(Type::kDateTime, Type::kDateTime)) return result(Type::kDuration);
          if (both(Type::kDate, Type::kDuration) || (add && both(Type::kDuration, Type::kDate))) {
            NodePtr& d = l == Type::kDuration ? n.kids[0] : n.kids[1];
            if (auto c = convert(d, Conv::kDurToDays, Type::kInt); !c) return c;
            return result(Type::kDate);
          }
          if (!add && both(Type::kDate, Type::kDate)) {
            // Subtract in milliseconds so the result is an ordinary duration.
            if (auto c = convert(n.kids[0], Conv::kDaysToDur, Type::kDuration); !c) return c;
            if (auto c = convert(n.kids[1], Conv::kDaysToDur, Type::kDuration); !c) return c;
            return result(Type::kDuration);
          }
          break;
        }
        case BinOp::kMul:
          if (is_numeric(l) && is_numeric(r)) {
            auto t = promote_pair(n);
            if (!t) return fail(std::move(t.error()));
            return result(*t);
          }
          if (either(Type::kDuration, Type::kInt) || either(Type::kDuration, Type::kDecimal)) {
            return result(Type::kDuration);
          }
          break;
        case BinOp::kDiv:
          if (is_numeric(l) && is_numeric(r)) {
            auto t = promote_pair(n);
            if (!t) return fail(std::move(t.error()));
            return result(*t);
          }
          if (both(Type::kDuration, Type::kInt) || both(Type::kDuration, Type::kDecimal)) {
            // Scaled division: milliseconds / (units / 1e6).
            if (auto c = promote(n.kids[1], Type::kDecimal); !c) return c;
            return result(Type::kDuration);
          }
          if (both(Type::kDuration, Type::kDuration)) return result(Type::kDecimal);
          break;
        case BinOp::kMod:
          if (both(Type::kInt, Type::kInt)) return result(Type::kInt);
          return error(n.offset, fmt::format("`%` needs int operands, got {} and {}", type_name(l),
                                             type_name(r)));
        default:
          break;
      }
    }
    return error(n.offset,
                 fmt::format("cannot apply `{}` to {} and {}", bin_op_text(n.op), type_name(l),
                             type_name(r)),
                 l == Type::kNull || r == Type::kNull
                     ? "null has no arithmetic; an unset field makes the "
                       "result null by itself"
                     : "");
  }

  static bool equality_compatible(Type a, Type b) {
    if (a == Type::kNull || b == Type::kNull) return true;
    if (is_numeric(a) && is_numeric(b)) return true;
    if (is_text(a) && is_text(b)) return true;
    return a == b;
  }

  Result<void> comparison(Node& n) {
    const Type l = n.kids[0]->type;
    const Type r = n.kids[1]->type;
    const bool ordering = n.op != BinOp::kEq && n.op != BinOp::kNe;
    auto mismatch = [&](std::string hint = {}) {
      return error(n.offset,
                   fmt::format("cannot compare {} with {} using `{}`", type_name(l), type_name(r),
                               bin_op_text(n.op)),
                   std::move(hint));
    };
    if (!equality_compatible(l, r)) {
      if ((l == Type::kDate && r == Type::kDateTime) ||
          (l == Type::kDateTime && r == Type::kDate)) {
        return mismatch("a date has no time of day: compare dates with dates");
      }
      return mismatch();
    }
    if (ordering) {
      if (l == Type::kNull || r == Type::kNull) {
        return mismatch(
            "an unset value is never less or greater: test it with is_set() or == null");
      }
      if (l == Type::kEnum || r == Type::kEnum)
        return mismatch("enum members have no order: use `in [...]`");
      if (l == Type::kBool) return mismatch("bool values have no order");
    }
    if (is_numeric(l) && is_numeric(r)) {
      if (auto t = promote_pair(n); !t) return fail(std::move(t.error()));
    }
    if (auto m = check_member(*n.kids[0], *n.kids[1]); !m) return m;
    n.type = Type::kBool;
    return {};
  }

  Result<void> membership(Node& n) {
    Node& lhs = *n.kids[0];
    Type target = lhs.type;
    for (std::size_t i = 1; i < n.kids.size(); ++i) {
      const Node& e = *n.kids[i];
      if (!e.is_literal()) {
        return error(start_of(&e), "list elements of `in` must be constants",
                     "compare with a field using == and `or`");
      }
      if (!equality_compatible(lhs.type, e.type)) {
        return error(e.offset, fmt::format("cannot compare {} with {} in the list of `in`",
                                           type_name(lhs.type), type_name(e.type)));
      }
      if (auto m = check_member(lhs, e); !m) return m;
      if (is_numeric(target) && is_numeric(e.type)) target = wider(target, e.type);
    }
    if (is_numeric(target)) {
      for (auto& k : n.kids) {
        if (auto r = promote(k, target); !r) return r;
      }
    }
    n.type = Type::kBool;
    return {};
  }

  // ---- functions ----

  Result<Func> function(Node& n, std::size_t arity) {
    auto it = std::find_if(kFunctions.begin(), kFunctions.end(),
                           [&](const FuncInfo& f) { return f.name == n.name; });
    if (it == kFunctions.end()) {
      std::vector<std::string> names;
      for (const auto& f : kFunctions) names.emplace_back(f.name);
      std::string near = closest_match(n.name, names);
      return error(n.offset, fmt::format("unknown function `{}`", n.name),
                   near.empty() ? fmt::format("functions: {}", join_names(names))
                                : fmt::format("did you mean `{}`?", near));
    }
    if (n.kids.size() != arity) {
      return error(n.offset, fmt::format("{}() takes {} argument{}, got {}", n.name, arity,
                                         arity == 1 ? "" : "s", n.kids.size()));
    }
    n.func = it->func;
    return it->func;
  }

  Result<void> is_set(Node& n) {
    if (auto f = function(n, 1); !f) return fail(std::move(f.error()));
    Node& arg = *n.kids[0];
    if (arg.kind != NodeKind::kRef) {
      return error(start_of(&arg), "is_set() takes a field reference", "e.g. is_set(data.amount)");
    }
    if (auto r = reference(arg); !r) return r;
    n.type = Type::kBool;
    return {};
  }

  Result<void> call(Node& n) {
    // Arity first, so that argument errors name a known function.
    std::size_t arity = n.name == "now" ? 0 : (n.name == "min" || n.name == "max") ? 2 : 1;
    auto f = function(n, arity);
    if (!f) return fail(std::move(f.error()));
    auto expects = [&](std::string_view what) {
      return error(start_of(n.kids[0].get()), fmt::format("{}() expects {}, got {}", n.name, what,
                                                          type_name(n.kids[0]->type)));
    };
    switch (*f) {
      case Func::kNow:
        n.type = Type::kDateTime;
        return {};
      case Func::kLen:
        if (!is_text(n.kids[0]->type)) return expects("a string");
        n.type = Type::kInt;
        return {};
      case Func::kLower:
      case Func::kUpper:
        if (!is_text(n.kids[0]->type)) return expects("a string");
        n.type = Type::kString;
        return {};
      case Func::kAbs: {
        Type t = n.kids[0]->type;
        if (!is_numeric(t) && t != Type::kDuration) return expects("a number or a duration");
        n.type = t;
        return {};
      }
      case Func::kMin:
      case Func::kMax: {
        Type l = n.kids[0]->type;
        Type r = n.kids[1]->type;
        if (is_numeric(l) && is_numeric(r)) {
          auto t = promote_pair(n);
          if (!t) return fail(std::move(t.error()));
          n.type = *t;
          return {};
        }
        if (l == r && (l == Type::kString || l == Type::kDate || l == Type::kDateTime ||
                       l == Type::kDuration)) {
          n.type = l;
          return {};
        }
        return error(n.offset, fmt::format("{}() cannot compare {} with {}", n.name, type_name(l),
                                           type_name(r)));
      }
      case Func::kIsSet:
        break;  // checked by is_set()
    }
    return {};
  }

  // ---- constant folding ----

  Result<void> fold(Node& n) {
    if (n.kind == NodeKind::kCall && n.func == Func::kNow) return {};
    for (const auto& k : n.kids) {
      if (!k->is_literal()) return {};
    }
    Program scratch_program;
    emit(n, scratch_program);
    scratch_program.seal();
    Scratch scratch;
    Cell cell;
    if (!run(scratch_program, EvalInput{}, scratch, cell)) {
      return error(n.offset, scratch.error->message, scratch.error->hint);
    }
    n.value = value_of(cell);
    n.kind = NodeKind::kLiteral;
    n.kids.clear();
    n.height = 1;
    return {};
  }

  const Scope& scope_;
  std::string_view src_;
};

void sort_unique(std::vector<std::string>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

}  // namespace

Result<void> check(Node& root, const Scope& scope, std::string_view source,
                   std::vector<std::string>& data_refs, std::vector<std::string>& event_refs) {
  Checker checker(scope, source);
  if (auto r = checker.node(root); !r) return r;
  data_refs = std::move(checker.data_refs);
  event_refs = std::move(checker.event_refs);
  sort_unique(data_refs);
  sort_unique(event_refs);
  return {};
}

}  // namespace flowgate::expr
