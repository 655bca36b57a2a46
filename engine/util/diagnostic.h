// A finding about a process file (or a scenario file): an error or a lint warning with a rule id,
// a location and a hint. Rendered as `file:line:col: error[RULE-ID]: message` + an indented hint,
// or as JSON. Thread-safety: plain values.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace flowgate {

enum class Severity { kError, kWarning };

struct Diagnostic {
  Severity severity = Severity::kError;
  std::string rule;  // stable id, e.g. "TRANSITION-UNKNOWN-STATE"; docs/process-files.md lists them
  std::string message;
  std::string hint;  // may be empty
  SourceLocation location;

  std::string to_string() const;
  nlohmann::json to_json() const;
};

class Diagnostics {
 public:
  void error(std::string rule, SourceLocation where, std::string message, std::string hint = {});
  void warning(std::string rule, SourceLocation where, std::string message, std::string hint = {});
  void add(Diagnostic d) { items_.push_back(std::move(d)); }
  void append(const Diagnostics& other);

  bool has_errors() const;
  std::size_t error_count() const;
  std::size_t warning_count() const;
  const std::vector<Diagnostic>& items() const { return items_; }
  bool empty() const { return items_.empty(); }

  // Sorts by file, line, column (stable), so output is deterministic.
  void sort();

 private:
  std::vector<Diagnostic> items_;
};

// "did you mean" helper: the candidate closest to `word` by edit distance, or "" if none is
// close enough (distance <= max(1, word.size()/3)).
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace flowgate
