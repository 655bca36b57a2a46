#include "util/error.h"

#include <fmt/format.h>

namespace flowgate {

std::string_view error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return "invalid_argument";
    case ErrorCode::kInvalidDefinition:
      return "invalid_definition";
    case ErrorCode::kNotFound:
      return "not_found";
    case ErrorCode::kWorkflowNotFound:
      return "workflow_not_found";
    case ErrorCode::kVersionNotFound:
      return "version_not_found";
    case ErrorCode::kInstanceNotFound:
      return "instance_not_found";
    case ErrorCode::kEventNotAllowed:
      return "event_not_allowed";
    case ErrorCode::kGuardFailed:
      return "guard_failed";
    case ErrorCode::kForbidden:
      return "forbidden";
    case ErrorCode::kVersionConflict:
      return "version_conflict";
    case ErrorCode::kInvalidPayload:
      return "invalid_payload";
    case ErrorCode::kDuplicateBusinessKey:
      return "duplicate_business_key";
    case ErrorCode::kLifecycle:
      return "lifecycle";
    case ErrorCode::kInvalidMigration:
      return "invalid_migration";
    case ErrorCode::kInvalidData:
      return "invalid_data";
    case ErrorCode::kEvaluation:
      return "evaluation_error";
    case ErrorCode::kDuplicateRequest:
      return "duplicate_request";
    case ErrorCode::kGate:
      return "gate";
    case ErrorCode::kClock:
      return "clock";
    case ErrorCode::kStorage:
      return "storage";
    case ErrorCode::kDatabaseLocked:
      return "database_locked";
    case ErrorCode::kNotADatabase:
      return "not_a_database";
    case ErrorCode::kSchemaTooNew:
      return "schema_too_new";
    case ErrorCode::kDiskFull:
      return "disk_full";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kInternal:
      return "internal";
  }
  return "unknown";
}

std::string SourceLocation::to_string() const {
  if (line <= 0) return file;
  if (column <= 0) return fmt::format("{}:{}", file, line);
  return fmt::format("{}:{}:{}", file, line, column);
}

std::string Error::to_string() const {
  std::string out;
  if (location) out = location->to_string() + ": ";
  out += fmt::format("error[{}]: {}", error_code_name(code), message);
  if (!hint.empty()) out += "\n  hint: " + hint;
  return out;
}

nlohmann::json Error::to_json() const {
  nlohmann::json d = data.is_object() ? data : nlohmann::json::object();
  d["name"] = std::string(error_code_name(code));
  if (!hint.empty()) d["hint"] = hint;
  if (location) {
    d["location"] = {
        {"file", location->file}, {"line", location->line}, {"column", location->column}};
  }
  return {{"code", static_cast<int>(code)}, {"message", message}, {"data", std::move(d)}};
}

Error Error::from_json(const nlohmann::json& j) {
  Error e;
  if (!j.is_object()) return e;
  int code = j.value("code", static_cast<int>(ErrorCode::kInternal));
  std::string_view name = error_code_name(static_cast<ErrorCode>(code));
  e.code = name == "unknown" ? ErrorCode::kInternal : static_cast<ErrorCode>(code);
  e.message = j.value("message", std::string());
  if (auto d = j.find("data"); d != j.end() && d->is_object()) {
    e.data = *d;
    if (auto h = d->find("hint"); h != d->end() && h->is_string()) e.hint = *h;
    e.data.erase("hint");
    e.data.erase("name");
    e.data.erase("location");
  }
  return e;
}

}  // namespace flowgate
