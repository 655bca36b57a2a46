// Simulation: synthetic instances through a real engine; the report agrees with what was created.
#include <SQLiteCpp/SQLiteCpp.h>
#include <catch2/catch.hpp>

#include "definition/loader.h"
#include "scenario/simulate.h"
#include "scenario_support.h"
#include "support/temp_dir.h"

using namespace flowgate;
using namespace scenario_test;
using nlohmann::json;

namespace {

std::shared_ptr<const Workflow> workflow(const std::string& name) {
  auto r = load_workflow_file(shipped(name), sections());
  REQUIRE(r.ok());
  return r.workflow;
}

json run(const std::string& name, scenario::SimulationConfig config, const std::string& db) {
  scenario::SimulationRun run;
  run.db_path = db;
  run.hooks = hooks();
  run.sections = &sections();
  auto report = scenario::simulate(workflow(name), config, run);
  INFO((report ? "" : report.error().to_string()));
  REQUIRE(report);
  return *report;
}

scenario::SimulationConfig sized(std::int64_t instances, std::uint64_t seed) {
  scenario::SimulationConfig config;
  config.instances = instances;
  config.seed = seed;
  return config;
}

std::int64_t reached(const json& report, const std::string& state) {
  for (const auto& row : report["funnel"]) {
    if (row["state"] == state) return row["reached"].get<std::int64_t>();
  }
  return -1;
}

std::int64_t sum(const json& counts) {
  std::int64_t n = 0;
  for (const auto& [k, v] : counts.items()) n += v.get<std::int64_t>();
  return n;
}

}  // namespace

TEST_CASE("every simulated instance enters the funnel and ends up counted once",
          "[scenario][simulate]") {
  testing::TempDir dir;
  auto config = sized(150, 11);
  auto report = run("itr.toml", config, dir.file("sim.db"));
  INFO(report.dump(2));
  CHECK(report["consistent"] == true);
  CHECK(reached(report, "registered") == 150);
  const json& outcomes = report["outcomes"];
  CHECK(sum(outcomes["terminal"]) + sum(outcomes["open"]) == 150);
  for (const auto& [state, n] : outcomes["terminal"].items()) CHECK(reached(report, state) == n);
  CHECK(report["commands"].get<std::int64_t>() >= 150);
}

TEST_CASE("instances moved by timers between their steps are followed to where the store has them",
          "[scenario][simulate]") {
  // Slow handling: OLA breaches escalate (a timer's transition) and SLA warnings set data between
  // the simulated people's steps; the simulation must choose from the state the timers left.
  testing::TempDir dir;
  auto config = sized(120, 21);
  config.period_ms = 3LL * 86'400'000;
  config.mean_delay_ms = 30LL * 3'600'000;
  auto report = run("itr.toml", config, dir.file("slow.db"));
  INFO(report["consistency"].dump(2));
  CHECK(report["consistent"] == true);
  CHECK_FALSE(report["automatic_transitions"].empty());
  CHECK(report["refused"] == 0);
}

TEST_CASE("the outcomes are what the database holds once the simulation is over",
          "[scenario][simulate]") {
  testing::TempDir dir;
  auto config = sized(200, 17);
  auto wf = workflow("itr.toml");
  auto report = run("itr.toml", config, dir.file("held.db"));
  REQUIRE(report["consistent"] == true);

  // Read the file on its own, instance by instance: every recorded event is in it, and each
  // instance is counted where it stands.
  SQLite::Database db(dir.file("held.db"), SQLite::OPEN_READONLY);
  CHECK(db.execAndGet("SELECT count(*) FROM events").getInt64() == report["events"]);
  json terminal = json::object(), open = json::object(), lifecycles = json::object();
  SQLite::Statement q(db, "SELECT state, lifecycle FROM instances");
  while (q.executeStep()) {
    std::string state = q.getColumn(0).getString(), lifecycle = q.getColumn(1).getString();
    const StateDef* st = wf->state(state);
    REQUIRE(st != nullptr);
    json& bucket = st->terminal ? terminal : open;
    bucket[state] = bucket.value(state, 0) + 1;
    lifecycles[lifecycle] = lifecycles.value(lifecycle, 0) + 1;
  }
  const json& outcomes = report["outcomes"];
  CHECK(outcomes["terminal"] == terminal);
  CHECK(outcomes["open"] == open);
  CHECK(outcomes["by_lifecycle"] == lifecycles);
  CHECK(sum(lifecycles) == 200);
}

