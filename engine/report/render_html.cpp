// The HTML page of the report: one file, inline CSS and SVG, no script and no external resource.
#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "report/render.h"

namespace flowgate::report {

using nlohmann::json;

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

namespace {

std::string str(const json& v) {
  return v.is_string() ? v.get<std::string>() : v.is_null() ? std::string() : v.dump();
}
std::string esc(const json& v) { return html_escape(str(v)); }
double number(const json& v) { return v.is_number() ? v.get<double>() : 0.0; }
std::string pct(const json& v) {
  return v.is_number() ? fmt::format("{:.1f}%", v.get<double>() * 100.0) : std::string("–");
}
// Hours up to two days, days beyond.
std::string hours(const json& ms) {
  if (!ms.is_number()) return "–";
  const double h = ms.get<double>() / 3'600'000.0;
  return h < 48 ? fmt::format("{:.1f} h", h) : fmt::format("{:.1f} d", h / 24.0);
}

// At most `max` characters of `text`, cut on a UTF-8 character boundary, with "…" when cut.
std::string clip(const std::string& text, std::size_t max) {
  std::size_t chars = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;
    if (chars++ == max) return text.substr(0, i) + "…";
  }
  return text;
}

// data- attributes that name one measure (render.h).
std::string measure_attrs(const std::string& section, const std::string& workflow,
                          const std::string& period, const std::string& key, const json& value) {
  return fmt::format(
      R"( data-section="{}" data-workflow="{}" data-period="{}" data-key="{}" data-value="{}")",
      html_escape(section), html_escape(workflow), html_escape(period), html_escape(key),
      value.is_null() ? std::string() : html_escape(value.dump()));
}

// Horizontal bars: one row per item, `share` in 0..1 of the full width.
struct Bar {
  std::string label;
  double share = 0;
  std::string value_text;
  std::string attrs;  // data- attributes of the bar
  std::string colour = "#3b6ea5";
};

std::string bar_chart(const std::string& title, const std::vector<Bar>& bars) {
  const int label_w = 220, bar_w = 420, row_h = 26, text_w = 260;
  const int height = 30 + row_h * static_cast<int>(std::max<std::size_t>(bars.size(), 1));
  std::string svg = fmt::format(
      R"(<svg class="chart" role="img" xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" viewBox="0 0 {} {}"><title>{}</title>)"
      R"(<text x="0" y="16" class="ctitle">{}</text>)",
      label_w + bar_w + text_w, height, label_w + bar_w + text_w, height, html_escape(title),
      html_escape(title));
  if (bars.empty()) {
    svg += R"(<text x="0" y="44" class="muted">no data</text>)";
  }
  int y = 28;
  for (const Bar& b : bars) {
    const double w = std::clamp(b.share, 0.0, 1.0) * bar_w;
    svg += fmt::format(R"(<g{}><text x="{}" y="{}" text-anchor="end"><title>{}</title>{}</text>)"
                       R"(<rect x="{}" y="{}" width="{:.1f}" height="{}" fill="{}"/>)"
                       R"(<text x="{:.1f}" y="{}" class="val">{}</text></g>)",
                       b.attrs, label_w - 8, y + 15, html_escape(b.label),
                       html_escape(clip(b.label, 30)), label_w, y + 2, w, row_h - 6, b.colour,
                       label_w + w + 6, y + 15, html_escape(b.value_text));
    y += row_h;
  }
  return svg + "</svg>";
}

std::string funnel_chart(const std::string& workflow, const json& p) {
  std::vector<Bar> bars;
  const double started = number(at(at(p, "instances"), "started"));
  for (const auto& f : at(p, "funnel")) {
    const std::string stage = str(at(f, "stage"));
    bars.push_back({stage, started > 0 ? number(at(f, "entered")) / started : 0.0,
                    fmt::format("{} ({})", str(at(f, "entered")), pct(at(f, "conversion"))),
                    measure_attrs("funnel", workflow, str(at(p, "period")), stage + ".entered",
                                  at(f, "entered")),
                    stage == "won" ? "#2e8b57" : "#3b6ea5"});
  }
  return bar_chart("Funnel: instances that reached each stage (conversion from the step before)",
                   bars);
}

