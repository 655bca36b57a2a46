#include "server/protocol.h"

#include <fmt/format.h>

namespace flowgate::server {

using nlohmann::json;

RpcError RpcError::from(const Error& e) {
  json j = e.to_json();
  return RpcError{j["code"].get<int>(), j["message"].get<std::string>(), std::move(j["data"])};
}

RpcError RpcError::invalid_params(std::string message) {
  return RpcError{kInvalidParams, std::move(message), nullptr};
}

json RpcError::to_json() const {
  json j = {{"code", code}, {"message", message}};
  if (!data.is_null()) j["data"] = data;
  return j;
}

std::size_t json_depth(std::string_view text, std::size_t limit) {
  std::size_t depth = 0;
  std::size_t deepest = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        if (++depth > deepest) {
          deepest = depth;
          if (deepest > limit) return deepest;
        }
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;
        break;
      default:
        break;
    }
  }
  return deepest;
}

namespace {

bool valid_id(const json& id) { return id.is_string() || id.is_number() || id.is_null(); }

Incoming invalid(const json& id, std::string message) {
  return Incoming{std::nullopt, error_response(id, kInvalidRequest, std::move(message))};
}

// Checks one request object against JSON-RPC 2.0.
Incoming parse_request(json& j) {
  if (!j.is_object()) return invalid(nullptr, "a request must be a JSON object");
  json id = nullptr;
  bool has_id = j.contains("id");
  if (has_id) {
    id = j["id"];
    if (!valid_id(id)) return invalid(nullptr, "`id` must be a string, a number or null");
  }
  auto version = j.find("jsonrpc");
  if (version == j.end() || *version != "2.0") {
    return invalid(id, R"(`jsonrpc` must be "2.0")");
  }
  auto method = j.find("method");
  if (method == j.end() || !method->is_string()) {
    return invalid(id, "`method` must be a string");
  }
  Request r;
  r.id = std::move(id);
  r.notification = !has_id;
  r.method = method->get<std::string>();
  if (auto params = j.find("params"); params != j.end()) {
    if (params->is_array()) {
      return Incoming{std::nullopt,
                      error_response(r.id, kInvalidParams,
                                     "`params` must be an object: every method takes named "
                                     "parameters")};
    }
    if (!params->is_object()) return invalid(r.id, "`params` must be an object");
    r.params = std::move(*params);
  }
  return Incoming{std::move(r), nullptr};
}

}  // namespace

ParsedLine parse_line(std::string_view line) {
  ParsedLine out;
  std::size_t first = line.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return out;  // blank line: nothing to answer
  if (json_depth(line, kMaxJsonDepth) > kMaxJsonDepth) {
    out.items.push_back(
        {std::nullopt, error_response(nullptr, kTooDeep,
                                      fmt::format("JSON nested deeper than {} levels is refused",
                                                  kMaxJsonDepth))});
    return out;
  }
  json j;
  try {
    j = json::parse(line, nullptr, /*allow_exceptions=*/false);
  } catch (const std::exception&) {
    j = json(json::value_t::discarded);
  }
  if (j.is_discarded()) {
    out.items.push_back(
        {std::nullopt,
         error_response(nullptr, kParseError, "parse error: the line is not valid JSON (UTF-8)")});
    return out;
  }
  if (!j.is_array()) {
    out.items.push_back(parse_request(j));
    return out;
  }
  if (j.empty()) {
    out.items.push_back(invalid(nullptr, "an empty batch is not a request"));
    return out;
  }
  if (j.size() > kMaxBatch) {
    out.items.push_back(
        invalid(nullptr, fmt::format("a batch holds at most {} requests", kMaxBatch)));
    return out;
  }
  out.batch = true;
  out.items.reserve(j.size());
  for (auto& element : j) out.items.push_back(parse_request(element));
  return out;
}

json result_response(const json& id, json result) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
}

json error_response(const json& id, const RpcError& error) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"error", error.to_json()}};
}

json error_response(const json& id, int code, std::string message, json data) {
  return error_response(id, RpcError{code, std::move(message), std::move(data)});
}

json notification(std::string method, json params) {
  return {{"jsonrpc", "2.0"}, {"method", std::move(method)}, {"params", std::move(params)}};
}

std::string to_line(const json& message) {
  std::string s = message.dump(-1, ' ', false, json::error_handler_t::replace);
  s.push_back('\n');
  return s;
}

}  // namespace flowgate::server
