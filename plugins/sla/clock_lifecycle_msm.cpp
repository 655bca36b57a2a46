// Boost.MSM definition of the clock lifecycle. Compiled as C++17 (Boost.MSM 1.74 is ill-formed as
// C++20 with GCC 12). As for the instance lifecycle, a machine is built per query and restored
// into the current status through a hydration event; the transition table below is the single
// authority on which clock moves are legal.
#include <boost/mpl/vector.hpp>
#include <boost/msm/back/state_machine.hpp>
#include <boost/msm/front/functor_row.hpp>
#include <boost/msm/front/state_machine_def.hpp>

#include "plugins/sla/clock_lifecycle.h"

namespace flowgate::sla {
namespace {

namespace msm = boost::msm;
namespace mpl = boost::mpl;
using msm::front::Row;

template <ClockStatus S>
struct Restore {};
struct Start {};
struct Pause {};
struct Resume {};
struct Stop {};
struct Cancel {};
struct Reset {};

struct ClockDef : msm::front::state_machine_def<ClockDef> {
  template <ClockStatus S>
  struct Tracked : msm::front::state<> {
    template <class Event, class Fsm>
    void on_entry(const Event&, Fsm& fsm) {
      fsm.current = S;
    }
  };
  struct Restoring : msm::front::state<> {};
  using Pending = Tracked<ClockStatus::kPending>;
  using Running = Tracked<ClockStatus::kRunning>;
  using Paused = Tracked<ClockStatus::kPaused>;
  using Completed = Tracked<ClockStatus::kCompleted>;
  using Cancelled = Tracked<ClockStatus::kCancelled>;

  using initial_state = Restoring;

  // clang-format off
  struct transition_table : mpl::vector<
      Row<Restoring, Restore<ClockStatus::kPending>,   Pending>,
      Row<Restoring, Restore<ClockStatus::kRunning>,   Running>,
      Row<Restoring, Restore<ClockStatus::kPaused>,    Paused>,
      Row<Restoring, Restore<ClockStatus::kCompleted>, Completed>,
      Row<Restoring, Restore<ClockStatus::kCancelled>, Cancelled>,
      Row<Pending,   Start,  Running>,
      Row<Completed, Start,  Running>,
      Row<Cancelled, Start,  Running>,
      Row<Running,   Pause,  Paused>,
      Row<Paused,    Resume, Running>,
      Row<Running,   Stop,   Completed>,
      Row<Paused,    Stop,   Completed>,
      Row<Running,   Cancel, Cancelled>,
      Row<Paused,    Cancel, Cancelled>,
      Row<Running,   Reset,  Pending>,
      Row<Paused,    Reset,  Pending>
  > {};
  // clang-format on

  // A forbidden move is not a bug: record it instead of MSM's default assert.
  template <class Fsm, class Event>
  void no_transition(const Event&, Fsm&, int) {
    rejected = true;
  }

  ClockStatus current = ClockStatus::kPending;
  bool rejected = false;
};

using Machine = msm::back::state_machine<ClockDef>;

template <class Event>
std::optional<ClockStatus> run(Machine& m, const Event& e) {
  m.process_event(e);
  if (m.rejected) return std::nullopt;
  return m.current;
}

}  // namespace

std::optional<ClockStatus> clock_step(ClockStatus from, ClockEvent event) {
  Machine m;
  m.start();
  switch (from) {
    case ClockStatus::kPending:
      m.process_event(Restore<ClockStatus::kPending>{});
      break;
    case ClockStatus::kRunning:
      m.process_event(Restore<ClockStatus::kRunning>{});
      break;
    case ClockStatus::kPaused:
      m.process_event(Restore<ClockStatus::kPaused>{});
      break;
    case ClockStatus::kCompleted:
      m.process_event(Restore<ClockStatus::kCompleted>{});
      break;
    case ClockStatus::kCancelled:
      m.process_event(Restore<ClockStatus::kCancelled>{});
      break;
  }
  switch (event) {
    case ClockEvent::kStart:
      return run(m, Start{});
    case ClockEvent::kPause:
      return run(m, Pause{});
    case ClockEvent::kResume:
      return run(m, Resume{});
    case ClockEvent::kStop:
      return run(m, Stop{});
    case ClockEvent::kCancel:
      return run(m, Cancel{});
    case ClockEvent::kReset:
      return run(m, Reset{});
  }
  return std::nullopt;
}

}  // namespace flowgate::sla
