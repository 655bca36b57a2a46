#include "runtime/engine.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/file.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <limits>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include <spdlog/spdlog.h>

#include "definition/loader.h"
#include "runtime/decide.h"
#include "runtime/instance.h"
#include "runtime/request_filter.h"
#include "store/hash_chain.h"

#include <cerrno>
#include <cstring>

namespace flowgate {
namespace {

using nlohmann::json;

// Least-recently-used cache of instance states; owned by the writer thread only.
class InstanceCache {
 public:
  explicit InstanceCache(std::size_t capacity) : capacity_(capacity) {}
  // Moves the state out of the cache (the writer puts it back after its batch commits; a batch
  // that fails leaves it out, to be read again from the store).
  std::optional<InstanceState> take(const std::string& id) {
    auto it = index_.find(id);
    if (it == index_.end()) return std::nullopt;
    std::optional<InstanceState> out(std::move(*it->second));
    order_.erase(it->second);
    index_.erase(it);
    return out;
  }
  void put(InstanceState s) {
    auto it = index_.find(s.id);
    if (it != index_.end()) {
      *it->second = std::move(s);
      order_.splice(order_.begin(), order_, it->second);
      return;
    }
    order_.push_front(std::move(s));
    index_.emplace(order_.front().id, order_.begin());
    while (index_.size() > capacity_ && !order_.empty()) {
      index_.erase(order_.back().id);
      order_.pop_back();
    }
  }
  std::size_t size() const { return index_.size(); }

 private:
  std::size_t capacity_;
  std::list<InstanceState> order_;
  std::unordered_map<std::string, std::list<InstanceState>::iterator> index_;
};

struct Pending {
  Command command;
  std::promise<Result<CommandOutcome>> promise;
  // When the command happens, if not when its batch starts: advance_clock stamps each timer with
  // its due time, so that timers due at different instants can share one group commit.
  std::optional<std::int64_t> at_ms;
  // Set: the answer goes here (on the thread that answers) instead of to the promise.
  Engine::Done on_done;

