// The workflow definitions the engine knows, by id and version. New instances start on the latest
// version of a workflow; running instances stay on the version they were started on (loaded from
// the store's copy of its source when it is no longer among the files).
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "definition/section_registry.h"
#include "definition/workflow.h"
#include "util/diagnostic.h"

namespace flowgate {

class Catalog {
 public:
  void add(std::shared_ptr<const Workflow> wf);
  std::shared_ptr<const Workflow> latest(const std::string& id) const;
  std::shared_ptr<const Workflow> get(const std::string& id, int version) const;
  // The latest version of every workflow, by id.
  std::vector<std::shared_ptr<const Workflow>> latest_all() const;
  // Every version of every workflow.
  std::vector<std::shared_ptr<const Workflow>> all() const;
  std::vector<std::string> ids() const;

 private:
  mutable std::shared_mutex mu_;
  std::map<std::string, std::map<int, std::shared_ptr<const Workflow>>> by_id_;
};

// Loads every *.toml file directly in `dir` (sorted by name) into `catalog`. Diagnostics of every
// file are appended to `diags`; files with errors are skipped. Two files with the same workflow id
// and version are an error. Returns the number of workflows loaded.
std::size_t load_workflow_dir(const std::string& dir, const SectionRegistry& sections,
                              Catalog& catalog, Diagnostics& diags);

}  // namespace flowgate
