// The process definitions stored in an audited database, each loaded from its stored source text
// (load_workflow_text) with the plugin section handlers the CLI uses, so that every instance is
// checked against exactly the version it was pinned to. A definition whose text no longer hashes
// to its content_hash, or that no longer loads, is reported and not used.
// Thread-safety: immutable after load().
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "audit/finding.h"
#include "definition/section_registry.h"
#include "definition/workflow.h"
#include "store/records.h"

namespace flowgate::audit {

struct LoadedDefinition {
  StoredDefinition stored;
  std::string actual_hash;                   // SHA-256 of stored.source_text
  std::shared_ptr<const Workflow> workflow;  // null when the text was altered or does not load
  std::string problem;                       // why workflow is null
};

class DefinitionSet {
 public:
  // Loads every definition; each problem becomes a finding ("definition_changed",
  // "definition_unloadable") appended to `findings`.
  static DefinitionSet load(std::vector<StoredDefinition> stored, const SectionRegistry& sections,
                            std::vector<Finding>& findings);

  const LoadedDefinition* find(const std::string& workflow_id, int version) const;
  // The usable workflow, or null (missing, altered or unloadable).
  const Workflow* workflow(const std::string& workflow_id, int version) const;
  const std::vector<LoadedDefinition>& all() const { return defs_; }

 private:
  std::vector<LoadedDefinition> defs_;
  std::map<std::pair<std::string, int>, std::size_t> index_;
};

}  // namespace flowgate::audit