  void deliver(Result<CommandOutcome> result) {
    if (on_done)
      on_done(std::move(result));
    else
      promise.set_value(std::move(result));
  }
};

// Work other than commands that must run on the writer thread (it owns the writer connection).
using WriterJob = std::packaged_task<Result<void>(Store&)>;

// An exclusive lock on "<db>.lock" held for the writer's life: one writing process per database.
class WriterLock {
 public:
  static Result<WriterLock> acquire(const std::string& db, int wait_ms) {
    std::string path = db + ".lock";
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
      return fail(ErrorCode::kStorage,
                  fmt::format("cannot open the lock file {}: {}", path, std::strerror(errno)));
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
    while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      if (errno != EWOULDBLOCK || std::chrono::steady_clock::now() >= deadline) {
        char buf[32] = {};
        ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
        ::close(fd);
        std::string holder =
            n > 0 ? fmt::format(" (pid {})", std::string(buf, static_cast<std::size_t>(n))) : "";
        return fail(
            Error(
                ErrorCode::kDatabaseLocked,
                fmt::format("the database {} is in use by another flowgate process{}", db, holder))
                .with_hint("send commands to the running server (--socket), or stop it first"));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::string pid = std::to_string(::getpid());
    if (::ftruncate(fd, 0) == 0) {
      ssize_t ignored = ::pwrite(fd, pid.data(), pid.size(), 0);
      (void)ignored;
    }
    return WriterLock(fd);
  }
  WriterLock() = default;
  WriterLock(WriterLock&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  WriterLock& operator=(WriterLock&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  ~WriterLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the flock
  }

 private:
  explicit WriterLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// Plugins name timers per instance ("sla/response/breach"); the timers table and the heap key them
// by "<instance>#<timer id>" so that every instance has its own.
std::string scoped_timer_id(const std::string& instance_id, const std::string& local_id) {
  return instance_id + "#" + local_id;
}
std::string local_timer_id(const std::string& scoped) {
  auto hash = scoped.find('#');
  return hash == std::string::npos ? scoped : scoped.substr(hash + 1);
}

// The armed timers due soonest, by id and by (due time, id): a window over the timers table in
// firing order. Every stored timer up to `covered` is here; later ones live only in the store until
// the window runs dry and is refilled from it (a million armed clocks need not be in memory, even
// when they all fall due at one instant).
// Guarded by Engine::Impl::timers_mu.
struct TimerTable {
  std::unordered_map<std::string, TimerRecord> armed;
  std::set<std::pair<std::int64_t, std::string>> by_due;  // (due, id): the store's firing order
  std::unordered_set<std::string> in_flight;              // submitted, not yet answered
  // Every stored timer up to this key is here (nothing yet when none); `all`: every timer is.
  std::optional<TimerKey> covered;
  bool all = false;
  std::size_t window = 65536;

  bool needs_refill() const { return by_due.empty() && !all; }
  bool covers(std::int64_t due, const std::string& id) const {
    return all || (covered && TimerKey{due, id} <= *covered);
  }

  // Keeps the `window` soonest timers (and any in flight); the rest stay in the store only.
  void trim() {
    if (by_due.size() <= window) return;
    auto last = std::next(by_due.begin(), static_cast<std::ptrdiff_t>(window) - 1);
    covered = TimerKey{last->first, last->second};
    all = false;
    for (auto it = std::next(last); it != by_due.end();) {
      if (in_flight.count(it->second)) {
        ++it;
        continue;
      }
      armed.erase(it->second);
      it = by_due.erase(it);
    }
  }

  // A timer armed (or moved) by a commit; one beyond the window stays in the store only.
  void put(TimerRecord t) {
    erase(t.timer_id);
    if (!covers(t.due_ms, t.timer_id)) return;
    by_due.emplace(t.due_ms, t.timer_id);
    armed[t.timer_id] = std::move(t);
    if (by_due.size() > 2 * window) trim();
  }
  void erase(const std::string& id) {
    auto it = armed.find(id);
    if (it == armed.end()) return;
    by_due.erase({it->second.due_ms, id});
    armed.erase(it);
  }
  // The earliest timer not in flight.
  const TimerRecord* earliest() const {
    for (const auto& [due, id] : by_due) {
      if (!in_flight.count(id)) return &armed.at(id);
    }
    return nullptr;
  }
};

// The next window of timers from the store: up to `window` of them in firing order after
// `after`, and whether that is all of them.
struct TimerWindow {
  std::vector<TimerRecord> timers;
  bool all = false;
};
Result<TimerWindow> read_timer_window(Store& store, const std::optional<TimerKey>& after,
                                      std::size_t window) {
  auto rows = store.timers_after(after, static_cast<std::int64_t>(window));
  if (!rows) return fail(rows.error());
  bool all = rows->size() < window;
  return TimerWindow{std::move(*rows), all};
}

// What one group commit accumulates before it is made durable.
struct BatchContext {
  std::int64_t now_ms = 0;
  WriteBatch batch;
  std::unordered_map<std::string, InstanceState> overlay;  // working copies, by id
  std::unordered_map<std::string, std::size_t> requests;   // request id → index in batch.requests
  std::unordered_map<std::string, std::string> new_keys;   // "wf\x1fkey" → instance id
  std::vector<std::string> dirty;                          // changed ids, first-change order
  std::unordered_set<std::string> dirty_set;
  std::vector<std::pair<std::size_t, std::size_t>> event_ranges;  // per command: [begin, end)
  std::vector<Result<CommandOutcome>> answers;
  std::int64_t next_instance_number = 0;
  std::map<std::string, std::optional<TimerRecord>> timers;  // id → armed (nullopt: disarm)

  // Empties everything for the next batch, keeping the vectors' buffers: freeing large buffers
  // after every batch made the allocator consolidate its free lists each time.
  void reset(std::int64_t now, std::int64_t instance_number) {
    now_ms = now;
    next_instance_number = instance_number;
    batch.events.clear();
    batch.instances.clear();
    batch.requests.clear();
    batch.timers_put.clear();
    batch.timers_delete.clear();
    batch.json_texts.clear();
    overlay.clear();
    requests.clear();
    new_keys.clear();
    dirty.clear();
    dirty_set.clear();
    event_ranges.clear();
    answers.clear();
    timers.clear();
  }
};

}  // namespace

struct Engine::Impl {
  EngineOptions options;
  std::shared_ptr<Catalog> catalog;
  std::shared_ptr<Clock> clock;
  const SectionRegistry* sections = nullptr;
  std::shared_ptr<const HookSet> hooks = std::make_shared<HookSet>();
  WriterLock writer_lock;
  // The committer's connection (the writer's, for jobs, while no batch is in flight).
  std::unique_ptr<Store> writer_store;
  std::unique_ptr<Store> decide_store;  // the writer's read-only lookups while a batch commits

  std::mutex mu;
  std::condition_variable cv;
  std::deque<Pending> queue;
  std::deque<WriterJob> jobs;
  bool stopping = false;
  // Batches handed to the committer (writer thread) and finished by it (under mu): the writer
  // tops up its next batch while they differ.
  std::uint64_t handed_batches = 0;
  std::uint64_t finished_batches = 0;
  std::thread writer;

  mutable std::mutex timers_mu;
  std::condition_variable timers_cv;
  TimerTable timer_table;
  bool scheduler_stopping = false;
  std::thread scheduler;
  std::mutex advance_mu;  // one advance_clock at a time

  std::mutex listeners_mu;
  std::map<std::uint64_t, Engine::CommitListener> listeners;
  std::uint64_t next_listener = 1;

  std::mutex readers_mu;
  std::vector<std::unique_ptr<Store>> readers;

  // The writer thread decides batch N+1 while the committer thread makes batch N durable: the two
  // contexts alternate. Commands of N+1 see N's working copies, request ids and business keys (the
  // `in_flight` context) as if committed; if N's commit fails, N+1 is refused whole, since it was
  // decided on states that never became durable.
  InstanceCache cache{100000};                  // writer thread only
  std::array<BatchContext, 2> contexts;         // the writer's, reused from batch to batch
  BatchContext* in_flight = nullptr;            // writer: handed to the committer, not yet retired
  std::int64_t instance_counter = 0;            // writer: counting the batches in flight
  std::int64_t committed_instance_counter = 0;  // committer (read by the writer under commit_mu)
  std::int64_t events_since_checkpoint = 0;     // committer
  std::int64_t instances_at_checkpoint = 0;     // committer: what the newest checkpoint hashed

  struct Handoff {
    BatchContext* ctx = nullptr;
    std::vector<Pending> work;
  };
  std::mutex commit_mu;
  std::condition_variable commit_cv;
  std::optional<Handoff> commit_slot;   // handed over, not yet taken by the committer
  bool commit_busy = false;             // a batch is handed over or being committed/answered
  std::optional<Error> commit_failure;  // the batch that finished last failed to commit
  bool committer_stopping = false;
  std::thread committer;

  // Answers leave the committer at once: a thread of their own wakes the callers (one wake-up per
  // command, dozens per group commit), so the next commit starts sooner.
  struct Answers {
    std::vector<Pending> work;
    std::vector<Result<CommandOutcome>> results;  // one per command of `work`
  };
  std::mutex answer_mu;
  std::condition_variable answer_cv;
  std::deque<Answers> to_answer;
  bool answerer_stopping = false;
  std::thread answerer;

  void answer_later(std::vector<Pending> work, std::vector<Result<CommandOutcome>> results) {
    {
      std::lock_guard lock(answer_mu);
      to_answer.push_back(Answers{std::move(work), std::move(results)});
    }
    answer_cv.notify_one();
  }
  void answer_later(std::vector<Pending> work, const Error& error) {
    std::vector<Result<CommandOutcome>> results;
    results.reserve(work.size());
    for (std::size_t i = 0; i < work.size(); ++i) results.push_back(fail(error));
    answer_later(std::move(work), std::move(results));
  }
  void run_answerer() {
    pthread_setname_np(pthread_self(), "fg-answer");
    for (;;) {
      Answers a;
      {
        std::unique_lock lock(answer_mu);
        answer_cv.wait(lock, [&] { return answerer_stopping || !to_answer.empty(); });
        if (to_answer.empty()) return;
        a = std::move(to_answer.front());
        to_answer.pop_front();
      }
      for (std::size_t i = 0; i < a.work.size(); ++i) a.work[i].deliver(std::move(a.results[i]));
    }
  }

  std::atomic<std::uint64_t> n_commands{0}, n_refused{0}, n_batches{0}, n_events{0};
  std::atomic<std::uint64_t> n_request_lookups{0};

  // --- the request-id filter (request_filter.h) ----------------------------------------------
  // A loader thread reads every stored request id into a filter, in one read transaction that
  // starts after the engine opened; meanwhile the writer notes every id it records. The writer
  // adopts the filter at its next batch and adds what it noted, so the filter then holds every
  // id ever stored: those committed before the read began are in the read, the rest were noted.
  std::thread filter_loader;
  std::atomic<bool> filter_stop{false};
  std::atomic<bool> filter_loaded{false};  // loaded_filter is set (or the load failed)
  std::mutex filter_mu;
  std::unique_ptr<RequestIdFilter> loaded_filter;   // under filter_mu; null when the load failed
  std::unique_ptr<RequestIdFilter> request_filter;  // writer thread: adopted, complete
  std::vector<std::string> noted_request_ids;       // writer thread: recorded before adoption
  bool noting_request_ids = false;                  // writer thread: a load is under way
  std::atomic<bool> filter_ready{false};            // request_filter is adopted (stats)

  void start_filter_loader() {
    if (!options.request_id_filter) return;
    noting_request_ids = true;
    filter_loader = std::thread([this] {
      pthread_setname_np(pthread_self(), "fg-requests");
      auto filter = std::make_unique<RequestIdFilter>();
      auto n = with_reader([&](Store& s) {
        return s.scan_request_ids([&](std::string_view id) {
          filter->add(id);
          return !filter_stop.load(std::memory_order_relaxed);
        });
      });
      std::lock_guard lock(filter_mu);
      if (!n) {
        spdlog::warn("request ids not read into the filter ({}); every retry check reads the store",
                     n.error().message);
      } else if (!filter_stop.load()) {
        spdlog::debug("request-id filter: {} ids, {} KiB", *n, filter->memory_bytes() / 1024);
        loaded_filter = std::move(filter);
      }
      filter_loaded.store(true, std::memory_order_release);
    });
  }
  void stop_filter_loader() {
    filter_stop.store(true);
    if (filter_loader.joinable()) filter_loader.join();
  }
  // Writer thread, between batches.
  void adopt_filter() {
    if (!noting_request_ids || !filter_loaded.load(std::memory_order_acquire)) return;
    noting_request_ids = false;
    {
      std::lock_guard lock(filter_mu);
      request_filter = std::move(loaded_filter);
    }
    if (request_filter) {
      for (const auto& id : noted_request_ids) request_filter->add(id);
      filter_ready.store(true);
    }
    std::vector<std::string>().swap(noted_request_ids);
  }
  // Writer thread: `id` is recorded in the batch being decided (stored unless the commit fails,
  // and a filter that holds an id never stored only costs a lookup).
  void note_request_id(const std::string& id) {
    if (request_filter) {
      request_filter->add(id);
    } else if (noting_request_ids) {
      noted_request_ids.push_back(id);
    }
  }

  // --- reader connections -------------------------------------------------------------------
  Result<std::unique_ptr<Store>> acquire_reader() {
    {
      std::lock_guard lock(readers_mu);
      if (!readers.empty()) {
        auto s = std::move(readers.back());
        readers.pop_back();
        return s;
      }
    }
    StoreOptions o;
    o.path = options.db_path;
    o.read_only = true;
    o.busy_timeout_ms = options.busy_timeout_ms;
    return Store::open(o);
  }
  void release_reader(std::unique_ptr<Store> s) {
    std::lock_guard lock(readers_mu);
    if (readers.size() < 16) readers.push_back(std::move(s));
  }
  template <typename F>
  auto with_reader(F&& f) -> decltype(f(std::declval<Store&>())) {
    auto r = acquire_reader();
    if (!r) return fail(r.error());
    auto out = f(**r);
    release_reader(std::move(*r));
    return out;
  }

  // --- definitions --------------------------------------------------------------------------
  Result<std::shared_ptr<const Workflow>> workflow_on(Store& store, const std::string& id,
                                                      int version) {
    if (auto wf = catalog->get(id, version)) return wf;
    auto def = store.get_definition(id, version);
    if (!def) return fail(def.error());
    if (!*def) {
      return fail(ErrorCode::kVersionNotFound,
                  fmt::format("workflow `{}` has no version {}", id, version));
    }
    LoadResult r = load_workflow_text((*def)->source_text, (*def)->file, *sections);
    if (!r.ok()) {
      return fail(
          ErrorCode::kInvalidDefinition,
          fmt::format("stored definition {} v{} no longer loads: {}", id, version,
                      r.diagnostics.items().empty() ? std::string("unknown error")
                                                    : r.diagnostics.items().front().to_string()));
    }
    catalog->add(r.workflow);
    return r.workflow;
  }

  // --- the writer ---------------------------------------------------------------------------
  void run_writer() {
    pthread_setname_np(pthread_self(), "fg-writer");  // shows in top -H, perf, gdb
    answerer = std::thread([this] { run_answerer(); });
    committer = std::thread([this] { run_committer(); });
    start_filter_loader();
    std::vector<Pending> work;
    std::deque<WriterJob> todo;
    for (;;) {
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return stopping || !queue.empty() || !jobs.empty(); });
        if (queue.empty() && jobs.empty() && stopping) break;
        if (!jobs.empty()) {
          std::swap(todo, jobs);
        } else {
          std::size_t n = std::min(queue.size(), options.max_batch);
          work.clear();
          work.reserve(n);
          for (std::size_t i = 0; i < n; ++i) {
            work.push_back(std::move(queue.front()));
            queue.pop_front();
          }
        }
      }
      if (!todo.empty()) {
        // Jobs use the writer connection: nothing may be in flight on it.
        retire(true);
        for (auto& job : todo) job(*writer_store);
        todo.clear();
        continue;
      }
      retire(false);  // a batch already committed need not be looked through
      adopt_filter();
      BatchContext& ctx = (in_flight == &contexts[0]) ? contexts[1] : contexts[0];
      ctx.reset(clock->now_ms(), instance_counter);
      decide_commands(work, 0, ctx);
      top_up(work, ctx);
      seal_batch(ctx);
      if (auto failed = retire(true)) {
        // Decided on top of a batch that is not durable: nothing of it may be stored or answered.
        Error e =
            Error(failed->code, fmt::format("the group commit before this command failed ({}); "
                                            "the command had no effect",
                                            failed->message))
                .with_hint("retry the command");
        n_batches.fetch_add(1, std::memory_order_relaxed);
        n_commands.fetch_add(work.size(), std::memory_order_relaxed);
        n_refused.fetch_add(work.size(), std::memory_order_relaxed);
        answer_later(std::move(work), e);
        work.clear();  // moved from
        ctx.overlay.clear();
        continue;
      }
      instance_counter = ctx.next_instance_number;
      in_flight = &ctx;
      ++handed_batches;  // writer thread only; read under mu by top_up's wait
      {
        std::lock_guard lock(commit_mu);
        commit_slot = Handoff{&ctx, std::move(work)};
        commit_busy = true;
      }
      commit_cv.notify_all();
      work.clear();  // moved from
      if (!options.overlap_commits) retire(true);
    }
    retire(true);
    stop_filter_loader();
    {
      std::lock_guard lock(commit_mu);
      committer_stopping = true;
    }
    commit_cv.notify_all();
    committer.join();
    {
      std::lock_guard lock(answer_mu);
      answerer_stopping = true;
    }
    answer_cv.notify_all();
    answerer.join();  // every caller has its answer
    if (events_since_checkpoint > 0) (void)writer_store->write_checkpoint(clock->now_ms());
  }

