#include "runtime/data_rules.h"

#include <algorithm>
#include <regex>
#include <unordered_map>

#include <fmt/format.h>

#include "util/diagnostic.h"

namespace flowgate {
namespace {

// Orders two values of one field's type; strings compare by length (their bounds are lengths).
std::int64_t magnitude(const Value& v) {
  switch (v.type()) {
    case Type::kString:
    case Type::kEnum:
      return static_cast<std::int64_t>(v.as_string().size());
    case Type::kInt:
    case Type::kDecimal:
    case Type::kMoney:
      return v.as_units();
    default:
      return v.as_int();
  }
}

std::int64_t bound_magnitude(const FieldDef& f, const Value& bound) {
  if (f.type == Type::kString) return bound.as_int();  // a length
  return magnitude(bound);
}

bool matches_pattern(const FieldDef& f, const std::string& s) {
  // Patterns were checked to compile at load time; cache the compiled form per thread.
  thread_local std::unordered_map<std::string, std::regex> cache;
  auto it = cache.find(f.pattern);
  if (it == cache.end()) {
    if (cache.size() > 256) cache.clear();
    try {
      it = cache.emplace(f.pattern, std::regex(f.pattern, std::regex::ECMAScript)).first;
    } catch (const std::regex_error&) {
      return false;
    }
  }
  try {
    return std::regex_search(s, it->second);
  } catch (const std::regex_error&) {
    return false;  // e.g. complexity limits on hostile input
  }
}

}  // namespace

Result<void> check_field_value(const FieldDef& f, const Value& v) {
  if (v.is_null()) return {};
  if (f.type == Type::kEnum &&
      std::find(f.enum_values.begin(), f.enum_values.end(), v.as_string()) == f.enum_values.end()) {
    Error e(ErrorCode::kInvalidData,
            fmt::format("`{}` is not one of the values of `{}`", v.as_string(), f.name));
    std::string near = closest_match(v.as_string(), f.enum_values);
    if (!near.empty()) e.hint = fmt::format("did you mean `{}`?", near);
    e.data["field"] = f.name;
    e.data["allowed"] = f.enum_values;
    return fail(std::move(e));
  }
  if (f.min && magnitude(v) < bound_magnitude(f, *f.min)) {
    return fail(
        Error(ErrorCode::kInvalidData, fmt::format("`{}` = {} is below its minimum {}", f.name,
                                                   v.to_string(), f.min->to_string()))
            .with_data("field", f.name));
  }
  if (f.max && magnitude(v) > bound_magnitude(f, *f.max)) {
    return fail(
        Error(ErrorCode::kInvalidData, fmt::format("`{}` = {} is above its maximum {}", f.name,
                                                   v.to_string(), f.max->to_string()))
            .with_data("field", f.name));
  }
  if (!f.pattern.empty() && f.type == Type::kString && !matches_pattern(f, v.as_string())) {
    return fail(
        Error(ErrorCode::kInvalidData, fmt::format("`{}` = \"{}\" does not match the pattern {}",
                                                   f.name, v.as_string(), f.pattern))
            .with_data("field", f.name));
  }
  return {};
}

Value coerce_to_field(const FieldDef& f, Value v) {
  switch (f.type) {
    case Type::kEnum:
      if (v.type() == Type::kString) return Value::enum_member(v.as_string());
      break;
    case Type::kDecimal:
      if (is_numeric(v.type()) && v.type() != Type::kDecimal)
        return Value::decimal_units(v.as_units());
      break;
    case Type::kMoney:
      if (is_numeric(v.type()) && v.type() != Type::kMoney) return Value::money_units(v.as_units());
      break;
    default:
      break;
  }
  return v;
}

Result<Value> parse_field_value(const FieldDef& f, const nlohmann::json& j) {
  if (j.is_null()) return Value::null();
  auto v = Value::from_json(j, f.type);
  if (!v) {
    Error e = v.error();
    e.code = ErrorCode::kInvalidData;
    e.message = fmt::format("field `{}`: {}", f.name, e.message);
    e.data["field"] = f.name;
    e.data["expected_type"] = std::string(type_name(f.type));
    return fail(std::move(e));
  }
  if (auto ok = check_field_value(f, *v); !ok) return fail(ok.error());
  return v;
}

Result<void> check_required(const Workflow& wf, const std::vector<Value>& data) {
  std::vector<std::string> missing;
  for (std::size_t i = 0; i < wf.fields.size(); ++i) {
    if (wf.fields[i].required && (i >= data.size() || data[i].is_null())) {
      missing.push_back(wf.fields[i].name);
    }
  }
  if (missing.empty()) return {};
  return fail(Error(ErrorCode::kInvalidData,
                    fmt::format("required field{} not set: {}", missing.size() > 1 ? "s" : "",
                                fmt::join(missing, ", ")))
                  .with_data("missing", missing));
}

Result<std::vector<Value>> parse_payload(const TransitionDef& t, const nlohmann::json& payload) {
  if (!payload.is_null() && !payload.is_object()) {
    return fail(ErrorCode::kInvalidPayload, "the payload must be a JSON object");
  }
  std::vector<Value> slots(t.payload.size());
  std::vector<std::string> names;
  names.reserve(t.payload.size());
  for (const auto& p : t.payload) names.push_back(p.name);
  if (payload.is_object()) {
    for (const auto& [key, value] : payload.items()) {
      auto pos = std::find(names.begin(), names.end(), key);
      if (pos == names.end()) {
        Error e(ErrorCode::kInvalidPayload,
                fmt::format("event `{}` takes no payload field `{}`", t.event, key));
        std::string near = closest_match(key, names);
        e.hint = near.empty()
                     ? (names.empty() ? "this event takes no payload"
                                      : fmt::format("it takes: {}", fmt::join(names, ", ")))
                     : fmt::format("did you mean `{}`?", near);
        e.data["allowed_fields"] = names;
        return fail(std::move(e));
      }
      const PayloadField& pf = t.payload[static_cast<std::size_t>(pos - names.begin())];
      if (value.is_null()) continue;
      auto v = Value::from_json(value, pf.type);
      if (!v) {
        return fail(
            Error(ErrorCode::kInvalidPayload, fmt::format("payload field `{}` must be {}: {}", key,
                                                          type_name(pf.type), v.error().message))
                .with_data("field", key));
      }
      if (pf.type == Type::kEnum && std::find(pf.enum_values.begin(), pf.enum_values.end(),
                                              v->as_string()) == pf.enum_values.end()) {
        return fail(Error(ErrorCode::kInvalidPayload,
                          fmt::format("payload field `{}` = `{}` is not one of: {}", key,
                                      v->as_string(), fmt::join(pf.enum_values, ", ")))
                        .with_data("field", key));
      }
      slots[static_cast<std::size_t>(pos - names.begin())] = std::move(*v);
    }
  }
  for (std::size_t i = 0; i < t.payload.size(); ++i) {
    if (t.payload[i].required && slots[i].is_null()) {
      return fail(Error(ErrorCode::kInvalidPayload,
                        fmt::format("event `{}` needs payload field `{}` ({})", t.event,
                                    t.payload[i].name, type_name(t.payload[i].type)))
                      .with_data("field", t.payload[i].name));
    }
  }
  return slots;
}

}  // namespace flowgate
