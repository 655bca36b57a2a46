// `flowgate replay`: was every step allowed? Rebuilds every instance from its events alone, with
// the definition version it was pinned to (the text stored in the database), and for each
// recorded command re-runs decide() — the command reconstructed from its first event
// (audit/commands.h), with the recorded actor at the recorded time — and checks that it produces
// exactly the recorded events: guard true, roles allowed, plugin decisions (gate quorum, SLA
// timers due) the same. Events one command produced share its time and actor and are consecutive
// in the instance's history; the whole sequence decide() produces must match them one for one. The
// fold of the recorded events is then compared with the stored snapshot. With as_of, only events
// up to that moment are replayed and the states at that moment are returned instead.
// Findings name the event they concern. Memory: the folded state of every instance whose history
// is still being read (all of them with as_of).
// Thread-safety: replay() may run on any thread; options are read-only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "audit/finding.h"
#include "audit/source.h"
#include "definition/section_registry.h"
#include "runtime/hooks.h"
#include "util/error.h"

namespace flowgate::audit {

struct ReplayOptions {
  const SectionRegistry* sections = nullptr;  // loads the stored definitions (required)
  const HookSet* hooks = nullptr;             // plugins taking part in decide; null = none
  std::string instance_id;                    // "" = every instance
  std::optional<std::int64_t> as_of_ms;       // replay up to this moment and return the states
  int progress = -1;  // -1 = when stderr is a terminal, 0 = never, 1 = always
};

struct ReplayReport {
  std::string source;
  std::int64_t instances = 0;
  std::int64_t events = 0;
  std::int64_t commands = 0;  // commands re-decided
  std::optional<std::int64_t> as_of_ms;
  std::vector<Finding> findings;
  std::vector<nlohmann::json> states;  // as_of: instance views at that moment, by instance id

  bool ok() const { return findings.empty(); }
  nlohmann::json to_json() const;
};

Result<ReplayReport> replay(AuditSource& source, const ReplayOptions& options);
Result<ReplayReport> replay_database(const std::string& path, const ReplayOptions& options);

}  // namespace flowgate::audit