  // Waits for the batch in flight (or, without `wait`, looks whether it has finished). Committed:
  // its working copies join the cache. Failed: they are dropped, and the failure is returned, since
  // whatever was decided on top of them is void.
  std::optional<Error> retire(bool wait) {
    if (in_flight == nullptr) return std::nullopt;
    std::optional<Error> failure;
    {
      std::unique_lock lock(commit_mu);
      if (!wait && commit_busy) return std::nullopt;
      commit_cv.wait(lock, [&] { return !commit_busy; });
      failure = std::exchange(commit_failure, std::nullopt);
      if (failure) instance_counter = committed_instance_counter;
    }
    if (!failure) {
      for (auto& [id, s] : in_flight->overlay) cache.put(std::move(s));
    }
    in_flight->overlay.clear();
    in_flight = nullptr;
    return failure;
  }

  // Decides the commands work[from...] against the working copies, into the batch.
  void decide_commands(std::vector<Pending>& work, std::size_t from, BatchContext& ctx) {
    ctx.answers.reserve(work.size());
    for (std::size_t i = from; i < work.size(); ++i) {
      Pending& p = work[i];
      std::size_t begin = ctx.batch.events.size();
      ctx.answers.push_back(guarded_process_command(p.command, p.at_ms.value_or(ctx.now_ms), ctx));
      ctx.event_ranges.emplace_back(begin, ctx.batch.events.size());
    }
  }

