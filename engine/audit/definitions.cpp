#include "audit/definitions.h"

#include <fmt/format.h>

#include "definition/digest.h"
#include "definition/loader.h"

namespace flowgate::audit {

DefinitionSet DefinitionSet::load(std::vector<StoredDefinition> stored,
                                  const SectionRegistry& sections, std::vector<Finding>& findings) {
  DefinitionSet set;
  for (auto& s : stored) {
    LoadedDefinition d;
    d.actual_hash = digest::sha256_hex(s.source_text);
    d.stored = std::move(s);
    const std::string name = fmt::format("{} v{}", d.stored.workflow_id, d.stored.version);
    if (d.actual_hash != d.stored.content_hash) {
      d.problem =
          fmt::format("the stored text of {} was changed: it hashes to {}, its content_hash is {}",
                      name, d.actual_hash, d.stored.content_hash);
      findings.push_back({"definition_changed", "", 0, 0, "", d.problem});
    } else {
      LoadResult r = load_workflow_text(d.stored.source_text, d.stored.file, sections);
      if (!r.ok()) {
        std::string first;
        for (const auto& diag : r.diagnostics.items()) {
          if (diag.severity == Severity::kError) {
            first = diag.to_string();
            break;
          }
        }
        d.problem = fmt::format("the stored text of {} does not load: {}", name, first);
        findings.push_back({"definition_unloadable", "", 0, 0, "", d.problem});
      } else if (r.workflow->id != d.stored.workflow_id ||
                 r.workflow->version != d.stored.version) {
        d.problem = fmt::format("the stored text of {} declares {} v{}", name, r.workflow->id,
                                r.workflow->version);
        findings.push_back({"definition_changed", "", 0, 0, "", d.problem});
      } else {
        d.workflow = r.workflow;
      }
    }
    set.index_[{d.stored.workflow_id, d.stored.version}] = set.defs_.size();
    set.defs_.push_back(std::move(d));
  }
  return set;
}

const LoadedDefinition* DefinitionSet::find(const std::string& workflow_id, int version) const {
  auto it = index_.find({workflow_id, version});
  return it == index_.end() ? nullptr : &defs_[it->second];
}

const Workflow* DefinitionSet::workflow(const std::string& workflow_id, int version) const {
  const LoadedDefinition* d = find(workflow_id, version);
  return d ? d->workflow.get() : nullptr;
}

}  // namespace flowgate::audit
