#include "scenario/simulate.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <future>
#include <mutex>
#include <queue>
#include <random>
#include <unordered_map>

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>

#include "definition/value.h"
#include "runtime/catalog.h"
#include "runtime/clock.h"
#include "runtime/decide.h"
#include "runtime/engine.h"
#include "runtime/instance.h"
#include "runtime/lifecycle.h"

namespace flowgate::scenario {
namespace {

using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

constexpr std::uint16_t kNoState = 0xffff;
// Commands of a tick handed to the engine at a time. Small enough that the writer starts on a tick
// early (the rest queue meanwhile and go in the next group commit), large enough that a busy tick
// is not cut into many commits (100k ITR: 8,081 group commits as whole ticks, about 10,500-12,000
// in slices of 32; 8 made 15,700 and cost more CPU than it saved).
constexpr std::size_t kSlice = 32;

// One core move, kept compact: 100,000 instances make millions of them.
struct Move {
  std::uint32_t instance = 0;  // n of "<workflow>-<n>"
  std::uint16_t from = kNoState;
  std::uint16_t to = kNoState;
  std::int64_t at_ms = 0;
  bool automatic = false;  // fired by a plugin (an SLA breach escalating), not by a person
};

// What the commit listener keeps of the recorded events.
struct Recorder {
  struct TimerStep {
    std::uint32_t instance = 0;
    std::int64_t at_ms = 0;
    Event event;
  };
  std::mutex mu;
  std::vector<Move> moves;
  std::vector<EventRecord> plugin_events;  // bodies trimmed to what the plugin reports read
  std::vector<TimerStep> timer_events;     // recorded by timers since the simulation last looked
  std::int64_t events = 0;
};

std::uint32_t instance_number(const std::string& id) {
  auto dash = id.rfind('-');
  std::uint32_t n = 0;
  if (dash != std::string::npos) std::from_chars(id.data() + dash + 1, id.data() + id.size(), n);
  return n;
}

// Recorded by the engine itself (a timer: "flowgate:timer"), not by a simulated person.
bool is_automatic(const json& actor) {
  auto it = actor.find("principal");
  return it != actor.end() && it->is_string() &&
         it->get_ref<const std::string&>().starts_with("flowgate:");
}

json trimmed_body(const json& body) {
  static const char* kKeep[] = {"clock", "kind",  "cycle",    "met",     "business_elapsed_ms",
                                "gate",  "round", "decision", "workflow"};
  json out = json::object();
  for (const char* k : kKeep) {
    if (auto it = body.find(k); it != body.end()) out[k] = *it;
  }
  return out;
}

// --- weights and random values ---

class Chooser {
 public:
  Chooser(const Workflow& wf, const SimulationConfig& cfg, std::uint64_t seed)
      : wf_(wf), cfg_(cfg), rng_(seed) {
    for (const auto& t : wf.transitions) {
      auto it = cfg.weights.find(t.event);
      weight_.push_back(it != cfg.weights.end() ? it->second : 1.0);
    }
  }

  // "#<index>" over "<from>.<event>" over "<event>" (resolved in the constructor).
  double weight(const TransitionDef& t, const std::string& state) const {
    if (auto it = cfg_.weights.find("#" + std::to_string(t.index)); it != cfg_.weights.end()) {
      return it->second;
    }
    if (auto it = cfg_.weights.find(state + "." + t.event); it != cfg_.weights.end()) {
      return it->second;
    }
    return weight_[t.index];
  }

  std::mt19937_64& rng() { return rng_; }
  double uniform() { return std::uniform_real_distribution<double>(0, 1)(rng_); }
  std::int64_t between(std::int64_t lo, std::int64_t hi) {
    if (hi <= lo) return lo;
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng_);
  }
  std::int64_t delay(const std::string& state) {
    std::int64_t mean = cfg_.mean_delay_ms;
    if (auto it = cfg_.state_delay_ms.find(state); it != cfg_.state_delay_ms.end())
      mean = it->second;
    if (mean <= 0) return 0;
    return static_cast<std::int64_t>(std::exponential_distribution<double>(1.0 / mean)(rng_));
  }

