// What a scenario needs to know about a workflow's plugin sections without linking the plugins:
// the SLA/OLA clock ids ([sla.<id>], [ola.<id>]) and the stage gates ([gates.<id>]) with their
// outcomes and criteria. Read from the definition's own source text, whose format docs/sla.md and
// docs/gates.md fix; the plugins validated it when the workflow loaded.
// Thread-safety: plain values.
#pragma once

#include <string>
#include <vector>

#include "definition/workflow.h"

namespace flowgate::scenario {

struct ClockFacts {
  std::string id;
  std::string kind;     // "sla" or "ola"
  bool pauses = false;  // has a `pause` condition
};

struct GateFacts {
  std::string id;
  std::vector<std::string> outcomes;  // "go", "hold", then "kill"/"recycle" when declared
  std::vector<std::string> must_meet;
  std::vector<std::string> should_meet;
};

struct WorkflowFacts {
  std::vector<ClockFacts> clocks;  // file order
  std::vector<GateFacts> gates;    // file order

  const ClockFacts* clock(std::string_view id) const;
  const GateFacts* gate(std::string_view id) const;
  std::vector<std::string> clock_ids() const;
  std::vector<std::string> gate_ids() const;
};

// Never fails: a source that does not parse (it loaded, so it does) gives no facts.
WorkflowFacts workflow_facts(const Workflow& wf);

}  // namespace flowgate::scenario
