// Runs one scenario against a fresh engine: its own SQLite file in a scratch directory (removed
// afterwards), the simulated clock at the scenario's start time, the plugins the caller passes.
// Steps run in order; after each, the instance (with the plugins' clocks and gate views) and the
// events the step recorded are compared with the step's expectations. The first step that does
// not match ends the scenario with a diff of expected (-) against actual (+).
// Thread-safety: run_scenario may run concurrently for different scenarios.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "definition/section_registry.h"
#include "runtime/hooks.h"
#include "scenario/scenario.h"
#include "store/records.h"

namespace flowgate::scenario {

struct RunOptions {
  std::shared_ptr<const HookSet> hooks;       // plugins taking part; null = core only
  const SectionRegistry* sections = nullptr;  // for the engine's stored definitions; must outlive
  std::string scratch_dir;                    // where the databases go; "" = the system temp dir
};

struct ScenarioOutcome {
  std::string file;
  std::string name;
  SourceLocation where;
  bool passed = false;
  std::vector<std::string> diff;    // on failure: the failing step and its mismatches, indented
  std::vector<EventRecord> events;  // every event the scenario recorded (for coverage)
};

ScenarioOutcome run_scenario(const ScenarioFile& file, const Scenario& scenario,
                             const RunOptions& options);

}  // namespace flowgate::scenario