  // While the batch before is still being made durable, commands that arrive join this batch
  // (decided as they come) instead of waiting for the one after it, which is what group commit
  // promises. Stops at the first look after that commit finished (the committer is free: hand this
  // batch over now; what arrived meanwhile starts the next one), at max_batch, or when a job or
  // stop is asked for.
  void top_up(std::vector<Pending>& work, BatchContext& ctx) {
    if (in_flight == nullptr || !options.overlap_commits) return;
    while (work.size() < options.max_batch) {
      std::size_t from = work.size();
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] {
          return stopping || !queue.empty() || !jobs.empty() || finished_batches == handed_batches;
        });
        if (queue.empty() || !jobs.empty() || finished_batches == handed_batches) return;
        std::size_t n = std::min(queue.size(), options.max_batch - work.size());
        for (std::size_t i = 0; i < n; ++i) {
          work.push_back(std::move(queue.front()));
          queue.pop_front();
        }
      }
      ctx.now_ms = std::max(ctx.now_ms, clock->now_ms());
      decide_commands(work, from, ctx);
    }
  }

  // Builds what is to be stored from the decided batch: snapshots, timers, JSON texts.
  void seal_batch(BatchContext& ctx) {
    for (const auto& id : ctx.dirty) {
      const InstanceState& s = ctx.overlay.at(id);
      auto wf = catalog->get(s.workflow_id, s.version);
      ctx.batch.instances.push_back(to_snapshot(s, *wf));
    }
    for (auto& [id, t] : ctx.timers) {
      if (t)
        ctx.batch.timers_put.push_back(*t);
      else
        ctx.batch.timers_delete.push_back(id);
    }
    encode_json(ctx.batch);  // here rather than on the committer, the busier of the two
  }

  void run_committer() {
    pthread_setname_np(pthread_self(), "fg-commit");
    for (;;) {
      Handoff h;
      {
        std::unique_lock lock(commit_mu);
        commit_cv.wait(lock, [&] { return committer_stopping || commit_slot.has_value(); });
        if (!commit_slot) break;
        h = std::move(*commit_slot);
        commit_slot.reset();
      }
      if (commit_batch(h.work, *h.ctx)) {
        std::lock_guard lock(commit_mu);
        commit_busy = false;
      }
      commit_cv.notify_all();
      {
        std::lock_guard lock(mu);  // the writer may be topping up its batch until this moment
        ++finished_batches;
      }
      cv.notify_all();
    }
  }

  // Makes a decided batch durable, then publishes it: timers, listeners, checkpoint, answers.
  // Returns whether the batch is still to be marked finished (a failed one is, before it answers).
  bool commit_batch(std::vector<Pending>& work, BatchContext& ctx) {
    Result<std::vector<std::int64_t>> positions = std::vector<std::int64_t>{};
    if (!ctx.batch.empty()) positions = writer_store->commit(ctx.batch);
    n_batches.fetch_add(1, std::memory_order_relaxed);
    if (!positions) {
      // Nothing of the batch is durable: the writer learns it first (it drops the working copies,
      // and anything it decides from now on is not built on them), then every command is answered
      // with the storage error. The context is the writer's again; only `work` is used here.
      Error error = positions.error();
      {
        std::lock_guard lock(commit_mu);
        commit_busy = false;
        commit_failure = error;
      }
      commit_cv.notify_all();
      n_commands.fetch_add(work.size(), std::memory_order_relaxed);
      n_refused.fetch_add(work.size(), std::memory_order_relaxed);
      answer_later(std::move(work), error);
      return false;
    }
    {
      std::lock_guard lock(commit_mu);
      committed_instance_counter = ctx.next_instance_number;
    }
    for (std::size_t i = 0; i < positions->size(); ++i) {
      ctx.batch.events[i].position = (*positions)[i];
    }
    if (!ctx.timers.empty()) {
      std::lock_guard lock(timers_mu);
      for (auto& [id, t] : ctx.timers) {
        if (t)
          timer_table.put(std::move(*t));
        else
          timer_table.erase(id);
      }
      timers_cv.notify_all();
    }
    if (!ctx.batch.events.empty()) {
      std::lock_guard lock(listeners_mu);
      for (auto& [lid, listener] : listeners) listener(ctx.batch.events);
    }
    events_since_checkpoint += static_cast<std::int64_t>(ctx.batch.events.size());
    n_events.fetch_add(ctx.batch.events.size(), std::memory_order_relaxed);
    std::vector<Result<CommandOutcome>> results;
    results.reserve(work.size());
    for (std::size_t i = 0; i < work.size(); ++i) {
      Result<CommandOutcome>& answer = ctx.answers[i];
      if (answer && !answer->replayed) {
        auto [b, e] = ctx.event_ranges[i];
        // The listeners have had them: each command's own events move to its answer.
        answer->events.assign(
            std::make_move_iterator(ctx.batch.events.begin() + static_cast<std::ptrdiff_t>(b)),
            std::make_move_iterator(ctx.batch.events.begin() + static_cast<std::ptrdiff_t>(e)));
      }
      n_commands.fetch_add(1, std::memory_order_relaxed);
      if (!answer) n_refused.fetch_add(1, std::memory_order_relaxed);
      results.push_back(std::move(answer));
    }
    answer_later(std::move(work), std::move(results));
    // Housekeeping, once the callers' answers are on their way (the next batch waits for it
    // either way). A checkpoint reads every chain head: with more instances than
    // checkpoint_every, one comes every that many events instead, so its cost per event stays
    // bounded.
    if (events_since_checkpoint >= std::max(options.checkpoint_every, instances_at_checkpoint)) {
      if (auto c = writer_store->write_checkpoint(ctx.now_ms)) {
        events_since_checkpoint = 0;
        instances_at_checkpoint = c->instance_count;
      }
    }
    writer_store->finish_commit();  // the last pages of a WAL checkpoint, if this commit left some
    return true;
  }

  // Arms and disarms the difference between the timers plugins want before and after a command.
  void sync_timers(const Workflow* wf_before, const InstanceState* before, const Workflow& wf_after,
                   const InstanceState& after, const Command& c, BatchContext& ctx) {
    std::map<std::string, TimerRecord> was, want;  // by scoped id
    for (const auto& h : hooks->all()) {
      if (before && wf_before) {
        for (auto& t : h->timers(*wf_before, *before)) {
          t.timer_id = scoped_timer_id(after.id, t.timer_id);
          was[t.timer_id] = std::move(t);
        }
      }
      for (auto& t : h->timers(wf_after, after)) {
        t.timer_id = scoped_timer_id(after.id, t.timer_id);
        want[t.timer_id] = std::move(t);
      }
    }
    if (c.kind == CommandKind::kTimer) {
      auto again = want.find(scoped_timer_id(after.id, c.timer_id));
      if (again != want.end() && again->second.due_ms <= c.due_ms) {
        spdlog::warn("plugin still wants timer {} at {} after it fired; dropping it", c.timer_id,
                     format_datetime_ms(c.due_ms));
        want.erase(again);
      }
    }
    for (const auto& [id, t] : was) {
      if (!want.count(id)) ctx.timers[id] = std::nullopt;
    }
    for (auto& [id, t] : want) {
      auto old = was.find(id);
      bool same = old != was.end() && old->second.due_ms == t.due_ms &&
                  old->second.payload == t.payload && c.kind != CommandKind::kTimer;
      if (!same) {
        t.instance_id = after.id;
        ctx.timers[id] = std::move(t);
      }
    }
  }

  nlohmann::json view_of(const InstanceState& s, const Workflow& wf) const {
    nlohmann::json view = instance_view(to_snapshot(s, wf));
    for (const auto& h : hooks->all()) h->describe(wf, s, view);
    return view;
  }

  // Queues commands for the writer, in order (each refused at once when the engine is stopping).
  std::vector<std::future<Result<CommandOutcome>>> enqueue(std::vector<Pending> pending) {
    std::vector<std::future<Result<CommandOutcome>>> out;
    out.reserve(pending.size());
    for (auto& p : pending) {
      if (!p.on_done) out.push_back(p.promise.get_future());
    }
    {
      std::lock_guard lock(mu);
      if (!stopping) {
        for (auto& p : pending) queue.push_back(std::move(p));
        pending.clear();
      }
    }
    for (auto& p : pending) {
      p.deliver(fail(ErrorCode::kUnavailable, options.read_only ? "the engine was opened read-only"
                                                                : "the engine is stopping"));
    }
    cv.notify_one();
    return out;
  }
  std::future<Result<CommandOutcome>> enqueue(Pending p) {
    std::vector<Pending> one;
    one.push_back(std::move(p));
    return std::move(enqueue(std::move(one)).front());
  }

  // Submits the timer commands for `due` (all not in flight) and waits for their answers. With
  // `not_before` (simulated clock), each command happens at its timer's due time, or at
  // `not_before` if that is later (a timer missed while the engine was down fires late); without
  // it, when its batch starts.
  void fire_timers(std::vector<TimerRecord> due, std::optional<std::int64_t> not_before) {
    std::vector<Pending> pending;
    pending.reserve(due.size());
    for (auto& t : due) {
      Command c;
      c.kind = CommandKind::kTimer;
      c.instance_id = t.instance_id;
      c.timer_id = local_timer_id(t.timer_id);
      c.due_ms = t.due_ms;
      c.payload = t.payload;
      c.actor.principal = "flowgate:timer";
      Pending p{std::move(c), {}, {}, {}};
      if (not_before) p.at_ms = std::max(*not_before, t.due_ms);
      pending.push_back(std::move(p));
    }
    auto answers = enqueue(std::move(pending));
    for (std::size_t i = 0; i < answers.size(); ++i) {
      auto r = answers[i].get();
      std::lock_guard lock(timers_mu);
      timer_table.in_flight.erase(due[i].timer_id);
      if (!r) {
        spdlog::error("timer {} of {} failed: {}", due[i].timer_id, due[i].instance_id,
                      r.error().to_string());
        // Not retried in this run (it stays in the table and is retried at the next start),
        // unless the failure is transient storage trouble.
        if (static_cast<int>(r.error().code) < 500) timer_table.erase(due[i].timer_id);
      }
    }
  }

  // Takes every armed timer due at or before `t`, marking them in flight.
  std::vector<TimerRecord> take_due(std::int64_t t) {
    std::vector<TimerRecord> due;
    for (const auto& [when, id] : timer_table.by_due) {
      if (when > t) break;
      if (timer_table.in_flight.insert(id).second) due.push_back(timer_table.armed.at(id));
    }
    return due;
  }

  // Takes the timers due at or before `t` in due order, up to (not including) the first one whose
  // instance already has a timer taken: those fire in one round, and everything after them waits
  // for the round's effects (a firing may disarm or re-arm its instance's later timers). Events
  // thus stay in time order across the whole log.
  std::vector<TimerRecord> take_due_round(std::int64_t t) {
    std::vector<TimerRecord> due;
    std::unordered_set<std::string_view> instances;
    for (const auto& [when, id] : timer_table.by_due) {
      if (when > t) break;
      if (timer_table.in_flight.count(id)) continue;
      const TimerRecord& rec = timer_table.armed.at(id);
      if (!instances.insert(rec.instance_id).second) break;
      timer_table.in_flight.insert(id);
      due.push_back(rec);
    }
    return due;
  }

  // Installs the next window of timers from the store (writer thread, or before it starts): no
  // commit can slip between the read and the install.
  Result<void> refill_timers(Store& store) {
    std::optional<TimerKey> after;
    {
      std::lock_guard lock(timers_mu);
      if (!timer_table.needs_refill()) return {};
      after = timer_table.covered;
    }
    auto next = read_timer_window(store, after, timer_table.window);
    if (!next) return fail(next.error());
    std::lock_guard lock(timers_mu);
    timer_table.all = next->all;
    if (!next->timers.empty()) {
      timer_table.covered = TimerKey{next->timers.back().due_ms, next->timers.back().timer_id};
    }
    for (auto& t : next->timers) timer_table.put(std::move(t));
    timers_cv.notify_all();
    return {};
  }

  // Refills the timer window through the writer when it has run dry. Call without timers_mu.
  Result<void> ensure_timer_window() {
    {
      std::lock_guard lock(timers_mu);
      if (!timer_table.needs_refill()) return {};
    }
    WriterJob job([this](Store& store) { return refill_timers(store); });
    auto done = job.get_future();
    {
      std::lock_guard lock(mu);
      if (stopping) return fail(ErrorCode::kUnavailable, "the engine is stopping");
      jobs.push_back(std::move(job));
    }
    cv.notify_one();
    return done.get();
  }

  void run_scheduler() {
    pthread_setname_np(pthread_self(), "fg-timers");
    std::unique_lock lock(timers_mu);
    while (!scheduler_stopping) {
      if (timer_table.needs_refill()) {
        lock.unlock();
        auto ok = ensure_timer_window();
        lock.lock();
        if (!ok) {
          spdlog::error("cannot read the next timers from the store: {}", ok.error().to_string());
          timers_cv.wait_for(lock, std::chrono::seconds(1));
        }
        continue;
      }
      const TimerRecord* next = timer_table.earliest();
      std::int64_t now = clock->now_ms();
      if (next == nullptr) {
        timers_cv.wait(lock);
        continue;
      }
      if (next->due_ms > now) {
        timers_cv.wait_for(
            lock, std::chrono::milliseconds(std::min<std::int64_t>(next->due_ms - now, 1000)));
        continue;
      }
      auto due = take_due(now);
      lock.unlock();
      fire_timers(std::move(due), std::nullopt);
      lock.lock();
    }
  }

  // A bug in a plugin (or the engine) that throws must not stop the writer: the command gets an
  // internal error, its working copy is dropped, and the batch goes on.
  Result<CommandOutcome> guarded_process_command(Command& c, std::int64_t now, BatchContext& ctx) {
    try {
      return process_command(c, now, ctx);
    } catch (const std::exception& e) {
      spdlog::error("command {} on {} failed with an exception: {}", command_kind_name(c.kind),
                    c.instance_id, e.what());
      // A working copy is changed only once the command has decided (it is dirty then); an
      // unchanged one stays, as it may have come from the batch in flight.
      return fail(
          Error(ErrorCode::kInternal,
                fmt::format("internal error while deciding the command: {}", e.what()))
              .with_hint("this is a bug in flowgate or a plugin; the command had no effect"));
    }
  }

  // Looks up an instance: this batch's working copy, the cache, then the store.
  Result<InstanceState*> load_instance(const std::string& id, BatchContext& ctx) {
    if (auto it = ctx.overlay.find(id); it != ctx.overlay.end()) return &it->second;
    if (in_flight != nullptr) {
      if (auto node = in_flight->overlay.extract(id)) {
        return &ctx.overlay.insert(std::move(node)).position->second;
      }
    }
    if (auto cached = cache.take(id)) {
      return &ctx.overlay.emplace(id, std::move(*cached)).first->second;
    }
    auto snap = decide_store->get_instance(id);
    if (!snap) return fail(snap.error());
    if (!*snap) {
      return fail(Error(ErrorCode::kInstanceNotFound, fmt::format("no instance `{}`", id))
                      .with_data("instance_id", id));
    }
    auto wf = workflow_on(*decide_store, (*snap)->workflow_id, (*snap)->version);
    if (!wf) return fail(wf.error());
    auto state = from_snapshot(**snap, **wf);
    if (!state) return fail(state.error());
    return &ctx.overlay.emplace(id, std::move(*state)).first->second;
  }

  // A business key taken by this batch or the one in flight ("wf\x1fkey" → instance id).
  std::optional<std::string> pending_business_key(const std::string& key, const BatchContext& ctx) {
    for (const BatchContext* b : std::array<const BatchContext*, 2>{&ctx, in_flight}) {
      if (b == nullptr) continue;
      if (auto it = b->new_keys.find(key); it != b->new_keys.end()) return it->second;
    }
    return std::nullopt;
  }

  // Remembers the answer for the request id (if any) and passes it through.
  Result<CommandOutcome> answer(const Command& c, Result<CommandOutcome> result,
                                const std::string& instance_id, std::int64_t now,
                                BatchContext& ctx) {
    if (!c.request_id.empty()) {
      // Storage failures are not answers: the command did not happen and may be retried.
      bool storage_failure = !result && static_cast<int>(result.error().code) >= 500;
      if (!storage_failure) {
        RequestRecord rec;
        rec.request_id = c.request_id;
        rec.fingerprint = c.fingerprint();
        rec.instance_id = instance_id;
        rec.at_ms = now;
        rec.response =
            result ? json{{"result", result->instance}} : json{{"error", result.error().to_json()}};
        ctx.requests[c.request_id] = ctx.batch.requests.size();
        ctx.batch.requests.push_back(std::move(rec));
        note_request_id(c.request_id);
      }
    }
    return result;
  }

  Result<CommandOutcome> replay_answer(const Command& c, const RequestRecord& rec) {
    if (rec.fingerprint != c.fingerprint()) {
      return fail(Error(ErrorCode::kDuplicateRequest,
                        fmt::format("request id `{}` was already used for a different command",
                                    c.request_id))
                      .with_hint("use a new request id for a new command")
                      .with_data("instance_id", rec.instance_id));
    }
    if (rec.response.contains("error")) return fail(Error::from_json(rec.response["error"]));
    CommandOutcome out;
    out.instance = rec.response.value("result", json::object());
    out.replayed = true;
    return out;
  }

  Result<CommandOutcome> process_command(Command& c, std::int64_t now, BatchContext& ctx) {
    if (!c.request_id.empty()) {
      for (const BatchContext* b : std::array<const BatchContext*, 2>{&ctx, in_flight}) {
        if (b == nullptr) continue;
        if (auto it = b->requests.find(c.request_id); it != b->requests.end()) {
          return replay_answer(c, b->batch.requests[it->second]);
        }
      }
      if (!request_filter || request_filter->may_contain(c.request_id)) {
        n_request_lookups.fetch_add(1, std::memory_order_relaxed);
        auto rec = decide_store->find_request(c.request_id);
        if (!rec) return fail(rec.error());
        if (*rec) return replay_answer(c, **rec);
      }
    }

    std::shared_ptr<const Workflow> wf;
    InstanceState* current = nullptr;
    std::string instance_id = c.instance_id;
    if (c.kind == CommandKind::kStart) {
      if (c.version) {
        wf = catalog->get(c.workflow_id, *c.version);
        if (!wf && catalog->latest(c.workflow_id)) {
          auto stored = workflow_on(*decide_store, c.workflow_id, *c.version);
          if (!stored) return answer(c, fail(stored.error()), "", now, ctx);
          wf = *stored;
        }
      } else {
        wf = catalog->latest(c.workflow_id);
      }
      if (!wf) {
        if (!catalog->latest(c.workflow_id)) {
          auto ids = catalog->ids();
          return answer(
              c,
              fail(Error(ErrorCode::kWorkflowNotFound,
                         fmt::format("no workflow `{}`", c.workflow_id))
                       .with_hint(fmt::format("known workflows: {}", fmt::join(ids, ", ")))
                       .with_data("workflows", ids)),
              "", now, ctx);
        }
        return answer(
            c,
            fail(ErrorCode::kVersionNotFound, fmt::format("workflow `{}` has no version {}",
                                                          c.workflow_id, c.version.value_or(0))),
            "", now, ctx);
      }
      if (!c.business_key.empty()) {
        std::string key = c.workflow_id + '\x1f' + c.business_key;
        std::optional<std::string> existing;
        if (auto pending = pending_business_key(key, ctx)) {
          existing = std::move(pending);
        } else {
          auto found = decide_store->find_business_key(c.workflow_id, c.business_key);
          if (!found) return fail(found.error());
          existing = *found;
        }
        if (existing) {
          return answer(
              c,
              fail(Error(ErrorCode::kDuplicateBusinessKey,
                         fmt::format("workflow `{}` already has an instance with business "
                                     "key `{}`: {}",
                                     c.workflow_id, c.business_key, *existing))
                       .with_data("instance_id", *existing)),
              *existing, now, ctx);
        }
      }
    } else {
      auto loaded = load_instance(c.instance_id, ctx);
      if (!loaded) {
        if (loaded.error().code == ErrorCode::kInstanceNotFound) {
          return answer(c, fail(loaded.error()), c.instance_id, now, ctx);
        }
        return fail(loaded.error());
      }
      current = *loaded;
      auto pinned = workflow_on(*decide_store, current->workflow_id, current->version);
      if (!pinned) return fail(pinned.error());
      wf = *pinned;
      if (c.expect_version && *c.expect_version != current->last_seq) {
        return answer(c,
                      fail(Error(ErrorCode::kVersionConflict,
                                 fmt::format("instance {} is at version {}, the command expected "
                                             "version {}",
                                             current->id, current->last_seq, *c.expect_version))
                               .with_hint("reload the instance and decide again")
                               .with_data("current_version", current->last_seq)
                               .with_data("expected_version", *c.expect_version)),
                      c.instance_id, now, ctx);
      }
    }

    if (c.kind == CommandKind::kStart) {
      instance_id = fmt::format("{}-{}", wf->id, ctx.next_instance_number + 1);
      c.instance_id = instance_id;
    }
    std::shared_ptr<const Workflow> target;
    if (c.kind == CommandKind::kMigrate) {
      auto t = workflow_on(*decide_store, wf->id, c.to_version);
      if (!t) return answer(c, fail(t.error()), c.instance_id, now, ctx);
      target = *t;
    }

    if (c.kind == CommandKind::kTimer) {
      // The timer is consumed whatever the plugin decides; a refusal is logged, not retried.
      ctx.timers[scoped_timer_id(c.instance_id, c.timer_id)] = std::nullopt;
    }
    auto decided = decide(DecideInput{*wf, current, c, now, target.get(), hooks.get()});
    if (!decided) return answer(c, fail(decided.error()), instance_id, now, ctx);

    InstanceState next;
    if (current) {
      next = *current;
    } else {
      next.id = instance_id;
    }
    std::vector<EventRecord> records;
    const Workflow* applied_on = wf.get();
    for (Event& ev : *decided) {
      if (ev.type == events::kMigrated) applied_on = target.get();
      if (auto ok = apply(next, ev, *applied_on, now, hooks.get()); !ok) {
        return answer(c,
                      fail(ErrorCode::kInternal,
                           "decide produced an event apply refused: " + ok.error().message),
                      instance_id, now, ctx);
      }
      EventRecord rec;
      rec.instance_id = next.id;
      rec.seq = next.last_seq;
      rec.at_ms = now;
      rec.type = std::move(ev.type);
      rec.actor = c.actor.to_json();
      rec.body = std::move(ev.body);
      rec.request_id = c.request_id;
      rec.prev_hash = next.head_hash;
      rec.hash = compute_event_hash(rec.prev_hash, rec);
      next.head_hash = rec.hash;
      records.push_back(std::move(rec));
    }
    if (c.kind == CommandKind::kStart) {
      ++ctx.next_instance_number;
      if (!c.business_key.empty()) ctx.new_keys[c.workflow_id + '\x1f' + c.business_key] = next.id;
    }
    if (!records.empty() && !hooks->all().empty()) {
      sync_timers(current ? wf.get() : nullptr, current, *applied_on, next, c, ctx);
    }
    CommandOutcome out;
    if (options.build_views || !c.request_id.empty()) out.instance = view_of(next, *applied_on);
    if (!records.empty()) {
      if (ctx.dirty_set.insert(next.id).second) ctx.dirty.push_back(next.id);
      ctx.overlay[next.id] = std::move(next);
      for (auto& r : records) ctx.batch.events.push_back(std::move(r));
    }
    return answer(c, std::move(out), instance_id, now, ctx);
  }
};

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Engine::~Engine() { stop(); }

