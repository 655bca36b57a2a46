// The clock lifecycle table (Boost.MSM): every legal move, and every other move refused.
#include <catch2/catch.hpp>

#include <map>

#include "plugins/sla/clock_lifecycle.h"

using namespace flowgate::sla;

TEST_CASE("the clock lifecycle allows exactly its table", "[sla][lifecycle]") {
  using S = ClockStatus;
  using E = ClockEvent;
  const std::map<std::pair<S, E>, S> legal = {
      {{S::kPending, E::kStart}, S::kRunning},   {{S::kRunning, E::kPause}, S::kPaused},
      {{S::kPaused, E::kResume}, S::kRunning},   {{S::kRunning, E::kStop}, S::kCompleted},
      {{S::kPaused, E::kStop}, S::kCompleted},   {{S::kRunning, E::kCancel}, S::kCancelled},
      {{S::kPaused, E::kCancel}, S::kCancelled}, {{S::kRunning, E::kReset}, S::kPending},
      {{S::kPaused, E::kReset}, S::kPending},    {{S::kCompleted, E::kStart}, S::kRunning},
      {{S::kCancelled, E::kStart}, S::kRunning},
  };
  for (S from : {S::kPending, S::kRunning, S::kPaused, S::kCompleted, S::kCancelled}) {
    for (E e : {E::kStart, E::kPause, E::kResume, E::kStop, E::kCancel, E::kReset}) {
      INFO(clock_status_name(from) << " on " << clock_event_name(e));
      auto it = legal.find({from, e});
      auto next = clock_step(from, e);
      if (it == legal.end()) {
        CHECK_FALSE(next);
      } else {
        REQUIRE(next);
        CHECK(*next == it->second);
      }
    }
  }
}

TEST_CASE("clock status names round-trip", "[sla][lifecycle]") {
  for (auto s : {ClockStatus::kPending, ClockStatus::kRunning, ClockStatus::kPaused,
                 ClockStatus::kCompleted, ClockStatus::kCancelled}) {
    CHECK(parse_clock_status(clock_status_name(s)) == s);
  }
  CHECK_FALSE(parse_clock_status("breached"));
}
