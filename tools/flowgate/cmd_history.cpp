// `flowgate history`: an instance's history as a timeline a person reads.
#include <memory>

#include "tools/flowgate/cli_util.h"
#include "tools/flowgate/command.h"

namespace flowgate::cli {
namespace {

struct HistoryArgs {
  std::string db;
  std::string format = "table";
};

CommandRegistrar history_verb("history", "show an instance's history as a timeline",
                              [](CLI::App& sub) {
  auto a = std::make_shared<HistoryArgs>();
  auto id = std::make_shared<std::string>();
  sub.add_option("--db", a->db, "SQLite database file")->required();
  sub.add_option("--format", a->format, "output format")
      ->check(CLI::IsMember(output_format_names()));
  sub.add_option("instance", *id, "instance id")->required();
  return [=]() {
    auto engine = open_engine(a->db, "", /*read_only=*/true);
    if (!engine) return report_error(engine.error());
    auto events = (*engine)->history(*id);
    if (!events) return report_error(events.error());
    print_history(*events, parse_output_format(a->format));
    return kExitOk;
  };
});

}  // namespace
}  // namespace flowgate::cli
