// The JSON shapes the socket shows (and the CLI prints with --format json): one event of a
// history, a workflow summary for workflow.list and a full description for workflow.get.
// Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>

#include "definition/workflow.h"
#include "store/records.h"

namespace flowgate::server {

// {position, instance_id, seq, at, type, actor, body, request_id, prev_hash, hash}
nlohmann::json event_json(const EventRecord& e);

// {id, name, version, description, content_hash, states, transitions}
nlohmann::json workflow_summary(const Workflow& wf);

// The summary plus file, roles, fields, states, transitions (with guards) and the source text.
nlohmann::json workflow_detail(const Workflow& wf);

}  // namespace flowgate::server
