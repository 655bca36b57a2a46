// Moves SQLite's WAL checkpoints off the commit path. By default SQLite checkpoints inside the
// commit that takes the log past 1,000 pages: that commit copies every page into the database
// file and syncs it, and every caller waiting on that group commit (and the one after it) waits
// several fsyncs longer. With a WalCheckpointer attached to the writer connection:
//   - past `background_pages` the writer only wakes the checkpointer thread, which copies the
//     log on its own connection without taking the write lock (PASSIVE, twice if commits came
//     meanwhile); the writer's next commit finds only a few pages left, and the writer copies them
//     right after that commit, once its callers are answered (finish_tail(), which the engine
//     calls through Store::finish_commit; without that call the commit after does it first). So
//     the next commit starts the log from its beginning: the file is reused, not grown. That
//     copy syncs the database file, which is why it waits until the answers are on their way;
//   - past `inline_pages` (the thread has fallen behind, e.g. a long reader holds old pages) the
//     writer checkpoints inline as SQLite would, so the log stays bounded.
// Durability is SQLite's: a checkpoint only copies committed pages and syncs the database file
// before the log is reused. A failed checkpoint is logged and retried at the next request.
// Thread-safety: attach() and the hook run on the writer's thread; the destructor on the owner's
// (it joins the thread, and must run before the writer connection closes).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

struct sqlite3;

namespace flowgate::store_internal {

struct WalCheckpointerOptions {
  std::string path;
  bool synchronous_full = true;
  int background_pages = 1000;  // SQLite's default autocheckpoint threshold
  int inline_pages = 16000;     // ~64 MiB of log at 4 KiB pages
};

class WalCheckpointer {
 public:
  explicit WalCheckpointer(WalCheckpointerOptions options);
  ~WalCheckpointer();
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  // Replaces the writer connection's autocheckpoint with this checkpointer (until destroyed; the
  // connection then has no autocheckpoint).
  void attach(sqlite3* writer);

  // Writer: copies the pages the thread left, when the last commit found only a few (see above).
  void finish_tail();

  // Checkpoints run so far by the thread, and inline by the writer (tests, diagnostics).
  std::int64_t background_runs() const;
  std::int64_t inline_runs() const;
  // Whether the last commit left its last pages for finish_tail() (writer thread; tests).
  bool tail_due() const { return tail_due_; }

 private:
  static int on_commit(void* self, sqlite3* db, const char* name, int pages);
  void copy_inline(sqlite3* db, const char* name);
  void request();
  void loop();

  WalCheckpointerOptions options_;
  sqlite3* writer_ = nullptr;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool requested_ = false;
  bool stopping_ = false;
  bool tail_due_ = false;          // writer thread only
  std::atomic<int> copied_to_{0};  // the log's pages the thread has copied (0 = none since)
  std::atomic<std::int64_t> background_runs_{0};
  std::atomic<std::int64_t> inline_runs_{0};
  std::thread thread_;  // started at the first request
};

}  // namespace flowgate::store_internal
