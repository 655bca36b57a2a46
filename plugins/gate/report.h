// Gate figures for `flowgate report` (the audit engineer's verb): per workflow and gate, how many
// review rounds opened, how they ended, the pass rate and the median time from a round opening to
// its decision. Computed from stored events only, so any export or backup reproduces it.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/records.h"

namespace flowgate::gate {

struct GateFigures {
  std::string workflow;  // from the instance's instance_started event, else its id "<workflow>-<n>"
  std::string gate;
  std::int64_t rounds = 0;   // opened (gate.submitted and gate.reopened)
  std::int64_t decided = 0;  // closed by a decision (gate.decided)
  std::int64_t go = 0;
  std::int64_t kill = 0;
  std::int64_t hold = 0;
  std::int64_t recycle = 0;
  std::int64_t recalled = 0;
  std::int64_t cancelled = 0;       // the instance was cancelled while the round was open
  std::int64_t open = 0;            // neither decided nor recalled yet
  std::optional<double> pass_rate;  // go / decided; none before any decision
  std::optional<std::int64_t> median_decision_ms;  // opening → decision, over decided rounds

  // {workflow, gate, rounds, decided, go, kill, hold, recycle, recalled, cancelled, open, pass_rate
  //  (0..1, 4 decimals, or null), median_time_to_decision ("2d3h", or null),
  //  median_time_to_decision_ms}
  nlohmann::json to_json() const;
};

// `events` in any order of instances; each instance's events in sequence order (as the store
// returns them). Sorted by workflow, then gate.
std::vector<GateFigures> gate_report(std::span<const EventRecord> events);

}  // namespace flowgate::gate
