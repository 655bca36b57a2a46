#include "server/server.h"

#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <unordered_map>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio.hpp>

#include "runtime/catalog.h"
#include "server/socket_file.h"
#include "server/views.h"
#include "store/store.h"

namespace flowgate::server {

namespace asio = boost::asio;
using stream = asio::local::stream_protocol;
using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kReadChunk = 64 * 1024;
// Reading from a connection pauses while this much of its output is unsent.
constexpr std::size_t kMaxPendingOutput = 16u << 20;
constexpr std::size_t kMaxWriteGather = 64;  // messages per write

// Counts the engine commands whose answer has not come back yet, so the server is not torn down
// while the engine may still call back into it.
class EngineAnswers {
 public:
  void expect() {
    std::lock_guard lock(mu_);
    ++expected_;
  }
  // Last thing an engine callback does: the server may be torn down once every answer settled.
  void settle() {
    std::lock_guard lock(mu_);
    --expected_;
    cv_.notify_all();  // under the lock: the waiter may destroy this once it sees zero
  }
  void wait_none() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return expected_ == 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::size_t expected_ = 0;
};

// A watcher's read-only store connection, used by one worker at a time.
struct StoreSlot {
  std::unique_ptr<Store> store;
};

struct CatchUp {
  Result<std::vector<EventRecord>> page = std::vector<EventRecord>{};
  std::int64_t last_position = 0;
};

CatchUp read_catch_up(StoreSlot& slot, const std::string& db, WatchCursor::ReadTicket ticket,
                      bool starting, std::size_t page) {
  CatchUp r;
  if (!slot.store) {
    StoreOptions o;
    o.path = db;
    o.read_only = true;
    auto s = Store::open(o);
    if (!s) {
      r.page = fail(s.error());
      return r;
    }
    slot.store = std::move(*s);
  }
  if (starting) {
    auto last = slot.store->last_position();
    if (!last) {
      r.page = fail(last.error());
    } else {
      r.last_position = *last;
    }
    return r;
  }
  r.page = slot.store->events_after(ticket.after, static_cast<std::int64_t>(page));
  return r;
}

}  // namespace

struct Server::Impl final : Executor {
  struct Connection;

  ServerOptions options;
  Engine& engine;
  const SectionRegistry& sections;
  AccessPolicy policy;
  ServerStats stats;

  asio::io_context io{1};
  stream::acceptor acceptor{io};
  asio::signal_set signals{io};
  asio::steady_timer sweep{io};
  asio::steady_timer grace{io};
  asio::steady_timer accept_retry{io};
  asio::thread_pool workers;
  EngineAnswers answers;
  std::unique_ptr<Dispatcher> dispatcher;

  std::unordered_map<std::uint64_t, std::shared_ptr<Connection>> connections;
  std::uint64_t next_connection = 0;
  std::uint64_t next_subscription = 0;
  std::atomic<std::size_t> watching{0};
  std::uint64_t listener = 0;
  bool subscribed = false;
  bool stopping = false;
  bool bound = false;

  Impl(ServerOptions o, Engine& e, const SectionRegistry& s, AccessPolicy p)
      : options(std::move(o)),
        engine(e),
        sections(s),
        policy(std::move(p)),
        workers(std::max<std::size_t>(options.settings.worker_threads, 1)) {
    dispatcher = std::make_unique<Dispatcher>(engine, *this, sections, stats, options.info);
  }

  ~Impl() override {
    if (subscribed) engine.unsubscribe(listener);
    workers.join();
    answers.wait_none();
    connections.clear();
    if (bound) unlink(options.socket_path.c_str());
  }

