#include "audit/fold_worker.h"

namespace flowgate::audit {
namespace {
constexpr std::size_t kBatchEvents = 4096;
constexpr std::size_t kBatchesInFlight = 4;
}  // namespace

FoldWorker::FoldWorker(const DefinitionSet& defs, const HookSet* hooks, bool threaded)
    : defs_(defs), hooks_(hooks), threaded_(threaded), current_(std::make_unique<Batch>()) {
  current_->jobs.reserve(kBatchEvents);
  if (threaded_) thread_ = std::thread([this] { run(); });
}

FoldWorker::~FoldWorker() { finish(); }

void FoldWorker::add(FoldSlot* slot, const EventRow& row, bool last) {
  Batch& b = *current_;
  Job j{slot,
        static_cast<std::uint32_t>(b.bytes.size()),
        static_cast<std::uint32_t>(row.type.size()),
        0,
        static_cast<std::uint32_t>(row.body.size()),
        row.at_ms,
        row.seq,
        row.position,
        last};
  b.bytes += row.type;
  j.body_off = static_cast<std::uint32_t>(b.bytes.size());
  b.bytes += row.body;
  b.jobs.push_back(j);
  if (b.jobs.size() >= kBatchEvents || b.bytes.size() > (64u << 20)) submit_current();
}

void FoldWorker::submit_current() {
  if (current_->jobs.empty()) return;
  if (!threaded_) {
    fold_batch(*current_);
    current_->jobs.clear();
    current_->bytes.clear();
    return;
  }
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return queue_.size() < kBatchesInFlight; });
  queue_.push_back(std::move(current_));
  if (!free_.empty()) {
    current_ = std::move(free_.back());
    free_.pop_back();
  } else {
    current_ = std::make_unique<Batch>();
    current_->jobs.reserve(kBatchEvents);
  }
  lock.unlock();
  cv_.notify_all();
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
}

void FoldWorker::run() {
  for (;;) {
    std::unique_ptr<Batch> b;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return !queue_.empty() || closing_; });
      if (queue_.empty()) return;
      b = std::move(queue_.front());
      queue_.pop_front();
    }
    cv_.notify_all();
    fold_batch(*b);
    b->jobs.clear();
    b->bytes.clear();
    std::lock_guard lock(mu_);
    free_.push_back(std::move(b));
  }
}

void FoldWorker::fold_batch(const Batch& b) {
  std::vector<FoldCompare> ready;
  for (const Job& j : b.jobs) {
    FoldSlot& s = *j.slot;
    if (s.failed || s.done) continue;
    std::string_view type(b.bytes.data() + j.type_off, j.type_len);
    std::string_view body(b.bytes.data() + j.body_off, j.body_len);
    if (!s.state) {
      if (j.seq != 1) {  // a filtered export without the start: nothing to fold from
        s.failed = true;
        continue;
      }
      s.state = std::make_unique<FoldState>();
      s.state->state.id = *s.instance_id;
    }
    std::optional<FoldError> err = fold_event_text(*s.state, type, body, j.at_ms, defs_, hooks_);
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
