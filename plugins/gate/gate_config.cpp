#include "plugins/gate/gate_config.h"

#include <algorithm>
#include <cmath>
#include <regex>
#include <set>

#include <fmt/format.h>

namespace flowgate::gate {

std::string_view quorum_name(QuorumRule q) {
  switch (q) {
    case QuorumRule::kAny:
      return "any";
    case QuorumRule::kCount:
      return "n_of_m";
    case QuorumRule::kAll:
      return "all";
    case QuorumRule::kWeighted:
      return "weighted";
  }
  return "all";
}

const Seat* GateDef::seat(std::string_view role) const {
  for (const Seat& s : seats) {
    if (s.role == role) return &s;
  }
  return nullptr;
}

const MustMeet* GateDef::must(std::string_view criterion) const {
  for (const MustMeet& m : must_meet) {
    if (m.id == criterion) return &m;
  }
  return nullptr;
}

const ShouldMeet* GateDef::should(std::string_view criterion) const {
  for (const ShouldMeet& s : should_meet) {
    if (s.id == criterion) return &s;
  }
  return nullptr;
}

std::int64_t GateDef::total_weight() const {
  std::int64_t total = 0;
  for (const Seat& s : seats) total += s.weight * s.count;
  return total;
}

std::int64_t GateDef::seat_count() const {
  std::int64_t total = 0;
  for (const Seat& s : seats) total += s.count;
  return total;
}

const GateDef* GateConfig::find(std::string_view id) const {
  for (const GateDef& g : gates) {
    if (g.id == id) return &g;
  }
  return nullptr;
}

const GateConfig* gate_config(const Workflow& wf) { return wf.extension<GateConfig>(kPluginName); }

std::string format_hundredths(std::int64_t hundredths) {
  const char* sign = hundredths < 0 ? "-" : "";
  std::int64_t a = hundredths < 0 ? -hundredths : hundredths;
  return fmt::format("{}{}.{:02}", sign, a / 100, a % 100);
}

namespace {

const std::regex& id_pattern() {
  static const std::regex re("^[a-z][a-z0-9_]*$");
  return re;
}

// Everything the passes below share: the file, the diagnostics and the workflow.
struct Reader {
  const Workflow& wf;
  const std::string& file;
  Diagnostics& diags;

