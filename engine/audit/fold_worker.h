// Internal to audit/: the second thread of verify. The reader thread reads rows from the source and
// hands them over in batches (copies of their text); the worker recomputes each event's hash
// (SHA-256 over its canonical encoding) and folds each instance's events in order. Batches come
// back to the reader in the order they were added, each event with the verdict on its content, and
// the reader runs the chain checks on them in log order — so the findings are exactly those of a
// single-threaded pass, while the hashing and the fold (JSON and apply) do not add to the time of
// reading the log. The worker also hands back each instance whose fold reached the instance's
// newest event, for comparison with its snapshot (which the reader thread reads: SQLite stays on
// one thread). Per-instance fold state lives in a FoldSlot that only the worker touches until
// finish() returns.
// Thread-safety: add(), take_compares() and finish() are called by one (reader) thread, which is
// also the thread the `checked` callback runs on.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "audit/audit_db.h"
#include "audit/definitions.h"
#include "audit/event_hash.h"
#include "audit/finding.h"
#include "audit/fold.h"
#include "runtime/hooks.h"

namespace flowgate::audit {

struct FoldSlot {
  const std::string* instance_id = nullptr;  // set before the first add(); stable
  std::string workflow_id;                   // the instance row's, for counting unusable ones
  int version = 0;
  // Owned by the worker until finish():
  std::unique_ptr<FoldState> state;
  bool failed = false;
  bool done = false;
};

struct FoldCompare {
  FoldSlot* slot = nullptr;
  std::unique_ptr<FoldState> state;
  std::int64_t seq = 0;
};

// An event back from the worker: the row (views valid during the callback), what the reader
// attached to it, and whether its content hashes to its stored hash.
struct CheckedEvent {
  const EventRow& row;
  void* tag;
  bool content_ok;
};

// Where an event goes: what the reader attaches to it, the slot to fold it into (null: hash only),
// and whether it is the event the instance's snapshot names as its newest (compare after it).
struct EventRoute {
  void* tag = nullptr;
  FoldSlot* slot = nullptr;
  bool last = false;
};

// What the reader thread supplies: `route` for every event, in order, when its batch is complete
// (`prefetch` is called a few events ahead with the instance id route will look up, so that the
// lookups of a batch overlap their cache misses); `checked` for every event, in order, once hashed.
struct FoldCallbacks {
  std::function<void(std::string_view instance_id)> prefetch;
  std::function<EventRoute(const EventRow&)> route;
  std::function<void(const CheckedEvent&)> checked;
};

class FoldWorker {
 public:
  // threaded = false hashes and folds on the caller's thread (same results; for tests and tiny
  // inputs). The callbacks run on the reader thread.
  FoldWorker(const DefinitionSet& defs, const HookSet* hooks, bool threaded,
             FoldCallbacks callbacks);
  ~FoldWorker();
  FoldWorker(const FoldWorker&) = delete;
  FoldWorker& operator=(const FoldWorker&) = delete;

  void add(const EventRow& row);
  // Instances whose fold is ready for comparison (moved out).
  std::vector<FoldCompare> take_compares();
  // Hashes and folds what is queued, hands back every event and stops the worker; then the slots
  // belong to the caller again.
  void finish();
  std::vector<Finding> take_findings() { return std::move(findings_); }
  // Instances that could not be folded because their definition is unusable, by (id, version).
  const std::map<std::pair<std::string, int>, std::int64_t>& unusable() const { return unusable_; }

 private:
  struct Text {
    std::uint32_t off = 0, len = 0;
  };
  struct Job {
    void* tag;
    FoldSlot* slot;
    Text instance_id, type, actor, body, request_id, prev_hash, hash;
    std::int64_t at_ms, seq, position;
    bool last;
    bool content_ok;
  };
  struct Batch {
    std::vector<Job> jobs;
    std::string bytes;
  };
  static Text copy(Batch& b, std::string_view s);
  static EventRow row_of(const Batch& b, const Job& j);  // views into b
  void route_current();                                  // the route of every event of current_
  void submit_current();
  void hand_back();  // runs `checked` for the batches the worker finished, in order
  void run();
  void process(Batch& b);  // hash and fold (worker thread, or the caller's when not threaded)
  void fold_batch(const Batch& b);

  const DefinitionSet& defs_;
  const HookSet* hooks_;
  bool threaded_;
  FoldCallbacks callbacks_;
  EventHasher hasher_;  // the worker's
  std::unique_ptr<Batch> current_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Batch>> queue_;  // to the worker
  std::deque<std::unique_ptr<Batch>> done_;   // back to the reader, in order
  std::vector<std::unique_ptr<Batch>> free_;  // reusable (reader only)
  bool closing_ = false;
  std::vector<FoldCompare> compares_;
  std::thread thread_;
  // Worker-owned until finish():
  std::vector<Finding> findings_;
  std::map<std::pair<std::string, int>, std::int64_t> unusable_;
};

}  // namespace flowgate::audit
