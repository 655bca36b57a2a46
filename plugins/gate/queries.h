// Read queries over gate rounds for the CLI (`flowgate gate pending|show`) and the socket methods
// gate.pending and gate.show. The pure functions work on instance views as Engine::get returns them
// (they carry view["gate"], added by GateHooks::describe); the Engine overloads do the reads.
// docs/gates.md §Queries documents the JSON shapes.
// Thread-safety: the pure functions are reentrant; the Engine overloads use its read connections.
#pragma once

#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/command.h"
#include "runtime/engine.h"
#include "util/error.h"

namespace flowgate::gate {

// The open rounds in `views` that wait for `actor`: the actor holds the role of a seat nobody has
// filled, has not voted in the round, and did not submit it. Sorted by opening time, then id.
nlohmann::json pending_reviews(std::span<const nlohmann::json> views, const Actor& actor);

// Reads every instance awaiting a gate (optionally of one workflow) and returns
// pending_reviews() over them.
Result<nlohmann::json> pending_reviews(Engine& engine, const Actor& actor,
                                       const std::string& workflow_id = {});

// gate.show: {instance_id, workflow, state, lifecycle, rounds, open, last} of one instance view;
// open is null when no round is open, last is absent before the first round closed.
nlohmann::json gate_show(const nlohmann::json& view);

// Reads the instance and returns gate_show() of it.
Result<nlohmann::json> gate_show(Engine& engine, const std::string& instance_id);

}  // namespace flowgate::gate
