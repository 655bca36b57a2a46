#include "audit/fold_worker.h"

namespace flowgate::audit {
namespace {
constexpr std::size_t kBatchEvents = 4096;
constexpr std::size_t kBatchesInFlight = 4;
}  // namespace

FoldWorker::FoldWorker(const DefinitionSet& defs, const HookSet* hooks, bool threaded,
                       FoldCallbacks callbacks)
    : defs_(defs),
      hooks_(hooks),
      threaded_(threaded),
      callbacks_(std::move(callbacks)),
      current_(std::make_unique<Batch>()) {
  current_->jobs.reserve(kBatchEvents);
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
  if (b.jobs.size() >= kBatchEvents || b.bytes.size() > (64u << 20)) submit_current();
}

void FoldWorker::route_current() {
  constexpr std::size_t kAhead = 8;
  Batch& b = *current_;
  const std::size_t n = b.jobs.size();
  for (std::size_t i = 0; i < n && i < kAhead; ++i)
    callbacks_.prefetch(row_of(b, b.jobs[i]).instance_id);
  for (std::size_t i = 0; i < n; ++i) {
    if (i + kAhead < n) callbacks_.prefetch(row_of(b, b.jobs[i + kAhead]).instance_id);
    Job& j = b.jobs[i];
    const EventRoute r = callbacks_.route(row_of(b, j));
    j.tag = r.tag;
    j.slot = r.slot;
    j.last = r.last;
  }
}

void FoldWorker::submit_current() {
  if (current_->jobs.empty()) return;
  route_current();
  if (!threaded_) {
    process(*current_);
    done_.push_back(std::move(current_));
  } else {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return queue_.size() < kBatchesInFlight; });
    queue_.push_back(std::move(current_));
    lock.unlock();
    cv_.notify_all();
  }
  hand_back();
  if (!free_.empty()) {
    current_ = std::move(free_.back());
    free_.pop_back();
  } else {
    current_ = std::make_unique<Batch>();
    current_->jobs.reserve(kBatchEvents);
  }
}

void FoldWorker::hand_back() {
  std::deque<std::unique_ptr<Batch>> done;
  {
    std::lock_guard lock(mu_);
    done.swap(done_);
  }
  for (auto& b : done) {
    for (const Job& j : b->jobs) {
      const EventRow row = row_of(*b, j);
      callbacks_.checked(CheckedEvent{row, j.tag, j.content_ok});
    }
    b->jobs.clear();
    b->bytes.clear();
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
  hand_back();
}

void FoldWorker::run() {
  for (;;) {
    Batch* b = nullptr;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return !queue_.empty() || closing_; });
      if (queue_.empty()) return;
      b = queue_.front().get();  // stays queued (counted in flight) until processed
    }
    process(*b);
    {
      std::lock_guard lock(mu_);
      done_.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    cv_.notify_all();
  }
}

void FoldWorker::process(Batch& b) {
  for (Job& j : b.jobs) {
    j.content_ok = hasher_.matches(row_of(b, j));
  }
  fold_batch(b);
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
