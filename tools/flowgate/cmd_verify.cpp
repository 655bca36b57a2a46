// `flowgate verify DB`: checks a database's hash chains, snapshots, definitions and checkpoints
// (engine/audit/verify.h); `flowgate verify --export FILE` re-verifies an export offline.
// Exit status: 0 intact, 1 findings, 2 usage, 3 the file cannot be read.
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "audit/export.h"
#include "audit/verify.h"
#include "tools/flowgate/audit_cli.h"
#include "tools/flowgate/cli_util.h"
#include "tools/flowgate/command.h"

namespace flowgate::cli {
namespace {

struct VerifyArgs {
  std::string db;
  std::string export_file;
  std::string format = "table";
  bool all_checkpoints = false;
  bool no_page_check = false;
};

void print_report(const audit::VerifyReport& r) {
  std::cout << fmt::format("verify {}\n", r.source);
  std::cout << fmt::format(
      "  {} definitions, {} instances, {} events, {} checkpoints ({} recomputed){}\n",
      r.definitions, r.instances, r.events, r.checkpoints, r.checkpoints_recomputed,
      r.page_checked ? ", every page read" : "");
  print_outcome(r.findings, "every hash chain, snapshot, definition and checkpoint verified");
}

CommandRegistrar verify_verb(
    "verify", "check hash chains, snapshots, definitions and checkpoints (read-only)",
    [](CLI::App& sub) {
      auto a = std::make_shared<VerifyArgs>();
      add_db_argument(sub, a->db);
      sub.add_option("--export", a->export_file, "verify an export file (jsonl or csv) instead");
      sub.add_option("--format", a->format, "output format")
          ->check(CLI::IsMember({"table", "json"}));
      sub.add_flag("--all-checkpoints", a->all_checkpoints,
                   "recompute every checkpoint, not only the newest");
      sub.add_flag("--no-page-check", a->no_page_check,
                   "skip SQLite's page check (PRAGMA quick_check)");
      return [=]() {
        AuditPlugins plugins = audit_plugins();
        audit::VerifyOptions options;
        options.sections = plugins.sections;
        options.hooks = plugins.hooks;
        options.all_checkpoints = a->all_checkpoints;
        options.page_check = !a->no_page_check;
        Result<audit::VerifyReport> report;
        if (!a->export_file.empty()) {
          if (!a->db.empty()) {
            return report_error(Error(ErrorCode::kInvalidArgument,
                                      "give either a database or --export FILE, not both"));
          }
          auto source = audit::export_source(a->export_file);
          if (!source) return report_error(source.error());
          report = audit::verify(**source, options);
        } else {
          if (auto ok = require_db(a->db); !ok) return report_error(ok.error());
          report = audit::verify_database(a->db, options);
        }
        if (!report) return report_error(report.error());
        if (a->format == "json") {
          std::cout << report->to_json().dump(2) << "\n";
        } else {
          print_report(*report);
        }
        return report->ok() ? kExitOk : kExitRefused;
      };
    });

}  // namespace
}  // namespace flowgate::cli
