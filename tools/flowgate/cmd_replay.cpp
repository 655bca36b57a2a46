// `flowgate replay DB [--instance ID] [--as-of DATETIME]`: rebuilds every instance from its
// events with its pinned definition and re-decides every recorded command
// (engine/audit/replay.h); with --as-of, prints the state of each instance at that moment.
// Exit status: 0 every step reproduced, 1 findings, 2 usage, 3 the file cannot be read.
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "audit/replay.h"
#include "tools/flowgate/audit_cli.h"
#include "tools/flowgate/cli_util.h"
#include "tools/flowgate/command.h"

namespace flowgate::cli {
namespace {

struct ReplayArgs {
  std::string db;
  std::string instance;
  std::string as_of;
  std::string format = "table";
};

void print_report(const audit::ReplayReport& r) {
  if (r.as_of_ms) {
    std::cout << fmt::format("state as of {} ({} instance{})\n", format_datetime_ms(*r.as_of_ms),
                             r.states.size(), r.states.size() == 1 ? "" : "s");
    if (r.states.size() == 1) {
      print_instance(r.states.front(), OutputFormat::kTable);
    } else if (!r.states.empty()) {
      print_instances(r.states, OutputFormat::kTable);
    }
  } else {
    std::cout << fmt::format("replay {}\n", r.source);
  }
  std::cout << fmt::format("  {} instances, {} events, {} commands re-decided\n", r.instances,
                           r.events, r.commands);
  print_outcome(r.findings, r.as_of_ms
                                ? "every step up to then reproduced"
                                : "every step reproduced; every snapshot matches its events");
}

CommandRegistrar replay_verb(
    "replay", "rebuild instances from their events and re-decide every recorded step",
    [](CLI::App& sub) {
      auto a = std::make_shared<ReplayArgs>();
      add_db_argument(sub, a->db);
      sub.add_option("--instance", a->instance, "replay one instance");
      sub.add_option("--as-of", a->as_of,
                     "show the state at this moment (RFC 3339 datetime or YYYY-MM-DD)");
      sub.add_option("--format", a->format, "output format")
          ->check(CLI::IsMember({"table", "json"}));
      return [=]() {
        if (auto ok = require_db(a->db); !ok) return report_error(ok.error());
        AuditPlugins plugins = audit_plugins();
        audit::ReplayOptions options;
        options.sections = plugins.sections;
        options.hooks = plugins.hooks;
        options.instance_id = a->instance;
        if (!a->as_of.empty()) {
          auto t = parse_time_option(a->as_of, "--as-of");
          if (!t) return report_error(t.error());
          options.as_of_ms = *t;
        }
        auto report = audit::replay_database(a->db, options);
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