std::string stage_time_chart(const std::string& workflow, const json& p) {
  std::vector<Bar> bars;
  double longest = 0;
  for (const auto& s : at(p, "stage_time")) longest = std::max(longest, number(at(s, "p90_ms")));
  for (const auto& s : at(p, "stage_time")) {
    const std::string stage = str(at(s, "stage"));
    for (const char* q : {"p50", "p90"}) {
      const std::string key = std::string(q) + "_ms";
      bars.push_back({fmt::format("{} {}", stage, q),
                      longest > 0 ? number(at(s, key)) / longest : 0.0, hours(at(s, key)),
                      measure_attrs("stage_time", workflow, str(at(p, "period")), stage + "." + key,
                                    at(s, key)),
                      std::string(q) == "p50" ? "#6a8fc7" : "#1f4e89"});
    }
  }
  return bar_chart("Time in stage (p50 and p90)", bars);
}

std::string sla_chart(const std::string& workflow, const json& p) {
  std::vector<Bar> bars;
  if (p.contains("sla")) {
    for (const auto& s : at(p, "sla")) {
      const std::string clock = str(at(s, "clock"));
      bars.push_back({fmt::format("{} ({})", clock, str(at(s, "kind"))),
                      number(at(s, "on_time_rate")),
                      fmt::format("{} on time: {} met, {} breached", pct(at(s, "on_time_rate")),
                                  str(at(s, "met")), str(at(s, "breached"))),
                      measure_attrs("sla", workflow, str(at(p, "period")), clock + ".on_time_rate",
                                    at(s, "on_time_rate")),
                      number(at(s, "breached")) > 0 ? "#c0504d" : "#2e8b57"});
    }
  }
  return bar_chart("SLA/OLA on-time rate per clock", bars);
}

