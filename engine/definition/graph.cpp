#include "definition/graph.h"

#include <set>
#include <string_view>
#include <tuple>

#include <fmt/format.h>

namespace flowgate {
namespace {

constexpr std::string_view kAnyStateLabel = "any open state";

// ---- Format-independent model of the picture ----------------------------------------------------

// Newlines, tabs and runs of spaces from the file become single spaces: a label line is one line.
std::string one_line(std::string_view text) {
  std::string out;
  bool pending_space = false;
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

bool is_continuation_byte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

std::size_t count_chars(std::string_view text) {
  std::size_t n = 0;
  for (char c : text) n += is_continuation_byte(c) ? 0 : 1;
  return n;
}

// Cuts `text` to at most `max_chars` characters (UTF-8 code points, never splitting one), the last
// being "…" when something was cut.
std::string shorten(std::string_view text, std::size_t max_chars) {
  if (count_chars(text) <= max_chars) return std::string(text);
  std::size_t chars = 0;
  std::size_t i = 0;
  for (; i < text.size(); ++i) {
    if (is_continuation_byte(text[i])) continue;
    if (chars == max_chars - 1) break;
    ++chars;
  }
  return std::string(text.substr(0, i)) + "…";
}

// Splits one line at spaces into lines of about `width` characters (a longer word stays whole).
std::vector<std::string> wrap(std::string_view text, std::size_t width) {
  std::vector<std::string> lines;
  std::string line;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find(' ', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view word = text.substr(start, end - start);
    if (!line.empty() && count_chars(line) + 1 + count_chars(word) > width) {
      lines.push_back(std::move(line));
      line.clear();
    }
    if (!line.empty()) line += ' ';
    line += word;
    start = end + 1;
  }
  if (!line.empty() || lines.empty()) lines.push_back(std::move(line));
  return lines;
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += sep;
    out += items[i];
  }
  return out;
}

void append_notes(std::vector<std::string>& lines, const std::vector<std::string>* notes) {
  if (notes == nullptr) return;
  for (const auto& note : *notes) lines.push_back(one_line(note));
}

// The label of a state, one entry per line, unescaped.
std::vector<std::string> state_lines(const StateDef& s, const GraphAnnotations& notes) {
  std::vector<std::string> lines{one_line(s.name.empty() ? s.id : s.name)};
  if (!s.owner.empty()) lines.push_back("owner: " + one_line(s.owner));
  auto it = notes.state_notes.find(s.id);
  append_notes(lines, it == notes.state_notes.end() ? nullptr : &it->second);
  return lines;
}

// The parts of a transition's label, unescaped.
struct TransitionLabel {
  std::string event;
  std::vector<std::string> guard;   // wrapped, bracketed; empty when unguarded
  std::string roles;                // "roles: a, b" or ""
  std::vector<std::string> extras;  // priority, gate, plugin notes
};

TransitionLabel label_of(const TransitionDef& t, const GraphAnnotations& notes) {
  TransitionLabel label;
  label.event = one_line(t.event);
  if (t.guard) {
    label.guard =
        wrap(shorten(one_line(t.guard->source()), kGraphGuardMaxChars), kGraphGuardLineChars);
    label.guard.front().insert(0, "[");
    label.guard.back() += "]";
  }
  if (!t.roles.empty()) {
    std::vector<std::string> roles;
    for (const auto& r : t.roles) roles.push_back(one_line(r));
    label.roles = "roles: " + join(roles, ", ");
  }
  if (t.priority != 0) label.extras.push_back(fmt::format("priority {}", t.priority));
  if (!t.gate.empty()) label.extras.push_back("gate: " + one_line(t.gate));
  auto it = notes.transition_notes.find(t.index);
  append_notes(label.extras, it == notes.transition_notes.end() ? nullptr : &it->second);
  return label;
}

// Lines for one arrow that stands for one or more transitions. An event or role list shared by
// all of them is written once.
std::vector<std::string> arrow_lines(const std::vector<TransitionLabel>& labels) {
  bool same_event = true;
  bool same_roles = true;
  for (const auto& l : labels) {
    same_event = same_event && l.event == labels.front().event;
    same_roles = same_roles && l.roles == labels.front().roles;
  }
  std::vector<std::string> lines;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const auto& l = labels[i];
    if (i == 0 || !same_event) lines.push_back(l.event);
    lines.insert(lines.end(), l.guard.begin(), l.guard.end());
    if (!l.roles.empty() && (!same_roles || i + 1 == labels.size())) lines.push_back(l.roles);
    lines.insert(lines.end(), l.extras.begin(), l.extras.end());
  }
  return lines;
}

struct StageGroup {
  std::string stage;  // "" for states without a stage
  std::vector<const StateDef*> states;
};

// Stages in order of first appearance in the file; unstaged states first.
std::vector<StageGroup> group_by_stage(const Workflow& wf) {
  std::vector<StageGroup> groups{{"", {}}};
  for (const auto& s : wf.states) {
    StageGroup* group = nullptr;
    for (auto& g : groups) {
      if (g.stage == s.stage) group = &g;
    }
    if (group == nullptr) group = &groups.emplace_back(StageGroup{s.stage, {}});
    group->states.push_back(&s);
  }
  return groups;
}

// One end of an arrow: a state, the "any open state" pseudo-state, or a junction.
struct Node {
  enum class Kind { kState, kAny, kJunction } kind = Kind::kState;
  std::string state;         // kState
  std::size_t junction = 0;  // kJunction: the index of its transition
};

struct Junction {
  std::size_t transition = 0;  // TransitionDef::index
  std::string stage;           // the stage all its sources and its target share, or ""
};

struct Arrow {
  Node from;
  Node to;
  std::vector<const TransitionDef*> transitions;  // empty: an unlabelled line into a junction
};

// The arrows of the diagram in file order, one per (source, transition), before any merging.
struct Picture {
  std::vector<StageGroup> groups;
  std::vector<Junction> junctions;
  std::vector<Arrow> arrows;
  bool any_state = false;
};

Picture picture_of(const Workflow& wf) {
  Picture p;
  p.groups = group_by_stage(wf);
  std::map<std::string_view, const std::string*> stages;
  for (const auto& s : wf.states) stages.emplace(s.id, &s.stage);
  auto stage_of = [&](const std::string& id) -> const std::string* {
    auto it = stages.find(id);
    return it == stages.end() ? nullptr : it->second;
  };
  for (const auto& t : wf.transitions) {
    Node target{Node::Kind::kState, t.to, 0};
    if (t.from_any) {
      p.any_state = true;
      p.arrows.push_back({Node{Node::Kind::kAny, "", 0}, target, {&t}});
      continue;
    }
    if (t.from.size() < kGraphJunctionMinSources) {
      for (const auto& from : t.from) {
        p.arrows.push_back({Node{Node::Kind::kState, from, 0}, target, {&t}});
      }
      continue;
    }
    const std::string* stage = stage_of(t.to);
    for (const auto& from : t.from) {
      const std::string* s = stage_of(from);
      if (stage == nullptr || s == nullptr || *s != *stage) stage = nullptr;
    }
    p.junctions.push_back({t.index, stage != nullptr ? *stage : ""});
    Node junction{Node::Kind::kJunction, "", t.index};
    for (const auto& from : t.from) {
      p.arrows.push_back({Node{Node::Kind::kState, from, 0}, junction, {}});
    }
    p.arrows.push_back({junction, target, {&t}});
  }
  return p;
}

std::vector<std::string> arrow_lines(const Arrow& a, const GraphAnnotations& notes) {
  std::vector<TransitionLabel> labels;
  for (const TransitionDef* t : a.transitions) labels.push_back(label_of(*t, notes));
  return arrow_lines(labels);
}

std::string workflow_title(const Workflow& wf) {
  return fmt::format("{} ({} v{})", one_line(wf.name.empty() ? wf.id : wf.name), one_line(wf.id),
                     wf.version);
}

constexpr std::string_view kGeneratedNote =
    "generated by `flowgate graph`; edit the process file, not this.";

// ---- DOT ----------------------------------------------------------------------------------------

// A DOT double-quoted string. Backslashes are doubled so that nothing from the file can form an
// escape sequence (\N, \G, \l, ...); our own line breaks are added as "\n" after escaping.
std::string dot_quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        break;
      default:
        out += c;
    }
  }
  out += '"';
  return out;
}

