// Diagrams of a workflow: Graphviz DOT and Mermaid stateDiagram-v2 text, for `flowgate graph`, the
// docs and anyone who would rather look at a process than read it. States are grouped by stage,
// the initial state is entered from a start marker, terminal states are marked, and every
// transition is labelled with its event, guard (shortened when long), roles, priority and gate.
// Transitions with `from = "*"` leave one pseudo-state, "any open state", instead of being drawn
// from every non-terminal state; transitions with many sources meet in a junction first. Plugins
// add their own lines (SLA clocks, gate rounds) through GraphAnnotations. Everything that comes
// from the process file is escaped for the target syntax; the output depends only on the inputs (no
// clock, no hash order), so it can be committed and diffed. docs/diagrams.md describes the marks.
// Thread-safety: pure functions of their arguments.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "definition/workflow.h"

namespace flowgate {

// Extra label lines contributed by plugins, appended after the core lines.
struct GraphAnnotations {
  std::map<std::string, std::vector<std::string>> state_notes;       // by state id
  std::map<std::size_t, std::vector<std::string>> transition_notes;  // by TransitionDef::index
};

// Guards longer than this many characters are cut and end in "…" on diagram labels; what is
// shown is wrapped at spaces into lines of about kGraphGuardLineChars.
inline constexpr std::size_t kGraphGuardMaxChars = 100;
inline constexpr std::size_t kGraphGuardLineChars = 40;
// A transition with at least this many explicit source states is drawn through one small
// junction: unlabelled lines from the sources meet there, and one labelled arrow leaves it.
inline constexpr std::size_t kGraphJunctionMinSources = 3;

// A Graphviz digraph: one `subgraph "cluster_<stage>"` per stage, a point node for the start,
// terminal states drawn with a double border. Feed it to `dot -Tsvg`.
std::string to_dot(const Workflow& wf, const GraphAnnotations& notes = {});

// A Mermaid stateDiagram-v2: one composite state per stage, `[*] --> initial` and
// `terminal --> [*]`. Transitions between the same two states share one arrow (Mermaid cannot
// place several labels on parallel arrows or self-loops legibly). Renders on GitHub and with
// mermaid-cli.
std::string to_mermaid(const Workflow& wf, const GraphAnnotations& notes = {});

}  // namespace flowgate
