// Guards and `set` assignments: compiled against the workflow's data fields and the transition's
// payload (as event.*), with errors mapped to the file line and column inside the expression.
//
// Assignment rules (docs/process-files.md): a value may be stored in a field of its own type;
// int widens to decimal and money, decimal to money; an enum member fits a string field; a string
// fits an enum field only as a constant that is one of its members; an enum fits an enum field when
// its members are a subset; null (clearing the field) fits any field that is not required.
#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "definition/expr_syntax.h"
#include "definition/loader_internal.h"

namespace flowgate::loader {

namespace {

struct Rules {
  std::string_view syntax;
  std::string_view type;
};

constexpr Rules kGuardRules{rule::kGuardSyntax, rule::kGuardType};
constexpr Rules kSetRules{rule::kSetSyntax, rule::kSetType};

// Compiles the string value of `node`; on failure reports at the offending position. A syntax
// error is one the parser alone finds; anything else (names, types) is a type error.
std::optional<Expression> compile_string(Context& cx, const toml::node& node, const Scope& scope,
                                         const Rules& rules, std::string_view what,
                                         std::set<std::string>& used) {
  const std::string& source = node.as_string()->get();
  auto compiled = Expression::compile(source, scope);
  if (compiled) return std::move(*compiled);
  const Error& e = compiled.error();
  // What it reads is unknown now; names it mentions count as used, so that a broken guard does not
  // also make its fields look unused.
  for (std::size_t i = 0; i < source.size();) {
    std::size_t start = i;
    while (i < source.size() &&
           (std::isalnum(static_cast<unsigned char>(source[i])) || source[i] == '_'))
      ++i;
    if (i > start) {
      used.emplace(source.substr(start, i - start));
    } else {
      ++i;
    }
  }
  bool syntax = !expr::parse(source).has_value();
  SourceLocation where = e.location && e.location->line > 0
                             ? locate_in_string(cx, node, e.location->line, e.location->column)
                             : cx.at(node);
  cx.error(syntax ? rules.syntax : rules.type, std::move(where),
           fmt::format("{}: {}", what, e.message), e.hint);
  return std::nullopt;
}

Scope transition_scope(const Scope& data_scope, const TransitionDef& tr) {
  Scope scope = data_scope;
  for (const PayloadField& p : tr.payload) scope.event.push_back({p.name, p.type, p.enum_values});
  return scope;
}

// The enum members an expression can produce, when it is a plain reference to an enum field.
const std::vector<std::string>* referenced_enum_values(const Expression& e, const Scope& scope) {
  std::string_view src = e.source();
  while (!src.empty() && std::isspace(static_cast<unsigned char>(src.front())))
    src.remove_prefix(1);
  while (!src.empty() && std::isspace(static_cast<unsigned char>(src.back()))) src.remove_suffix(1);
  auto find = [&](const std::vector<ScopeField>& fields,
                  std::string_view name) -> const std::vector<std::string>* {
    for (const ScopeField& f : fields) {
      if (f.name == name) return &f.enum_values;
    }
    return nullptr;
  };
  if (src.starts_with("event.")) return find(scope.event, src.substr(6));
  if (src.starts_with("data.")) return find(scope.data, src.substr(5));
  return find(scope.data, src);
}

// Why the value of `e` cannot be stored in `f`, or "" when it can.
std::string assignment_problem(const Expression& e, const FieldDef& f, const Scope& scope) {
  Type src = e.type();
  Type dst = f.type;
  if (src == Type::kNull) {
    return f.required ? "a required field cannot be cleared (set to null)" : "";
  }
  if (src == dst && dst != Type::kEnum) return "";
  if ((dst == Type::kDecimal && src == Type::kInt) ||
      (dst == Type::kMoney && (src == Type::kInt || src == Type::kDecimal)) ||
      (dst == Type::kString && src == Type::kEnum)) {
    return "";
  }
  if (dst == Type::kEnum && src == Type::kEnum) {
    const auto* members = referenced_enum_values(e, scope);
    if (members == nullptr) return "";
    for (const std::string& m : *members) {
      if (std::find(f.enum_values.begin(), f.enum_values.end(), m) == f.enum_values.end()) {
        return fmt::format("'{}' may hold '{}', which is not one of the field's values ({})",
                           e.source(), m, fmt::join(f.enum_values, ", "));
      }
    }
    return "";
  }
  if (dst == Type::kEnum && src == Type::kString) {
    if (!e.data_refs().empty() || !e.event_refs().empty()) {
      return "a computed string cannot be stored in an enum field: use a constant member, or a "
             "payload field of type enum(...)";
    }
    auto value = e.evaluate(EvalInput{});
    if (!value || value->type() != Type::kString) return "";  // reported at run time
    if (std::find(f.enum_values.begin(), f.enum_values.end(), value->as_string()) ==
        f.enum_values.end()) {
      return fmt::format("'{}' is not one of the field's values ({})", value->as_string(),
                         fmt::join(f.enum_values, ", "));
    }
    return "";
  }
  return fmt::format("a {} value cannot be stored in a {} field", type_name(src), type_name(dst));
}

// A `set` value given as a TOML constant (not a string): the literal text the expression language
// reads back as the same constant.
std::optional<std::string> constant_literal(Context& cx, const toml::node& n,
                                            const std::string& what) {
  Type type = Type::kNull;
  switch (n.type()) {
    case toml::node_type::integer:
      return std::to_string(n.as_integer()->get());
    case toml::node_type::boolean:
      return n.as_boolean()->get() ? "true" : "false";
    case toml::node_type::floating_point:
      type = Type::kDecimal;
      break;
    case toml::node_type::date:
      type = Type::kDate;
      break;
    case toml::node_type::date_time:
      type = Type::kDateTime;
      break;
    default:
      cx.error(rule::kSetType, cx.at(n),
               fmt::format("{}: {} cannot be assigned", what, describe(n)),
               "a TOML string is an expression (a text constant is \"'text'\"); numbers, booleans, "
               "dates and date-times are constants");
      return std::nullopt;
  }
  std::string problem;
  auto value = value_from_toml(n, type, problem);
  if (!value) {
    cx.error(rule::kSetType, cx.at(n), fmt::format("{}: {}", what, problem));
    return std::nullopt;
  }
  return value->to_string();
}

}  // namespace

std::vector<Assignment> compile_assignments(Context& cx, const toml::table& set, const Workflow& wf,
                                            const Scope& scope, std::set<std::string>& used) {
  std::vector<std::string> field_names;
  for (const FieldDef& f : wf.fields) field_names.push_back(f.name);
  std::vector<Assignment> out;
  std::vector<const toml::key*> keys;
  for (auto&& [key, value] : set) keys.push_back(&key);
  std::sort(keys.begin(), keys.end(), [](const toml::key* a, const toml::key* b) {
    return std::tie(a->source().begin.line, a->source().begin.column) <
           std::tie(b->source().begin.line, b->source().begin.column);
  });
  for (const toml::key* key : keys) {
    std::string name(key->str());
    const toml::node& value = *set.get(name);
    auto field_index = wf.field_index(name);
    if (!field_index) {
      std::string hint = cx.did_you_mean(name, field_names);
      if (hint.empty()) hint = "a set target must be declared as a [data.<field>] table";
      cx.error(rule::kSetUnknownField, cx.at(*key),
               fmt::format("set: '{}' is not a data field", name), std::move(hint));
      continue;
    }
    used.insert(name);
    const FieldDef& field = wf.fields[*field_index];
    const std::string what = fmt::format("set {}", name);
    std::optional<Expression> e;
    if (value.is_string()) {
      e = compile_string(cx, value, scope, kSetRules, what, used);
    } else if (auto literal = constant_literal(cx, value, what)) {
      auto compiled = Expression::compile(*literal, scope);
      if (!compiled) {
        cx.error(rule::kSetType, cx.at(value),
                 fmt::format("{}: {}", what, compiled.error().message));
      } else {
        e = std::move(*compiled);
      }
    }
    if (!e) continue;
    for (const std::string& ref : e->data_refs()) used.insert(ref);
    std::string problem = assignment_problem(*e, field, scope);
    if (!problem.empty()) {
      cx.error(rule::kSetType, cx.at(value), fmt::format("{}: {}", what, problem));
      continue;
    }
    out.push_back({name, *field_index, std::move(*e), cx.at(*key)});
  }
  return out;
}

std::optional<Expression> compile_guard(Context& cx, const toml::node& node, const Scope& scope,
                                        std::string_view what, std::set<std::string>& used) {
  auto guard = compile_string(cx, node, scope, kGuardRules, what, used);
  if (!guard) return std::nullopt;
  for (const std::string& ref : guard->data_refs()) used.insert(ref);
  if (guard->type() != Type::kBool) {
    cx.error(rule::kGuardType, cx.at(node),
             fmt::format("{}: the expression is {}, not bool", what, type_name(guard->type())),
             "a guard must be true or false, e.g. \"amount >= 100000\"");
    return std::nullopt;
  }
  return guard;
}

void compile_expressions(LoadState& st) {
  Context& cx = st.cx;
  const Scope data_scope = st.wf.data_scope();
  for (std::size_t i = 0; i < st.wf.transitions.size(); ++i) {
    TransitionDef& tr = st.wf.transitions[i];
    const TransitionNodes& nodes = st.tnodes[i];
    Scope scope = transition_scope(data_scope, tr);
    if (nodes.guard != nullptr) {
      tr.guard = compile_guard(cx, *nodes.guard, scope, "guard", st.fields_used);
    }
    if (nodes.set != nullptr) {
      tr.set = compile_assignments(cx, *nodes.set, st.wf, scope, st.fields_used);
    }
  }
}

}  // namespace flowgate::loader
