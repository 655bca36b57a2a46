// `flowgate verify`: is this history intact? Reads a database (read-only; a copy an auditor was
// handed works) or an export, and checks, in one pass over the events by position:
//   - every instance's hash chain: gapless sequence, each event linked to the previous one, each
//     hash recomputed from the event's content (docs/audit.md) — an edited, inserted, deleted or
//     reordered event is named (the first bad event of each instance);
//   - the instance rows: each has its events, and its last_seq/head_hash is the newest event;
//   - every instance folded from its events with apply() against the definition version it is
//     pinned to equals its stored snapshot;
//   - the stored definitions: each text still hashes to its content_hash and loads, and each
//     instance's start/migration records that same hash;
//   - the checkpoints: ids without gaps; the newest one's heads hash, instance and event counts
//     recomputed from the events up to its position (all of them with all_checkpoints) — so a
//     deleted or truncated instance or log is found; global positions without gaps;
//   - the database pages (PRAGMA quick_check), for a database.
// Findings are values in the report; an error is returned only when the source cannot be read.
// Memory: one small record per instance, plus the folded state of instances whose history is still
// being read (released at each instance's last event).
// Threads: a database is read on one thread (a second read-only connection), checked on the
// calling thread and folded on a third; an export on two (fold_thread, read_thread).
// Thread-safety: verify() may run on any thread; options are read-only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "audit/finding.h"
#include "audit/source.h"
#include "definition/section_registry.h"
#include "runtime/hooks.h"
#include "util/error.h"

namespace flowgate::audit {

struct VerifyOptions {
  const SectionRegistry* sections = nullptr;  // loads the stored definitions (required)
  const HookSet* hooks = nullptr;             // plugins whose events are folded; null = none
  bool page_check = true;                     // databases: PRAGMA quick_check first
  bool all_checkpoints = false;               // recompute every checkpoint, not only the newest
  bool fold = true;                           // compare each instance's fold with its snapshot
  bool fold_thread = true;                    // fold on a second thread while reading
  bool read_thread = true;            // with fold_thread, a database is read on a third thread too
  std::size_t fold_batch_events = 0;  // events handed to that thread at a time; 0 = the default
  bool read_pages = true;  // a database's events straight from its pages where it can (page_scan.h)
  int progress = -1;       // -1 = when stderr is a terminal, 0 = never, 1 = always
};

struct VerifyReport {
  std::string source;
  std::int64_t definitions = 0;
  std::int64_t instances = 0;
  std::int64_t events = 0;
  std::int64_t checkpoints = 0;
  std::int64_t checkpoints_recomputed = 0;
  bool page_checked = false;
  std::vector<Finding> findings;

  bool ok() const { return findings.empty(); }
  nlohmann::json to_json() const;
};

Result<VerifyReport> verify(AuditSource& source, const VerifyOptions& options);
// Opens `path` read-only, checks its pages (unless options.page_check is false), then verify().
Result<VerifyReport> verify_database(const std::string& path, const VerifyOptions& options);

}  // namespace flowgate::audit
