// Internal to audit/: the second thread of verify. The reader thread reads rows from the source and
// hands them over in batches (copies of their text); each batch is folded (each instance's events
// in order, by one thread at a time, batches in order) and its events' hashes recomputed (SHA-256
// over the canonical encoding, in chunks that either thread claims). The worker thread folds and
// hashes; the reader, whenever it would otherwise wait for the worker (the queue of batches is
// full), folds the next batch itself if the worker is not folding one, or else hashes chunks of
// queued batches. So on two cores neither thread idles while the other has work, whichever of
// reading and folding is the heavier for a given history, and on a machine whose cores are busy
// with other work verify degrades towards a single-threaded pass instead of waiting for a thread
// that is not running. Batches come back to the reader in the order they were added, each event
// with the verdict on its content, and the reader runs the chain checks on them in log order — so
// the findings are exactly those of a single-threaded pass. The fold hands back each instance
// whose fold reached the instance's newest event, for comparison with its snapshot (which the
// reader thread reads: SQLite stays on one thread). Per-instance fold state lives in a FoldSlot
// that only the folding thread touches until finish() returns.
// add_all() moves the reading itself to a third thread (with its own database connection), so
// that the reader thread only routes, runs the chain checks and compares snapshots.
// Thread-safety: add(), add_all(), take_compares() and finish() are called by one (reader)
// thread, which is also the thread the callbacks run on.
#pragma once

#include <atomic>
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
#include "util/error.h"

namespace flowgate::audit {

struct FoldSlot {
  const std::string* instance_id = nullptr;  // set before the first add(); stable
  std::string workflow_id;                   // the instance row's, for counting unusable ones
  int version = 0;
  // Owned by the folding thread until finish():
  std::unique_ptr<FoldState> state;
  bool failed = false;
  bool done = false;
};

struct FoldCompare {
  FoldSlot* slot = nullptr;
  std::unique_ptr<FoldState> state;
  std::int64_t seq = 0;
  std::int64_t ordinal = 0;  // of the instance's newest event, counting from 0 in the order added
};

// An event back from the worker: the row (views valid during the callback), what the reader
// attached to it, and whether its content hashes to its stored hash.
struct CheckedEvent {
  const EventRow& row;
  void* tag;
  bool content_ok;
};

// Where an event goes: what the reader attaches to it (null, or the address of what `checked`
// reads first: it is loaded into the cache a few events ahead), the slot to fold it into (null:
// hash only), and whether it is the event the instance's snapshot names as its newest (compare
// after it).
struct EventRoute {
  void* tag = nullptr;
  FoldSlot* slot = nullptr;
  bool last = false;
};

// The hash route() is handed with each event's instance id (computed where the row is copied,
// so on the reading thread when there is one).
inline std::uint64_t instance_id_hash(std::string_view id) {
  return std::hash<std::string_view>{}(id);
}

// What the reader thread supplies: `route` for every event, in order, when its batch is complete
// (`prefetch_slot` is called some events ahead with the id hash route will look up, then
// `prefetch_tracker` a few events ahead, so that the lookups of a batch overlap their cache
// misses); `checked` for every event, in order, once hashed.
struct FoldCallbacks {
  std::function<void(std::uint64_t id_hash)> prefetch_slot;
  std::function<void(std::uint64_t id_hash)> prefetch_tracker;
  std::function<EventRoute(const EventRow&, std::uint64_t id_hash)> route;
  std::function<void(const CheckedEvent&)> checked;
};

class FoldWorker {
 public:
  // threaded = false hashes and folds on the caller's thread (same results; for tests and tiny
  // inputs). The callbacks run on the reader thread. batch_events: events per batch (0 = 4096;
  // tests use tiny batches so that small histories fill the queue and the reader hashes for the
  // worker).
  FoldWorker(const DefinitionSet& defs, const HookSet* hooks, bool threaded,
             FoldCallbacks callbacks, std::size_t batch_events = 0);
  ~FoldWorker();
  FoldWorker(const FoldWorker&) = delete;
  FoldWorker& operator=(const FoldWorker&) = delete;

