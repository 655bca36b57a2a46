// bench_verify: how fast `flowgate verify` and `flowgate replay` read a large history, against the
// cheapest conceivable check of the same data.
//
// Generates a database of N events across M instances (default 10,000,000 and 500,000) as the
// engine would write it: a real process definition (embedded below: a 32-step sales process with
// typed data, payloads, assignments, one `now()`), every step decided and applied by the real
// decide()/apply(), real hash chains, instance snapshots, checkpoints every 1,000,000 events and
// one at the end. The log interleaves `--active` instances at a time (default 10,000), like a busy
// system where many instances are open at once. Rows are written with raw SQLite in large
// transactions (generation speed is not what is measured).
//
// Then, each phase in its own child process (so peak RSS is per phase):
//   baseline  SELECT every event row by position and SHA-256 over the same bytes verify hashes
//             (prev_hash + "\n" + the canonical event) — nothing else;
//   verify    audit::verify (chains, snapshots via apply, definitions, newest checkpoint), without
//             the SQLite page check, which is timed on its own as `pages`;
//   replay    audit::replay (fold + re-decide every command) over all instances.
// Prints events/s, CPU time, peak RSS (which counts the database pages SQLite maps into memory)
// and the peak of the memory the phase allocated, and the ratio verify / baseline. Target: verify
// >= 1,000,000 events/s and >= 60% of the baseline.
//
//   bench_verify [--events N] [--instances M] [--active A] [--db FILE] [--keep] [--reuse]
//                [--rounds R] [--verify-only] [--sqlite-rows]
//     --keep leaves the database behind; --reuse measures an existing --db FILE again (written by
//     an earlier --keep run) instead of generating one; --rounds runs baseline and verify R times
//     in turn and reports the round with the median ratio (the machine's load changes between
//     phases). Each phase is printed with its CPU time and the load average when it began.
//     --verify-only measures only baseline and verify (replay reads 10,000,000 events in minutes).
//     --sqlite-rows has verify read the events through SQLite's SELECT alone, not from the pages
//     (audit/page_scan.h), for comparison.
//   bench_verify --smoke      (20,000 events, 1,000 instances: what CI runs)
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "audit/audit_db.h"
#include "audit/event_hash.h"
#include "audit/replay.h"
#include "audit/verify.h"
#include "definition/loader.h"
#include "runtime/decide.h"
#include "store/hash_chain.h"
#include "store/store.h"

using namespace flowgate;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr int kSteps = 32;  // transitions in the embedded process; an instance has 1 + steps events

// A linear sales process s0 -> s1 -> ... -> s32 (terminal), each step with a payload and
// assignments, like the shipped LTC workflow's bodies.
std::string process_text() {
  std::string t = R"toml([workflow]
id = "deal"
name = "Deal (bench_verify)"
version = 1
initial = "s0"

[roles]
AR = "account responsible"
SR = "solution responsible"

[data.channel]
type = "enum"
values = ["web", "trade_show", "referral"]
required = true

[data.owner]
type = "string"

[data.amount]
type = "money"

[data.steps]
type = "int"
default = 0

[data.note]
type = "string"

[data.first_contact]
type = "datetime"

[data.probability]
type = "decimal"
)toml";
  for (int i = 0; i <= kSteps; ++i) {
    t += fmt::format("\n[states.s{}]\nname = \"Step {}\"\nstage = \"{}\"\n{}", i, i,
                     i < 8    ? "ML"
                     : i < 24 ? "MO"
                              : "MCE",
                     i == kSteps ? "terminal = true\n" : "");
  }
  for (int i = 0; i < kSteps; ++i) {
    t += fmt::format(R"toml(
[[transitions]]
from = "s{0}"
to = "s{1}"
event = "step_{0}"
roles = ["{2}"]
payload = {{ owner = "string", amount = "money", note = "string?" }}
set = {{ owner = "event.owner", amount = "event.amount", steps = "data.steps + 1", note = "event.note"{3} }}
guard = "event.amount >= 0"
)toml",
                     i, i + 1, i % 2 == 0 ? "AR" : "SR",
                     i == 3 ? R"toml(, first_contact = "now()", probability = "0.25")toml" : "");
  }
  return t;
}

