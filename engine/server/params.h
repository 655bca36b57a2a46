// Typed access to a request's named parameters. Each getter marks its key as known; the first
// problem (missing, wrong type, out of range) is kept, and finish() also refuses any parameter no
// getter asked for, so a typo ("instance" for "instance_id") is an error instead of being ignored.
// Every problem is an invalid-params error (-32602) that names the parameter and what it expects.
// Thread-safety: one object per request, used by one thread.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/protocol.h"

namespace flowgate::server {

class Params {
 public:
  explicit Params(const nlohmann::json& params) : params_(params) {}

  std::string required_string(const std::string& key);
  std::optional<std::string> string(const std::string& key);
  std::optional<std::int64_t> integer(const std::string& key,
                                      std::int64_t min = std::numeric_limits<std::int64_t>::min(),
                                      std::int64_t max = std::numeric_limits<std::int64_t>::max());
  std::optional<bool> boolean(const std::string& key);
  // An object parameter; absent → {}.
  nlohmann::json object(const std::string& key);
  std::optional<std::vector<std::string>> strings(const std::string& key);
  std::optional<std::map<std::string, std::string>> string_map(const std::string& key);
  // The raw value (null when absent), for parameters checked by the caller.
  const nlohmann::json& raw(const std::string& key);

  // Every parameter no getter has asked for yet, as an object (marked known): plugin commands pass
  // them on as the command payload, and the plugin checks them.
  nlohmann::json rest();

  // Records a problem found by the caller (the first one wins).
  void problem(std::string message);
  // The first problem, or an unknown parameter; nullopt when the params are fine.
  std::optional<RpcError> finish() const;

 private:
  const nlohmann::json* find(const std::string& key);
  void wrong_type(const std::string& key, const char* expected, const nlohmann::json& got);

  const nlohmann::json& params_;
  std::set<std::string, std::less<>> known_;
  std::optional<std::string> problem_;
};

// "string", "integer", "object", ... for messages.
const char* json_type_name(const nlohmann::json& v);

}  // namespace flowgate::server
