// What an audit found: one problem, with the instance and event it concerns. Verify and replay
// return lists of findings; the CLI prints them as a table or JSON and exits non-zero when there is
// any. `kind` is a stable name (docs/audit.md lists them) so tools can match on it.
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace flowgate::audit {

struct Finding {
  std::string kind;         // e.g. "event_changed", "event_missing", "checkpoint_mismatch"
  std::string instance_id;  // "" when the finding is not about one instance
  std::int64_t seq = 0;     // the (first) event concerned; 0 = none
  std::int64_t position = 0;
  std::string event_type;
  std::string message;  // a sentence a person can act on

  nlohmann::json to_json() const;
  // "ltc-3 #4 (position 17, transitioned): message"
  std::string to_string() const;
};

nlohmann::json findings_to_json(const std::vector<Finding>& findings);

}  // namespace flowgate::audit
