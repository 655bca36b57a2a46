// The rules of [data] fields applied at run time: parsing a JSON value into the field's type and
// checking required, bounds, pattern and enum membership. Errors name the field and the rule.
// Thread-safety: reentrant (compiled patterns are cached per thread).
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "definition/value.h"
#include "definition/workflow.h"
#include "util/error.h"

namespace flowgate {

// Parses `j` as a value of `field` (null → unset) and checks bounds, pattern and enum membership.
Result<Value> parse_field_value(const FieldDef& field, const nlohmann::json& j);
// Checks bounds, pattern and enum membership of an already typed value (null passes).
Result<void> check_field_value(const FieldDef& field, const Value& v);
// Re-tags a value computed by an expression to the field's type: a string constant assigned to an
// enum field becomes a member, an int assigned to a decimal or money field becomes its units, and
// decimal and money convert into each other. Other values pass unchanged.
Value coerce_to_field(const FieldDef& field, Value v);

// Every required field is set.
Result<void> check_required(const Workflow& wf, const std::vector<Value>& data);

// Parses a command payload against a transition's declared payload fields, into slots in
// declaration order. Unknown fields, missing required ones and wrong types are kInvalidPayload.
Result<std::vector<Value>> parse_payload(const TransitionDef& t, const nlohmann::json& payload);

}  // namespace flowgate
