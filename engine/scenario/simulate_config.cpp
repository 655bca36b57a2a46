// The simulation file (docs/scenarios.md §Simulation) → SimulationConfig, names checked against
// the workflow so that a misspelt state or event is an error, not a silently ignored weight.
#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "definition/value.h"
#include "scenario/simulate.h"
#include "scenario/toml_json.h"

namespace flowgate::scenario {
namespace {

constexpr const char* kToml = "SIMULATION-TOML";
constexpr const char* kKeyUnknown = "SIMULATION-KEY-UNKNOWN";
constexpr const char* kValue = "SIMULATION-VALUE";
constexpr const char* kName = "SIMULATION-NAME-UNKNOWN";

struct Reader {
  const std::string& path;
  const Workflow& wf;
  Diagnostics& diags;

  SourceLocation at(const toml::source_position& p) const {
    return {path, static_cast<int>(p.line), static_cast<int>(p.column)};
  }
  void error(const char* rule, const toml::source_position& p, std::string msg,
             std::string hint = {}) {
    diags.error(rule, at(p), std::move(msg), std::move(hint));
  }

  std::optional<std::int64_t> duration(const toml::node& n, std::string_view what) {
    auto s = n.value<std::string>();
    auto ms = s ? parse_duration_ms(*s) : std::nullopt;
    if (ms && *ms >= 0) return ms;
    error(kValue, n.source().begin,
          fmt::format("`{}` must be a duration such as \"4h\" or \"30d\"", what));
    return std::nullopt;
  }

  std::optional<double> weight(const toml::node& n, const std::string& key) {
    if (auto d = n.value<double>(); d && *d >= 0 && std::isfinite(*d)) return *d;
    error(kValue, n.source().begin,
          fmt::format("the weight of '{}' must be a number of at least 0", key));
    return std::nullopt;
  }
};

}  // namespace

bool load_simulation_config(const std::string& path, const Workflow& wf, SimulationConfig& config,
                            Diagnostics& diags) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    diags.error(
        kToml,
        {path, static_cast<int>(e.source().begin.line), static_cast<int>(e.source().begin.column)},
        std::string(e.description()));
    return false;
  }
  Reader r{path, wf, diags};
  const std::vector<std::string> top = {"period",      "delay",     "tick",
                                        "horizon",     "max_steps", "start_time",
                                        "state_delay", "weights",   "gate_outcomes"};
  std::set<std::string> events, states;
  for (const auto& t : wf.transitions) events.insert(t.event);
  for (const auto& s : wf.states) states.insert(s.id);
  for (const auto& [k, v] : root) {
    std::string key(k.str());
    if (std::find(top.begin(), top.end(), key) == top.end()) {
      std::string close = closest_match(key, top);
      r.error(kKeyUnknown, k.source().begin, fmt::format("a simulation file has no key '{}'", key),
              close.empty() ? "" : fmt::format("did you mean '{}'?", close));
      continue;
    }
    if (key == "period") {
      if (auto d = r.duration(v, key)) config.period_ms = *d;
    } else if (key == "tick") {
      if (auto d = r.duration(v, key); d && *d > 0) config.tick_ms = *d;
    } else if (key == "horizon") {
      if (auto d = r.duration(v, key)) config.horizon_ms = *d;
    } else if (key == "max_steps") {
      if (auto n = v.value<std::int64_t>(); n && *n > 0) {
        config.max_steps = static_cast<int>(std::min<std::int64_t>(*n, 1'000'000));
      } else {
        r.error(kValue, v.source().begin, "`max_steps` must be a positive integer");
      }
    } else if (key == "start_time") {
      auto j = toml_to_json(v);
      auto ms = j.is_string() ? parse_datetime_ms(j.get<std::string>()) : std::nullopt;
      if (ms) {
        config.start_ms = *ms;
      } else {
        r.error(kValue, v.source().begin, "`start_time` must be a date-time with an offset");
      }
    } else if (key == "delay") {
      if (auto d = r.duration(v, key)) config.mean_delay_ms = *d;
    } else if (key == "state_delay") {
      if (const auto* t = v.as_table()) {
        for (const auto& [sk, sv] : *t) {
          std::string state(sk.str());
          if (!states.count(state)) {
            r.error(kName, sk.source().begin,
                    fmt::format("workflow '{}' has no state '{}'", wf.id, state));
          } else if (auto d = r.duration(sv, "state_delay." + state)) {
            config.state_delay_ms[state] = *d;
          }
        }
      } else {
        r.error(kValue, v.source().begin, "[state_delay] is a table: state = \"duration\"");
      }
    } else if (key == "weights") {
      const auto* t = v.as_table();
      if (!t) {
        r.error(kValue, v.source().begin, "[weights] is a table of transition weights");
        continue;
      }
      for (const auto& [wk, wv] : *t) {
        std::string name(wk.str());
        bool ok = false;
        if (name.starts_with("#")) {
          auto idx = std::strtoll(name.c_str() + 1, nullptr, 10);
          ok = name.size() > 1 && idx >= 0 && static_cast<std::size_t>(idx) < wf.transitions.size();
        } else if (auto dot = name.find('.'); dot != std::string::npos) {
          std::string from = name.substr(0, dot), event = name.substr(dot + 1);
          for (const auto& tr : wf.transitions) ok = ok || (tr.event == event && tr.leaves(from));
        } else {
          ok = events.count(name) > 0;
        }
        if (!ok) {
          r.error(kName, wk.source().begin,
                  fmt::format("'{}' names no transition of workflow '{}'", name, wf.id),
                  "keys are \"<event>\", \"<from state>.<event>\" or \"#<transition index>\"");
          continue;
        }
        if (auto w = r.weight(wv, name)) config.weights[name] = *w;
      }
    } else if (key == "gate_outcomes") {
      const auto* t = v.as_table();
      if (!t) {
        r.error(kValue, v.source().begin, "[gate_outcomes] is a table: go, hold, kill, recycle");
        continue;
      }
      for (const auto& [gk, gv] : *t) {
        std::string d(gk.str());
        if (d != "go" && d != "hold" && d != "kill" && d != "recycle") {
          r.error(kName, gk.source().begin, fmt::format("'{}' is not a gate decision", d),
                  "one of 'go', 'hold', 'kill', 'recycle'");
          continue;
        }
        if (auto w = r.weight(gv, d)) config.gate_weights[d] = *w;
      }
    }
  }
  return !diags.has_errors();
}

}  // namespace flowgate::scenario
