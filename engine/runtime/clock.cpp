#include "runtime/clock.h"

#include <chrono>

namespace flowgate {

std::int64_t SystemClock::now_ms() const {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

bool SimulatedClock::advance_to(std::int64_t t) {
  std::int64_t cur = now_.load(std::memory_order_acquire);
  while (t >= cur) {
    if (now_.compare_exchange_weak(cur, t, std::memory_order_acq_rel)) return true;
  }
  return false;
}

}  // namespace flowgate