std::string dot_label(const std::vector<std::string>& lines) {
  std::vector<std::string> escaped;
  for (const auto& line : lines) {
    std::string quoted = dot_quote(line);
    escaped.push_back(quoted.substr(1, quoted.size() - 2));
  }
  return "\"" + join(escaped, "\\n") + "\"";
}

// Node ids: state ids quoted; pseudo-nodes use brackets, which no valid state id contains.
std::string dot_node(const Node& n) {
  switch (n.kind) {
    case Node::Kind::kAny:
      return "\"[any]\"";
    case Node::Kind::kJunction:
      return fmt::format("\"[junction {}]\"", n.junction);
    case Node::Kind::kState:
      break;
  }
  return dot_quote(n.state);
}

void dot_state(std::string& out, const Workflow& wf, const StateDef& s,
               const GraphAnnotations& notes, std::string_view indent) {
  std::string attrs = "label=" + dot_label(state_lines(s, notes));
  std::string tooltip = s.id;
  if (!s.description.empty()) tooltip += ": " + one_line(s.description);
  attrs += ", tooltip=" + dot_quote(tooltip);
  if (s.id == wf.initial) attrs += ", penwidth=2";
  if (s.terminal) attrs += ", peripheries=2, fillcolor=\"#e6e6e6\"";
  out += fmt::format("{}{} [{}];\n", indent, dot_quote(s.id), attrs);
}

