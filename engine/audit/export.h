// `flowgate export`: the full history of a database (or a part of it) with its hashes and the
// definitions it was written under, as JSON Lines or CSV, in the layout docs/audit.md documents
// ("Export format"), so that an auditor can verify it with a short script of their own, and
// `flowgate verify --export FILE` can re-verify it offline (export_source()).
//
// Order of the records: one `export` header, then every `definition`, `checkpoint` and `instance`,
// then every `event` by position. Event `actor` and `body` are the stored JSON texts, unchanged.
// A filtered export (--since, --workflow, --instance) holds the snapshots and definitions of the
// instances it covers; its header says `complete: false` and verify then checks each chain from its
// first exported event (whose prev_hash anchors it) and skips checkpoints and numbering.
// Thread-safety: functions may run on any thread; an export source belongs to one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "audit/source.h"
#include "util/error.h"

namespace flowgate::audit {

enum class ExportFormat { kJsonl, kCsv };

struct ExportOptions {
  ExportFormat format = ExportFormat::kJsonl;
  std::optional<std::int64_t> since_ms;  // events at or after
  std::string workflow_id;               // "" = all
  std::string instance_id;               // "" = all
  int progress = -1;                     // -1 = when stderr is a terminal, 0 = never, 1 = always
};

struct ExportSummary {
  std::int64_t definitions = 0;
  std::int64_t checkpoints = 0;
  std::int64_t instances = 0;
  std::int64_t events = 0;
};

// Writes the export of the database at `path` to `out`.
Result<ExportSummary> export_database(const std::string& path, const ExportOptions& options,
                                      std::ostream& out);

// Reads an export file (JSON Lines or CSV, told apart by its first line) as an audit source.
// Malformed lines are kInvalidArgument errors naming the line.
Result<std::unique_ptr<AuditSource>> export_source(const std::string& path);

}  // namespace flowgate::audit
