// Verbs that run the engine embedded on a database file (--db; mutating verbs also need
// --workflows) or send the command to a running server (--socket): start, fire, update, suspend,
// resume, cancel, migrate, and the reads show and list. `history` is in cmd_history.cpp.
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "tools/flowgate/cli_util.h"
#include "tools/flowgate/command.h"

namespace flowgate::cli {
namespace {

struct CommonArgs {
  std::string db;
  std::string socket;
  std::string workflows;
  std::string as;
  std::string request_id;
  std::string format = "table";
  std::int64_t expect_version = -1;
};

void add_db(CLI::App& sub, CommonArgs& a) {
  sub.add_option("--db", a.db, "SQLite database file (created if missing)");
  sub.add_option("--socket", a.socket, "a running server's socket (instead of --db)");
}

// Exactly one of --db and --socket; --workflows goes with --db for the mutating verbs.
Result<void> check_target(const CommonArgs& a, bool mutating) {
  if (a.db.empty() == a.socket.empty()) {
    return fail(Error(ErrorCode::kInvalidArgument,
                      "give either --db FILE (run the engine here) or --socket PATH (a running "
                      "server)"));
  }
  if (mutating && !a.db.empty() && a.workflows.empty()) {
    return fail(ErrorCode::kInvalidArgument, "--workflows DIR is required with --db");
  }
  return {};
}
void add_format(CLI::App& sub, CommonArgs& a) {
  sub.add_option("--format", a.format, "output format")
      ->check(CLI::IsMember(output_format_names()));
}
void add_mutating(CLI::App& sub, CommonArgs& a) {
  add_db(sub, a);
  sub.add_option("--workflows", a.workflows, "directory of process files (*.toml); with --db");
  sub.add_option("--as", a.as, "actor: ROLE[,ROLE...][:USER] (default: you, as owner)");
  sub.add_option("--request-id", a.request_id, "idempotency key: a retry returns the first answer");
  add_format(sub, a);
}

// Sends one command to the server on --socket and prints the instance after it.
int run_on_socket(const CommonArgs& a, const Command& cmd) {
  auto [method, params] = socket_request(cmd);
  auto actor = actor_param(a.as);
  if (!actor) return report_error(actor.error());
  if (!actor->is_null()) params["actor"] = *actor;
  auto view = call_server(a.socket, method, std::move(params));
  if (!view) return report_error(view.error());
  view->erase("events");  // the same shape as the embedded answer
  view->erase("replayed");
  print_instance(*view, parse_output_format(a.format));
  return kExitOk;
}

// Runs one command on an embedded engine (or through --socket) and prints the instance after it.
int run(const CommonArgs& a, Command cmd) {
  if (auto ok = check_target(a, /*mutating=*/true); !ok) return report_error(ok.error());
  if (!a.socket.empty()) {
    cmd.request_id = a.request_id;
    if (a.expect_version >= 0) cmd.expect_version = a.expect_version;
    return run_on_socket(a, cmd);
  }
  auto engine = open_engine(a.db, a.workflows);
  if (!engine) return report_error(engine.error());
  auto actor = parse_actor(a.as, (*engine)->catalog());
  if (!actor) return report_error(actor.error());
  cmd.actor = std::move(*actor);
  cmd.request_id = a.request_id;
  if (a.expect_version >= 0) cmd.expect_version = a.expect_version;
  auto outcome = (*engine)->execute(std::move(cmd));
  (*engine)->stop();
  if (!outcome) return report_error(outcome.error());
  print_instance(outcome->instance, parse_output_format(a.format));
  return kExitOk;
}

CommandRegistrar start_verb("start", "start an instance of a workflow", [](CLI::App& sub) {
  auto a = std::make_shared<CommonArgs>();
  auto workflow = std::make_shared<std::string>();
  auto data = std::make_shared<std::string>();
  auto key = std::make_shared<std::string>();
  auto version = std::make_shared<int>(0);
  add_mutating(sub, *a);
  sub.add_option("workflow", *workflow, "workflow id")->required();
  sub.add_option("--data", *data, "initial data as a JSON object");
  sub.add_option("--key", *key, "business key (unique per workflow), e.g. a CRM id");
  sub.add_option("--version", *version, "definition version (default: the latest)");
  return [=]() {
    auto j = parse_json_object(*data, "--data");
    if (!j) return report_error(j.error());
    Command c;
    c.kind = CommandKind::kStart;
    c.workflow_id = *workflow;
    c.data = std::move(*j);
    c.business_key = *key;
    if (*version > 0) c.version = *version;
    return run(*a, std::move(c));
  };
});

CommandRegistrar fire_verb("fire", "fire an event on an instance", [](CLI::App& sub) {
  auto a = std::make_shared<CommonArgs>();
  auto id = std::make_shared<std::string>();
  auto event = std::make_shared<std::string>();
  auto payload = std::make_shared<std::string>();
  add_mutating(sub, *a);
  sub.add_option("instance", *id, "instance id")->required();
  sub.add_option("event", *event, "event name")->required();
  sub.add_option("--payload", *payload, "event payload as a JSON object");
  sub.add_option("--expect-version", a->expect_version,
                 "refuse unless the instance is at this version");
  return [=]() {
    auto j = parse_json_object(*payload, "--payload");
    if (!j) return report_error(j.error());
    Command c;
    c.kind = CommandKind::kFire;
    c.instance_id = *id;
    c.event = *event;
    c.payload = std::move(*j);
    return run(*a, std::move(c));
  };
});

CommandRegistrar update_verb("update", "change instance data (validated against [data])",
                             [](CLI::App& sub) {
                               auto a = std::make_shared<CommonArgs>();
                               auto id = std::make_shared<std::string>();
                               auto data = std::make_shared<std::string>();
                               add_mutating(sub, *a);
                               sub.add_option("instance", *id, "instance id")->required();
                               sub.add_option("--data", *data,
                                              "fields to change as a JSON object (null unsets)")
                                   ->required();
                               sub.add_option("--expect-version", a->expect_version,
                                              "refuse unless the instance is at this version");
                               return [=]() {
                                 auto j = parse_json_object(*data, "--data");
                                 if (!j) return report_error(j.error());
                                 Command c;
                                 c.kind = CommandKind::kUpdate;
                                 c.instance_id = *id;
                                 c.data = std::move(*j);
                                 return run(*a, std::move(c));
                               };
                             });

// suspend, resume and cancel share their arguments.
CommandSetup lifecycle_setup(CommandKind kind) {
  return [kind](CLI::App& sub) -> std::function<int()> {
    auto a = std::make_shared<CommonArgs>();
    auto id = std::make_shared<std::string>();
    auto reason = std::make_shared<std::string>();
    add_mutating(sub, *a);
    sub.add_option("instance", *id, "instance id")->required();
    sub.add_option("--reason", *reason, "why (recorded in the history)");
    sub.add_option("--expect-version", a->expect_version,
                   "refuse unless the instance is at this version");
    return [=]() {
      Command c;
      c.kind = kind;
      c.instance_id = *id;
      c.reason = *reason;
      return run(*a, std::move(c));
    };
  };
}

CommandRegistrar suspend_verb("suspend", "suspend an active instance",
                              lifecycle_setup(CommandKind::kSuspend));
CommandRegistrar resume_verb("resume", "resume a suspended instance",
                             lifecycle_setup(CommandKind::kResume));
CommandRegistrar cancel_verb("cancel", "cancel an instance (with a reason)",
                             lifecycle_setup(CommandKind::kCancel));

CommandRegistrar migrate_verb(
    "migrate", "move an instance to a newer version of its workflow", [](CLI::App& sub) {
      auto a = std::make_shared<CommonArgs>();
      auto id = std::make_shared<std::string>();
      auto to = std::make_shared<int>(0);
      auto mapping = std::make_shared<std::vector<std::string>>();
      add_mutating(sub, *a);
      sub.add_option("instance", *id, "instance id")->required();
      sub.add_option("--to-version", *to, "target definition version")->required();
      sub.add_option("--map", *mapping, "state mapping OLD=NEW (repeatable)");
      return [=]() {
        Command c;
        c.kind = CommandKind::kMigrate;
        c.instance_id = *id;
        c.to_version = *to;
        for (const auto& m : *mapping) {
          auto eq = m.find('=');
          if (eq == std::string::npos || eq == 0 || eq + 1 == m.size()) {
            return report_error(
                Error(ErrorCode::kInvalidArgument, fmt::format("--map `{}`: expected OLD=NEW", m)));
          }
          c.state_mapping[m.substr(0, eq)] = m.substr(eq + 1);
        }
        return run(*a, std::move(c));
      };
    });

CommandRegistrar show_verb("show", "show an instance", [](CLI::App& sub) {
  auto a = std::make_shared<CommonArgs>();
  auto id = std::make_shared<std::string>();
  add_db(sub, *a);
  sub.add_option("--workflows", a->workflows, "directory of process files (optional)");
  add_format(sub, *a);
  sub.add_option("instance", *id, "instance id")->required();
  return [=]() {
    if (auto ok = check_target(*a, /*mutating=*/false); !ok) return report_error(ok.error());
    if (!a->socket.empty()) {
      auto view = call_server(a->socket, "instance.get", {{"instance_id", *id}});
      if (!view) return report_error(view.error());
      print_instance(*view, parse_output_format(a->format));
      return kExitOk;
    }
    auto engine = open_engine(a->db, a->workflows, /*read_only=*/true);
    if (!engine) return report_error(engine.error());
    auto view = (*engine)->get(*id);
    if (!view) return report_error(view.error());
    print_instance(*view, parse_output_format(a->format));
    return kExitOk;
  };
});

CommandRegistrar list_verb("list", "list instances", [](CLI::App& sub) {
  auto a = std::make_shared<CommonArgs>();
  auto filter = std::make_shared<InstanceFilter>();
  add_db(sub, *a);
  add_format(sub, *a);
  sub.add_option("--workflow", filter->workflow_id, "only this workflow");
  sub.add_option("--state", filter->state, "only instances in this state");
  sub.add_option("--lifecycle", filter->lifecycle, "only this lifecycle")
      ->check(CLI::IsMember({"active", "suspended", "awaiting_gate", "completed", "cancelled"}));
  sub.add_option("--key", filter->business_key, "only this business key");
  sub.add_option("--limit", filter->limit, "page size")->check(CLI::Range(1, 10000));
  sub.add_option("--after", filter->after_id, "page after this instance id");
  return [=]() {
    if (auto ok = check_target(*a, /*mutating=*/false); !ok) return report_error(ok.error());
    if (!a->socket.empty()) {
      nlohmann::json params = {{"limit", filter->limit}};
      if (!filter->workflow_id.empty()) params["workflow"] = filter->workflow_id;
      if (!filter->state.empty()) params["state"] = filter->state;
      if (!filter->lifecycle.empty()) params["lifecycle"] = filter->lifecycle;
      if (!filter->business_key.empty()) params["business_key"] = filter->business_key;
      if (!filter->after_id.empty()) params["after"] = filter->after_id;
      auto page = call_server(a->socket, "instance.list", std::move(params));
      if (!page) return report_error(page.error());
      auto rows = page->value("instances", nlohmann::json::array());
      print_instances(rows.get<std::vector<nlohmann::json>>(), parse_output_format(a->format));
      return kExitOk;
    }
    auto engine = open_engine(a->db, "", /*read_only=*/true);
    if (!engine) return report_error(engine.error());
    auto rows = (*engine)->list(*filter);
    if (!rows) return report_error(rows.error());
    print_instances(*rows, parse_output_format(a->format));
    return kExitOk;
  };
});

}  // namespace
}  // namespace flowgate::cli
