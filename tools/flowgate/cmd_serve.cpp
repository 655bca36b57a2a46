// `flowgate serve`: run the engine on a database and serve it on a Unix socket (docs/protocol.md).
#include <signal.h>
#include <unistd.h>

#include <iostream>
#include <memory>

#include <fmt/format.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "definition/value.h"
#include "plugins/gate/queries.h"
#include "server/access.h"
#include "server/config.h"
#include "server/server.h"
#include "server/socket_file.h"
#include "tools/flowgate/cli_util.h"
#include "tools/flowgate/command.h"
#include "tools/flowgate/sections.h"

namespace flowgate::cli {
namespace {

struct ServeArgs {
  std::string db;
  std::string workflows;
  std::string socket;
  std::string config;
  std::string clock = "system";
  std::string now;
  std::string log_level;
  std::string log_file;
};

Result<void> setup_logging(const server::ServerSettings& s) {
  try {
    std::shared_ptr<spdlog::logger> logger;
    if (s.log_file.empty()) {
      logger = spdlog::stderr_color_mt("flowgate");
    } else {
      logger = spdlog::basic_logger_mt("flowgate", s.log_file);
    }
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
    logger->set_level(spdlog::level::from_str(s.log_level));
    logger->flush_on(spdlog::level::info);
    spdlog::set_default_logger(logger);
  } catch (const spdlog::spdlog_ex& e) {
    return fail(ErrorCode::kInvalidArgument, fmt::format("cannot open the log: {}", e.what()));
  }
  return {};
}

// The socket methods of the built-in plugins, one line each, offered when the plugin is loaded
// (docs/gates.md §Socket methods, docs/protocol.md §Plugin methods).
void add_plugin_methods(server::Dispatcher& d, Engine& engine) {
  if (engine.hooks().find("gate")) {
    d.add_plugin_method("gate.vote", "gate", "vote");
    d.add_plugin_method("gate.recall", "gate", "recall");
    d.add_query(
        "gate.pending", [&d, &engine](server::Call& call) -> std::function<server::RpcResult()> {
          Actor actor;
          if (auto e = server::read_actor(call.params, call.principal, d.declared_roles(), actor)) {
            call.reply(server::rpc_fail(*e));
            return nullptr;
          }
          std::string workflow = call.params.string("workflow").value_or("");
          return [&engine, actor, workflow]() -> server::RpcResult {
            auto pending = gate::pending_reviews(engine, actor, workflow);
            if (!pending) return server::rpc_fail(pending.error());
            return std::move(*pending);
          };
        });
    d.add_query("gate.show", [&engine](server::Call& call) -> std::function<server::RpcResult()> {
      std::string id = call.params.required_string("instance_id");
      return [&engine, id]() -> server::RpcResult {
        auto shown = gate::gate_show(engine, id);
        if (!shown) return server::rpc_fail(shown.error());
        return std::move(*shown);
      };
    });
  }
  if (engine.hooks().find("sla")) {
    d.add_query("sla.clocks", [&engine](server::Call& call) -> std::function<server::RpcResult()> {
      std::string id = call.params.required_string("instance_id");
      return [&engine, id]() -> server::RpcResult {
        auto view = engine.get(id);
        if (!view) return server::rpc_fail(view.error());
        return nlohmann::json{{"instance_id", id},
                              {"clocks", view->value("clocks", nlohmann::json::array())}};
      };
    });
  }
}

int serve(const ServeArgs& a) {
  server::ServerConfig config;
  if (!a.config.empty()) {
    auto loaded = server::load_server_config(a.config);
    if (!loaded) return report_error(loaded.error());
    config = std::move(*loaded);
  }
  if (!a.log_level.empty()) config.settings.log_level = a.log_level;
  if (!a.log_file.empty()) config.settings.log_file = a.log_file;
  if (auto ok = setup_logging(config.settings); !ok) return report_error(ok.error());

  std::shared_ptr<Clock> clock;
  if (a.clock == "simulated") {
    if (a.now.empty()) {
      return report_error(Error(ErrorCode::kInvalidArgument, "--clock simulated needs --now")
                              .with_hint("e.g. --now 2026-03-02T09:00:00Z"));
    }
    auto start = parse_datetime_ms(a.now);
    if (!start) {
      return report_error(Error(ErrorCode::kInvalidArgument,
                                fmt::format("--now `{}` is not an RFC 3339 time", a.now))
                              .with_hint("e.g. --now 2026-03-02T09:00:00Z"));
    }
    clock = std::make_shared<SimulatedClock>(*start);
  } else {
    if (!a.now.empty()) {
      return report_error(Error(ErrorCode::kInvalidArgument,
                                "--now needs --clock simulated (the system clock cannot be set)"));
    }
    clock = std::make_shared<SystemClock>();
  }

  if (auto free = server::check_database_free(a.db); !free) return report_error(free.error());

  auto catalog = std::make_shared<Catalog>();
  Diagnostics diags;
  load_workflow_dir(a.workflows, cli_sections(), *catalog, diags);
  diags.sort();
  for (const auto& d : diags.items()) {
    if (d.severity == Severity::kError) std::cerr << d.to_string() << "\n";
  }
  if (diags.has_errors()) {
    return report_error(Error(ErrorCode::kInvalidDefinition,
                              fmt::format("{} error(s) in the process files under {}",
                                          diags.error_count(), a.workflows))
                            .with_hint("run `flowgate validate` on them; nothing was started"));
  }

  EngineOptions options;
  options.db_path = a.db;
  options.run_scheduler = !clock->simulated();
  options.hooks = cli_hooks();
  auto engine = Engine::open(options, catalog, clock, cli_sections());
  if (!engine) return report_error(engine.error());

  server::ServerOptions so;
  so.socket_path = a.socket;
  so.settings = config.settings;
  so.info = {"0.1.0", a.db, a.workflows, a.socket};
  server::AccessPolicy policy(config, geteuid());
  auto srv = server::Server::create(std::move(so), **engine, cli_sections(), std::move(policy));
  if (!srv) {
    (*engine)->stop();
    return report_error(srv.error());
  }
  add_plugin_methods((*srv)->dispatcher(), **engine);
  if (auto ok = server::check_config_methods(config, (*srv)->dispatcher().method_names()); !ok) {
    srv->reset();
    (*engine)->stop();
    return report_error(ok.error());
  }
  signal(SIGPIPE, SIG_IGN);
  spdlog::info("flowgate {} serving {} workflow(s) from {} ({} clock{}){}", "0.1.0",
               catalog->ids().size(), a.workflows, clock->simulated() ? "simulated" : "system",
               clock->simulated() ? ", now " + format_datetime_ms(clock->now_ms()) : "",
               config.has_file ? ", access from " + a.config : ", owner-only access");
  (*srv)->run();
  srv->reset();
  (*engine)->stop();
  spdlog::info("engine stopped; bye");
  spdlog::shutdown();
  return kExitOk;
}

CommandRegistrar serve_verb(
    "serve", "serve the engine on a Unix socket (JSON-RPC 2.0)", [](CLI::App& sub) {
      auto a = std::make_shared<ServeArgs>();
      sub.add_option("--db", a->db, "SQLite database file (created if missing)")->required();
      sub.add_option("--workflows", a->workflows, "directory of process files (*.toml)")
          ->required();
      sub.add_option("--socket", a->socket, "path of the Unix socket to create")->required();
      sub.add_option("--config", a->config, "server configuration (TOML): access, limits, logging");
      sub.add_option("--clock", a->clock, "system, or simulated (moved only by clock.advance)")
          ->check(CLI::IsMember({"system", "simulated"}));
      sub.add_option("--now", a->now, "start of the simulated clock (RFC 3339)");
      sub.add_option("--log-level", a->log_level, "trace, debug, info, warn, error, off")
          ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
      sub.add_option("--log-file", a->log_file, "write the log here instead of stderr");
      return [=]() { return serve(*a); };
    });

}  // namespace
}  // namespace flowgate::cli
