// How plugins claim top-level sections of a process file ([sla.*], [ola.*], [calendars.*],
// [gates.*], ...). The loader builds the core model first, then hands the whole document to each
// handler whose sections appear; a top-level section no handler claims is an error.
// Thread-safety: register handlers before loading; lookups are then read-only.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "definition/workflow.h"
#include "util/diagnostic.h"

namespace flowgate {

class SectionHandler {
 public:
  virtual ~SectionHandler() = default;
  // Plugin name; the key of Workflow::extensions it fills.
  virtual std::string name() const = 0;
  // Top-level keys it claims, e.g. {"sla", "ola", "calendars"}.
  virtual std::vector<std::string> sections() const = 0;
  // Parses and validates its sections of `root` against the core model `wf` (fields, states,
  // transitions are final). Reports problems to `diags` with locations in `file`. Returns the
  // compiled configuration stored in Workflow::extensions[name()], or nullptr when it has nothing.
  virtual std::shared_ptr<const void> compile(const toml::table& root, const Workflow& wf,
                                              const std::string& file,
                                              Diagnostics& diags) const = 0;
};

class SectionRegistry {
 public:
  void add(std::shared_ptr<const SectionHandler> handler);
  const SectionHandler* find(std::string_view section) const;
  const std::vector<std::shared_ptr<const SectionHandler>>& handlers() const { return handlers_; }
  std::vector<std::string> claimed_sections() const;

 private:
  std::vector<std::shared_ptr<const SectionHandler>> handlers_;
};

}  // namespace flowgate