  // --- Executor -----------------------------------------------------------------------------
  void offload(std::function<void()> work) override { asio::post(workers, std::move(work)); }
  // The engine answers on its answering thread, and the answer is turned into its line there
  // (everything `done` reaches up to the connection is thread-safe); only the finished line moves
  // to the I/O thread (Connection::dispatch). So the I/O thread spends its time reading and
  // writing, and a group commit's answers are rendered while the first of them are being sent.
  void run_command(Engine& e, Command command, Engine::Done done) override {
    answers.expect();
    e.submit(std::move(command), [this, done = std::move(done)](Result<CommandOutcome> r) mutable {
      try {
        done(std::move(r));
      } catch (const std::exception& ex) {  // only allocation can fail here; keep the engine up
        spdlog::error("an engine answer could not be delivered: {}", ex.what());
      }
      answers.settle();
    });
  }
  void post(std::function<void()> fn) override { asio::post(io, std::move(fn)); }

  Result<void> bind();
  void start();
  void accept();
  void on_accept(stream::socket socket);
  void fan_out(const std::vector<EventRecord>& events);
  void arm_sweep();
  void arm_signals();
  void begin_shutdown(const std::string& why);
  void remove(std::uint64_t id);
  void finish_if_drained();
  json reload();
  std::vector<std::shared_ptr<Connection>> snapshot() const {
    std::vector<std::shared_ptr<Connection>> out;
    out.reserve(connections.size());
    for (const auto& [id, c] : connections) out.push_back(c);
    return out;
  }
  std::chrono::milliseconds sweep_period() const {
    auto p = std::min(options.settings.idle_timeout, options.settings.write_timeout) / 4;
    return std::clamp<std::chrono::milliseconds>(p, std::chrono::milliseconds(10),
                                                 std::chrono::milliseconds(1000));
  }
};

// One client connection: reads lines, dispatches them, writes answers and notifications in order
// of completion, and streams events.watch. Lives on the I/O thread; handlers keep it alive.
struct Server::Impl::Connection final : std::enable_shared_from_this<Connection>, CallerSession {
  struct Out {
    std::string data;
    bool notification = false;
  };

  Impl& server;
  stream::socket socket;
  std::uint64_t id;
  std::optional<Principal> principal;

  std::string inbuf;
  std::size_t consumed = 0;  // bytes of inbuf already dispatched
  std::size_t scanned = 0;   // bytes of inbuf known to hold no newline
  std::unique_ptr<std::array<char, kReadChunk>> chunk =
      std::make_unique<std::array<char, kReadChunk>>();
  std::deque<Out> outq;
  std::vector<Out> writing_now;
  std::size_t out_bytes = 0;
  std::size_t queued_notes = 0;
  std::size_t in_flight = 0;
  bool reading = false, writing = false, processing = false;
  bool eof = false, closing = false, closed = false;
  SteadyClock::time_point last_input = SteadyClock::now();
  SteadyClock::time_point last_output = SteadyClock::now();

  std::optional<WatchCursor> cursor;
  std::string subscription;
  std::uint64_t watch_generation = 0;
  bool store_read_pending = false;
  Reply pending_watch_reply;  // a watch "from now": answered once the start position is read
  std::shared_ptr<StoreSlot> store_slot;

  Connection(Impl& s, stream::socket sock, std::uint64_t n)
      : server(s), socket(std::move(sock)), id(n) {}

  const ServerSettings& settings() const { return server.options.settings; }

  void start() { read(); }

  void refuse(const Error& e) {
    send(to_line(error_response(nullptr, RpcError::from(e))), false);
    closing = true;
    maybe_finish();
  }

  // --- input --------------------------------------------------------------------------------
  bool input_paused() const {
    return in_flight >= settings().max_in_flight || out_bytes >= kMaxPendingOutput;
  }

  void read() {
    if (reading || closed || eof || closing || server.stopping || input_paused()) return;
    reading = true;
    socket.async_read_some(asio::buffer(*chunk),
                           [self = shared_from_this()](const boost::system::error_code& ec,
                                                       std::size_t n) { self->on_read(ec, n); });
  }

  void on_read(const boost::system::error_code& ec, std::size_t n) {
    reading = false;
    if (closed) return;
    if (ec || closing || server.stopping) {
      if (ec) eof = true;  // end of input (or an error): answer what is in flight, then close
      maybe_finish();
      return;
    }
    last_input = SteadyClock::now();
    inbuf.append(chunk->data(), n);
    process_input();
    read();
  }

