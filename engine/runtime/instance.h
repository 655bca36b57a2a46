// The in-memory state of one workflow instance: the fold of its events (apply). Data is held in
// slots, one per [data] field of the definition version the instance is pinned to, so guards
// evaluate without lookups or allocation.
// Thread-safety: plain values; the engine's writer owns the cached copies.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "definition/value.h"
#include "definition/workflow.h"
#include "runtime/lifecycle.h"
#include "store/records.h"
#include "util/error.h"

namespace flowgate {

struct InstanceState {
  std::string id;
  std::string workflow_id;
  int version = 0;
  std::string state;
  Lifecycle lifecycle = Lifecycle::kActive;
  std::vector<Value> data;  // slot i = Workflow::fields[i]; null = unset
  std::string business_key;
  std::int64_t last_seq = 0;  // number of events applied; the optimistic-concurrency version
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
  std::string head_hash;  // hash of the newest event (set by the recorder, not by apply)
  nlohmann::json extra = nlohmann::json::object();  // plugin state (SLA clocks, gate rounds)
};

// {field: json} for every set field, in field order of `wf`.
nlohmann::json data_to_json(const std::vector<Value>& data, const Workflow& wf);
// Parses {field: json} into slots of `wf`; unknown fields and type errors are kInvalidData.
Result<std::vector<Value>> data_from_json(const nlohmann::json& j, const Workflow& wf);

InstanceSnapshot to_snapshot(const InstanceState& s, const Workflow& wf);
Result<InstanceState> from_snapshot(const InstanceSnapshot& snap, const Workflow& wf);

// The shape callers see (CLI --format json, socket results):
// {instance_id, workflow, workflow_version, version, state, lifecycle, data, business_key?,
//  created_at, updated_at}. `version` is the instance's version (the number of events in its
// history), the value `expect_version` is compared with; `workflow_version` is the definition
// version the instance is pinned to.
nlohmann::json instance_view(const InstanceSnapshot& snap);

}  // namespace flowgate
