// What `flowgate report` needs to know about a process, read from its definition: the stages in
// order, each state's stage, which terminal states are wins (a completed journey) and which are
// losses, the support tier of each state, and the edges of its graph. The rules that derive these
// from the definition are documented in docs/report.md ("Reading the process"):
// - stages are ordered by the first state of each stage in the file;
// - a terminal state is a win when every path from the initial state to it passes through every
//   stage (no stage can be skipped on the way), a loss otherwise; with fewer than two stages no
//   terminal state is classified;
// - a state whose id is `l<N>_...` (L1, L2, L3 in the domain's words) belongs to tier N;
// - a data field `win_probability` (decimal 0..1) is the supporter's score of a deal, a data field
//   `satisfaction` (a number) the customer satisfaction recorded for an instance.
// Thread-safety: plain values.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "definition/workflow.h"

namespace flowgate::report {

// The data fields some measures read, by name (the shipped LTC and presales workflows record the
// score, ITR records satisfaction at the return visit).
inline constexpr const char* kScoreField = "win_probability";
inline constexpr const char* kSatisfactionField = "satisfaction";

struct StateShape {
  std::string id;
  std::string name;
  std::string stage;     // "" when the state has none
  int stage_index = -1;  // position of `stage` in ProcessShape::stages, -1 when none
  bool terminal = false;
  std::string outcome;  // terminal states: "won" or "lost"; "" when not classified
  int tier = 0;         // N for a state `l<N>_...`, 0 otherwise
};

struct EdgeShape {
  std::string from;
  std::string to;
  std::string event;
};

struct ProcessShape {
  std::string workflow_id;
  std::string name;
  int version = 0;
  std::string initial;
  std::vector<std::string> stages;  // in order of first appearance in the file
  std::vector<StateShape> states;   // file order
  std::vector<EdgeShape> edges;     // one per (from, to, event); `from = "*"` expanded
  bool scored = false;              // declares kScoreField: the report has score calibration
  bool rated = false;               // declares kSatisfactionField: the report has satisfaction

  const StateShape* state(std::string_view id) const;
  // The stage index of a state, -1 when unknown or without a stage.
  int stage_of(std::string_view state_id) const;
  // True for a non-terminal state of the last stage (the work that ends the journey).
  bool in_last_stage_work(std::string_view state_id) const;

  // {workflow, name, version, initial, stages: [...], states: [{id, name, stage, terminal,
  //  outcome, tier}], edges: [{from, to, event}]}
  nlohmann::json to_json() const;
};

ProcessShape process_shape(const Workflow& wf);

}  // namespace flowgate::report
