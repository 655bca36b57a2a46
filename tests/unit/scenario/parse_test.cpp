// Scenario files with mistakes: each gives a diagnostic with its rule, file, line and column.
#include <catch2/catch.hpp>

#include "scenario_support.h"

using namespace flowgate;
using namespace scenario_test;

namespace {

struct Found {
  std::string rule;
  int line;
  int column;
};

std::vector<Found> errors_of(const std::string& name) {
  auto loaded = scenario::load_scenario_file(fixture(name), sections());
  CHECK_FALSE(loaded.ok());
  std::vector<Found> out;
  for (const auto& d : loaded.diagnostics.items()) {
    INFO(d.to_string());
    CHECK(d.location.file.find("tests/fixtures/scenario/") != std::string::npos);
    out.push_back({d.rule, d.location.line, d.location.column});
  }
  return out;
}

bool has(const std::vector<Found>& found, const std::string& rule, int line) {
  for (const auto& f : found) {
    if (f.rule == rule && f.line == line && f.column > 0) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("a scenario file with a TOML syntax error points at the error", "[scenario][parse]") {
  auto found = errors_of("toml_error.toml");
  REQUIRE(found.size() == 1);
  CHECK(has(found, "SCENARIO-TOML", 6));
}

TEST_CASE("a scenario naming a workflow file that does not exist is refused", "[scenario][parse]") {
  CHECK(has(errors_of("unknown_workflow.toml"), "SCENARIO-WORKFLOW", 1));
}

TEST_CASE("a scenario whose workflow has errors lists the workflow's own diagnostics",
          "[scenario][parse]") {
  auto loaded = scenario::load_scenario_file(fixture("broken_workflow.toml"), sections());
  REQUIRE_FALSE(loaded.ok());
  bool workflow_rule = false, initial_unknown = false;
  for (const auto& d : loaded.diagnostics.items()) {
    workflow_rule |= d.rule == "SCENARIO-WORKFLOW";
    initial_unknown |= d.rule == "INITIAL-UNKNOWN" &&
                       d.location.file.find("broken_workflow_process.toml") != std::string::npos;
  }
  CHECK(workflow_rule);
  CHECK(initial_unknown);
}

TEST_CASE("an expected state the workflow lacks is refused with a suggestion",
          "[scenario][parse]") {
  auto loaded = scenario::load_scenario_file(fixture("unknown_state.toml"), sections());
  REQUIRE(loaded.diagnostics.items().size() == 1);
  const auto& d = loaded.diagnostics.items().front();
  CHECK(d.rule == "SCENARIO-STATE-UNKNOWN");
  CHECK(d.location.line == 9);
  CHECK(d.hint == "did you mean 'registered'?");
}

TEST_CASE("firing an event the workflow lacks is refused", "[scenario][parse]") {
  CHECK(has(errors_of("unknown_event.toml"), "SCENARIO-EVENT-UNKNOWN", 11));
}

TEST_CASE("an actor holding an undeclared role is refused", "[scenario][parse]") {
  CHECK(has(errors_of("unknown_role.toml"), "SCENARIO-ROLE-UNKNOWN", 12));
}

TEST_CASE("unknown data and payload fields are refused", "[scenario][parse]") {
  auto found = errors_of("unknown_field.toml");
  CHECK(has(found, "SCENARIO-FIELD-UNKNOWN", 8));   // start data
  CHECK(has(found, "SCENARIO-FIELD-UNKNOWN", 12));  // fire payload
}

TEST_CASE("expectations of the wrong type are refused, each at its own place",
          "[scenario][parse]") {
  auto found = errors_of("wrong_type.toml");
  CHECK(has(found, "SCENARIO-VALUE-TYPE", 9));   // state = 3
  CHECK(has(found, "SCENARIO-VALUE-TYPE", 10));  // an int field given "two"
  CHECK(has(found, "SCENARIO-VALUE-TYPE", 11));  // a clock status that does not exist
  CHECK(has(found, "SCENARIO-VALUE-TYPE", 12));  // an error code that does not exist
}

TEST_CASE("a clock step backwards is refused before anything runs", "[scenario][parse]") {
  CHECK(has(errors_of("clock_backwards.toml"), "SCENARIO-CLOCK-BACKWARDS", 14));
}

TEST_CASE("steps before a start, with two actions or none are refused", "[scenario][parse]") {
  auto found = errors_of("bad_steps.toml");
  CHECK(has(found, "SCENARIO-STEP", 7));
  CHECK(has(found, "SCENARIO-STEP", 12));
  CHECK(has(found, "SCENARIO-STEP", 14));
}

TEST_CASE("clocks and gates the workflow does not define are refused", "[scenario][parse]") {
  auto found = errors_of("unknown_clock_gate.toml");
  CHECK(has(found, "SCENARIO-CLOCK-UNKNOWN", 9));
  CHECK(has(found, "SCENARIO-GATE-UNKNOWN", 10));
}

TEST_CASE("a scenario file that is not a file is refused", "[scenario][parse]") {
  auto loaded = scenario::load_scenario_file(fixture("no_such_file.toml"), sections());
  REQUIRE_FALSE(loaded.ok());
  CHECK(loaded.diagnostics.items().front().rule == "SCENARIO-FILE");
}

TEST_CASE("a file without scenarios is refused", "[scenario][parse]") {
  auto loaded = scenario::load_scenario_text(
      "workflow = \"" + shipped("itr.toml") + "\"\nstart_time = 2026-03-09T07:40:00Z\n",
      fixture("inline.toml"), sections());
  REQUIRE_FALSE(loaded.ok());
  CHECK(loaded.diagnostics.items().front().rule == "SCENARIO-EMPTY");
}

TEST_CASE("a local date-time without a zone is refused with a hint", "[scenario][parse]") {
  auto loaded = scenario::load_scenario_text(
      "workflow = \"" + shipped("itr.toml") +
          "\"\nstart_time = 2026-03-09T07:40:00\n[[scenario]]\nname = \"x\"\n"
          "[[scenario.step]]\nstart = { channel = \"web\" }\n",
      fixture("inline.toml"), sections());
  REQUIRE_FALSE(loaded.ok());
  const auto& d = loaded.diagnostics.items().front();
  CHECK(d.rule == "SCENARIO-VALUE-TYPE");
  CHECK(d.location.line == 2);
  CHECK(d.hint.find("offset") != std::string::npos);
}

TEST_CASE("a valid scenario file becomes steps with commands and expectations",
          "[scenario][parse]") {
  auto loaded = scenario::load_scenario_file(fixture("passing.toml"), sections());
  INFO((loaded.diagnostics.empty() ? "" : loaded.diagnostics.items().front().to_string()));
  REQUIRE(loaded.ok());
  const auto& s = loaded.file->scenarios.at(0);
  CHECK(s.name == "graded and dispatched");
  REQUIRE(s.steps.size() == 3);
  CHECK(s.steps[1].command.event == "grade");
  CHECK(s.steps[1].command.actor.principal == "dora");
  CHECK(s.steps[1].command.actor.roles == std::vector<std::string>{"service_desk"});
  CHECK(s.steps[1].expect.data.at("priority") == "P1");
  CHECK(s.steps[2].expect.error == ErrorCode::kForbidden);
}