double seconds_since(SteadyClock::time_point t) {
  return std::chrono::duration<double>(SteadyClock::now() - t).count();
}

void check(int rc, sqlite3* db, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
    std::fprintf(stderr, "bench_verify: %s: %s\n", what, sqlite3_errmsg(db));
    std::exit(1);
  }
}

struct Generated {
  std::int64_t events = 0;
  std::int64_t instances = 0;
  double seconds = 0;
};

// Writes the database: definitions, events, instances, checkpoints, meta.
Generated generate(const std::string& path, const std::shared_ptr<const Workflow>& wf,
                   std::int64_t n_events, std::int64_t n_instances, std::int64_t active) {
  auto t0 = SteadyClock::now();
  std::filesystem::remove(path);
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-shm");
  {
    StoreOptions so;
    so.path = path;
    so.synchronous_full = false;
    auto store = Store::open(so);
    if (!store) {
      std::fprintf(stderr, "bench_verify: %s\n", store.error().to_string().c_str());
      std::exit(1);
    }
    StoredDefinition d{wf->id, wf->version, wf->content_hash, wf->source_text, "deal.toml", 0};
    if (auto ok = (*store)->put_definition(d); !ok) std::exit(1);
  }
  sqlite3* db = nullptr;
  check(sqlite3_open(path.c_str(), &db), db, "open");
  check(sqlite3_exec(db, "PRAGMA synchronous = OFF; PRAGMA cache_size = -262144; BEGIN", nullptr,
                     nullptr, nullptr),
        db, "begin");
  sqlite3_stmt* ins_event = nullptr;
  sqlite3_stmt* ins_instance = nullptr;
  check(sqlite3_prepare_v2(db,
                           "INSERT INTO events (position, instance_id, seq, at_ms, type, actor, "
                           "body, request_id, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?)",
                           -1, &ins_event, nullptr),
        db, "prepare");
  check(sqlite3_prepare_v2(db,
                           "INSERT INTO instances (instance_id, workflow_id, version, state, "
                           "lifecycle, data, extra, business_key, last_seq, created_ms, "
                           "updated_ms, head_hash) VALUES (?,?,?,?,?,?,?,NULL,?,?,?,?)",
                           -1, &ins_instance, nullptr),
        db, "prepare");

  struct Live {
    InstanceState state;
    std::int64_t length = 0;  // events this instance gets
  };
  const std::int64_t per = n_events / n_instances;
  const std::int64_t extra = n_events % n_instances;
  std::int64_t next_instance = 0;
  std::deque<Live> window;
  auto admit = [&] {
    Live l;
    l.state.id = fmt::format("deal-{}", next_instance + 1);
    l.length = per + (next_instance < extra ? 1 : 0);
    ++next_instance;
    window.push_back(std::move(l));
  };
  const std::int64_t t_base = 1'767'261'600'000;  // 2026-01-01T10:00:00Z
  std::int64_t position = 0;
  std::string actor_ar = R"({"principal":"ana","roles":["AR"]})";
  std::string actor_sr = R"({"principal":"sven","roles":["SR"]})";
  Actor ar{"ana", {"AR"}, ""};
  Actor sr{"sven", {"SR"}, ""};
  std::vector<std::pair<std::int64_t, std::string>> ids_for_checkpoint;
  std::string body_text;

  auto write_checkpoint = [&](std::int64_t at) {
    // The heads of every instance so far: the same computation as Store::write_checkpoint.
    sqlite3_stmt* q = nullptr;
    check(sqlite3_prepare_v2(db,
                             "SELECT instance_id, seq, hash FROM events e WHERE seq = (SELECT "
                             "max(seq) FROM events WHERE instance_id = e.instance_id) ORDER BY "
                             "instance_id",
                             -1, &q, nullptr),
          db, "prepare");
    HeadsHasher h;
    std::int64_t n = 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
      h.add(reinterpret_cast<const char*>(sqlite3_column_text(q, 0)), sqlite3_column_int64(q, 1),
            reinterpret_cast<const char*>(sqlite3_column_text(q, 2)));
      ++n;
    }
    sqlite3_finalize(q);
    std::string sql = fmt::format(
        "INSERT INTO checkpoints (position, at_ms, instance_count, event_count, heads_hash) "
        "VALUES ({}, {}, {}, {}, '{}')",
        position, at, n, position, h.finish());
    check(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), db, "checkpoint");
  };
  (void)ids_for_checkpoint;

  while (next_instance < n_instances && static_cast<std::int64_t>(window.size()) < active) admit();
  std::int64_t next_checkpoint = 1'000'000;
  while (!window.empty()) {
    Live l = std::move(window.front());
    window.pop_front();
    InstanceState& s = l.state;
    const std::int64_t seq = s.last_seq + 1;
    const std::int64_t at = t_base + position * 1000;
    Command c;
    const bool by_ar = seq == 1 || (seq - 2) % 2 == 0;
    c.actor = by_ar ? ar : sr;
    if (seq == 1) {
      c.kind = CommandKind::kStart;
      c.instance_id = s.id;
      c.workflow_id = "deal";
      c.data = {{"channel", "web"}};
    } else {
      c.kind = CommandKind::kFire;
      c.instance_id = s.id;
      c.event = fmt::format("step_{}", seq - 2);
      c.payload = {{"owner", seq % 3 == 0 ? "Ana Silva" : "Sven Olsen"},
                   {"amount", fmt::format("{}.{:02}", 1000 + seq * 37, seq % 100)},
                   {"note", "customer asked for a revised quote"}};
    }
    auto events = decide(DecideInput{*wf, seq == 1 ? nullptr : &s, c, at, nullptr, nullptr});
    if (!events) {
      std::fprintf(stderr, "bench_verify: %s\n", events.error().to_string().c_str());
      std::exit(1);
    }
    // An instance of length L records its first L events; a step that would also complete it
    // (transitioned + completed) is recorded whole, so the length may be exceeded by one.
    for (const Event& e : *events) {
      if (auto ok = apply(s, e, *wf, at); !ok) std::exit(1);
      EventRecord r;
      r.instance_id = s.id;
      r.seq = s.last_seq;
      r.at_ms = at;
      r.type = e.type;
      r.actor = c.actor.to_json();
      r.body = e.body;
      r.prev_hash = s.head_hash;
      r.hash = compute_event_hash(r.prev_hash, r);
      s.head_hash = r.hash;
      ++position;
      body_text = e.body.dump();
      const std::string& actor = by_ar ? actor_ar : actor_sr;
      sqlite3_bind_int64(ins_event, 1, position);
      sqlite3_bind_text(ins_event, 2, r.instance_id.data(), static_cast<int>(r.instance_id.size()),
                        SQLITE_STATIC);
      sqlite3_bind_int64(ins_event, 3, r.seq);
      sqlite3_bind_int64(ins_event, 4, r.at_ms);
      sqlite3_bind_text(ins_event, 5, r.type.data(), static_cast<int>(r.type.size()),
                        SQLITE_STATIC);
      sqlite3_bind_text(ins_event, 6, actor.data(), static_cast<int>(actor.size()), SQLITE_STATIC);
      sqlite3_bind_text(ins_event, 7, body_text.data(), static_cast<int>(body_text.size()),
                        SQLITE_STATIC);
      sqlite3_bind_null(ins_event, 8);
      sqlite3_bind_text(ins_event, 9, r.prev_hash.data(), static_cast<int>(r.prev_hash.size()),
                        SQLITE_STATIC);
      sqlite3_bind_text(ins_event, 10, r.hash.data(), static_cast<int>(r.hash.size()),
                        SQLITE_STATIC);
      check(sqlite3_step(ins_event), db, "insert event");
      sqlite3_reset(ins_event);
    }
    s.head_hash = s.head_hash;
    if (position >= next_checkpoint) {
      write_checkpoint(at);
      next_checkpoint += 1'000'000;
    }
    if (s.last_seq >= l.length || s.lifecycle == Lifecycle::kCompleted) {
      InstanceSnapshot snap = to_snapshot(s, *wf);
      std::string data = snap.data.dump();
      std::string extra_text = snap.extra.dump();
      sqlite3_bind_text(ins_instance, 1, snap.instance_id.data(), -1, SQLITE_STATIC);
      sqlite3_bind_text(ins_instance, 2, "deal", -1, SQLITE_STATIC);
      sqlite3_bind_int(ins_instance, 3, snap.version);
      sqlite3_bind_text(ins_instance, 4, snap.state.data(), -1, SQLITE_STATIC);
      sqlite3_bind_text(ins_instance, 5, snap.lifecycle.data(), -1, SQLITE_STATIC);
      sqlite3_bind_text(ins_instance, 6, data.data(), -1, SQLITE_STATIC);
      sqlite3_bind_text(ins_instance, 7, extra_text.data(), -1, SQLITE_STATIC);
      sqlite3_bind_int64(ins_instance, 8, snap.last_seq);
      sqlite3_bind_int64(ins_instance, 9, snap.created_ms);
      sqlite3_bind_int64(ins_instance, 10, snap.updated_ms);
      sqlite3_bind_text(ins_instance, 11, snap.head_hash.data(), -1, SQLITE_STATIC);
      check(sqlite3_step(ins_instance), db, "insert instance");
      sqlite3_reset(ins_instance);
      if (next_instance < n_instances) admit();
    } else {
      window.push_back(std::move(l));
    }
    if (position % 200'000 < 2) {
      check(sqlite3_exec(db, "COMMIT; BEGIN", nullptr, nullptr, nullptr), db, "commit");
    }
  }
  sqlite3_finalize(ins_event);
  sqlite3_finalize(ins_instance);
  write_checkpoint(t_base + position * 1000);
  std::string meta = fmt::format(
      "UPDATE meta SET value = {} WHERE key = 'max_instance_number'; COMMIT", n_instances);
  check(sqlite3_exec(db, meta.c_str(), nullptr, nullptr, nullptr), db, "meta");
  sqlite3_close(db);
  return {position, n_instances, seconds_since(t0)};
}

