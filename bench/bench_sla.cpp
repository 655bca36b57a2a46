// SLA clocks at scale, through the real Engine (docs/sla.md §Figures):
//   1. arm: N instances started, each arming two clocks (a 24x7 SLA and an OLA on a weekday
//      calendar), on a simulated clock: time and rate;
//   2. fire: the simulated clock advanced past every due time, so all 2N breaches fire in due
//   order:
//      time and timers per second;
//   3. peak RSS of the process (the engine with its timer heap), target under 500 MB for N = 1M;
//   4. lateness under the system clock: 10,000 instances whose breach is due in the same second,
//      fired by the engine's scheduler: p50/p99 of the recorded lateness (command time - due) and
//      of the commit lateness (durable commit - due).
// Phases also give the process CPU time (all threads), steadier than wall time on a shared machine.
// Usage: bench_sla [--instances N] [--burst M] [--smoke]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>

#include "definition/loader.h"
#include "plugins/sla/sla_hooks.h"
#include "plugins/sla/sla_section.h"
#include "runtime/catalog.h"
#include "runtime/clock.h"
#include "runtime/engine.h"

using namespace flowgate;
using Steady = std::chrono::steady_clock;

namespace {

const char* kWorkflow = R"(
[workflow]
id = "t"
name = "Tickets"
version = 1
initial = "open"

[roles]
agent = "Agent"

[data.due_at]
type = "datetime"

[states.open]
[states.done]
terminal = true

[[transitions]]
from = "open"
to = "done"
event = "close"
roles = ["agent"]

[calendars.office]
timezone = "Europe/Berlin"
hours = { mon-fri = "08:00-18:00" }
annual_holidays = ["01-01", "12-25"]

[sla.a]
start = { enter = "open" }
stop = { enter = "done" }
target = "8h"

[ola.b]
calendar = "office"
start = { enter = "open" }
stop = { enter = "done" }
target = "4h"
)";

// The burst workflow: every instance breaches at its `due_at`.
const char* kBurstClock = R"(
[sla.d]
start = { enter = "open" }
stop = { enter = "done" }
deadline = "due_at"
)";

constexpr std::int64_t kT0 = 1'773'046'800'000;  // 2026-03-09T09:00:00Z, a Monday

double seconds_since(Steady::time_point t) {
  return std::chrono::duration<double>(Steady::now() - t).count();
}

// User + system CPU seconds of the whole process (every thread).
double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

long status_kb(const char* key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) return std::strtol(line.c_str() + std::strlen(key), nullptr, 10);
  }
  return -1;
}

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t pct(std::vector<std::int64_t> v, double p) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  auto rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size()) + 0.999999);
  return v[std::clamp<std::size_t>(rank, 1, v.size()) - 1];
}

struct Setup {
  SectionRegistry sections;
  std::shared_ptr<HookSet> hooks = std::make_shared<HookSet>();
  std::shared_ptr<const Workflow> wf;
};

Setup load(const std::string& extra) {
  Setup s;
  s.sections.add(std::make_shared<sla::SlaSectionHandler>());
  s.hooks->add(sla::make_sla_hooks());
  auto r = load_workflow_text(std::string(kWorkflow) + extra, "bench_sla.toml", s.sections);
  if (!r.ok()) {
    for (const auto& d : r.diagnostics.items()) std::fprintf(stderr, "%s\n", d.to_string().c_str());
    std::exit(1);
  }
  s.wf = r.workflow;
  return s;
}

std::unique_ptr<Engine> open_engine(const Setup& s, const std::string& db,
                                    std::shared_ptr<Clock> clock, bool scheduler) {
  auto catalog = std::make_shared<Catalog>();
  catalog->add(s.wf);
  EngineOptions o;
  o.db_path = db;
  o.synchronous_full = false;
  o.hooks = s.hooks;
  o.run_scheduler = scheduler;
  o.checkpoint_every = 1'000'000'000;
  auto e = Engine::open(o, catalog, std::move(clock), s.sections);
  if (!e) {
    std::fprintf(stderr, "open: %s\n", e.error().to_string().c_str());
    std::exit(1);
  }
  return std::move(*e);
}

// Starts `n` instances, keeping up to `window` commands in flight.
void start_many(Engine& engine, std::int64_t n, const nlohmann::json& data) {
  constexpr std::size_t kWindow = 8192;
  std::vector<std::future<Result<CommandOutcome>>> inflight;
  inflight.reserve(kWindow);
  auto drain = [&] {
    for (auto& f : inflight) {
      auto r = f.get();
      if (!r) {
        std::fprintf(stderr, "start: %s\n", r.error().to_string().c_str());
        std::exit(1);
      }
    }
    inflight.clear();
  };
  for (std::int64_t i = 0; i < n; ++i) {
    Command c;
    c.kind = CommandKind::kStart;
    c.workflow_id = "t";
    c.data = data;
    c.actor.principal = "bench";
    inflight.push_back(engine.submit(std::move(c)));
    if (inflight.size() == kWindow) drain();
  }
  drain();
}

}  // namespace