  void process_input() {
    processing = true;
    const std::size_t limit = settings().max_line_bytes;
    while (!closing && !closed && !server.stopping && !input_paused()) {
      std::size_t nl = inbuf.find('\n', std::max(scanned, consumed));
      std::size_t end = nl == std::string::npos ? inbuf.size() : nl;
      if (end - consumed > limit) {
        too_long(limit);
        break;
      }
      if (nl == std::string::npos) {
        scanned = inbuf.size();
        break;
      }
      std::string_view line(inbuf.data() + consumed, nl - consumed);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      consumed = nl + 1;
      dispatch(line);
    }
    if (consumed > 0 && (consumed == inbuf.size() || consumed >= kReadChunk)) {
      inbuf.erase(0, consumed);
      scanned = scanned > consumed ? scanned - consumed : 0;
      consumed = 0;
    }
    processing = false;
  }

  void too_long(std::size_t limit) {
    send(to_line(error_response(
             nullptr, kRequestTooLarge,
             fmt::format("a line is longer than {} bytes; the connection is closed", limit),
             json{{"max_line_bytes", limit}})),
         false);
    server.stats.protocol_errors.fetch_add(1, std::memory_order_relaxed);
    inbuf.clear();
    consumed = scanned = 0;
    closing = true;
    maybe_finish();
  }

  void dispatch(std::string_view line) {
    ++in_flight;
    server.dispatcher->dispatch_line(
        *principal, this, line, [self = shared_from_this()](std::string answer) mutable {
          // Answers to engine commands come rendered from the engine's answering thread. `self`
          // moves along, so that the last reference to this connection is always dropped on the
          // I/O thread.
          if (!self->server.io.get_executor().running_in_this_thread()) {
            auto& io = self->server.io;
            asio::post(io, [self = std::move(self), answer = std::move(answer)]() mutable {
              self->answered(std::move(answer));
            });
            return;
          }
          self->answered(std::move(answer));
        });
  }

  void answered(std::string answer) {
    --in_flight;
    if (!answer.empty()) send(std::move(answer), false);
    resume();
    maybe_finish();
  }

  // Continues reading once the reasons to pause are gone (never from inside process_input).
  void resume() {
    if (processing || closed) return;
    if (!input_paused() && consumed < inbuf.size()) process_input();
    read();
  }

  // --- output -------------------------------------------------------------------------------
  void send(std::string data, bool note) {
    if (closed) return;
    out_bytes += data.size();
    if (note) ++queued_notes;
    outq.push_back({std::move(data), note});
    if (!writing) write();
  }

  void write() {
    if (outq.empty() || closed) return;
    writing = true;
    std::vector<asio::const_buffer> buffers;
    while (!outq.empty() && writing_now.size() < kMaxWriteGather) {
      writing_now.push_back(std::move(outq.front()));
      outq.pop_front();
    }
    buffers.reserve(writing_now.size());
    for (const auto& o : writing_now) buffers.push_back(asio::buffer(o.data));
    last_output = SteadyClock::now();
    asio::async_write(socket, buffers,
                      [self = shared_from_this()](const boost::system::error_code& ec,
                                                  std::size_t) { self->on_write(ec); });
  }

  void on_write(const boost::system::error_code& ec) {
    writing = false;
    if (closed) return;
    if (ec) {
      close();
      return;
    }
    for (const auto& o : writing_now) {
      out_bytes -= o.data.size();
      if (o.notification) --queued_notes;
    }
    writing_now.clear();
    last_output = SteadyClock::now();
    write();
    resume();
    continue_catch_up();
    maybe_finish();
  }

  // Closes once there is nothing more to read, answer or write.
  void maybe_finish() {
    if (closed) return;
    if (!(closing || eof || server.stopping)) return;
    if (eof && cursor && !closing && !server.stopping) return;  // half-closed: keep streaming
    if (in_flight > 0 || writing || !outq.empty()) return;
    close();
  }

