// The stored form of a clock's state (extra["sla"][<clock>]): the positional array written now,
// the object form earlier versions wrote (still read), and malformed entries refused.
#include <catch2/catch.hpp>

#include "plugins/sla/clock_state.h"

using namespace flowgate::sla;
using nlohmann::json;

namespace {

ClockState every_field_set() {
  ClockState s;
  s.status = ClockStatus::kCompleted;
  s.breached = true;
  s.met = false;
  s.cycle = 3;
  s.requested_at = 1'700'000'000'000;
  s.started_at = 1'700'000'100'000;
  s.target_ms = 8 * 3'600'000;
  s.target_source = "priority=P1";
  s.business_ms = 9 * 3'600'000;
  s.running_since = 1'700'000'200'000;
  s.paused_at = 1'700'000'300'000;
  s.paused_ms = 60'000;
  s.paused_business_ms = 30'000;
  s.pauses = 2;
  s.planned_breach_at = 1'700'000'400'000;
  s.original_breach_at = 1'700'000'500'000;
  s.warned = {50, 75};
  s.breached_at = 1'700'000'600'000;
  s.ended_at = 1'700'000'700'000;
  return s;
}

void check_same(const ClockState& a, const ClockState& b) {
  CHECK(a.status == b.status);
  CHECK(a.breached == b.breached);
  CHECK(a.met == b.met);
  CHECK(a.cycle == b.cycle);
  CHECK(a.requested_at == b.requested_at);
  CHECK(a.started_at == b.started_at);
  CHECK(a.target_ms == b.target_ms);
  CHECK(a.target_source == b.target_source);
  CHECK(a.business_ms == b.business_ms);
  CHECK(a.running_since == b.running_since);
  CHECK(a.paused_at == b.paused_at);
  CHECK(a.paused_ms == b.paused_ms);
  CHECK(a.paused_business_ms == b.paused_business_ms);
  CHECK(a.pauses == b.pauses);
  CHECK(a.planned_breach_at == b.planned_breach_at);
  CHECK(a.original_breach_at == b.original_breach_at);
  CHECK(a.warned == b.warned);
  CHECK(a.breached_at == b.breached_at);
  CHECK(a.ended_at == b.ended_at);
}

void check_reads_back(const json& stored, const ClockState& written) {
  INFO(stored.dump());
  auto back = ClockState::from_json(stored);
  REQUIRE(back);
  check_same(*back, written);
}

}  // namespace

TEST_CASE("a clock state with every field set reads back as written", "[sla][state]") {
  ClockState s = every_field_set();
  json stored = s.to_json();
  CHECK(stored.is_array());
  check_reads_back(stored, s);
}

TEST_CASE("a running clock is stored without its trailing defaults", "[sla][state]") {
  ClockState s;
  s.status = ClockStatus::kRunning;
  s.cycle = 1;
  s.started_at = 1'773'046'800'000;
  s.target_ms = 8 * 3'600'000;
  s.target_source = "8h";
  s.running_since = s.started_at;
  s.planned_breach_at = s.started_at + s.target_ms;
  s.original_breach_at = s.planned_breach_at;
  json stored = s.to_json();
  CHECK(stored == json::array({1, 1, 1'773'046'800'000, 28'800'000, 1'773'046'800'000,
                               1'773'075'600'000, 1'773'075'600'000, "8h"}));
  check_reads_back(stored, s);
}

TEST_CASE("an instant at the epoch is kept apart from an absent one", "[sla][state]") {
  ClockState s;
  s.status = ClockStatus::kPaused;
  s.paused_at = 0;
  auto back = ClockState::from_json(s.to_json());
  REQUIRE(back);
  CHECK(back->paused_at == std::optional<std::int64_t>(0));
  CHECK_FALSE(back->running_since);
}

TEST_CASE("a pending clock that never started is stored as its status alone", "[sla][state]") {
  CHECK(ClockState{}.to_json() == json::array({0}));
}

TEST_CASE("the object form of earlier versions is still read", "[sla][state]") {
  json legacy = {{"status", "completed"},
                 {"cycle", 3},
                 {"breached", true},
                 {"requested_at_ms", 1'700'000'000'000},
                 {"started_at_ms", 1'700'000'100'000},
                 {"target_ms", 8 * 3'600'000},
                 {"target_source", "priority=P1"},
                 {"business_ms", 9 * 3'600'000},
                 {"paused_ms", 60'000},
                 {"paused_business_ms", 30'000},
                 {"pauses", 2},
                 {"running_since_ms", 1'700'000'200'000},
                 {"paused_at_ms", 1'700'000'300'000},
                 {"planned_breach_ms", 1'700'000'400'000},
                 {"original_breach_ms", 1'700'000'500'000},
                 {"breached_at_ms", 1'700'000'600'000},
                 {"ended_at_ms", 1'700'000'700'000},
                 {"warned", {50, 75}}};
  check_reads_back(legacy, every_field_set());
}

TEST_CASE("a malformed stored clock state is an error, not a guess", "[sla][state]") {
  for (const json& bad :
       {json("running"), json::array(), json::array({9}), json::array({-1}),
        json::array({"running"}), json::array({1, "one"}), json::array({1, 1, 0, 0, "now"}),
        json::array({1, 1, 0, 0, 0, 0, 0, 8}),
        json::array({3, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "50"}), json::array({1, -1}),
        json::array({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}),
        json{{"status", "flying"}}}) {
    INFO(bad.dump());
    auto r = ClockState::from_json(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == flowgate::ErrorCode::kStorage);
  }
}

TEST_CASE("the state of a clock the instance never ran is pending", "[sla][state]") {
  json extra = {{"other", ClockState{}.to_json()}};
  auto st = clock_state(extra, "resolution");
  REQUIRE(st);
  CHECK(st->status == ClockStatus::kPending);
  CHECK(st->cycle == 0);
}
