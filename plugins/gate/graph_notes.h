// What the gates add to a workflow diagram (definition/graph.h GraphAnnotations): on each gated
// transition, who reviews it and how the votes count ("review: sales_director, finance (all)");
// on each kill and recycle exit, which gate's decision takes it ("kill of gate bid").
// The core already labels a gated transition "gate: <id>".
// Thread-safety: pure function.
#pragma once

#include "definition/graph.h"
#include "definition/workflow.h"

namespace flowgate::gate {

// Empty annotations when `wf` declares no gates.
GraphAnnotations gate_graph_notes(const Workflow& wf);

// Adds gate_graph_notes(wf) to `notes` (after what is already there).
void add_gate_graph_notes(const Workflow& wf, GraphAnnotations& notes);

}  // namespace flowgate::gate
