#include "audit/fold_worker.h"

#include <algorithm>

namespace flowgate::audit {
namespace {
constexpr std::size_t kDefaultBatchEvents = 4096;
// Batches read and not yet routed, and routed and not yet handed back (each at most): deep enough
// to ride out a run of slow events (instance starts are parsed in full) without a thread idling;
// 4 left a tenth of two cores unused at 10,000,000 events.
constexpr std::size_t kBatchesInFlight = 12;
// Events hashed per claim: small enough that the worker, done folding a batch, seldom waits long
// for a chunk the reader holds; large enough that claims cost nothing.
constexpr std::size_t kHashChunk = 256;
}  // namespace

FoldWorker::FoldWorker(const DefinitionSet& defs, const HookSet* hooks, bool threaded,
                       FoldCallbacks callbacks, std::size_t batch_events)
    : defs_(defs),
      hooks_(hooks),
      threaded_(threaded),
      batch_events_(batch_events > 0 ? batch_events : kDefaultBatchEvents),
      callbacks_(std::move(callbacks)),
      current_(std::make_unique<Batch>()) {
  current_->jobs.reserve(batch_events_);
  if (threaded_) thread_ = std::thread([this] { run(); });
}

FoldWorker::~FoldWorker() { finish(); }

FoldWorker::Text FoldWorker::copy(Batch& b, std::string_view s) {
  Text t{static_cast<std::uint32_t>(b.bytes.size()), static_cast<std::uint32_t>(s.size())};
  b.bytes += s;
  return t;
}

EventRow FoldWorker::row_of(const Batch& b, const Job& j) {
  auto text = [&](Text t) { return std::string_view(b.bytes.data() + t.off, t.len); };
  return EventRow{j.position,        j.seq,         j.at_ms,      text(j.instance_id),
                  text(j.type),      text(j.actor), text(j.body), text(j.request_id),
                  text(j.prev_hash), text(j.hash)};
}

void FoldWorker::fill(Batch& b, const EventRow& row) {
  Job j{};
  j.instance_id = copy(b, row.instance_id);
  j.type = copy(b, row.type);
  j.actor = copy(b, row.actor);
  j.body = copy(b, row.body);
  j.request_id = copy(b, row.request_id);
  j.prev_hash = copy(b, row.prev_hash);
  j.hash = copy(b, row.hash);
  j.at_ms = row.at_ms;
  j.seq = row.seq;
  j.position = row.position;
  j.id_hash = instance_id_hash(row.instance_id);
  b.jobs.push_back(j);
}

bool FoldWorker::full(const Batch& b) const {
  return b.jobs.size() >= batch_events_ || b.bytes.size() > (64u << 20);
}

void FoldWorker::add(const EventRow& row) {
  fill(*current_, row);
  if (full(*current_)) submit_current();
}

Result<void> FoldWorker::add_all(const EventReader& each_event,
                                 const std::function<void(std::size_t)>& on_batch) {
  if (!threaded_) {
    std::size_t n = 0;
    auto read = each_event([&](const EventRow& row) {
      add(row);
      if (++n == batch_events_) {
        on_batch(n);
        n = 0;
      }
      return true;
    });
    if (n > 0) on_batch(n);
    return read;
  }
  submit_current();  // what add() took before, first
  Result<void> result;
  std::thread reader([&] {
    std::unique_ptr<Batch> b = fresh_batch();
    bool stopped = false;
    auto read = each_event([&](const EventRow& row) {
      fill(*b, row);
      if (!full(*b)) return true;
      stopped = !hand_over(std::move(b));
      b = fresh_batch();
      return !stopped;
    });
    if (!stopped && !b->jobs.empty()) hand_over(std::move(b));
    std::lock_guard lock(mu_);
    result = std::move(read);
    reading_done_ = true;
    cv_.notify_all();
  });
  // Stops and joins the reading thread however this thread leaves.
  struct Join {
    FoldWorker& w;
    std::thread& t;
    ~Join() {
      {
        std::lock_guard lock(w.mu_);
        w.stop_reading_ = true;
      }
      w.cv_.notify_all();
      t.join();
    }
  } join{*this, reader};
  while (std::unique_ptr<Batch> b = next_read()) {
    const std::size_t n = b->jobs.size();
    submit(std::move(b));
    on_batch(n);
  }
  return result;  // the reading thread set it before it said it was done
}

bool FoldWorker::hand_over(std::unique_ptr<Batch> b) {
  std::unique_lock lock(mu_);
  while (!stop_reading_ && read_.size() >= kBatchesInFlight) {
    if (!help(lock, read_hasher_)) cv_.wait(lock);
  }
  if (stop_reading_) return false;
  read_.push_back(std::move(b));
  cv_.notify_all();
  return true;
}

std::unique_ptr<FoldWorker::Batch> FoldWorker::next_read() {
  std::unique_lock lock(mu_);
  for (;;) {
    if (!read_.empty()) {
      std::unique_ptr<Batch> b = std::move(read_.front());
      read_.pop_front();
      cv_.notify_all();  // room for the reading thread
      return b;
    }
    if (reading_done_) return nullptr;
    if (!help(lock, reader_hasher_)) cv_.wait(lock);
  }
}

bool FoldWorker::help(std::unique_lock<std::mutex>& lock, EventHasher& hasher) {
  if (Batch* fold = claim_fold()) {
    lock.unlock();
    process(*fold, hasher);
    lock.lock();
    fold->folded = true;
    folding_ = false;
  } else if (Chunk chunk = claim_chunk(); chunk.batch != nullptr) {
    lock.unlock();
    hash(chunk, hasher);
    lock.lock();
  } else {
    return false;
  }
  cv_.notify_all();
  return true;
}

void FoldWorker::route(Batch& b) {
  constexpr std::size_t kSlotAhead = 16, kTrackerAhead = 8;
  const std::size_t n = b.jobs.size();
  b.first = routed_;
  routed_ += static_cast<std::int64_t>(n);
  for (std::size_t i = 0; i < n && i < kSlotAhead; ++i) callbacks_.prefetch_slot(b.jobs[i].id_hash);
  for (std::size_t i = 0; i < n && i < kTrackerAhead; ++i) {
    callbacks_.prefetch_tracker(b.jobs[i].id_hash);
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (i + kSlotAhead < n) callbacks_.prefetch_slot(b.jobs[i + kSlotAhead].id_hash);
    if (i + kTrackerAhead < n) callbacks_.prefetch_tracker(b.jobs[i + kTrackerAhead].id_hash);
    Job& j = b.jobs[i];
    const EventRoute r = callbacks_.route(row_of(b, j), j.id_hash);
    j.tag = r.tag;
    j.slot = r.slot;
    j.last = r.last;
  }
}

std::unique_ptr<FoldWorker::Batch> FoldWorker::fresh_batch() {
  {
    std::lock_guard lock(mu_);
    if (!free_.empty()) {
      std::unique_ptr<Batch> b = std::move(free_.back());
      free_.pop_back();
      return b;
    }
  }
  auto b = std::make_unique<Batch>();
  b->jobs.reserve(batch_events_);
  return b;
}

void FoldWorker::recycle(std::unique_ptr<Batch> b) {
  b->jobs.clear();
  b->bytes.clear();
  b->next_chunk.store(0, std::memory_order_relaxed);
  b->hashed.store(0, std::memory_order_relaxed);
  b->folded = false;
  std::lock_guard lock(mu_);
  free_.push_back(std::move(b));
}

void FoldWorker::submit_current() {
  if (current_->jobs.empty()) return;
  submit(std::move(current_));
  current_ = fresh_batch();
}

void FoldWorker::submit(std::unique_ptr<Batch> batch) {
  route(*batch);
  if (!threaded_) {
    process(*batch, hasher_);
    batch->folded = true;
    in_flight_.push_back(std::move(batch));
  } else {
    Batch* b = batch.get();
    {
      std::lock_guard lock(mu_);
      in_flight_.push_back(std::move(batch));
      to_fold_.push_back(b);
    }
    cv_.notify_all();
  }
  hand_back(/*make_room=*/true);
}

bool FoldWorker::complete(const Batch& b) {
  return b.folded && b.hashed.load(std::memory_order_acquire) == b.jobs.size();
}

void FoldWorker::hand_back(bool make_room) {
  std::vector<std::unique_ptr<Batch>> ready;
  {
    std::unique_lock lock(mu_);
    for (;;) {
      while (!in_flight_.empty() && complete(*in_flight_.front())) {
        ready.push_back(std::move(in_flight_.front()));
        in_flight_.pop_front();
      }
      if (!make_room || in_flight_.size() < kBatchesInFlight) break;
      // Rather than wait for the worker, fold the next batch (when the worker is not folding one:
      // it may not have been scheduled) or hash for it.
      if (!help(lock, reader_hasher_)) cv_.wait(lock);
    }
  }
  constexpr std::size_t kAhead = 8;  // the tags (trackers) of the events after, loading meanwhile
  for (auto& b : ready) {
    const std::size_t n = b->jobs.size();
    for (std::size_t i = 0; i < n; ++i) {
      if (i + kAhead < n && b->jobs[i + kAhead].tag != nullptr) {
        const auto* tag = static_cast<const char*>(b->jobs[i + kAhead].tag);
        __builtin_prefetch(tag);
        __builtin_prefetch(tag + 64);
      }
      const Job& j = b->jobs[i];
      const EventRow row = row_of(*b, j);
      callbacks_.checked(CheckedEvent{row, j.tag, j.content_ok});
    }
    recycle(std::move(b));
  }
}

std::vector<FoldCompare> FoldWorker::take_compares(std::int64_t checked) {
  std::lock_guard lock(mu_);
  auto end = std::find_if(compares_.begin(), compares_.end(),
                          [&](const FoldCompare& c) { return c.ordinal >= checked; });
  std::vector<FoldCompare> out(std::make_move_iterator(compares_.begin()),
                               std::make_move_iterator(end));
  compares_.erase(compares_.begin(), end);
  return out;
}

void FoldWorker::finish() {
  if (current_) submit_current();
  if (thread_.joinable()) {
    {
      std::lock_guard lock(mu_);
      closing_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  hand_back(/*make_room=*/false);
}

void FoldWorker::run() {
  for (;;) {
    Batch* fold = nullptr;
    Chunk chunk;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] {
        if ((fold = claim_fold()) != nullptr) return true;
        chunk = claim_chunk();
        return chunk.batch != nullptr || (closing_ && to_fold_.empty());
      });
    }
    if (fold != nullptr) {
      process(*fold, hasher_);
      std::lock_guard lock(mu_);
      fold->folded = true;  // the last touch: the reader may hand the batch back now
      folding_ = false;
    } else if (chunk.batch != nullptr) {
      hash(chunk, hasher_);
      // Through the mutex, so that a reader between checking complete() and waiting sees it.
      std::lock_guard lock(mu_);
    } else {
      return;
    }
    cv_.notify_all();
  }
}

