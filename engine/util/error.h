// Errors are values on every input path. An Error carries a stable code, a message a person can
// act on, an optional hint and source location, and structured data (for example the events
// allowed now). It renders itself as a diagnostic line, a CLI message and a JSON-RPC error.
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace flowgate {

// Stable codes: never renumber. docs/protocol.md and docs/cli.md list them.
enum class ErrorCode : int {
  kInvalidArgument = 100,    // malformed command or parameter
  kInvalidDefinition = 101,  // a process file has errors
  kNotFound = 200,           // generic lookup failure
  kWorkflowNotFound = 201,
  kVersionNotFound = 202,
  kInstanceNotFound = 203,
  kEventNotAllowed = 204,  // no transition for this event from the current state
  kGuardFailed = 300,
  kForbidden = 301,        // the actor lacks a required role
  kVersionConflict = 302,  // expect_version does not match
  kInvalidPayload = 303,   // payload or data patch has wrong types or unknown fields
  kDuplicateBusinessKey = 304,
  kLifecycle = 305,  // the instance's lifecycle forbids the command
  kInvalidMigration = 306,
  kInvalidData = 307,       // data violates [data] rules (required, bounds, pattern)
  kEvaluation = 308,        // an expression failed at run time (division by zero, unset field)
  kDuplicateRequest = 309,  // request_id reused with a different command
  kGate = 400,              // stage-gate errors
  kClock = 450,             // SLA/OLA clock errors
  kStorage = 500,
  kDatabaseLocked = 501,
  kNotADatabase = 502,  // not a flowgate database, or corrupt
  kSchemaTooNew = 503,
  kDiskFull = 504,
  kUnavailable = 505,  // the engine is stopping
  kInternal = 600,
};

// Short stable name, e.g. "guard_failed".
std::string_view error_code_name(ErrorCode code);

struct SourceLocation {
  std::string file;
  int line = 0;    // 1-based; 0 when unknown
  int column = 0;  // 1-based; 0 when unknown

  // "file:line:col", omitting what is unknown.
  std::string to_string() const;
};

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  std::string hint;
  std::optional<SourceLocation> location;
  nlohmann::json data = nlohmann::json::object();

  Error() = default;
  Error(ErrorCode c, std::string msg) : code(c), message(std::move(msg)) {}

  Error&& with_hint(std::string h) && {
    hint = std::move(h);
    return std::move(*this);
  }
  Error&& with_data(std::string key, nlohmann::json value) && {
    data[std::move(key)] = std::move(value);
    return std::move(*this);
  }
  Error&& at(SourceLocation where) && {
    location = std::move(where);
    return std::move(*this);
  }

  // "error[guard_failed]: message" plus "\n  hint: ..." when there is a hint.
  std::string to_string() const;
  // {"code": int, "message": str, "data": {..., "name": "guard_failed", "hint": ...}}
  nlohmann::json to_json() const;
  // Inverse of to_json (used to replay a recorded answer); unknown codes become kInternal.
  static Error from_json(const nlohmann::json& j);
};

template <typename T>
using Result = std::expected<T, Error>;

// Shorthand for returning an error: `return fail(ErrorCode::kNotFound, "...");`
inline std::unexpected<Error> fail(ErrorCode code, std::string message) {
  return std::unexpected<Error>(Error(code, std::move(message)));
}
inline std::unexpected<Error> fail(Error error) { return std::unexpected<Error>(std::move(error)); }

}  // namespace flowgate
