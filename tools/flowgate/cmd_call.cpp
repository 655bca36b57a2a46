// `flowgate call`: send one JSON-RPC request to a running server and print the answer; for
// events.watch, then print the streamed notifications as JSON lines.
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "server/client.h"
#include "tools/flowgate/cli_util.h"
#include "tools/flowgate/command.h"

namespace flowgate::cli {
namespace {

struct CallArgs {
  std::string method;
  std::string params;
  std::string socket;
  std::string format = "json";
  std::int64_t count = 0;  // events.watch: stop after this many events (0 = until closed)
  double timeout_s = 0;    // events.watch: stop after this long without a notification
};

int call(const CallArgs& a) {
  auto params = parse_json_object(a.params, "PARAMS");
  if (!params) return report_error(params.error());
  auto client = server::RpcClient::connect(a.socket);
  if (!client) return report_error(client.error());
  auto result = client->call(a.method, std::move(*params));
  if (!result) return report_error(result.error());
  std::cout << (a.format == "jsonl" ? result->dump() : result->dump(2)) << "\n";
  if (a.method != "events.watch") return kExitOk;

  std::cout.flush();
  std::int64_t events = 0;
  auto wait = a.timeout_s > 0
                  ? std::chrono::milliseconds(static_cast<std::int64_t>(a.timeout_s * 1000))
                  : std::chrono::milliseconds(std::chrono::hours(24 * 365));
  for (;;) {
    auto note = client->next_notification(wait);
    if (!note) {
      // The server closed the stream (stopping, or it dropped a slow reader after saying so).
      return kExitOk;
    }
    if (!*note) return kExitOk;  // --timeout passed without a notification
    std::cout << (**note).dump() << std::endl;
    if ((**note).value("method", "") == "events.event" && a.count > 0 && ++events >= a.count) {
      return kExitOk;
    }
  }
}

CommandRegistrar call_verb(
    "call", "send one JSON-RPC request to a running server", [](CLI::App& sub) {
      auto a = std::make_shared<CallArgs>();
      sub.add_option("method", a->method, "method, e.g. instance.get or server.health")->required();
      sub.add_option("params", a->params, "parameters as a JSON object (default {})");
      sub.add_option("--socket", a->socket, "the server's socket (or $FLOWGATE_SOCKET)")
          ->envname("FLOWGATE_SOCKET")
          ->required();
      sub.add_option("--format", a->format, "json (indented) or jsonl (one line)")
          ->check(CLI::IsMember({"json", "jsonl"}));
      sub.add_option("--count", a->count, "events.watch: stop after this many events")
          ->check(CLI::NonNegativeNumber);
      sub.add_option("--timeout", a->timeout_s,
                     "events.watch: stop after this many seconds without a notification")
          ->check(CLI::NonNegativeNumber);
      return [=]() { return call(*a); };
    });

}  // namespace
}  // namespace flowgate::cli
