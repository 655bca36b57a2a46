// Builds the core model from the parsed document: [workflow], [roles], [states.*],
// [[transitions]] (structure only; expressions are compiled in validate_expressions.cpp) and the
// check that every other top-level section is claimed by a plugin.
#include <algorithm>
#include <limits>

#include <fmt/format.h>

#include "definition/loader_internal.h"

namespace flowgate::loader {

namespace {

constexpr std::string_view kCoreSections[] = {"workflow", "roles", "data", "states", "transitions"};

bool before(const SourceLocation& a, const SourceLocation& b) {
  return std::tie(a.line, a.column) < std::tie(b.line, b.column);
}

// A non-empty string at `key`, or nullopt after reporting.
std::optional<std::string> read_text(Context& cx, const toml::table& t, std::string_view key,
                                     std::string_view owner, Need need,
                                     const SourceLocation& missing_at) {
  auto s = read_string(cx, t, key, owner, need, missing_at);
  if (s && s->empty()) {
    cx.error(rule::kValueInvalid, cx.at(*t.get(key)),
             fmt::format("'{}' in {} must not be empty", key, owner));
    return std::nullopt;
  }
  return s;
}

}  // namespace

std::string describe_transition(const LoadState& st, std::size_t index) {
  if (index < st.wf.transitions.size() && st.wf.transitions[index].where.line > 0) {
    return fmt::format("[[transitions]] #{} (line {})", index + 1,
                       st.wf.transitions[index].where.line);
  }
  return fmt::format("[[transitions]] #{}", index + 1);
}

void read_workflow_section(LoadState& st) {
  Context& cx = st.cx;
  Workflow& wf = st.wf;
  st.workflow_at = cx.at(1, 1);
  const toml::node* node = st.root.get("workflow");
  if (node == nullptr) {
    cx.error(rule::kKeyMissing, st.workflow_at, "the file has no [workflow] table",
             "start with [workflow] giving id, name, version and initial");
    return;
  }
  const toml::table* t = node->as_table();
  if (t == nullptr) {
    report_type(cx, *node, "workflow", "the file", "a table", "write it as a [workflow] section");
    return;
  }
  st.workflow_at = cx.at_table(*t, cx.at(*node));
  const std::string_view owner = "[workflow]";
  check_keys(cx, *t, {"id", "name", "version", "initial", "description"}, owner);
  if (auto id = read_string(cx, *t, "id", owner, Need::kRequired, st.workflow_at)) {
    if (check_id(cx, *id, IdKind::kWorkflow, "workflow id", cx.at(*t->get("id")))) wf.id = *id;
  }
  if (auto name = read_text(cx, *t, "name", owner, Need::kRequired, st.workflow_at))
    wf.name = *name;
  if (auto version = read_int(cx, *t, "version", owner, Need::kRequired, st.workflow_at)) {
    if (*version < 1 || *version > std::numeric_limits<int>::max()) {
      cx.error(rule::kValueInvalid, cx.at(*t->get("version")),
               fmt::format("version must be a positive integer, not {}", *version),
               "number versions 1, 2, 3, ... as the process changes");
    } else {
      wf.version = static_cast<int>(*version);
    }
  }
  if (auto initial = read_string(cx, *t, "initial", owner, Need::kRequired, st.workflow_at)) {
    wf.initial = *initial;
    st.initial = t->get("initial");
  }
  if (auto d = read_string(cx, *t, "description", owner, Need::kOptional, {})) wf.description = *d;
}

void read_roles(LoadState& st) {
  Context& cx = st.cx;
  st.roles_table = st.root.contains("roles");
  const toml::table* t = top_level_table(
      cx, st.root, "roles", "write [roles] with one line per role: AR = \"Account responsible\"");
  if (t == nullptr) return;
  for (auto&& [key, value] : *t) {
    if (!check_id(cx, key.str(), IdKind::kRole, "role id", cx.at(key))) continue;
    const auto* description = value.as_string();
    if (description == nullptr) {
      report_type(cx, value, key.str(), "[roles]", "a string (the role's description)",
                  fmt::format("write {} = \"what this role does\"", key.str()));
      continue;
    }
    st.wf.roles.push_back({std::string(key.str()), description->get(), cx.at(key)});
  }
  std::sort(st.wf.roles.begin(), st.wf.roles.end(),
            [](const RoleDef& a, const RoleDef& b) { return before(a.where, b.where); });
}

void read_states(LoadState& st) {
  Context& cx = st.cx;
  const toml::node* node = st.root.get("states");
  if (node == nullptr) {
    cx.error(rule::kKeyMissing, st.workflow_at, "the file declares no states",
             "add one [states.<id>] table per state");
    return;
  }
  const toml::table* all = node->as_table();
  if (all == nullptr) {
    report_type(cx, *node, "states", "the file", "a table",
                "write one [states.<id>] table per state");
    return;
  }
  if (all->empty()) {
    cx.error(rule::kKeyMissing, cx.at_table(*all, cx.at(*node)), "[states] declares no states",
             "add one [states.<id>] table per state");
    return;
  }
  std::vector<std::pair<StateDef, const toml::node*>> states;
  for (auto&& [key, value] : *all) {
    std::string id(key.str());
    const std::string owner = fmt::format("[states.{}]", id);
    // An invalid id is reported once; the state is kept so references to it do not cascade.
    check_id(cx, id, IdKind::kName, "state id", cx.at(key));
    const toml::table* t = value.as_table();
    if (t == nullptr) {
      report_type(cx, value, id, "[states]", "a table", fmt::format("write [states.{}]", id));
      continue;
    }
    check_keys(cx, *t, {"name", "stage", "owner", "terminal", "description"}, owner);
    StateDef s;
    s.id = id;
    s.where = cx.at(key);
    s.name = read_text(cx, *t, "name", owner, Need::kOptional, {}).value_or(id);
    s.stage = read_string(cx, *t, "stage", owner, Need::kOptional, {}).value_or("");
    const toml::node* owner_node = nullptr;
    if (auto role = read_text(cx, *t, "owner", owner, Need::kOptional, {})) {
      s.owner = *role;
      owner_node = t->get("owner");
    }
    s.terminal = read_bool(cx, *t, "terminal", owner, Need::kOptional, {}).value_or(false);
    s.description = read_string(cx, *t, "description", owner, Need::kOptional, {}).value_or("");
    states.emplace_back(std::move(s), owner_node);
  }
  std::sort(states.begin(), states.end(),
            [](const auto& a, const auto& b) { return before(a.first.where, b.first.where); });
  for (auto& [s, owner_node] : states) {
    st.wf.states.push_back(std::move(s));
    st.owners.push_back(owner_node);
  }
}

namespace {

// `from`: one state id, a list of state ids, or "*".
void read_from(LoadState& st, const toml::table& t, const std::string& owner,
               const SourceLocation& where, TransitionDef& tr, TransitionNodes& nodes) {
  Context& cx = st.cx;
  const toml::node* from = t.get("from");
  if (from == nullptr) {
    cx.error(
        rule::kKeyMissing, where, fmt::format("{} is missing the required key 'from'", owner),
        "from = \"state\", from = [\"a\", \"b\"], or from = \"*\" for every non-terminal state");
    return;
  }
  if (const auto* s = from->as_string()) {
    if (s->get() == "*") {
      tr.from_any = true;
    } else {
      tr.from.push_back(s->get());
      nodes.from_items.push_back(from);
    }
    return;
  }
  const toml::array* list = from->as_array();
  if (list == nullptr) {
    report_type(cx, *from, "from", owner, "a state id or a list of state ids");
    return;
  }
  if (list->empty()) {
    cx.error(rule::kValueInvalid, cx.at(*from), fmt::format("'from' in {} is an empty list", owner),
             "name at least one source state, or use \"*\"");
    return;
  }
  for (auto& [state, item] : read_distinct_strings(cx, *list, "from", owner, "state")) {
    if (state == "*") {
      cx.error(rule::kValueInvalid, cx.at(*item),
               "\"*\" cannot be combined with other states in 'from'",
               "write from = \"*\" on its own");
      continue;
    }
    tr.from.push_back(std::move(state));
    nodes.from_items.push_back(item);
  }
}

void read_roles_list(LoadState& st, const toml::table& t, const std::string& owner,
                     TransitionDef& tr, TransitionNodes& nodes) {
  Context& cx = st.cx;
  const toml::node* roles = t.get("roles");
  if (roles == nullptr) return;
  const toml::array* list = roles->as_array();
  if (list == nullptr) {
    report_type(cx, *roles, "roles", owner, "a list of role ids",
                roles->is_string()
                    ? fmt::format("write roles = [\"{}\"]", roles->as_string()->get())
                    : std::string());
    return;
  }
  for (auto& [role, item] : read_distinct_strings(cx, *list, "roles", owner, "role")) {
    tr.roles.push_back(std::move(role));
    nodes.role_items.push_back(item);
  }
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

const std::vector<std::string>& payload_type_names() {
  static const std::vector<std::string> names = {
      "string", "int", "decimal", "money", "bool", "date", "datetime", "duration", "enum(a|b)"};
  return names;
}

// "money?", "enum(web|phone)": the payload field type grammar.
void read_payload_field(LoadState& st, std::string_view name, const toml::node& spec_node,
                        const std::string& owner, TransitionDef& tr) {
  Context& cx = st.cx;
  const auto* spec_string = spec_node.as_string();
  if (spec_string == nullptr) {
    report_type(cx, spec_node, name, owner + " payload",
                "a type name such as \"string\" or \"money?\"");
    return;
  }
  PayloadField field;
  field.name = std::string(name);
  std::string_view spec = trim(spec_string->get());
  if (spec.ends_with('?')) {
    field.required = false;
    spec = trim(spec.substr(0, spec.size() - 1));
  }
  if (spec.starts_with("enum")) {
    std::string_view rest = trim(spec.substr(4));
    if (rest.size() < 2 || rest.front() != '(' || rest.back() != ')') {
      cx.error(rule::kPayloadTypeUnknown, cx.at(spec_node),
               fmt::format("payload field '{}' has the type \"{}\": enums list their members", name,
                           spec_string->get()),
               "write \"enum(web|phone|chat)\"");
      return;
    }
    rest = rest.substr(1, rest.size() - 2);
    std::size_t start = 0;
    while (start <= rest.size()) {
      std::size_t bar = rest.find('|', start);
      if (bar == std::string_view::npos) bar = rest.size();
      std::string member(trim(rest.substr(start, bar - start)));
      if (member.empty()) {
        cx.error(rule::kPayloadTypeUnknown, cx.at(spec_node),
                 fmt::format("payload field '{}' has an empty enum member in \"{}\"", name,
                             spec_string->get()),
                 "write \"enum(web|phone|chat)\"");
        return;
      }
      if (std::find(field.enum_values.begin(), field.enum_values.end(), member) !=
          field.enum_values.end()) {
        cx.error(rule::kIdDuplicate, cx.at(spec_node),
                 fmt::format("payload field '{}' lists the enum member '{}' twice", name, member));
        return;
      }
      field.enum_values.push_back(std::move(member));
      start = bar + 1;
    }
    field.type = Type::kEnum;
  } else {
    auto type = parse_type_name(spec);
    if (!type || *type == Type::kNull || *type == Type::kEnum) {
      std::string hint = cx.did_you_mean(spec, payload_type_names());
      if (hint.empty()) {
        hint =
            "types: string, int, decimal, money, bool, date, datetime, duration, enum(a|b); "
            "append ? for an optional field";
      }
      cx.error(
          rule::kPayloadTypeUnknown, cx.at(spec_node),
          fmt::format("payload field '{}' has an unknown type \"{}\"", name, spec_string->get()),
          std::move(hint));
      return;
    }
    field.type = *type;
  }
  tr.payload.push_back(std::move(field));
}

void read_payload(LoadState& st, const toml::table& t, const std::string& owner,
                  TransitionDef& tr) {
  Context& cx = st.cx;
  const toml::node* payload = t.get("payload");
  if (payload == nullptr) return;
  const toml::table* fields = payload->as_table();
  if (fields == nullptr) {
    report_type(cx, *payload, "payload", owner, "a table of field = \"type\"",
                "payload = { reason = \"string\", amount = \"money?\" }");
    return;
  }
  std::vector<std::pair<SourceLocation, const toml::key*>> keys;
  for (auto&& [key, value] : *fields) keys.emplace_back(cx.at(key), &key);
  std::sort(keys.begin(), keys.end(),
            [](const auto& a, const auto& b) { return before(a.first, b.first); });
  for (const auto& [where, key] : keys) {
    if (!check_id(cx, key->str(), IdKind::kName, "payload field", where)) continue;
    read_payload_field(st, key->str(), *fields->get(key->str()), owner, tr);
  }
}

void read_transition(LoadState& st, const toml::node& element, std::size_t index) {
  Context& cx = st.cx;
  TransitionDef tr;
  TransitionNodes nodes;
  tr.index = index;
  tr.where = cx.at(element);
  const toml::table* t = element.as_table();
  if (t == nullptr) {
    report_type(cx, element, "transitions", "the file", "a list of tables",
                "write each transition as a [[transitions]] section");
    st.wf.transitions.push_back(std::move(tr));
    st.tnodes.push_back(nodes);
    return;
  }
  tr.where = cx.at_table(*t, cx.at(element));
  st.wf.transitions.push_back(tr);  // so describe_transition() can name it while reading
  const std::string owner = describe_transition(st, index);
  nodes.table = t;
  check_keys(cx, *t,
             {"from", "to", "event", "guard", "roles", "payload", "set", "priority", "gate",
              "description"},
             owner);
  read_from(st, *t, owner, tr.where, tr, nodes);
  if (auto to = read_string(cx, *t, "to", owner, Need::kRequired, tr.where)) {
    tr.to = *to;
    nodes.to = t->get("to");
  }
  if (auto event = read_string(cx, *t, "event", owner, Need::kRequired, tr.where)) {
    if (check_id(cx, *event, IdKind::kName, "event", cx.at(*t->get("event")))) {
      tr.event = *event;
      nodes.event = t->get("event");
    }
  }
  if (const toml::node* guard = t->get("guard")) {
    if (guard->is_string()) {
      nodes.guard = guard;
    } else {
      report_type(cx, *guard, "guard", owner, "a string holding an expression",
                  "guard = \"amount >= 100000\"");
    }
  }
  read_roles_list(st, *t, owner, tr, nodes);
  read_payload(st, *t, owner, tr);
  if (const toml::node* set = t->get("set")) {
    if (set->is_table()) {
      nodes.set = set->as_table();
    } else {
      report_type(cx, *set, "set", owner, "a table of field = expression",
                  "set = { amount = \"event.amount\", approved = true }");
    }
  }
  if (auto priority = read_int(cx, *t, "priority", owner, Need::kOptional, {})) {
    if (*priority < std::numeric_limits<int>::min() ||
        *priority > std::numeric_limits<int>::max()) {
      cx.error(rule::kValueInvalid, cx.at(*t->get("priority")),
               fmt::format("priority {} is out of range", *priority),
               "priorities are small integers; higher wins");
    } else {
      tr.priority = static_cast<int>(*priority);
    }
  }
  if (auto gate = read_text(cx, *t, "gate", owner, Need::kOptional, {})) {
    tr.gate = *gate;
    nodes.gate = t->get("gate");
  }
  tr.description = read_string(cx, *t, "description", owner, Need::kOptional, {}).value_or("");
  st.wf.transitions.back() = std::move(tr);
  st.tnodes.push_back(std::move(nodes));
}

}  // namespace

void read_transitions(LoadState& st) {
  Context& cx = st.cx;
  const toml::node* node = st.root.get("transitions");
  if (node == nullptr) return;
  const toml::array* list = node->as_array();
  if (list == nullptr) {
    report_type(cx, *node, "transitions", "the file", "a list of tables",
                "write each transition as a [[transitions]] section (double brackets)");
    return;
  }
  for (std::size_t i = 0; i < list->size(); ++i) read_transition(st, *list->get(i), i);
}

void check_sections(LoadState& st, const std::vector<std::string>& claimed) {
  Context& cx = st.cx;
  std::vector<std::string> known(std::begin(kCoreSections), std::end(kCoreSections));
  known.insert(known.end(), claimed.begin(), claimed.end());
  for (auto&& [key, value] : st.root) {
    if (std::find(known.begin(), known.end(), key.str()) != known.end()) continue;
    std::string hint = cx.did_you_mean(key.str(), known);
    if (hint.empty()) {
      hint = fmt::format("known sections: {}; a plugin's sections are known once it is loaded",
                         fmt::join(known, ", "));
    }
    cx.error(
        rule::kSectionUnknown, cx.at(key),
        fmt::format("unknown top-level {} '{}'", value.is_table() ? "section" : "key", key.str()),
        std::move(hint));
  }
}

}  // namespace flowgate::loader
