#include "plugins/gate/report.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "definition/value.h"
#include "plugins/gate/gate_hooks.h"

namespace flowgate::gate {

using nlohmann::json;

json GateFigures::to_json() const {
  json j = {{"workflow", workflow},   {"gate", gate},       {"rounds", rounds},
            {"decided", decided},     {"go", go},           {"kill", kill},
            {"hold", hold},           {"recycle", recycle}, {"recalled", recalled},
            {"cancelled", cancelled}, {"open", open}};
  j["pass_rate"] = pass_rate ? json(std::round(*pass_rate * 10000.0) / 10000.0) : json(nullptr);
  j["median_time_to_decision"] =
      median_decision_ms ? json(format_duration_ms(*median_decision_ms)) : json(nullptr);
  j["median_time_to_decision_ms"] = median_decision_ms ? json(*median_decision_ms) : json(nullptr);
  return j;
}

namespace {

std::string workflow_from_id(const std::string& instance_id) {
  auto dash = instance_id.rfind('-');
  return dash == std::string::npos ? instance_id : instance_id.substr(0, dash);
}

struct Tally {
  GateFigures figures;
  std::vector<std::int64_t> waits;
};

}  // namespace

std::vector<GateFigures> gate_report(std::span<const EventRecord> events) {
  std::map<std::string, std::string> workflow_of;  // instance → workflow
  // (instance, gate, round) → when it opened
  std::map<std::tuple<std::string, std::string, std::int64_t>, std::int64_t> opened;
  std::map<std::pair<std::string, std::string>, Tally> tallies;
  auto tally = [&](const EventRecord& e, const std::string& gate) -> Tally& {
    auto w = workflow_of.find(e.instance_id);
    std::string workflow = w != workflow_of.end() ? w->second : workflow_from_id(e.instance_id);
    Tally& t = tallies[{workflow, gate}];
    t.figures.workflow = workflow;
    t.figures.gate = gate;
    return t;
  };
  for (const EventRecord& e : events) {
    if (e.type == "instance_started") {
      workflow_of[e.instance_id] = e.body.value("workflow", workflow_from_id(e.instance_id));
      continue;
    }
    if (e.type.rfind("gate.", 0) != 0) continue;
    std::string gate = e.body.value("gate", std::string());
    std::int64_t round = e.body.value("round", std::int64_t{0});
    if (gate.empty()) continue;
    auto key = std::make_tuple(e.instance_id, gate, round);
    if (e.type == kSubmitted || e.type == kReopened) {
      Tally& t = tally(e, gate);
      ++t.figures.rounds;
      ++t.figures.open;
      opened[key] = e.at_ms;
    } else if (e.type == kDecided || e.type == kRecalled || e.type == kCancelled) {
      Tally& t = tally(e, gate);
      auto o = opened.find(key);
      if (o == opened.end()) continue;  // its opening is outside the events given
      --t.figures.open;
      if (e.type == kRecalled) {
        ++t.figures.recalled;
      } else if (e.type == kCancelled) {
        ++t.figures.cancelled;
      } else {
        ++t.figures.decided;
        std::string d = e.body.value("decision", std::string());
        if (d == "go") ++t.figures.go;
        if (d == "kill") ++t.figures.kill;
        if (d == "hold") ++t.figures.hold;
        if (d == "recycle") ++t.figures.recycle;
        t.waits.push_back(e.at_ms - o->second);
      }
      opened.erase(o);
    }
  }
  std::vector<GateFigures> out;
  for (auto& [key, t] : tallies) {
    GateFigures f = t.figures;
    if (f.decided > 0) f.pass_rate = static_cast<double>(f.go) / static_cast<double>(f.decided);
    if (!t.waits.empty()) {
      std::sort(t.waits.begin(), t.waits.end());
      std::size_t n = t.waits.size();
      f.median_decision_ms =
          n % 2 == 1 ? t.waits[n / 2] : (t.waits[n / 2 - 1] + t.waits[n / 2]) / 2;
    }
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace flowgate::gate
