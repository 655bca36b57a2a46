#include "store/wal_checkpointer.h"

#include <pthread.h>
#include <sqlite3.h>

#include <SQLiteCpp/SQLiteCpp.h>
#include <spdlog/spdlog.h>

namespace flowgate::store_internal {

namespace {
// Pages past the thread's copy that the writer may still copy inline: a small fraction of what
// an autocheckpoint copies (1,000).
constexpr int kTailPages = 256;
}  // namespace

WalCheckpointer::WalCheckpointer(WalCheckpointerOptions options) : options_(std::move(options)) {}

WalCheckpointer::~WalCheckpointer() {
  if (writer_) sqlite3_wal_hook(writer_, nullptr, nullptr);
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void WalCheckpointer::attach(sqlite3* writer) {
  writer_ = writer;
  sqlite3_wal_hook(writer, &on_commit, this);
}

std::int64_t WalCheckpointer::background_runs() const { return background_runs_.load(); }
std::int64_t WalCheckpointer::inline_runs() const { return inline_runs_.load(); }

int WalCheckpointer::on_commit(void* self, sqlite3* db, const char* name, int pages) {
  auto* me = static_cast<WalCheckpointer*>(self);
  if (me->tail_due_) {  // finish_tail() was not called after the commit that found the tail
    me->copy_inline(db, name);
    return SQLITE_OK;
  }
  if (pages < me->options_.background_pages) return SQLITE_OK;
  // The writer checkpoints inline only the little the thread left (then the next commit starts
  // the log from its beginning), or everything when the thread has fallen far behind, as
  // SQLite's own autocheckpoint would.
  // The thread's copy is of this log (not one since restarted) and little has been added to it.
  const int copied = me->copied_to_.exchange(0);
  const bool tail = copied > 0 && pages >= copied && pages - copied <= kTailPages;
  if (pages >= me->options_.inline_pages) {
    me->copy_inline(db, name);
  } else if (tail) {
    me->tail_due_ = true;  // copied by finish_tail(), once this commit's callers are answered
  } else {
    me->request();
  }
  return SQLITE_OK;  // the commit itself succeeded whatever happened here
}

void WalCheckpointer::finish_tail() {
  if (tail_due_) copy_inline(writer_, "main");
}

void WalCheckpointer::copy_inline(sqlite3* db, const char* name) {
  tail_due_ = false;
  int rc = sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  inline_runs_.fetch_add(1, std::memory_order_relaxed);
  if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
    spdlog::warn("WAL checkpoint of {} failed: {}", options_.path, sqlite3_errstr(rc));
  }
}

void WalCheckpointer::request() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    requested_ = true;
    if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
  }
  cv_.notify_one();
}

void WalCheckpointer::loop() {
  pthread_setname_np(pthread_self(), "fg-checkpoint");
  std::unique_ptr<SQLite::Database> db;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return requested_ || stopping_; });
      if (stopping_) return;
      requested_ = false;
    }
    try {
      if (!db) {
        db = std::make_unique<SQLite::Database>(options_.path, SQLite::OPEN_READWRITE, 1000);
        db->exec(options_.synchronous_full ? "PRAGMA synchronous = FULL"
                                           : "PRAGMA synchronous = NORMAL");
        sqlite3_wal_autocheckpoint(db->getHandle(), 0);
      }
    } catch (const SQLite::Exception& e) {
      spdlog::warn("cannot open {} to checkpoint its WAL: {}", options_.path, e.what());
      continue;
    }
    // Copies the log beside the writer, without its lock; a second pass takes what was
    // committed during the first. What is left is small, and the writer copies it inline at its
    // next commit (with no commit in between, the log then starts again from its beginning).
    int rc = SQLITE_OK;
    int log = 0, done = 0;
    for (int pass = 0; pass < 3; ++pass) {
      rc = sqlite3_wal_checkpoint_v2(db->getHandle(), "main", SQLITE_CHECKPOINT_PASSIVE, &log,
                                     &done);
      if (rc != SQLITE_OK || log - done <= kTailPages / 8) break;
    }
    background_runs_.fetch_add(1, std::memory_order_relaxed);
    if (rc == SQLITE_OK) {
      if (done > 0) copied_to_.store(done);
    } else if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) {
      spdlog::warn("WAL checkpoint of {} failed: {}", options_.path, sqlite3_errstr(rc));
    }
  }
}

}  // namespace flowgate::store_internal
