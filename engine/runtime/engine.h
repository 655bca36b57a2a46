// The engine: owns the store and the only thread that mutates it. Any number of threads submit
// commands and wait on futures; the writer takes everything queued (up to max_batch, and whatever
// arrives while the batch before is still committing), decides and applies each command against
// working copies, appends all resulting events, snapshots and idempotency records in ONE SQLite
// transaction, and only then answers each caller. A failed commit answers every command of the
// batch with the storage error and changes nothing.
//
// Idempotency: a command with a request_id already answered gets the recorded answer and changes
// nothing (reusing the id for a different command is kDuplicateRequest). Optimistic concurrency:
// expect_version must equal the instance's version (its number of events).
// Reads (get, list, history) use separate read-only connections and never wait for the writer.
// One writer per database: a writing engine holds an exclusive lock on "<db>.lock" for its life;
// a second one waits up to busy_timeout_ms, then gets kDatabaseLocked.
// Timers that plugins arm are rows of the timers table and a heap in memory, rebuilt at open; a
// scheduler thread submits a kTimer command for each when due (a timer missed while the engine was
// down fires once at start, its lateness recorded by the plugin).
// Thread-safety: every public method may be called from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "definition/section_registry.h"
#include "runtime/catalog.h"
#include "runtime/clock.h"
#include "runtime/command.h"
#include "runtime/hooks.h"
#include "store/records.h"
#include "store/store.h"
#include "util/error.h"

namespace flowgate {

struct EngineOptions {
  std::string db_path;
  bool synchronous_full = true;
  std::size_t max_batch = 1024;  // commands per group commit at most
  // Events between checkpoints (and one at clean stop); at least as many as the instances the
  // last checkpoint hashed.
  std::int64_t checkpoint_every = 10000;
  std::size_t cache_capacity = 100000;  // instances kept in memory by the writer
  int busy_timeout_ms = 5000;
  std::int64_t max_page_count = 0;       // tests: simulate a full disk
  bool read_only = false;                // reads only: no writer, the file must exist
  std::shared_ptr<const HookSet> hooks;  // plugins (SLA clocks, gates, ...); null = none
  // Fire due timers from a scheduler thread (system clock). With a simulated clock timers fire
  // only through advance_clock().
  bool run_scheduler = true;
  // Build CommandOutcome::instance (the instance view with every plugin's part) for each command.
  // Callers that fold the returned events themselves (simulate, benchmarks) turn it off; a command
  // with a request_id still gets its view, since the answer is recorded for retries.
  bool build_views = true;
  // Armed timers held in memory at most (the soonest due; the rest are read from the store when
  // these have fired).
  std::size_t timer_window = 65536;
  // Decide the next batch while the previous one commits (false: only once it is durable; for
  // comparing the two in benchmarks).
  bool overlap_commits = true;
  // Checkpoint the WAL on a thread of its own rather than inside a group commit (StoreOptions).
  bool background_checkpoints = true;
  // Hand each commit's WAL frames to the kernel in one write (StoreOptions).
  bool coalesce_wal_writes = true;
  // Keep every stored request id in a filter (request_filter.h), read from the store by a thread
  // of its own after open, so that a command with a new request id needs no idempotency lookup in
  // the store. Until the filter is read, and for ids it may hold, the store is asked. Off for
  // one-command processes (the CLI), which would read every id for one command.
  bool request_id_filter = true;
};

struct CommandOutcome {
  nlohmann::json instance;          // instance_view() after the command (null: build_views off)
  std::vector<EventRecord> events;  // what this command appended (empty when replayed)
  bool replayed = false;            // answered from an earlier request with the same request_id
};

struct EngineStats {
  std::uint64_t commands = 0;
  std::uint64_t refused = 0;
  std::uint64_t batches = 0;
  std::uint64_t events = 0;
  std::uint64_t queue_depth = 0;
  std::uint64_t request_lookups = 0;  // idempotency lookups in the store
  bool request_filter_ready = false;  // the request-id filter holds every stored id
};

class Engine {
 public:
  // Opens (or creates) the database, stores every definition in `catalog`, and starts the writer.
  // `sections` is used to reload older definition versions from the store; it must outlive the
  // engine.
  static Result<std::unique_ptr<Engine>> open(const EngineOptions& options,
                                              std::shared_ptr<Catalog> catalog,
                                              std::shared_ptr<Clock> clock,
                                              const SectionRegistry& sections);
  ~Engine();  // stop()
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Queues a command; the future is ready once its batch is durable (or refused).
  std::future<Result<CommandOutcome>> submit(Command command);
  Result<CommandOutcome> execute(Command command) { return submit(std::move(command)).get(); }
  // Queues a command; `on_done` receives its answer once its batch is durable (or refused), on
  // the engine's answering thread (or the caller's, when the engine is stopping). It
  // must not block or wait on the engine: hand the answer to your own thread (the socket server
  // posts it to its I/O thread). `on_done` must be set. Saves a thread waiting on a future per
  // caller.
  using Done = std::function<void(Result<CommandOutcome>)>;
  void submit(Command command, Done on_done);
  // Queues several commands at once, in order, so that they can share group commits (a caller
  // with many independent commands in hand: a simulation's tick, a bulk import).
  std::vector<std::future<Result<CommandOutcome>>> submit_all(std::vector<Command> commands);

  // Finishes and commits what is queued, writes a checkpoint, stops the writer. Idempotent.
  void stop();

  Result<nlohmann::json> get(const std::string& instance_id);
  Result<std::vector<nlohmann::json>> list(const InstanceFilter& filter);
  Result<std::vector<EventRecord>> history(const std::string& instance_id);

  // Called on the writer thread after each durable commit with the events it appended, in
  // position order. Must return quickly and never block (push to a bounded queue).
  using CommitListener = std::function<void(const std::vector<EventRecord>&)>;
  std::uint64_t subscribe(CommitListener listener);
  void unsubscribe(std::uint64_t id);

  // Adds (re)loaded definitions: each is stored; new instances start on the latest version.
  // A version already stored with different content is refused and nothing is added.
  Result<void> add_definitions(const std::vector<std::shared_ptr<const Workflow>>& workflows);

  // Simulated clock only: fires every timer due up to `to_ms`, in due order, each command stamped
  // with its due time, then sets the clock to `to_ms`. Returns once all are committed. Timers of
  // different instances share group commits; one instance's timers fire one after another, so a
  // firing that disarms or re-arms a later timer of its instance is honoured. Moving backwards is
  // kInvalidArgument.
  Result<std::int64_t> advance_clock(std::int64_t to_ms);
  // The earliest armed timer, if any.
  std::optional<std::int64_t> next_timer_due() const;
  const HookSet& hooks() const;

  // The definition an instance is pinned to (from the catalog or the store).
  Result<std::shared_ptr<const Workflow>> workflow(const std::string& id, int version);
  const Catalog& catalog() const;
  const Clock& clock() const;
  EngineStats stats() const;

 private:
  struct Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace flowgate
