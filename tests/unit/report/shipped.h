// The report's reading of a workflow shipped in workflows/ (tests only).
#pragma once

#include <string>

#include <catch2/catch.hpp>

#include "definition/loader.h"
#include "report/process_shape.h"
#include "unit/audit/audit_plugins.h"

namespace flowgate::testing {

inline report::ProcessShape shipped(const std::string& name) {
  auto loaded = load_workflow_file(
      std::string(FLOWGATE_SOURCE_DIR) + "/workflows/" + name + ".toml", audit_sections());
  for (const auto& d : loaded.diagnostics.items()) UNSCOPED_INFO(d.to_string());
  REQUIRE(loaded.ok());
  return report::process_shape(*loaded.workflow);
}

}  // namespace flowgate::testing
