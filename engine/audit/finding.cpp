#include "audit/finding.h"

#include <fmt/format.h>

namespace flowgate::audit {

nlohmann::json Finding::to_json() const {
  nlohmann::json j = {{"kind", kind}, {"message", message}};
  if (!instance_id.empty()) j["instance_id"] = instance_id;
  if (seq > 0) j["seq"] = seq;
  if (position > 0) j["position"] = position;
  if (!event_type.empty()) j["event_type"] = event_type;
  return j;
}

std::string Finding::to_string() const {
  std::string where = instance_id;
  if (seq > 0) where += fmt::format(" #{}", seq);
  std::string detail;
  if (position > 0) detail = fmt::format("position {}", position);
  if (!event_type.empty()) detail += (detail.empty() ? "" : ", ") + event_type;
  if (!detail.empty()) where += (where.empty() ? "" : " ") + ("(" + detail + ")");
  return where.empty() ? message : where + ": " + message;
}

nlohmann::json findings_to_json(const std::vector<Finding>& findings) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& f : findings) arr.push_back(f.to_json());
  return arr;
}

}  // namespace flowgate::audit