FoldWorker::Batch* FoldWorker::claim_fold() {
  if (folding_ || to_fold_.empty()) return nullptr;
  Batch* b = to_fold_.front();
  to_fold_.pop_front();
  folding_ = true;
  return b;
}

FoldWorker::Chunk FoldWorker::claim_chunk() {
  for (auto it = in_flight_.rbegin(); it != in_flight_.rend(); ++it) {
    if (Chunk c = claim_chunk_of(**it); c.batch != nullptr) return c;
  }
  return {};
}

FoldWorker::Chunk FoldWorker::claim_chunk_of(Batch& b) {
  const std::size_t n = b.jobs.size();
  if (b.next_chunk.load(std::memory_order_relaxed) >= n) return {};
  const std::size_t first = b.next_chunk.fetch_add(kHashChunk, std::memory_order_relaxed);
  if (first >= n) return {};
  return {&b, first, std::min(n, first + kHashChunk)};
}

void FoldWorker::hash(const Chunk& c, EventHasher& hasher) {
  Batch& b = *c.batch;
  for (std::size_t i = c.first; i < c.last; ++i) {
    b.jobs[i].content_ok = hasher.matches(row_of(b, b.jobs[i]));
  }
  b.hashed.fetch_add(c.last - c.first, std::memory_order_release);
}

