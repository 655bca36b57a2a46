// Socket server throughput: round trips per second and p50/p99 latency of instance.fire through
// the Unix socket (JSON-RPC, one request in flight per client) with 1, 16 and 64 concurrent
// clients, next to the same commands submitted to the in-process engine by as many threads in the
// same run (ratio socket / engine; the two are measured in alternating turns, `--rounds R` of each,
// default 4, and each turn's ratio is printed too, so that drift in the machine's speed during a
// run weighs on both alike and shows). Then the latency at half the peak socket rate (64 clients,
// paced: spread evenly, then in bursts). `--clients N` runs only the row for N clients;
// `--inline-checkpoints` uses SQLite's autocheckpoint inside commits instead of the background
// WAL checkpointer (for comparison). Durable
// commits (synchronous=FULL), one database, the server in this process on its own I/O thread.
// `--smoke` runs a tiny size (CI); `--seconds S` sets the time of each side per row (default 2).
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
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

// Runs `body(thread, i)` on `threads` threads until `seconds` pass (at least `min_ops` each),
// timing each call; the latencies are added to `lat` (one vector per thread). Returns the seconds
// the run took.
template <typename Body>
double run_for(int threads, double seconds, int min_ops, Body body,
               std::vector<std::vector<double>>& lat, std::atomic<int>& errors) {
  lat.resize(static_cast<std::size_t>(threads));
  auto t0 = SteadyClock::now();
  auto deadline = t0 + std::chrono::duration_cast<SteadyClock::duration>(
                           std::chrono::duration<double>(seconds));
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

}  // namespace

int main(int argc, char** argv) {
  bool smoke = false;
  double seconds = 2.0;
  int only = 0;    // --clients N: that row alone, then the paced runs (profiling)
  int rounds = 4;  // --rounds R: turns of in-process and socket per row
  bool background_checkpoints = true;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--smoke") == 0) smoke = true;
    if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) seconds = std::atof(argv[++i]);
    if (std::strcmp(argv[i], "--clients") == 0 && i + 1 < argc) only = std::atoi(argv[++i]);
    if (std::strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) rounds = std::atoi(argv[++i]);
    if (std::strcmp(argv[i], "--inline-checkpoints") == 0) background_checkpoints = false;
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
      "instance.fire, durable commits (synchronous=FULL), %.2f s of each per row in %d turns\n",
      seconds, smoke ? 1 : rounds);
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
      Command c;
      c.kind = CommandKind::kFire;
      c.instance_id = ids[static_cast<std::size_t>(t)];
      c.event = "ping";
      c.payload = {{"note", "direct " + std::to_string(i)}};
      c.actor = agent;
      return (*engine)->execute(std::move(c)).has_value();
    };
    auto socket_call = [&](int t, int i) {
      auto r = conns[static_cast<std::size_t>(t)].call(
          "instance.fire", {{"instance_id", ids[static_cast<std::size_t>(t)]},
                            {"event", "ping"},
                            {"payload", {{"note", "socket " + std::to_string(i)}}}});
      return r.has_value();
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
      double d = run_for(clients, seconds / turns, min_ops, direct_call, direct_lat, direct_errors);
      auto s1 = (*engine)->stats();
      double k = run_for(clients, seconds / turns, min_ops, socket_call, sock_lat, sock_errors);
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
  double target = peak / 2;
  auto interval = std::chrono::duration<double>(64.0 / std::max(target, 1.0));
  std::vector<server::RpcClient> conns;
  for (int t = 0; t < 64; ++t) conns.push_back(std::move(*server::RpcClient::connect(socket)));
  for (bool spread : {true, false}) {
    auto start = SteadyClock::now();
    std::vector<SteadyClock::time_point> next(64);
    for (int t = 0; t < 64; ++t) {
      next[static_cast<std::size_t>(t)] =
          start + (spread ? std::chrono::duration_cast<SteadyClock::duration>(interval * t / 64.0)
                          : SteadyClock::duration::zero());
    }
    std::vector<std::vector<double>> call_ms(64);
    Figures paced = timed(64, seconds, min_ops, [&](int t, int i) {
      auto& when = next[static_cast<std::size_t>(t)];
      std::this_thread::sleep_until(when);
      when += std::chrono::duration_cast<SteadyClock::duration>(interval);
      auto a = SteadyClock::now();
      bool ok = conns[static_cast<std::size_t>(t)]
                    .call("instance.fire", {{"instance_id", ids[static_cast<std::size_t>(t)]},
                                            {"event", "ping"},
                                            {"payload", {{"note", "paced " + std::to_string(i)}}}})
                    .has_value();
      call_ms[static_cast<std::size_t>(t)].push_back(
          std::chrono::duration<double, std::milli>(SteadyClock::now() - a).count());
      return ok;
    });
    // `paced` timed the waits too; the latency is that of the calls alone.
    Figures calls = summarize(call_ms, 1.0, 0);
    std::printf(
        "%shalf the peak (%.0f rt/s target, 64 paced clients, %s): %.0f rt/s; latency p50 %.2f "
        "ms, p99 %.2f ms\n",
        spread ? "\n" : "", target, spread ? "spread evenly" : "in bursts of 64", paced.per_sec,
        calls.p50_ms, calls.p99_ms);
  }

  conns.clear();
  (*srv)->stop();
  io.join();
  srv->reset();
  (*engine)->stop();
  std::filesystem::remove_all(dir);
  return 0;
}
