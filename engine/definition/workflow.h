// The compiled, immutable model of one process file (one workflow version). Built by the loader
// (definition/loader.h) and shared read-only by the engine, plugins, CLI and audit.
// docs/process-files.md documents the file format this is compiled from.
// Thread-safety: immutable after loading; share as std::shared_ptr<const Workflow>.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "definition/expr.h"
#include "definition/value.h"
#include "util/error.h"

namespace flowgate {

// [data.<field>]
struct FieldDef {
  std::string name;
  Type type = Type::kString;
  bool required = false;
  std::optional<Value> default_value;
  std::optional<Value> min;  // numeric/date/datetime/duration bound, or min length for strings
  std::optional<Value> max;
  std::string pattern;                   // ECMAScript regex for strings; empty = none
  std::vector<std::string> enum_values;  // members when type == kEnum
  std::string currency;                  // ISO 4217 code when type == kMoney (optional)
  std::string description;
  SourceLocation where;
};

// [roles] — role id = "description"
struct RoleDef {
  std::string id;
  std::string description;
  SourceLocation where;
};

// [states.<id>]
struct StateDef {
  std::string id;
  std::string name;   // display name; defaults to id
  std::string stage;  // grouping for diagrams and reports (e.g. "ML", "MO", "MCE"); may be empty
  std::string owner;  // owner role id; may be empty
  bool terminal = false;
  std::string description;
  SourceLocation where;
};

// One `set` assignment: data.<field> = <expression>, evaluated with the command's payload.
struct Assignment {
  std::string field;
  std::size_t field_index = 0;  // slot in Workflow::fields
  Expression value;
  SourceLocation where;
};

// A field the command payload of a transition may (or must) carry: `payload = { reason = "string",
// amount = "money?" }` — a trailing "?" marks it optional.
struct PayloadField {
  std::string name;
  Type type = Type::kString;
  bool required = true;
  std::vector<std::string> enum_values;  // for "enum(a|b|c)"
};

// [[transitions]]
struct TransitionDef {
  std::size_t index = 0;          // position in the file, 0-based; stable id within a version
  std::vector<std::string> from;  // explicit source states (empty when from_any)
  bool from_any = false;          // from = "*": every non-terminal state
  std::string to;
  std::string event;
  std::optional<Expression> guard;
  std::vector<std::string> roles;  // roles allowed to fire it; empty = anyone
  std::vector<Assignment> set;
  std::vector<PayloadField> payload;
  int priority = 0;  // higher wins where guards overlap
  std::string gate;  // gate id (stage-gate plugin); empty = none
  std::string description;
  SourceLocation where;

  bool leaves(const std::string& state) const;  // true if `state` is a source of this transition
};

struct Workflow {
  // [workflow]
  std::string id;
  std::string name;
  int version = 1;
  std::string initial;
  std::string description;

  std::string file;          // path it was loaded from ("" for text)
  std::string source_text;   // the exact file contents
  std::string content_hash;  // lowercase hex SHA-256 of source_text

  std::vector<FieldDef> fields;
  std::vector<RoleDef> roles;
  std::vector<StateDef> states;
  std::vector<TransitionDef> transitions;

  // Compiled plugin sections, by plugin name (see definition/section_registry.h).
  std::map<std::string, std::shared_ptr<const void>> extensions;

  // Lookups (built by the loader).
  const FieldDef* field(std::string_view name) const;
  std::optional<std::size_t> field_index(std::string_view name) const;
  const StateDef* state(std::string_view id) const;
  bool has_role(std::string_view id) const;
  // Transitions that leave `state` on `event`, highest priority first, then file order.
  std::vector<const TransitionDef*> candidates(std::string_view state,
                                               std::string_view event) const;
  // Distinct events that have a transition leaving `state`, sorted.
  std::vector<std::string> events_from(std::string_view state) const;
  // The Scope expressions are compiled against (data fields in `fields` order).
  Scope data_scope() const;

  template <typename T>
  const T* extension(const std::string& plugin) const {
    auto it = extensions.find(plugin);
    return it == extensions.end() ? nullptr : static_cast<const T*>(it->second.get());
  }

  // Filled by finalize(): indexes for the lookups above.
  void finalize();

 private:
  std::unordered_map<std::string, std::size_t> field_by_name_;
  std::unordered_map<std::string, std::size_t> state_by_id_;
  // (state, event) → transition indexes, ordered by priority desc then index.
  std::map<std::pair<std::string, std::string>, std::vector<std::size_t>, std::less<>>
      by_source_event_;
};

}  // namespace flowgate
