// Engine throughput: durable transitions per second with 1, 8 and 64 concurrent submitters at
// synchronous=FULL and NORMAL, p50/p99 commit latency, and the same rows appended by a minimal
// SQLiteCpp loop with the same pragmas and batch sizes in the same run (ratio engine / raw): "raw"
// appends rows shaped like the engine's to three plain tables; "same rows" appends the very rows
// the engine stored, read back from its database, to the engine's own schema (run_raw_same_rows).
// `--instances N` also measures peak RSS with N instances in the database (only hot ones cached).
// `--only FULL:64` runs one configuration (profiling). `--smoke` runs a tiny size (CI).
// `--engine-only` skips the serial engine and the raw loop (profiling).
// `--inline-checkpoints`: SQLite's autocheckpoint inside the commits instead of the background
// WAL checkpointer (for comparison). `--plain-wal`: SQLite's default VFS, two writes per WAL frame,
// instead of one write per commit (store/wal_vfs.h; for comparison).
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>

#include "definition/loader.h"
#include "runtime/engine.h"
#include "store/hash_chain.h"
#include "store/store.h"

using namespace flowgate;
using Clock_ = std::chrono::steady_clock;

namespace {

const char* kWorkflow = R"(
[workflow]
id = "bench"
name = "Bench"
version = 1
initial = "open"

[roles]
agent = "Agent"

[data.amount]
type = "money"

[data.touches]
type = "int"
default = 0

[states.open]
[states.done]
terminal = true

[[transitions]]
from = "open"
to = "open"
event = "touch"
roles = ["agent"]
payload = { amount = "money" }
set = { amount = "event.amount", touches = "touches + 1" }
guard = "amount >= 0"

[[transitions]]
from = "open"
to = "done"
event = "finish"
roles = ["agent"]
)";

long peak_rss_mb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024;
}

struct RunResult {
  double per_sec = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  double avg_batch = 1;
  std::size_t commands = 0;
};

std::shared_ptr<const Workflow> bench_workflow() {
  static SectionRegistry none;
  auto r = load_workflow_text(kWorkflow, "bench.toml", none);
  if (!r.ok()) {
    for (const auto& d : r.diagnostics.items()) std::fprintf(stderr, "%s\n", d.to_string().c_str());
    std::exit(1);
  }
  return r.workflow;
}

void remove_db(const std::string& db) {
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db + suffix);
}

bool g_background_checkpoints = true;
bool g_coalesce_wal_writes = true;

// A fresh database with the bench workflow.
std::unique_ptr<Engine> open_fresh_engine(const std::string& db, bool full, bool overlap = true) {
  static SectionRegistry none;
  remove_db(db);
  auto catalog = std::make_shared<Catalog>();
  catalog->add(bench_workflow());
  EngineOptions o;
  o.db_path = db;
  o.synchronous_full = full;
  o.overlap_commits = overlap;
  o.background_checkpoints = g_background_checkpoints;
  o.coalesce_wal_writes = g_coalesce_wal_writes;
  auto engine = Engine::open(o, catalog, std::make_shared<SystemClock>(), none);
  if (!engine) {
    std::fprintf(stderr, "%s\n", engine.error().to_string().c_str());
    std::exit(1);
  }
  return std::move(*engine);
}

RunResult run_engine(const std::string& db, int submitters, int per_submitter, bool full,
                     bool overlap) {
  auto engine = open_fresh_engine(db, full, overlap);
  Actor agent{"bench", {"agent"}, ""};
  std::vector<std::string> ids;
  for (int s = 0; s < submitters; ++s) {
    Command c;
    c.kind = CommandKind::kStart;
    c.workflow_id = "bench";
    c.actor = agent;
    ids.push_back(engine->execute(c)->instance["instance_id"]);
  }
  auto before = engine->stats();
  std::vector<std::vector<double>> lat(static_cast<std::size_t>(submitters));
  std::atomic<int> errors{0};
  auto t0 = Clock_::now();
  std::vector<std::thread> threads;
  for (int s = 0; s < submitters; ++s) {
    threads.emplace_back([&, s] {
      auto& mine = lat[static_cast<std::size_t>(s)];
      mine.reserve(static_cast<std::size_t>(per_submitter));
      for (int i = 0; i < per_submitter; ++i) {
        Command c;
        c.kind = CommandKind::kFire;
        c.instance_id = ids[static_cast<std::size_t>(s)];
        c.event = "touch";
        c.payload = {{"amount", std::to_string(i) + ".25"}};
        c.actor = agent;
        c.request_id = "b-" + std::to_string(s) + "-" + std::to_string(i);
        auto a = Clock_::now();
        auto r = engine->execute(std::move(c));
        mine.push_back(std::chrono::duration<double, std::milli>(Clock_::now() - a).count());
        if (!r && errors++ == 0) std::fprintf(stderr, "%s\n", r.error().to_string().c_str());
      }
    });
  }
  for (auto& t : threads) t.join();
  double secs = std::chrono::duration<double>(Clock_::now() - t0).count();
  auto after = engine->stats();
  if (errors) std::fprintf(stderr, "warning: %d commands failed\n", errors.load());
  std::vector<double> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  RunResult r;
  r.commands = all.size();
  r.per_sec = static_cast<double>(all.size()) / secs;
  r.p50_ms = all[all.size() / 2];
  r.p99_ms = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  r.avg_batch = static_cast<double>(after.commands - before.commands) /
                static_cast<double>(std::max<std::uint64_t>(1, after.batches - before.batches));
  return r;
}

