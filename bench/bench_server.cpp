// Socket server throughput: round trips per second and p50/p99 latency of instance.fire through
// the Unix socket (JSON-RPC, one request in flight per client) with 1, 16 and 64 concurrent
// clients, next to the same commands submitted to the in-process engine by as many threads in the
// same run (ratio socket / engine). The two are measured in alternating turns, `--rounds R` of
// each (default 4), and each turn's ratio is printed too, so that drift in the machine's speed
// during a run weighs on both alike and shows. Then the latency at half the peak socket rate (64
// clients, paced: spread evenly, then in bursts).
//
// The socket clients are one thread driving all the connections with epoll, the way a gateway
// talks to a service; every answer is checked to be the success answer to its request's id. The
// in-process side is driven alike: one thread keeps as many commands in flight through the
// engine's callback API. `--blocking-clients` gives each client a thread of its own on both sides
// instead (blocking RpcClient, Engine::execute).
//
// Durable commits (synchronous=FULL; `--sync-normal` for NORMAL), one database, the server in this
// process on its own I/O thread. `--clients N` runs only the row for N clients;
// `--inline-checkpoints` uses SQLite's autocheckpoint inside commits instead of the background WAL
// checkpointer (for comparison); `--plain-wal` commits through SQLite's default VFS, two writes
// per WAL frame (store/wal_vfs.h; for comparison). `--smoke` runs a tiny size (CI); `--seconds S`
// sets the time of each side per row (default 2); `--paced-rate R` runs the paced clients at R
// round trips/s instead of half the peak (to compare builds at the same load).
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "definition/loader.h"
#include "runtime/engine.h"
#include "server/client.h"
#include "server/server.h"

using namespace flowgate;
using SteadyClock = std::chrono::steady_clock;

namespace {

const char* kWorkflow = R"(
[workflow]
id = "ping"
name = "Ping"
version = 1
initial = "open"

[roles]
agent = "Agent"

[data.count]
type = "int"
default = 0

[data.note]
type = "string"

[states.open]
[states.closed]
terminal = true

[[transitions]]
from = "open"
to = "open"
event = "ping"
roles = ["agent"]
payload = { note = "string" }
set = { count = "count + 1", note = "event.note" }

[[transitions]]
from = "open"
to = "closed"
event = "close"
roles = ["agent"]
)";

struct Figures {
  double per_sec = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  std::size_t n = 0;
  int errors = 0;
};

Figures summarize(std::vector<std::vector<double>>& per_thread, double secs, int errors) {
  std::vector<double> all;
  for (auto& v : per_thread) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  Figures f;
  f.n = all.size();
  f.errors = errors;
  if (all.empty()) return f;
  f.per_sec = static_cast<double>(all.size()) / secs;
  f.p50_ms = all[all.size() / 2];
  f.p99_ms = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  return f;
}

SteadyClock::duration span(double seconds) {
  return std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(seconds));
}

// Runs `body(thread, i)` on `threads` threads until `seconds` pass (at least `min_ops` each),
// timing each call; the latencies are added to `lat` (one vector per thread). Returns the seconds
// the run took.
template <typename Body>
double run_for(int threads, double seconds, int min_ops, Body body,
               std::vector<std::vector<double>>& lat, std::atomic<int>& errors) {
  lat.resize(static_cast<std::size_t>(threads));
  auto t0 = SteadyClock::now();
  auto deadline = t0 + span(seconds);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      auto& mine = lat[static_cast<std::size_t>(t)];
      for (int i = 0; i < min_ops || SteadyClock::now() < deadline; ++i) {
        auto a = SteadyClock::now();
        if (!body(t, i)) errors++;
        mine.push_back(std::chrono::duration<double, std::milli>(SteadyClock::now() - a).count());
      }
    });
  }
  for (auto& th : pool) th.join();
  return std::chrono::duration<double>(SteadyClock::now() - t0).count();
}

template <typename Body>
Figures timed(int threads, double seconds, int min_ops, Body body) {
  std::vector<std::vector<double>> lat;
  std::atomic<int> errors{0};
  double secs = run_for(threads, seconds, min_ops, body, lat, errors);
  return summarize(lat, secs, errors.load());
}

// One `ping` of instance `id`, the i-th of its client, in process and through a blocking client.
Command ping(const std::string& id, const Actor& actor, int i) {
  Command c;
  c.kind = CommandKind::kFire;
  c.instance_id = id;
  c.event = "ping";
  c.payload = {{"note", "direct " + std::to_string(i)}};
  c.actor = actor;
  return c;
}
bool ping(server::RpcClient& conn, const std::string& id, const char* note, int i) {
  return conn
      .call("instance.fire", {{"instance_id", id},
                              {"event", "ping"},
                              {"payload", {{"note", fmt::format("{} {}", note, i)}}}})
      .has_value();
}

