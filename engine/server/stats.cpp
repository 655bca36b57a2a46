#include "server/stats.h"

#include <algorithm>
#include <vector>

namespace flowgate::server {

using nlohmann::json;

void ServerStats::record_latency(std::chrono::nanoseconds d) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  std::lock_guard lock(latency_mu_);
  samples_us_[next_] = static_cast<std::uint32_t>(std::clamp<std::int64_t>(us, 0, UINT32_MAX));
  next_ = (next_ + 1) % kLatencyWindow;
  filled_ = std::min(filled_ + 1, kLatencyWindow);
}

json ServerStats::latency() const {
  std::vector<std::uint32_t> v;
  {
    std::lock_guard lock(latency_mu_);
    v.assign(samples_us_.begin(), samples_us_.begin() + static_cast<std::ptrdiff_t>(filled_));
  }
  json out = {{"samples", v.size()}};
  if (v.empty()) return out;
  std::sort(v.begin(), v.end());
  auto at = [&](double q) {
    auto i = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
    return static_cast<double>(v[std::min(i, v.size() - 1)]) / 1000.0;
  };
  out["p50_ms"] = at(0.50);
  out["p90_ms"] = at(0.90);
  out["p99_ms"] = at(0.99);
  out["max_ms"] = static_cast<double>(v.back()) / 1000.0;
  return out;
}

json ServerStats::to_json() const {
  auto uptime =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started);
  return {{"uptime_s", uptime.count()},
          {"requests", requests.load()},
          {"errors", errors.load()},
          {"protocol_errors", protocol_errors.load()},
          {"connections", connections.load()},
          {"connections_total", connections_total.load()},
          {"refused_connections", refused_connections.load()},
          {"in_flight", in_flight.load()},
          {"watchers", watchers.load()},
          {"notifications", notifications.load()},
          {"watchers_dropped", watchers_dropped.load()},
          {"idle_closed", idle_closed.load()},
          {"latency", latency()}};
}

}  // namespace flowgate::server
