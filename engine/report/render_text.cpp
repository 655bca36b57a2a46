#include <algorithm>
#include <functional>
#include <iterator>

#include <fmt/format.h>

#include "report/render.h"

namespace flowgate::report {

using nlohmann::json;

const json& at(const json& j, std::string_view key) {
  static const json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

namespace {

// The field that names a row of an array section.
std::string row_label(const std::string& section, const json& row) {
  if (section == "transitions") {
    return fmt::format("{}->{}:{}", row.value("from", ""), row.value("to", ""),
                       row.value("event", ""));
  }
  if (section == "escalation") return fmt::format("tier{}", row.value("tier", 0));
  for (const char* field : {"state", "stage", "clock", "gate", "band"}) {
    if (auto it = row.find(field); it != row.end() && it->is_string()) return *it;
  }
  return "?";
}

void leaves(const json& object, const std::string& prefix,
            const std::function<void(std::string, const json&)>& add) {
  for (const auto& [key, value] : object.items()) {
    if (value.is_number() || value.is_null()) add(prefix + key, value);
  }
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string value_text(const json& v) {
  if (v.is_null()) return "";
  return v.dump();
}

const char* const kSkipped[] = {"period", "from", "to"};

}  // namespace

std::vector<MeasureRow> flatten(const json& doc) {
  std::vector<MeasureRow> rows;
  for (const auto& w : doc.value("workflows", json::array())) {
    const std::string workflow = w.value("workflow", "");
    for (const auto& p : w.value("periods", json::array())) {
      const std::string period = p.value("period", "");
      for (const auto& [section, value] : p.items()) {
        if (std::find(std::begin(kSkipped), std::end(kSkipped), section) != std::end(kSkipped)) {
          continue;
        }
        auto add = [&](std::string key, const json& v) {
          rows.push_back({section, workflow, period, std::move(key), v});
        };
        if (value.is_object()) leaves(value, "", add);
        if (value.is_array()) {
          for (const auto& row : value) {
            if (row.is_object()) leaves(row, row_label(section, row) + ".", add);
          }
        }
      }
    }
  }
  return rows;
}

std::string render_csv(const json& doc) {
  std::string out = "section,workflow,period,key,value\n";
  for (const auto& r : flatten(doc)) {
    out += fmt::format("{},{},{},{},{}\n", csv_field(r.section), csv_field(r.workflow),
                       csv_field(r.period), csv_field(r.key), value_text(r.value));
  }
  return out;
}

namespace {

std::string pct(const json& v) {
  return v.is_number() ? fmt::format("{:.1f}%", v.get<double>() * 100.0) : std::string("-");
}
std::string num(const json& v) { return v.is_null() ? std::string("-") : v.dump(); }
// A value for the terminal: control characters in names from the database (a newline, an escape
// sequence) are shown as \xNN so they cannot break the layout or drive the terminal.
std::string text(const json& v) {
  if (!v.is_string()) return v.is_null() ? std::string("-") : v.dump();
  std::string out;
  for (char c : v.get_ref<const std::string&>()) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      out += fmt::format("\\x{:02x}", u);
    } else {
      out += c;
    }
  }
  return out;
}

void period_table(std::string& out, const json& p) {
  const json& i = at(p, "instances");
  out += fmt::format("  instances: {} started, {} completed, {} cancelled, {} open\n",
                     num(at(i, "started")), num(at(i, "completed")), num(at(i, "cancelled")),
                     num(at(i, "open")));
  out += "  funnel (stage: entered, conversion from the step before, share of started)\n";
  for (const auto& f : at(p, "funnel")) {
    out += fmt::format("    {:<28} {:>6}  {:>7}  {:>7}\n", text(at(f, "stage")),
                       num(at(f, "entered")), pct(at(f, "conversion")), pct(at(f, "of_started")));
  }
  const json& o = at(p, "outcomes");
  out += fmt::format(
      "  outcomes: won {}, lost {} (cancelled {}), closed {}, win rate {}, past the first stage "
      "{}\n",
      num(at(o, "won")), num(at(o, "lost")), num(at(o, "cancelled")), num(at(o, "closed")),
      pct(at(o, "win_rate")), pct(at(o, "qualified_win_rate")));
  for (const auto& t : at(p, "terminals")) {
    out += fmt::format("    {:<28} {:<5} {:>6}\n", text(at(t, "state")), text(at(t, "outcome")),
                       num(at(t, "count")));
  }
  const json& c = at(p, "cycle_time");
  out += fmt::format("  cycle time (completed): n={} p50 {} p90 {}\n", num(at(c, "count")),
                     text(at(c, "p50")), text(at(c, "p90")));
  out += "  time in stage (n, p50, p90)\n";
  for (const auto& s : at(p, "stage_time")) {
    out += fmt::format("    {:<28} {:>6}  {:>10}  {:>10}\n", text(at(s, "stage")),
                       num(at(s, "count")), text(at(s, "p50")), text(at(s, "p90")));
  }
  out += "  time in state (visits, n left, p50, p90)\n";
  for (const auto& s : at(p, "state_time")) {
    if (at(s, "visits") == 0) continue;
    out += fmt::format("    {:<28} {:>6}  {:>6}  {:>10}  {:>10}\n", text(at(s, "state")),
                       num(at(s, "visits")), num(at(s, "count")), text(at(s, "p50")),
                       text(at(s, "p90")));
  }
  if (!at(p, "escalation").empty()) {
    out += "  escalation per tier (entered, escalated, rate, escalations, automatic)\n";
    for (const auto& e : at(p, "escalation")) {
      out += fmt::format("    L{:<27} {:>6}  {:>6}  {:>7}  {:>6}  {:>6}\n", num(at(e, "tier")),
                         num(at(e, "entered")), num(at(e, "escalated")), pct(at(e, "rate")),
                         num(at(e, "escalations")), num(at(e, "automatic")));
    }
  }
  const json& r = at(p, "reopen");
  out += fmt::format("  reopen: {} of {} reached the last stage's work were reopened ({})\n",
                     num(at(r, "reopened")), num(at(r, "eligible")), pct(at(r, "rate")));
  if (p.contains("service_levels")) {
    const json& sl = at(p, "service_levels");
    out += fmt::format(
        "  service levels: SLA on time {} ({} of {} closed), OLA on time {} ({} of {})\n",
        pct(at(sl, "sla_on_time_rate")), num(at(sl, "sla_met")), num(at(sl, "sla_count")),
        pct(at(sl, "ola_on_time_rate")), num(at(sl, "ola_met")), num(at(sl, "ola_count")));
  }
  if (p.contains("sla") && !at(p, "sla").empty()) {
    out +=
        "  SLA/OLA clocks (kind, completed, met, breached, on time, p50, p90 business time, "
        "open)\n";
    for (const auto& s : at(p, "sla")) {
      auto dur = [](const json& v) {
        return v.is_number() ? fmt::format("{:.1f}h", v.get<double>() / 3'600'000.0)
                             : std::string("-");
      };
      out += fmt::format("    {:<20} {:<3} {:>5} {:>5} {:>5} {:>7} {:>8} {:>8} {:>5}\n",
                         text(at(s, "clock")), text(at(s, "kind")), num(at(s, "count")),
                         num(at(s, "met")), num(at(s, "breached")), pct(at(s, "on_time_rate")),
                         dur(at(s, "p50_business_ms")), dur(at(s, "p90_business_ms")),
                         num(at(s, "open")));
    }
  }
  if (p.contains("calibration")) {
    out +=
        "  win rate of scored deals against their score (closed, won, win rate, mean score, "
        "open)\n";
    for (const auto& b : at(p, "calibration")) {
      out += fmt::format("    score {:<22} {:>6}  {:>6}  {:>7}  {:>6}  {:>6}\n",
                         text(at(b, "band")), num(at(b, "count")), num(at(b, "won")),
                         pct(at(b, "win_rate")), num(at(b, "mean_score")), num(at(b, "open")));
    }
  }
  if (p.contains("satisfaction")) {
    const json& s = at(p, "satisfaction");
    out += fmt::format("  customer satisfaction: mean {} over {} recorded\n", num(at(s, "mean")),
                       num(at(s, "count")));
  }
  if (p.contains("gates") && !at(p, "gates").empty()) {
    out += "  gates (rounds, decided, go, kill, hold, recycle, pass rate, median decision)\n";
    for (const auto& g : at(p, "gates")) {
      out += fmt::format("    {:<24} {:>5} {:>5} {:>4} {:>4} {:>4} {:>4} {:>7} {:>8}\n",
                         text(at(g, "gate")), num(at(g, "rounds")), num(at(g, "decided")),
                         num(at(g, "go")), num(at(g, "kill")), num(at(g, "hold")),
                         num(at(g, "recycle")), pct(at(g, "pass_rate")),
                         text(at(g, "median_time_to_decision")));
    }
  }
}

}  // namespace

std::string render_table(const json& doc) {
  std::string out;
  const json& r = at(doc, "report");
  out += fmt::format("flowgate report of {} (period: {}, since {}, until {}; instances by start)\n",
                     text(at(r, "database")), text(at(r, "period")), text(at(r, "since")),
                     text(at(r, "until")));
  for (const auto& w : at(doc, "warnings")) out += fmt::format("warning: {}\n", text(w));
  if (at(doc, "workflows").empty()) out += "\nno workflows in the database\n";
  for (const auto& w : at(doc, "workflows")) {
    out += fmt::format("\n== {} ({}, version {})\n", text(at(w, "workflow")), text(at(w, "name")),
                       num(at(w, "version")));
    if (at(w, "periods").empty()) out += "  no instances started in the selected time\n";
    for (const auto& p : at(w, "periods")) {
      out += fmt::format("\n-- {} {}\n", text(at(w, "workflow")), text(at(p, "period")));
      period_table(out, p);
    }
  }
  return out;
}

}  // namespace flowgate::report
