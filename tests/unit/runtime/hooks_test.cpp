// The plugin hooks end to end through the engine, with a small "reminder" plugin: it arms a timer
// when an instance starts, records when it fired (and how late), holds `approve` until it is
// released by a plugin command, and refuses `requote` once the reminder has fired.
#include <catch2/catch.hpp>

#include <thread>

#include "runtime/decide.h"
#include "runtime/engine.h"
#include "runtime_support.h"
#include "support/temp_dir.h"

using namespace flowgate;
using flowgate::testing::actor;
using flowgate::testing::load_fixture;
using flowgate::testing::TempDir;
using nlohmann::json;

namespace {

constexpr std::int64_t kT0 = 1'767'261'600'000;  // 2026-01-01T10:00:00Z
constexpr std::int64_t kHour = 3'600'000;

class ReminderPlugin final : public InstanceHooks {
 public:
  explicit ReminderPlugin(std::int64_t delay_ms) : delay_ms_(delay_ms) {}
  std::string name() const override { return "reminder"; }

  TransitionVerdict before_transition(const HookContext&, const InstanceState& s,
                                      const TransitionDef& t,
                                      std::span<const Value>) const override {
    const json& r = s.extra.value("reminder", json::object());
    if (t.event == "requote" && r.value("fired", false)) {
      return TransitionVerdict::deny(Error(ErrorCode::kGate, "the reminder has fired"));
    }
    if (t.event == "approve") {
      return TransitionVerdict::hold({{"reminder.held", {{"transition", t.index}}}});
    }
    return TransitionVerdict::allow();
  }

  Result<std::vector<Event>> after_events(const HookContext& ctx, const InstanceState&,
                                          const InstanceState& after,
                                          std::span<const Event> events) const override {
    std::vector<Event> out;
    for (const auto& e : events) {
      if (e.type == events::kInstanceStarted) {
        out.push_back({"reminder.armed", {{"due", ctx.now_ms + delay_ms_}}});
      }
      if (e.type == events::kCompleted && after.extra.contains("reminder") &&
          !after.extra["reminder"].value("fired", false)) {
        out.push_back({"reminder.cancelled", json::object()});
      }
    }
    return out;
  }

  Result<std::vector<Event>> on_timer(const HookContext& ctx, const InstanceState&,
                                      const TimerRecord& t) const override {
    return std::vector<Event>{
        {"reminder.fired", {{"due", t.due_ms}, {"late_ms", ctx.now_ms - t.due_ms}}}};
  }

  Result<std::vector<Event>> on_command(const HookContext& ctx,
                                        const InstanceState& s) const override {
    if (ctx.command.action != "release") return InstanceHooks::on_command(ctx, s);
    const json& r = s.extra.value("reminder", json::object());
    if (!r.contains("held")) return fail(ErrorCode::kGate, "nothing is held");
    const TransitionDef& t = ctx.workflow.transitions.at(r["held"].get<std::size_t>());
    std::vector<Event> out{{"reminder.released", json::object()}};
    InstanceState released = s;
    released.lifecycle = Lifecycle::kActive;
    auto moved = transition_events(ctx.workflow, released, t, json::object(), ctx.now_ms);
    if (!moved) return fail(moved.error());
    out.insert(out.end(), moved->begin(), moved->end());
    return out;
  }

  Result<void> apply(InstanceState& s, const Event& e, const Workflow&,
                     std::int64_t) const override {
    json& r = s.extra["reminder"];
    if (e.type == "reminder.armed") {
      r = {{"due", e.body["due"]}, {"fired", false}};
    } else if (e.type == "reminder.fired") {
      r["fired"] = true;
      r["late_ms"] = e.body["late_ms"];
    } else if (e.type == "reminder.cancelled") {
      s.extra.erase("reminder");
    } else if (e.type == "reminder.held") {
      auto next = lifecycle_step(s.lifecycle, LifecycleEvent::kAwaitGate);
      if (!next) return fail(ErrorCode::kLifecycle, "cannot hold");
      s.lifecycle = *next;
      r["held"] = e.body["transition"];
    } else if (e.type == "reminder.released") {
      auto next = lifecycle_step(s.lifecycle, LifecycleEvent::kGateDecided);
      if (!next) return fail(ErrorCode::kLifecycle, "nothing held");
      s.lifecycle = *next;
      r.erase("held");
    }
    return {};
  }