TEST_CASE("a simulation is reproducible from its seed", "[scenario][simulate]") {
  testing::TempDir dir;
  scenario::SimulationConfig config;
  config.instances = 60;
  config.seed = 5;
  auto a = run("ltc.toml", config, dir.file("a.db"));
  auto b = run("ltc.toml", config, dir.file("b.db"));
  CHECK(a["funnel"] == b["funnel"]);
  CHECK(a["outcomes"] == b["outcomes"]);
  config.seed = 6;
  auto c = run("ltc.toml", config, dir.file("c.db"));
  CHECK(reached(c, "lead_captured") == 60);
}

TEST_CASE("weights steer the simulation and gates are voted on", "[scenario][simulate]") {
  testing::TempDir dir;
  scenario::SimulationConfig config;
  auto wf = workflow("presales.toml");
  config.period_ms = 5LL * 86'400'000;
  config.instances = 40;
  config.seed = 3;
  config.weights = {{"abandon", 0}};  // never abandoned directly: every end goes through a gate
  scenario::SimulationRun r;
  r.db_path = dir.file("p.db");
  r.hooks = hooks();
  r.sections = &sections();
  std::int64_t decided = 0;
  r.reports.push_back({"gates", [&](std::span<const EventRecord> events) {
                         for (const auto& e : events) decided += e.type == "gate.decided";
                         return json(decided);
                       }});
  auto report = scenario::simulate(wf, config, r);
  REQUIRE(report);
  CHECK((*report)["consistent"] == true);
  CHECK(decided > 0);
  CHECK(reached(*report, "kickoff") == 40);
}

TEST_CASE("a simulation file with unknown names and bad values is refused with positions",
          "[scenario][simulate]") {
  scenario::SimulationConfig config;
  Diagnostics diags;
  CHECK_FALSE(scenario::load_simulation_config(fixture("bad_simulation.toml"),
                                               *workflow("itr.toml"), config, diags));
  std::vector<std::pair<std::string, int>> found;
  for (const auto& d : diags.items()) found.push_back({d.rule, d.location.line});
  auto has = [&](const std::string& rule, int line) {
    return std::find(found.begin(), found.end(), std::make_pair(rule, line)) != found.end();
  };
  CHECK(has("SIMULATION-VALUE", 1));          // period = "five days"
  CHECK(has("SIMULATION-KEY-UNKNOWN", 2));    // stepz
  CHECK(has("SIMULATION-NAME-UNKNOWN", 5));   // resolv
  CHECK(has("SIMULATION-NAME-UNKNOWN", 6));   // l9_handling.escalate
  CHECK(has("SIMULATION-VALUE", 7));          // a negative weight
  CHECK(has("SIMULATION-NAME-UNKNOWN", 10));  // maybe
}

TEST_CASE("a simulation file sets the period, delays, weights and gate outcomes",
          "[scenario][simulate]") {
  scenario::SimulationConfig config;
  Diagnostics diags;
  REQUIRE(scenario::load_simulation_config(fixture("simulation.toml"), *workflow("itr.toml"),
                                           config, diags));
  CHECK(config.period_ms == 5LL * 86'400'000);
  CHECK(config.mean_delay_ms == 2LL * 3'600'000);
  CHECK(config.state_delay_ms.at("waiting_for_customer") == 8LL * 3'600'000);
  CHECK(config.max_steps == 60);
  CHECK(config.weights.at("l1_handling.escalate") == 0.5);
  CHECK(config.gate_weights.at("go") == 5);
}