void dot_junctions(std::string& out, const Picture& p, const std::string& stage,
                   std::string_view indent) {
  for (const auto& j : p.junctions) {
    if (j.stage != stage) continue;
    out += fmt::format(
        "{}{} [shape=point, width=0.08, style=filled, fillcolor=\"#888888\", color=\"#888888\", "
        "label=\"\"];\n",
        indent, dot_node(Node{Node::Kind::kJunction, "", j.transition}));
  }
}

}  // namespace

std::string to_dot(const Workflow& wf, const GraphAnnotations& notes) {
  const Picture p = picture_of(wf);
  std::string out;
  out += fmt::format("// {}: {}\n", workflow_title(wf), kGeneratedNote);
  out += fmt::format("digraph {} {{\n", dot_quote(wf.id));
  out += fmt::format(
      "  graph [label={}, labelloc=t, fontname=\"Helvetica\", fontsize=14, rankdir=TB, "
      "nodesep=0.35, ranksep=0.45];\n",
      dot_quote(workflow_title(wf)));
  out +=
      "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\", "
      "fontname=\"Helvetica\", fontsize=11];\n";
  out += "  edge [fontname=\"Helvetica\", fontsize=9, color=\"#444444\"];\n";
  out +=
      "  \"[start]\" [shape=point, width=0.18, style=filled, fillcolor=\"#222222\", label=\"\", "
      "tooltip=\"start\"];\n";
  if (p.any_state) {
    out += fmt::format("  {} [shape=box, style=\"rounded,dashed\", label={}, tooltip={}];\n",
                       dot_node(Node{Node::Kind::kAny, "", 0}), dot_quote(kAnyStateLabel),
                       dot_quote("from = \"*\": every non-terminal state"));
  }

  std::set<std::string> cluster_ids;
  for (const auto& group : p.groups) {
    if (group.stage.empty()) {
      for (const StateDef* s : group.states) dot_state(out, wf, *s, notes, "  ");
      dot_junctions(out, p, "", "  ");
      continue;
    }
    std::string cluster = "cluster_" + one_line(group.stage);
    for (int n = 2; !cluster_ids.insert(cluster).second; ++n) {
      cluster = fmt::format("cluster_{}_{}", one_line(group.stage), n);
    }
    out += fmt::format("  subgraph {} {{\n", dot_quote(cluster));
    out += fmt::format(
        "    label={}; style=\"rounded,filled\"; fillcolor=\"#f3f5fa\"; color=\"#8a96b4\"; "
        "fontname=\"Helvetica-Bold\";\n",
        dot_quote(one_line(group.stage)));
    for (const StateDef* s : group.states) dot_state(out, wf, *s, notes, "    ");
    dot_junctions(out, p, group.stage, "    ");
    out += "  }\n";
  }

  if (!wf.initial.empty()) out += fmt::format("  \"[start]\" -> {};\n", dot_quote(wf.initial));
  for (const auto& a : p.arrows) {
    std::string attrs;
    if (a.transitions.empty()) {
      attrs = "arrowhead=none, color=\"#888888\"";
    } else {
      attrs = "label=" + dot_label(arrow_lines(a, notes));
      const TransitionDef& t = *a.transitions.front();
      if (!t.description.empty()) attrs += ", tooltip=" + dot_quote(one_line(t.description));
      if (a.from.kind == Node::Kind::kAny) attrs += ", style=dashed";
    }
    out += fmt::format("  {} -> {} [{}];\n", dot_node(a.from), dot_node(a.to), attrs);
  }
  out += "}\n";
  return out;
}

