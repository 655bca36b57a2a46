// Group-commit throughput of store/Store::commit against a minimal raw SQLiteCpp loop writing the
// same rows into the same schema, at synchronous FULL and NORMAL and batch sizes 1, 100, 1000.
// One "transition" is what the engine writes per command: an event, an instance upsert and an
// idempotency record (3 rows). Also prints what PRAGMA quick_check costs when opening a store.
//
// `--plain-wal` commits through SQLite's default VFS (two writes per WAL frame) instead of the
// store's coalescing one (store/wal_vfs.h), for comparison; the raw loop always uses the default.
//
//   bench_store [--smoke] [--seconds S] [--dir DIR] [--check-mb N] [--plain-wal]
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <fmt/format.h>

#include "store/hash_chain.h"
#include "store/store.h"

using namespace flowgate;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kInstancePool = 20'000;  // transitions cycle over this many instances

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// CPU time of this thread: unlike wall time, it does not count waiting for fsync or for a core
// that other processes hold, so the store/raw CPU ratio stays meaningful on a busy machine.
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

StoredDefinition bench_definition() {
  StoredDefinition d;
  d.workflow_id = "ltc";
  d.version = 1;
  d.source_text = "[workflow]\nid = \"ltc\"\nname = \"Lead to Cash\"\nversion = 1\n";
  d.content_hash = sha256_hex(d.source_text);
  d.file = "ltc.toml";
  return d;
}

// Produces batches as the engine's writer would: every transition appends one event to an
// instance (starting it on first use), updates its snapshot and records the request.
class Workload {
 public:
  WriteBatch next(int size) {
    WriteBatch b;
    for (int i = 0; i < size; ++i) {
      const int k = static_cast<int>(counter_ % kInstancePool);
      ++counter_;
      if (static_cast<std::size_t>(k) >= snapshots_.size()) {
        InstanceSnapshot s;
        s.instance_id = fmt::format("ltc-{}", k + 1);
        s.workflow_id = "ltc";
        s.version = 1;
        s.lifecycle = "active";
        s.created_ms = now_;
        snapshots_.push_back(std::move(s));
      }
      InstanceSnapshot& s = snapshots_[static_cast<std::size_t>(k)];
      EventRecord e;
      e.instance_id = s.instance_id;
      e.seq = s.last_seq + 1;
      e.at_ms = now_;
      e.type = e.seq == 1 ? "instance_started" : "transitioned";
      e.actor = {{"principal", "alice"}, {"roles", {"AR"}}};
      e.body = {{"from", s.state}, {"to", fmt::format("s{}", e.seq % 7)}, {"event", "advance"}};
      e.request_id = fmt::format("req-{}", counter_);
      e.prev_hash = s.head_hash;
      e.hash = compute_event_hash(e.prev_hash, e);
      s.state = e.body["to"];
      s.last_seq = e.seq;
      s.head_hash = e.hash;
      s.updated_ms = now_;
      s.data = {{"amount", "125000.00"}, {"region", "EMEA"}, {"owner", "alice"}};
      b.requests.push_back(RequestRecord{e.request_id,
                                         sha256_hex(e.request_id),
                                         s.instance_id,
                                         {{"ok", true}, {"seq", e.seq}},
                                         now_});
      b.events.push_back(std::move(e));
      b.instances.push_back(s);
    }
    ++now_;
    return b;
  }

 private:
  std::int64_t counter_ = 0;
  std::int64_t now_ = 1'700'000'000'000;
  std::vector<InstanceSnapshot> snapshots_;
};

std::string dump(const nlohmann::json& j) { return j.dump(); }

