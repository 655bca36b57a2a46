#include "server/params.h"

#include <fmt/format.h>

namespace flowgate::server {

using nlohmann::json;

const char* json_type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "integer";
    case json::value_t::number_float:
      return "number";
    case json::value_t::string:
      return "string";
    case json::value_t::array:
      return "array";
    case json::value_t::object:
      return "object";
    default:
      return "value";
  }
}

const json* Params::find(const std::string& key) {
  known_.insert(key);
  auto it = params_.find(key);
  if (it == params_.end() || it->is_null()) return nullptr;
  return &*it;
}

json Params::rest() {
  json out = json::object();
  for (const auto& [key, value] : params_.items()) {
    if (known_.insert(key).second) out[key] = value;
  }
  return out;
}

void Params::problem(std::string message) {
  if (!problem_) problem_ = std::move(message);
}

void Params::wrong_type(const std::string& key, const char* expected, const json& got) {
  problem(fmt::format("`{}` must be {} (got {})", key, expected, json_type_name(got)));
}

std::string Params::required_string(const std::string& key) {
  const json* v = find(key);
  if (!v) {
    problem(fmt::format("missing parameter `{}` (a string)", key));
    return {};
  }
  if (!v->is_string()) {
    wrong_type(key, "a string", *v);
    return {};
  }
  if (v->get_ref<const std::string&>().empty()) problem(fmt::format("`{}` is empty", key));
  return v->get<std::string>();
}

std::optional<std::string> Params::string(const std::string& key) {
  const json* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_string()) {
    wrong_type(key, "a string", *v);
    return std::nullopt;
  }
  return v->get<std::string>();
}

std::optional<std::int64_t> Params::integer(const std::string& key, std::int64_t min,
                                            std::int64_t max) {
  const json* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_number_integer()) {
    wrong_type(key, "an integer", *v);
    return std::nullopt;
  }
  if (v->is_number_unsigned() && v->get<std::uint64_t>() > static_cast<std::uint64_t>(max)) {
    problem(fmt::format("`{}` must be at most {}", key, max));
    return std::nullopt;
  }
  auto n = v->get<std::int64_t>();
  if (n < min || n > max) {
    problem(fmt::format("`{}` must be between {} and {}", key, min, max));
    return std::nullopt;
  }
  return n;
}

std::optional<bool> Params::boolean(const std::string& key) {
  const json* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) {
    wrong_type(key, "true or false", *v);
    return std::nullopt;
  }
  return v->get<bool>();
}

json Params::object(const std::string& key) {
  const json* v = find(key);
  if (!v) return json::object();
  if (!v->is_object()) {
    wrong_type(key, "an object", *v);
    return json::object();
  }
  return *v;
}

std::optional<std::vector<std::string>> Params::strings(const std::string& key) {
  const json* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_array()) {
    wrong_type(key, "an array of strings", *v);
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (const auto& e : *v) {
    if (!e.is_string()) {
      problem(fmt::format("`{}` must hold only strings (found {})", key, json_type_name(e)));
      return std::nullopt;
    }
    out.push_back(e.get<std::string>());
  }
  return out;
}

std::optional<std::map<std::string, std::string>> Params::string_map(const std::string& key) {
  const json* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_object()) {
    wrong_type(key, "an object of strings", *v);
    return std::nullopt;
  }
  std::map<std::string, std::string> out;
  for (const auto& [k, e] : v->items()) {
    if (!e.is_string()) {
      problem(fmt::format("`{}.{}` must be a string (got {})", key, k, json_type_name(e)));
      return std::nullopt;
    }
    out[k] = e.get<std::string>();
  }
  return out;
}

const json& Params::raw(const std::string& key) {
  static const json kNull;
  const json* v = find(key);
  return v ? *v : kNull;
}

std::optional<RpcError> Params::finish() const {
  if (problem_) return RpcError::invalid_params(*problem_);
  for (const auto& [key, value] : params_.items()) {
    if (!known_.contains(key)) {
      std::vector<std::string> names(known_.begin(), known_.end());
      return RpcError{kInvalidParams, fmt::format("unknown parameter `{}`", key),
                      json{{"parameters", names}}};
    }
  }
  return std::nullopt;
}

}  // namespace flowgate::server
