// The report document (report.h to_document, with the plugins' sections) written for people and
// tools: a table of readable sections, CSV with one row per measure, and one self-contained HTML
// page (inline CSS and SVG, no scripts, no external resources) with the funnel, time-in-stage and
// SLA charts and the process diagram shaded by traffic. Every string that comes from the database
// is escaped. The HTML carries each measure of the CSV in data- attributes (data-section,
// data-workflow, data-period, data-key, data-value), so a browser test can compare the page with
// the JSON. docs/report.md describes the layouts.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace flowgate::report {

// One measure: e.g. {"funnel", "ltc", "2026-01", "MO.conversion", 0.5}. `value` is a number or
// null (not defined, e.g. a rate over nothing).
struct MeasureRow {
  std::string section;
  std::string workflow;
  std::string period;
  std::string key;
  nlohmann::json value;
};

// Every numeric measure of the document, in document order.
std::vector<MeasureRow> flatten(const nlohmann::json& doc);

// "section,workflow,period,key,value" then one row per measure (RFC 4180 quoting; null = empty).
std::string render_csv(const nlohmann::json& doc);
std::string render_table(const nlohmann::json& doc);
std::string render_html(const nlohmann::json& doc);

// The field `key` of an object, or null when `j` is not an object or has no such field: the
// renderers read documents through it, so a document missing a field renders "-" instead of
// failing.
const nlohmann::json& at(const nlohmann::json& j, std::string_view key);

// &, <, >, " and ' as character references.
std::string html_escape(std::string_view text);

}  // namespace flowgate::report