  void close() {
    if (closed) return;
    closed = true;
    stop_watch();
    boost::system::error_code ignored;
    socket.shutdown(stream::socket::shutdown_both, ignored);
    socket.close(ignored);
    server.remove(id);
  }

  // Housekeeping: idle connections and connections whose output does not drain.
  void check_timeouts(SteadyClock::time_point now) {
    if (closed) return;
    if (writing && now - last_output > settings().write_timeout) {
      spdlog::warn("connection {} ({}): output has not drained for {} ms; closing it", id,
                   principal ? principal->user : "?", settings().write_timeout.count());
      close();
      return;
    }
    bool idle = !closing && !eof && in_flight == 0 && !cursor && outq.empty() && !writing &&
                now - last_input > settings().idle_timeout;
    if (!idle) return;
    server.stats.idle_closed.fetch_add(1, std::memory_order_relaxed);
    spdlog::debug("connection {} ({}): idle for {} ms; closing it", id,
                  principal ? principal->user : "?", settings().idle_timeout.count());
    send(to_line(notification(
             "server.closing",
             {{"reason", "idle"}, {"idle_timeout_ms", settings().idle_timeout.count()}})),
         false);
    closing = true;
    maybe_finish();
  }

  // Stops reading new requests; what is in flight is still answered.
  void drain() {
    stop_watch();
    closing = true;
    maybe_finish();
  }

  // --- events.watch -------------------------------------------------------------------------
  std::size_t page_size() const {
    return std::clamp<std::size_t>(settings().watch_buffer / 2, 1, 1000);
  }

  void watch(WatchFilter filter, std::optional<std::int64_t> after, Reply reply) override {
    if (cursor) {
      return reply(rpc_fail(
          Error(ErrorCode::kInvalidArgument,
                fmt::format("this connection already watches (subscription {})", subscription))
              .with_hint("events.unwatch it first, or open another connection")));
    }
    if (server.stopping) {
      return reply(rpc_fail(Error(ErrorCode::kUnavailable, "the server is stopping")));
    }
    subscription = fmt::format("w-{}", ++server.next_subscription);
    ++watch_generation;
    cursor.emplace(std::move(filter), after, settings().watch_buffer);
    server.watching.fetch_add(1);
    server.stats.watchers.fetch_add(1, std::memory_order_relaxed);
    if (after) {
      reply(json{{"subscription", subscription}, {"after", *after}});
    } else {
      pending_watch_reply = std::move(reply);
    }
    continue_catch_up();
  }

  RpcResult unwatch(const std::string& sub) override {
    if (!cursor || sub != subscription) {
      return rpc_fail(
          Error(ErrorCode::kNotFound, fmt::format("no subscription `{}` on this connection", sub)));
    }
    stop_watch();
    return json{{"subscription", sub}, {"stopped", true}};
  }

  void stop_watch() {
    if (!cursor) return;
    cursor.reset();
    ++watch_generation;
    store_slot.reset();
    server.watching.fetch_sub(1);
    server.stats.watchers.fetch_sub(1, std::memory_order_relaxed);
    if (pending_watch_reply) {
      Reply reply = std::move(pending_watch_reply);
      pending_watch_reply = nullptr;
      reply(rpc_fail(Error(ErrorCode::kUnavailable, "the watch was stopped before it started")));
    }
  }

  void send_event(const EventRecord& e) {
    server.stats.notifications.fetch_add(1, std::memory_order_relaxed);
    send(to_line(notification("events.event",
                              {{"subscription", subscription}, {"event", event_json(e)}})),
         true);
  }

  // Reads the next page of history unless the client has too much unread already.
  void continue_catch_up() {
    if (!cursor || cursor->live() || store_read_pending || closed) return;
    if (queued_notes > settings().watch_buffer / 2) return;  // resumes from on_write
    store_read_pending = true;
    WatchCursor::ReadTicket ticket = cursor->begin_read();
    bool starting = !cursor->started();
    if (!store_slot) store_slot = std::make_shared<StoreSlot>();
    std::size_t page = page_size();
    server.offload([self = shared_from_this(), slot = store_slot, ticket, starting, page,
                    gen = watch_generation, db = server.options.info.db_path]() {
      CatchUp r = read_catch_up(*slot, db, ticket, starting, page);
      self->server.post([self, r = std::move(r), ticket, starting, page, gen]() mutable {
        self->on_catch_up(std::move(r), ticket, starting, page, gen);
      });
    });
  }