int main(int argc, char** argv) {
  std::int64_t instances = 1'000'000;
  std::int64_t burst = 10'000;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--smoke") {
      instances = 2'000;
      burst = 500;
    } else if (a == "--instances" && i + 1 < argc) {
      instances = std::atoll(argv[++i]);
    } else if (a == "--burst" && i + 1 < argc) {
      burst = std::atoll(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: bench_sla [--instances N] [--burst M] [--smoke]\n");
      return 2;
    }
  }
  auto dir =
      std::filesystem::temp_directory_path() / ("flowgate-bench-sla-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);

  // --- 1-3: arm and fire on a simulated clock --------------------------------------------------
  {
    Setup s = load("");
    auto clock = std::make_shared<SimulatedClock>(kT0);
    auto engine = open_engine(s, (dir / "arm.db").string(), clock, false);
    auto t = Steady::now();
    double cpu = cpu_seconds();
    start_many(*engine, instances, nlohmann::json::object());
    double arm_s = seconds_since(t);
    std::printf(
        "arm:   %lld instances x 2 clocks in %.2f s (%.0f instances/s, %.0f clocks/s), CPU %.2f "
        "s\n",
        static_cast<long long>(instances), arm_s, instances / arm_s, 2 * instances / arm_s,
        cpu_seconds() - cpu);
    std::printf("       RSS after arming %.1f MB\n", status_kb("VmRSS:") / 1024.0);
    auto next = engine->next_timer_due();
    std::printf("       first due %s\n", next ? format_datetime_ms(*next).c_str() : "(none)");

    auto before = engine->stats();
    t = Steady::now();
    cpu = cpu_seconds();
    auto advanced = engine->advance_clock(kT0 + 10 * 3'600'000LL);
    double fire_s = seconds_since(t);
    double fire_cpu = cpu_seconds() - cpu;
    if (!advanced) {
      std::fprintf(stderr, "advance: %s\n", advanced.error().to_string().c_str());
      return 1;
    }
    auto after = engine->stats();
    std::uint64_t fired = after.commands - before.commands;
    std::printf("fire:  %llu timers in %.2f s (%.0f timers/s), %llu events, CPU %.2f s\n",
                static_cast<unsigned long long>(fired), fire_s, fired / fire_s,
                static_cast<unsigned long long>(after.events - before.events), fire_cpu);
    if (fired != static_cast<std::uint64_t>(2 * instances) || engine->next_timer_due()) {
      std::fprintf(stderr, "expected %lld timers to fire, %llu did\n",
                   static_cast<long long>(2 * instances), static_cast<unsigned long long>(fired));
      return 1;
    }
    engine->stop();
    std::printf("peak:  RSS %.1f MB (VmHWM) for %lld instances with %lld armed clocks\n",
                status_kb("VmHWM:") / 1024.0, static_cast<long long>(instances),
                static_cast<long long>(2 * instances));
  }

  // --- 4: lateness of a burst under the system clock ------------------------------------------
  {
    Setup s = load(kBurstClock);
    auto engine =
        open_engine(s, (dir / "burst.db").string(), std::make_shared<SystemClock>(), true);
    std::mutex mu;
    std::vector<std::int64_t> recorded, committed;
    engine->subscribe([&](const std::vector<EventRecord>& events) {
      std::int64_t now = wall_ms();
      std::lock_guard lock(mu);
      for (const auto& e : events) {
        if (e.type != "sla.breached" || e.body.value("clock", "") != "d") continue;
        recorded.push_back(e.body.value("lateness_ms", std::int64_t{-1}));
        auto due = parse_datetime_ms(e.body.value("due_at", std::string()));
        committed.push_back(due ? now - *due : -1);
      }
    });
    // Due at the start of a whole second, far enough ahead to arm all of them first.
    std::int64_t due = (wall_ms() / 1000 + 3 + burst / 5'000) * 1000;
    auto t = Steady::now();
    start_many(*engine, burst, {{"due_at", format_datetime_ms(due)}});
    std::printf("burst: %lld timers armed in %.2f s, due %s\n", static_cast<long long>(burst),
                seconds_since(t), format_datetime_ms(due).c_str());
    for (int i = 0; i < 60'000; ++i) {
      {
        std::lock_guard lock(mu);
        if (static_cast<std::int64_t>(recorded.size()) >= burst) break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    engine->stop();
    std::lock_guard lock(mu);
    if (static_cast<std::int64_t>(recorded.size()) != burst) {
      std::fprintf(stderr, "only %zu of %lld breaches fired\n", recorded.size(),
                   static_cast<long long>(burst));
      return 1;
    }
    std::printf(
        "       lateness recorded (command time - due): p50 %lld ms, p99 %lld ms, max %lld ms\n",
        static_cast<long long>(pct(recorded, 50)), static_cast<long long>(pct(recorded, 99)),
        static_cast<long long>(pct(recorded, 100)));
    std::printf(
        "       lateness committed (durable - due):     p50 %lld ms, p99 %lld ms, max %lld ms\n",
        static_cast<long long>(pct(committed, 50)), static_cast<long long>(pct(committed, 99)),
        static_cast<long long>(pct(committed, 100)));
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return 0;
}
