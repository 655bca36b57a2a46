// `flowgate clocks INSTANCE`: an instance's SLA/OLA clocks (docs/sla.md §The instance view), from
// a database (--db) or a running server (--socket, method sla.clocks).
// `flowgate clock now|advance`: read or move a running server's simulated clock (clock.now,
// clock.advance). An embedded database always runs on the system clock (its timers fire when due
// while a verb has it open), so there is nothing to advance without a server started with
// `--clock simulated`.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "definition/value.h"
#include "plugins/sla/calendar.h"
#include "tools/flowgate/cli_util.h"
#include "tools/flowgate/command.h"

namespace flowgate::cli {
namespace {

using nlohmann::json;

std::string text_of(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "-";
  return v.dump();
}

std::string seconds_text(const json& v) {
  return v.is_number_integer() ? sla::format_business_duration(v.get<std::int64_t>() * 1000) : "-";
}

void print_clocks(const std::string& instance_id, const json& clocks, OutputFormat format) {
  if (format == OutputFormat::kJson) {
    std::cout << json{{"instance_id", instance_id}, {"clocks", clocks}}.dump(2) << "\n";
    return;
  }
  if (format == OutputFormat::kJsonl) {
    for (const auto& c : clocks) std::cout << c.dump() << "\n";
    return;
  }
  const std::vector<std::string> header = {"CLOCK", "KIND",          "STATUS",  "BREACHED",
                                           "CYCLE", "TARGET",        "ELAPSED", "SINCE",
                                           "LEFT",  "PLANNED BREACH"};
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : clocks) {
    std::string since = text_of(c.value("running_since", json()));
    if (since == "-") since = text_of(c.value("paused_since", json()));
    rows.push_back({text_of(c.value("id", json())), text_of(c.value("kind", json())),
                    text_of(c.value("status", json())), c.value("breached", false) ? "yes" : "no",
                    text_of(c.value("cycle", json())), text_of(c.value("target", json())),
                    seconds_text(c.value("business_elapsed_s", json())), since,
                    seconds_text(c.value("time_left_s", json())),
                    text_of(c.value("planned_breach_at", json()))});
  }
  std::vector<std::size_t> width(header.size());
  for (std::size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
  for (const auto& r : rows) {
    for (std::size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < cells.size(); ++i) {
      std::cout << cells[i];
      if (i + 1 < cells.size()) std::cout << std::string(width[i] - cells[i].size() + 2, ' ');
    }
    std::cout << "\n";
  };
  line(header);
  for (const auto& r : rows) line(r);
  if (rows.empty()) std::cout << "(the workflow defines no clocks)\n";
}

struct ClocksArgs {
  std::string db;
  std::string socket;
  std::string workflows;
  std::string format = "table";
  std::string instance;
};

CommandRegistrar clocks_verb(
    "clocks", "show an instance's SLA/OLA clocks (status, target, elapsed, planned breach)",
    [](CLI::App& sub) {
      auto a = std::make_shared<ClocksArgs>();
      sub.add_option("--db", a->db, "SQLite database file");
      sub.add_option("--socket", a->socket, "a running server's socket (instead of --db)");
      sub.add_option("--workflows", a->workflows, "directory of process files (optional)");
      sub.add_option("--format", a->format, "output format")
          ->check(CLI::IsMember(output_format_names()));
      sub.add_option("instance", a->instance, "instance id")->required();
      return [a]() {
        if (a->db.empty() == a->socket.empty()) {
          return report_error(Error(ErrorCode::kInvalidArgument,
                                    "give either --db FILE or --socket PATH (a running server)"));
        }
        json clocks;
        if (!a->socket.empty()) {
          auto r = call_server(a->socket, "sla.clocks", {{"instance_id", a->instance}});
          if (!r) return report_error(r.error());
          clocks = r->value("clocks", json::array());
        } else {
          auto engine = open_engine(a->db, a->workflows, /*read_only=*/true);
          if (!engine) return report_error(engine.error());
          auto view = (*engine)->get(a->instance);
          if (!view) return report_error(view.error());
          clocks = view->value("clocks", json::array());
        }
        print_clocks(a->instance, clocks, parse_output_format(a->format));
        return kExitOk;
      };
    });

struct ClockArgs {
  std::string socket;
  std::string by;
  std::string to;
  std::string db;
};

CommandRegistrar clock_verb(
    "clock", "read or advance a server's simulated clock (firing the timers that come due)",
    [](CLI::App& sub) {
      auto a = std::make_shared<ClockArgs>();
      auto action = std::make_shared<std::string>();
      sub.add_option("action", *action, "now, or advance")
          ->required()
          ->check(CLI::IsMember({"now", "advance"}));
      sub.add_option("--socket", a->socket, "the socket of `flowgate serve --clock simulated`");
      sub.add_option("--db", a->db, "refused: an embedded database runs on the system clock");
      sub.add_option("--by", a->by, "advance: a duration, e.g. 2h30m, 3d");
      sub.add_option("--to", a->to, "advance: an instant (RFC 3339)");
      return [a, action]() {
        if (!a->db.empty() || a->socket.empty()) {
          return report_error(
              Error(ErrorCode::kInvalidArgument,
                    "the clock belongs to a running server: give --socket PATH")
                  .with_hint("an embedded database (--db) runs on the system clock; start "
                             "`flowgate serve --clock simulated --now <time>` to move time"));
        }
        if (*action == "now") {
          auto r = call_server(a->socket, "clock.now", json::object());
          if (!r) return report_error(r.error());
          std::cout << text_of(r->value("now", json()))
                    << (r->value("simulated", false) ? " (simulated)" : " (system)") << "\n";
          return kExitOk;
        }
        if (a->by.empty() == a->to.empty()) {
          return report_error(
              Error(ErrorCode::kInvalidArgument, "advance needs exactly one of --by and --to"));
        }
        json params = a->by.empty() ? json{{"to", a->to}} : json{{"by", a->by}};
        auto r = call_server(a->socket, "clock.advance", std::move(params));
        if (!r) return report_error(r.error());
        std::cout << text_of(r->value("now", json())) << "\n";
        return kExitOk;
      };
    });

}  // namespace
}  // namespace flowgate::cli