// The rows one transition writes (an event, an instance upsert, an idempotency record), appended
// by a minimal SQLiteCpp loop with the same pragmas, in batches of the engine's average size.
double run_raw(const std::string& db, std::size_t rows, std::size_t batch, bool full) {
  remove_db(db);
  SQLite::Database d(db, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  d.exec("PRAGMA journal_mode=WAL");
  d.exec(full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
  d.exec(
      "CREATE TABLE events(position INTEGER PRIMARY KEY, instance_id TEXT, seq INTEGER, at_ms "
      "INTEGER, type TEXT, actor TEXT, body TEXT, request_id TEXT, prev_hash TEXT, hash TEXT, "
      "UNIQUE(instance_id, seq))");
  d.exec(
      "CREATE TABLE instances(instance_id TEXT PRIMARY KEY, state TEXT, data TEXT, last_seq "
      "INTEGER, head_hash TEXT)");
  d.exec("CREATE TABLE requests(request_id TEXT PRIMARY KEY, response TEXT)");
  SQLite::Statement ev(d,
                       "INSERT INTO events(instance_id, seq, at_ms, type, actor, body, "
                       "request_id, prev_hash, hash) VALUES(?,?,?,?,?,?,?,?,?)");
  SQLite::Statement inst(d,
                         "INSERT INTO instances VALUES(?,?,?,?,?) ON CONFLICT(instance_id) DO "
                         "UPDATE SET state=excluded.state, data=excluded.data, "
                         "last_seq=excluded.last_seq, head_hash=excluded.head_hash");
  SQLite::Statement req(d, "INSERT INTO requests VALUES(?,?)");
  std::string body = R"({"changes":{"amount":{"from":"1.25","to":"2.25"}},"event":"touch"})";
  std::string hash(64, 'a');
  auto t0 = Clock_::now();
  std::size_t done = 0;
  while (done < rows) {
    SQLite::Transaction tx(d);
    for (std::size_t i = 0; i < batch && done < rows; ++i, ++done) {
      std::string id = "bench-" + std::to_string(done % 64);
      ev.bind(1, id);
      ev.bind(2, static_cast<std::int64_t>(done));
      ev.bind(3, static_cast<std::int64_t>(done));
      ev.bind(4, "transitioned");
      ev.bind(5, R"({"principal":"bench","roles":["agent"]})");
      ev.bind(6, body);
      ev.bind(7, "b-" + std::to_string(done));
      ev.bind(8, hash);
      ev.bind(9, hash);
      ev.exec();
      ev.reset();
      inst.bind(1, id);
      inst.bind(2, "open");
      inst.bind(3, R"({"amount":"2.25","touches":3})");
      inst.bind(4, static_cast<std::int64_t>(done));
      inst.bind(5, hash);
      inst.exec();
      inst.reset();
      req.bind(1, "b-" + std::to_string(done));
      req.bind(2, R"({"result":{}})");
      req.exec();
      req.reset();
    }
    tx.commit();
  }
  return static_cast<double>(rows) / std::chrono::duration<double>(Clock_::now() - t0).count();
}

// The rows the engine run stored (its events, the instance upsert and request record of each,
// read back from its database), appended to an empty database with the engine's own schema
// (Store::open creates it: its indexes, its foreign key) by a minimal SQLiteCpp loop with the
// engine's pragmas and statements (commit_sql()), in batches of the engine's average size. The
// instances' started events are appended untimed first, as the engine run starts them before its
// clock.
double run_raw_same_rows(const std::string& engine_db, const std::string& db, std::size_t batch,
                         bool full) {
  struct Event {
    std::string instance_id;
    std::int64_t seq = 0, at_ms = 0;
    std::string type, actor, body, request_id, prev_hash, hash;
  };
  struct Request {
    std::string fingerprint, instance_id, response;
    std::int64_t at_ms = 0;
  };
  struct Instance {
    std::string workflow_id;
    std::int64_t version = 0;
    std::string state, lifecycle, data, extra;
    std::int64_t created_ms = 0;
  };
  std::vector<Event> events;
  std::unordered_map<std::string, Request> requests;
  std::unordered_map<std::string, Instance> instances;
  {
    SQLite::Database src(engine_db, SQLite::OPEN_READONLY);
    SQLite::Statement e(src,
                        "SELECT instance_id, seq, at_ms, type, actor, body, request_id, prev_hash, "
                        "hash FROM events ORDER BY position");
    while (e.executeStep()) {
      events.push_back(
          {e.getColumn(0).getString(), e.getColumn(1).getInt64(), e.getColumn(2).getInt64(),
           e.getColumn(3).getString(), e.getColumn(4).getString(), e.getColumn(5).getString(),
           e.getColumn(6).getString(), e.getColumn(7).getString(), e.getColumn(8).getString()});
    }
    SQLite::Statement r(
        src, "SELECT request_id, fingerprint, instance_id, response, at_ms FROM requests");
    while (r.executeStep()) {
      requests[r.getColumn(0).getString()] = {
          r.getColumn(1).getString(), r.getColumn(2).getString(), r.getColumn(3).getString(),
          r.getColumn(4).getInt64()};
    }
    SQLite::Statement i(src,
                        "SELECT instance_id, workflow_id, version, state, lifecycle, data, extra, "
                        "created_ms FROM instances");
    while (i.executeStep()) {
      instances[i.getColumn(0).getString()] = {
          i.getColumn(1).getString(), i.getColumn(2).getInt64(),  i.getColumn(3).getString(),
          i.getColumn(4).getString(), i.getColumn(5).getString(), i.getColumn(6).getString(),
          i.getColumn(7).getInt64()};
    }
  }
  remove_db(db);
  {
    StoreOptions o;
    o.path = db;
    if (auto created = Store::open(o); !created) {
      std::fprintf(stderr, "%s\n", created.error().to_string().c_str());
      std::exit(1);
    }
  }
  SQLite::Database d(db, SQLite::OPEN_READWRITE);
  d.exec("PRAGMA journal_mode=WAL");
  d.exec(full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
  d.exec("PRAGMA foreign_keys=ON");
  d.exec("PRAGMA cache_size=-32768");
  // The store's own statements (Store::commit writes the engine's rows with them).
  const CommitSql sql = commit_sql();
  SQLite::Statement inst(d, sql.upsert_instance);
  SQLite::Statement ev(d, sql.insert_event);
  SQLite::Statement req(d, sql.insert_request);
  auto append = [&](const Event& e) {
    const Instance& in = instances.at(e.instance_id);
    inst.bindNoCopy(1, e.instance_id);
    inst.bindNoCopy(2, in.workflow_id);
    inst.bind(3, in.version);
    inst.bindNoCopy(4, in.state);
    inst.bindNoCopy(5, in.lifecycle);
    inst.bindNoCopy(6, in.data);
    inst.bindNoCopy(7, in.extra);
    inst.bind(8);  // business_key: the bench starts its instances without one
    inst.bind(9, e.seq);
    inst.bind(10, in.created_ms);
    inst.bind(11, e.at_ms);
    inst.bindNoCopy(12, e.hash);
    inst.exec();
    inst.reset();
    ev.bindNoCopy(1, e.instance_id);
    ev.bind(2, e.seq);
    ev.bind(3, e.at_ms);
    ev.bindNoCopy(4, e.type);
    ev.bindNoCopy(5, e.actor);
    ev.bindNoCopy(6, e.body);
    if (e.request_id.empty()) {
      ev.bind(7);
    } else {
      ev.bindNoCopy(7, e.request_id);
    }
    ev.bindNoCopy(8, e.prev_hash);
    ev.bindNoCopy(9, e.hash);
    ev.exec();
    ev.reset();
    if (auto r = requests.find(e.request_id); r != requests.end()) {
      req.bindNoCopy(1, r->first);
      req.bindNoCopy(2, r->second.fingerprint);
      req.bindNoCopy(3, r->second.instance_id);
      req.bindNoCopy(4, r->second.response);
      req.bind(5, r->second.at_ms);
      req.exec();
      req.reset();
    }
  };
  std::vector<const Event*> timed;
  {
    SQLite::Transaction tx(d);
    for (const auto& e : events) {
      if (e.seq == 1) {
        append(e);
      } else {
        timed.push_back(&e);
      }
    }
    tx.commit();
  }
  auto t0 = Clock_::now();
  for (std::size_t done = 0; done < timed.size();) {
    SQLite::Transaction tx(d);
    for (std::size_t i = 0; i < batch && done < timed.size(); ++i, ++done) append(*timed[done]);
    tx.commit();
  }
  return static_cast<double>(timed.size()) /
         std::chrono::duration<double>(Clock_::now() - t0).count();
}

void memory_run(const std::string& db, long instances) {
  auto engine = open_fresh_engine(db, false);
  Actor agent{"bench", {"agent"}, ""};
  auto t0 = Clock_::now();
  constexpr int kWindow = 4096;  // commands in flight
  std::vector<std::future<Result<CommandOutcome>>> inflight;
  for (long i = 0; i < instances; ++i) {
    Command c;
    c.kind = CommandKind::kStart;
    c.workflow_id = "bench";
    c.data = {{"amount", "10.00"}};
    c.actor = agent;
    inflight.push_back(engine->submit(std::move(c)));
    if (inflight.size() == kWindow) {
      for (auto& f : inflight) f.get();
      inflight.clear();
    }
  }
  for (auto& f : inflight) f.get();
  inflight.clear();
  double secs = std::chrono::duration<double>(Clock_::now() - t0).count();
  // Touch a spread of instances so the cache holds hot ones.
  for (long i = 0; i < 20000; ++i) {
    Command c;
    c.kind = CommandKind::kFire;
    c.instance_id = "bench-" + std::to_string(1 + (i * 7919) % instances);
    c.event = "touch";
    c.payload = {{"amount", "1"}};
    c.actor = agent;
    inflight.push_back(engine->submit(std::move(c)));
  }
  for (auto& f : inflight) f.get();
  engine->stop();
  std::printf("instances: %ld started in %.1f s (%.0f/s); peak RSS %ld MB; db %.0f MB\n", instances,
              secs, static_cast<double>(instances) / secs, peak_rss_mb(),
              static_cast<double>(std::filesystem::file_size(db)) / 1e6);
}

}  // namespace

int main(int argc, char** argv) {
  bool smoke = false;
  long instances = 0;
  int per_submitter_total = 40000;
  std::string only;          // e.g. "FULL:64": one configuration (profiling)
  bool engine_only = false;  // skip the serial engine and the raw loop (profiling)
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--smoke"))
      smoke = true;
    else if (!std::strcmp(argv[i], "--instances") && i + 1 < argc)
      instances = std::atol(argv[++i]);
    else if (!std::strcmp(argv[i], "--commands") && i + 1 < argc)
      per_submitter_total = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--only") && i + 1 < argc)
      only = argv[++i];
    else if (!std::strcmp(argv[i], "--inline-checkpoints"))
      g_background_checkpoints = false;
    else if (!std::strcmp(argv[i], "--engine-only"))
      engine_only = true;
    else if (!std::strcmp(argv[i], "--plain-wal"))
      g_coalesce_wal_writes = false;
  }
  if (smoke) per_submitter_total = 256;
  std::string dir = std::filesystem::temp_directory_path() / "flowgate-bench-engine";
  std::filesystem::create_directories(dir);
  std::string db = dir + "/bench.db";
  std::string same_db = dir + "/same-rows.db";

  // "serial": the same run with overlap_commits off (each batch decided only once the one before
  // it is durable), for comparison.
  std::printf("%-6s %-10s %12s %9s %9s %10s %12s %12s %7s %12s %7s\n", "sync", "submitters",
              "trans/s", "p50 ms", "p99 ms", "avg batch", "serial t/s", "raw rows/s", "ratio",
              "same rows/s", "ratio");
  for (bool full : {true, false}) {
    for (int submitters : {1, 8, 64}) {
      if (!only.empty() && only != fmt::format("{}:{}", full ? "FULL" : "NORMAL", submitters)) {
        continue;
      }
      int per = std::max(
          1, (submitters == 1 ? per_submitter_total / 8 : per_submitter_total) / submitters);
      RunResult r = run_engine(db, submitters, per, full, true);
      std::size_t batch = static_cast<std::size_t>(std::max(1.0, r.avg_batch + 0.5));
      double same = engine_only ? 0.0 : run_raw_same_rows(db, same_db, batch, full);
      RunResult serial = engine_only ? RunResult{} : run_engine(db, submitters, per, full, false);
      double raw = engine_only ? 0.0 : run_raw(db, r.commands, batch, full);
      std::printf("%-6s %-10d %12.0f %9.3f %9.3f %10.1f %12.0f %12.0f %6.0f%% %12.0f %6.0f%%\n",
                  full ? "FULL" : "NORMAL", submitters, r.per_sec, r.p50_ms, r.p99_ms, r.avg_batch,
                  serial.per_sec, raw, 100.0 * r.per_sec / raw, same, 100.0 * r.per_sec / same);
    }
  }
  if (instances > 0 || smoke) memory_run(db, smoke ? 2000 : instances);
  std::filesystem::remove_all(dir);
  return 0;
}
