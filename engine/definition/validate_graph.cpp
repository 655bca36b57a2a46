// References between parts of the model (states, roles, gates) and the shape of the state graph:
// reachability from the initial state, ways out of every non-terminal state, paths to a terminal
// state, and events that can never fire. All passes are linear in the size of the file, however
// many `from = "*"` transitions there are.
#include <algorithm>
#include <deque>
#include <map>
#include <unordered_map>

#include <fmt/format.h>

#include "definition/loader_internal.h"

namespace flowgate::loader {

namespace {

std::vector<std::string> state_ids(const Workflow& wf) {
  std::vector<std::string> ids;
  ids.reserve(wf.states.size());
  for (const StateDef& s : wf.states) ids.push_back(s.id);
  return ids;
}

std::vector<std::string> role_ids(const Workflow& wf) {
  std::vector<std::string> ids;
  for (const RoleDef& r : wf.roles) ids.push_back(r.id);
  return ids;
}

void check_role(LoadState& st, const std::string& role, const SourceLocation& where,
                std::string_view used_by) {
  Context& cx = st.cx;
  if (!st.roles_table) {
    cx.error(
        rule::kRoleUndeclared, where,
        fmt::format("{} uses the role '{}', but the workflow declares no [roles]", used_by, role),
        fmt::format("add [roles] with {} = \"what this role does\"", role));
    return;
  }
  if (st.wf.has_role(role)) return;
  std::string hint = cx.did_you_mean(role, role_ids(st.wf));
  if (hint.empty()) hint = fmt::format("declare it in [roles]: {} = \"what this role does\"", role);
  cx.error(rule::kRoleUndeclared, where,
           fmt::format("{} uses the role '{}', which [roles] does not declare", used_by, role),
           std::move(hint));
}

// The graph of known states; edges only between states that exist.
struct Graph {
  std::vector<std::vector<std::size_t>> out;  // explicit edges
  std::vector<std::vector<std::size_t>> in;
  std::vector<std::size_t> any_targets;  // targets of `from = "*"` transitions
  std::vector<bool> is_any_target;
  std::vector<bool> terminal;
};

Graph build_graph(const Workflow& wf, const std::unordered_map<std::string, std::size_t>& index) {
  Graph g;
  std::size_t n = wf.states.size();
  g.out.resize(n);
  g.in.resize(n);
  g.is_any_target.assign(n, false);
  g.terminal.resize(n);
  for (std::size_t i = 0; i < n; ++i) g.terminal[i] = wf.states[i].terminal;
  for (const TransitionDef& tr : wf.transitions) {
    if (tr.event.empty()) continue;
    auto to = index.find(tr.to);
    if (to == index.end()) continue;
    if (tr.from_any) {
      if (!g.is_any_target[to->second]) g.any_targets.push_back(to->second);
      g.is_any_target[to->second] = true;
      continue;
    }
    for (const std::string& from : tr.from) {
      auto f = index.find(from);
      if (f == index.end()) continue;
      g.out[f->second].push_back(to->second);
      g.in[to->second].push_back(f->second);
    }
  }
  return g;
}

std::vector<bool> reachable_from(const Graph& g, std::size_t start) {
  std::vector<bool> seen(g.out.size(), false);
  std::deque<std::size_t> queue{start};
  seen[start] = true;
  bool any_expanded = false;
  auto visit = [&](std::size_t v) {
    if (!seen[v]) {
      seen[v] = true;
      queue.push_back(v);
    }
  };
  while (!queue.empty()) {
    std::size_t u = queue.front();
    queue.pop_front();
    for (std::size_t v : g.out[u]) visit(v);
    if (!g.terminal[u] && !any_expanded) {
      any_expanded = true;
      for (std::size_t v : g.any_targets) visit(v);
    }
  }
  return seen;
}

// States from which some terminal state can be reached.
std::vector<bool> reaching_terminal(const Graph& g) {
  std::size_t n = g.out.size();
  std::vector<bool> ok(n, false);
  std::deque<std::size_t> queue;
  bool any_sources_marked = false;
  auto mark = [&](std::size_t v) {
    if (!ok[v]) {
      ok[v] = true;
      queue.push_back(v);
    }
  };
  for (std::size_t i = 0; i < n; ++i) {
    if (g.terminal[i]) mark(i);
  }
  while (!queue.empty()) {
    std::size_t v = queue.front();
    queue.pop_front();
    for (std::size_t u : g.in[v]) mark(u);
    // A `from = "*"` transition into v gives every non-terminal state a path through v.
    if (g.is_any_target[v] && !any_sources_marked) {
      any_sources_marked = true;
      for (std::size_t u = 0; u < n; ++u) {
        if (!g.terminal[u]) mark(u);
      }
    }
  }
  return ok;
}

bool has_way_out(const Graph& g, std::size_t u) {
  auto elsewhere = [u](std::size_t v) { return v != u; };
  return std::any_of(g.out[u].begin(), g.out[u].end(), elsewhere) ||
         std::any_of(g.any_targets.begin(), g.any_targets.end(), elsewhere);
}

}  // namespace

void check_references(LoadState& st, bool gates_claimed) {
  Context& cx = st.cx;
  Workflow& wf = st.wf;
  const std::vector<std::string> states = state_ids(wf);
  auto unknown_state = [&](const std::string& id, const toml::node* node, std::string what) {
    std::string hint = cx.did_you_mean(id, states);
    if (hint.empty()) hint = "declare it as a [states.<id>] table";
    cx.error(rule::kTransitionUnknownState, node ? cx.at(*node) : cx.at(0, 0),
             fmt::format("{} '{}' is not a declared state", what, id), std::move(hint));
  };
  if (!wf.initial.empty() && !wf.states.empty() && wf.state(wf.initial) == nullptr) {
    std::string hint = cx.did_you_mean(wf.initial, states);
    if (hint.empty()) hint = fmt::format("states: {}", fmt::join(states, ", "));
    cx.error(rule::kInitialUnknown, st.initial ? cx.at(*st.initial) : st.workflow_at,
             fmt::format("the initial state '{}' is not a declared state", wf.initial),
             std::move(hint));
  }
  for (std::size_t i = 0; i < wf.states.size(); ++i) {
    const StateDef& s = wf.states[i];
    if (!s.owner.empty()) {
      check_role(st, s.owner, cx.at(*st.owners[i]), fmt::format("state '{}' (owner)", s.id));
    }
  }
  for (std::size_t i = 0; i < wf.transitions.size(); ++i) {
    const TransitionDef& tr = wf.transitions[i];
    const TransitionNodes& nodes = st.tnodes[i];
    const std::string owner = describe_transition(st, i);
    for (std::size_t k = 0; k < tr.from.size(); ++k) {
      const StateDef* s = wf.state(tr.from[k]);
      if (s == nullptr) {
        unknown_state(tr.from[k], nodes.from_items[k], "source state");
      } else if (s->terminal) {
        cx.error(
            rule::kTransitionFromTerminal, cx.at(*nodes.from_items[k]),
            fmt::format("{} leaves the terminal state '{}'", owner, s->id),
            "a terminal state ends the instance: remove it from 'from', or make it non-terminal");
      }
    }
    if (!tr.to.empty() && !wf.states.empty() && wf.state(tr.to) == nullptr) {
      unknown_state(tr.to, nodes.to, "target state");
    }
    for (std::size_t k = 0; k < tr.roles.size(); ++k) {
      check_role(st, tr.roles[k], cx.at(*nodes.role_items[k]), owner);
    }
    if (!tr.gate.empty() && !gates_claimed) {
      cx.error(
          rule::kGateUnknown, cx.at(*nodes.gate),
          fmt::format("{} names the gate '{}', but no loaded plugin handles gates", owner, tr.gate),
          "gates need the stage-gate plugin and a [gates.<id>] section; remove 'gate' until then");
    } else if (!tr.gate.empty() && !st.root.contains("gates")) {
      // The gate plugin's handler only runs when the file has a [gates] section.
      cx.error(rule::kGateUnknown, cx.at(*nodes.gate),
               fmt::format("{} names the gate '{}', but the file declares no [gates] section",
                           owner, tr.gate),
               fmt::format("add a [gates.{}] section, or remove 'gate'", tr.gate));
    }
  }
}

void check_graph(LoadState& st) {
  Context& cx = st.cx;
  const Workflow& wf = st.wf;
  if (wf.states.empty()) return;
  std::unordered_map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < wf.states.size(); ++i) index.emplace(wf.states[i].id, i);
  Graph g = build_graph(wf, index);
  const std::size_t n = wf.states.size();