// The same rows as Store::commit, through prepared statements with pre-serialized JSON.
class RawWriter {
 public:
  RawWriter(const std::string& path, bool full)
      : db_(path, SQLite::OPEN_READWRITE),
        event_(db_,
               "INSERT INTO events (instance_id, seq, at_ms, type, actor, body, request_id, "
               "prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"),
        instance_(db_,
                  "INSERT INTO instances (instance_id, workflow_id, version, state, lifecycle, "
                  "data, extra, business_key, last_seq, created_ms, updated_ms, head_hash) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL, ?8, ?9, ?10, ?11) "
                  "ON CONFLICT (instance_id) DO UPDATE SET workflow_id = excluded.workflow_id, "
                  "version = excluded.version, state = excluded.state, "
                  "lifecycle = excluded.lifecycle, data = excluded.data, extra = excluded.extra, "
                  "business_key = excluded.business_key, last_seq = excluded.last_seq, "
                  "created_ms = excluded.created_ms, updated_ms = excluded.updated_ms, "
                  "head_hash = excluded.head_hash"),
        request_(db_,
                 "INSERT INTO requests (request_id, fingerprint, instance_id, response, at_ms) "
                 "VALUES (?1, ?2, ?3, ?4, ?5)") {
    db_.exec("PRAGMA journal_mode = WAL");
    db_.exec(full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
    db_.exec("PRAGMA foreign_keys = ON");
    db_.exec("PRAGMA cache_size = -32768");
  }

  struct Prepared {
    std::vector<std::string> actor, body, data, extra, response;
  };
  static Prepared prepare(const WriteBatch& b) {
    Prepared p;
    for (const auto& e : b.events) {
      p.actor.push_back(dump(e.actor));
      p.body.push_back(dump(e.body));
    }
    for (const auto& s : b.instances) {
      p.data.push_back(dump(s.data));
      p.extra.push_back(dump(s.extra));
    }
    for (const auto& r : b.requests) p.response.push_back(dump(r.response));
    return p;
  }

  void commit(const WriteBatch& b, const Prepared& p) {
    db_.exec("BEGIN IMMEDIATE");
    for (std::size_t i = 0; i < b.instances.size(); ++i) {
      const auto& s = b.instances[i];
      instance_.bindNoCopy(1, s.instance_id);
      instance_.bindNoCopy(2, s.workflow_id);
      instance_.bind(3, s.version);
      instance_.bindNoCopy(4, s.state);
      instance_.bindNoCopy(5, s.lifecycle);
      instance_.bindNoCopy(6, p.data[i]);
      instance_.bindNoCopy(7, p.extra[i]);
      instance_.bind(8, static_cast<std::int64_t>(s.last_seq));
      instance_.bind(9, static_cast<std::int64_t>(s.created_ms));
      instance_.bind(10, static_cast<std::int64_t>(s.updated_ms));
      instance_.bindNoCopy(11, s.head_hash);
      instance_.exec();
      instance_.reset();
    }
    for (std::size_t i = 0; i < b.events.size(); ++i) {
      const auto& e = b.events[i];
      event_.bindNoCopy(1, e.instance_id);
      event_.bind(2, static_cast<std::int64_t>(e.seq));
      event_.bind(3, static_cast<std::int64_t>(e.at_ms));
      event_.bindNoCopy(4, e.type);
      event_.bindNoCopy(5, p.actor[i]);
      event_.bindNoCopy(6, p.body[i]);
      event_.bindNoCopy(7, e.request_id);
      event_.bindNoCopy(8, e.prev_hash);
      event_.bindNoCopy(9, e.hash);
      event_.exec();
      event_.reset();
    }
    for (std::size_t i = 0; i < b.requests.size(); ++i) {
      const auto& r = b.requests[i];
      request_.bindNoCopy(1, r.request_id);
      request_.bindNoCopy(2, r.fingerprint);
      request_.bindNoCopy(3, r.instance_id);
      request_.bindNoCopy(4, p.response[i]);
      request_.bind(5, static_cast<std::int64_t>(r.at_ms));
      request_.exec();
      request_.reset();
    }
    db_.exec("COMMIT");
  }

 private:
  SQLite::Database db_;
  SQLite::Statement event_, instance_, request_;
};

bool g_coalesce_wal_writes = true;  // --plain-wal: false

// A fresh flowgate database (schema and definition) at `path`.
bool create_database(const std::string& path, bool full) {
  std::filesystem::remove(path);
  StoreOptions o;
  o.path = path;
  o.synchronous_full = full;
  auto store = Store::open(o);
  if (!store || !(*store)->put_definition(bench_definition())) {
    std::fprintf(stderr, "cannot create %s\n", path.c_str());
    return false;
  }
  return true;
}

struct Figures {
  double store_rows_per_s = 0;
  double raw_rows_per_s = 0;
  double store_cpu_us = 0;  // CPU time per transition
  double raw_cpu_us = 0;    // SQL only: the raw loop gets its JSON text ready-made
  double json_cpu_us = 0;   // serializing the JSON columns (part of Store::commit's work)
  std::int64_t transitions = 0;
};

// Commits batches of `batch` transitions through Store until `seconds` of commit time, then
// the same batches through the raw loop. Only the commits are timed (building batches is the
// engine's work, not the store's).
bool run(const std::string& dir, bool full, int batch, double seconds, Figures& out) {
  const std::string store_path = dir + "/store.db";
  const std::string raw_path = dir + "/raw.db";
  if (!create_database(store_path, full) || !create_database(raw_path, full)) return false;
  StoreOptions o;
  o.path = store_path;
  o.synchronous_full = full;
  o.coalesce_wal_writes = g_coalesce_wal_writes;
  auto store = Store::open(o);
  if (!store) {
    std::fprintf(stderr, "%s\n", store.error().to_string().c_str());
    return false;
  }
  Workload store_load;
  double store_time = 0, store_cpu = 0;
  int batches = 0;
  while (store_time < seconds || batches < 3) {
    WriteBatch b = store_load.next(batch);
    const auto t = Clock::now();
    const double c = thread_cpu_seconds();
    auto r = (*store)->commit(b);
    store_cpu += thread_cpu_seconds() - c;
    store_time += seconds_since(t);
    if (!r) {
      std::fprintf(stderr, "%s\n", r.error().to_string().c_str());
      return false;
    }
    ++batches;
  }
  store->reset();

  RawWriter raw(raw_path, full);
  Workload raw_load;
  double raw_time = 0, raw_cpu = 0, json_cpu = 0;
  for (int i = 0; i < batches; ++i) {
    WriteBatch b = raw_load.next(batch);
    const double j = thread_cpu_seconds();
    auto prepared = RawWriter::prepare(b);
    json_cpu += thread_cpu_seconds() - j;
    const auto t = Clock::now();
    const double c = thread_cpu_seconds();
    raw.commit(b, prepared);
    raw_cpu += thread_cpu_seconds() - c;
    raw_time += seconds_since(t);
  }
  out.transitions = static_cast<std::int64_t>(batches) * batch;
  const double rows = 3.0 * static_cast<double>(out.transitions);
  out.store_rows_per_s = rows / store_time;
  out.raw_rows_per_s = rows / raw_time;
  out.store_cpu_us = store_cpu * 1e6 / static_cast<double>(out.transitions);
  out.raw_cpu_us = raw_cpu * 1e6 / static_cast<double>(out.transitions);
  out.json_cpu_us = json_cpu * 1e6 / static_cast<double>(out.transitions);
  return true;
}

// Grows a store to about `megabytes`, then times opening it with and without quick_check.
bool open_cost(const std::string& dir, int megabytes) {
  const std::string path = dir + "/open.db";
  if (!create_database(path, false)) return false;
  {
    StoreOptions o;
    o.path = path;
    o.synchronous_full = false;
    auto store = Store::open(o);
    if (!store) return false;
    Workload load;
    while (std::filesystem::file_size(path) + std::filesystem::file_size(path + "-wal") <
           static_cast<std::uintmax_t>(megabytes) << 20) {
      if (!(*store)->commit(load.next(1000))) return false;
    }
  }
  const double mib = static_cast<double>(std::filesystem::file_size(path)) / (1 << 20);
  auto time_open = [&](std::int64_t check_limit) {
    StoreOptions o;
    o.path = path;
    o.read_only = true;
    o.quick_check_max_bytes = check_limit;
    const auto t = Clock::now();
    auto store = Store::open(o);
    const double ms = seconds_since(t) * 1000;
    return store ? ms : -1.0;
  };
  time_open(0);  // warm the page cache: both timings below read from memory
  const double shallow = time_open(0);
  const double deep = time_open(std::int64_t{1} << 40);
  std::printf(
      "\nopen of a %.1f MiB store: header+schema checks %.2f ms, with quick_check %.1f ms "
      "(%.2f ms/MiB)\n",
      mib, shallow, deep, (deep - shallow) / mib);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  bool smoke = false;
  double seconds = 2.0;
  int check_mb = 64;
  std::string base = std::filesystem::temp_directory_path().string();
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--smoke") {
      smoke = true;
    } else if (a == "--seconds" && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (a == "--dir" && i + 1 < argc) {
      base = argv[++i];
    } else if (a == "--check-mb" && i + 1 < argc) {
      check_mb = std::atoi(argv[++i]);
    } else if (a == "--plain-wal") {
      g_coalesce_wal_writes = false;
    } else {
      std::fprintf(stderr,
                   "usage: bench_store [--smoke] [--seconds S] [--dir DIR] [--check-mb N] "
                   "[--plain-wal]\n");
      return 2;
    }
  }
  if (smoke) {
    seconds = 0.02;
    check_mb = 1;
  }
  std::string dir = base + "/flowgate-bench-store-XXXXXX";
  if (mkdtemp(dir.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  std::printf(
      "Store::commit vs a raw SQLiteCpp loop writing the same rows into the same schema.\n"
      "1 transition = event + instance upsert + request = 3 rows. CPU columns are microseconds\n"
      "per transition on the committing thread; the raw loop is given its JSON text ready-made,\n"
      "`json` is what serializing it costs (Store::commit does both).\n\n");
  std::printf("%-6s %5s %11s %13s %13s %6s %9s %7s %6s %9s\n", "sync", "batch", "transitions",
              "store rows/s", "raw rows/s", "ratio", "cpu store", "cpu raw", "json", "cpu ratio");
  bool ok = true;
  for (bool full : {true, false}) {
    for (int batch : {1, 100, 1000}) {
      Figures f;
      if (!run(dir, full, batch, seconds, f)) {
        ok = false;
        break;
      }
      std::printf("%-6s %5d %11lld %13.0f %13.0f %6.2f %9.1f %7.1f %6.1f %9.2f\n",
                  full ? "FULL" : "NORMAL", batch, static_cast<long long>(f.transitions),
                  f.store_rows_per_s, f.raw_rows_per_s, f.store_rows_per_s / f.raw_rows_per_s,
                  f.store_cpu_us, f.raw_cpu_us, f.json_cpu_us,
                  f.store_cpu_us / (f.raw_cpu_us + f.json_cpu_us));
      std::fflush(stdout);
    }
  }
  ok = ok && open_cost(dir, check_mb);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return ok ? 0 : 1;
}
