#include "plugins/sla/report.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "plugins/sla/clock_state.h"

namespace flowgate::sla {

using nlohmann::json;

json ClockReport::to_json() const {
  auto opt = [](const auto& v) { return v ? json(*v) : json(nullptr); };
  return {{"workflow", workflow},
          {"clock", clock},
          {"kind", kind},
          {"count", count},
          {"met", met},
          {"breached", breached},
          {"open", open},
          {"open_breached", open_breached},
          {"cancelled", cancelled},
          {"on_time_rate", opt(on_time_rate)},
          {"p50_business_ms", opt(p50_business_ms)},
          {"p90_business_ms", opt(p90_business_ms)}};
}

std::optional<std::int64_t> percentile(std::vector<std::int64_t>& values, double p) {
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
  return values[std::clamp<std::size_t>(rank, 1, values.size()) - 1];
}

std::vector<ClockReport> clock_report(std::span<const EventRecord> events) {
  struct Acc {
    ClockReport row;
    std::vector<std::int64_t> business;
  };
  struct Open {
    bool breached = false;
  };
  std::map<std::pair<std::string, std::string>, Acc> rows;
  // The open cycle of each (instance, clock), to count what is still running at the end.
  std::map<std::pair<std::string, std::string>, Open> open;
  for (const EventRecord& e : events) {
    if (!e.type.starts_with("sla.") || !e.body.is_object()) continue;
    auto clock_it = e.body.find("clock");
    if (clock_it == e.body.end() || !clock_it->is_string()) continue;
    const std::string clock = clock_it->get<std::string>();
    auto dash = e.instance_id.rfind('-');
    std::string workflow =
        dash == std::string::npos ? e.instance_id : e.instance_id.substr(0, dash);
    Acc& acc = rows[{workflow, clock}];
    acc.row.workflow = workflow;
    acc.row.clock = clock;
    if (auto k = e.body.find("kind"); k != e.body.end() && k->is_string()) acc.row.kind = *k;
    const auto key = std::make_pair(e.instance_id, clock);
    if (e.type == event::kStarted) {
      open[key] = Open{};
    } else if (e.type == event::kBreached) {
      if (auto it = open.find(key); it != open.end()) it->second.breached = true;
    } else if (e.type == event::kCompleted) {
      open.erase(key);
      ++acc.row.count;
      if (e.body.value("met", false)) {
        ++acc.row.met;
      } else {
        ++acc.row.breached;
      }
      acc.business.push_back(e.body.value("business_elapsed_ms", std::int64_t{0}));
    } else if (e.type == event::kCancelled || e.type == event::kReset) {
      open.erase(key);
      ++acc.row.cancelled;
    }
  }
  for (const auto& [key, state] : open) {
    auto dash = key.first.rfind('-');
    std::string workflow = dash == std::string::npos ? key.first : key.first.substr(0, dash);
    Acc& acc = rows[{workflow, key.second}];
    ++acc.row.open;
    if (state.breached) ++acc.row.open_breached;
  }
  std::vector<ClockReport> out;
  for (auto& [key, acc] : rows) {
    if (acc.row.count > 0) {
      acc.row.on_time_rate = static_cast<double>(acc.row.met) / static_cast<double>(acc.row.count);
    }
    acc.row.p50_business_ms = percentile(acc.business, 50);
    acc.row.p90_business_ms = percentile(acc.business, 90);
    out.push_back(std::move(acc.row));
  }
  return out;
}

}  // namespace flowgate::sla
