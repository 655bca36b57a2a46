#include <catch2/catch.hpp>

#include "runtime/lifecycle.h"

using namespace flowgate;
using L = Lifecycle;
using E = LifecycleEvent;

TEST_CASE("an active instance can be suspended and resumed", "[lifecycle]") {
  CHECK(lifecycle_step(L::kActive, E::kSuspend) == L::kSuspended);
  CHECK(lifecycle_step(L::kSuspended, E::kResume) == L::kActive);
}

TEST_CASE("work is allowed only while active", "[lifecycle]") {
  CHECK(lifecycle_step(L::kActive, E::kWork) == L::kActive);
  CHECK_FALSE(lifecycle_step(L::kSuspended, E::kWork));
  CHECK_FALSE(lifecycle_step(L::kAwaitingGate, E::kWork));
  CHECK_FALSE(lifecycle_step(L::kCompleted, E::kWork));
  CHECK_FALSE(lifecycle_step(L::kCancelled, E::kWork));
}

TEST_CASE("a gate round holds an active instance until it is decided", "[lifecycle]") {
  CHECK(lifecycle_step(L::kActive, E::kAwaitGate) == L::kAwaitingGate);
  CHECK(lifecycle_step(L::kAwaitingGate, E::kGateDecided) == L::kActive);
  CHECK_FALSE(lifecycle_step(L::kSuspended, E::kAwaitGate));
}

TEST_CASE("any non-final lifecycle can be cancelled, final ones cannot", "[lifecycle]") {
  CHECK(lifecycle_step(L::kActive, E::kCancel) == L::kCancelled);
  CHECK(lifecycle_step(L::kSuspended, E::kCancel) == L::kCancelled);
  CHECK(lifecycle_step(L::kAwaitingGate, E::kCancel) == L::kCancelled);
  CHECK_FALSE(lifecycle_step(L::kCompleted, E::kCancel));
  CHECK_FALSE(lifecycle_step(L::kCancelled, E::kCancel));
}

TEST_CASE("nothing follows completion", "[lifecycle]") {
  for (E e : {E::kWork, E::kSuspend, E::kResume, E::kAwaitGate, E::kGateDecided, E::kComplete,
              E::kCancel, E::kMigrate}) {
    CHECK_FALSE(lifecycle_step(L::kCompleted, e));
  }
  CHECK(lifecycle_step(L::kActive, E::kComplete) == L::kCompleted);
}

TEST_CASE("migration keeps an active or suspended lifecycle", "[lifecycle]") {
  CHECK(lifecycle_step(L::kActive, E::kMigrate) == L::kActive);
  CHECK(lifecycle_step(L::kSuspended, E::kMigrate) == L::kSuspended);
  CHECK_FALSE(lifecycle_step(L::kAwaitingGate, E::kMigrate));
}

TEST_CASE("lifecycle names round-trip", "[lifecycle]") {
  for (L l : {L::kActive, L::kSuspended, L::kAwaitingGate, L::kCompleted, L::kCancelled}) {
    CHECK(parse_lifecycle(lifecycle_name(l)) == l);
  }
  CHECK_FALSE(parse_lifecycle("paused"));
}
