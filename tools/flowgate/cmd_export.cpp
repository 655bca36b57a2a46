// `flowgate export DB --format jsonl|csv [--since] [--workflow] [--instance] [--output FILE]`:
// the history with its hashes and definitions, in the format docs/audit.md documents
// (engine/audit/export.h). Exit status: 0 written, 2 usage, 3 the database cannot be read.
#include <fstream>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "audit/export.h"
#include "tools/flowgate/audit_cli.h"
#include "tools/flowgate/cli_util.h"
#include "tools/flowgate/command.h"

namespace flowgate::cli {
namespace {

struct ExportArgs {
  std::string db;
  std::string format = "jsonl";
  std::string since;
  std::string workflow;
  std::string instance;
  std::string output;
};

CommandRegistrar export_verb(
    "export", "write the history with hashes and definitions (jsonl or csv)", [](CLI::App& sub) {
      auto a = std::make_shared<ExportArgs>();
      add_db_argument(sub, a->db);
      sub.add_option("--format", a->format, "jsonl (default) or csv")
          ->check(CLI::IsMember({"jsonl", "csv"}));
      sub.add_option("--since", a->since, "events at or after (RFC 3339 datetime or YYYY-MM-DD)");
      sub.add_option("--workflow", a->workflow, "only instances of this workflow");
      sub.add_option("--instance", a->instance, "only this instance");
      sub.add_option("--output,-o", a->output, "write to FILE instead of standard output");
      return [=]() {
        if (auto ok = require_db(a->db); !ok) return report_error(ok.error());
        audit::ExportOptions options;
        options.format =
            a->format == "csv" ? audit::ExportFormat::kCsv : audit::ExportFormat::kJsonl;
        options.workflow_id = a->workflow;
        options.instance_id = a->instance;
        if (!a->since.empty()) {
          auto t = parse_time_option(a->since, "--since");
          if (!t) return report_error(t.error());
          options.since_ms = *t;
        }
        std::ofstream file;
        std::ostream* out = &std::cout;
        if (!a->output.empty()) {
          file.open(a->output, std::ios::binary | std::ios::trunc);
          if (!file) {
            return report_error(
                Error(ErrorCode::kStorage, fmt::format("cannot write {}", a->output)));
          }
          out = &file;
        }
        auto summary = audit::export_database(a->db, options, *out);
        if (!summary) return report_error(summary.error());
        if (!a->output.empty()) {
          std::cerr << fmt::format(
              "exported {} events of {} instances, {} definitions, {} "
              "checkpoints to {}\n",
              summary->events, summary->instances, summary->definitions, summary->checkpoints,
              a->output);
        }
        return kExitOk;
      };
    });

}  // namespace
}  // namespace flowgate::cli
