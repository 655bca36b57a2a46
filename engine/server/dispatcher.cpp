#include "server/dispatcher.h"

#include <unistd.h>

#include <atomic>
#include <climits>
#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "definition/loader.h"
#include "definition/value.h"
#include "server/views.h"
#include "util/diagnostic.h"

namespace flowgate::server {

using nlohmann::json;

namespace {

RpcError forbidden(const Principal& p, std::string message, std::string hint) {
  return RpcError::from(Error(ErrorCode::kForbidden, std::move(message))
                            .with_hint(std::move(hint))
                            .with_data("principal", p.user));
}

// Runs the last parameter checks; replies with the problem and returns false if there is one.
bool params_ok(Call& call) {
  if (auto e = call.params.finish()) {
    call.reply(rpc_fail(*e));
    return false;
  }
  return true;
}

json diagnostics_json(const Diagnostics& diags) {
  json out = json::array();
  for (const auto& d : diags.items()) out.push_back(d.to_json());
  return out;
}

}  // namespace

std::optional<RpcError> read_actor(Params& p, const Principal& principal,
                                   const std::vector<std::string>& declared_roles, Actor& out) {
  out.principal = principal.user;
  out.roles = principal.effective_roles(declared_roles);
  const json& actor = p.raw("actor");
  auto behalf = p.string("on_behalf_of");
  if ((!actor.is_null() || behalf) && !principal.trusted) {
    return forbidden(
        principal,
        fmt::format("user `{}` is not trusted to set `actor` or `on_behalf_of`", principal.user),
        "commands run as the verified caller; a trusted principal (trusted = true "
        "in the server configuration) may act for others");
  }
  if (!actor.is_null()) {
    if (!actor.is_object()) {
      p.problem("`actor` must be an object {user, roles}");
    } else {
      for (const auto& [key, value] : actor.items()) {
        if (key == "user") {
          if (!value.is_string() || value.get_ref<const std::string&>().empty()) {
            p.problem("`actor.user` must be a non-empty string");
          } else if (value != principal.user) {
            out.on_behalf_of = value.get<std::string>();
          }
        } else if (key == "roles") {
          bool ok = value.is_array();
          std::vector<std::string> roles;
          if (ok) {
            for (const auto& r : value) {
              if (!r.is_string()) {
                ok = false;
                break;
              }
              roles.push_back(r.get<std::string>());
            }
          }
          if (!ok) {
            p.problem("`actor.roles` must be an array of strings");
          } else {
            out.roles = std::move(roles);
          }
        } else {
          p.problem(fmt::format("unknown key `actor.{}` (expected user, roles)", key));
        }
      }
    }
  }
  if (behalf) {
    if (behalf->empty()) p.problem("`on_behalf_of` is empty");
    if (!out.on_behalf_of.empty() && out.on_behalf_of != *behalf) {
      p.problem("`on_behalf_of` and `actor.user` name different people");
    }
    if (*behalf != principal.user) out.on_behalf_of = *behalf;
  }
  return std::nullopt;
}

std::optional<RpcError> read_command_params(Params& p, const Principal& principal,
                                            const std::vector<std::string>& declared_roles,
                                            Command& command, bool with_expect_version) {
  if (auto rid = p.string("request_id")) {
    if (rid->empty() || rid->size() > 256) p.problem("`request_id` must be 1 to 256 characters");
    command.request_id = *rid;
  }
  if (with_expect_version) {
    if (auto v = p.integer("expect_version", 0)) command.expect_version = *v;
  }
  return read_actor(p, principal, declared_roles, command.actor);
}

Dispatcher::Dispatcher(Engine& engine, Executor& executor, const SectionRegistry& sections,
                       ServerStats& stats, ServerInfo info)
    : engine_(engine),
      executor_(executor),
      sections_(sections),
      stats_(stats),
      info_(std::move(info)) {
  add_builtin_methods();
}

void Dispatcher::add(std::string name, Handler handler) {
  methods_[std::move(name)] = std::move(handler);
}

std::vector<std::string> Dispatcher::method_names() const {
  std::vector<std::string> out;
  for (const auto& [name, h] : methods_) out.push_back(name);
  return out;
}

std::vector<std::string> Dispatcher::declared_roles() const {
  std::set<std::string> roles;
  for (const auto& wf : engine_.catalog().latest_all()) {
    for (const auto& r : wf->roles) roles.insert(r.id);
  }
  return {roles.begin(), roles.end()};
}

void Dispatcher::dispatch_line(const Principal& principal, CallerSession* session,
                               std::string_view line, std::function<void(std::string)> respond) {
  ParsedLine parsed = parse_line(line);
  if (parsed.items.empty()) {
    respond({});
    return;
  }
  if (!parsed.batch) {
    Incoming& item = parsed.items.front();
    if (!item.request) {
      stats_.protocol_errors.fetch_add(1, std::memory_order_relaxed);
      respond(to_line(item.error_response));
      return;
    }
    bool silent = item.request->notification;
    dispatch(principal, session, *item.request,
             [respond = std::move(respond), silent](json answer) {
               respond(silent ? std::string() : to_line(answer));
             });
    return;
  }
  // A batch is answered with one array once every element is done (in request order). Elements
  // that are engine commands finish on the engine's answering thread, the others on this one:
  // each writes only its own slot before counting down, and the last one down answers.
  struct BatchState {
    std::vector<json> answers;
    std::vector<bool> silent;  // written before the element is dispatched
    std::atomic<std::size_t> pending = 0;
    std::function<void(std::string)> respond;
    void done() {
      if (pending.fetch_sub(1, std::memory_order_acq_rel) > 1) return;
      json out = json::array();
      for (std::size_t i = 0; i < answers.size(); ++i) {
        if (!silent[i]) out.push_back(std::move(answers[i]));
      }
      respond(out.empty() ? std::string() : to_line(out));
    }
  };
  auto state = std::make_shared<BatchState>();
  std::size_t n = parsed.items.size();
  state->answers.resize(n);
  state->silent.assign(n, false);
  state->pending = n + 1;  // +1 until every element is dispatched (some may answer at once)
  state->respond = std::move(respond);
  for (std::size_t i = 0; i < n; ++i) {
    Incoming& item = parsed.items[i];
    if (!item.request) {
      stats_.protocol_errors.fetch_add(1, std::memory_order_relaxed);
      state->answers[i] = std::move(item.error_response);
      state->done();
      continue;
    }
    state->silent[i] = item.request->notification;
    dispatch(principal, session, *item.request, [state, i](json answer) {
      state->answers[i] = std::move(answer);
      state->done();
    });
  }
  state->done();
}

void Dispatcher::dispatch(const Principal& principal, CallerSession* session,
                          const Request& request, std::function<void(json)> respond) {
  auto started = std::chrono::steady_clock::now();
  stats_.in_flight.fetch_add(1, std::memory_order_relaxed);
  auto answered = std::make_shared<std::atomic<bool>>(false);
  Reply reply = [this, started, answered, id = request.id, method = request.method,
                 user = principal.user, respond = std::move(respond)](RpcResult result) {
    // A handler must answer once; a second answer is a bug, dropped.
    if (answered->exchange(true, std::memory_order_acq_rel)) return;
    auto elapsed = std::chrono::steady_clock::now() - started;
    stats_.record_latency(elapsed);
    stats_.in_flight.fetch_sub(1, std::memory_order_relaxed);
    stats_.requests.fetch_add(1, std::memory_order_relaxed);
    if (!result) stats_.errors.fetch_add(1, std::memory_order_relaxed);
    if (spdlog::should_log(spdlog::level::debug)) {
      spdlog::debug("{} by {} in {:.3f} ms: {}", method, user,
                    std::chrono::duration<double, std::milli>(elapsed).count(),
                    result
                        ? std::string("ok")
                        : fmt::format("error {} {}", result.error().code, result.error().message));
    }
    respond(result ? result_response(id, std::move(*result)) : error_response(id, result.error()));
  };

  auto it = methods_.find(request.method);
  if (it == methods_.end()) {
    std::string near = closest_match(request.method, method_names());
    RpcError e{kMethodNotFound, fmt::format("unknown method `{}`", request.method), nullptr};
    if (!near.empty()) e.data = {{"hint", fmt::format("did you mean `{}`?", near)}};
    reply(rpc_fail(std::move(e)));
    return;
  }
  if (!principal.may_call(request.method)) {
    RpcError e = forbidden(
        principal, fmt::format("user `{}` may not call `{}`", principal.user, request.method),
        fmt::format("grant it in the server configuration: methods = [\"{}\"]", request.method));
    e.data["method"] = request.method;
    e.data["missing_permission"] = request.method;
    reply(rpc_fail(std::move(e)));
    return;
  }
  Call call{principal, session, Params(request.params), reply};
  try {
    it->second(call);
  } catch (const std::exception& e) {
    spdlog::error("{} failed: {}", request.method, e.what());
    reply(rpc_fail(RpcError{kInternalError, fmt::format("internal error: {}", e.what()), nullptr}));
  }
}

void Dispatcher::submit(Call& call, Command command) {
  executor_.run_command(
      engine_, std::move(command), [reply = call.reply](Result<CommandOutcome> outcome) {
        if (!outcome) return reply(rpc_fail(outcome.error()));
        json result = std::move(outcome->instance);
        if (outcome->replayed) result["replayed"] = true;
        json events = json::array();
        for (const auto& e : outcome->events) {
          events.push_back({{"position", e.position}, {"seq", e.seq}, {"type", e.type}});
        }
        result["events"] = std::move(events);
        reply(std::move(result));
      });
}

void Dispatcher::read(Call& call, std::function<RpcResult()> work) {
  executor_.offload([this, work = std::move(work), reply = call.reply]() {
    RpcResult result;
    try {
      result = work();
    } catch (const std::exception& e) {
      result =
          rpc_fail(RpcError{kInternalError, fmt::format("internal error: {}", e.what()), nullptr});
    }
    executor_.post([reply, result = std::move(result)]() mutable { reply(std::move(result)); });
  });
}

void Dispatcher::add_command(std::string name, CommandReader read_params, bool expect_version) {
  add(std::move(name), [this, read_params = std::move(read_params), expect_version](Call& call) {
    Command c;
    read_params(call.params, c);
    if (auto e =
            read_command_params(call.params, call.principal, declared_roles(), c, expect_version)) {
      return call.reply(rpc_fail(*e));
    }
    if (!params_ok(call)) return;
    submit(call, std::move(c));
  });
}

void Dispatcher::add_plugin_method(std::string name, std::string plugin, std::string action) {
  add_command(std::move(name), [plugin, action](Params& p, Command& c) {
    c.kind = CommandKind::kPlugin;
    c.plugin = plugin;
    c.action = action;
    c.instance_id = p.required_string("instance_id");
    // Everything but the parameters every command shares is the plugin's payload.
    for (const char* shared : {"request_id", "expect_version", "actor", "on_behalf_of"}) {
      (void)p.raw(shared);
    }
    c.payload = p.rest();
  });
}

void Dispatcher::add_query(std::string name, Query prepare) {
  add(std::move(name), [this, prepare = std::move(prepare)](Call& call) {
    std::function<RpcResult()> work = prepare(call);
    if (!work || !params_ok(call)) return;
    read(call, std::move(work));
  });
}

void Dispatcher::add_builtin_methods() {
  // --- instance.* ---------------------------------------------------------------------------
  add_command(
      "instance.start",
      [](Params& p, Command& c) {
        c.kind = CommandKind::kStart;
        c.workflow_id = p.required_string("workflow");
        c.data = p.object("data");
        c.business_key = p.string("business_key").value_or("");
        if (auto v = p.integer("version", 1, INT_MAX)) c.version = static_cast<int>(*v);
      },
      /*expect_version=*/false);
  add_command("instance.fire", [](Params& p, Command& c) {
    c.kind = CommandKind::kFire;
    c.instance_id = p.required_string("instance_id");
    c.event = p.required_string("event");
    c.payload = p.object("payload");
  });
  add_command("instance.update", [](Params& p, Command& c) {
    c.kind = CommandKind::kUpdate;
    c.instance_id = p.required_string("instance_id");
    if (p.raw("data").is_null()) p.problem("missing parameter `data` (an object of fields)");
    c.data = p.object("data");
  });
  for (auto [name, kind] : {std::pair{"instance.suspend", CommandKind::kSuspend},
                            std::pair{"instance.resume", CommandKind::kResume},
                            std::pair{"instance.cancel", CommandKind::kCancel}}) {
    add_command(name, [kind](Params& p, Command& c) {
      c.kind = kind;
      c.instance_id = p.required_string("instance_id");
      c.reason = p.string("reason").value_or("");
    });
  }
  add_command("instance.migrate", [](Params& p, Command& c) {
    c.kind = CommandKind::kMigrate;
    c.instance_id = p.required_string("instance_id");
    if (auto v = p.integer("to_version", 1, INT_MAX)) {
      c.to_version = static_cast<int>(*v);
    } else if (p.raw("to_version").is_null()) {
      p.problem("missing parameter `to_version` (an integer)");
    }
    if (auto m = p.string_map("state_mapping")) c.state_mapping = std::move(*m);
  });
  add_query("instance.get", [this](Call& call) {
    std::string id = call.params.required_string("instance_id");
    return [this, id]() -> RpcResult {
      auto view = engine_.get(id);
      if (!view) return rpc_fail(view.error());
      return std::move(*view);
    };
  });
  add_query("instance.list", [this](Call& call) {
    auto& p = call.params;
    InstanceFilter f;
    f.workflow_id = p.string("workflow").value_or("");
    f.state = p.string("state").value_or("");
    f.lifecycle = p.string("lifecycle").value_or("");
    f.business_key = p.string("business_key").value_or("");
    f.after_id = p.string("after").value_or("");
    f.limit = p.integer("limit", 1, 10000).value_or(100);
    return [this, f]() -> RpcResult {
      auto rows = engine_.list(f);
      if (!rows) return rpc_fail(rows.error());
      json out = {{"instances", *rows}};
      if (static_cast<std::int64_t>(rows->size()) == f.limit && !rows->empty()) {
        out["next_after"] = rows->back().value("instance_id", "");
      }
      return out;
    };
  });
  add_query("instance.history", [this](Call& call) {
    std::string id = call.params.required_string("instance_id");
    return [this, id]() -> RpcResult {
      auto events = engine_.history(id);
      if (!events) return rpc_fail(events.error());
      json arr = json::array();
      for (const auto& e : *events) arr.push_back(event_json(e));
      return json{{"instance_id", id}, {"events", std::move(arr)}};
    };
  });

  // --- workflow.* ---------------------------------------------------------------------------
  add("workflow.list", [this](Call& call) {
    if (!params_ok(call)) return;
    json out = json::array();
    for (const auto& wf : engine_.catalog().latest_all()) {
      json j = workflow_summary(*wf);
      json versions = json::array();
      for (const auto& v : engine_.catalog().all()) {
        if (v->id == wf->id) versions.push_back(v->version);
      }
      j["versions"] = std::move(versions);
      out.push_back(std::move(j));
    }
    call.reply(json{{"workflows", std::move(out)}});
  });
  add_query("workflow.get", [this](Call& call) {
    std::string id = call.params.required_string("id");
    auto version = call.params.integer("version", 1, INT_MAX);
    return [this, id, version]() -> RpcResult {
      std::shared_ptr<const Workflow> wf;
      if (version) {
        auto found = engine_.workflow(id, static_cast<int>(*version));
        if (!found) return rpc_fail(found.error());
        wf = *found;
      } else {
        wf = engine_.catalog().latest(id);
        if (!wf) {
          auto ids = engine_.catalog().ids();
          return rpc_fail(Error(ErrorCode::kWorkflowNotFound, fmt::format("no workflow `{}`", id))
                              .with_hint(fmt::format("known workflows: {}", fmt::join(ids, ", ")))
                              .with_data("workflows", ids));
        }
      }
      return workflow_detail(*wf);
    };
  });
  add_query("workflow.validate", [this](Call& call) {
    std::string source = call.params.required_string("source");
    std::string file = call.params.string("file").value_or("<request>");
    return [this, source, file]() -> RpcResult {
      LoadResult r = load_workflow_text(source, file, sections_);
      json out = {{"ok", r.ok()}, {"diagnostics", diagnostics_json(r.diagnostics)}};
      if (r.ok()) out["workflow"] = workflow_summary(*r.workflow);
      return out;
    };
  });
  add_query("workflow.load", [this](Call& call) {
    std::string source = call.params.required_string("source");
    std::string file = call.params.string("file").value_or("<request>");
    return [this, source, file]() -> RpcResult {
      LoadResult r = load_workflow_text(source, file, sections_);
      if (!r.ok()) {
        return rpc_fail(Error(ErrorCode::kInvalidDefinition,
                              fmt::format("the process file has {} error(s); nothing was loaded",
                                          r.diagnostics.error_count()))
                            .with_hint("workflow.validate shows the same diagnostics")
                            .with_data("diagnostics", diagnostics_json(r.diagnostics)));
      }
      if (auto existing = engine_.catalog().get(r.workflow->id, r.workflow->version);
          existing && existing->content_hash == r.workflow->content_hash) {
        json out = workflow_summary(*existing);
        out["added"] = false;
        return out;
      }
      if (auto ok = engine_.add_definitions({r.workflow}); !ok) return rpc_fail(ok.error());
      spdlog::info("loaded workflow {} v{} through the socket", r.workflow->id,
                   r.workflow->version);
      json out = workflow_summary(*r.workflow);
      out["added"] = true;
      return out;
    };
  });

  // --- events.* -----------------------------------------------------------------------------
  add("events.watch", [](Call& call) {
    auto& p = call.params;
    WatchFilter f;
    f.workflow = p.string("workflow").value_or("");
    f.instance_id = p.string("instance_id").value_or("");
    f.types = p.strings("types").value_or(std::vector<std::string>{});
    auto after = p.integer("after", 0);
    if (!params_ok(call)) return;
    if (!call.session) {
      return call.reply(rpc_fail(
          Error(ErrorCode::kInvalidArgument, "events.watch needs a connection to stream to")));
    }
    call.session->watch(std::move(f), after, call.reply);
  });
  add("events.unwatch", [](Call& call) {
    std::string id = call.params.required_string("subscription");
    if (!params_ok(call)) return;
    if (!call.session) {
      return call.reply(rpc_fail(Error(ErrorCode::kInvalidArgument, "no watch on this call")));
    }
    call.reply(call.session->unwatch(id));
  });

  // --- clock.* ------------------------------------------------------------------------------
  add("clock.now", [this](Call& call) {
    if (!params_ok(call)) return;
    call.reply(json{{"now", format_datetime_ms(engine_.clock().now_ms())},
                    {"simulated", engine_.clock().simulated()}});
  });
  add("clock.advance", [this](Call& call) {
    auto by = call.params.string("by");
    auto to = call.params.string("to");
    if (!params_ok(call)) return;
    if (!engine_.clock().simulated()) {
      return call.reply(
          rpc_fail(Error(ErrorCode::kInvalidArgument,
                         "the server runs on the system clock; it cannot be "
                         "advanced")
                       .with_hint("start the server with --clock simulated --now DATETIME")));
    }
    if (by.has_value() == to.has_value()) {
      return call.reply(rpc_fail(RpcError::invalid_params(
          R"(give exactly one of `by` (a duration such as "2h30m") or `to` (an RFC 3339 time))")));
    }
    std::int64_t target = 0;
    if (by) {
      auto ms = parse_duration_ms(*by);
      if (!ms || *ms < 0) {
        return call.reply(rpc_fail(RpcError::invalid_params(
            fmt::format(R"(`by` must be a duration such as "2h30m" or "3d" (got "{}"))", *by))));
      }
      target = engine_.clock().now_ms() + *ms;
    } else {
      auto at = parse_datetime_ms(*to);
      if (!at) {
        return call.reply(rpc_fail(RpcError::invalid_params(fmt::format(
            R"(`to` must be an RFC 3339 time such as "2026-03-02T09:00:00Z" (got "{}"))", *to))));
      }
      target = *at;
    }
    read(call, [this, target]() -> RpcResult {
      auto moved = engine_.advance_clock(target);
      if (!moved) return rpc_fail(moved.error());
      return json{{"now", format_datetime_ms(engine_.clock().now_ms())}};
    });
  });

  // --- server.* -----------------------------------------------------------------------------
  add("server.health", [this](Call& call) {
    if (!params_ok(call)) return;
    auto uptime = std::chrono::duration_cast<std::chrono::seconds>(
        std::chrono::steady_clock::now() - stats_.started);
    call.reply(json{{"status", "ok"},
                    {"version", info_.version},
                    {"pid", static_cast<std::int64_t>(getpid())},
                    {"uptime_s", uptime.count()},
                    {"clock", engine_.clock().simulated() ? "simulated" : "system"},
                    {"now", format_datetime_ms(engine_.clock().now_ms())},
                    {"workflows", engine_.catalog().ids()},
                    {"connections", stats_.connections.load()},
                    {"principal", call.principal.user}});
  });
  add("server.stats", [this](Call& call) {
    if (!params_ok(call)) return;
    json out = stats_.to_json();
    EngineStats es = engine_.stats();
    out["queue_depth"] = es.queue_depth;
    out["engine"] = {{"commands", es.commands},
                     {"refused", es.refused},
                     {"batches", es.batches},
                     {"events", es.events},
                     {"queue_depth", es.queue_depth}};
    call.reply(std::move(out));
  });
  add("server.methods", [this](Call& call) {
    if (!params_ok(call)) return;
    json allowed = json::array();
    for (const auto& name : method_names()) {
      if (call.principal.may_call(name)) allowed.push_back(name);
    }
    json who = {{"user", call.principal.user},
                {"roles", call.principal.effective_roles(declared_roles())},
                {"trusted", call.principal.trusted},
                {"owner", call.principal.owner}};
    call.reply(json{{"methods", std::move(allowed)}, {"principal", std::move(who)}});
  });
}

}  // namespace flowgate::server