  // A value of `type` within the bounds of `field` (when the payload lands in a field).
  json value(Type type, const std::vector<std::string>& members, const FieldDef* field,
             std::int64_t now_ms) {
    auto bound = [&](const std::optional<Value>& v, std::int64_t fallback) {
      return v && !v->is_null() ? v->as_int() : fallback;
    };
    switch (type) {
      case Type::kBool:
        return uniform() < 0.7;
      case Type::kInt: {
        std::int64_t lo = field ? bound(field->min, 1) : 1;
        std::int64_t hi = field ? bound(field->max, lo + 9) : lo + 9;
        return between(std::max<std::int64_t>(lo, lo == 0 ? 1 : lo), std::min(hi, lo + 400));
      }
      case Type::kDecimal:
      case Type::kMoney: {
        std::int64_t lo = field && field->min ? field->min->as_units() : 0;
        std::int64_t hi = field && field->max
                              ? field->max->as_units()
                              : lo + (type == Type::kMoney ? 100'000 : 100) * kDecimalScale;
        if (type == Type::kMoney) lo = std::max(lo, kDecimalScale);  // at least 1.00
        std::int64_t units = between(lo, hi);
        if (type == Type::kMoney) units -= units % 10'000;  // whole cents
        return format_decimal_units(units);
      }
      case Type::kEnum: {
        const auto& list = !members.empty() ? members : field ? field->enum_values : members;
        if (list.empty()) return "";
        return list[static_cast<std::size_t>(
            between(0, static_cast<std::int64_t>(list.size()) - 1))];
      }
      case Type::kDate:
        return format_date_days(now_ms / 86'400'000 + between(0, 90));
      case Type::kDateTime:
        return format_datetime_ms(now_ms);
      case Type::kDuration:
        return format_duration_ms(between(1, 8) * 3'600'000);
      case Type::kString:
      default: {
        std::size_t min_len =
            field && field->min ? static_cast<std::size_t>(field->min->as_int()) : 0;
        std::string s = fmt::format("sim-{:06}", between(0, 999'999));
        while (s.size() < min_len) s += "x";
        return s;
      }
    }
  }

  json payload(const TransitionDef& t, std::int64_t now_ms) {
    json out = json::object();
    for (const auto& p : t.payload) {
      if (!p.required && uniform() < 0.5) continue;
      const FieldDef* target = nullptr;
      for (const auto& a : t.set) {
        if (a.value.source() == "event." + p.name) target = &wf_.fields[a.field_index];
      }
      out[p.name] = value(p.type, p.enum_values, target, now_ms);
    }
    return out;
  }

  json start_data(std::int64_t now_ms) {
    json out = json::object();
    for (const auto& f : wf_.fields) {
      if (f.required && !f.default_value) out[f.name] = value(f.type, f.enum_values, &f, now_ms);
    }
    return out;
  }

  std::string gate_decision(const std::vector<std::string>& available) {
    std::vector<double> w;
    for (const auto& d : available) {
      auto it = cfg_.gate_weights.find(d);
      w.push_back(it != cfg_.gate_weights.end() ? it->second : d == "go" ? 6.0 : 1.0);
    }
    double total = 0;
    for (double x : w) total += x;
    if (total <= 0) return "go";
    double r = uniform() * total;
    for (std::size_t i = 0; i < w.size(); ++i) {
      if ((r -= w[i]) < 0) return available[i];
    }
    return available.back();
  }

 private:
  const Workflow& wf_;
  const SimulationConfig& cfg_;
  std::mt19937_64 rng_;
  std::vector<double> weight_;
};

// --- one synthetic instance ---

struct SimInstance {
  // Folded from the events its commands returned and the events its timers recorded (the commit
  // listener's copy), so choosing the next step needs no read of the store.
  InstanceState state;
  int steps = 0;
  std::string round_key;  // "<gate>#<round>" the decision below is for
  std::string decision;
  bool stuck = false;     // no transition could be taken
  bool at_limit = false;  // max_steps reached
};

Actor sim_actor(const Workflow& wf) {
  Actor a;
  a.principal = "sim-user";
  for (const auto& r : wf.roles) a.roles.push_back(r.id);
  return a;
}

// The next command of an active instance, or nullopt when nothing can be fired.
std::optional<Command> next_fire(const Workflow& wf, const SimInstance& inst, Chooser& chooser,
                                 std::int64_t now_ms, const Actor& actor) {
  const InstanceState* state = &inst.state;
  std::vector<const TransitionDef*> open;
  std::vector<double> weights;
  for (const auto& t : wf.transitions) {
    if (!t.leaves(state->state)) continue;
    double w = chooser.weight(t, state->state);
    if (w <= 0) continue;
    open.push_back(&t);
    weights.push_back(w);
  }
  while (!open.empty()) {
    double total = 0;
    for (double w : weights) total += w;
    double r = chooser.uniform() * total;
    std::size_t pick = open.size() - 1;
    for (std::size_t i = 0; i < open.size(); ++i) {
      if ((r -= weights[i]) < 0) {
        pick = i;
        break;
      }
    }
    const TransitionDef& t = *open[pick];
    std::optional<Command> fallback;
    for (int attempt = 0; attempt < 12; ++attempt) {
      Command c;
      c.kind = CommandKind::kFire;
      c.instance_id = state->id;
      c.event = t.event;
      c.payload = chooser.payload(t, now_ms);
      c.actor = actor;
      auto events = fire_events(wf, *state, c, now_ms);
      if (!events || events->empty()) continue;
      auto taken = events->front().body.value("transition", std::int64_t{-1});
      if (taken == static_cast<std::int64_t>(t.index)) return c;
      if (!fallback) fallback = std::move(c);
    }
    if (fallback) return fallback;
    open.erase(open.begin() + static_cast<std::ptrdiff_t>(pick));
    weights.erase(weights.begin() + static_cast<std::ptrdiff_t>(pick));
  }
  return std::nullopt;
}

// The next vote on the instance's open gate round, read from the gate plugin's share of the view.
std::optional<Command> next_vote(const Workflow& wf, SimInstance& inst, const InstanceHooks* gate,
                                 Chooser& chooser) {
  if (gate == nullptr) return std::nullopt;
  json view = json::object();
  gate->describe(wf, inst.state, view);
  json open = view.value("gate", json::object()).value("open", json());
  if (!open.is_object()) return std::nullopt;
  std::string key = fmt::format("{}#{}", open.value("gate", std::string()), open.value("round", 0));
  if (inst.round_key != key) {
    inst.round_key = key;
    inst.decision = chooser.gate_decision(open.value("decisions", std::vector<std::string>{"go"}));
  }
  std::string role;
  std::size_t taken = 0;
  for (const auto& seat : open.value("seats", json::array())) {
    auto voted = seat.value("voted_by", json::array()).size();
    if (voted < static_cast<std::size_t>(seat.value("seats", 1))) {
      role = seat.value("role", std::string());
      taken = voted;
      break;
    }
  }
  if (role.empty()) return std::nullopt;
  Command c;
  c.kind = CommandKind::kPlugin;
  c.plugin = "gate";
  c.action = "vote";
  c.instance_id = inst.state.id;
  c.actor.principal = fmt::format("sim-{}-{}", role, taken + 1);
  c.actor.roles = {role};
  json payload = {{"decision", inst.decision}, {"role", role}};
  json criteria = open.value("criteria", json::object());
  if (inst.decision == "go") {
    json answers = json::object(), scores = json::object();
    for (const auto& m : criteria.value("must_meet", json::array()))
      answers[m.value("id", "")] = true;
    for (const auto& s : criteria.value("should_meet", json::array())) {
      scores[s.value("id", "")] = s.value("max", 10);
    }
    if (!answers.empty()) payload["answers"] = answers;
    if (!scores.empty()) payload["scores"] = scores;
  } else {
    payload["reason"] = "simulated " + inst.decision;
  }
  c.payload = std::move(payload);
  return c;
}

// --- the report ---

struct Percentiles {
  std::int64_t count = 0;
  double mean = 0;
  std::int64_t p50 = 0, p90 = 0;
};

Percentiles percentiles(std::vector<std::int64_t>& v) {
  Percentiles p;
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  p.count = static_cast<std::int64_t>(v.size());
  long double sum = 0;
  for (auto x : v) sum += x;
  p.mean = static_cast<double>(sum / v.size());
  auto rank = [&](double q) {
    auto k = static_cast<std::size_t>(std::ceil(q / 100.0 * static_cast<double>(v.size())));
    return v[std::max<std::size_t>(k, 1) - 1];
  };
  p.p50 = rank(50);
  p.p90 = rank(90);
  return p;
}

std::string hours_text(std::int64_t ms) {
  if (ms < 60'000) return fmt::format("{}s", ms / 1000);
  std::int64_t d = ms / 86'400'000, h = ms / 3'600'000 % 24, m = ms / 60'000 % 60;
  std::string out;
  if (d) out += fmt::format("{}d", d);
  if (h) out += fmt::format("{}h", h);
  if (m && !d) out += fmt::format("{}m", m);
  return out.empty() ? "0s" : out;
}

json stay_rows(const std::map<std::string, std::vector<std::int64_t>>& stays,
               const std::vector<std::string>& order, const char* key) {
  json rows = json::array();
  for (const auto& name : order) {
    auto it = stays.find(name);
    if (it == stays.end()) continue;
    auto values = it->second;
    auto p = percentiles(values);
    rows.push_back({{key, name},
                    {"stays", p.count},
                    {"mean", hours_text(static_cast<std::int64_t>(p.mean))},
                    {"p50", hours_text(p.p50)},
                    {"p90", hours_text(p.p90)},
                    {"mean_ms", static_cast<std::int64_t>(p.mean)},
                    {"p50_ms", p.p50},
                    {"p90_ms", p.p90}});
  }
  return rows;
}

json core_report(const Workflow& wf, std::vector<Move>& moves) {
  std::stable_sort(moves.begin(), moves.end(),
                   [](const Move& a, const Move& b) { return a.instance < b.instance; });
  std::vector<std::int64_t> reached(wf.states.size(), 0);
  std::map<std::string, std::vector<std::int64_t>> by_state, by_stage;
  std::map<std::string, std::int64_t> automatic;
  auto stage_of = [&](std::uint16_t s) {
    const auto& st = wf.states[s];
    return st.stage.empty() ? st.id : st.stage;
  };
  std::size_t i = 0;
  std::vector<bool> seen(wf.states.size());
  while (i < moves.size()) {
    std::size_t j = i;
    std::fill(seen.begin(), seen.end(), false);
    std::int64_t state_since = 0, stage_since = 0;
    for (; j < moves.size() && moves[j].instance == moves[i].instance; ++j) {
      const Move& m = moves[j];
      if (m.to == kNoState) continue;
      if (!seen[m.to]) reached[m.to] += 1;
      seen[m.to] = true;
      if (m.automatic && m.from != kNoState) {
        automatic[fmt::format("{} -> {}", wf.states[m.from].id, wf.states[m.to].id)] += 1;
      }
      if (m.from == kNoState) {
        state_since = stage_since = m.at_ms;
        continue;
      }
      if (m.from == m.to) continue;
      by_state[wf.states[m.from].id].push_back(m.at_ms - state_since);
      state_since = m.at_ms;
      if (stage_of(m.from) != stage_of(m.to)) {
        by_stage[stage_of(m.from)].push_back(m.at_ms - stage_since);
        stage_since = m.at_ms;
      }
    }
    i = j;
  }
  json funnel = json::array();
  std::vector<std::string> state_order, stage_order;
  for (std::size_t s = 0; s < wf.states.size(); ++s) {
    const auto& st = wf.states[s];
    funnel.push_back({{"state", st.id},
                      {"stage", st.stage},
                      {"terminal", st.terminal},
                      {"reached", reached[s]}});
    state_order.push_back(st.id);
    std::string stage = st.stage.empty() ? st.id : st.stage;
    if (std::find(stage_order.begin(), stage_order.end(), stage) == stage_order.end()) {
      stage_order.push_back(stage);
    }
  }
  json escalations = json::array();
  for (const auto& [what, n] : automatic)
    escalations.push_back({{"transition", what}, {"count", n}});
  return {{"funnel", funnel},
          {"time_in_stage", stay_rows(by_stage, stage_order, "stage")},
          {"time_in_state", stay_rows(by_state, state_order, "state")},
          {"automatic_transitions", escalations}};
}

// Counts by (state, lifecycle) of the workflow's instances in the store, read from its file
// through a connection of our own (one GROUP BY rather than a view of every instance); called once
// the engine has stopped, so it sees everything the engine made durable and nothing else.
Result<std::map<std::pair<std::string, std::string>, std::int64_t>> store_counts(
    const std::string& db_path, const std::string& workflow) {
  std::map<std::pair<std::string, std::string>, std::int64_t> out;
  try {
    SQLite::Database db(db_path, SQLite::OPEN_READONLY);
    SQLite::Statement q(db,
                        "SELECT state, lifecycle, count(*) FROM instances WHERE workflow_id = ? "
                        "GROUP BY state, lifecycle");
    q.bind(1, workflow);
    while (q.executeStep()) {
      out[{q.getColumn(0).getString(), q.getColumn(1).getString()}] = q.getColumn(2).getInt64();
    }
  } catch (const SQLite::Exception& e) {
    return fail(ErrorCode::kStorage,
                fmt::format("cannot count the instances in {}: {}", db_path, e.what()));
  }
  return out;
}

}  // namespace

Result<json> simulate(std::shared_ptr<const Workflow> wf_ptr, const SimulationConfig& cfg,
                      const SimulationRun& run) {
  const Workflow& wf = *wf_ptr;
  if (cfg.instances < 0) return fail(ErrorCode::kInvalidArgument, "--instances must be at least 0");
  if (cfg.tick_ms <= 0) return fail(ErrorCode::kInvalidArgument, "the tick must be positive");
  auto wall_start = SteadyClock::now();
  auto catalog = std::make_shared<Catalog>();
  catalog->add(wf_ptr);
  auto clock = std::make_shared<SimulatedClock>(cfg.start_ms);
  EngineOptions opts;
  opts.db_path = run.db_path;
  opts.synchronous_full = false;
  opts.max_batch = 8192;
  opts.checkpoint_every = 1'000'000;
  opts.cache_capacity =
      static_cast<std::size_t>(std::max<std::int64_t>(cfg.instances, 1000)) + 1000;
  opts.hooks = run.hooks;
  opts.run_scheduler = false;
  opts.build_views = false;  // the simulation folds the returned events itself
  static const SectionRegistry kNoSections;
  std::unordered_map<std::string, std::uint16_t> state_no;
  for (std::size_t s = 0; s < wf.states.size(); ++s)
    state_no[wf.states[s].id] = static_cast<std::uint16_t>(s);
  auto state_index = [&](const json& v) {
    auto it = v.is_string() ? state_no.find(v.get<std::string>()) : state_no.end();
    return it == state_no.end() ? kNoState : it->second;
  };
  Recorder rec;  // declared before the engine: the engine's listener writes to it until it stops
  auto opened = Engine::open(opts, catalog, clock, run.sections ? *run.sections : kNoSections);
  if (!opened) return fail(opened.error());
  std::unique_ptr<Engine> engine = std::move(*opened);

  // What the reports read of a recorded event: core moves compactly, plugin events trimmed.
  // Called under rec.mu: by the listener for what timers recorded, by the simulation for what its
  // commands returned (one instance's events arrive in the order they were recorded either way).
  auto note = [&](const std::string& instance_id, std::int64_t seq, std::int64_t at_ms,
                  const Event& e, bool automatic) {
    const std::uint32_t number = instance_number(instance_id);
    if (e.type == events::kInstanceStarted) {
      rec.moves.push_back(
          {number, kNoState, state_index(e.body.value("state", json())), at_ms, false});
    } else if (e.type == events::kTransitioned) {
      rec.moves.push_back({number, state_index(e.body.value("from", json())),
                           state_index(e.body.value("to", json())), at_ms, automatic});
    } else if (e.type.find('.') != std::string::npos) {
      EventRecord slim;
      slim.instance_id = instance_id;
      slim.seq = seq;
      slim.at_ms = at_ms;
      slim.type = e.type;
      slim.body = trimmed_body(e.body);
      rec.plugin_events.push_back(std::move(slim));
    }
  };
  // On the writer thread: only what timers recorded is copied here (the simulation folds it into
  // its copy of the instance before the instance's next step); the rest comes back with the
  // commands' outcomes.
  auto listener = engine->subscribe([&](const std::vector<EventRecord>& events) {
    std::lock_guard lock(rec.mu);
    rec.events += static_cast<std::int64_t>(events.size());
    for (const auto& e : events) {
      if (!is_automatic(e.actor)) continue;
      Recorder::TimerStep step{instance_number(e.instance_id), e.at_ms, Event{e.type, e.body}};
      note(e.instance_id, e.seq, e.at_ms, step.event, true);
      rec.timer_events.push_back(std::move(step));
    }
  });

  Chooser chooser(wf, cfg, cfg.seed);
  Actor actor = sim_actor(wf);
  const HookSet* fold_hooks = run.hooks.get();
  const InstanceHooks* gate = run.hooks ? run.hooks->find("gate") : nullptr;
  std::vector<std::int64_t> arrivals(static_cast<std::size_t>(cfg.instances));
  for (auto& a : arrivals)
    a = cfg.start_ms + chooser.between(0, std::max<std::int64_t>(cfg.period_ms - 1, 0));
  std::sort(arrivals.begin(), arrivals.end());
  std::size_t next_arrival = 0;

  std::vector<SimInstance> instances;
  instances.reserve(arrivals.size());
  constexpr std::size_t kUnknown = std::numeric_limits<std::size_t>::max();
  std::vector<std::size_t> index_of;                 // instance number → index into instances
  using Due = std::pair<std::int64_t, std::size_t>;  // (due, index into instances)
  std::priority_queue<Due, std::vector<Due>, std::greater<>> agenda;
  const std::int64_t end_ms = cfg.start_ms + cfg.horizon_ms;
  std::int64_t commands = 0, refused = 0, stuck = 0, at_limit = 0;
  std::map<std::string, std::int64_t> refusals;

  // Folds an event the engine recorded into the simulation's copy of its instance; a fold the
  // engine's own apply did not make would leave the simulation choosing from a wrong state.
  auto fold = [&](SimInstance& inst, const Event& e, std::int64_t at_ms) -> Result<void> {
    if (auto ok = apply(inst.state, e, wf, at_ms, fold_hooks); !ok) {
      return fail(ErrorCode::kInternal,
                  fmt::format("the simulation cannot follow {} through its `{}` event: {}",
                              inst.state.id, e.type, ok.error().message));
    }
    return {};
  };

  std::vector<std::pair<std::size_t, std::future<Result<CommandOutcome>>>> pending;
  std::vector<Recorder::TimerStep> timed;
  std::vector<Command> tick_commands;
  std::vector<std::size_t> tick_targets;
  while (next_arrival < arrivals.size() || !agenda.empty()) {
    std::int64_t next = std::numeric_limits<std::int64_t>::max();
    if (next_arrival < arrivals.size()) next = arrivals[next_arrival];
    if (!agenda.empty()) next = std::min(next, agenda.top().first);
    if (next > end_ms) break;
    std::int64_t now = std::max(next, clock->now_ms());
    if (auto ok = engine->advance_clock(now); !ok) return fail(ok.error());
    std::int64_t tick_end = now + cfg.tick_ms;
    {
      std::lock_guard lock(rec.mu);
      timed.swap(rec.timer_events);
    }
    for (const auto& t : timed) {
      std::size_t idx = t.instance < index_of.size() ? index_of[t.instance] : kUnknown;
      if (idx == kUnknown) continue;  // not an instance of this simulation
      if (auto ok = fold(instances[idx], t.event, t.at_ms); !ok) return fail(ok.error());
    }
    timed.clear();

    pending.clear();
    // The tick's commands (on different instances) go to the engine in slices as they are chosen:
    // the writer decides and commits the first slice while the next are being chosen, and takes
    // whatever has queued meanwhile as one group commit.
    auto hand_over = [&] {
      if (tick_commands.empty()) return;
      auto answers = engine->submit_all(std::move(tick_commands));
      for (std::size_t i = 0; i < answers.size(); ++i) {
        pending.emplace_back(tick_targets[i], std::move(answers[i]));
      }
      tick_commands.clear();
      tick_targets.clear();
    };
    while (next_arrival < arrivals.size() && arrivals[next_arrival] < tick_end) {
      ++next_arrival;
      Command c;
      c.kind = CommandKind::kStart;
      c.workflow_id = wf.id;
      c.data = chooser.start_data(now);
      c.actor = actor;
      instances.emplace_back();
      tick_targets.push_back(instances.size() - 1);
      tick_commands.push_back(std::move(c));
      if (tick_commands.size() >= kSlice) hand_over();
    }
    while (!agenda.empty() && agenda.top().first < tick_end) {
      std::size_t idx = agenda.top().second;
      agenda.pop();
      SimInstance& inst = instances[idx];
      std::optional<Command> c;
      if (inst.state.lifecycle == Lifecycle::kAwaitingGate) {
        c = next_vote(wf, inst, gate, chooser);
      } else if (inst.state.lifecycle == Lifecycle::kActive) {
        if (inst.steps >= cfg.max_steps) {
          inst.at_limit = true;
          ++at_limit;
        } else {
          c = next_fire(wf, inst, chooser, now, actor);
          if (!c) {
            inst.stuck = true;
            ++stuck;
          }
        }
      }
      if (!c) continue;
      inst.steps += 1;
      tick_targets.push_back(idx);
      tick_commands.push_back(std::move(*c));
      if (tick_commands.size() >= kSlice) hand_over();
    }
    hand_over();
    // The answers are folded in the order the commands were chosen (the random draws for the
    // instances' next delays follow that order, so the slicing does not change the simulation).
    for (auto& [idx, fut] : pending) {
      SimInstance& inst = instances[idx];
      auto r = fut.get();
      ++commands;
      if (!r) {
        ++refused;
        refusals[std::string(error_code_name(r.error().code))] += 1;
        if (inst.state.id.empty()) continue;  // a refused start: nothing to drive
        // A vote the gate refuses (an exit that cannot be taken now) becomes a go next time.
        inst.decision = "go";
      } else {
        if (inst.state.id.empty() && !r->events.empty()) {
          inst.state.id = r->events.front().instance_id;
          std::uint32_t number = instance_number(inst.state.id);
          if (index_of.size() <= number) index_of.resize(number + 1, kUnknown);
          index_of[number] = idx;
        }
        for (auto& e : r->events) {
          Event ev{std::move(e.type), std::move(e.body)};
          if (auto ok = fold(inst, ev, e.at_ms); !ok) return fail(ok.error());
          // Locked per event, not around the folding: the writer's listener (which takes the
          // lock) keeps going while later slices of the tick are committed.
          std::lock_guard lock(rec.mu);
          note(e.instance_id, e.seq, e.at_ms, ev, false);
        }
      }
      if (inst.state.id.empty()) continue;
      if (inst.state.lifecycle == Lifecycle::kCompleted ||
          inst.state.lifecycle == Lifecycle::kCancelled) {
        continue;
      }
      agenda.push({now + std::max<std::int64_t>(chooser.delay(inst.state.state), 1), idx});
    }
    if (run.progress) run.progress(static_cast<std::int64_t>(next_arrival), cfg.instances);
  }
  auto final_now = clock->now_ms();
  engine->unsubscribe(listener);
  auto stats = engine->stats();
  // Stopping the engine (its last checkpoint) and reading the instances back from the store, and
  // computing the reports from the recorded events, are independent: they run side by side.
  auto counting = std::async(std::launch::async, [&engine, &wf, &run] {
    engine->stop();
    return store_counts(run.db_path, wf.id);
  });
  json core = core_report(wf, rec.moves);
  std::vector<json> parts;
  for (const auto& part : run.reports) parts.push_back(part.compute(rec.plugin_events));
  auto counts = counting.get();
  if (!counts) return fail(counts.error());

  json report = {{"workflow", wf.id},
                 {"version", wf.version},
                 {"instances", cfg.instances},
                 {"seed", cfg.seed},
                 {"started_at", format_datetime_ms(cfg.start_ms)},
                 {"ended_at", format_datetime_ms(final_now)},
                 {"commands", commands},
                 {"refused", refused},
                 {"refusals", refusals},
                 {"events", rec.events},
                 {"batches", stats.batches}};
  for (auto& [k, v] : core.items()) report[k] = std::move(v);

  // How instances ended, from the store, and whether it agrees with the events.
  json terminal = json::object(), open = json::object(), lifecycles = json::object();
  std::int64_t stored = 0;
  for (const auto& [key, n] : *counts) {
    const auto& [state, lifecycle] = key;
    stored += n;
    lifecycles[lifecycle] = lifecycles.value(lifecycle, std::int64_t{0}) + n;
    const StateDef* st = wf.state(state);
    json& bucket = st && st->terminal ? terminal : open;
    bucket[state] = bucket.value(state, std::int64_t{0}) + n;
  }
  report["outcomes"] = {{"terminal", terminal},
                        {"open", open},
                        {"by_lifecycle", lifecycles},
                        {"stuck", stuck},
                        {"step_limit", at_limit}};
  json problems = json::array();
  const json& funnel = report["funnel"];
  if (stored != cfg.instances) {
    problems.push_back(
        fmt::format("the store holds {} instances, {} were started", stored, cfg.instances));
  }
  for (const auto& row : funnel) {
    if (row["state"] == wf.initial && row["reached"] != cfg.instances) {
      problems.push_back(fmt::format("the funnel's initial state has {}, not {}",
                                     row["reached"].dump(), cfg.instances));
    }
    if (row["terminal"].get<bool>()) {
      std::int64_t in_store = terminal.value(row["state"].get<std::string>(), std::int64_t{0});
      if (row["reached"].get<std::int64_t>() != in_store) {
        problems.push_back(fmt::format("terminal state {}: {} reached it, {} in the store",
                                       row["state"].get<std::string>(), row["reached"].dump(),
                                       in_store));
      }
    }
  }
  // The simulation chose every step from its own fold of the recorded events: it must end where
  // the store says each instance is.
  std::map<std::pair<std::string, std::string>, std::int64_t> followed;
  for (const auto& inst : instances) {
    if (inst.state.id.empty()) continue;
    followed[{inst.state.state, std::string(lifecycle_name(inst.state.lifecycle))}] += 1;
  }
  if (followed != *counts) {
    for (const auto& [key, n] : followed) {
      auto it = counts->find(key);
      std::int64_t in_store = it == counts->end() ? 0 : it->second;
      if (in_store != n) {
        problems.push_back(
            fmt::format("{} ({}): the simulation followed {} instances there, the "
                        "store holds {}",
                        key.first, key.second, n, in_store));
      }
    }
    for (const auto& [key, n] : *counts) {
      if (!followed.count(key)) {
        problems.push_back(
            fmt::format("{} ({}): the store holds {} instances the simulation "
                        "did not follow there",
                        key.first, key.second, n));
      }
    }
  }
  report["consistent"] = problems.empty();
  report["consistency"] = problems;
  for (std::size_t i = 0; i < parts.size(); ++i) report[run.reports[i].name] = std::move(parts[i]);
  report["wall_ms"] =
      std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - wall_start)
          .count();
  return report;
}

}  // namespace flowgate::scenario
