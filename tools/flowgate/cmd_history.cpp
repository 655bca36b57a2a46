// `flowgate history ID`: an instance's history as a timeline a person reads — time, event, from →
// to, who, the data each step changed, the time spent in the state it left, review votes and
// clock warnings and breaches, and the time spent in each state and stage (engine/audit/
// timeline.h). `--format json|jsonl` prints the stored events with their hashes; `--format
// timeline` prints the timeline as JSON.
#include <iostream>
#include <memory>

#include "audit/timeline.h"
#include "tools/flowgate/cli_util.h"
#include "tools/flowgate/command.h"

namespace flowgate::cli {
namespace {

struct HistoryArgs {
  std::string db;
  std::string socket;
  std::string format = "table";
};

void print(const std::vector<EventRecord>& events, const Workflow* wf, const std::string& format) {
  if (format == "json" || format == "jsonl") {
    print_history(events, parse_output_format(format));
    return;
  }
  audit::Timeline t = audit::build_timeline(events, wf);
  if (format == "timeline") {
    std::cout << t.to_json().dump(2) << "\n";
  } else {
    std::cout << audit::render_timeline(t);
  }
}

CommandRegistrar history_verb(
    "history", "show an instance's history as a timeline", [](CLI::App& sub) {
      auto a = std::make_shared<HistoryArgs>();
      auto id = std::make_shared<std::string>();
      sub.add_option("--db", a->db, "SQLite database file");
      sub.add_option("--socket", a->socket, "a running server's socket (instead of --db)");
      sub.add_option("--format", a->format,
                     "table (the timeline), json or jsonl (the stored events with their "
                     "hashes), timeline (the timeline as JSON)")
          ->check(CLI::IsMember({"table", "json", "jsonl", "timeline"}));
      sub.add_option("instance", *id, "instance id")->required();
      return [=]() {
        if (a->db.empty() == a->socket.empty()) {
          return report_error(Error(ErrorCode::kInvalidArgument,
                                    "give either --db FILE or --socket PATH (a running server)"));
        }
        if (!a->socket.empty()) {
          auto answer = call_server(a->socket, "instance.history", {{"instance_id", *id}});
          if (!answer) return report_error(answer.error());
          std::vector<EventRecord> events;
          for (const auto& j : answer->value("events", nlohmann::json::array())) {
            auto e = event_from_json(j);
            if (!e) return report_error(e.error());
            events.push_back(std::move(*e));
          }
          print(events, nullptr, a->format);
          return kExitOk;
        }
        auto engine = open_engine(a->db, "", /*read_only=*/true);
        if (!engine) return report_error(engine.error());
        auto events = (*engine)->history(*id);
        if (!events) return report_error(events.error());
        // The definition the instance started on names states and stages (migrations keep ids).
        std::shared_ptr<const Workflow> wf;
        if (!events->empty()) {
          const auto& body = events->front().body;
          auto pinned =
              (*engine)->workflow(body.value("workflow", std::string()), body.value("version", 0));
          if (pinned) wf = *pinned;
        }
        print(*events, wf.get(), a->format);
        return kExitOk;
      };
    });

}  // namespace
}  // namespace flowgate::cli
