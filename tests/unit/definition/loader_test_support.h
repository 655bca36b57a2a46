// Shared helpers for the loader and validator tests: load text or fixtures with an empty section
// registry, and look for a diagnostic by rule id and line.
#pragma once

#include <catch2/catch.hpp>

#include <string>

#include "definition/loader.h"

namespace flowgate::test {

inline const SectionRegistry& no_sections() {
  static const SectionRegistry registry;
  return registry;
}

inline LoadResult load_text(const std::string& text, const std::string& file = "test.toml") {
  return load_workflow_text(text, file, no_sections());
}

inline std::string fixture_path(const std::string& relative) {
  return std::string(FLOWGATE_SOURCE_DIR) + "/tests/fixtures/" + relative;
}

// All diagnostics, one per line, for failure messages.
inline std::string listing(const LoadResult& r) {
  std::string out;
  for (const Diagnostic& d : r.diagnostics.items()) out += d.to_string() + "\n";
  return out.empty() ? "(no diagnostics)\n" : out;
}

// The first diagnostic with `rule` (and `line`, when nonzero), or null.
inline const Diagnostic* find_diag(const LoadResult& r, const std::string& rule, int line = 0) {
  for (const Diagnostic& d : r.diagnostics.items()) {
    if (d.rule == rule && (line == 0 || d.location.line == line)) return &d;
  }
  return nullptr;
}

// A small valid workflow to which tests append or in which they replace pieces.
inline std::string base_workflow(const std::string& extra = "") {
  return R"([workflow]
id = "base"
name = "Base"
version = 1
initial = "open"

[states.open]

[states.working]

[states.done]
terminal = true

[[transitions]]
from = "open"
to = "working"
event = "start"

[[transitions]]
from = "working"
to = "done"
event = "finish"
)" + extra;
}

}  // namespace flowgate::test
