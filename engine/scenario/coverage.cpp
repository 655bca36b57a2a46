#include "scenario/coverage.h"

#include <algorithm>

#include <fmt/format.h>

namespace flowgate::scenario {
namespace {

using nlohmann::json;

std::string key_of(const Workflow& wf) { return fmt::format("{}@{}", wf.id, wf.version); }

std::string from_text(const TransitionDef& t) {
  if (t.from_any) return "*";
  if (t.from.size() == 1) return t.from.front();
  std::string out;
  for (const auto& f : t.from) out += (out.empty() ? "" : "|") + f;
  return out;
}

}  // namespace

std::size_t WorkflowCoverage::covered(std::string_view kind) const {
  return static_cast<std::size_t>(std::count_if(
      items.begin(), items.end(), [&](const auto& i) { return i.kind == kind && i.covered; }));
}

std::size_t WorkflowCoverage::total(std::string_view kind) const {
  return static_cast<std::size_t>(
      std::count_if(items.begin(), items.end(), [&](const auto& i) { return i.kind == kind; }));
}

void Coverage::add_workflow(const ScenarioFile& file) {
  auto [it, added] = entries_.try_emplace(key_of(*file.workflow));
  if (added) {
    it->second.workflow = file.workflow;
    it->second.facts = file.facts;
  }
}

void Coverage::record(const ScenarioFile& file, const std::vector<EventRecord>& events) {
  add_workflow(file);
  Entry& e = entries_.at(key_of(*file.workflow));
  for (const auto& ev : events) {
    const json& b = ev.body;
    if (ev.type == events::kInstanceStarted) {
      e.states.insert(b.value("state", std::string()));
    } else if (ev.type == events::kTransitioned) {
      e.states.insert(b.value("to", std::string()));
      if (auto t = b.find("transition"); t != b.end() && t->is_number_integer()) {
        e.transitions.insert(static_cast<std::size_t>(t->get<std::int64_t>()));
      }
    } else if (ev.type == "gate.decided") {
      e.gate_outcomes.insert({b.value("gate", std::string()), b.value("decision", std::string())});
    } else if (ev.type == "sla.breached") {
      e.clock_outcomes.insert({b.value("clock", std::string()), "breached"});
    } else if (ev.type == "sla.paused") {
      e.clock_outcomes.insert({b.value("clock", std::string()), "paused"});
    } else if (ev.type == "sla.completed" && b.value("met", false)) {
      e.clock_outcomes.insert({b.value("clock", std::string()), "met"});
    }
  }
}

std::vector<WorkflowCoverage> Coverage::report() const {
  std::vector<WorkflowCoverage> out;
  for (const auto& [key, e] : entries_) {
    const Workflow& wf = *e.workflow;
    WorkflowCoverage c;
    c.workflow = key;
    c.file = wf.file;
    for (const auto& s : wf.states) {
      c.items.push_back({"state", s.id, s.where, e.states.count(s.id) > 0});
    }
    for (const auto& t : wf.transitions) {
      c.items.push_back({"transition",
                         fmt::format("#{} {}: {} -> {}", t.index, t.event, from_text(t), t.to),
                         t.where, e.transitions.count(t.index) > 0});
    }
    for (const auto& g : e.facts.gates) {
      for (const auto& o : g.outcomes) {
        c.items.push_back({"gate outcome", g.id + ": " + o, SourceLocation{wf.file, 0, 0},
                           e.gate_outcomes.count({g.id, o}) > 0});
      }
    }
    for (const auto& k : e.facts.clocks) {
      std::vector<std::string> outcomes = {"met", "breached"};
      if (k.pauses) outcomes.push_back("paused");
      for (const auto& o : outcomes) {
        c.items.push_back({"clock outcome", k.id + ": " + o, SourceLocation{wf.file, 0, 0},
                           e.clock_outcomes.count({k.id, o}) > 0});
      }
    }
    out.push_back(std::move(c));
  }
  return out;
}

bool Coverage::complete() const {
  for (const auto& c : report()) {
    for (const auto& i : c.items) {
      if (!i.covered) return false;
    }
  }
  return true;
}

}  // namespace flowgate::scenario