void FoldWorker::process(Batch& b, EventHasher& hasher) {
  // The fold first, while the other thread may hash chunks of this batch; then the chunks left. A
  // chunk the other thread still holds completes the batch when it finishes (see complete()).
  fold_batch(b);
  for (Chunk c = claim_chunk_of(b); c.batch != nullptr; c = claim_chunk_of(b)) hash(c, hasher);
}

void FoldWorker::fold_batch(const Batch& b) {
  std::vector<FoldCompare> ready;
  for (std::size_t k = 0; k < b.jobs.size(); ++k) {
    const Job& j = b.jobs[k];
    if (j.slot == nullptr) continue;
    FoldSlot& s = *j.slot;
    if (s.failed || s.done) continue;
    const EventRow row = row_of(b, j);
    const std::string_view type = row.type;
    if (!s.state) {
      if (j.seq != 1) {  // a filtered export without the start: nothing to fold from
        s.failed = true;
        continue;
      }
      s.state = std::make_unique<FoldState>();
      s.state->state.id = *s.instance_id;
    }
    std::optional<FoldError> err =
        fold_event_text(*s.state, type, row.body, j.at_ms, defs_, hooks_);
    if (err) {
      s.failed = true;
      s.state.reset();
      if (err->kind == FoldError::Kind::kUnavailable) {
        ++unusable_[{s.workflow_id, s.version}];
      } else {
        findings_.push_back({"history_invalid", *s.instance_id, j.seq, j.position,
                             std::string(type),
                             "the history cannot be folded at this event: " + err->message});
      }
      continue;
    }
    if (j.last) {
      s.done = true;
      ready.push_back({&s, std::move(s.state), j.seq, b.first + static_cast<std::int64_t>(k)});
    }
  }
  if (!ready.empty()) {
    std::lock_guard lock(mu_);
    for (auto& r : ready) compares_.push_back(std::move(r));
  }
}

}  // namespace flowgate::audit