  std::vector<TimerRecord> timers(const Workflow&, const InstanceState& s) const override {
    if (!s.extra.contains("reminder") || s.extra["reminder"].value("fired", true)) return {};
    return {
        TimerRecord{"reminder/nudge", s.id, s.extra["reminder"]["due"].get<std::int64_t>(), {}}};
  }

  void describe(const Workflow&, const InstanceState& s, json& view) const override {
    if (s.extra.contains("reminder")) view["reminder"] = s.extra["reminder"];
  }

 private:
  std::int64_t delay_ms_;
};

struct PluginHarness {
  TempDir dir;
  std::shared_ptr<Clock> clock;
  std::shared_ptr<HookSet> hooks = std::make_shared<HookSet>();
  std::unique_ptr<Engine> engine;
  SectionRegistry none;
  std::size_t timer_window = 65536;
  bool build_views = true;

  explicit PluginHarness(std::int64_t delay_ms,
                         std::shared_ptr<Clock> c = std::make_shared<SimulatedClock>(kT0))
      : clock(std::move(c)) {
    hooks->add(std::make_shared<ReminderPlugin>(delay_ms));
    open();
  }
  void open() {
    engine.reset();
    auto catalog = std::make_shared<Catalog>();
    catalog->add(load_fixture("tests/fixtures/runtime/deal.toml"));
    EngineOptions o;
    o.db_path = dir.file("hooks.db");
    o.hooks = hooks;
    o.timer_window = timer_window;
    o.build_views = build_views;
    auto e = Engine::open(o, catalog, clock, none);
    if (!e) FAIL(e.error().to_string());
    engine = std::move(*e);
  }
  std::string start() {
    Command c;
    c.kind = CommandKind::kStart;
    c.workflow_id = "deal";
    c.data = {{"customer", "Acme"}};
    c.request_id = "start-" + std::to_string(++starts);
    auto r = engine->execute(c);
    REQUIRE(r);
    return r->instance["instance_id"];
  }
  // Starts `n` instances one minute apart (their reminders fall due one minute apart).
  std::vector<std::string> start_minutes_apart(int n) {
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) {
      REQUIRE(engine->advance_clock(clock->now_ms() + 60'000));
      ids.push_back(start());
    }
    return ids;
  }
  // Every reminder fired exactly at its due time, in due order across the log.
  void check_fired_in_order(const std::vector<std::string>& ids) {
    std::int64_t last_position = 0;
    for (const auto& id : ids) {
      auto history = *engine->history(id);
      REQUIRE(history.size() == 3);
      CHECK(history[2].type == "reminder.fired");
      CHECK(history[2].at_ms == history[0].at_ms + kHour);
      CHECK(history[2].body["late_ms"] == 0);
      CHECK(history[2].position > last_position);
      last_position = history[2].position;
    }
  }
  int starts = 0;
  Result<CommandOutcome> fire(const std::string& id, std::string event, json payload, Actor who) {
    Command c;
    c.kind = CommandKind::kFire;
    c.instance_id = id;
    c.event = std::move(event);
    c.payload = std::move(payload);
    c.actor = std::move(who);
    return engine->execute(c);
  }
  std::vector<std::string> types(const std::string& id) {
    std::vector<std::string> out;
    auto history = engine->history(id);
    REQUIRE(history);
    for (const auto& e : *history) out.push_back(e.type);
    return out;
  }
};

SimulatedClock& sim(PluginHarness& h) { return static_cast<SimulatedClock&>(*h.clock); }

}  // namespace

TEST_CASE("a plugin's events are recorded with the command that caused them", "[hooks]") {
  PluginHarness h(kHour);
  std::string id = h.start();
  CHECK(h.types(id) == std::vector<std::string>{"instance_started", "reminder.armed"});
  auto view = h.engine->get(id);
  REQUIRE(view);
  CHECK((*view)["reminder"]["due"] == kT0 + kHour);
  CHECK(h.engine->next_timer_due() == kT0 + kHour);
}

TEST_CASE("advancing a simulated clock fires a timer exactly at its due time", "[hooks]") {
  PluginHarness h(kHour);
  std::string id = h.start();
  REQUIRE(h.engine->advance_clock(kT0 + kHour / 2));
  CHECK(h.types(id).size() == 2);
  auto now = h.engine->advance_clock(kT0 + 3 * kHour);
  REQUIRE(now);
  CHECK(*now == kT0 + 3 * kHour);
  auto history = *h.engine->history(id);
  REQUIRE(history.size() == 3);
  CHECK(history[2].type == "reminder.fired");
  CHECK(history[2].at_ms == kT0 + kHour);
  CHECK(history[2].body["late_ms"] == 0);
  CHECK_FALSE(h.engine->next_timer_due());
  CHECK(h.engine->advance_clock(kT0).error().code == ErrorCode::kInvalidArgument);
}

TEST_CASE("timers fire in due order across instances", "[hooks]") {
  PluginHarness h(kHour);
  std::string a = h.start();
  REQUIRE(h.engine->advance_clock(kT0 + 10 * 60'000));
  std::string b = h.start();
  REQUIRE(h.engine->advance_clock(kT0 + 5 * kHour));
  auto ha = *h.engine->history(a);
  auto hb = *h.engine->history(b);

  CHECK(ha.back().at_ms == kT0 + kHour);
  CHECK(hb.back().at_ms == kT0 + kHour + 10 * 60'000);
  CHECK(ha.back().position < hb.back().position);
}

TEST_CASE("armed timers survive a restart; one missed while down fires once, marked late",
          "[hooks]") {
  PluginHarness h(kHour);
  std::string id = h.start();
  h.engine.reset();  // the engine goes down with the timer armed
  sim(h).advance_to(kT0 + 4 * kHour);
  h.open();
  CHECK(h.engine->next_timer_due() == kT0 + kHour);
  REQUIRE(h.engine->advance_clock(kT0 + 4 * kHour));
  auto history = *h.engine->history(id);
  REQUIRE(history.back().type == "reminder.fired");
  CHECK(history.back().body["late_ms"] == 3 * kHour);
  REQUIRE(h.engine->advance_clock(kT0 + 9 * kHour));
  CHECK(h.engine->history(id)->size() == 3);  // once only
  h.open();
  CHECK_FALSE(h.engine->next_timer_due());
}

TEST_CASE("with the system clock, the scheduler fires due timers by itself", "[hooks]") {
  PluginHarness h(50, std::make_shared<SystemClock>());
  std::string id = h.start();
  for (int i = 0; i < 500 && h.types(id).size() < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto history = *h.engine->history(id);
  REQUIRE(history.size() == 3);
  CHECK(history[2].type == "reminder.fired");
  CHECK(history[2].body["late_ms"].get<std::int64_t>() >= 0);
  CHECK(history[2].actor["principal"] == "flowgate:timer");
}

TEST_CASE("a plugin can hold a transition until a plugin command releases it", "[hooks]") {
  PluginHarness h(kHour);
  std::string id = h.start();
  REQUIRE(h.fire(id, "quote", {{"amount", "150000"}}, actor("sam", {"SR"})));
  REQUIRE(h.fire(id, "close", json::object(), actor("ann", {"AR"})));
  auto held = h.fire(id, "approve", json::object(), actor("dora", {"director"}));
  REQUIRE(held);
  CHECK(held->instance["state"] == "approval");
  CHECK(held->instance["lifecycle"] == "awaiting_gate");
  auto blocked = h.fire(id, "lose", {{"reason", "x"}}, actor("ann", {"AR"}));
  REQUIRE_FALSE(blocked);
  CHECK(blocked.error().code == ErrorCode::kLifecycle);

  Command release;
  release.kind = CommandKind::kPlugin;
  release.instance_id = id;
  release.plugin = "reminder";
  release.action = "release";
  auto done = h.engine->execute(release);
  REQUIRE(done);
  CHECK(done->instance["state"] == "won");
  CHECK(done->instance["lifecycle"] == "completed");
  // Completion disarmed the pending reminder.
  CHECK_FALSE(h.engine->next_timer_due());
  release.action = "nonsense";
  CHECK_FALSE(h.engine->execute(release));
  release.plugin = "nope";
  CHECK(h.engine->execute(release).error().code == ErrorCode::kInvalidArgument);
}

TEST_CASE("a plugin can deny a transition with its own error", "[hooks]") {
  PluginHarness h(kHour);
  std::string id = h.start();
  REQUIRE(h.fire(id, "quote", {{"amount", "100"}}, actor("sam", {"SR"})));
  REQUIRE(h.engine->advance_clock(kT0 + 2 * kHour));
  auto denied = h.fire(id, "requote", {{"amount", "200"}}, actor("sam", {"SR"}));
  REQUIRE_FALSE(denied);
  CHECK(denied.error().code == ErrorCode::kGate);
}

TEST_CASE("replaying a history with the plugin reproduces the stored state", "[hooks]") {
  PluginHarness h(kHour);
  std::string id = h.start();
  REQUIRE(h.fire(id, "quote", {{"amount", "150000"}}, actor("sam", {"SR"})));
  REQUIRE(h.engine->advance_clock(kT0 + 2 * kHour));
  auto wf = load_fixture("tests/fixtures/runtime/deal.toml");
  InstanceState folded;
  folded.id = id;
  auto history = *h.engine->history(id);
  for (const auto& e : history) {
    REQUIRE(apply(folded, Event{e.type, e.body}, *wf, e.at_ms, h.hooks.get()));
  }
  auto view = *h.engine->get(id);
  CHECK(folded.state == view["state"]);
  CHECK(folded.extra["reminder"] == view["reminder"]);
  InstanceState without;
  without.id = id;
  bool refused = false;
  for (const auto& e : history) {
    HookSet empty;
    if (!apply(without, Event{e.type, e.body}, *wf, e.at_ms, &empty)) refused = true;
  }
  CHECK(refused);  // a plugin event with no plugin loaded is an error, not silently skipped
}

TEST_CASE("a second writer on the same database is refused with a clear error", "[engine]") {
  PluginHarness h(kHour);
  auto catalog = std::make_shared<Catalog>();
  EngineOptions o;
  o.db_path = h.dir.file("hooks.db");
  o.busy_timeout_ms = 100;
  SectionRegistry none;
  auto second = Engine::open(o, catalog, h.clock, none);
  REQUIRE_FALSE(second);
  CHECK(second.error().code == ErrorCode::kDatabaseLocked);
  CHECK_THAT(second.error().message, Catch::Contains("in use by another flowgate process"));
}

namespace {
class ThrowingPlugin final : public InstanceHooks {
 public:
  std::string name() const override { return "broken"; }
  Result<std::vector<Event>> after_events(const HookContext&, const InstanceState&,
                                          const InstanceState&,
                                          std::span<const Event> events) const override {
    for (const auto& e : events) {
      if (e.type == events::kTransitioned) throw std::runtime_error("plugin bug");
    }
    return std::vector<Event>{};
  }
};
}  // namespace

TEST_CASE("a plugin that throws fails only its command; the engine keeps serving", "[hooks]") {
  TempDir dir;
  auto hooks = std::make_shared<HookSet>();
  hooks->add(std::make_shared<ThrowingPlugin>());
  auto catalog = std::make_shared<Catalog>();
  catalog->add(load_fixture("tests/fixtures/runtime/deal.toml"));
  EngineOptions o;
  o.db_path = dir.file("broken.db");
  o.hooks = hooks;
  SectionRegistry none;
  auto engine = Engine::open(o, catalog, std::make_shared<SimulatedClock>(kT0), none);
  REQUIRE(engine);
  Command start;
  start.kind = CommandKind::kStart;
  start.workflow_id = "deal";
  start.data = {{"customer", "Acme"}};
  auto started = (*engine)->execute(start);
  REQUIRE(started);
  Command fire;
  fire.kind = CommandKind::kFire;
  fire.instance_id = started->instance["instance_id"];
  fire.event = "quote";
  fire.payload = {{"amount", "10"}};
  fire.actor = actor("sam", {"SR"});
  auto r = (*engine)->execute(fire);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kInternal);
  CHECK((*engine)->history(fire.instance_id)->size() == 1);
  auto again = (*engine)->execute(start);
  CHECK(again);
}

TEST_CASE("timers beyond the in-memory window wait in the store and fire in due order",
          "[hooks][timers]") {
  PluginHarness h(kHour);
  h.timer_window = 2;
  h.open();
  auto ids = h.start_minutes_apart(9);  // more than twice the window: the latest leave memory
  CHECK(h.engine->next_timer_due() == kT0 + 60'000 + kHour);
  REQUIRE(h.engine->advance_clock(kT0 + 3 * kHour));
  h.check_fired_in_order(ids);
  CHECK_FALSE(h.engine->next_timer_due());
}

TEST_CASE("after a restart the timer window is refilled from the store as timers fire",
          "[hooks][timers]") {
  PluginHarness h(kHour);
  auto ids = h.start_minutes_apart(7);
  h.timer_window = 2;
  h.open();
  CHECK(h.engine->next_timer_due() == kT0 + 60'000 + kHour);
  REQUIRE(h.engine->advance_clock(kT0 + kHour + 150'000));  // the first two fire
  CHECK(h.engine->history(ids[1])->size() == 3);
  CHECK(h.engine->history(ids[2])->size() == 2);
  CHECK(h.engine->next_timer_due() == kT0 + 3 * 60'000 + kHour);
  REQUIRE(h.engine->advance_clock(kT0 + 3 * kHour));
  h.check_fired_in_order(ids);
}

TEST_CASE("timers of many instances due at different instants fire at their own times",
          "[hooks][timers]") {
  PluginHarness h(kHour);
  auto ids = h.start_minutes_apart(40);
  auto before = h.engine->stats();
  REQUIRE(h.engine->advance_clock(kT0 + 3 * kHour));
  h.check_fired_in_order(ids);
  CHECK(h.engine->stats().commands - before.commands == 40);
}

TEST_CASE("without views the outcome carries the events; a request id still records the view",
          "[hooks]") {
  PluginHarness h(kHour);
  h.build_views = false;
  h.open();
  Command c;
  c.kind = CommandKind::kStart;
  c.workflow_id = "deal";
  c.data = {{"customer", "Acme"}};
  auto plain = h.engine->execute(c);
  REQUIRE(plain);
  CHECK(plain->instance.is_null());
  REQUIRE(plain->events.size() == 2);
  CHECK(plain->events[0].type == "instance_started");
  c.request_id = "with-view";
  auto viewed = h.engine->execute(c);
  REQUIRE(viewed);
  CHECK(viewed->instance["state"] == "open");
  auto again = h.engine->execute(c);
  REQUIRE(again);
  CHECK(again->replayed);
  CHECK(again->instance == viewed->instance);
}

TEST_CASE("many timers due at one instant pass through a small window, each firing once",
          "[hooks][timers]") {
  PluginHarness h(kHour);
  h.timer_window = 2;
  h.open();
  std::vector<std::string> ids;
  for (int i = 0; i < 9; ++i) ids.push_back(h.start());  // all due at kT0 + 1h
  h.timer_window = 3;
  h.open();  // and again from the store at restart
  CHECK(h.engine->next_timer_due() == kT0 + kHour);
  REQUIRE(h.engine->advance_clock(kT0 + 2 * kHour));
  for (const auto& id : ids) {
    auto history = *h.engine->history(id);
    REQUIRE(history.size() == 3);
    CHECK(history[2].type == "reminder.fired");
    CHECK(history[2].at_ms == kT0 + kHour);
  }
  CHECK_FALSE(h.engine->next_timer_due());
}