  std::vector<bool> dead_end(n, false);
  for (std::size_t u = 0; u < n; ++u) {
    if (g.terminal[u] || has_way_out(g, u)) continue;
    dead_end[u] = true;
    cx.error(
        rule::kStateDeadEnd, wf.states[u].where,
        fmt::format("state '{}' is not terminal but has no transition out of it", wf.states[u].id),
        "add a transition leaving it, or mark it terminal = true");
  }

  auto initial = index.find(wf.initial);
  std::optional<std::vector<bool>> reached;
  if (initial != index.end()) {
    reached = reachable_from(g, initial->second);
    for (std::size_t u = 0; u < n; ++u) {
      if ((*reached)[u]) continue;
      cx.error(rule::kStateUnreachable, wf.states[u].where,
               fmt::format("state '{}' cannot be reached from the initial state '{}'",
                           wf.states[u].id, wf.initial),
               "add a transition into it, or remove it");
    }
  }

  if (std::none_of(g.terminal.begin(), g.terminal.end(), [](bool t) { return t; })) {
    cx.warning(rule::kLintNoTerminal, st.workflow_at,
               "the workflow has no terminal state: no instance can ever complete",
               "mark the states that end the process with terminal = true");
  } else {
    std::vector<bool> ok = reaching_terminal(g);
    for (std::size_t u = 0; u < n; ++u) {
      if (ok[u] || dead_end[u] || (reached && !(*reached)[u])) continue;
      cx.warning(rule::kLintNoPathToTerminal, wf.states[u].where,
                 fmt::format("no terminal state can be reached from state '{}'", wf.states[u].id),
                 "instances that enter it can never complete");
    }
  }

  if (!reached) return;
  // An event fires only from a reachable, non-terminal source state.
  bool any_live_source = false;
  for (std::size_t u = 0; u < n; ++u) any_live_source |= (*reached)[u] && !g.terminal[u];
  std::map<std::string, std::size_t> first_use;
  std::map<std::string, bool> fired;
  for (std::size_t i = 0; i < wf.transitions.size(); ++i) {
    const TransitionDef& tr = wf.transitions[i];
    if (tr.event.empty()) continue;
    first_use.emplace(tr.event, i);
    bool live = tr.from_any && any_live_source;
    for (const std::string& from : tr.from) {
      auto f = index.find(from);
      live |= f != index.end() && (*reached)[f->second] && !g.terminal[f->second];
    }
    fired[tr.event] |= live;
  }
  for (const auto& [event, i] : first_use) {
    if (fired[event]) continue;
    const TransitionNodes& nodes = st.tnodes[i];
    cx.warning(
        rule::kLintEventNeverFired, nodes.event ? cx.at(*nodes.event) : wf.transitions[i].where,
        fmt::format("the event '{}' can never fire: every transition on it leaves a state that "
                    "cannot be reached",
                    event));
  }
}

}  // namespace flowgate::loader
