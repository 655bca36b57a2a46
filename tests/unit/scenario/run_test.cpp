// Running scenarios against a fresh engine: passing, failing with a diff, and coverage.
#include <catch2/catch.hpp>

#include "scenario/coverage.h"
#include "scenario_support.h"

using namespace flowgate;
using namespace scenario_test;

namespace {

scenario::ScenarioFile load(const std::string& path) {
  auto loaded = scenario::load_scenario_file(path, sections());
  INFO((loaded.diagnostics.empty() ? "" : loaded.diagnostics.items().front().to_string()));
  REQUIRE(loaded.ok());
  return *loaded.file;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

}  // namespace

TEST_CASE("a scenario whose expectations hold passes", "[scenario][run]") {
  auto file = load(fixture("passing.toml"));
  auto outcome = scenario::run_scenario(file, file.scenarios.at(0), run_options());
  INFO(joined(outcome.diff));
  CHECK(outcome.passed);
  CHECK(outcome.diff.empty());
  CHECK_FALSE(outcome.events.empty());
}

TEST_CASE("a wrong expectation fails at its step with expected and actual values",
          "[scenario][run]") {
  auto file = load(fixture("failing.toml"));
  auto outcome = scenario::run_scenario(file, file.scenarios.at(0), run_options());
  CHECK_FALSE(outcome.passed);
  std::string diff = joined(outcome.diff);
  INFO(diff);
  CHECK(diff.find("step 2 `fire grade`") != std::string::npos);
  CHECK(diff.find("- state = \"classified\"") != std::string::npos);
  CHECK(diff.find("+ state = \"graded\"") != std::string::npos);
  // The data matched; only mismatches are listed. The run stops at the failing step.
  CHECK(diff.find("priority") == std::string::npos);
  CHECK(diff.find("step 3") == std::string::npos);
}

TEST_CASE("a refusal nobody expected fails the scenario with the error", "[scenario][run]") {
  auto file = load(fixture("failing.toml"));
  auto outcome = scenario::run_scenario(file, file.scenarios.at(1), run_options());
  CHECK_FALSE(outcome.passed);
  std::string diff = joined(outcome.diff);
  INFO(diff);
  CHECK(diff.find("- error = (none)") != std::string::npos);
  CHECK(diff.find("+ error = \"forbidden (301)") != std::string::npos);
}

TEST_CASE("coverage lists what no scenario exercised", "[scenario][coverage]") {
  auto file = load(fixture("partial.toml"));
  scenario::Coverage coverage;
  auto outcome = scenario::run_scenario(file, file.scenarios.at(0), run_options());
  REQUIRE(outcome.passed);
  coverage.record(file, outcome.events);
  auto report = coverage.report();
  REQUIRE(report.size() == 1);
  const auto& c = report.front();
  CHECK(c.workflow == "itr@1");
  CHECK(c.total("transition") == file.workflow->transitions.size());
  CHECK(c.covered("transition") == 1);  // cancel
  CHECK(c.covered("state") == 2);       // registered, cancelled
  CHECK(c.total("clock outcome") == 14);
  CHECK(c.covered("clock outcome") == 0);
  CHECK_FALSE(coverage.complete());
}

TEST_CASE("the shipped workflows' scenario suites pass with full coverage", "[scenario][shipped]") {
  scenario::Coverage coverage;
  for (const char* name : {"itr.toml", "ltc.toml", "presales.toml"}) {
    auto file = load(shipped("tests/") + name);
    for (const auto& s : file.scenarios) {
      auto outcome = scenario::run_scenario(file, s, run_options());
      INFO(name << ": " << s.name << "\n" << joined(outcome.diff));
      CHECK(outcome.passed);
      coverage.record(file, outcome.events);
    }
  }
  for (const auto& c : coverage.report()) {
    for (const auto& item : c.items) {
      INFO(c.workflow << ": " << item.kind << " " << item.label);
      CHECK(item.covered);
    }
  }
}
