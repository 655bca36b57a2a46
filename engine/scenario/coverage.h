// What a set of scenarios exercised of each workflow they drive: states entered, transitions
// taken, gate outcomes decided (go, hold, and kill/recycle where the gate declares them) and clock
// outcomes (met, breached, and paused for clocks with a pause condition). Fed with the events each
// scenario recorded; lists what no scenario reached.
// Thread-safety: not synchronised; feed it from one thread.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "scenario/scenario.h"
#include "store/records.h"

namespace flowgate::scenario {

struct CoverageItem {
  std::string kind;   // "state", "transition", "gate outcome", "clock outcome"
  std::string label;  // "l1_handling", "#12 dispatch: ready_for_dispatch → l2_handling", ...
  SourceLocation where;
  bool covered = false;
};

struct WorkflowCoverage {
  std::string workflow;  // id
  std::string file;
  std::vector<CoverageItem> items;

  std::size_t covered(std::string_view kind) const;
  std::size_t total(std::string_view kind) const;
};

class Coverage {
 public:
  // Registers the workflow of `file` (once per workflow id and version).
  void add_workflow(const ScenarioFile& file);
  // Marks what `events` (of instances of `file`'s workflow) exercised.
  void record(const ScenarioFile& file, const std::vector<EventRecord>& events);

  std::vector<WorkflowCoverage> report() const;
  bool complete() const;

 private:
  struct Entry {
    std::shared_ptr<const Workflow> workflow;
    WorkflowFacts facts;
    std::set<std::string> states;
    std::set<std::size_t> transitions;
    std::set<std::pair<std::string, std::string>> gate_outcomes;
    std::set<std::pair<std::string, std::string>> clock_outcomes;
  };
  std::map<std::string, Entry> entries_;  // by "<id>@<version>"
};

}  // namespace flowgate::scenario