struct PhaseResult {
  double seconds = 0;
  std::int64_t events = 0;
  long peak_rss_kb = 0;  // VmHWM: includes the pages of the database file mapped by SQLite
  bool ok = false;
  std::string note;
  long peak_anon_kb = 0;  // the most private (anonymous) memory seen: what the phase allocated
  double cpu_seconds = 0;
  double load = 0;  // 1-minute load average when the phase began
};

// Runs one phase in a fresh process (this binary with --phase NAME --db FILE), so that its peak
// RSS is its own; the child prints "seconds events ok peak_rss_kb peak_anon_kb note".
PhaseResult in_child(const char* self, const std::string& phase, const std::string& path) {
  double load[1] = {0};
  if (getloadavg(load, 1) != 1) load[0] = -1;
  int pipefd[2];
  if (pipe(pipefd) != 0) std::exit(1);
  pid_t pid = fork();
  if (pid == 0) {
    close(pipefd[0]);
    dup2(pipefd[1], STDOUT_FILENO);
    close(pipefd[1]);
    execl(self, self, "--phase", phase.c_str(), "--db", path.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(pipefd[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(pipefd[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  close(pipefd[0]);
  int status = 0;
  rusage ru{};
  wait4(pid, &status, 0, &ru);
  PhaseResult r;
  char note[512] = {0};
  int okflag = 0;
  long events = 0;
  long hwm_kb = 0;
  std::sscanf(out.c_str(), "%lf %ld %d %ld %ld %511[^\n]", &r.seconds, &events, &okflag, &hwm_kb,
              &r.peak_anon_kb, note);
  r.events = events;
  r.load = load[0];
  r.cpu_seconds = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                  static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  r.ok = okflag == 1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  r.note = note;
  // The child's own high-water mark: Linux carries the parent's peak (the generator's) over fork
  // and exec into ru_maxrss, so that is only a fallback.
  r.peak_rss_kb = hwm_kb > 0 ? hwm_kb : ru.ru_maxrss;
  return r;
}

PhaseResult baseline(const std::string& path) {
  auto t0 = SteadyClock::now();
  sqlite3* db = nullptr;
  // Opened as verify opens it (audit::AuditDb): no connection mutex, pages through a memory map.
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
  const std::string mmap = fmt::format("PRAGMA mmap_size = {}", audit::AuditDb::kMmapBytes);
  sqlite3_exec(db, mmap.c_str(), nullptr, nullptr, nullptr);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db,
                     "SELECT position, instance_id, seq, at_ms, type, actor, body, request_id, "
                     "prev_hash, hash FROM events ORDER BY position",
                     -1, &s, nullptr);
  audit::EventHasher hasher;
  std::string buf;
  std::int64_t n = 0;
  unsigned acc = 0;
  while (sqlite3_step(s) == SQLITE_ROW) {
    // The same bytes verify hashes: prev_hash + "\n" + the canonical event.
    auto col = [&](int i) {
      return std::string_view(reinterpret_cast<const char*>(sqlite3_column_text(s, i)),
                              static_cast<std::size_t>(sqlite3_column_bytes(s, i)));
    };
    buf.clear();
    buf += col(8);
    buf += "\n{\"actor\":";
    buf += col(5);
    buf += ",\"at\":";
    buf += fmt::format_int(sqlite3_column_int64(s, 3)).c_str();
    buf += ",\"body\":";
    buf += col(6);
    buf += ",\"instance\":\"";
    buf += col(1);
    buf += "\",\"seq\":";
    buf += fmt::format_int(sqlite3_column_int64(s, 2)).c_str();
    buf += ",\"type\":\"";
    buf += col(4);
    buf += "\"}";
    acc += hasher.sha256(buf)[0];
    ++n;
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  return {seconds_since(t0), n, 0, true, fmt::format("checksum-{}", acc)};
}

// A "Name: N kB" line of /proc/self/status, e.g. VmHWM (the peak resident set of this process
// image); 0 when unknown.
long status_kb(const char* name) {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return 0;
  char line[256];
  const std::string format = fmt::format("{}: %ld kB", name);
  long kb = 0;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::sscanf(line, format.c_str(), &kb) == 1) break;
  }
  std::fclose(f);
  return kb;
}

// The peak of the private memory while it runs (resident minus file-backed pages, from
// /proc/self/statm, sampled every 50 ms): with the database mapped into memory, VmHWM counts the
// file's pages (shared page cache) as well as what the phase allocated.
class AnonPeak {
 public:
  AnonPeak()
      : thread_([this] {
          std::unique_lock lock(mu_);
          do {
            peak_ = std::max(peak_, private_kb());
          } while (!cv_.wait_for(lock, std::chrono::milliseconds(50), [&] { return stop_; }));
        }) {}
  long stop() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
    return std::max(peak_, private_kb());
  }

 private:
  static long private_kb() {
    std::FILE* f = std::fopen("/proc/self/statm", "r");
    if (f == nullptr) return 0;
    long size = 0, resident = 0, shared = 0;
    const int n = std::fscanf(f, "%ld %ld %ld", &size, &resident, &shared);
    std::fclose(f);
    return n == 3 ? (resident - shared) * (sysconf(_SC_PAGESIZE) / 1024) : 0;
  }

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  long peak_ = 0;
  std::thread thread_;
};

// One phase, in this (fresh) process: prints "seconds events ok peak_rss_kb note" on stdout.
int run_phase(const std::string& phase, const std::string& path) {
  SectionRegistry sections;
  AnonPeak anon;
  PhaseResult p;
  auto t0 = SteadyClock::now();
  if (phase == "baseline") {
    p = baseline(path);
  } else if (phase == "pages") {
    auto db = audit::AuditDb::open(path);
    auto problems = db ? (*db)->page_check() : Result<std::vector<std::string>>(fail(db.error()));
    auto events = db ? (*db)->last_position() : Result<std::int64_t>(0);
    p = {seconds_since(t0), events ? *events : 0, 0, problems && problems->empty(), "pages"};
  } else if (phase == "verify" || phase == "verify-sqlite" || phase == "verify1" ||
             phase == "chain") {
    audit::VerifyOptions o;
    o.sections = &sections;
    o.page_check = false;
    o.fold_thread = phase == "verify" || phase == "verify-sqlite";
    o.read_pages = phase != "verify-sqlite";
    o.fold = phase != "chain";
    o.progress = 0;
    auto r = audit::verify_database(path, o);
    p = {seconds_since(t0), r ? r->events : 0, 0, r && r->ok(), ""};
    if (r && !r->ok()) p.note = r->findings.front().to_string();
    if (!r) p.note = r.error().to_string();
  } else if (phase == "replay") {
    audit::ReplayOptions o;
    o.sections = &sections;
    o.progress = 0;
    auto r = audit::replay_database(path, o);
    p = {seconds_since(t0), r ? r->events : 0, 0, r && r->ok(), ""};
    if (r && !r->ok()) p.note = r->findings.front().to_string();
    if (!r) p.note = r.error().to_string();
  } else {
    std::fprintf(stderr, "bench_verify: unknown phase %s\n", phase.c_str());
    return 2;
  }
  const long anon_kb = anon.stop();
  std::printf("%f %ld %d %ld %ld %s\n", p.seconds, static_cast<long>(p.events), p.ok ? 1 : 0,
              status_kb("VmHWM"), anon_kb, p.note.empty() ? "-" : p.note.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::int64_t n_events = 10'000'000;
  std::int64_t n_instances = 500'000;
  std::int64_t active = 10'000;
  std::string path;
  bool keep = false;
  bool reuse = false;
  bool verify_only = false;
  bool sqlite_rows = false;
  int rounds = 1;
  std::string phase;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::int64_t {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "bench_verify: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return std::atoll(argv[++i]);
    };
    if (a == "--smoke") {
      n_events = 20'000;
      n_instances = 1'000;
      active = 200;
    } else if (a == "--events") {
      n_events = value();
    } else if (a == "--instances") {
      n_instances = value();
    } else if (a == "--active") {
      active = value();
    } else if (a == "--db" && i + 1 < argc) {
      path = argv[++i];
    } else if (a == "--keep") {
      keep = true;
    } else if (a == "--rounds") {
      rounds = static_cast<int>(std::clamp<std::int64_t>(value(), 1, 99));
    } else if (a == "--reuse") {
      reuse = keep = true;
    } else if (a == "--verify-only") {
      verify_only = true;
    } else if (a == "--sqlite-rows") {
      sqlite_rows = true;
    } else if (a == "--phase" && i + 1 < argc) {
      phase = argv[++i];
    } else {
      std::fprintf(stderr,
                   "usage: bench_verify [--smoke] [--events N] [--instances M] [--active A] "
                   "[--db FILE] [--keep] [--reuse] [--rounds R] [--verify-only] "
                   "[--sqlite-rows]\n");
      return 2;
    }
  }
  if (!phase.empty()) return run_phase(phase, path);
  if (n_instances < 1 || n_events < n_instances || n_events / n_instances > kSteps + 1 ||
      active < 1) {
    std::fprintf(stderr,
                 "bench_verify: need 1 <= instances <= events <= %d x instances and active >= 1\n",
                 kSteps + 1);
    return 2;
  }
  SectionRegistry sections;
  LoadResult loaded = load_workflow_text(process_text(), "deal.toml", sections);
  if (!loaded.ok()) {
    for (const auto& d : loaded.diagnostics.items())
      std::fprintf(stderr, "%s\n", d.to_string().c_str());
    return 1;
  }
  if (path.empty()) {
    path = (std::filesystem::temp_directory_path() / fmt::format("bench_verify-{}.db", getpid()))
               .string();
  }

  std::error_code exists_error;
  if (reuse && std::filesystem::exists(path, exists_error)) {
    const auto file_mb = static_cast<double>(std::filesystem::file_size(path)) / (1024.0 * 1024.0);
    std::printf("reusing %s, %.0f MiB\n", path.c_str(), file_mb);
  } else {
    Generated g = generate(path, loaded.workflow, n_events, n_instances, active);
    const auto file_mb = static_cast<double>(std::filesystem::file_size(path)) / (1024.0 * 1024.0);
    std::printf(
        "generated %ld events across %ld instances (%ld open at a time) in %.1f s: %s, %.0f MiB\n",
        g.events, g.instances, active, g.seconds, path.c_str(), file_mb);
  }

  auto rate_of = [](const PhaseResult& r) {
    return r.seconds > 0 ? static_cast<double>(r.events) / r.seconds : 0;
  };
  auto line = [&](const char* name, const PhaseResult& r) {
    std::printf(
        "%-9s %10ld events %8.2f s %10.0f events/s  cpu %6.2f s (%.2f us/event)  peak RSS %7.1f "
        "MiB (allocated %6.1f MiB)  load %.2f  %s%s\n",
        name, r.events, r.seconds, rate_of(r), r.cpu_seconds,
        r.events > 0 ? r.cpu_seconds * 1e6 / static_cast<double>(r.events) : 0.0,
        static_cast<double>(r.peak_rss_kb) / 1024.0, static_cast<double>(r.peak_anon_kb) / 1024.0,
        r.load, r.ok ? "ok" : "FAILED ", r.ok ? "" : r.note.c_str());
  };
  // Baseline and verify alternate, `rounds` times: on a shared machine the load changes from one
  // phase to the next, and each ratio compares two neighbours. The round with the median ratio is
  // the one reported.
  struct Round {
    PhaseResult base, ver;
    double ratio = 0;
  };
  std::vector<Round> measured;
  for (int i = 0; i < rounds; ++i) {
    Round r{in_child(argv[0], "baseline", path),
            in_child(argv[0], sqlite_rows ? "verify-sqlite" : "verify", path), 0};
    r.ratio = rate_of(r.base) > 0 ? rate_of(r.ver) / rate_of(r.base) : 0;
    if (rounds > 1) {
      std::printf(
          "round %d: baseline %.0f events/s (load %.2f), verify %.0f events/s (load %.2f), "
          "ratio %.2f\n",
          i + 1, rate_of(r.base), r.base.load, rate_of(r.ver), r.ver.load, r.ratio);
    }
    measured.push_back(std::move(r));
  }
  std::sort(measured.begin(), measured.end(),
            [](const Round& a, const Round& b) { return a.ratio < b.ratio; });
  const Round& median = measured[measured.size() / 2];
  PhaseResult pages, rep;
  pages.ok = rep.ok = true;
  if (!verify_only) {
    pages = in_child(argv[0], "pages", path);
    rep = in_child(argv[0], "replay", path);
  }
  line("baseline", median.base);
  if (!verify_only) line("pages", pages);
  line("verify", median.ver);
  if (!verify_only) line("replay", rep);
  double best = 0;
  for (const Round& r : measured) best = std::max(best, rate_of(r.ver));
  std::printf("verify / baseline = %.2f (target >= 0.60); verify %s 1,000,000 events/s",
              median.ratio, rate_of(median.ver) >= 1e6 ? ">=" : "<");
  if (rounds > 1) std::printf(" (fastest verify of %d rounds: %.0f events/s)", rounds, best);
  std::printf("\n");
  const PhaseResult& base = median.base;
  const PhaseResult& ver = median.ver;
  if (!keep) {
    std::filesystem::remove(path);
    std::filesystem::remove(path + "-wal");
    std::filesystem::remove(path + "-shm");
  }
  return ver.ok && rep.ok && base.ok && pages.ok ? 0 : 1;
}