Result<std::unique_ptr<Engine>> Engine::open(const EngineOptions& options,
                                             std::shared_ptr<Catalog> catalog,
                                             std::shared_ptr<Clock> clock,
                                             const SectionRegistry& sections) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->catalog = std::move(catalog);
  impl->clock = std::move(clock);
  impl->sections = &sections;
  impl->cache = InstanceCache(options.cache_capacity);
  impl->timer_table.window = std::max<std::size_t>(1, options.timer_window);
  if (options.hooks) impl->hooks = options.hooks;
  if (!options.read_only) {
    auto lock = WriterLock::acquire(options.db_path, options.busy_timeout_ms);
    if (!lock) return fail(lock.error());
    impl->writer_lock = std::move(*lock);
  }

  StoreOptions so;
  so.path = options.db_path;
  so.read_only = options.read_only;
  so.create = !options.read_only;
  so.synchronous_full = options.synchronous_full;
  so.background_checkpoints = options.background_checkpoints;
  so.coalesce_wal_writes = options.coalesce_wal_writes;
  so.busy_timeout_ms = options.busy_timeout_ms;
  so.max_page_count = options.max_page_count;
  auto store = Store::open(so);
  if (!store) return fail(store.error());
  impl->writer_store = std::move(*store);
  if (options.read_only) {
    impl->stopping = true;         // submit() refuses; reads use their own connections
    impl->timer_table.all = true;  // no scheduler, no timers
    return std::unique_ptr<Engine>(new Engine(std::move(impl)));
  }

  for (const auto& wf : impl->catalog->all()) {
    StoredDefinition def{wf->id,          wf->version, wf->content_hash,
                         wf->source_text, wf->file,    impl->clock->now_ms()};
    if (auto ok = impl->writer_store->put_definition(def); !ok) return fail(ok.error());
  }
  auto count = impl->writer_store->max_instance_number();
  if (!count) return fail(count.error());
  impl->instance_counter = *count;
  impl->committed_instance_counter = *count;
  so.read_only = true;
  so.create = false;
  auto lookups = Store::open(so);
  if (!lookups) return fail(lookups.error());
  impl->decide_store = std::move(*lookups);
  if (auto ok = impl->refill_timers(*impl->writer_store); !ok) return fail(ok.error());

  Impl* raw = impl.get();
  raw->writer = std::thread([raw] { raw->run_writer(); });
  auto engine = std::unique_ptr<Engine>(new Engine(std::move(impl)));
  if (options.run_scheduler && !raw->clock->simulated()) {
    raw->scheduler = std::thread([raw] { raw->run_scheduler(); });
  }
  return engine;
}

