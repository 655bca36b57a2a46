#include "tools/flowgate/cli_util.h"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <set>

#include <fmt/format.h>

#include "audit/timeline.h"
#include "definition/value.h"
#include "server/client.h"
#include "server/views.h"
#include "tools/flowgate/command.h"
#include "tools/flowgate/sections.h"

namespace flowgate::cli {

using nlohmann::json;

const std::vector<std::string>& output_format_names() {
  static const std::vector<std::string> names = {"table", "json", "jsonl"};
  return names;
}

OutputFormat parse_output_format(const std::string& name) {
  if (name == "json") return OutputFormat::kJson;
  if (name == "jsonl") return OutputFormat::kJsonl;
  return OutputFormat::kTable;
}

Result<std::unique_ptr<Engine>> open_engine(const std::string& db, const std::string& workflows_dir,
                                            bool read_only) {
  auto catalog = std::make_shared<Catalog>();
  if (!workflows_dir.empty()) {
    Diagnostics diags;
    load_workflow_dir(workflows_dir, cli_sections(), *catalog, diags);
    if (diags.has_errors()) {
      diags.sort();
      for (const auto& d : diags.items()) {
        if (d.severity == Severity::kError) std::cerr << d.to_string() << "\n";
      }
      return fail(Error(ErrorCode::kInvalidDefinition,
                        fmt::format("{} error(s) in the process files under {}",
                                    diags.error_count(), workflows_dir))
                      .with_hint("run `flowgate validate` on them"));
    }
  }
  EngineOptions options;
  options.db_path = db;
  options.read_only = read_only;
  options.request_id_filter = false;  // one command: a lookup is cheaper than reading every id
  options.hooks = cli_hooks();
  return Engine::open(options, std::move(catalog), std::make_shared<SystemClock>(), cli_sections());
}

namespace {
std::string local_user() {
  if (const passwd* pw = getpwuid(geteuid()); pw && pw->pw_name) return pw->pw_name;
  return fmt::format("uid:{}", geteuid());
}
}  // namespace

Result<Actor> parse_actor(const std::string& spec, const Catalog& catalog) {
  Actor a;
  if (spec.empty()) {
    a.principal = local_user();
    std::set<std::string> roles;
    for (const auto& wf : catalog.latest_all()) {
      for (const auto& r : wf->roles) roles.insert(r.id);
    }
    a.roles.assign(roles.begin(), roles.end());
    return a;
  }
  std::string roles_part = spec;
  if (auto colon = spec.find(':'); colon != std::string::npos) {
    roles_part = spec.substr(0, colon);
    a.principal = spec.substr(colon + 1);
    if (a.principal.empty()) {
      return fail(ErrorCode::kInvalidArgument, "--as: the user after ':' is empty");
    }
  } else {
    a.principal = local_user();
  }
  std::size_t start = 0;
  while (start <= roles_part.size()) {
    std::size_t comma = roles_part.find(',', start);
    std::string role =
        roles_part.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!role.empty()) a.roles.push_back(role);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return a;
}

Result<json> parse_json_object(const std::string& text, const std::string& option) {
  if (text.empty()) return json::object();
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return fail(Error(ErrorCode::kInvalidArgument, fmt::format("{} is not valid JSON", option))
                    .with_hint(R"(quote it for the shell, e.g. --data '{"amount": "1200.00"}')"));
  }
  if (!j.is_object()) {
    return fail(ErrorCode::kInvalidArgument, fmt::format("{} must be a JSON object", option));
  }
  return j;
}

int report_error(const Error& error) {
  std::cerr << "flowgate: " << error.to_string() << "\n";
  if (error.data.contains("allowed") && error.data["allowed"].is_array()) {
    // Already in the hint for event errors; nothing more to print.
  }
  int code = static_cast<int>(error.code);
  if (error.code == ErrorCode::kInvalidArgument) return kExitUsage;
  if (code >= 500) return kExitStorage;
  return kExitRefused;
}

