// `flowgate report`: the measures of docs/report.md — funnel conversion between stages, win rate,
// time per stage and state (p50/p90), cycle time, escalation rate per tier, reopen rate — by
// workflow and period, read from a database through the audit module's read-only AuditDb and named
// with the definitions stored in it. Instances are grouped by the time they started (a cohort):
// --since/--until select instances by their start, and every event of a selected instance counts,
// so a lead captured in March that is won in May counts as a March win. The plugins' figures (SLA
// clocks, gates) are added by the caller from each bucket's events (see to_document).
// Thread-safety: pure functions over values, except collect(), which reads one AuditDb.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "audit/audit_db.h"
#include "definition/section_registry.h"
#include "report/process_shape.h"
#include "store/records.h"
#include "util/error.h"

namespace flowgate::report {

enum class Period { kAll, kWeek, kMonth, kQuarter };

struct ReportOptions {
  std::string workflow;                  // "" = every workflow
  std::optional<std::int64_t> since_ms;  // instances started at or after
  std::optional<std::int64_t> until_ms;  // instances started before
  Period period = Period::kAll;
};

// "all", "week", "month", "quarter"; nullopt for anything else.
std::optional<Period> parse_period(std::string_view name);
std::string_view period_name(Period p);

// The period containing `at_ms` (UTC): its label ("all", "2026-W02", "2026-01", "2026-Q1") and
// its half-open range [from_ms, to_ms) (none for "all").
struct PeriodKey {
  std::string label;
  std::optional<std::int64_t> from_ms;
  std::optional<std::int64_t> to_ms;
};
PeriodKey period_of(std::int64_t at_ms, Period p);

// The core events of a bucket (instance_started, transitioned, migrated, completed, cancelled),
// compactly: state and event names interned, instance data, payloads and changes left out, so that
// a report over millions of events stays small. Of the data, only the last value each instance
// recorded for kScoreField and kSatisfactionField is kept (from its start data, its transitions'
// and data_changed events' changes), as a number.
class CoreLog {
 public:
  enum class Kind : std::uint8_t { kStarted, kMoved, kMigrated, kCompleted, kCancelled };
  struct Entry {
    std::int64_t at_ms = 0;
    std::uint32_t instance = 0;  // index in order of the instance's start
    std::uint32_t from = 0;      // name ids (name()); 0 = ""
    std::uint32_t to = 0;  // the state entered (started: the initial state; completed: the end)
    std::uint32_t event = 0;
    Kind kind = Kind::kStarted;
    bool automatic = false;  // moved by flowgate itself (actor principal "flowgate:...")
  };

  // What an instance recorded in the fields the measures read; none = never set (or cleared).
  struct Recorded {
    std::optional<double> score;
    std::optional<double> satisfaction;
  };

  // Keeps the core events (in per-instance order); ignores every other type and the events of an
  // instance whose start it has not seen.
  void add(const EventRecord& e);
  const std::vector<Entry>& entries() const { return entries_; }
  // By instance index (Entry::instance).
  const Recorded& recorded(std::uint32_t instance) const { return recorded_[instance]; }
  const std::string& name(std::uint32_t id) const { return names_[id]; }
  std::size_t instances() const { return instance_ids_.size(); }

 private:
  std::uint32_t intern(const std::string& text);
  std::vector<std::string> names_{""};
  std::unordered_map<std::string, std::uint32_t> name_ids_;
  std::unordered_map<std::string, std::uint32_t> instance_ids_;
  std::vector<Entry> entries_;
  std::vector<Recorded> recorded_;
};

// The instances of one workflow that started in one period: their core events, and the events
// the plugins' figures read (sla.*, gate.*, and instance_started for the workflow's name), each
// instance's events in sequence order.
struct Bucket {
  std::string workflow;
  PeriodKey period;
  CoreLog core;
  std::vector<EventRecord> events;

  // Routes one event (of an instance of this bucket) to `core` and/or `events`.
  void add(EventRecord e);
};

struct ReportData {
  std::vector<ProcessShape> workflows;  // one per workflow (its newest usable version), by id
  std::vector<Bucket> buckets;          // by workflow, then period
  std::vector<std::string> warnings;    // e.g. a stored definition that no longer loads
};

// Reads the events of the selected instances. Errors: kInvalidArgument for since >= until or a
// workflow the database does not know; the AuditDb's errors for a database that cannot be read.
Result<ReportData> collect(audit::AuditDb& db, const SectionRegistry& sections,
                           const ReportOptions& options);

// The core measures of one bucket (docs/report.md lists every field): {instances, funnel,
// outcomes, terminals, cycle_time, stage_time, state_time, escalation, reopen, transitions}, and
// `calibration` (shape.scored) and `satisfaction` (shape.rated).
nlohmann::json core_measures(const ProcessShape& shape, const CoreLog& log);
// The same over events (each instance's in sequence order); other event types are skipped.
nlohmann::json core_measures(const ProcessShape& shape, std::span<const EventRecord> events);

// The whole report: {report: {database, workflow, since, until, period}, workflows: [{workflow,
// name, version, process: ProcessShape::to_json(), periods: [{period, from, to, ...core measures,
// ...what `add_figures` adds}]}], warnings}. `add_figures` adds the plugins' sections to a period.
nlohmann::json to_document(const ReportData& data, const ReportOptions& options,
                           const std::string& database,
                           const std::function<void(const Bucket&, nlohmann::json&)>& add_figures);

// Nearest-rank percentile (p in (0, 100]) of `values` (sorted in place); none when empty.
std::optional<std::int64_t> nearest_rank(std::vector<std::int64_t>& values, double p);

}  // namespace flowgate::report
