#include "scenario/workflow_facts.h"

#include <algorithm>

#include <toml++/toml.h>

namespace flowgate::scenario {
namespace {

std::vector<std::string> keys_of(const toml::node* node) {
  std::vector<std::string> out;
  if (const auto* t = node ? node->as_table() : nullptr) {
    for (const auto& [k, v] : *t) out.emplace_back(k.str());
  }
  return out;
}

}  // namespace

const ClockFacts* WorkflowFacts::clock(std::string_view id) const {
  for (const auto& c : clocks) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

const GateFacts* WorkflowFacts::gate(std::string_view id) const {
  for (const auto& g : gates) {
    if (g.id == id) return &g;
  }
  return nullptr;
}

std::vector<std::string> WorkflowFacts::clock_ids() const {
  std::vector<std::string> out;
  for (const auto& c : clocks) out.push_back(c.id);
  return out;
}

std::vector<std::string> WorkflowFacts::gate_ids() const {
  std::vector<std::string> out;
  for (const auto& g : gates) out.push_back(g.id);
  return out;
}

WorkflowFacts workflow_facts(const Workflow& wf) {
  WorkflowFacts facts;
  toml::table root;
  try {
    root = toml::parse(wf.source_text, wf.file);
  } catch (const std::exception&) {
    return facts;
  }
  // toml++ keeps insertion order of keys by source position only per table; sort clocks by line.
  std::vector<std::pair<int, ClockFacts>> clocks;
  for (const char* kind : {"sla", "ola"}) {
    const auto* section = root.get_as<toml::table>(kind);
    if (!section) continue;
    for (const auto& [k, v] : *section) {
      const auto* t = v.as_table();
      if (!t) continue;
      clocks.push_back({static_cast<int>(v.source().begin.line),
                        ClockFacts{std::string(k.str()), kind, t->contains("pause")}});
    }
  }
  std::sort(clocks.begin(), clocks.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [line, c] : clocks) facts.clocks.push_back(std::move(c));

  if (const auto* gates = root.get_as<toml::table>("gates")) {
    std::vector<std::pair<int, GateFacts>> found;
    for (const auto& [k, v] : *gates) {
      const auto* t = v.as_table();
      if (!t) continue;
      GateFacts g;
      g.id = std::string(k.str());
      g.outcomes = {"go", "hold"};
      if (t->contains("kill")) g.outcomes.push_back("kill");
      if (t->contains("recycle")) g.outcomes.push_back("recycle");
      g.must_meet = keys_of(t->get("must_meet"));
      g.should_meet = keys_of(t->get("should_meet"));
      found.push_back({static_cast<int>(v.source().begin.line), std::move(g)});
    }
    std::sort(found.begin(), found.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& [line, g] : found) facts.gates.push_back(std::move(g));
  }
  return facts;
}

}  // namespace flowgate::scenario