// ---- Mermaid ------------------------------------------------------------------------------------

namespace {

// Mermaid label text: characters that its grammar or HTML would read are written as numeric
// entity codes (`#60;` for "<"), which Mermaid decodes when drawing. UTF-8 passes through.
std::string mermaid_text(std::string_view text) {
  std::string out;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    bool plain = u >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 (c >= '0' && c <= '9') ||
                 std::string_view(" _.,()'=!+*/?@$^~").find(c) != std::string_view::npos;
    if (plain) {
      out += c;
    } else if (c == '\n' || c == '\r' || c == '\t') {
      out += ' ';
    } else {
      out += fmt::format("#{};", static_cast<int>(u));
    }
  }
  return out;
}

std::string mermaid_label(const std::vector<std::string>& lines) {
  std::vector<std::string> escaped;
  for (const auto& line : lines) escaped.push_back(mermaid_text(line));
  return join(escaped, "<br/>");
}

// Hands out Mermaid identifiers: [A-Za-z0-9_] only, never a keyword, never starting with a digit,
// unique (a clash gets a numeric suffix). Valid state ids pass through unchanged.
class MermaidIds {
 public:
  std::string claim(std::string_view raw) {
    std::string id;
    for (char c : raw) {
      bool ok =
          (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
      id += ok ? c : '_';
    }
    static const std::set<std::string, std::less<>> kReserved = {
        "state", "note", "end",   "direction", "class", "classDef", "style",
        "as",    "left", "right", "of",        "click", "TB",       "BT",
        "LR",    "RL",   "fork",  "join",      "choice"};
    if (id.empty() || (id[0] >= '0' && id[0] <= '9') || kReserved.contains(id)) id = "s_" + id;
    std::string unique = id;
    for (int n = 2; !used_.insert(unique).second; ++n) unique = fmt::format("{}_{}", id, n);
    return unique;
  }

 private:
  std::set<std::string> used_;
};

// YAML double-quoted scalar for the front-matter title.
std::string yaml_quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace

std::string to_mermaid(const Workflow& wf, const GraphAnnotations& notes) {
  const Picture p = picture_of(wf);
  MermaidIds ids;
  std::map<std::string, std::string> state_ids;  // state id → Mermaid id
  for (const auto& s : wf.states) state_ids.emplace(s.id, ids.claim(s.id));
  std::string any_id = p.any_state ? ids.claim("any_open_state") : "";
  std::map<std::size_t, std::string> junction_ids;  // transition index → Mermaid id
  for (const auto& j : p.junctions) {
    junction_ids.emplace(j.transition, ids.claim(fmt::format("junction_{}", j.transition)));
  }
  auto node = [&](const Node& n) -> std::string {
    switch (n.kind) {
      case Node::Kind::kAny:
        return any_id;
      case Node::Kind::kJunction:
        return junction_ids.at(n.junction);
      case Node::Kind::kState:
        break;
    }
    auto it = state_ids.find(n.state);
    // A reference to an undeclared state only happens in a model the loader refused; draw it
    // anyway so the picture shows the dangling arrow.
    if (it == state_ids.end()) it = state_ids.emplace(n.state, ids.claim(n.state)).first;
    return it->second;
  };
  auto junctions_in = [&](std::string& out, const std::string& stage, std::string_view indent) {
    for (const auto& j : p.junctions) {
      if (j.stage == stage)
        out += fmt::format("{}state {} <<join>>\n", indent, junction_ids.at(j.transition));
    }
  };

  std::string out;
  out += "---\n";
  out += "title: " + yaml_quote(workflow_title(wf)) + "\n";
  out += "---\n";
  out += "stateDiagram-v2\n";
  out += fmt::format("  %% {}\n", kGeneratedNote);
  out += "  direction TB\n";
  for (const auto& s : wf.states) {
    out += fmt::format("  state \"{}\" as {}\n", mermaid_label(state_lines(s, notes)),
                       node(Node{Node::Kind::kState, s.id, 0}));
  }
  if (p.any_state)
    out += fmt::format("  state \"{}\" as {}\n", mermaid_text(kAnyStateLabel), any_id);
  junctions_in(out, "", "  ");
  for (const auto& group : p.groups) {
    if (group.stage.empty()) continue;
    out += fmt::format("  state \"{}\" as {} {{\n", mermaid_text(one_line(group.stage)),
                       ids.claim("stage_" + group.stage));
    for (const StateDef* s : group.states) {
      out += fmt::format("    {}\n", node(Node{Node::Kind::kState, s->id, 0}));
    }
    junctions_in(out, group.stage, "    ");
    out += "  }\n";
  }

  if (!wf.initial.empty()) {
    out += fmt::format("  [*] --> {}\n", node(Node{Node::Kind::kState, wf.initial, 0}));
  }
  // Arrows between the same two nodes merge into the first one, in file order.
  using ArrowKey =
      std::tuple<Node::Kind, std::string, std::size_t, Node::Kind, std::string, std::size_t, bool>;
  std::vector<Arrow> merged;
  std::map<ArrowKey, std::size_t> merged_index;
  for (const auto& a : p.arrows) {
    ArrowKey key{a.from.kind, a.from.state,  a.from.junction,      a.to.kind,
                 a.to.state,  a.to.junction, a.transitions.empty()};
    auto [it, inserted] = merged_index.emplace(std::move(key), merged.size());
    if (inserted) {
      merged.push_back(a);
    } else {
      auto& into = merged[it->second].transitions;
      into.insert(into.end(), a.transitions.begin(), a.transitions.end());
    }
  }
  for (const auto& a : merged) {
    if (a.transitions.empty()) {
      out += fmt::format("  {} --> {}\n", node(a.from), node(a.to));
    } else {
      out += fmt::format("  {} --> {} : {}\n", node(a.from), node(a.to),
                         mermaid_label(arrow_lines(a, notes)));
    }
  }
  for (const auto& s : wf.states) {
    if (s.terminal) out += fmt::format("  {} --> [*]\n", node(Node{Node::Kind::kState, s.id, 0}));
  }
  return out;
}

}  // namespace flowgate