// Drives `conns` from this one thread until `seconds` pass (and each connection made at least
// `min_ops` calls): one `instance.fire` of `ids[t]` in flight per connection, sent again as soon
// as its answer arrives, or, when `interval` is given, one every interval, connection t's first at
// start + offset[t]. Latencies (send to answer) go to `lat`, one vector per connection; an answer
// that is not the success answer to its request's id counts in `errors`. Returns the seconds the
// run took.
double drive_sockets(std::vector<server::RpcClient>& conns, const std::vector<std::string>& ids,
                     const char* note, double seconds, int min_ops,
                     std::optional<SteadyClock::duration> interval,
                     const std::vector<SteadyClock::duration>& offset,
                     std::vector<std::vector<double>>& lat, std::atomic<int>& errors) {
  struct Slot {
    std::string quoted_id;  // the instance id as a JSON string
    std::string in;         // what arrived and is not yet a whole line
    std::string expect;     // how the success answer to the request in flight begins
    std::int64_t request = 0;
    int calls = 0;
    SteadyClock::time_point sent, next;
    bool busy = false, done = false;
  };
  const std::size_t n = conns.size();
  lat.resize(n);
  std::vector<Slot> slots(n);
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  for (std::size_t t = 0; t < n; ++t) {
    slots[t].quoted_id = nlohmann::json(ids[t]).dump();
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = t;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, conns[t].fd(), &ev);
  }
  const auto t0 = SteadyClock::now();
  const auto deadline = t0 + span(seconds);
  std::int64_t next_request = 1;
  std::size_t finished = 0;
  auto finish = [&](Slot& s) {
    s.busy = false;
    s.done = true;
    ++finished;
  };
  auto send = [&](std::size_t t) {
    Slot& s = slots[t];
    s.request = next_request++;
    s.expect = fmt::format(R"({{"id":{},"jsonrpc":"2.0","result":)", s.request);
    std::string line = fmt::format(
        R"({{"jsonrpc":"2.0","id":{},"method":"instance.fire","params":{{"instance_id":{},)"
        R"("event":"ping","payload":{{"note":"{} {}"}}}}}})",
        s.request, s.quoted_id, note, s.calls);
    s.busy = true;
    s.sent = SteadyClock::now();
    if (!conns[t].send_line(line)) {
      errors++;
      finish(s);
    }
  };
  for (std::size_t t = 0; t < n; ++t) {
    if (interval) {
      slots[t].next = t0 + (t < offset.size() ? offset[t] : SteadyClock::duration::zero());
    } else {
      send(t);
    }
  }
  std::vector<epoll_event> ready(n);
  char buf[65536];
  while (finished < n) {
    timespec wait{};
    timespec* timeout = nullptr;  // none: only answers are awaited
    if (interval) {
      auto now = SteadyClock::now();
      std::optional<SteadyClock::time_point> soonest;
      for (std::size_t t = 0; t < n; ++t) {
        Slot& s = slots[t];
        if (s.busy || s.done) continue;
        if (s.next <= now) {
          send(t);
        } else if (!soonest || s.next < *soonest) {
          soonest = s.next;
        }
      }
      if (soonest) {
        auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(*soonest - now).count();
        wait.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
        wait.tv_nsec = static_cast<long>(ns % 1'000'000'000);
        timeout = &wait;
      }
      if (finished == n) break;
    }
    int got = ::epoll_pwait2(ep, ready.data(), static_cast<int>(n), timeout, nullptr);
    if (got < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int e = 0; e < got; ++e) {
      const std::size_t t = ready[static_cast<std::size_t>(e)].data.u64;
      Slot& s = slots[t];
      ssize_t r = ::recv(conns[t].fd(), buf, sizeof buf, MSG_DONTWAIT);
      if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (r <= 0) {  // the server closed the connection
        ::epoll_ctl(ep, EPOLL_CTL_DEL, conns[t].fd(), nullptr);
        if (!s.done) {
          errors++;
          finish(s);
        }
        continue;
      }
      s.in.append(buf, static_cast<std::size_t>(r));
      for (auto nl = s.in.find('\n'); nl != std::string::npos; nl = s.in.find('\n')) {
        const auto now = SteadyClock::now();
        const bool ok = s.busy && s.in.compare(0, s.expect.size(), s.expect) == 0;
        s.in.erase(0, nl + 1);
        if (!s.busy) continue;  // nothing was asked: a notification
        if (!ok) errors++;
        lat[t].push_back(std::chrono::duration<double, std::milli>(now - s.sent).count());
        s.busy = false;
        ++s.calls;
        if (s.calls >= min_ops && now >= deadline) {
          finish(s);
        } else if (interval) {
          s.next += *interval;
        } else {
          send(t);
        }
      }
    }
  }
  ::close(ep);
  return std::chrono::duration<double>(SteadyClock::now() - t0).count();
}