  void on_catch_up(CatchUp r, WatchCursor::ReadTicket ticket, bool starting, std::size_t page,
                   std::uint64_t gen) {
    store_read_pending = false;
    if (closed || !cursor || gen != watch_generation) return;
    if (!r.page) {
      spdlog::warn("watch {}: reading the event log failed: {}", subscription,
                   r.page.error().to_string());
      if (pending_watch_reply) {
        Reply reply = std::move(pending_watch_reply);
        pending_watch_reply = nullptr;
        reply(rpc_fail(r.page.error()));
      } else {
        send(to_line(notification("events.closed", {{"subscription", subscription},
                                                    {"resume_after", cursor->position()},
                                                    {"reason", r.page.error().message}})),
             false);
      }
      stop_watch();
      return;
    }
    auto emit = [this](const EventRecord& e) { send_event(e); };
    bool live = false;
    if (starting) {
      if (pending_watch_reply) {
        Reply reply = std::move(pending_watch_reply);
        pending_watch_reply = nullptr;
        reply(json{{"subscription", subscription}, {"after", r.last_position}});
      }
      live = cursor->on_start(ticket, r.last_position, emit);
    } else {
      live = cursor->on_page(ticket, *r.page, page, emit);
    }
    if (live) {
      send(to_line(notification("events.caught_up", {{"subscription", subscription},
                                                     {"position", cursor->position()}})),
           true);
    } else {
      continue_catch_up();
    }
  }

  void on_live(const std::vector<EventRecord>& events) {
    if (!cursor || closed) return;
    cursor->on_live(events, [this](const EventRecord& e) { send_event(e); });
    if (cursor->live() && queued_notes > settings().watch_buffer) overflow();
  }

  void overflow() {
    json params = {{"subscription", subscription},
                   {"resume_after", cursor->position()},
                   {"reason", fmt::format("more than {} notifications were waiting to be read; "
                                          "watch again with after = resume_after",
                                          settings().watch_buffer)}};
    spdlog::warn("watch {} ({}): dropped, more than {} notifications unread", subscription,
                 principal ? principal->user : "?", settings().watch_buffer);
    server.stats.watchers_dropped.fetch_add(1, std::memory_order_relaxed);
    stop_watch();
    send(to_line(notification("events.overflow", std::move(params))), false);
    closing = true;
    maybe_finish();
  }
};

// --- Impl -------------------------------------------------------------------------------------

Result<void> Server::Impl::bind() {
  const std::string& path = options.socket_path;
  if (auto ok = check_socket_directory(path); !ok) return ok;
  if (auto ok = clear_stale_socket(path); !ok) return ok;
  boost::system::error_code ec;
  acceptor.open(stream(), ec);
  if (!ec) {
    mode_t old = umask(0177);  // the socket exists only as 0600 until its mode is set below
    acceptor.bind(stream::endpoint(path), ec);
    umask(old);
  }
  if (ec) {
    return fail(ErrorCode::kInvalidArgument,
                fmt::format("cannot create the socket {}: {}", path, ec.message()));
  }
  bound = true;
  if (!options.settings.socket_group.empty()) {
    std::vector<char> buf(16384);
    group gr{};
    group* found = nullptr;
    if (getgrnam_r(options.settings.socket_group.c_str(), &gr, buf.data(), buf.size(), &found) !=
            0 ||
        !found) {
      return fail(ErrorCode::kInvalidArgument,
                  fmt::format("socket_group `{}` is not a group on this system",
                              options.settings.socket_group));
    }
    if (chown(path.c_str(), static_cast<uid_t>(-1), found->gr_gid) != 0) {
      return fail(ErrorCode::kInvalidArgument,
                  fmt::format("cannot give the socket to group `{}`: {}",
                              options.settings.socket_group, std::strerror(errno)));
    }
  }
  if (chmod(path.c_str(), options.settings.socket_mode) != 0) {
    return fail(ErrorCode::kInvalidArgument,
                fmt::format("cannot set the socket's mode: {}", std::strerror(errno)));
  }
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return fail(ErrorCode::kInvalidArgument,
                fmt::format("cannot listen on {}: {}", path, ec.message()));
  }
  return {};
}

