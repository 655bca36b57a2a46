#include "scenario/runner.h"

#include <stdlib.h>

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "definition/value.h"
#include "runtime/catalog.h"
#include "runtime/clock.h"
#include "runtime/engine.h"

namespace flowgate::scenario {
namespace {

using nlohmann::json;

// A directory of its own for one scenario's database; removed with everything in it.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& parent) {
    std::error_code ec;
    std::filesystem::path base =
        parent.empty() ? std::filesystem::temp_directory_path(ec) : std::filesystem::path(parent);
    std::string pattern = (base / "flowgate-scenario-XXXXXX").string();
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string show(const json& j) { return j.is_null() ? "(none)" : j.dump(); }

class Differ {
 public:
  void compare(const std::string& what, const json& expected, const json& actual) {
    if (expected == actual) return;
    lines_.push_back(fmt::format("    - {} = {}", what, show(expected)));
    lines_.push_back(fmt::format("    + {} = {}", what, show(actual)));
  }
  void note(std::string line) { lines_.push_back("    " + std::move(line)); }
  bool clean() const { return lines_.empty(); }
  std::vector<std::string>& lines() { return lines_; }

 private:
  std::vector<std::string> lines_;
};

std::string error_text(const Error& e) {
  return fmt::format("{} ({}): {}", error_code_name(e.code), static_cast<int>(e.code), e.message);
}

json clock_view(const json& view, const std::string& id) {
  if (auto it = view.find("clocks"); it != view.end() && it->is_array()) {
    for (const auto& c : *it) {
      if (c.value("id", std::string()) == id) return c;
    }
  }
  return nullptr;
}

// Clock durations read in business hours, as the SLA plugin prints targets: "50h", "1h30m".
std::string hours_text(std::int64_t ms) {
  if (ms < 0) return "-" + hours_text(-ms);
  std::int64_t h = ms / 3'600'000, m = ms / 60'000 % 60, s = ms / 1000 % 60;
  std::string out;
  if (h) out += fmt::format("{}h", h);
  if (m) out += fmt::format("{}m", m);
  if (s || out.empty()) out += fmt::format("{}s", s);
  return out;
}

json seconds_as_hours(const json& s) {
  return s.is_number_integer() ? json(hours_text(s.get<std::int64_t>() * 1000)) : s;
}

json target_as_hours(const json& t) {
  auto ms = t.is_string() ? parse_duration_ms(t.get<std::string>()) : std::nullopt;
  return ms ? json(hours_text(*ms)) : t;
}

void compare_clock(Differ& d, const ClockExpectation& c, const json& view) {
  json actual = clock_view(view, c.clock);
  std::string p = "clocks." + c.clock;
  if (actual.is_null()) {
    d.compare(p, "a clock", nullptr);
    return;
  }
  if (c.status) d.compare(p + ".status", *c.status, actual.value("status", json()));
  if (c.breached) d.compare(p + ".breached", *c.breached, actual.value("breached", json()));
  if (c.met) d.compare(p + ".met", *c.met, actual.value("met", json()));
  if (c.time_left_ms) {
    d.compare(p + ".time_left", hours_text(*c.time_left_ms),
              seconds_as_hours(actual.value("time_left_s", json())));
  }
  if (c.elapsed_ms) {
    d.compare(p + ".elapsed", hours_text(*c.elapsed_ms),
              seconds_as_hours(actual.value("business_elapsed_s", json())));
  }
  if (c.target)
    d.compare(p + ".target", target_as_hours(*c.target),
              target_as_hours(actual.value("target", json())));
  if (c.cycle) d.compare(p + ".cycle", *c.cycle, actual.value("cycle", json()));
  if (c.planned_breach_ms) {
    d.compare(p + ".planned_breach_at", format_datetime_ms(*c.planned_breach_ms),
              actual.value("planned_breach_at", json()));
  }
}

void compare_gate(Differ& d, const GateExpectation& g, const json& view) {
  json gate = view.value("gate", json::object());
  json open = gate.is_object() ? gate.value("open", json()) : json();
  json last = gate.is_object() ? gate.value("last", json()) : json();
  if (g.open) {
    json expected = g.open->empty() ? json() : json(*g.open);
    d.compare("gate.open", expected, open.is_object() ? open.value("gate", json()) : json());
  }
  if (g.round)
    d.compare("gate.round", *g.round, open.is_object() ? open.value("round", json()) : json());
  if (g.votes) {
    json votes = open.is_object() ? json(open.value("votes", json::array()).size()) : json();
    d.compare("gate.votes", *g.votes, votes);
  }
  if (g.last)
    d.compare("gate.last", *g.last, last.is_object() ? last.value("decision", json()) : json());
}

void compare_view(Differ& d, const Expectation& e, const json& view,
                  const std::vector<EventRecord>& recorded) {
  if (e.state) d.compare("state", *e.state, view.value("state", json()));
  if (e.lifecycle) d.compare("lifecycle", *e.lifecycle, view.value("lifecycle", json()));
  json data = view.value("data", json::object());
  for (const auto& [field, expected] : e.data) {
    d.compare("data." + field, expected, data.value(field, json()));
  }
  for (const auto& field : e.unset) d.compare("data." + field, nullptr, data.value(field, json()));
  if (e.events) {
    json types = json::array();
    for (const auto& ev : recorded) types.push_back(ev.type);
    d.compare("events", *e.events, types);
  }
  if (e.allowed) {
    auto allowed = view.value("allowed_events", std::vector<std::string>{});
    std::sort(allowed.begin(), allowed.end());
    d.compare("allowed", *e.allowed, allowed);
  }
  for (const auto& c : e.clocks) compare_clock(d, c, view);
  if (e.gate) compare_gate(d, *e.gate, view);
}

class Run {
 public:
  Run(const ScenarioFile& file, const Scenario& s, const RunOptions& options)
      : file_(file), scenario_(s), options_(options), scratch_(options.scratch_dir) {}