std::future<Result<CommandOutcome>> Engine::submit(Command command) {
  return impl_->enqueue(Pending{std::move(command), {}, {}, {}});
}

void Engine::submit(Command command, Done on_done) {
  std::vector<Pending> one;
  one.push_back(Pending{std::move(command), {}, {}, std::move(on_done)});
  impl_->enqueue(std::move(one));
}

std::vector<std::future<Result<CommandOutcome>>> Engine::submit_all(std::vector<Command> commands) {
  std::vector<Pending> pending;
  pending.reserve(commands.size());
  for (auto& c : commands) pending.push_back(Pending{std::move(c), {}, {}, {}});
  return impl_->enqueue(std::move(pending));
}

void Engine::stop() {
  {
    std::lock_guard lock(impl_->timers_mu);
    impl_->scheduler_stopping = true;
  }
  impl_->timers_cv.notify_all();
  if (impl_->scheduler.joinable()) impl_->scheduler.join();
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  if (impl_->writer.joinable()) impl_->writer.join();
}

Result<json> Engine::get(const std::string& instance_id) {
  return impl_->with_reader([&](Store& s) -> Result<json> {
    auto snap = s.get_instance(instance_id);
    if (!snap) return fail(snap.error());
    if (!*snap) {
      return fail(Error(ErrorCode::kInstanceNotFound, fmt::format("no instance `{}`", instance_id))
                      .with_data("instance_id", instance_id));
    }
    json view = instance_view(**snap);
    auto wf = impl_->workflow_on(s, (*snap)->workflow_id, (*snap)->version);
    if (wf) {
      auto state = from_snapshot(**snap, **wf);
      if (state) {
        view = impl_->view_of(*state, **wf);
        view["allowed_events"] = allowed_events(**wf, *state);
      }
    }
    return view;
  });
}