namespace {

std::string scalar(const json& v) { return audit::describe_value(v); }

void print_table(const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width(header.size());
  for (std::size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
  for (const auto& r : rows) {
    for (std::size_t i = 0; i < r.size() && i < width.size(); ++i) {
      width[i] = std::max(width[i], r[i].size());
    }
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      out += cells[i];
      if (i + 1 < cells.size()) out += std::string(width[i] - cells[i].size() + 2, ' ');
    }
    std::cout << out << "\n";
  };
  line(header);
  for (const auto& r : rows) line(r);
}

}  // namespace

void print_instance(const json& view, OutputFormat format) {
  if (format != OutputFormat::kTable) {
    std::cout << (format == OutputFormat::kJson ? view.dump(2) : view.dump()) << "\n";
    return;
  }
  std::cout << fmt::format("instance   {}\n", scalar(view.value("instance_id", json())));
  std::cout << fmt::format("workflow   {} v{}\n", scalar(view.value("workflow", json())),
                           scalar(view.value("workflow_version", json())));
  std::cout << fmt::format("state      {} ({})\n", scalar(view.value("state", json())),
                           scalar(view.value("lifecycle", json())));
  std::cout << fmt::format("version    {}\n", scalar(view.value("version", json())));
  if (view.contains("business_key")) {
    std::cout << fmt::format("key        {}\n", scalar(view["business_key"]));
  }
  std::cout << fmt::format("updated    {}\n", scalar(view.value("updated_at", json())));
  const json& data = view.contains("data") ? view["data"] : json::object();
  for (const auto& [field, value] : data.items()) {
    std::cout << fmt::format("  {} = {}\n", field, scalar(value));
  }
  if (view.contains("allowed_events") && !view["allowed_events"].empty()) {
    std::vector<std::string> ev = view["allowed_events"];
    std::cout << fmt::format("next       {}\n", fmt::join(ev, ", "));
  }
}

void print_instances(const std::vector<json>& views, OutputFormat format) {
  if (format == OutputFormat::kJson) {
    std::cout << json(views).dump(2) << "\n";
    return;
  }
  if (format == OutputFormat::kJsonl) {
    for (const auto& v : views) std::cout << v.dump() << "\n";
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& v : views) {
    rows.push_back({scalar(v.value("instance_id", json())), scalar(v.value("workflow", json())),
                    scalar(v.value("state", json())), scalar(v.value("lifecycle", json())),
                    scalar(v.value("version", json())), v.value("business_key", std::string("-")),
                    scalar(v.value("updated_at", json()))});
  }
  print_table({"INSTANCE", "WORKFLOW", "STATE", "LIFECYCLE", "VERSION", "KEY", "UPDATED"}, rows);
}

json event_to_json(const EventRecord& e) { return server::event_json(e); }

Result<EventRecord> event_from_json(const json& j) {
  if (!j.is_object()) {
    return fail(ErrorCode::kInternal, "an event from the server is not an object");
  }
  EventRecord e;
  e.position = j.value("position", std::int64_t{0});
  e.instance_id = j.value("instance_id", "");
  e.seq = j.value("seq", std::int64_t{0});
  auto at = parse_datetime_ms(j.value("at", ""));
  if (!at) return fail(ErrorCode::kInternal, "an event from the server has no valid `at`");
  e.at_ms = *at;
  e.type = j.value("type", "");
  e.actor = j.value("actor", json::object());
  e.body = j.value("body", json::object());
  e.request_id = j.value("request_id", "");
  e.prev_hash = j.value("prev_hash", "");
  e.hash = j.value("hash", "");
  return e;
}

