#include "tools/flowgate/audit_cli.h"

#include <iostream>
#include <map>

#include <fmt/format.h>

#include "definition/value.h"
#include "tools/flowgate/sections.h"

namespace flowgate::cli {

AuditPlugins audit_plugins() {
  static const std::shared_ptr<const HookSet> hooks = cli_hooks();
  return {&cli_sections(), hooks.get()};
}

void add_db_argument(CLI::App& sub, std::string& db) {
  sub.add_option("db", db, "SQLite database file");
  sub.add_option("--db", db, "SQLite database file (same as the positional argument)");
}

Result<void> require_db(const std::string& db) {
  if (db.empty()) return fail(ErrorCode::kInvalidArgument, "no database given: pass DB or --db DB");
  return {};
}

Result<std::int64_t> parse_time_option(const std::string& text, const std::string& option) {
  if (auto ms = parse_datetime_ms(text)) return *ms;
  if (auto ms = parse_datetime_ms(text + "T00:00:00Z")) return *ms;
  return fail(Error(ErrorCode::kInvalidArgument,
                    fmt::format("{} `{}` is not a date or an RFC 3339 datetime", option, text))
                  .with_hint("e.g. 2026-03-01 or 2026-03-01T09:30:00Z"));
}

void print_findings(const std::vector<audit::Finding>& findings, std::size_t per_kind) {
  std::map<std::string, std::size_t> shown;
  std::map<std::string, std::size_t> hidden;
  for (const auto& f : findings) {
    if (per_kind > 0 && shown[f.kind] >= per_kind) {
      ++hidden[f.kind];
      continue;
    }
    ++shown[f.kind];
    std::cout << fmt::format("  {:<24} {}\n", f.kind, f.to_string());
  }
  for (const auto& [kind, n] : hidden) {
    std::cout << fmt::format("  {:<24} … and {} more (use --format json for all)\n", kind, n);
  }
}

}  // namespace flowgate::cli

namespace flowgate::cli {

void print_outcome(const std::vector<audit::Finding>& findings, const std::string& ok_line) {
  if (findings.empty()) {
    std::cout << "  OK: " << ok_line << "\n";
    return;
  }
  std::cout << fmt::format("  {} finding{}:\n", findings.size(), findings.size() > 1 ? "s" : "");
  print_findings(findings);
}

}  // namespace flowgate::cli
