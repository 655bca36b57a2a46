// [data.<field>] tables: the field's type and its rules (required, default, bounds, pattern, enum
// values, currency), each checked for consistency at load time.
//
// Choices the format leaves open (docs/process-files.md states them):
// - string bounds are lengths in characters (Unicode code points);
// - a pattern must match somewhere in the value (ECMAScript search): anchor it with ^…$ to
//   constrain the whole value;
// - a TOML float given for a decimal or money field is read through its shortest decimal text
//   (0.1 is exactly 0.1); more than six decimal places is refused.
#include <algorithm>
#include <cstdlib>
#include <regex>

#include <fmt/format.h>

#include "definition/loader_internal.h"

namespace flowgate::loader {

namespace {

const std::vector<std::string>& field_type_names() {
  static const std::vector<std::string> names = {"string", "int",      "decimal",  "money", "bool",
                                                 "date",   "datetime", "duration", "enum"};
  return names;
}

std::string toml_date_text(const toml::date& d) {
  return fmt::format("{:04}-{:02}-{:02}", d.year, d.month, d.day);
}

// The shortest text that reads back as `d`, without an exponent ("1e-06" → "0.000001"), so that
// the exact decimal parser decides how many places it has.
std::string plain_decimal_text(double d) {
  std::string text = fmt::format("{}", d);
  std::size_t e = text.find_first_of("eE");
  if (e == std::string::npos) return text;
  std::string sign = text[0] == '-' ? "-" : "";
  std::string mantissa = text.substr(sign.size(), e - sign.size());
  int exponent = std::atoi(text.c_str() + e + 1);
  std::size_t dot = mantissa.find('.');
  std::string digits = mantissa;
  if (dot != std::string::npos) digits.erase(dot, 1);
  long point = static_cast<long>(dot == std::string::npos ? mantissa.size() : dot) + exponent;
  if (point <= 0) return sign + "0." + std::string(static_cast<std::size_t>(-point), '0') + digits;
  if (static_cast<std::size_t>(point) >= digits.size()) {
    return sign + digits + std::string(static_cast<std::size_t>(point) - digits.size(), '0');
  }
  return sign + digits.insert(static_cast<std::size_t>(point), ".");
}

std::size_t code_points(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// Orders two values of the same field type (bounds and defaults).
int compare_same_type(const Value& a, const Value& b) {
  if (is_numeric(a.type()) || is_numeric(b.type())) {
    return a.as_units() < b.as_units() ? -1 : a.as_units() > b.as_units() ? 1 : 0;
  }
  return a.as_int() < b.as_int() ? -1 : a.as_int() > b.as_int() ? 1 : 0;
}

bool supports_bounds(Type t) {
  return is_numeric(t) || t == Type::kString || t == Type::kDate || t == Type::kDateTime ||
         t == Type::kDuration;
}

struct FieldNodes {
  const toml::node* default_value = nullptr;
  const toml::node* min = nullptr;
  const toml::node* max = nullptr;
};

void read_enum_values(Context& cx, const toml::table& t, const std::string& owner, FieldDef& f) {
  const toml::node* values = t.get("values");
  if (f.type != Type::kEnum) {
    if (values != nullptr) {
      cx.error(rule::kFieldEnumValues, cx.at(*values),
               fmt::format("'values' in {} only applies to enum fields, and this one is {}", owner,
                           type_name(f.type)),
               "set type = \"enum\", or remove 'values'");
    }
    return;
  }
  if (values == nullptr) {
    cx.error(rule::kFieldEnumValues, f.where, fmt::format("enum field {} has no 'values'", owner),
             "list its members: values = [\"P1\", \"P2\", \"P3\"]");
    return;
  }
  const toml::array* list = values->as_array();
  if (list == nullptr) {
    report_type(cx, *values, "values", owner, "a list of strings");
    return;
  }
  if (list->empty()) {
    cx.error(rule::kFieldEnumValues, cx.at(*values),
             fmt::format("enum field {} has an empty 'values' list", owner),
             "an enum needs at least one member");
    return;
  }
  for (auto& [member, item] : read_distinct_strings(cx, *list, "values", owner, "member")) {
    if (member.empty()) {
      cx.error(rule::kFieldEnumValues, cx.at(*item),
               fmt::format("enum field {} has an empty member", owner));
      continue;
    }
    f.enum_values.push_back(std::move(member));
  }
}

void read_currency(Context& cx, const toml::table& t, const std::string& owner, FieldDef& f) {
  const toml::node* node = t.get("currency");
  if (node == nullptr) return;
  auto currency = read_string(cx, t, "currency", owner, Need::kOptional, {});
  if (!currency) return;
  if (f.type != Type::kMoney) {
    cx.error(rule::kFieldCurrency, cx.at(*node),
             fmt::format("'currency' in {} only applies to money fields, and this one is {}", owner,
                         type_name(f.type)),
             "set type = \"money\", or remove 'currency'");
    return;
  }
  bool iso = currency->size() == 3 && std::all_of(currency->begin(), currency->end(),
                                                  [](char c) { return c >= 'A' && c <= 'Z'; });
  if (!iso) {
    cx.error(rule::kFieldCurrency, cx.at(*node),
             fmt::format("currency '{}' in {} is not an ISO 4217 code", *currency, owner),
             "three capital letters, e.g. \"EUR\", \"USD\", \"CNY\"");
    return;
  }
  f.currency = *currency;
}

void read_pattern(Context& cx, const toml::table& t, const std::string& owner, FieldDef& f) {
  const toml::node* node = t.get("pattern");
  if (node == nullptr) return;
  auto pattern = read_string(cx, t, "pattern", owner, Need::kOptional, {});
  if (!pattern) return;
  if (f.type != Type::kString) {
    cx.error(rule::kFieldPattern, cx.at(*node),
             fmt::format("'pattern' in {} only applies to string fields, and this one is {}", owner,
                         type_name(f.type)),
             f.type == Type::kEnum ? "an enum's 'values' already constrain it" : "");
    return;
  }
  if (pattern->size() > kMaxPatternLength) {
    cx.error(rule::kFieldPattern, cx.at(*node),
             fmt::format("the pattern in {} is {} characters long; the limit is {}", owner,
                         pattern->size(), kMaxPatternLength));
    return;
  }
  try {
    std::regex compiled(*pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    cx.error(rule::kFieldPattern, cx.at(*node),
             fmt::format("the pattern in {} does not compile: {}", owner, e.what()),
             "patterns are ECMAScript regular expressions, e.g. \"^[A-Z]{2}$\"");
    return;
  }
  f.pattern = *pattern;
}

// min/max: a bound of the field's own type, or a non-negative length for strings.
std::optional<Value> read_bound(Context& cx, const toml::table& t, std::string_view key,
                                const std::string& owner, const FieldDef& f,
                                const toml::node*& node_out) {
  const toml::node* node = t.get(key);
  node_out = node;
  if (node == nullptr) return std::nullopt;
  if (!supports_bounds(f.type)) {
    cx.error(rule::kFieldBounds, cx.at(*node),
             fmt::format("'{}' in {} does not apply to {} fields", key, owner, type_name(f.type)));
    return std::nullopt;
  }
  std::string problem;
  Type bound_type = f.type == Type::kString ? Type::kInt : f.type;
  auto v = value_from_toml(*node, bound_type, problem);
  if (!v || (f.type == Type::kString && v->as_int() < 0)) {
    std::string expected = f.type == Type::kString
                               ? "a non-negative length (integer)"
                               : fmt::format("a value of type {}", type_name(f.type));
    cx.error(rule::kFieldBounds, cx.at(*node),
             fmt::format("'{}' in {} must be {}{}", key, owner, expected,
                         problem.empty() ? "" : ": " + problem));
    return std::nullopt;
  }
  return v;
}

void read_default(Context& cx, const toml::table& t, const std::string& owner, FieldDef& f,
                  const toml::node*& node_out) {
  const toml::node* node = t.get("default");
  node_out = node;
  if (node == nullptr) return;
  std::string problem;
  auto v = value_from_toml(*node, f.type, problem);
  if (!v) {
    cx.error(rule::kFieldDefaultType, cx.at(*node),
             fmt::format("the default of {} does not fit its type {}{}", owner, type_name(f.type),
                         problem.empty() ? "" : ": " + problem));
    return;
  }
  f.default_value = std::move(*v);
}

// The default must satisfy the field's own rules.
void check_default_fits(Context& cx, const std::string& owner, const FieldDef& f,
                        const toml::node& node) {
  const Value& v = *f.default_value;
  auto out_of_range = [&](std::string why) {
    cx.error(rule::kFieldDefaultRange, cx.at(node),
             fmt::format("the default of {} {}", owner, why));
  };
  if (f.type == Type::kEnum) {
    if (!f.enum_values.empty() && std::find(f.enum_values.begin(), f.enum_values.end(),
                                            v.as_string()) == f.enum_values.end()) {
      out_of_range(fmt::format("'{}' is not one of its values ({})", v.as_string(),
                               fmt::join(f.enum_values, ", ")));
    }
    return;
  }
  if (f.type == Type::kString) {
    std::size_t length = code_points(v.as_string());
    if (f.min && static_cast<std::int64_t>(length) < f.min->as_int()) {
      out_of_range(
          fmt::format("is {} characters long, shorter than min = {}", length, f.min->as_int()));
    }
    if (f.max && static_cast<std::int64_t>(length) > f.max->as_int()) {
      out_of_range(
          fmt::format("is {} characters long, longer than max = {}", length, f.max->as_int()));
    }
    if (!f.pattern.empty()) {
      try {
        if (!std::regex_search(v.as_string(), std::regex(f.pattern, std::regex::ECMAScript))) {
          out_of_range(
              fmt::format("'{}' does not match its pattern \"{}\"", v.as_string(), f.pattern));
        }
      } catch (const std::regex_error&) {
        // Matching exhausted the regex engine's limits: the pattern check reported nothing wrong
        // with the pattern itself, so leave the default to be checked at run time.
      }
    }
    return;
  }
  if (f.min && compare_same_type(v, *f.min) < 0) {
    out_of_range(fmt::format("{} is below min = {}", v.to_string(), f.min->to_string()));
  }
  if (f.max && compare_same_type(v, *f.max) > 0) {
    out_of_range(fmt::format("{} is above max = {}", v.to_string(), f.max->to_string()));
  }
}

void read_field(LoadState& st, const toml::key& key, const toml::node& value,
                std::vector<FieldDef>& out) {
  Context& cx = st.cx;
  std::string name(key.str());
  const std::string owner = fmt::format("[data.{}]", name);
  check_id(cx, name, IdKind::kName, "data field", cx.at(key));
  const toml::table* t = value.as_table();
  if (t == nullptr) {
    report_type(cx, value, name, "[data]", "a table",
                fmt::format("write [data.{}] with type = \"...\"", name));
    return;
  }
  check_keys(
      cx, *t,
      {"type", "currency", "required", "default", "min", "max", "pattern", "values", "description"},
      owner);
  FieldDef f;
  f.name = name;
  f.where = cx.at(key);
  auto type_text = read_string(cx, *t, "type", owner, Need::kRequired, f.where);
  if (!type_text) return;
  auto type = parse_type_name(*type_text);
  if (!type || *type == Type::kNull) {
    std::string hint = cx.did_you_mean(*type_text, field_type_names());
    if (hint.empty()) {
      hint = fmt::format("types: {}", fmt::join(field_type_names(), ", "));
    }
    cx.error(rule::kFieldTypeUnknown, cx.at(*t->get("type")),
             fmt::format("{} has an unknown type \"{}\"", owner, *type_text), std::move(hint));
    return;
  }
  f.type = *type;
  f.required = read_bool(cx, *t, "required", owner, Need::kOptional, {}).value_or(false);
  f.description = read_string(cx, *t, "description", owner, Need::kOptional, {}).value_or("");
  read_enum_values(cx, *t, owner, f);
  read_currency(cx, *t, owner, f);
  read_pattern(cx, *t, owner, f);
  FieldNodes nodes;
  f.min = read_bound(cx, *t, "min", owner, f, nodes.min);
  f.max = read_bound(cx, *t, "max", owner, f, nodes.max);
  if (f.min && f.max && compare_same_type(*f.min, *f.max) > 0) {
    cx.error(rule::kFieldBounds, cx.at(*nodes.max),
             fmt::format("{} has min = {} greater than max = {}", owner, f.min->to_string(),
                         f.max->to_string()));
  }
  read_default(cx, *t, owner, f, nodes.default_value);
  if (f.default_value) check_default_fits(cx, owner, f, *nodes.default_value);
  out.push_back(std::move(f));
}

}  // namespace

std::optional<Value> value_from_toml(const toml::node& n, Type type, std::string& problem) {
  problem.clear();
  const auto* text = n.as_string();
  switch (type) {
    case Type::kString:
      if (text) return Value::string(text->get());
      break;
    case Type::kEnum:
      if (text) return Value::enum_member(text->get());
      break;
    case Type::kBool:
      if (const auto* b = n.as_boolean()) return Value::boolean(b->get());
      break;
    case Type::kInt:
      if (const auto* i = n.as_integer()) return Value::integer(i->get());
      break;
    case Type::kDecimal:
    case Type::kMoney: {
      std::optional<std::int64_t> units;
      if (const auto* i = n.as_integer()) {
        units = parse_decimal_units(std::to_string(i->get()));
      } else if (const auto* d = n.as_floating_point()) {
        units = parse_decimal_units(plain_decimal_text(d->get()));
      } else if (text) {
        units = parse_decimal_units(text->get());
      } else {
        break;
      }
      if (!units) {
        problem = "out of range, or more than 6 decimal places";
        return std::nullopt;
      }
      return type == Type::kMoney ? Value::money_units(*units) : Value::decimal_units(*units);
    }
    case Type::kDate: {
      std::optional<std::int64_t> days;
      if (const auto* d = n.as_date()) {
        days = parse_date_days(toml_date_text(d->get()));
      } else if (text) {
        days = parse_date_days(text->get());
      } else {
        break;
      }
      if (!days) {
        problem = "expected a date YYYY-MM-DD";
        return std::nullopt;
      }
      return Value::date(*days);
    }
    case Type::kDateTime: {
      std::optional<std::int64_t> ms;
      if (const auto* dt = n.as_date_time()) {
        const toml::date_time& v = dt->get();
        if (!v.offset) {
          problem = "a local date-time has no time zone: add Z or an offset such as +01:00";
          return std::nullopt;
        }
        int offset = v.offset->minutes;
        ms = parse_datetime_ms(fmt::format("{}T{:02}:{:02}:{:02}.{:09}{}{:02}:{:02}",
                                           toml_date_text(v.date), v.time.hour, v.time.minute,
                                           v.time.second, v.time.nanosecond, offset < 0 ? '-' : '+',
                                           std::abs(offset) / 60, std::abs(offset) % 60));
      } else if (text) {
        ms = parse_datetime_ms(text->get());
      } else {
        break;
      }
      if (!ms) {
        problem = "expected an RFC 3339 date-time such as 2026-03-01T09:00:00Z";
        return std::nullopt;
      }
      return Value::datetime(*ms);
    }
    case Type::kDuration: {
      if (!text) {
        problem = "write durations as text, e.g. \"4h30m\"";
        return std::nullopt;
      }
      auto ms = parse_duration_ms(text->get());
      if (!ms) {
        problem = "expected a duration such as \"4h30m\", \"2d\" or \"90s\"";
        return std::nullopt;
      }
      return Value::duration(*ms);
    }
    case Type::kNull:
      break;
  }
  problem = fmt::format("found {}", describe(n));
  return std::nullopt;
}

void read_fields(LoadState& st) {
  Context& cx = st.cx;
  const toml::table* all =
      top_level_table(cx, st.root, "data", "write one [data.<field>] table per field");
  if (all == nullptr) return;
  std::vector<FieldDef> fields;
  for (auto&& [key, value] : *all) read_field(st, key, value, fields);
  std::sort(fields.begin(), fields.end(), [](const FieldDef& a, const FieldDef& b) {
    return std::tie(a.where.line, a.where.column) < std::tie(b.where.line, b.where.column);
  });
  st.wf.fields = std::move(fields);
}

}  // namespace flowgate::loader
