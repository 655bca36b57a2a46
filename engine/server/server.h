// The local socket server: JSON-RPC 2.0 over a Unix stream socket (docs/protocol.md), on one
// Boost.Asio I/O thread. The engine's writer stays the only mutator: the server submits commands
// and answers each request when the engine hands its outcome back (the engine's committer posts it
// to the I/O thread, in the order the writer decided them); reads and other blocking calls run on
// a small worker pool. Nothing blocks the I/O thread.
//
// Per connection: the caller is identified by SO_PEERCRED and admitted by the AccessPolicy; lines
// are at most max_line_bytes (longer: an error, then the connection is closed); reading pauses
// while max_in_flight requests are unanswered; a connection that sends nothing for idle_timeout
// (and has no request in flight and no watch) is closed, as is one whose output does not drain
// for write_timeout. events.watch streams committed events (server/watch.h) with a bounded queue:
// a watcher that falls more than watch_buffer notifications behind is told where to resume and
// dropped, so a slow reader never slows the engine.
//
// Signals (when handle_signals): SIGTERM/SIGINT stop accepting, finish and answer what is in
// flight, then run() returns; SIGHUP reloads the process files (reload()).
// Thread-safety: run() on one thread; stop() and reload() from any thread.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "definition/section_registry.h"
#include "runtime/engine.h"
#include "server/access.h"
#include "server/config.h"
#include "server/dispatcher.h"
#include "util/error.h"

namespace flowgate::server {

struct ServerOptions {
  std::string socket_path;
  ServerSettings settings;
  ServerInfo info;             // db path and workflows directory (SIGHUP reloads it)
  bool handle_signals = true;  // off when embedded (tests, bench)
};

class Server {
 public:
  // Checks the socket's directory, replaces a stale socket, binds and sets the socket's mode and
  // group. The engine and the section registry must outlive the server.
  static Result<std::unique_ptr<Server>> create(ServerOptions options, Engine& engine,
                                                const SectionRegistry& sections,
                                                AccessPolicy policy);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // More methods (plugins) must be added before run().
  Dispatcher& dispatcher();

  // Serves until stop() or SIGTERM/SIGINT, then returns once in-flight requests are answered
  // (or shutdown_grace has passed). The socket file is removed.
  void run();
  void stop();

  // Loads the workflows directory again: new versions are added to the engine; a file with
  // errors keeps the version already loaded (each problem is logged). Returns a summary
  // {loaded: [...], unchanged, errors: [...]}.
  nlohmann::json reload();

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace flowgate::server
