// Boost.MSM definition of the instance lifecycle. Compiled as C++17 (Boost.MSM 1.74 is ill-formed
// as C++20 with GCC 12). A machine is built per query: it is restored into the current lifecycle
// through a hydration event from the `Restoring` pseudo-state, then given the event. The
// transition table below is the single authority on which lifecycle moves are legal.
#include <boost/mpl/vector.hpp>
#include <boost/msm/back/state_machine.hpp>
#include <boost/msm/front/functor_row.hpp>
#include <boost/msm/front/state_machine_def.hpp>

#include "runtime/lifecycle.h"

namespace flowgate {
namespace {

namespace msm = boost::msm;
namespace mpl = boost::mpl;
using msm::front::Row;

template <Lifecycle L>
struct Restore {};
struct Work {};
struct Suspend {};
struct Resume {};
struct AwaitGate {};
struct GateDecided {};
struct Complete {};
struct Cancel {};
struct Migrate {};

struct LifecycleDef : msm::front::state_machine_def<LifecycleDef> {
  template <Lifecycle L>
  struct Tracked : msm::front::state<> {
    template <class Event, class Fsm>
    void on_entry(const Event&, Fsm& fsm) {
      fsm.current = L;
    }
  };
  struct Restoring : msm::front::state<> {};
  using Active = Tracked<Lifecycle::kActive>;
  using Suspended = Tracked<Lifecycle::kSuspended>;
  using AwaitingGate = Tracked<Lifecycle::kAwaitingGate>;
  using Completed = Tracked<Lifecycle::kCompleted>;
  using Cancelled = Tracked<Lifecycle::kCancelled>;

  using initial_state = Restoring;

  // clang-format off
  struct transition_table : mpl::vector<
      Row<Restoring,    Restore<Lifecycle::kActive>,       Active>,
      Row<Restoring,    Restore<Lifecycle::kSuspended>,    Suspended>,
      Row<Restoring,    Restore<Lifecycle::kAwaitingGate>, AwaitingGate>,
      Row<Restoring,    Restore<Lifecycle::kCompleted>,    Completed>,
      Row<Restoring,    Restore<Lifecycle::kCancelled>,    Cancelled>,
      Row<Active,       Work,        Active>,
      Row<Active,       Suspend,     Suspended>,
      Row<Suspended,    Resume,      Active>,
      Row<Active,       AwaitGate,   AwaitingGate>,
      Row<AwaitingGate, GateDecided, Active>,
      Row<Active,       Complete,    Completed>,
      Row<Active,       Cancel,      Cancelled>,
      Row<Suspended,    Cancel,      Cancelled>,
      Row<AwaitingGate, Cancel,      Cancelled>,
      Row<Active,       Migrate,     Active>,
      Row<Suspended,    Migrate,     Suspended>
  > {};
  // clang-format on

  // A forbidden move is not a bug: record it instead of MSM's default assert.
  template <class Fsm, class Event>
  void no_transition(const Event&, Fsm&, int) {
    rejected = true;
  }

  Lifecycle current = Lifecycle::kActive;
  bool rejected = false;
};

using Machine = msm::back::state_machine<LifecycleDef>;

template <class Event>
std::optional<Lifecycle> run(Machine& m, const Event& e) {
  m.process_event(e);
  if (m.rejected) return std::nullopt;
  return m.current;
}

template <Lifecycle L>
void restore(Machine& m) {
  m.process_event(Restore<L>{});
}

}  // namespace

std::optional<Lifecycle> lifecycle_step(Lifecycle from, LifecycleEvent event) {
  Machine m;
  m.start();
  switch (from) {
    case Lifecycle::kActive:
      restore<Lifecycle::kActive>(m);
      break;
    case Lifecycle::kSuspended:
      restore<Lifecycle::kSuspended>(m);
      break;
    case Lifecycle::kAwaitingGate:
      restore<Lifecycle::kAwaitingGate>(m);
      break;
    case Lifecycle::kCompleted:
      restore<Lifecycle::kCompleted>(m);
      break;
    case Lifecycle::kCancelled:
      restore<Lifecycle::kCancelled>(m);
      break;
  }
  switch (event) {
    case LifecycleEvent::kWork:
      return run(m, Work{});
    case LifecycleEvent::kSuspend:
      return run(m, Suspend{});
    case LifecycleEvent::kResume:
      return run(m, Resume{});
    case LifecycleEvent::kAwaitGate:
      return run(m, AwaitGate{});
    case LifecycleEvent::kGateDecided:
      return run(m, GateDecided{});
    case LifecycleEvent::kComplete:
      return run(m, Complete{});
    case LifecycleEvent::kCancel:
      return run(m, Cancel{});
    case LifecycleEvent::kMigrate:
      return run(m, Migrate{});
  }
  return std::nullopt;
}

}  // namespace flowgate
