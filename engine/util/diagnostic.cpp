#include "util/diagnostic.h"

#include <fmt/format.h>
#include <algorithm>

namespace flowgate {

std::string Diagnostic::to_string() const {
  std::string out = fmt::format("{}: {}[{}]: {}", location.to_string(),
                                severity == Severity::kError ? "error" : "warning", rule, message);
  if (!hint.empty()) out += "\n  hint: " + hint;
  return out;
}

nlohmann::json Diagnostic::to_json() const {
  nlohmann::json j = {{"severity", severity == Severity::kError ? "error" : "warning"},
                      {"rule", rule},
                      {"message", message},
                      {"file", location.file},
                      {"line", location.line},
                      {"column", location.column}};
  if (!hint.empty()) j["hint"] = hint;
  return j;
}

void Diagnostics::error(std::string rule, SourceLocation where, std::string message,
                        std::string hint) {
  items_.push_back(
      {Severity::kError, std::move(rule), std::move(message), std::move(hint), std::move(where)});
}

void Diagnostics::warning(std::string rule, SourceLocation where, std::string message,
                          std::string hint) {
  items_.push_back(
      {Severity::kWarning, std::move(rule), std::move(message), std::move(hint), std::move(where)});
}

void Diagnostics::append(const Diagnostics& other) {
  items_.insert(items_.end(), other.items_.begin(), other.items_.end());
}

bool Diagnostics::has_errors() const { return error_count() > 0; }

std::size_t Diagnostics::error_count() const {
  return static_cast<std::size_t>(
      std::count_if(items_.begin(), items_.end(),
                    [](const Diagnostic& d) { return d.severity == Severity::kError; }));
}

std::size_t Diagnostics::warning_count() const { return items_.size() - error_count(); }

void Diagnostics::sort() {
  std::stable_sort(items_.begin(), items_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.location.file, a.location.line, a.location.column) <
           std::tie(b.location.file, b.location.line, b.location.column);
  });
}

namespace {
// Optimal string alignment distance: insertions, deletions, substitutions and adjacent
// transpositions ("lsot" is one edit from "lost").
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev2(b.size() + 1), prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        cur[j] = std::min(cur[j], prev2[j - 2] + 1);
      }
    }
    std::swap(prev2, prev);
    std::swap(prev, cur);
  }
  return prev[b.size()];
}
}  // namespace

std::string closest_match(std::string_view word, const std::vector<std::string>& candidates) {
  std::size_t limit = std::max<std::size_t>(1, word.size() / 3);
  std::size_t best = limit + 1;
  std::string found;
  for (const auto& c : candidates) {
    std::size_t d = edit_distance(word, c);
    if (d < best) {
      best = d;
      found = c;
    }
  }
  return found;
}

}  // namespace flowgate
