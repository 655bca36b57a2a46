// JSON-RPC 2.0 framing for the socket protocol (docs/protocol.md): one JSON value per line, either
// a request object or a batch (an array of them). parse_line() turns one line into the requests to
// run and the error responses to send for what could not be understood; the response helpers build
// the objects written back. Protocol errors use the standard negative codes; engine errors keep
// their positive stable codes (util/error.h).
// Thread-safety: pure functions and plain values.
#pragma once

#include <cstddef>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace flowgate::server {

// Standard JSON-RPC 2.0 codes.
inline constexpr int kParseError = -32700;
inline constexpr int kInvalidRequest = -32600;
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;
inline constexpr int kInternalError = -32603;
// Server-defined codes (the range -32000..-32099 is reserved for implementations).
inline constexpr int kRequestTooLarge = -32001;  // the line exceeds the limit; the server closes
inline constexpr int kTooDeep = -32002;          // nesting deeper than kMaxJsonDepth

// JSON nested deeper than this is refused before it is parsed (it would only cost stack).
inline constexpr std::size_t kMaxJsonDepth = 64;
// A batch may hold at most this many requests.
inline constexpr std::size_t kMaxBatch = 1000;

// An error answered to one request: a JSON-RPC protocol error or an engine Error.
struct RpcError {
  int code = kInternalError;
  std::string message;
  nlohmann::json data;  // null = none

  static RpcError from(const Error& e);  // positive code, message, data (with name and hint)
  static RpcError invalid_params(std::string message);
  nlohmann::json to_json() const;  // {"code", "message", "data"?}
};

using RpcResult = std::expected<nlohmann::json, RpcError>;

inline std::unexpected<RpcError> rpc_fail(const Error& e) {
  return std::unexpected<RpcError>(RpcError::from(e));
}
inline std::unexpected<RpcError> rpc_fail(RpcError e) {
  return std::unexpected<RpcError>(std::move(e));
}

struct Request {
  nlohmann::json id;          // string, number or null; absent for a notification
  bool notification = false;  // no "id" member: run it, answer nothing
  std::string method;
  nlohmann::json params = nlohmann::json::object();  // always an object here
};

// One element of a line: a request to run, or the error response that answers it.
struct Incoming {
  std::optional<Request> request;
  nlohmann::json error_response;  // set when !request
};

struct ParsedLine {
  bool batch = false;           // the line was an array: answer with an array
  std::vector<Incoming> items;  // in order; empty for a blank line (nothing to answer)
};

// Parses one line (without its newline). Never throws; bad input becomes error responses.
ParsedLine parse_line(std::string_view line);

// The deepest nesting of arrays and objects in `text`, scanning at most until `limit` is passed
// (strings are skipped, so brackets inside them do not count).
std::size_t json_depth(std::string_view text, std::size_t limit);

nlohmann::json result_response(const nlohmann::json& id, nlohmann::json result);
nlohmann::json error_response(const nlohmann::json& id, const RpcError& error);
nlohmann::json error_response(const nlohmann::json& id, int code, std::string message,
                              nlohmann::json data = nullptr);
nlohmann::json notification(std::string method, nlohmann::json params);

// Serialises one message as a line ("...\n"). Invalid UTF-8 in strings is replaced, never thrown.
std::string to_line(const nlohmann::json& message);

}  // namespace flowgate::server
