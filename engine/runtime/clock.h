// Time is an input. The engine stamps each command at its edge with a Clock; the core (decide,
// apply, plugin hooks) never reads a clock. SystemClock reads the wall clock; SimulatedClock starts
// at a given instant and moves only when told, for tests, scenarios and the demo.
// Thread-safety: both implementations may be read and advanced from any thread.
#pragma once

#include <atomic>
#include <cstdint>

namespace flowgate {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch, UTC.
  virtual std::int64_t now_ms() const = 0;
  virtual bool simulated() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::int64_t now_ms() const override;
  bool simulated() const override { return false; }
};

class SimulatedClock final : public Clock {
 public:
  explicit SimulatedClock(std::int64_t start_ms) : now_(start_ms) {}
  std::int64_t now_ms() const override { return now_.load(std::memory_order_acquire); }
  bool simulated() const override { return true; }
  // Moves time to `t`; never backwards (returns false and leaves the clock unchanged).
  bool advance_to(std::int64_t t);

 private:
  std::atomic<std::int64_t> now_;
};

}  // namespace flowgate
