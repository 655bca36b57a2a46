// The simulation report as text: a few aligned tables, the way `flowgate report` prints figures.
#include <fmt/format.h>

#include "scenario/simulate.h"

namespace flowgate::scenario {
namespace {

using nlohmann::json;

std::string cell(const json& v) {
  if (v.is_null()) return "-";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) return fmt::format("{:.1f}%", v.get<double>() * 100);
  return v.dump();
}

// Rows of `rows` (objects) under `columns` (key, header), aligned.
std::string table(const json& rows,
                  const std::vector<std::pair<std::string, std::string>>& columns) {
  std::vector<std::vector<std::string>> cells;
  std::vector<std::size_t> width;
  for (const auto& [k, h] : columns) width.push_back(h.size());
  for (const auto& r : rows) {
    std::vector<std::string> line;
    for (std::size_t i = 0; i < columns.size(); ++i) {
      line.push_back(cell(r.value(columns[i].first, json())));
      width[i] = std::max(width[i], line.back().size());
    }
    cells.push_back(std::move(line));
  }
  std::string out;
  auto emit = [&](const std::vector<std::string>& line) {
    out += "  ";
    for (std::size_t i = 0; i < line.size(); ++i) {
      out += line[i];
      if (i + 1 < line.size()) out += std::string(width[i] - line[i].size() + 2, ' ');
    }
    out += "\n";
  };
  std::vector<std::string> header;
  for (const auto& [k, h] : columns) header.push_back(h);
  emit(header);
  for (const auto& l : cells) emit(l);
  return out;
}

std::string counts(const json& obj) {
  std::string out;
  for (const auto& [k, v] : obj.items())
    out += fmt::format("{}{} {}", out.empty() ? "" : ", ", k, v.dump());
  return out.empty() ? "none" : out;
}

}  // namespace

std::string format_simulation_report(const json& r) {
  std::string out = fmt::format(
      "simulation of {} v{}: {} instances (seed {}), {} .. {}\n"
      "{} commands ({} refused), {} events, {} group commits, {:.1f} s\n",
      r.value("workflow", ""), r.value("version", 0), r.value("instances", 0), r.value("seed", 0),
      r.value("started_at", ""), r.value("ended_at", ""), r.value("commands", 0),
      r.value("refused", 0), r.value("events", 0), r.value("batches", 0),
      r.value("wall_ms", 0) / 1000.0);
  if (r.value("refused", 0) > 0)
    out += "refusals: " + counts(r.value("refusals", json::object())) + "\n";

  json funnel = json::array();
  std::int64_t total = r.value("instances", std::int64_t{0});
  for (auto row : r.value("funnel", json::array())) {
    std::int64_t n = row.value("reached", std::int64_t{0});
    row["share"] =
        total > 0
            ? fmt::format("{:.1f}%", 100.0 * static_cast<double>(n) / static_cast<double>(total))
            : "-";
    funnel.push_back(row);
  }
  out +=
      "\nfunnel (instances that reached each state):\n" +
      table(funnel,
            {{"stage", "STAGE"}, {"state", "STATE"}, {"reached", "REACHED"}, {"share", "SHARE"}});
  out += "\ntime in stage (from entering a stage to leaving it):\n" +
         table(r.value("time_in_stage", json::array()), {{"stage", "STAGE"},
                                                         {"stays", "STAYS"},
                                                         {"mean", "MEAN"},
                                                         {"p50", "P50"},
                                                         {"p90", "P90"}});
  const json outcomes = r.value("outcomes", json::object());
  out += "\noutcomes (from the store):\n";
  out += "  ended:    " + counts(outcomes.value("terminal", json::object())) + "\n";
  out += "  open:     " + counts(outcomes.value("open", json::object())) + "\n";
  out += fmt::format("  no valid step left: {}; step limit reached: {}\n",
                     outcomes.value("stuck", 0), outcomes.value("step_limit", 0));
  if (r.contains("sla")) {
    out += "\nSLA / OLA clocks:\n" + table(r["sla"], {{"clock", "CLOCK"},
                                                      {"kind", "KIND"},
                                                      {"count", "DONE"},
                                                      {"met", "MET"},
                                                      {"breached", "BREACHED"},
                                                      {"on_time_rate", "ON TIME"},
                                                      {"open", "OPEN"},
                                                      {"open_breached", "OPEN+BREACHED"},
                                                      {"cancelled", "CANCELLED"}});
  }
  const json esc = r.value("automatic_transitions", json::array());
  out += "\nescalations (transitions fired by the clocks' breach actions):\n";
  out += esc.empty() ? "  none\n" : table(esc, {{"transition", "TRANSITION"}, {"count", "COUNT"}});
  if (r.contains("gates") && r["gates"].empty()) {
    out += "\ngates: none\n";
  } else if (r.contains("gates")) {
    out += "\ngates:\n" + table(r["gates"], {{"gate", "GATE"},
                                             {"rounds", "ROUNDS"},
                                             {"go", "GO"},
                                             {"hold", "HOLD"},
                                             {"kill", "KILL"},
                                             {"recycle", "RECYCLE"},
                                             {"pass_rate", "PASS RATE"},
                                             {"median_time_to_decision", "MEDIAN"}});
  }
  out += r.value("consistent", false)
             ? "\nconsistent: the funnel, the outcomes and the store agree\n"
             : "\nINCONSISTENT: " + r.value("consistency", json::array()).dump() + "\n";
  return out;
}

}  // namespace flowgate::scenario
