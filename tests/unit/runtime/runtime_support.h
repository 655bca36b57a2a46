// Helpers for the runtime tests: fixture workflows and actors.
#pragma once

#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "definition/loader.h"
#include "runtime/command.h"

namespace flowgate::testing {

inline std::shared_ptr<const Workflow> load_fixture(const std::string& relative) {
  static SectionRegistry none;
  LoadResult r = load_workflow_file(std::string(FLOWGATE_SOURCE_DIR) + "/" + relative, none);
  if (!r.ok()) {
    for (const auto& d : r.diagnostics.items()) UNSCOPED_INFO(d.to_string());
  }
  REQUIRE(r.ok());
  return r.workflow;
}

inline Actor actor(std::string who, std::vector<std::string> roles) {
  Actor a;
  a.principal = std::move(who);
  a.roles = std::move(roles);
  return a;
}

}  // namespace flowgate::testing
