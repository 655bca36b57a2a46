// Loads and validates process files. Every problem becomes a Diagnostic with file, line, column
// and a rule id; lint warnings (rule ids starting with "LINT-") do not stop loading.
// Thread-safety: the functions are reentrant; the registry must not change while they run.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "definition/section_registry.h"
#include "definition/workflow.h"
#include "util/diagnostic.h"

namespace flowgate {

struct LoadResult {
  std::shared_ptr<const Workflow> workflow;  // null when there are errors
  Diagnostics diagnostics;                   // errors and warnings, sorted by location
  bool ok() const { return workflow != nullptr; }
};

// Files larger than this are refused before parsing (rule FILE-TOO-LARGE).
inline constexpr std::size_t kMaxProcessFileBytes = 4 * 1024 * 1024;

LoadResult load_workflow_file(const std::string& path, const SectionRegistry& registry);
LoadResult load_workflow_text(std::string_view text, const std::string& file,
                              const SectionRegistry& registry);

}  // namespace flowgate