  void add(const EventRow& row);
  // Reads rows with `each_event` on a thread of its own and adds them as add() would, in order.
  // each_event must use nothing this thread uses (a second database connection). Meanwhile this
  // thread routes each batch and runs `checked`, and folds or hashes while it waits for rows;
  // the reading thread too hashes or folds rather than wait for room. `on_batch(n)` runs on this
  // thread after each batch of n events. Returns each_event's result. Without a thread
  // (threaded = false) each_event runs on this thread.
  using EventReader = std::function<Result<void>(const std::function<bool(const EventRow&)>& fn)>;
  Result<void> add_all(const EventReader& each_event,
                       const std::function<void(std::size_t)>& on_batch);
  // Instances whose fold is ready for comparison and whose newest event is among the first
  // `checked` events handed back (moved out, in the order of those events): so when they are
  // compared depends on the log alone, never on how far the fold has run ahead.
  std::vector<FoldCompare> take_compares(std::int64_t checked);
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
    std::uint64_t id_hash;
    Text instance_id, type, actor, body, request_id, prev_hash, hash;
    std::int64_t at_ms, seq, position;
    bool last;
    bool content_ok;
  };
  struct Batch {
    std::vector<Job> jobs;
    std::string bytes;
    std::atomic<std::size_t> next_chunk{0};  // the first event no thread has claimed to hash
    std::atomic<std::size_t> hashed{0};      // events hashed
    bool folded = false;                     // under mu_: the worker is done with it
    std::int64_t first = 0;                  // the ordinal of its first event
  };
  static Text copy(Batch& b, std::string_view s);
  static EventRow row_of(const Batch& b, const Job& j);  // views into b
  static void fill(Batch& b, const EventRow& row);       // appends a copy of the row
  bool full(const Batch& b) const;
  void route(Batch& b);  // the route of every event of b
  void submit_current();
  void submit(std::unique_ptr<Batch> b);
  std::unique_ptr<Batch> fresh_batch();  // a reused one when there is one
  void recycle(std::unique_ptr<Batch> b);
  // With mu_ held: folds the next batch or hashes a chunk (with the lock released meanwhile) and
  // wakes the waiting threads; false when there was nothing to do.
  bool help(std::unique_lock<std::mutex>& lock, EventHasher& hasher);
  // The reading thread: hands a full batch to add_all's thread once fewer than the limit wait;
  // false when told to stop.
  bool hand_over(std::unique_ptr<Batch> b);
  // add_all's thread: the next batch read, helping meanwhile; null when reading is over.
  std::unique_ptr<Batch> next_read();
  // Runs `checked` for the batches that are complete, in order; with make_room, first until fewer
  // than the limit are in flight (hashing for the worker meanwhile, else waiting for it).
  void hand_back(bool make_room);
  static bool complete(const Batch& b);  // folded and hashed (with mu_ held)
  // Events [first, last) of a batch, claimed by one thread to hash.
  struct Chunk {
    Batch* batch = nullptr;
    std::size_t first = 0, last = 0;
  };
  void run();
  // Folds `b` and hashes the chunks of it nobody claimed: by whichever thread holds the fold (one
  // at a time, batches in order).
  void process(Batch& b, EventHasher& hasher);
  void fold_batch(const Batch& b);
  // With mu_ held: the next batch to fold when no thread is folding one (folding_ is then set).
  Batch* claim_fold();
  // With mu_ held (so that the batch cannot be handed back meanwhile): a chunk of the newest
  // in-flight batch that has one left (the one the fold reaches last); batch null when none.
  Chunk claim_chunk();
  static Chunk claim_chunk_of(Batch& b);
  static void hash(const Chunk& c, EventHasher& hasher);

  const DefinitionSet& defs_;
  const HookSet* hooks_;
  bool threaded_;
  std::size_t batch_events_;
  FoldCallbacks callbacks_;
  EventHasher hasher_;         // the worker's
  EventHasher reader_hasher_;  // the reader's, for the batches and chunks it takes on
  EventHasher read_hasher_;    // add_all's reading thread's
  std::unique_ptr<Batch> current_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Batch>> in_flight_;  // added, not yet handed back, in order
  std::deque<Batch*> to_fold_;                    // the worker's queue
  std::vector<std::unique_ptr<Batch>> free_;      // reusable
  std::deque<std::unique_ptr<Batch>> read_;       // add_all: read, not yet routed
  bool reading_done_ = false;                     // add_all: the reading thread is done
  bool stop_reading_ = false;
  bool closing_ = false;
  bool folding_ = false;               // a thread is folding a batch
  std::vector<FoldCompare> compares_;  // in the order of their ordinals
  std::int64_t routed_ = 0;            // events routed (reader only)
  std::thread thread_;
  // Owned by the folding thread until finish():
  std::vector<Finding> findings_;
  std::map<std::pair<std::string, int>, std::int64_t> unusable_;
};

}  // namespace flowgate::audit
