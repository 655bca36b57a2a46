// Shared pieces of the audit verbs (verify, replay, export, report, history): the plugins they
// load stored definitions and fold plugin events with, the database argument (positional or
// --db), and printing findings.
// Thread-safety: the plugin set is built on first use (thread-safe static), read-only afterwards.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "audit/finding.h"
#include "definition/section_registry.h"
#include "runtime/hooks.h"
#include "util/error.h"

namespace flowgate::cli {

struct AuditPlugins {
  const SectionRegistry* sections = nullptr;
  const HookSet* hooks = nullptr;
};
// The same plugins the engine verbs run with, so an audit reads histories exactly as they were
// written.
AuditPlugins audit_plugins();

// `VERB DB` or `VERB --db DB`.
void add_db_argument(CLI::App& sub, std::string& db);
// Checks that exactly one of the two forms was given (kInvalidArgument otherwise).
Result<void> require_db(const std::string& db);

// Parses an RFC 3339 datetime or a date (YYYY-MM-DD, midnight UTC) given to `option`.
Result<std::int64_t> parse_time_option(const std::string& text, const std::string& option);

// "KIND  INSTANCE #SEQ (position P, TYPE): MESSAGE" lines, grouped by kind, at most `per_kind`
// lines per kind (0 = all) with a count of the rest.
void print_findings(const std::vector<audit::Finding>& findings, std::size_t per_kind = 50);
// "  OK: <ok_line>" or "  N findings:" and the findings.
void print_outcome(const std::vector<audit::Finding>& findings, const std::string& ok_line);

}  // namespace flowgate::cli
