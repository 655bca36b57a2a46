// Internal to audit/: reads the events table straight from the database file's pages, in position
// order, for a full scan (verify, replay, export of everything). SQLite's own scan copies every
// text column of every row into its own buffer and costs a call per column; this reads the rows
// where they lie, through the connection's own file handle (so no second descriptor can drop the
// connection's locks), a run of pages per read.
//
// It is only an accelerator, and it never decides anything SQLite would decide otherwise:
// - it is used only when the database file alone holds the connection's snapshot: no WAL frames
//   and no rollback journal beside it once the read transaction has begun. While that read
//   transaction lasts, no checkpoint can copy pages into the file (SQLite keeps the first read
//   lock for it), so the pages stay as they were;
// - the text must be UTF-8 and the table exactly as the store creates it;
// - at the first page or row it does not read exactly as SQLite would (a page of another kind, a
//   cell outside its page, an overflow chain that does not add up, a value of another type than
//   the column's, ...), it stops and says how many rows it handed over: SQLite's own scan goes on
//   after as many. It reads the b-tree in the order SQLite's scan does (even where positions are
//   out of order in a damaged table), and each row it hands over is the row SQLite's SELECT
//   returns there, byte for byte.
// Thread-safety: a scan belongs to the thread of its connection.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "audit/audit_db.h"

struct sqlite3;

namespace flowgate::audit {

class EventPageScan {
 public:
  // A scan of the events table of `db` (a read-only connection inside its read transaction on the
  // file `path`), or null when the file cannot be read this way.
  static std::unique_ptr<EventPageScan> open(sqlite3* db, const std::string& path);
  ~EventPageScan();
  EventPageScan(const EventPageScan&) = delete;
  EventPageScan& operator=(const EventPageScan&) = delete;

  struct Outcome {
    std::int64_t delivered = 0;                 // events handed to fn
    std::optional<std::int64_t> last_position;  // of the last of them
    bool finished = false;  // every event up to `until` was handed over, or fn said stop
    std::string stopped;    // otherwise: what it could not read; SQLite's scan goes on after the
                            // first `delivered` rows
  };
  // Calls fn for every event in position order (the b-tree's) until one after position `until`
  // (as SQLite's `WHERE position <= until` ends its scan) or until fn returns false. The row's
  // views are valid during the call.
  Outcome each(std::int64_t until, const std::function<bool(const EventRow&)>& fn);

 private:
  struct Impl;
  explicit EventPageScan(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace flowgate::audit