// The in-process counterpart of drive_sockets: `clients` commands in flight, one per instance
// `ids[t]`, submitted from this one thread with the engine's callback API (the answers come back
// to this thread, as the socket server's come back to its I/O thread), each submitted again as
// soon as its answer arrives, until `seconds` pass (and each made at least `min_ops` calls).
double drive_engine(Engine& engine, const std::vector<std::string>& ids, int clients,
                    double seconds, int min_ops, const Actor& actor,
                    std::vector<std::vector<double>>& lat, std::atomic<int>& errors) {
  const std::size_t n = static_cast<std::size_t>(clients);
  lat.resize(n);
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::pair<std::size_t, bool>> answered, taken;  // (client, ok), under mu
  std::vector<SteadyClock::time_point> sent(n);
  std::vector<int> calls(n, 0);
  const auto t0 = SteadyClock::now();
  const auto deadline = t0 + span(seconds);
  auto send = [&](std::size_t t) {
    sent[t] = SteadyClock::now();
    engine.submit(ping(ids[t], actor, calls[t]), [&, t](Result<CommandOutcome> r) {
      // Notified under the lock: once the last answer is taken, this function returns and `cv`
      // is gone.
      std::lock_guard lock(mu);
      answered.emplace_back(t, r.has_value());
      cv.notify_one();
    });
  };
  for (std::size_t t = 0; t < n; ++t) send(t);
  std::size_t running = n;
  while (running > 0) {
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return !answered.empty(); });
      std::swap(answered, taken);
    }
    const auto now = SteadyClock::now();
    for (auto [t, ok] : taken) {
      if (!ok) errors++;
      lat[t].push_back(std::chrono::duration<double, std::milli>(now - sent[t]).count());
      if (++calls[t] >= min_ops && now >= deadline) {
        --running;
      } else {
        send(t);
      }
    }
    taken.clear();
  }
  return std::chrono::duration<double>(SteadyClock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  bool smoke = false;
  double seconds = 2.0;
  int only = 0;    // --clients N: that row alone, then the paced runs (profiling)
  int rounds = 4;  // --rounds R: turns of in-process and socket per row
  bool background_checkpoints = true;
  bool coalesce_wal_writes = true;  // --plain-wal: SQLite's default VFS (store/wal_vfs.h)
  bool blocking_clients = false;    // --blocking-clients: a thread per client on both sides
  bool sync_full = true;            // --sync-normal: synchronous=NORMAL (no fsync per commit)
  double fixed_rate = 0;            // --paced-rate R: the paced runs at R rt/s, not half the peak
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--smoke") == 0) smoke = true;
    if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) seconds = std::atof(argv[++i]);
    if (std::strcmp(argv[i], "--clients") == 0 && i + 1 < argc) only = std::atoi(argv[++i]);
    if (std::strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) rounds = std::atoi(argv[++i]);
    if (std::strcmp(argv[i], "--inline-checkpoints") == 0) background_checkpoints = false;
    if (std::strcmp(argv[i], "--plain-wal") == 0) coalesce_wal_writes = false;
    if (std::strcmp(argv[i], "--blocking-clients") == 0) blocking_clients = true;
    if (std::strcmp(argv[i], "--sync-normal") == 0) sync_full = false;
    if (std::strcmp(argv[i], "--paced-rate") == 0 && i + 1 < argc)
      fixed_rate = std::atof(argv[++i]);
  }
  if (smoke) seconds = 0.05;
  int min_ops = smoke ? 5 : 50;
  spdlog::set_level(spdlog::level::warn);

  auto dir = std::filesystem::temp_directory_path() /
             ("flowgate-bench-server-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string db = (dir / "bench.db").string();
  std::string socket = (dir / "bench.sock").string();

  static SectionRegistry none;
  auto catalog = std::make_shared<Catalog>();
  auto wf = load_workflow_text(kWorkflow, "ping.toml", none);
  if (!wf.ok()) return 1;
  catalog->add(wf.workflow);
  EngineOptions options;
  options.db_path = db;
  options.background_checkpoints = background_checkpoints;
  options.coalesce_wal_writes = coalesce_wal_writes;
  options.synchronous_full = sync_full;
  auto engine = Engine::open(options, catalog, std::make_shared<SystemClock>(), none);
  if (!engine) {
    std::fprintf(stderr, "%s\n", engine.error().to_string().c_str());
    return 1;
  }
  server::ServerOptions so;
  so.socket_path = socket;
  so.handle_signals = false;
  so.info = {"bench", db, "", socket};
  auto srv = server::Server::create(so, **engine, none,
                                    server::AccessPolicy(server::ServerConfig{}, geteuid()));
  if (!srv) {
    std::fprintf(stderr, "%s\n", srv.error().to_string().c_str());
    return 1;
  }
  std::thread io([&] {
    pthread_setname_np(pthread_self(), "fg-io");  // apart from the clients in top -H and perf
    (*srv)->run();
  });
  for (int i = 0; i < 200 && !server::RpcClient::connect(socket); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }

  // One instance per client/thread, so commands never conflict.
  Actor agent{"bench", {"agent"}, ""};
  std::vector<std::string> ids;
  for (int i = 0; i < 64; ++i) {
    Command c;
    c.kind = CommandKind::kStart;
    c.workflow_id = "ping";
    c.actor = agent;
    ids.push_back((*engine)->execute(c)->instance["instance_id"]);
  }

  rounds = std::max(rounds, 1);
  std::printf(
      "instance.fire, synchronous=%s, %.2f s of each per row in %d turns; "
      "clients: %s\n",
      sync_full ? "FULL (durable commits)" : "NORMAL", seconds, smoke ? 1 : rounds,
      blocking_clients ? "a thread each (Engine::execute, blocking RpcClient)"
                       : "one thread per side (engine callbacks, socket epoll)");
  std::printf("%-8s %14s %9s %9s %14s %9s %9s %7s\n", "clients", "engine rt/s", "p50 ms", "p99 ms",
              "socket rt/s", "p50 ms", "p99 ms", "ratio");
  double peak = 0;
  for (int clients : {1, 16, 64}) {
    if (only > 0 && clients != only) continue;
    // The two are measured in turns (`rounds` slices of each, alternating), so that a change in
    // the machine's speed during the run (its disk's, mostly) weighs on both alike.
    std::vector<server::RpcClient> conns;
    for (int t = 0; t < clients; ++t)
      conns.push_back(std::move(*server::RpcClient::connect(socket)));
    auto direct_call = [&](int t, int i) {
      return (*engine)->execute(ping(ids[static_cast<std::size_t>(t)], agent, i)).has_value();
    };
    auto socket_call = [&](int t, int i) {
      return ping(conns[static_cast<std::size_t>(t)], ids[static_cast<std::size_t>(t)], "socket",
                  i);
    };
    std::vector<std::vector<double>> direct_lat, sock_lat;
    std::atomic<int> direct_errors{0}, sock_errors{0};
    double direct_secs = 0, sock_secs = 0;
    std::uint64_t direct_cmds = 0, direct_batches = 0, sock_cmds = 0, sock_batches = 0;
    std::vector<double> round_ratios;
    const int turns = smoke ? 1 : rounds;
    auto calls = [](const std::vector<std::vector<double>>& lat) {
      std::size_t n = 0;
      for (const auto& v : lat) n += v.size();
      return static_cast<double>(n);
    };
    for (int r = 0; r < turns; ++r) {
      const double direct_before = calls(direct_lat), sock_before = calls(sock_lat);
      auto s0 = (*engine)->stats();
      double d = blocking_clients ? run_for(clients, seconds / turns, min_ops, direct_call,
                                            direct_lat, direct_errors)
                                  : drive_engine(**engine, ids, clients, seconds / turns, min_ops,
                                                 agent, direct_lat, direct_errors);
      auto s1 = (*engine)->stats();
      double k = blocking_clients ? run_for(clients, seconds / turns, min_ops, socket_call,
                                            sock_lat, sock_errors)
                                  : drive_sockets(conns, ids, "socket", seconds / turns, min_ops,
                                                  std::nullopt, {}, sock_lat, sock_errors);
      auto s2 = (*engine)->stats();
      direct_secs += d;
      sock_secs += k;
      direct_cmds += s1.commands - s0.commands;
      direct_batches += s1.batches - s0.batches;
      sock_cmds += s2.commands - s1.commands;
      sock_batches += s2.batches - s1.batches;
      round_ratios.push_back(((calls(sock_lat) - sock_before) / k) /
                             std::max((calls(direct_lat) - direct_before) / d, 1.0));
    }
    Figures direct = summarize(direct_lat, direct_secs, direct_errors.load());
    Figures sock = summarize(sock_lat, sock_secs, sock_errors.load());
    auto batch = [](std::uint64_t commands, std::uint64_t batches) {
      return batches > 0 ? static_cast<double>(commands) / static_cast<double>(batches) : 0.0;
    };
    peak = std::max(peak, sock.per_sec);
    std::string turns_text;
    for (double r : round_ratios) {
      turns_text += fmt::format("{}{:.0f}%", turns_text.empty() ? "" : " ", 100.0 * r);
    }
    std::printf(
        "%-8d %14.0f %9.2f %9.2f %14.0f %9.2f %9.2f %6.0f%%   batch %.1f / %.1f   turns: %s\n",
        clients, direct.per_sec, direct.p50_ms, direct.p99_ms, sock.per_sec, sock.p50_ms,
        sock.p99_ms, 100.0 * sock.per_sec / std::max(direct.per_sec, 1.0),
        batch(direct_cmds, direct_batches), batch(sock_cmds, sock_batches), turns_text.c_str());
    if (direct.errors + sock.errors > 0) {
      std::printf("  (%d engine and %d socket commands failed)\n", direct.errors, sock.errors);
    }
  }

  // Half the peak rate from 64 paced clients, each sending one call every 64 / rate seconds.
  // Spread: the clients' schedules are offset evenly, so calls arrive at a steady rate (a
  // server's ordinary load; this is the figure). Bursts: every client starts at the same
  // instant, so all 64 calls arrive together once per interval (printed for comparison).
  double target = fixed_rate > 0 ? fixed_rate : peak / 2;
  const auto interval = span(64.0 / std::max(target, 1.0));
  std::vector<server::RpcClient> conns;
  for (int t = 0; t < 64; ++t) conns.push_back(std::move(*server::RpcClient::connect(socket)));
  for (bool spread : {true, false}) {
    std::vector<SteadyClock::duration> offset(64, SteadyClock::duration::zero());
    for (int t = 0; spread && t < 64; ++t) offset[static_cast<std::size_t>(t)] = interval * t / 64;
    std::vector<std::vector<double>> call_ms(64);
    double paced_rate = 0;
    int paced_failed = 0;
    if (blocking_clients) {
      auto start = SteadyClock::now();
      std::vector<SteadyClock::time_point> next(64);
      for (std::size_t t = 0; t < 64; ++t) next[t] = start + offset[t];
      Figures paced = timed(64, seconds, min_ops, [&](int t, int i) {
        auto& when = next[static_cast<std::size_t>(t)];
        std::this_thread::sleep_until(when);
        when += interval;
        auto a = SteadyClock::now();
        bool ok =
            ping(conns[static_cast<std::size_t>(t)], ids[static_cast<std::size_t>(t)], "paced", i);
        call_ms[static_cast<std::size_t>(t)].push_back(
            std::chrono::duration<double, std::milli>(SteadyClock::now() - a).count());
        return ok;
      });
      paced_rate = paced.per_sec;
      paced_failed = paced.errors;
    } else {
      std::atomic<int> paced_errors{0};
      double secs = drive_sockets(conns, ids, "paced", seconds, min_ops, interval, offset, call_ms,
                                  paced_errors);
      Figures all = summarize(call_ms, secs, paced_errors.load());
      paced_rate = all.per_sec;
      paced_failed = all.errors;
    }
    // The latency is that of the calls alone, without the waits between them.
    Figures calls = summarize(call_ms, 1.0, 0);
    std::printf(
        "%s%s (%.0f rt/s target, 64 paced clients, %s): %.0f rt/s; latency p50 %.2f ms, p99 "
        "%.2f ms\n",
        spread ? "\n" : "", fixed_rate > 0 ? "paced" : "half the peak", target,
        spread ? "spread evenly" : "in bursts of 64", paced_rate, calls.p50_ms, calls.p99_ms);
    if (paced_failed > 0) std::printf("  (%d socket commands failed)\n", paced_failed);
  }

  conns.clear();
  (*srv)->stop();
  io.join();
  srv->reset();
  (*engine)->stop();
  std::filesystem::remove_all(dir);
  return 0;
}
