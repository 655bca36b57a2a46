#include "runtime/command.h"

#include <algorithm>

#include "store/hash_chain.h"

namespace flowgate {

bool Actor::has_any_role(const std::vector<std::string>& wanted) const {
  return std::any_of(wanted.begin(), wanted.end(), [&](const std::string& w) {
    return std::find(roles.begin(), roles.end(), w) != roles.end();
  });
}

nlohmann::json Actor::to_json() const {
  nlohmann::json j = {{"principal", principal}, {"roles", roles}};
  if (!on_behalf_of.empty()) j["on_behalf_of"] = on_behalf_of;
  return j;
}

Actor Actor::from_json(const nlohmann::json& j) {
  Actor a;
  if (!j.is_object()) return a;
  if (auto it = j.find("principal"); it != j.end() && it->is_string()) a.principal = *it;
  if (auto it = j.find("roles"); it != j.end() && it->is_array()) {
    for (const auto& r : *it) {
      if (r.is_string()) a.roles.push_back(r);
    }
  }
  if (auto it = j.find("on_behalf_of"); it != j.end() && it->is_string()) a.on_behalf_of = *it;
  return a;
}

std::string_view command_kind_name(CommandKind k) {
  switch (k) {
    case CommandKind::kStart:
      return "start";
    case CommandKind::kFire:
      return "fire";
    case CommandKind::kUpdate:
      return "update";
    case CommandKind::kSuspend:
      return "suspend";
    case CommandKind::kResume:
      return "resume";
    case CommandKind::kCancel:
      return "cancel";
    case CommandKind::kMigrate:
      return "migrate";
    case CommandKind::kTimer:
      return "timer";
    case CommandKind::kPlugin:
      return "plugin";
  }
  return "unknown";
}

std::string Command::fingerprint() const {
  nlohmann::json j = {{"kind", command_kind_name(kind)}};
  switch (kind) {
    case CommandKind::kStart:
      j["workflow"] = workflow_id;
      j["version"] = version ? *version : 0;
      j["key"] = business_key;
      j["data"] = data;
      break;
    case CommandKind::kFire:
      j["instance"] = instance_id;
      j["event"] = event;
      j["payload"] = payload;
      break;
    case CommandKind::kUpdate:
      j["instance"] = instance_id;
      j["data"] = data;
      break;
    case CommandKind::kSuspend:
    case CommandKind::kResume:
    case CommandKind::kCancel:
      j["instance"] = instance_id;
      j["reason"] = reason;
      break;
    case CommandKind::kMigrate:
      j["instance"] = instance_id;
      j["to_version"] = to_version;
      j["mapping"] = state_mapping;
      break;
    case CommandKind::kTimer:
      j["instance"] = instance_id;
      j["timer"] = timer_id;
      j["due"] = due_ms;
      break;
    case CommandKind::kPlugin:
      j["instance"] = instance_id;
      j["plugin"] = plugin;
      j["action"] = action;
      j["payload"] = payload;
      break;
  }
  return sha256_hex(j.dump());
}

}  // namespace flowgate