void Server::Impl::start() {
  listener = engine.subscribe([this](const std::vector<EventRecord>& events) {
    // On the writer thread: never block. With no watcher nothing is copied; a watcher that
    // registers later reads these events from the store.
    if (watching.load() == 0 || events.empty()) return;
    auto batch = std::make_shared<const std::vector<EventRecord>>(events);
    asio::post(io, [this, batch] { fan_out(*batch); });
  });
  subscribed = true;
  accept();
  if (options.handle_signals) arm_signals();
  arm_sweep();
}

void Server::Impl::accept() {
  acceptor.async_accept([this](const boost::system::error_code& ec, stream::socket socket) {
    if (ec == asio::error::operation_aborted || stopping) return;
    if (ec) {
      // Out of file descriptors or similar: try again shortly instead of spinning.
      spdlog::warn("accepting a connection failed: {}", ec.message());
      accept_retry.expires_after(std::chrono::milliseconds(100));
      accept_retry.async_wait([this](const boost::system::error_code& e) {
        if (!e && !stopping) accept();
      });
      return;
    }
    on_accept(std::move(socket));
    accept();
  });
}

void Server::Impl::on_accept(stream::socket socket) {
  auto conn = std::make_shared<Connection>(*this, std::move(socket), ++next_connection);
  connections[conn->id] = conn;
  stats.connections.fetch_add(1, std::memory_order_relaxed);
  stats.connections_total.fetch_add(1, std::memory_order_relaxed);
  auto cred = peer_credentials(conn->socket.native_handle());
  Result<Principal> principal = cred ? policy.admit(*cred) : fail(cred.error());
  if (!principal) {
    stats.refused_connections.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("refused a connection (uid {}, pid {}): {}", cred ? cred->uid : 0,
                 cred ? cred->pid : 0, principal.error().message);
    conn->refuse(principal.error());
    return;
  }
  spdlog::debug("connection {} from {} (uid {}, pid {})", conn->id, principal->user,
                principal->peer.uid, principal->peer.pid);
  conn->principal = std::move(*principal);
  conn->start();
}

void Server::Impl::fan_out(const std::vector<EventRecord>& events) {
  for (const auto& c : snapshot()) c->on_live(events);
}

void Server::Impl::arm_sweep() {
  sweep.expires_after(sweep_period());
  sweep.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    auto now = SteadyClock::now();
    for (const auto& c : snapshot()) c->check_timeouts(now);
    arm_sweep();
  });
}

void Server::Impl::arm_signals() {
  signals.async_wait([this](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    if (signo == SIGHUP) {
      spdlog::info("SIGHUP: reloading the process files in {}", options.info.workflows_dir);
      offload([this] { reload(); });
    } else if (stopping) {
      spdlog::warn("second stop signal: closing every connection now");
      for (const auto& c : snapshot()) c->close();
      io.stop();
      return;
    } else {
      begin_shutdown(signo == SIGTERM ? "SIGTERM" : "SIGINT");
    }
    arm_signals();
  });
}

void Server::Impl::begin_shutdown(const std::string& why) {
  if (stopping) return;
  stopping = true;
  spdlog::info("stopping ({}): {} connection(s), {} request(s) in flight", why, connections.size(),
               stats.in_flight.load());
  boost::system::error_code ignored;
  acceptor.close(ignored);
  if (bound) {
    unlink(options.socket_path.c_str());
    bound = false;
  }
  if (subscribed) {
    engine.unsubscribe(listener);
    subscribed = false;
  }
  accept_retry.cancel();
  for (const auto& c : snapshot()) c->drain();
  grace.expires_after(options.settings.shutdown_grace);
  grace.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    spdlog::warn("shutdown grace of {} ms passed with {} connection(s) open; closing them",
                 options.settings.shutdown_grace.count(), connections.size());
    for (const auto& c : snapshot()) c->close();
    io.stop();
  });
  finish_if_drained();
}