  SourceLocation at(const toml::node& n) const {
    const auto& b = n.source().begin;
    return {file, static_cast<int>(b.line), static_cast<int>(b.column)};
  }
  void error(const char* rule, const toml::node& n, std::string message, std::string hint = {}) {
    diags.error(rule, at(n), std::move(message), std::move(hint));
  }
};

// Keys of `t` in the order they appear in the file (toml++ iterates tables by key).
std::vector<std::pair<std::string, const toml::node*>> in_file_order(const toml::table& t) {
  std::vector<std::pair<std::string, const toml::node*>> items;
  for (auto&& [key, value] : t) items.emplace_back(std::string(key.str()), &value);
  std::stable_sort(items.begin(), items.end(), [](const auto& a, const auto& b) {
    const auto& pa = a.second->source().begin;
    const auto& pb = b.second->source().begin;
    return std::tie(pa.line, pa.column) < std::tie(pb.line, pb.column);
  });
  return items;
}

const std::vector<std::string>& gate_keys() {
  static const std::vector<std::string> keys = {
      "name",      "description", "gatekeepers",       "seats",
      "quorum",    "weights",     "pass_weight",       "chair",
      "kill",      "recycle",     "allow_vote_change", "pass_score",
      "must_meet", "should_meet"};
  return keys;
}

std::optional<std::string> read_string(Reader& r, const toml::table& t, const char* key,
                                       const std::string& owner) {
  const toml::node* n = t.get(key);
  if (!n) return std::nullopt;
  if (const auto* s = n->as_string()) return s->get();
  r.error(rule::kGateValue, *n, fmt::format("{}: '{}' must be a string", owner, key));
  return std::nullopt;
}

std::optional<std::int64_t> read_int(Reader& r, const toml::node& n, const std::string& what) {
  if (const auto* i = n.as_integer()) return i->get();
  r.error(rule::kGateValue, n, fmt::format("{} must be an integer", what));
  return std::nullopt;
}

std::vector<std::string> role_ids(const Workflow& wf) {
  std::vector<std::string> ids;
  for (const RoleDef& role : wf.roles) ids.push_back(role.id);
  return ids;
}

void read_seats(Reader& r, const toml::table& t, GateDef& g, const std::string& owner) {
  const toml::node* n = t.get("gatekeepers");
  if (!n) {
    r.error(rule::kGateValue, t, fmt::format("{} has no gatekeepers", owner),
            "list the reviewing roles, e.g. gatekeepers = [\"sales_director\", \"finance\"]");
    return;
  }
  const auto* arr = n->as_array();
  if (!arr || arr->empty()) {
    r.error(rule::kGateValue, *n,
            fmt::format("{}: 'gatekeepers' must be a non-empty list of roles", owner));
    return;
  }
  for (const toml::node& item : *arr) {
    const auto* s = item.as_string();
    if (!s) {
      r.error(rule::kGateValue, item, fmt::format("{}: each gatekeeper is a role id", owner));
      continue;
    }
    const std::string& role = s->get();
    if (g.seat(role)) {
      r.error(rule::kGateValue, item,
              fmt::format("{}: the gatekeeper '{}' is listed twice", owner, role),
              "each role holds one seat; a role listed once votes once per round");
      continue;
    }
    if (!r.wf.has_role(role)) {
      std::string near = closest_match(role, role_ids(r.wf));
      r.error(rule::kGateRole, item,
              fmt::format("{}: the gatekeeper '{}' is not a role declared in [roles]", owner, role),
              near.empty()
                  ? fmt::format("declare it in [roles]: {} = \"what this role does\"", role)
                  : fmt::format("did you mean '{}'?", near));
    }
    g.seats.push_back({role, 1, 1});
  }
  const toml::node* counts = t.get("seats");
  if (!counts) return;
  const auto* ct = counts->as_table();
  if (!ct) {
    r.error(rule::kGateValue, *counts,
            fmt::format("{}: 'seats' must be a table of role = number of seats", owner));
    return;
  }
  for (auto&& [key, value] : *ct) {
    std::string role(key.str());
    auto it =
        std::find_if(g.seats.begin(), g.seats.end(), [&](const Seat& s) { return s.role == role; });
    if (it == g.seats.end()) {
      r.error(rule::kGateQuorum, value,
              fmt::format("{}: seats names '{}', which is not a gatekeeper", owner, role));
      continue;
    }
    auto n = read_int(r, value, fmt::format("{}: the seats of '{}'", owner, role));
    if (n && (*n < 1 || *n > 100)) {
      r.error(rule::kGateQuorum, value,
              fmt::format("{}: '{}' needs between 1 and 100 seats, not {}", owner, role, *n));
    } else if (n) {
      it->count = *n;
    }
  }
}

void read_quorum(Reader& r, const toml::table& t, GateDef& g, const std::string& owner) {
  const std::int64_t m = g.seat_count();
  if (const toml::node* n = t.get("quorum")) {
    if (const auto* i = n->as_integer()) {
      g.quorum = QuorumRule::kCount;
      g.quorum_count = i->get();
      if (g.quorum_count < 1 || (m > 0 && g.quorum_count > m)) {
        r.error(rule::kGateQuorum, *n,
                fmt::format("{}: quorum {} is not between 1 and the {} gatekeeper seat(s)", owner,
                            g.quorum_count, m));
      }
    } else if (const auto* s = n->as_string();
               s && (s->get() == "any" || s->get() == "all" || s->get() == "weighted")) {
      g.quorum = s->get() == "any"   ? QuorumRule::kAny
                 : s->get() == "all" ? QuorumRule::kAll
                                     : QuorumRule::kWeighted;
    } else {
      r.error(rule::kGateQuorum, *n,
              fmt::format("{}: quorum must be \"any\", \"all\", \"weighted\" or a number of go "
                          "votes",
                          owner),
              "e.g. quorum = 2 for two of the gatekeepers");
    }
  }
  const toml::node* weights = t.get("weights");
  const toml::node* pass_weight = t.get("pass_weight");
  if (g.quorum != QuorumRule::kWeighted) {
    for (const toml::node* n : {weights, pass_weight}) {
      if (n) {
        r.error(rule::kGateQuorum, *n,
                fmt::format("{}: weights count only with quorum = \"weighted\"", owner));
      }
    }
    return;
  }
  if (weights) {
    const auto* wt = weights->as_table();
    if (!wt) {
      r.error(rule::kGateValue, *weights,
              fmt::format("{}: 'weights' must be a table of role = weight", owner));
    } else {
      for (auto&& [key, value] : *wt) {
        std::string role(key.str());
        auto it = std::find_if(g.seats.begin(), g.seats.end(),
                               [&](const Seat& s) { return s.role == role; });
        if (it == g.seats.end()) {
          r.error(rule::kGateQuorum, value,
                  fmt::format("{}: weights names '{}', which is not a gatekeeper", owner, role));
          continue;
        }
        auto w = read_int(r, value, fmt::format("{}: the weight of '{}'", owner, role));
        if (w && *w < 1) {
          r.error(rule::kGateQuorum, value,
                  fmt::format("{}: the weight of '{}' must be at least 1", owner, role));
        } else if (w) {
          it->weight = *w;
        }
      }
    }
  }
  const std::int64_t total = g.total_weight();
  g.pass_weight = total / 2 + 1;  // more than half of the total weight
  if (pass_weight) {
    if (auto w = read_int(r, *pass_weight, owner + ": 'pass_weight'")) {
      if (*w < 1 || *w > total) {
        r.error(rule::kGateQuorum, *pass_weight,
                fmt::format("{}: pass_weight {} is not between 1 and the total weight {}", owner,
                            *w, total));
      }
      g.pass_weight = *w;
    }
  }
}

void read_criteria(Reader& r, const toml::table& t, GateDef& g, const std::string& owner) {
  std::set<std::string> seen;
  auto check_id = [&](const std::string& id, const toml::node& n) {
    if (!std::regex_match(id, id_pattern())) {
      r.error(rule::kGateCriterion, n,
              fmt::format("{}: criterion id '{}' must match [a-z][a-z0-9_]*", owner, id));
      return false;
    }
    if (!seen.insert(id).second) {
      r.error(rule::kGateCriterion, n,
              fmt::format("{}: criterion '{}' is both must-meet and should-meet", owner, id));
      return false;
    }
    return true;
  };
  if (const toml::node* n = t.get("must_meet")) {
    const auto* mt = n->as_table();
    if (!mt) {
      r.error(rule::kGateValue, *n,
              fmt::format("{}: 'must_meet' must be a table of criterion = \"question\"", owner));
    } else {
      for (const auto& [id, node] : in_file_order(*mt)) {
        if (!check_id(id, *node)) continue;
        const auto* q = node->as_string();
        if (!q || q->get().empty()) {
          r.error(
              rule::kGateCriterion, *node,
              fmt::format("{}: must-meet '{}' needs its yes/no question as a string", owner, id));
          continue;
        }
        g.must_meet.push_back({id, q->get()});
      }
    }
  }
  if (const toml::node* n = t.get("should_meet")) {
    const auto* st = n->as_table();
    if (!st) {
      r.error(rule::kGateValue, *n,
              fmt::format("{}: 'should_meet' must be a table of criterion = {{ question, min, "
                          "max, weight }}",
                          owner));
    } else {
      for (const auto& [id, node] : in_file_order(*st)) {
        if (!check_id(id, *node)) continue;
        const auto* ct = node->as_table();
        if (!ct) {
          r.error(rule::kGateCriterion, *node,
                  fmt::format("{}: should-meet '{}' must be a table {{ question, min, max, "
                              "weight }}",
                              owner, id));
          continue;
        }
        std::string what = fmt::format("{}: should-meet '{}'", owner, id);
        ShouldMeet c{id, {}, 0, 10, 1};
        for (auto&& [key, value] : *ct) {
          std::string k(key.str());
          if (k == "question") {
            if (const auto* q = value.as_string()) c.question = q->get();
          } else if (k == "min" || k == "max" || k == "weight") {
            auto v = read_int(r, value, fmt::format("{}: '{}'", what, k));
            if (v) (k == "min" ? c.min : k == "max" ? c.max : c.weight) = *v;
          } else {
            std::string near = closest_match(k, {"question", "min", "max", "weight"});
            r.error(rule::kGateKey, value, fmt::format("{} has no key '{}'", what, k),
                    near.empty() ? "keys: question, min, max, weight"
                                 : fmt::format("did you mean '{}'?", near));
          }
        }
        bool ok = true;
        if (c.question.empty()) {
          r.error(rule::kGateCriterion, *node, what + " needs a question (a non-empty string)");
          ok = false;
        }
        if (c.min >= c.max) {
          r.error(rule::kGateCriterion, *node,
                  fmt::format("{}: min {} must be below max {}", what, c.min, c.max));
          ok = false;
        }
        if (c.weight < 1) {
          r.error(rule::kGateCriterion, *node,
                  fmt::format("{}: weight {} must be at least 1", what, c.weight));
          ok = false;
        }
        if (ok) g.should_meet.push_back(std::move(c));
      }
    }
  }
  const toml::node* pass = t.get("pass_score");
  if (pass) {
    std::optional<double> v;
    if (const auto* i = pass->as_integer()) v = static_cast<double>(i->get());
    if (const auto* f = pass->as_floating_point()) v = f->get();
    if (!v || !(*v >= 0.0 && *v <= 100.0)) {
      r.error(rule::kGateCriterion, *pass,
              fmt::format("{}: pass_score must be a percentage between 0 and 100", owner));
    } else {
      g.pass_score = std::llround(*v * 100.0);
    }
    if (!t.get("should_meet")) {
      r.error(rule::kGateCriterion, *pass,
              fmt::format("{}: pass_score needs should_meet criteria to score", owner));
    }
  } else if (!g.should_meet.empty()) {
    r.error(
        rule::kGateCriterion, *t.get("should_meet"),
        fmt::format("{}: scored criteria need a pass_score (percent of the weighted score)", owner),
        "e.g. pass_score = 60");
  }
}

// The source states of a transition (every non-terminal state for `from = "*"`).
std::vector<std::string> sources_of(const Workflow& wf, const TransitionDef& t) {
  if (!t.from_any) return t.from;
  std::vector<std::string> out;
  for (const StateDef& s : wf.states) {
    if (!s.terminal) out.push_back(s.id);
  }
  return out;
}

// kill / recycle must name an event with a transition from every state the gate holds in.
void check_exit(Reader& r, const toml::table& t, const GateDef& g, const char* key,
                const std::string& event, const std::string& owner) {
  if (event.empty()) return;
  const toml::node& n = *t.get(key);
  std::set<std::string> reported;
  for (std::size_t index : g.transitions) {
    const TransitionDef& gated = r.wf.transitions[index];
    if (gated.event == event) {
      r.error(rule::kGateExit, n,
              fmt::format("{}: {} = \"{}\" is the gated event itself", owner, key, event),
              "name the transition the decision takes instead, e.g. an exit to a lost state");
      return;
    }
    for (const std::string& state : sources_of(r.wf, gated)) {
      auto candidates = r.wf.candidates(state, event);
      if (candidates.empty()) {
        if (reported.insert(state).second) {
          r.error(rule::kGateExit, n,
                  fmt::format("{}: {} = \"{}\", but no transition leaves '{}' on '{}'", owner, key,
                              event, state, event),
                  "add a [[transitions]] entry for it, or name another event");
        }
        continue;
      }
      const TransitionDef& exit = *candidates.front();
      if (!exit.gate.empty()) {
        r.error(rule::kGateExit, n,
                fmt::format("{}: the {} transition '{}' from '{}' is itself gated", owner, key,
                            event, state),
                "a gate decision takes its exit directly; remove the gate from that transition");
      }
      if (std::string(key) == "recycle") {
        const StateDef* to = r.wf.state(exit.to);
        if (to && to->terminal) {
          r.error(rule::kGateExit, n,
                  fmt::format("{}: recycle '{}' from '{}' ends in the terminal state '{}'", owner,
                              event, state, exit.to),
                  "a recycle goes back to rework; a terminal exit is a kill");
        }
      }
    }
  }
}

GateDef read_gate(Reader& r, const std::string& id, const toml::node& node) {
  GateDef g;
  g.id = id;
  g.name = id;
  std::string owner = fmt::format("[gates.{}]", id);
  const auto* t = node.as_table();
  if (!t) {
    r.error(rule::kGateValue, node, owner + " must be a table");
    return g;
  }
  for (auto&& [key, value] : *t) {
    std::string k(key.str());
    if (std::find(gate_keys().begin(), gate_keys().end(), k) == gate_keys().end()) {
      std::string near = closest_match(k, gate_keys());
      r.error(rule::kGateKey, value, fmt::format("{} has no key '{}'", owner, k),
              near.empty() ? fmt::format("keys: {}", fmt::join(gate_keys(), ", "))
                           : fmt::format("did you mean '{}'?", near));
    }
  }
  if (auto name = read_string(r, *t, "name", owner)) g.name = *name;
  if (auto d = read_string(r, *t, "description", owner)) g.description = *d;
  read_seats(r, *t, g, owner);
  read_quorum(r, *t, g, owner);
  if (auto chair = read_string(r, *t, "chair", owner)) {
    if (!g.seat(*chair)) {
      r.error(rule::kGateRole, *t->get("chair"),
              fmt::format("{}: the chair '{}' is not one of the gatekeepers", owner, *chair),
              "the chair holds a gatekeeper seat; add the role to gatekeepers");
    }
    g.chair = *chair;
  }
  if (auto kill = read_string(r, *t, "kill", owner)) g.kill_event = *kill;
  if (auto recycle = read_string(r, *t, "recycle", owner)) g.recycle_event = *recycle;
  if (const toml::node* n = t->get("allow_vote_change")) {
    if (const auto* b = n->as_boolean()) {
      g.allow_vote_change = b->get();
    } else {
      r.error(rule::kGateValue, *n, owner + ": 'allow_vote_change' must be true or false");
    }
  }
  read_criteria(r, *t, g, owner);
  return g;
}

}  // namespace

std::shared_ptr<const void> GateSections::compile(const toml::table& root, const Workflow& wf,
                                                  const std::string& file,
                                                  Diagnostics& diags) const {
  Reader r{wf, file, diags};
  const toml::node* section = root.get("gates");
  if (!section) return nullptr;
  const auto* gates = section->as_table();
  if (!gates) {
    r.error(rule::kGateValue, *section, "'gates' must be a table of [gates.<id>] sections");
    return nullptr;
  }
  auto config = std::make_shared<GateConfig>();
  std::vector<const toml::node*> gate_nodes;
  for (const auto& [id, node] : in_file_order(*gates)) {
    if (!std::regex_match(id, id_pattern())) {
      r.error(rule::kGateValue, *node, fmt::format("gate id '{}' must match [a-z][a-z0-9_]*", id));
      continue;
    }
    config->gates.push_back(read_gate(r, id, *node));
    gate_nodes.push_back(node);
  }

  // Every transition's gate must be declared; every declared gate must gate something.
  std::vector<std::string> ids;
  for (const GateDef& g : config->gates) ids.push_back(g.id);
  const auto* transitions = root.get("transitions") ? root.get("transitions")->as_array() : nullptr;
  for (const TransitionDef& tr : wf.transitions) {
    if (tr.gate.empty()) continue;
    GateDef* g = nullptr;
    for (GateDef& candidate : config->gates) {
      if (candidate.id == tr.gate) g = &candidate;
    }
    if (g) {
      g->transitions.push_back(tr.index);
      continue;
    }
    const toml::node* where = nullptr;
    if (transitions && tr.index < transitions->size()) {
      if (const auto* tt = (*transitions)[tr.index].as_table()) where = tt->get("gate");
    }
    std::string near = closest_match(tr.gate, ids);
    diags.error(rule::kGateUndeclared, where ? r.at(*where) : tr.where,
                fmt::format("transition '{}' (#{}) names the gate '{}', which [gates] does not "
                            "declare",
                            tr.event, tr.index + 1, tr.gate),
                near.empty() ? fmt::format("add a [gates.{}] section", tr.gate)
                             : fmt::format("did you mean '{}'?", near));
  }
  for (std::size_t i = 0; i < config->gates.size(); ++i) {
    const GateDef& g = config->gates[i];
    const auto& t = *gate_nodes[i];
    if (g.transitions.empty()) {
      r.error(rule::kGateUnused, t,
              fmt::format("[gates.{}] is declared, but no transition names it", g.id),
              fmt::format("add gate = \"{}\" to the transition it reviews, or remove it", g.id));
      continue;
    }
    if (const auto* table = t.as_table()) {
      std::string owner = fmt::format("[gates.{}]", g.id);
      check_exit(r, *table, g, "kill", g.kill_event, owner);
      check_exit(r, *table, g, "recycle", g.recycle_event, owner);
    }
  }
  return config;
}

}  // namespace flowgate::gate
