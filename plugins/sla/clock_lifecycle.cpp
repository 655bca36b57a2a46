#include "plugins/sla/clock_lifecycle.h"

#include <array>

namespace flowgate::sla {

namespace {
constexpr std::array<std::string_view, 5> kStatusNames = {"pending", "running", "paused",
                                                          "completed", "cancelled"};
constexpr std::array<std::string_view, 6> kEventNames = {"start", "pause",  "resume",
                                                         "stop",  "cancel", "reset"};
}  // namespace

std::string_view clock_status_name(ClockStatus s) { return kStatusNames[static_cast<int>(s)]; }

std::optional<ClockStatus> parse_clock_status(std::string_view name) {
  for (std::size_t i = 0; i < kStatusNames.size(); ++i) {
    if (kStatusNames[i] == name) return static_cast<ClockStatus>(i);
  }
  return std::nullopt;
}

std::string_view clock_event_name(ClockEvent e) { return kEventNames[static_cast<int>(e)]; }

}  // namespace flowgate::sla