// The process drawn by stage (one column per stage, long stages wrap into several columns),
// states shaded by visits and edges drawn by how often they were taken, over all periods.
std::string process_diagram(const json& w) {
  const json& process = at(w, "process");
  std::map<std::string, double> visits;
  std::map<std::tuple<std::string, std::string>, double> taken;
  for (const auto& p : at(w, "periods")) {
    for (const auto& s : at(p, "state_time"))
      visits[str(at(s, "state"))] += number(at(s, "visits"));
    for (const auto& t : at(p, "terminals")) visits[str(at(t, "state"))] += number(at(t, "count"));
    for (const auto& t : at(p, "transitions"))
      taken[{str(at(t, "from")), str(at(t, "to"))}] += number(at(t, "count"));
  }
  double most = 1;
  for (const auto& [s, n] : visits) most = std::max(most, n);
  double most_taken = 1;
  for (const auto& [e, n] : taken) most_taken = std::max(most_taken, n);

  const int node_w = 180, node_h = 36, col_w = 230, row_h = 52, per_col = 8, top = 40;
  std::vector<std::string> columns;                   // stage of each column
  std::map<std::string, std::pair<int, int>> placed;  // state → (x, y) of its top-left corner
  std::map<std::string, int> filled;                  // column index → rows used
  std::vector<std::string> stages;
  for (const auto& s : at(process, "stages")) stages.push_back(str(s));
  stages.push_back("");  // states without a stage
  int col = 0, max_rows = 0;
  for (const auto& stage : stages) {
    int row = 0;
    int first_col = col;
    bool any = false;
    for (const auto& s : at(process, "states")) {
      if (str(at(s, "stage")) != stage) continue;
      any = true;
      if (row == per_col) {
        row = 0;
        ++col;
      }
      placed[str(at(s, "id"))] = {20 + col * col_w, top + row * row_h};
      max_rows = std::max(max_rows, ++row);
    }
    if (!any) continue;
    for (int c = first_col; c <= col; ++c) columns.push_back(stage);
    ++col;
  }
  const int width = std::max(40 + col * col_w, 300);
  const int height = top + max_rows * row_h + 20;
  std::string svg = fmt::format(
      R"(<svg class="diagram" role="img" xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" viewBox="0 0 {} {}">)"
      R"(<title>{} by traffic</title><defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>)",
      width, height, width, height, esc(at(w, "name")));
  for (std::size_t c = 0; c < columns.size(); ++c) {
    if (c > 0 && columns[c] == columns[c - 1]) continue;
    svg += fmt::format(R"(<text x="{}" y="22" class="stage">{}</text>)",
                       20 + static_cast<int>(c) * col_w,
                       html_escape(clip(columns[c].empty() ? "(no stage)" : columns[c], 28)));
  }
  for (const auto& e : at(process, "edges")) {
    auto a = placed.find(str(at(e, "from")));
    auto b = placed.find(str(at(e, "to")));
    if (a == placed.end() || b == placed.end()) continue;
    auto t = taken.find({str(at(e, "from")), str(at(e, "to"))});
    const double n = t == taken.end() ? 0 : t->second;
    // Forward edges run right side → left side; edges within a column arc out to the right;
    // backward edges run left side → right side.
    const double ax = a->second.first, bx = b->second.first;
    const double y1 = a->second.second + node_h / 2.0, y2 = b->second.second + node_h / 2.0;
    double x1 = ax + node_w, x2 = bx, c1 = x1 + 40, c2 = x2 - 40;
    if (ax == bx) {
      x2 = bx + node_w;
      c1 = x1 + 30 + std::abs(y2 - y1) / 4;
      c2 = c1;
    } else if (bx < ax) {
      x1 = ax;
      x2 = bx + node_w;
      c1 = x1 - 40;
      c2 = x2 + 40;
    }
    svg += fmt::format(
        R"~(<path d="M{:.0f},{:.0f} C{:.0f},{:.0f} {:.0f},{:.0f} {:.0f},{:.0f}" fill="none" stroke="{}" stroke-width="{:.1f}"{} marker-end="url(#arrow)" data-from="{}" data-to="{}" data-count="{}"/>)~",
        x1, y1, c1, y1, c2, y2, x2, y2, n > 0 ? "#1f4e89" : "#bbb",
        n > 0 ? 1.0 + 4.0 * n / most_taken : 0.8, n > 0 ? "" : R"( stroke-dasharray="3,3")",
        esc(at(e, "from")), esc(at(e, "to")), static_cast<std::int64_t>(n));
  }
  for (const auto& s : at(process, "states")) {
    const std::string id = str(at(s, "id"));
    auto [x, y] = placed[id];
    const double n = visits.count(id) ? visits[id] : 0;
    // From white (never visited) to a deep blue (the busiest state).
    const double share = n / most;
    const int r = static_cast<int>(std::lround(255 - share * (255 - 31)));
    const int g = static_cast<int>(std::lround(255 - share * (255 - 78)));
    const int bl = static_cast<int>(std::lround(255 - share * (255 - 137)));
    const bool dark = share > 0.5;
    svg += fmt::format(
        R"(<g class="state" data-state="{}" data-visits="{}"><title>{} ({}): {} visits</title>)"
        R"~(<rect x="{}" y="{}" width="{}" height="{}" rx="{}" fill="rgb({},{},{})" stroke="{}" stroke-width="{}"/>)~"
        R"(<text x="{}" y="{}" text-anchor="middle" fill="{}">{}</text>)"
        R"(<text x="{}" y="{}" text-anchor="middle" class="small" fill="{}">{}</text></g>)",
        html_escape(id), static_cast<std::int64_t>(n), esc(at(s, "name")), html_escape(id),
        static_cast<std::int64_t>(n), x, y, node_w, node_h, at(s, "terminal") == true ? 14 : 4, r,
        g, bl,
        at(s, "outcome") == "won"    ? "#2e8b57"
        : at(s, "outcome") == "lost" ? "#c0504d"
                                     : "#333",
        at(s, "terminal") == true ? 2 : 1, x + node_w / 2, y + 15, dark ? "#fff" : "#111",
        html_escape(clip(str(at(s, "name")), 26)), x + node_w / 2, y + 30, dark ? "#fff" : "#444",
        static_cast<std::int64_t>(n));
  }
  return svg + "</svg>";
}

