// The method table and the dispatcher: turns one received line into engine calls and answers.
// Each method is one entry (name → handler); a plugin command is one line,
// add_plugin_method("gate.vote", "gate", "vote"), which maps the call onto a CommandKind::kPlugin
// command. Before a handler runs, the caller's Principal must be allowed the method
// (Principal::may_call); workflow roles are checked by the engine against the actor built here.
//
// Nothing here blocks the I/O thread: engine commands are submitted (non-blocking) and answered
// when the engine hands back their outcome; reads and other blocking calls run on the Executor's
// workers. Every line is answered exactly once. Thread-safety: dispatch_line() and the handlers
// run on the I/O thread only. Answers come back there too, except those to engine commands: the
// Server's Executor renders them on the engine's answering thread, so everything a Reply reaches
// (stats, the line's rendering, dispatch_line's `respond`) is safe to call from there.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "definition/section_registry.h"
#include "runtime/engine.h"
#include "server/access.h"
#include "server/params.h"
#include "server/protocol.h"
#include "server/stats.h"
#include "server/watch.h"

namespace flowgate::server {

// Where the dispatcher runs work that may block, and how it comes back to the I/O thread.
class Executor {
 public:
  virtual ~Executor() = default;
  // Runs `work` on a worker thread (it may block).
  virtual void offload(std::function<void()> work) = 0;
  // Submits `command` to `engine` and calls `done` with its answer, on the I/O thread or on the
  // engine's answering thread (see the top of this file).
  virtual void run_command(Engine& engine, Command command, Engine::Done done) = 0;
  // Runs `fn` on the I/O thread.
  virtual void post(std::function<void()> fn) = 0;
};

// Runs everything at once on the calling thread (unit tests, tools without an event loop).
class InlineExecutor final : public Executor {
 public:
  void offload(std::function<void()> work) override { work(); }
  void run_command(Engine& engine, Command command, Engine::Done done) override {
    done(engine.execute(std::move(command)));
  }
  void post(std::function<void()> fn) override { fn(); }
};

// Answers one request; called exactly once (on the I/O thread, or for an engine command on the
// engine's answering thread).
using Reply = std::function<void(RpcResult)>;

// What a connection offers the handlers that stream (events.watch).
class CallerSession {
 public:
  virtual ~CallerSession() = default;
  // Starts streaming events to this connection; `reply` is answered before any notification.
  virtual void watch(WatchFilter filter, std::optional<std::int64_t> after, Reply reply) = 0;
  virtual RpcResult unwatch(const std::string& subscription) = 0;
};

struct Call {
  const Principal& principal;
  CallerSession* session;  // null when there is no connection (tests)
  Params params;
  Reply reply;
};

struct ServerInfo {
  std::string version;  // the flowgate release, for server.health
  std::string db_path;
  std::string workflows_dir;
  std::string socket_path;
};

class Dispatcher {
 public:
  using Handler = std::function<void(Call&)>;

  Dispatcher(Engine& engine, Executor& executor, const SectionRegistry& sections,
             ServerStats& stats, ServerInfo info);

  // Adds or replaces a method.
  void add(std::string name, Handler handler);
  // A method that submits one command: `read` fills it from the params (recording problems in
  // them); the parameters every command shares (request_id, expect_version unless
  // !expect_version, actor, on_behalf_of) are read here. The answer is the instance afterwards.
  using CommandReader = std::function<void(Params&, Command&)>;
  void add_command(std::string name, CommandReader read, bool expect_version = true);
  // A plugin command: params {instance_id, request_id?, expect_version?, actor?, on_behalf_of?,
  // ...} become Command{kind = kPlugin, plugin, action} whose payload is every other parameter
  // (the plugin checks them); the result is the instance after the command.
  void add_plugin_method(std::string name, std::string plugin, std::string action);
  // A read: `prepare` reads the parameters on the I/O thread (recording problems in call.params)
  // and returns the work to run on a worker; its result is the answer. `prepare` may instead
  // answer at once (call.reply) and return nothing.
  using Query = std::function<std::function<RpcResult()>(Call&)>;
  void add_query(std::string name, Query prepare);
  std::vector<std::string> method_names() const;
  bool has(std::string_view method) const { return methods_.contains(method); }

  // Parses and runs one line. `respond` receives the whole answer as a line ("" when nothing is
  // to be answered: a blank line or only notifications) on the I/O thread, exactly once.
  void dispatch_line(const Principal& principal, CallerSession* session, std::string_view line,
                     std::function<void(std::string)> respond);

  // Runs one parsed request (single or batch element).
  void dispatch(const Principal& principal, CallerSession* session, const Request& request,
                std::function<void(nlohmann::json)> respond);

  // Every role the latest workflow versions declare (what the owner holds).
  std::vector<std::string> declared_roles() const;

  Engine& engine() { return engine_; }
  Executor& executor() { return executor_; }

 private:
  void add_builtin_methods();
  // Submits `command` and replies with the instance when it is durable.
  void submit(Call& call, Command command);
  // Runs `read` on a worker and replies with what it returns.
  void read(Call& call, std::function<RpcResult()> read);

  Engine& engine_;
  Executor& executor_;
  const SectionRegistry& sections_;
  ServerStats& stats_;
  ServerInfo info_;
  std::map<std::string, Handler, std::less<>> methods_;
};

// Reads `actor` and `on_behalf_of` into `actor`, which starts as the verified principal with the
// roles its grants give. A principal that is not trusted may not set them (kForbidden).
std::optional<RpcError> read_actor(Params& params, const Principal& principal,
                                   const std::vector<std::string>& declared_roles, Actor& actor);

// Reads the parameters every mutating method shares (request_id, expect_version, actor,
// on_behalf_of) into `command`, building its actor from the verified principal. A principal that
// is not trusted may not set `actor` or `on_behalf_of` (kForbidden).
std::optional<RpcError> read_command_params(Params& params, const Principal& principal,
                                            const std::vector<std::string>& declared_roles,
                                            Command& command, bool with_expect_version = true);

}  // namespace flowgate::server
