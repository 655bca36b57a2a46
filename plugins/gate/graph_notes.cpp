#include "plugins/gate/graph_notes.h"

#include <set>

#include <fmt/format.h>

#include "plugins/gate/gate_config.h"

namespace flowgate::gate {

namespace {

std::string quorum_text(const GateDef& g) {
  switch (g.quorum) {
    case QuorumRule::kAny:
      return "any one";
    case QuorumRule::kCount:
      return fmt::format("{} of {}", g.quorum_count, g.seat_count());
    case QuorumRule::kAll:
      return "all";
    case QuorumRule::kWeighted: {
      std::vector<std::int64_t> weights;
      for (const Seat& s : g.seats) weights.push_back(s.weight);
      return fmt::format("weighted {}, pass {} of {}", fmt::join(weights, "/"), g.pass_weight,
                         g.total_weight());
    }
  }
  return "all";
}

}  // namespace

void add_gate_graph_notes(const Workflow& wf, GraphAnnotations& notes) {
  const GateConfig* config = gate_config(wf);
  if (!config) return;
  for (const GateDef& g : config->gates) {
    std::vector<std::string> roles;
    for (const Seat& s : g.seats) {
      std::string seat = s.count > 1 ? fmt::format("{} x{}", s.role, s.count) : s.role;
      roles.push_back(s.role == g.chair ? seat + " (chair)" : seat);
    }
    std::string review = fmt::format("review: {} ({})", fmt::join(roles, ", "), quorum_text(g));
    std::set<std::size_t> exits_noted;
    for (std::size_t index : g.transitions) {
      notes.transition_notes[index].push_back(review);
      const TransitionDef& t = wf.transitions[index];
      for (const auto& [what, event] :
           {std::pair<const char*, const std::string*>{"kill", &g.kill_event},
            {"recycle", &g.recycle_event}}) {
        if (event->empty()) continue;
        std::vector<std::string> sources = t.from;
        if (t.from_any) {
          for (const StateDef& s : wf.states) {
            if (!s.terminal) sources.push_back(s.id);
          }
        }
        for (const std::string& state : sources) {
          auto candidates = wf.candidates(state, *event);
          if (candidates.empty()) continue;
          std::size_t exit = candidates.front()->index;
          if (exits_noted.insert(exit).second) {
            notes.transition_notes[exit].push_back(fmt::format("{} of gate {}", what, g.id));
          }
        }
      }
    }
  }
}

GraphAnnotations gate_graph_notes(const Workflow& wf) {
  GraphAnnotations notes;
  add_gate_graph_notes(wf, notes);
  return notes;
}

}  // namespace flowgate::gate
