// The SLA plugin's share of `flowgate report`: per clock, how many cycles completed, how many met
// their target, how many breached, the on-time rate ("SLA on-time closure rate", "OLA on-time
// completion rate") and the median and 90th percentile of business time taken. Computed from the
// recorded "sla.*" events alone (docs/sla.md lists the fields it reads), so it works on any
// history: a live database, an export, a replay.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/records.h"

namespace flowgate::sla {

struct ClockReport {
  std::string workflow;  // from the instance id "<workflow>-<n>"
  std::string clock;
  std::string kind;                    // "sla" or "ola"
  std::int64_t count = 0;              // completed cycles: the denominator of the on-time rate
  std::int64_t met = 0;                // completed within the target
  std::int64_t breached = 0;           // completed late
  std::int64_t open = 0;               // running or paused when the events end
  std::int64_t open_breached = 0;      // of those, already past their target
  std::int64_t cancelled = 0;          // cancelled or reset: neither met nor breached
  std::optional<double> on_time_rate;  // met / count; none when count == 0
  std::optional<std::int64_t> p50_business_ms;  // over completed cycles (nearest rank)
  std::optional<std::int64_t> p90_business_ms;

  nlohmann::json to_json() const;
};

// One row per (workflow, clock), sorted by workflow then clock. Events of any type may be given;
// those that are not "sla.*" are skipped. Events must be in per-instance order (seq).
std::vector<ClockReport> clock_report(std::span<const EventRecord> events);

// Nearest-rank percentile (p in 0..100] of `values` (sorted in place); none when empty.
std::optional<std::int64_t> percentile(std::vector<std::int64_t>& values, double p);

}  // namespace flowgate::sla
