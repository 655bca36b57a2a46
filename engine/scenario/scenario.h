// Scenario files (docs/scenarios.md): a workflow, a simulated start time and named scenarios, each
// a sequence of steps (start, fire, update, vote, recall, suspend, resume, cancel, advance the
// clock) with expectations after any step. load_scenario_file() parses and checks a file against
// its workflow, reporting every problem as a diagnostic `file:line:col: error[SCENARIO-...]`.
// Thread-safety: the model is plain values; loading is reentrant.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "definition/section_registry.h"
#include "definition/workflow.h"
#include "runtime/command.h"
#include "scenario/workflow_facts.h"
#include "util/diagnostic.h"

namespace flowgate::scenario {

// One expected SLA/OLA clock (any member left out is not checked).
struct ClockExpectation {
  std::string clock;
  std::optional<std::string> status;  // pending, running, paused, completed, cancelled
  std::optional<bool> breached;
  std::optional<bool> met;
  std::optional<std::int64_t> time_left_ms;  // as the view shows it (as of the last change)
  std::optional<std::int64_t> elapsed_ms;    // business time elapsed, as the view shows it
  std::optional<std::string> target;         // a duration ("4h", "1d" = 24h)
  std::optional<std::int64_t> cycle;
  std::optional<std::int64_t> planned_breach_ms;
  SourceLocation where;
};

// The pending gate review: `open` names the gate of the open round ("" = no open round).
struct GateExpectation {
  std::optional<std::string> open;
  std::optional<std::int64_t> round;
  std::optional<std::int64_t> votes;
  std::optional<std::string> last;  // decision of the latest closed round
  SourceLocation where;
};

struct Expectation {
  std::optional<std::string> state;
  std::optional<std::string> lifecycle;
  std::map<std::string, nlohmann::json> data;       // field → JSON of the field's type
  std::vector<std::string> unset;                   // fields expected not set
  std::optional<std::vector<std::string>> events;   // types the step recorded, in order
  std::optional<std::vector<std::string>> allowed;  // events allowed after the step (sorted)
  std::vector<ClockExpectation> clocks;
  std::optional<GateExpectation> gate;
  std::optional<ErrorCode> error;  // the step must be refused with this code
  bool empty() const;
};

enum class StepKind {
  kStart,
  kFire,
  kUpdate,
  kVote,
  kRecall,
  kSuspend,
  kResume,
  kCancel,
  kAdvance
};
std::string_view step_kind_name(StepKind k);

struct Step {
  StepKind kind = StepKind::kFire;
  Command command;  // the command to submit (all kinds but advance)
  std::optional<std::int64_t> advance_by_ms;
  std::optional<std::int64_t> advance_to_ms;
  std::string label;  // "fire grade", "advance 2h" for the report
  Expectation expect;
  SourceLocation where;
};

struct Scenario {
  std::string name;
  std::int64_t start_ms = 0;
  std::vector<Step> steps;
  SourceLocation where;
};

struct ScenarioFile {
  std::string path;
  std::shared_ptr<const Workflow> workflow;
  WorkflowFacts facts;
  std::vector<Scenario> scenarios;
};

struct ScenarioLoad {
  std::optional<ScenarioFile> file;  // empty when there are errors
  Diagnostics diagnostics;
  bool ok() const { return file.has_value(); }
};

// Scenario files larger than this are refused before parsing.
inline constexpr std::size_t kMaxScenarioFileBytes = 4 * 1024 * 1024;

// `sections` loads the workflow the file names (its plugin sections); it must know every plugin the
// workflow uses.
ScenarioLoad load_scenario_file(const std::string& path, const SectionRegistry& sections);
ScenarioLoad load_scenario_text(std::string_view text, const std::string& path,
                                const SectionRegistry& sections);

}  // namespace flowgate::scenario