// A table cell with one measure; rates (keys ending "rate") are shown as percentages.
std::string cell(const std::string& key, const json& v, const std::string& attrs) {
  const bool is_rate = key.ends_with("rate");
  return fmt::format("<td class=\"num\"{}>{}</td>", attrs, is_rate ? pct(v) : esc(v));
}

std::string period_section(const std::string& workflow, const json& p) {
  const std::string period = str(at(p, "period"));
  auto m = [&](const std::string& section, const std::string& key, const json& v) {
    return measure_attrs(section, workflow, period, key, v);
  };
  std::string out = fmt::format("<section class=\"period\"><h3>{} — {}</h3>", html_escape(workflow),
                                html_escape(period));
  const json& i = at(p, "instances");
  const json& o = at(p, "outcomes");
  const json& r = at(p, "reopen");
  out += "<div class=\"cards\">";
  auto card = [&](const std::string& label, const std::string& shown, const std::string& attrs) {
    out += fmt::format("<div class=\"card\"{}><div class=\"big\">{}</div>{}</div>", attrs,
                       html_escape(shown), html_escape(label));
  };
  card("started", str(at(i, "started")), m("instances", "started", at(i, "started")));
  card("completed", str(at(i, "completed")), m("instances", "completed", at(i, "completed")));
  card("win rate", pct(at(o, "win_rate")), m("outcomes", "win_rate", at(o, "win_rate")));
  card("win rate past the first stage", pct(at(o, "qualified_win_rate")),
       m("outcomes", "qualified_win_rate", at(o, "qualified_win_rate")));
  if (p.contains("service_levels")) {
    const json& sl = at(p, "service_levels");
    card("SLA on time", pct(at(sl, "sla_on_time_rate")),
         m("service_levels", "sla_on_time_rate", at(sl, "sla_on_time_rate")));
    card("OLA on time", pct(at(sl, "ola_on_time_rate")),
         m("service_levels", "ola_on_time_rate", at(sl, "ola_on_time_rate")));
  }
  card("reopen rate", pct(at(r, "rate")), m("reopen", "rate", at(r, "rate")));
  if (p.contains("satisfaction")) {
    const json& s = at(p, "satisfaction");
    card("customer satisfaction (mean)", at(s, "mean").is_null() ? "–" : str(at(s, "mean")),
         m("satisfaction", "mean", at(s, "mean")));
  }
  card("cycle time p50",
       str(at(at(p, "cycle_time"), "p50")).empty() ? "–" : str(at(at(p, "cycle_time"), "p50")),
       m("cycle_time", "p50_ms", at(at(p, "cycle_time"), "p50_ms")));
  out += "</div>";
  out += funnel_chart(workflow, p);
  out += stage_time_chart(workflow, p);
  out += sla_chart(workflow, p);
  if (!at(p, "escalation").empty()) {
    out +=
        "<table><caption>Escalation per tier</caption><tr><th>tier</th><th>entered</th>"
        "<th>escalated</th><th>rate</th><th>escalations</th><th>automatic</th></tr>";
    for (const auto& e : at(p, "escalation")) {
      const std::string tier = fmt::format("tier{}", str(at(e, "tier")));
      out += fmt::format("<tr><td>L{}</td>", esc(at(e, "tier")));
      for (const char* k : {"entered", "escalated", "rate", "escalations", "automatic"}) {
        out += cell(k, at(e, k), m("escalation", tier + "." + k, at(e, k)));
      }
      out += "</tr>";
    }
    out += "</table>";
  }
  if (p.contains("gates") && !at(p, "gates").empty()) {
    out +=
        "<table><caption>Gates</caption><tr><th>gate</th><th>rounds</th><th>decided</th>"
        "<th>go</th><th>kill</th><th>hold</th><th>recycle</th><th>pass rate</th>"
        "<th>median time to decision</th></tr>";
    for (const auto& g : at(p, "gates")) {
      const std::string gate = str(at(g, "gate"));
      out += fmt::format("<tr><td>{}</td>", html_escape(gate));
      for (const char* k : {"rounds", "decided", "go", "kill", "hold", "recycle", "pass_rate"}) {
        out += cell(k, at(g, k), m("gates", gate + "." + k, at(g, k)));
      }
      out += fmt::format(
          "<td{}>{}</td></tr>",
          m("gates", gate + ".median_time_to_decision_ms", at(g, "median_time_to_decision_ms")),
          esc(at(g, "median_time_to_decision")));
    }
    out += "</table>";
  }
  if (p.contains("calibration")) {
    out +=
        "<table><caption>Win rate of scored deals against their score</caption><tr><th>score</th>"
        "<th>closed</th><th>won</th><th>win rate</th><th>mean score</th><th>open</th></tr>";
    for (const auto& b : at(p, "calibration")) {
      const std::string label = str(at(b, "band"));
      out += fmt::format("<tr><td>{}</td>", html_escape(label));
      for (const char* k : {"count", "won", "win_rate", "mean_score", "open"}) {
        out += cell(k, at(b, k), m("calibration", label + "." + k, at(b, k)));
      }
      out += "</tr>";
    }
    out += "</table>";
  }
  return out + "</section>";
}