void Server::Impl::remove(std::uint64_t id) {
  if (connections.erase(id) > 0) stats.connections.fetch_sub(1, std::memory_order_relaxed);
  finish_if_drained();
}

void Server::Impl::finish_if_drained() {
  if (!stopping || !connections.empty()) return;
  io.stop();
}

json Server::Impl::reload() {
  json summary = {{"loaded", json::array()}, {"unchanged", 0}, {"errors", json::array()}};
  const std::string& dir = options.info.workflows_dir;
  if (dir.empty()) {
    summary["errors"].push_back("the server was started without --workflows");
    return summary;
  }
  Catalog fresh;
  Diagnostics diags;
  load_workflow_dir(dir, sections, fresh, diags);
  diags.sort();
  for (const auto& d : diags.items()) {
    if (d.severity != Severity::kError) continue;
    spdlog::error("reload: {} (the version already loaded stays in use)", d.to_string());
    summary["errors"].push_back(d.to_string());
  }
  int unchanged = 0;
  for (const auto& wf : fresh.all()) {
    auto existing = engine.catalog().get(wf->id, wf->version);
    if (existing && existing->content_hash == wf->content_hash) {
      ++unchanged;
      continue;
    }
    if (existing) {
      std::string msg = fmt::format(
          "reload: {} changes workflow {} v{} without a new version; it is ignored (raise "
          "`version` to publish a change)",
          wf->file, wf->id, wf->version);
      spdlog::error("{}", msg);
      summary["errors"].push_back(msg);
      continue;
    }
    if (auto ok = engine.add_definitions({wf}); !ok) {
      spdlog::error("reload: {} v{} from {}: {}", wf->id, wf->version, wf->file,
                    ok.error().to_string());
      summary["errors"].push_back(ok.error().to_string());
      continue;
    }
    spdlog::info("reload: loaded {} v{} from {}", wf->id, wf->version, wf->file);
    summary["loaded"].push_back(json{{"id", wf->id}, {"version", wf->version}});
  }
  summary["unchanged"] = unchanged;
  spdlog::info("reload done: {} new version(s), {} unchanged, {} error(s)",
               summary["loaded"].size(), unchanged, summary["errors"].size());
  return summary;
}

// --- Server -----------------------------------------------------------------------------------

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() = default;

Result<std::unique_ptr<Server>> Server::create(ServerOptions options, Engine& engine,
                                               const SectionRegistry& sections,
                                               AccessPolicy policy) {
  auto impl = std::make_unique<Impl>(std::move(options), engine, sections, std::move(policy));
  if (impl->options.handle_signals) {
    // Registered before serving so a signal that arrives early is not lost.
    impl->signals.add(SIGTERM);
    impl->signals.add(SIGINT);
    impl->signals.add(SIGHUP);
  }
  if (auto ok = impl->bind(); !ok) return fail(ok.error());
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Dispatcher& Server::dispatcher() { return *impl_->dispatcher; }

void Server::run() {
  impl_->start();
  spdlog::info("listening on {} (mode {:04o}); database {}", impl_->options.socket_path,
               impl_->options.settings.socket_mode, impl_->options.info.db_path);
  impl_->io.run();
  for (const auto& c : impl_->snapshot()) c->close();
  if (impl_->bound) {
    unlink(impl_->options.socket_path.c_str());
    impl_->bound = false;
  }
  spdlog::info("stopped after {} request(s)", impl_->stats.requests.load());
}

void Server::stop() {
  Impl* impl = impl_.get();
  asio::post(impl->io, [impl] { impl->begin_shutdown("stop requested"); });
}

json Server::reload() { return impl_->reload(); }

}  // namespace flowgate::server