std::pair<std::string, json> socket_request(const Command& c) {
  json p = json::object();
  std::string method;
  switch (c.kind) {
    case CommandKind::kStart:
      method = "instance.start";
      p["workflow"] = c.workflow_id;
      p["data"] = c.data;
      if (!c.business_key.empty()) p["business_key"] = c.business_key;
      if (c.version) p["version"] = *c.version;
      break;
    case CommandKind::kFire:
      method = "instance.fire";
      p["event"] = c.event;
      p["payload"] = c.payload;
      break;
    case CommandKind::kUpdate:
      method = "instance.update";
      p["data"] = c.data;
      break;
    case CommandKind::kSuspend:
    case CommandKind::kResume:
    case CommandKind::kCancel:
      method = fmt::format("instance.{}", command_kind_name(c.kind));
      if (!c.reason.empty()) p["reason"] = c.reason;
      break;
    case CommandKind::kMigrate:
      method = "instance.migrate";
      p["to_version"] = c.to_version;
      if (!c.state_mapping.empty()) p["state_mapping"] = c.state_mapping;
      break;
    case CommandKind::kTimer:
    case CommandKind::kPlugin:
      method = fmt::format("{}.{}", c.plugin, c.action);
      p["payload"] = c.payload;
      break;
  }
  if (c.kind != CommandKind::kStart) p["instance_id"] = c.instance_id;
  if (!c.request_id.empty()) p["request_id"] = c.request_id;
  if (c.expect_version) p["expect_version"] = *c.expect_version;
  return {method, p};
}

Result<json> actor_param(const std::string& spec) {
  if (spec.empty()) return json(nullptr);
  Catalog none;
  auto actor = parse_actor(spec, none);
  if (!actor) return fail(actor.error());
  json j = {{"roles", actor->roles}};
  if (spec.find(':') != std::string::npos) j["user"] = actor->principal;
  return j;
}

Result<json> call_server(const std::string& socket, const std::string& method, json params) {
  auto client = server::RpcClient::connect(socket);
  if (!client) return fail(client.error());
  return client->call(method, std::move(params));
}

void print_history(const std::vector<EventRecord>& events, OutputFormat format) {
  if (format == OutputFormat::kJson) {
    json arr = json::array();
    for (const auto& e : events) arr.push_back(event_to_json(e));
    std::cout << arr.dump(2) << "\n";
    return;
  }
  if (format == OutputFormat::kJsonl) {
    for (const auto& e : events) std::cout << event_to_json(e).dump() << "\n";
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : events) {
    std::string move;
    std::string detail;
    if (e.type == "transitioned") {
      move = fmt::format("{} → {}", scalar(e.body.value("from", json())),
                         scalar(e.body.value("to", json())));
      detail = fmt::format("on {}", scalar(e.body.value("event", json())));
      std::string changes = audit::describe_changes(e.body.value("changes", json()));
      if (!changes.empty()) detail += "; " + changes;
    } else if (e.type == "instance_started") {
      move = fmt::format("→ {}", scalar(e.body.value("state", json())));
      json data = e.body.value("data", json::object());
      std::string fields;
      for (const auto& [k, v] : data.items()) {
        if (!fields.empty()) fields += ", ";
        fields += fmt::format("{} = {}", k, scalar(v));
      }
      detail = fields;
    } else if (e.type == "data_changed") {
      detail = audit::describe_changes(e.body.value("changes", json()));
    } else if (e.type == "migrated") {
      move = fmt::format("{} → {}", scalar(e.body.value("from_state", json())),
                         scalar(e.body.value("to_state", json())));
      detail = fmt::format("v{} → v{}", scalar(e.body.value("from_version", json())),
                           scalar(e.body.value("to_version", json())));
    } else if (e.body.contains("reason")) {
      detail = scalar(e.body["reason"]);
    }
    std::string actor = scalar(e.actor.value("principal", json()));
    if (e.actor.contains("on_behalf_of")) actor += " for " + scalar(e.actor["on_behalf_of"]);
    if (e.actor.contains("roles") && !e.actor["roles"].empty() && e.actor["roles"].size() <= 3) {
      std::vector<std::string> roles = e.actor["roles"];
      actor += fmt::format(" ({})", fmt::join(roles, ","));
    }
    rows.push_back(
        {std::to_string(e.seq), format_datetime_ms(e.at_ms), e.type, move, actor, detail});
  }
  print_table({"#", "TIME", "EVENT", "FROM → TO", "ACTOR", "DETAILS"}, rows);
}

}  // namespace flowgate::cli
