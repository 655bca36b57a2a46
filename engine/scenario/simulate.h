// Simulation: drives N synthetic instances of one workflow through a real engine on the simulated
// clock, with random but valid choices, and reports what happened — the funnel, time in each
// stage, how instances ended, automatic escalations, and what the plugins report (SLA on-time
// rates, gate outcomes) through the callbacks the caller passes (this library does not link the
// plugins).
//
// How choices stay valid: an active instance fires one of the transitions leaving its state,
// chosen by weight; its payload is generated from the declared payload types and the bounds of the
// fields it is assigned to, and the pure core (fire_events) must confirm that the guard passes and
// that this transition is the one taken. A gated submission is then voted on by the gate's seats
// (one vote per step, a decision per round chosen by weight among those the gate allows).
// Instances arrive uniformly at random over `period`; each waits an exponentially distributed
// time between steps; the clock advances in ticks and fires the plugins' timers (SLA warnings,
// breaches, escalations) in due order. A tick's commands go to the engine in slices as they are
// chosen, so the writer works on the first while the rest are chosen, and they share group commits.
// Thread-safety: simulate() is reentrant; it runs its own engine.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "definition/section_registry.h"
#include "definition/workflow.h"
#include "runtime/hooks.h"
#include "store/records.h"
#include "util/diagnostic.h"
#include "util/error.h"

namespace flowgate::scenario {

struct SimulationConfig {
  std::int64_t instances = 1000;
  std::uint64_t seed = 1;
  std::int64_t start_ms = 1'772'409'600'000;           // 2026-03-02T00:00:00Z, a Monday
  std::int64_t period_ms = 30LL * 86'400'000;          // arrivals spread over this
  std::int64_t mean_delay_ms = 4LL * 3'600'000;        // mean wait between an instance's steps
  std::map<std::string, std::int64_t> state_delay_ms;  // per state, overrides mean_delay_ms
  std::int64_t tick_ms = 15LL * 60'000;                // commands due within a tick go together
  std::int64_t horizon_ms = 180LL * 86'400'000;        // nothing happens after start + horizon
  int max_steps = 200;                                 // per instance; then it is left open
  // Transition weights: key "#<index>", "<from>.<event>" or "<event>" (most specific wins);
  // default 1, 0 = never chosen.
  std::map<std::string, double> weights;
  // Gate decisions: "go", "hold", "kill", "recycle"; default go 6, hold 1, kill 1, recycle 1
  // (only those the gate declares are drawn).
  std::map<std::string, double> gate_weights;
};

// Reads a simulation file (docs/scenarios.md §Simulation): `period`, `delay`, `tick`, `horizon`,
// `max_steps`, `start_time`, `[state_delay]`, `[weights]`, `[gate_outcomes]`. Names are checked
// against `wf`; problems go to `diags` with their position.
bool load_simulation_config(const std::string& path, const Workflow& wf, SimulationConfig& config,
                            Diagnostics& diags);

// A plugin report over the recorded events (e.g. sla::clock_report), added under `name`.
struct ReportPart {
  std::string name;
  std::function<nlohmann::json(std::span<const EventRecord>)> compute;
};

struct SimulationRun {
  std::string db_path;                        // the database to create (must not exist)
  std::shared_ptr<const HookSet> hooks;       // plugins taking part
  const SectionRegistry* sections = nullptr;  // must outlive the call
  std::vector<ReportPart> reports;
  std::function<void(std::int64_t done, std::int64_t total)> progress;  // may be empty
};

// The report (JSON): {workflow, instances, seed, started_at, ended_at, commands, refused, events,
// wall_ms, funnel[{state, stage, reached}], time_in_stage[{stage, stays, mean, p50, p90, *_ms}],
// time_in_state[...], outcomes{terminal: {state: n}, open: {state: n}, stuck, step_limit},
// store{state → n, by lifecycle}, consistent, consistency[...], escalations{...}, <report parts>}.
Result<nlohmann::json> simulate(std::shared_ptr<const Workflow> wf, const SimulationConfig& config,
                                const SimulationRun& run);

// The report as text for people.
std::string format_simulation_report(const nlohmann::json& report);

}  // namespace flowgate::scenario
