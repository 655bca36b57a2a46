// Internal to audit/: folds events on a second thread while verify's reader thread reads rows and
// recomputes hashes, so that the fold (JSON and apply) does not add to the time of reading the
// log. The reader hands over events in batches (copies of their type and body); the worker folds
// each instance's events in order and hands back each instance whose fold reached the instance's
// newest event, for comparison with its snapshot (which the reader thread reads: SQLite stays on
// one thread). Per-instance fold state lives in a FoldSlot that only the worker touches until
// finish() returns.
// Thread-safety: add(), take_compares() and finish() are called by one (reader) thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "audit/audit_db.h"
#include "audit/definitions.h"
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

class FoldWorker {
 public:
  // threaded = false folds on the caller's thread (same results; for tests and tiny inputs).
  FoldWorker(const DefinitionSet& defs, const HookSet* hooks, bool threaded);
  ~FoldWorker();
  FoldWorker(const FoldWorker&) = delete;
  FoldWorker& operator=(const FoldWorker&) = delete;

  // `last`: this is the event the instance's snapshot names as its newest (compare after it).
  void add(FoldSlot* slot, const EventRow& row, bool last);
  // Instances whose fold is ready for comparison (moved out).
  std::vector<FoldCompare> take_compares();
  // Folds what is queued and stops the worker; then the slots belong to the caller again.
  void finish();
  std::vector<Finding> take_findings() { return std::move(findings_); }
  // Instances that could not be folded because their definition is unusable, by (id, version).
  const std::map<std::pair<std::string, int>, std::int64_t>& unusable() const { return unusable_; }

 private:
  struct Job {
    FoldSlot* slot;
    std::uint32_t type_off, type_len, body_off, body_len;
    std::int64_t at_ms, seq, position;
    bool last;
  };
  struct Batch {
    std::vector<Job> jobs;
    std::string bytes;
  };
  void submit_current();
  void run();
  void fold_batch(const Batch& b);

  const DefinitionSet& defs_;
  const HookSet* hooks_;
  bool threaded_;
  std::unique_ptr<Batch> current_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Batch>> queue_;  // to the worker
  std::vector<std::unique_ptr<Batch>> free_;  // back to the reader
  bool closing_ = false;
  std::vector<FoldCompare> compares_;
  std::thread thread_;
  // Worker-owned until finish():
  std::vector<Finding> findings_;
  std::map<std::pair<std::string, int>, std::int64_t> unusable_;
};

}  // namespace flowgate::audit