Result<std::vector<json>> Engine::list(const InstanceFilter& filter) {
  return impl_->with_reader([&](Store& s) -> Result<std::vector<json>> {
    auto rows = s.list_instances(filter);
    if (!rows) return fail(rows.error());
    std::vector<json> out;
    out.reserve(rows->size());
    for (const auto& r : *rows) out.push_back(instance_view(r));
    return out;
  });
}

Result<std::vector<EventRecord>> Engine::history(const std::string& instance_id) {
  return impl_->with_reader([&](Store& s) -> Result<std::vector<EventRecord>> {
    auto snap = s.get_instance(instance_id);
    if (!snap) return fail(snap.error());
    if (!*snap) {
      return fail(Error(ErrorCode::kInstanceNotFound, fmt::format("no instance `{}`", instance_id))
                      .with_data("instance_id", instance_id));
    }
    return s.history(instance_id);
  });
}

Result<std::shared_ptr<const Workflow>> Engine::workflow(const std::string& id, int version) {
  return impl_->with_reader([&](Store& s) -> Result<std::shared_ptr<const Workflow>> {
    return impl_->workflow_on(s, id, version);
  });
}

std::uint64_t Engine::subscribe(CommitListener listener) {
  std::lock_guard lock(impl_->listeners_mu);
  std::uint64_t id = impl_->next_listener++;
  impl_->listeners.emplace(id, std::move(listener));
  return id;
}

