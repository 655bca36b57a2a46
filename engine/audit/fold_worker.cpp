#include "audit/fold_worker.h"

#include <algorithm>

namespace flowgate::audit {
namespace {
constexpr std::size_t kDefaultBatchEvents = 4096;
constexpr std::size_t kBatchesInFlight = 4;
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

void FoldWorker::add(const EventRow& row) {
  Batch& b = *current_;
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
  b.jobs.push_back(j);
  if (b.jobs.size() >= batch_events_ || b.bytes.size() > (64u << 20)) submit_current();
}

void FoldWorker::route_current() {
  constexpr std::size_t kAhead = 8;
  Batch& b = *current_;
  const std::size_t n = b.jobs.size();
  auto prefetch = [&](Job& j) { j.id_hash = callbacks_.prefetch(row_of(b, j).instance_id); };
  for (std::size_t i = 0; i < n && i < kAhead; ++i) prefetch(b.jobs[i]);
  for (std::size_t i = 0; i < n; ++i) {
    if (i + kAhead < n) prefetch(b.jobs[i + kAhead]);
    Job& j = b.jobs[i];
    const EventRoute r = callbacks_.route(row_of(b, j), j.id_hash);
    j.tag = r.tag;
    j.slot = r.slot;
    j.last = r.last;
  }
}

void FoldWorker::submit_current() {
  if (current_->jobs.empty()) return;
  route_current();
  if (!threaded_) {
    process(*current_, hasher_);
    current_->folded = true;
    in_flight_.push_back(std::move(current_));
  } else {
    Batch* b = current_.get();
    {
      std::lock_guard lock(mu_);
      in_flight_.push_back(std::move(current_));
      to_fold_.push_back(b);
    }
    cv_.notify_all();
  }
  hand_back(/*make_room=*/true);
  if (!free_.empty()) {
    current_ = std::move(free_.back());
    free_.pop_back();
  } else {
    current_ = std::make_unique<Batch>();
    current_->jobs.reserve(batch_events_);
  }
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
      if (Batch* fold = claim_fold()) {
        lock.unlock();
        process(*fold, reader_hasher_);
        lock.lock();
        fold->folded = true;
        folding_ = false;
        cv_.notify_all();
      } else if (Chunk chunk = claim_chunk(); chunk.batch != nullptr) {
        lock.unlock();
        hash(chunk, reader_hasher_);
        lock.lock();
      } else {
        cv_.wait(lock);
      }
    }
  }
  for (auto& b : ready) {
    for (const Job& j : b->jobs) {
      const EventRow row = row_of(*b, j);
      callbacks_.checked(CheckedEvent{row, j.tag, j.content_ok});
    }
    b->jobs.clear();
    b->bytes.clear();
    b->next_chunk.store(0, std::memory_order_relaxed);
    b->hashed.store(0, std::memory_order_relaxed);
    b->folded = false;
    free_.push_back(std::move(b));
  }
}

std::vector<FoldCompare> FoldWorker::take_compares() {
  std::lock_guard lock(mu_);
  return std::move(compares_);
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
  for (const Job& j : b.jobs) {
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
      ready.push_back({&s, std::move(s.state), j.seq});
    }
  }
  if (!ready.empty()) {
    std::lock_guard lock(mu_);
    for (auto& r : ready) compares_.push_back(std::move(r));
  }
}

}  // namespace flowgate::audit
