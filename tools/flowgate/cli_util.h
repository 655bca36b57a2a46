// Shared pieces of the CLI verbs that work on a database: opening the engine on --db and
// --workflows, or talking to a running server on --socket; parsing --as and JSON arguments,
// printing results in table/json/jsonl and errors with the documented exit status.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/catalog.h"
#include "runtime/command.h"
#include "runtime/engine.h"
#include "store/records.h"
#include "util/error.h"

namespace flowgate::cli {

enum class OutputFormat { kTable, kJson, kJsonl };
// The --format choices for CLI11 `check`.
const std::vector<std::string>& output_format_names();
OutputFormat parse_output_format(const std::string& name);

// Loads --workflows (if given; errors in any file are printed and refused) and opens the engine on
// --db with the system clock. `read_only` opens for reads only: a missing file is an error, not a
// new database.
Result<std::unique_ptr<Engine>> open_engine(const std::string& db, const std::string& workflows_dir,
                                            bool read_only = false);

// `--as ROLE[,ROLE...][:USER]`. Empty spec: the local user acting as owner, holding every role the
// loaded workflows declare (docs/cli.md).
Result<Actor> parse_actor(const std::string& spec, const Catalog& catalog);

// --socket: the request a command becomes on the socket (docs/protocol.md), e.g.
// {"instance.fire", {instance_id, event, payload, request_id?, expect_version?}}.
std::pair<std::string, nlohmann::json> socket_request(const Command& command);
// `--as ROLE[,ROLE...][:USER]` as the socket's `actor` parameter ({roles, user?}); null when
// empty (the server then acts as the verified caller).
Result<nlohmann::json> actor_param(const std::string& spec);
// Sends one request to the server on `socket` and returns its result.
Result<nlohmann::json> call_server(const std::string& socket, const std::string& method,
                                   nlohmann::json params);

// Parses a JSON object argument (--data, --payload); "" is an empty object.
Result<nlohmann::json> parse_json_object(const std::string& text, const std::string& option);

// Prints `error` to stderr and returns the exit status for it (1 refused, 2 usage, 3 storage).
int report_error(const Error& error);

void print_instance(const nlohmann::json& view, OutputFormat format);
void print_instances(const std::vector<nlohmann::json>& views, OutputFormat format);
void print_history(const std::vector<EventRecord>& events, OutputFormat format);

// One event as the JSON object the CLI, the socket and exports show (server/views.h), and back.
nlohmann::json event_to_json(const EventRecord& e);
Result<EventRecord> event_from_json(const nlohmann::json& j);

}  // namespace flowgate::cli
