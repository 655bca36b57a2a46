// `flowgate report DB [--workflow W] [--since T] [--until T] [--period month|week|quarter]
// [--format table|json|csv] [--html FILE]`: the measures of docs/report.md by workflow and period.
// The core measures come from engine/report; each period gets the SLA plugin's clock figures and
// the gate plugin's review figures over the same events. Read-only on the database.
// Exit status: 0 written, 1 refused (an unknown workflow), 2 usage, 3 the database cannot be read
// or the page cannot be written.
#include <cmath>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "audit/audit_db.h"
#include "plugins/gate/report.h"
#include "plugins/sla/report.h"
#include "report/render.h"
#include "report/report.h"
#include "tools/flowgate/audit_cli.h"
#include "tools/flowgate/cli_util.h"
#include "tools/flowgate/command.h"

namespace flowgate::cli {
namespace {

struct ReportArgs {
  std::string db;
  std::string workflow;
  std::string since;
  std::string until;
  std::string period = "all";
  std::string format = "table";
  std::string html;
};

// The SLA on-time closure rate and the OLA on-time completion rate over all clocks of each kind:
// {sla_count, sla_met, sla_on_time_rate, ola_count, ola_met, ola_on_time_rate}.
nlohmann::json service_levels(const nlohmann::json& clocks) {
  nlohmann::json out;
  for (const std::string kind : {"sla", "ola"}) {
    std::int64_t count = 0, met = 0;
    for (const auto& c : clocks) {
      if (c.value("kind", "") != kind) continue;
      count += c.value("count", std::int64_t{0});
      met += c.value("met", std::int64_t{0});
    }
    out[kind + "_count"] = count;
    out[kind + "_met"] = met;
    out[kind + "_on_time_rate"] =
        count > 0 ? nlohmann::json(std::round(static_cast<double>(met) /
                                              static_cast<double>(count) * 10000.0) /
                                   10000.0)
                  : nlohmann::json(nullptr);
  }
  return out;
}

int run_report(const ReportArgs& a) {
  if (auto ok = require_db(a.db); !ok) return report_error(ok.error());
  report::ReportOptions options;
  options.workflow = a.workflow;
  options.period = report::parse_period(a.period).value_or(report::Period::kAll);
  if (!a.since.empty()) {
    auto t = parse_time_option(a.since, "--since");
    if (!t) return report_error(t.error());
    options.since_ms = *t;
  }
  if (!a.until.empty()) {
    auto t = parse_time_option(a.until, "--until");
    if (!t) return report_error(t.error());
    options.until_ms = *t;
  }
  auto db = audit::AuditDb::open(a.db);
  if (!db) return report_error(db.error());
  auto data = report::collect(**db, *audit_plugins().sections, options);
  if (!data) {
    // An unknown workflow is a refusal; since >= until is a usage error.
    if (data.error().code == ErrorCode::kInvalidArgument && options.since_ms && options.until_ms &&
        *options.since_ms >= *options.until_ms) {
      std::cerr << "flowgate: " << data.error().to_string() << "\n";
      return kExitUsage;
    }
    if (data.error().code == ErrorCode::kInvalidArgument) {
      std::cerr << "flowgate: " << data.error().to_string() << "\n";
      return kExitRefused;
    }
    return report_error(data.error());
  }
  // The plugins' figures read event fields by type; a field of the wrong type (an edited
  // database) throws, which becomes a storage error naming the plugin.
  std::optional<Error> malformed;
  nlohmann::json doc = report::to_document(
      *data, options, a.db, [&](const report::Bucket& bucket, nlohmann::json& period) {
        period["sla"] = nlohmann::json::array();
        period["gates"] = nlohmann::json::array();
        const char* plugin = "sla";
        try {
          for (const auto& row : sla::clock_report(bucket.events)) {
            period["sla"].push_back(row.to_json());
          }
          plugin = "gate";
          for (const auto& row : gate::gate_report(bucket.events)) {
            period["gates"].push_back(row.to_json());
          }
          period["service_levels"] = service_levels(period["sla"]);
        } catch (const nlohmann::json::exception& e) {
          malformed = Error(ErrorCode::kStorage,
                            fmt::format("a {}.* event of workflow {} has a malformed field: {}",
                                        plugin, bucket.workflow, e.what()))
                          .with_hint("run `flowgate verify` on the database");
        }
      });
  if (malformed) return report_error(*malformed);
  if (!a.html.empty()) {
    std::ofstream page(a.html, std::ios::binary | std::ios::trunc);
    page << report::render_html(doc);
    page.close();
    if (!page) {
      return report_error(Error(ErrorCode::kStorage, fmt::format("cannot write {}", a.html)));
    }
  }
  if (a.format == "json") {
    std::cout << doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else if (a.format == "csv") {
    std::cout << report::render_csv(doc);
  } else {
    std::cout << report::render_table(doc);
  }
  std::cout.flush();
  return std::cout ? kExitOk : kExitStorage;
}

CommandRegistrar report_verb(
    "report",
    "measures by workflow and period: funnel, win rate, stage times, SLA/OLA, escalation, "
    "reopen, gates, win rate per score band, customer satisfaction",
    [](CLI::App& sub) {
      auto a = std::make_shared<ReportArgs>();
      add_db_argument(sub, a->db);
      sub.add_option("--workflow", a->workflow, "only this workflow");
      sub.add_option("--since", a->since,
                     "instances started at or after (RFC 3339 datetime or YYYY-MM-DD)");
      sub.add_option("--until", a->until, "instances started before (RFC 3339 or YYYY-MM-DD)");
      sub.add_option("--period", a->period,
                     "group instances by start: all (default), week, month "
                     "or quarter")
          ->check(CLI::IsMember({"all", "week", "month", "quarter"}));
      sub.add_option("--format", a->format, "table (default), json or csv")
          ->check(CLI::IsMember({"table", "json", "csv"}));
      sub.add_option("--html", a->html, "also write one self-contained HTML page to FILE");
      return [a]() { return run_report(*a); };
    });

}  // namespace
}  // namespace flowgate::cli
