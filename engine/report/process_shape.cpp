#include "report/process_shape.h"

#include <algorithm>
#include <deque>
#include <map>
#include <set>

namespace flowgate::report {

using nlohmann::json;

const StateShape* ProcessShape::state(std::string_view id) const {
  auto it = std::find_if(states.begin(), states.end(), [&](const auto& s) { return s.id == id; });
  return it == states.end() ? nullptr : &*it;
}

int ProcessShape::stage_of(std::string_view state_id) const {
  const StateShape* s = state(state_id);
  return s == nullptr ? -1 : s->stage_index;
}

bool ProcessShape::in_last_stage_work(std::string_view state_id) const {
  const StateShape* s = state(state_id);
  return s != nullptr && !s->terminal && s->stage_index >= 0 &&
         s->stage_index == static_cast<int>(stages.size()) - 1;
}

json ProcessShape::to_json() const {
  json j = {{"workflow", workflow_id}, {"name", name},     {"version", version},
            {"initial", initial},      {"stages", stages}, {"states", json::array()},
            {"edges", json::array()}};
  for (const auto& s : states) {
    j["states"].push_back({{"id", s.id},
                           {"name", s.name},
                           {"stage", s.stage},
                           {"terminal", s.terminal},
                           {"outcome", s.outcome},
                           {"tier", s.tier}});
  }
  for (const auto& e : edges)
    j["edges"].push_back({{"from", e.from}, {"to", e.to}, {"event", e.event}});
  return j;
}

namespace {

// N for "l<N>_..." (one or more digits, then '_'), 0 otherwise.
int tier_of(const std::string& id) {
  if (id.size() < 3 || id[0] != 'l') return 0;
  std::size_t i = 1;
  int n = 0;
  while (i < id.size() && i < 4 && id[i] >= '0' && id[i] <= '9') n = n * 10 + (id[i++] - '0');
  return i > 1 && i < id.size() && id[i] == '_' ? n : 0;
}

// Whether `target` can be reached from `start` without entering a state of stage `skip`.
bool reachable_without(const ProcessShape& p, const std::string& start, const std::string& target,
                       int skip) {
  std::multimap<std::string, std::string> next;
  for (const auto& e : p.edges) next.emplace(e.from, e.to);
  std::set<std::string> seen{start};
  std::deque<std::string> queue{start};
  while (!queue.empty()) {
    std::string at = queue.front();
    queue.pop_front();
    if (at == target) return true;
    auto [lo, hi] = next.equal_range(at);
    for (auto it = lo; it != hi; ++it) {
      if (p.stage_of(it->second) == skip && skip >= 0) continue;
      if (seen.insert(it->second).second) queue.push_back(it->second);
    }
  }
  return false;
}

}  // namespace

ProcessShape process_shape(const Workflow& wf) {
  ProcessShape p;
  p.workflow_id = wf.id;
  p.name = wf.name;
  p.version = wf.version;
  p.initial = wf.initial;
  for (const auto& f : wf.fields) {
    if (f.name == kScoreField) p.scored = true;
    if (f.name == kSatisfactionField) p.rated = true;
  }
  for (const auto& s : wf.states) {
    StateShape shape{s.id,         s.name.empty() ? s.id : s.name, s.stage, -1, s.terminal, "",
                     tier_of(s.id)};
    if (!s.stage.empty()) {
      auto it = std::find(p.stages.begin(), p.stages.end(), s.stage);
      if (it == p.stages.end()) it = p.stages.insert(p.stages.end(), s.stage);
      shape.stage_index = static_cast<int>(it - p.stages.begin());
    }
    p.states.push_back(std::move(shape));
  }
  std::set<std::tuple<std::string, std::string, std::string>> edges;
  for (const auto& t : wf.transitions) {
    std::vector<std::string> from = t.from;
    if (t.from_any) {
      for (const auto& s : wf.states) {
        if (!s.terminal) from.push_back(s.id);
      }
    }
    for (const auto& f : from) {
      if (edges.insert({f, t.to, t.event}).second) p.edges.push_back({f, t.to, t.event});
    }
  }
  if (p.stages.size() < 2) return p;
  const int initial_stage = p.stage_of(p.initial);
  for (auto& s : p.states) {
    if (!s.terminal) continue;
    if (!reachable_without(p, p.initial, s.id, -1)) continue;  // unreachable: not classified
    bool every_stage = true;
    for (int k = 0; k < static_cast<int>(p.stages.size()) && every_stage; ++k) {
      if (k == initial_stage || k == s.stage_index) continue;
      if (reachable_without(p, p.initial, s.id, k)) every_stage = false;
    }
    s.outcome = every_stage ? "won" : "lost";
  }
  return p;
}

}  // namespace flowgate::report