const char* const kStyle = R"(
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1400px}
h1{font-size:22px}h2{font-size:19px;border-bottom:1px solid #ccc;padding-bottom:4px;margin-top:32px}
h3{font-size:16px}.muted{fill:#888;color:#888}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin:8px 0}
.card{border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:110px}
.big{font-size:20px;font-weight:600}
svg{display:block;margin:10px 0;font-size:12px}svg .ctitle{font-weight:600;font-size:13px}
svg .stage{font-weight:600;font-size:13px}svg .small{font-size:10px}
table{border-collapse:collapse;margin:10px 0;font-size:13px}caption{text-align:left;font-weight:600}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}td.num{text-align:right}
details{margin-top:24px}
)";

}  // namespace

std::string render_html(const json& doc) {
  const json& r = at(doc, "report");
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">";
  out += fmt::format("<title>flowgate report: {}</title><style>{}</style></head><body>",
                     esc(at(r, "database")), kStyle);
  out += fmt::format(
      "<h1>flowgate report</h1><p id=\"scope\">Database {}; period {}; instances that started "
      "since {} until {}.</p>",
      esc(at(r, "database")), esc(at(r, "period")),
      at(r, "since").is_null() ? "the beginning" : esc(at(r, "since")),
      at(r, "until").is_null() ? "now" : esc(at(r, "until")));
  for (const auto& w : at(doc, "warnings"))
    out += fmt::format("<p class=\"warning\">{}</p>", esc(w));
  if (at(doc, "workflows").empty()) out += "<p id=\"empty\">No workflows in the database.</p>";
  for (const auto& w : at(doc, "workflows")) {
    const std::string workflow = str(at(w, "workflow"));
    out += fmt::format(
        "<section class=\"workflow\" data-workflow=\"{}\"><h2>{} ({}, version {})</h2>",
        html_escape(workflow), esc(at(w, "name")), html_escape(workflow), esc(at(w, "version")));
    out += "<h3>Process by traffic</h3>" + process_diagram(w);
    if (at(w, "periods").empty()) out += "<p>No instances started in the selected time.</p>";
    for (const auto& p : at(w, "periods")) out += period_section(workflow, p);
    out += "</section>";
  }
  out +=
      "<details><summary>All measures</summary><table id=\"measures\"><tr><th>section</th>"
      "<th>workflow</th><th>period</th><th>key</th><th>value</th></tr>";
  for (const auto& m : flatten(doc)) {
    out += fmt::format(
        "<tr class=\"measure\"{}><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "<td class=\"num\">{}</td></tr>",
        measure_attrs(m.section, m.workflow, m.period, m.key, m.value), html_escape(m.section),
        html_escape(m.workflow), html_escape(m.period), html_escape(m.key),
        m.value.is_null() ? "" : html_escape(m.value.dump()));
  }
  out += "</table></details></body></html>\n";
  return out;
}

}  // namespace flowgate::report