  ScenarioOutcome go() {
    ScenarioOutcome out;
    out.file = file_.path;
    out.name = scenario_.name;
    out.where = scenario_.where;
    if (!open(out)) return out;
    for (std::size_t i = 0; i < scenario_.steps.size(); ++i) {
      const Step& step = scenario_.steps[i];
      Differ d;
      run_step(step, d);
      if (!d.clean()) {
        out.diff.push_back(fmt::format("  step {} `{}` ({}), at {}:", i + 1, step.label,
                                       step.where.to_string(),
                                       format_datetime_ms(clock_->now_ms())));
        for (auto& l : d.lines()) out.diff.push_back(std::move(l));
        break;
      }
    }
    out.passed = out.diff.empty();
    for (const auto& id : instances_) {
      if (auto h = engine_->history(id)) {
        out.events.insert(out.events.end(), h->begin(), h->end());
      }
    }
    engine_->stop();
    return out;
  }

 private:
  bool open(ScenarioOutcome& out) {
    if (scratch_.path().empty()) {
      out.diff.push_back("  could not create a scratch directory for the scenario's database");
      return false;
    }
    auto catalog = std::make_shared<Catalog>();
    catalog->add(file_.workflow);
    clock_ = std::make_shared<SimulatedClock>(scenario_.start_ms);
    EngineOptions opts;
    opts.db_path = scratch_.path() + "/scenario.db";
    opts.synchronous_full = false;
    opts.hooks = options_.hooks;
    opts.run_scheduler = false;
    static const SectionRegistry kNoSections;
    auto engine =
        Engine::open(opts, catalog, clock_, options_.sections ? *options_.sections : kNoSections);
    if (!engine) {
      out.diff.push_back("  the engine did not open: " + engine.error().to_string());
      return false;
    }
    engine_ = std::move(*engine);
    return true;
  }

  void run_step(const Step& step, Differ& d) {
    Result<void> done;
    if (step.kind == StepKind::kAdvance) {
      std::int64_t to = step.advance_to_ms ? *step.advance_to_ms
                                           : clock_->now_ms() + step.advance_by_ms.value_or(0);
      auto r = engine_->advance_clock(to);
      if (!r) done = fail(r.error());
    } else {
      Command c = step.command;
      if (step.kind != StepKind::kStart) {
        if (instance_.empty()) {
          d.note("no instance: the `start` step before this one was refused");
          return;
        }
        c.instance_id = instance_;
      }
      auto r = engine_->execute(std::move(c));
      if (!r) {
        done = fail(r.error());
      } else if (step.kind == StepKind::kStart) {
        instance_ = r->instance.value("instance_id", std::string());
        instances_.push_back(instance_);
        last_seq_ = 0;
      }
    }

    const Expectation& e = step.expect;
    if (!done) {
      if (!e.error) {
        d.compare("error", nullptr, error_text(done.error()));
        return;
      }
      if (done.error().code != *e.error) {
        d.compare("error", std::string(error_code_name(*e.error)), error_text(done.error()));
        return;
      }
    } else if (e.error) {
      d.compare("error", std::string(error_code_name(*e.error)), nullptr);
      return;
    }
    if (instance_.empty()) return;
    auto view = engine_->get(instance_);
    auto history = engine_->history(instance_);
    if (!view || !history) {
      d.note("the instance could not be read: " +
             (view ? history.error() : view.error()).to_string());
      return;
    }
    std::vector<EventRecord> recorded;
    for (const auto& ev : *history) {
      if (ev.seq > last_seq_) recorded.push_back(ev);
    }
    if (!history->empty()) last_seq_ = history->back().seq;
    compare_view(d, e, *view, recorded);
  }

  const ScenarioFile& file_;
  const Scenario& scenario_;
  const RunOptions& options_;
  ScratchDir scratch_;
  std::shared_ptr<SimulatedClock> clock_;
  std::unique_ptr<Engine> engine_;
  std::string instance_;
  std::vector<std::string> instances_;
  std::int64_t last_seq_ = 0;
};

}  // namespace

ScenarioOutcome run_scenario(const ScenarioFile& file, const Scenario& scenario,
                             const RunOptions& options) {
  Run run(file, scenario, options);
  return run.go();
}

}  // namespace flowgate::scenario