void Engine::unsubscribe(std::uint64_t id) {
  std::lock_guard lock(impl_->listeners_mu);
  impl_->listeners.erase(id);
}

Result<void> Engine::add_definitions(
    const std::vector<std::shared_ptr<const Workflow>>& workflows) {
  std::int64_t now = impl_->clock->now_ms();
  WriterJob job([workflows, now](Store& store) -> Result<void> {
    for (const auto& wf : workflows) {
      StoredDefinition def{wf->id, wf->version, wf->content_hash, wf->source_text, wf->file, now};
      if (auto ok = store.put_definition(def); !ok) return ok;
    }
    return {};
  });
  auto done = job.get_future();
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->stopping) return fail(ErrorCode::kUnavailable, "the engine is stopping");
    impl_->jobs.push_back(std::move(job));
  }
  impl_->cv.notify_one();
  auto ok = done.get();
  if (!ok) return ok;
  for (const auto& wf : workflows) impl_->catalog->add(wf);
  return {};
}

Result<std::int64_t> Engine::advance_clock(std::int64_t to_ms) {
  auto* sim = dynamic_cast<SimulatedClock*>(impl_->clock.get());
  if (sim == nullptr) {
    return fail(ErrorCode::kInvalidArgument,
                "the clock is the system clock; it cannot be advanced");
  }
  std::lock_guard serial(impl_->advance_mu);
  if (to_ms < sim->now_ms()) {
    return fail(Error(ErrorCode::kInvalidArgument,
                      fmt::format("the clock is at {}; it cannot move back to {}",
                                  format_datetime_ms(sim->now_ms()), format_datetime_ms(to_ms))));
  }
  for (;;) {
    if (auto ok = impl_->ensure_timer_window(); !ok) return fail(ok.error());
    std::vector<TimerRecord> due;
    std::int64_t not_before = sim->now_ms();
    {
      std::lock_guard lock(impl_->timers_mu);
      const TimerRecord* next = impl_->timer_table.earliest();
      if (next == nullptr || next->due_ms > to_ms) break;
      due = impl_->take_due_round(to_ms);
      if (due.empty()) break;
      // Commands submitted meanwhile by others happen no earlier than the last timer of the round.
      sim->advance_to(std::max(sim->now_ms(), due.back().due_ms));
    }
    impl_->fire_timers(std::move(due), not_before);
  }
  sim->advance_to(to_ms);
  return sim->now_ms();
}

std::optional<std::int64_t> Engine::next_timer_due() const {
  if (auto ok = impl_->ensure_timer_window(); !ok) {
    spdlog::error("cannot read the next timers from the store: {}", ok.error().to_string());
  }
  std::lock_guard lock(impl_->timers_mu);
  const TimerRecord* next = impl_->timer_table.earliest();
  if (next == nullptr) return std::nullopt;
  return next->due_ms;
}

const HookSet& Engine::hooks() const { return *impl_->hooks; }

const Catalog& Engine::catalog() const { return *impl_->catalog; }
const Clock& Engine::clock() const { return *impl_->clock; }

EngineStats Engine::stats() const {
  EngineStats s;
  s.commands = impl_->n_commands.load();
  s.refused = impl_->n_refused.load();
  s.batches = impl_->n_batches.load();
  s.events = impl_->n_events.load();
  s.request_lookups = impl_->n_request_lookups.load();
  s.request_filter_ready = impl_->filter_ready.load();
  std::lock_guard lock(impl_->mu);
  s.queue_depth = impl_->queue.size();
  return s;
}

}  // namespace flowgate
