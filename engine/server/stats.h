// Counters the server reports through server.stats: requests, errors, connections, watchers and
// the latency of recent requests (p50/p90/p99/max over the last kLatencyWindow answers).
// Thread-safety: counters are atomics; record_latency() and latency() lock (answers to engine
// commands are recorded on the engine's answering thread, the others on the I/O thread).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>

#include <nlohmann/json.hpp>

namespace flowgate::server {

class ServerStats {
 public:
  static constexpr std::size_t kLatencyWindow = 8192;

  std::atomic<std::uint64_t> requests{0};         // requests answered (batch elements count singly)
  std::atomic<std::uint64_t> errors{0};           // answered with an error
  std::atomic<std::uint64_t> protocol_errors{0};  // lines that were not valid JSON-RPC
  std::atomic<std::uint64_t> connections{0};      // open now
  std::atomic<std::uint64_t> connections_total{0};
  std::atomic<std::uint64_t> refused_connections{0};
  std::atomic<std::uint64_t> in_flight{0};      // requests dispatched and not yet answered
  std::atomic<std::uint64_t> watchers{0};       // open events.watch subscriptions
  std::atomic<std::uint64_t> notifications{0};  // events.event notifications queued
  std::atomic<std::uint64_t> watchers_dropped{0};
  std::atomic<std::uint64_t> idle_closed{0};

  void record_latency(std::chrono::nanoseconds d);
  // {"p50_ms", "p90_ms", "p99_ms", "max_ms", "samples"}
  nlohmann::json latency() const;
  nlohmann::json to_json() const;  // every counter plus "latency"

  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

 private:
  mutable std::mutex latency_mu_;
  std::array<std::uint32_t, kLatencyWindow> samples_us_{};
  std::size_t next_ = 0;
  std::size_t filled_ = 0;
};

}  // namespace flowgate::server
