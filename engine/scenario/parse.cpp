// Scenario files: TOML → the model of scenario.h, every problem a diagnostic with the position
// toml++ gives. The checks that need the workflow (states, events, fields, roles, clocks, gates)
// run against the definition the file names, so a scenario never reaches the engine with a typo.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "definition/loader.h"
#include "definition/value.h"
#include "scenario/scenario.h"
#include "scenario/toml_json.h"

namespace flowgate::scenario {
namespace {

using nlohmann::json;

namespace rule {
constexpr const char* kToml = "SCENARIO-TOML";
constexpr const char* kFile = "SCENARIO-FILE";
constexpr const char* kWorkflow = "SCENARIO-WORKFLOW";
constexpr const char* kKeyUnknown = "SCENARIO-KEY-UNKNOWN";
constexpr const char* kKeyMissing = "SCENARIO-KEY-MISSING";
constexpr const char* kValueType = "SCENARIO-VALUE-TYPE";
constexpr const char* kStateUnknown = "SCENARIO-STATE-UNKNOWN";
constexpr const char* kEventUnknown = "SCENARIO-EVENT-UNKNOWN";
constexpr const char* kRoleUnknown = "SCENARIO-ROLE-UNKNOWN";
constexpr const char* kFieldUnknown = "SCENARIO-FIELD-UNKNOWN";
constexpr const char* kClockUnknown = "SCENARIO-CLOCK-UNKNOWN";
constexpr const char* kGateUnknown = "SCENARIO-GATE-UNKNOWN";
constexpr const char* kCriterionUnknown = "SCENARIO-CRITERION-UNKNOWN";
constexpr const char* kClockBackwards = "SCENARIO-CLOCK-BACKWARDS";
constexpr const char* kStep = "SCENARIO-STEP";
constexpr const char* kEmpty = "SCENARIO-EMPTY";
constexpr const char* kNameDuplicate = "SCENARIO-NAME-DUPLICATE";
}  // namespace rule

const std::vector<std::string> kLifecycles = {"active", "suspended", "awaiting_gate", "completed",
                                              "cancelled"};
const std::vector<std::string> kClockStatuses = {"pending", "running", "paused", "completed",
                                                 "cancelled"};
const std::vector<std::string> kDecisions = {"go", "kill", "hold", "recycle"};
const std::vector<std::string> kCoreEvents = {
    events::kInstanceStarted, events::kTransitioned, events::kDataChanged, events::kSuspended,
    events::kResumed,         events::kCancelled,    events::kCompleted,   events::kMigrated};
constexpr ErrorCode kAllCodes[] = {ErrorCode::kInvalidArgument,
                                   ErrorCode::kInvalidDefinition,
                                   ErrorCode::kNotFound,
                                   ErrorCode::kWorkflowNotFound,
                                   ErrorCode::kVersionNotFound,
                                   ErrorCode::kInstanceNotFound,
                                   ErrorCode::kEventNotAllowed,
                                   ErrorCode::kGuardFailed,
                                   ErrorCode::kForbidden,
                                   ErrorCode::kVersionConflict,
                                   ErrorCode::kInvalidPayload,
                                   ErrorCode::kDuplicateBusinessKey,
                                   ErrorCode::kLifecycle,
                                   ErrorCode::kInvalidMigration,
                                   ErrorCode::kInvalidData,
                                   ErrorCode::kEvaluation,
                                   ErrorCode::kDuplicateRequest,
                                   ErrorCode::kGate,
                                   ErrorCode::kClock,
                                   ErrorCode::kStorage,
                                   ErrorCode::kDatabaseLocked,
                                   ErrorCode::kNotADatabase,
                                   ErrorCode::kSchemaTooNew,
                                   ErrorCode::kDiskFull,
                                   ErrorCode::kUnavailable,
                                   ErrorCode::kInternal};

// Which keys each step kind takes besides its action key and `expect`.
const std::map<StepKind, std::vector<std::string>> kStepKeys = {
    {StepKind::kStart, {"as", "key", "version"}},
    {StepKind::kFire, {"as", "payload"}},
    {StepKind::kUpdate, {"as", "unset"}},
    {StepKind::kVote,
     {"as", "answers", "scores", "reason", "revisit_on", "payload", "role", "gate", "round"}},
    {StepKind::kRecall, {"as", "gate", "round"}},
    {StepKind::kSuspend, {"as"}},
    {StepKind::kResume, {"as"}},
    {StepKind::kCancel, {"as"}},
    {StepKind::kAdvance, {}},
};
const std::vector<std::pair<std::string, StepKind>> kActions = {
    {"start", StepKind::kStart},     {"fire", StepKind::kFire},
    {"update", StepKind::kUpdate},   {"vote", StepKind::kVote},
    {"recall", StepKind::kRecall},   {"suspend", StepKind::kSuspend},
    {"resume", StepKind::kResume},   {"cancel", StepKind::kCancel},
    {"advance", StepKind::kAdvance}, {"advance_to", StepKind::kAdvance}};

std::string quoted_list(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "'" : ", '") + i + "'";
  return out;
}

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
  std::string close = closest_match(word, candidates);
  if (!close.empty()) return fmt::format("did you mean '{}'?", close);
  if (candidates.empty()) return {};
  if (candidates.size() > 12) return {};
  return "one of " + quoted_list(candidates);
}

class Parser {
 public:
  Parser(std::string path, const SectionRegistry& sections, Diagnostics& diags)
      : path_(std::move(path)), sections_(sections), diags_(diags) {}

  std::optional<ScenarioFile> parse(std::string_view text) {
    toml::table root;
    try {
      root = toml::parse(text, path_);
    } catch (const toml::parse_error& e) {
      error(rule::kToml, at(e.source().begin), std::string(e.description()));
      return std::nullopt;
    } catch (const std::exception& e) {
      error(rule::kToml, {path_, 1, 1}, fmt::format("the file could not be parsed: {}", e.what()));
      return std::nullopt;
    }
    check_keys(root, {"workflow", "start_time", "description", "scenario"}, "the scenario file");
    ScenarioFile file;
    file.path = path_;
    if (!load_workflow(root, file)) return std::nullopt;
    wf_ = file.workflow.get();
    facts_ = &file.facts;
    for (const auto& r : wf_->roles) roles_.push_back(r.id);
    for (const auto& s : wf_->states) states_.push_back(s.id);
    for (const auto& f : wf_->fields) fields_.push_back(f.name);
    std::set<std::string> seen_events;
    for (const auto& t : wf_->transitions) seen_events.insert(t.event);
    events_.assign(seen_events.begin(), seen_events.end());

    std::optional<std::int64_t> default_start;
    if (const auto* n = root.get("start_time")) default_start = datetime_of(*n, "start_time");

    const auto* scenarios = root.get("scenario");
    if (scenarios == nullptr || !scenarios->is_array_of_tables() ||
        scenarios->as_array()->empty()) {
      error(rule::kEmpty, scenarios ? at(*scenarios) : SourceLocation{path_, 1, 1},
            "the file has no [[scenario]]",
            "add `[[scenario]]` tables, each with a `name` and `[[scenario.step]]` steps");
      return std::nullopt;
    }
    std::set<std::string> names;
    for (const auto& node : *scenarios->as_array()) {
      const auto& table = *node.as_table();
      Scenario s = parse_scenario(table, default_start);
      if (!s.name.empty() && !names.insert(s.name).second) {
        error(rule::kNameDuplicate, s.where, fmt::format("two scenarios are named '{}'", s.name),
              "scenario names identify failures: make each one unique in the file");
      }
      file.scenarios.push_back(std::move(s));
    }
    if (diags_.has_errors()) return std::nullopt;
    return file;
  }

 private:
  // --- diagnostics and positions ---
  SourceLocation at(const toml::source_position& p) const {
    return {path_, static_cast<int>(p.line), static_cast<int>(p.column)};
  }
  SourceLocation at(const toml::node& n) const { return at(n.source().begin); }
  SourceLocation at(const toml::key& k) const { return at(k.source().begin); }
  void error(const char* r, SourceLocation where, std::string message, std::string hint = {}) {
    diags_.error(r, std::move(where), std::move(message), std::move(hint));
  }

  void check_keys(const toml::table& t, const std::vector<std::string>& allowed,
                  std::string_view owner) {
    for (const auto& [k, v] : t) {
      std::string key(k.str());
      if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
      error(rule::kKeyUnknown, at(k), fmt::format("{} has no key '{}'", owner, key),
            did_you_mean(key, allowed));
    }
  }

  // --- typed getters: each reports a wrong type and returns nullopt ---
  std::optional<std::string> string_of(const toml::node& n, std::string_view what) {
    if (auto s = n.value<std::string>()) return *s;
    error(rule::kValueType, at(n), fmt::format("{} must be a string", what));
    return std::nullopt;
  }
  std::optional<std::int64_t> int_of(const toml::node& n, std::string_view what) {
    if (n.is_integer()) return n.value<std::int64_t>();
    error(rule::kValueType, at(n), fmt::format("{} must be an integer", what));
    return std::nullopt;
  }
  std::optional<bool> bool_of(const toml::node& n, std::string_view what) {
    if (n.is_boolean()) return n.value<bool>();
    error(rule::kValueType, at(n), fmt::format("{} must be true or false", what));
    return std::nullopt;
  }
  const toml::table* table_of(const toml::node& n, std::string_view what) {
    if (const auto* t = n.as_table()) return t;
    error(rule::kValueType, at(n), fmt::format("{} must be a table", what));
    return nullptr;
  }
  std::optional<std::vector<std::string>> strings_of(const toml::node& n, std::string_view what) {
    const auto* a = n.as_array();
    std::vector<std::string> out;
    if (a) {
      for (const auto& item : *a) {
        auto s = item.value<std::string>();
        if (!s) {
          a = nullptr;
          break;
        }
        out.push_back(*s);
      }
    }
    if (a) return out;
    error(rule::kValueType, at(n), fmt::format("{} must be a list of strings", what));
    return std::nullopt;
  }
  std::optional<std::int64_t> duration_of(const toml::node& n, std::string_view what) {
    auto s = n.value<std::string>();
    std::optional<std::int64_t> ms = s ? parse_duration_ms(*s) : std::nullopt;
    if (ms && *ms >= 0) return ms;
    error(rule::kValueType, at(n),
          fmt::format("{} must be a duration such as \"90m\", \"4h30m\" or \"2d\"", what));
    return std::nullopt;
  }
  std::optional<std::int64_t> datetime_of(const toml::node& n, std::string_view what) {
    json j = toml_to_json(n);
    std::optional<std::int64_t> ms =
        j.is_string() ? parse_datetime_ms(j.get<std::string>()) : std::nullopt;
    if (ms) return ms;
    error(
        rule::kValueType, at(n),
        fmt::format("{} must be a date-time with a UTC offset, such as 2026-03-09T08:00:00Z", what),
        n.is_date_time() ? "a local date-time has no zone: add `Z` or an offset like `+01:00`"
                         : "");
    return std::nullopt;
  }

  // --- workflow ---
  bool load_workflow(const toml::table& root, ScenarioFile& file) {
    const auto* n = root.get("workflow");
    if (n == nullptr) {
      error(rule::kKeyMissing, {path_, 1, 1}, "the scenario file names no workflow",
            "add `workflow = \"../itr.toml\"` (a path relative to this file)");
      return false;
    }
    auto rel = string_of(*n, "`workflow`");
    if (!rel) return false;
    std::filesystem::path p(*rel);
    if (p.is_relative()) p = std::filesystem::path(path_).parent_path() / p;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(p, ec)) {
      error(rule::kWorkflow, at(*n),
            fmt::format("the workflow file '{}' does not exist", p.string()),
            "`workflow` is a path relative to the scenario file");
      return false;
    }
    LoadResult loaded = load_workflow_file(p.lexically_normal().string(), sections_);
    if (!loaded.ok()) {
      error(rule::kWorkflow, at(*n),
            fmt::format("the workflow '{}' has {} error(s); they are listed below", p.string(),
                        loaded.diagnostics.error_count()));
      for (const auto& d : loaded.diagnostics.items()) {
        if (d.severity == Severity::kError) diags_.add(d);
      }
      return false;
    }
    file.workflow = loaded.workflow;
    file.facts = workflow_facts(*loaded.workflow);
    return true;
  }

  // --- scenarios and steps ---
  Scenario parse_scenario(const toml::table& t, std::optional<std::int64_t> default_start) {
    Scenario s;
    s.where = at(t.source().begin);
    check_keys(t, {"name", "description", "start_time", "step"}, "a [[scenario]]");
    if (const auto* n = t.get("name")) {
      if (auto name = string_of(*n, "a scenario's `name`")) s.name = *name;
    } else {
      error(rule::kKeyMissing, s.where, "a [[scenario]] has no `name`",
            "the name is what `flowgate test` prints for it");
    }
    std::optional<std::int64_t> start = default_start;
    if (const auto* n = t.get("start_time")) start = datetime_of(*n, "`start_time`");
    if (!start) {
      error(rule::kKeyMissing, s.where,
            fmt::format("scenario '{}' has no `start_time` (and the file sets none)", s.name),
            "set `start_time = 2026-03-09T08:00:00Z` at the top of the file or in the scenario");
      start = 0;
    }
    s.start_ms = *start;
    now_ms_ = *start;
    started_ = false;
    const auto* steps = t.get("step");
    if (steps == nullptr || !steps->is_array_of_tables() || steps->as_array()->empty()) {
      error(rule::kEmpty, steps ? at(*steps) : s.where,
            fmt::format("scenario '{}' has no steps", s.name),
            "add `[[scenario.step]]` tables, the first one a `start`");
      return s;
    }
    for (const auto& node : *steps->as_array()) {
      auto step = parse_step(*node.as_table());
      if (step) s.steps.push_back(std::move(*step));
    }
    return s;
  }

  std::optional<Step> parse_step(const toml::table& t) {
    Step step;
    step.where = at(t.source().begin);
    const toml::node* action = nullptr;
    std::string action_key;
    for (const auto& [key, kind] : kActions) {
      const auto* n = t.get(key);
      if (n == nullptr) continue;
      if (action != nullptr) {
        error(rule::kStep, at(*n),
              fmt::format("a step does one thing: it has both `{}` and `{}`", action_key, key),
              "split it into two [[scenario.step]] tables");
        return std::nullopt;
      }
      action = n;
      action_key = key;
      step.kind = kind;
    }
    if (action == nullptr) {
      std::vector<std::string> names;
      for (const auto& [k, kind] : kActions) names.push_back(k);
      error(rule::kStep, step.where, "a step names no action",
            "give it one of " + quoted_list(names));
      return std::nullopt;
    }
    std::vector<std::string> allowed = kStepKeys.at(step.kind);
    allowed.push_back(action_key);
    allowed.push_back("expect");
    check_keys(t, allowed, fmt::format("a `{}` step", action_key));
    if (step.kind != StepKind::kStart && step.kind != StepKind::kAdvance && !started_) {
      error(rule::kStep, step.where,
            fmt::format("a `{}` step before any `start`: there is no instance yet", action_key),
            "begin the scenario with a `start` step");
    }

    Command& c = step.command;
    c.actor = actor_of(t.get("as"));
    switch (step.kind) {
      case StepKind::kStart: {
        started_ = true;
        c.kind = CommandKind::kStart;
        c.workflow_id = wf_->id;
        if (const auto* data = table_of(*action, "`start` (the instance's data)")) {
          c.data = data_of(*data);
        }
        if (const auto* k = t.get("key")) c.business_key = string_of(*k, "`key`").value_or("");
        if (const auto* v = t.get("version")) {
          if (auto n = int_of(*v, "`version`")) c.version = static_cast<int>(*n);
        }
        step.label = "start";
        break;
      }
      case StepKind::kFire: {
        c.kind = CommandKind::kFire;
        c.event = string_of(*action, "`fire` (an event)").value_or("");
        step.label = "fire " + c.event;
        if (!c.event.empty() && !known(events_, c.event)) {
          error(rule::kEventUnknown, at(*action),
                fmt::format("workflow '{}' has no event '{}'", wf_->id, c.event),
                did_you_mean(c.event, events_));
        } else if (const auto* p = t.get("payload")) {
          if (const auto* pt = table_of(*p, "`payload`")) c.payload = payload_of(c.event, *pt);
        }
        break;
      }
      case StepKind::kUpdate:
        c.kind = CommandKind::kUpdate;
        if (const auto* data = table_of(*action, "`update` (a data patch)")) {
          c.data = data_of(*data);
        }
        // TOML has no null: `unset = ["field"]` clears fields in the same patch.
        if (const auto* u = t.get("unset")) {
          for (const auto& f : strings_of(*u, "`unset`").value_or(std::vector<std::string>{})) {
            if (!known(fields_, f)) {
              error(rule::kFieldUnknown, at(*u),
                    fmt::format("workflow '{}' has no data field '{}'", wf_->id, f),
                    did_you_mean(f, fields_));
            }
            c.data[f] = nullptr;
          }
        }
        step.label = "update";
        break;
      case StepKind::kVote:
        parse_vote(t, *action, c);
        step.label = "vote " + c.payload.value("decision", std::string());
        break;
      case StepKind::kRecall:
        c.kind = CommandKind::kPlugin;
        c.plugin = "gate";
        c.action = "recall";
        if (auto reason = reason_of(*action, "recall")) c.payload["reason"] = *reason;
        if (const auto* g = t.get("gate")) c.payload["gate"] = gate_id_of(*g);
        if (const auto* r = t.get("round")) c.payload["round"] = int_of(*r, "`round`").value_or(0);
        step.label = "recall";
        break;
      case StepKind::kSuspend:
      case StepKind::kResume:
      case StepKind::kCancel:
        c.kind = step.kind == StepKind::kSuspend  ? CommandKind::kSuspend
                 : step.kind == StepKind::kResume ? CommandKind::kResume
                                                  : CommandKind::kCancel;
        c.reason = reason_of(*action, action_key).value_or("");
        step.label = action_key;
        break;
      case StepKind::kAdvance:
        if (action_key == "advance") {
          step.advance_by_ms = duration_of(*action, "`advance`");
          if (step.advance_by_ms) now_ms_ += *step.advance_by_ms;
          step.label = "advance " + format_duration_ms(step.advance_by_ms.value_or(0));
        } else {
          step.advance_to_ms = datetime_of(*action, "`advance_to`");
          if (step.advance_to_ms && *step.advance_to_ms < now_ms_) {
            error(rule::kClockBackwards, at(*action),
                  fmt::format("the clock cannot go back: it is at {} here, and `advance_to` asks "
                              "for {}",
                              format_datetime_ms(now_ms_), format_datetime_ms(*step.advance_to_ms)),
                  "scenario time only moves forward; reorder the steps or fix the date");
          }
          if (step.advance_to_ms) now_ms_ = std::max(now_ms_, *step.advance_to_ms);
          step.label = "advance_to " + format_datetime_ms(step.advance_to_ms.value_or(0));
        }
        break;
    }
    if (const auto* e = t.get("expect")) {
      if (const auto* et = table_of(*e, "`expect`")) step.expect = parse_expect(*et);
    }
    return step;
  }

  std::optional<std::string> reason_of(const toml::node& n, std::string_view what) {
    if (n.is_boolean() && n.value<bool>().value_or(false)) return std::nullopt;
    if (auto s = n.value<std::string>()) return *s;
    error(rule::kValueType, at(n), fmt::format("`{}` is true or a reason (a string)", what));
    return std::nullopt;
  }

  // `as = "ROLE[,ROLE...][:USER]"`, as the CLI's --as. Absent: "scenario", holding every role.
  Actor actor_of(const toml::node* n) {
    Actor a;
    if (n == nullptr) {
      a.principal = "scenario";
      a.roles = roles_;
      return a;
    }
    auto spec = string_of(*n, "`as` (\"ROLE[,ROLE...][:USER]\")");
    if (!spec) return a;
    std::string roles = *spec;
    if (auto colon = spec->find(':'); colon != std::string::npos) {
      roles = spec->substr(0, colon);
      a.principal = spec->substr(colon + 1);
    }
    std::stringstream ss(roles);
    for (std::string r; std::getline(ss, r, ',');) {
      if (r.empty()) continue;
      if (!roles_.empty() && !known(roles_, r)) {
        error(rule::kRoleUnknown, at(*n),
              fmt::format("workflow '{}' declares no role '{}'", wf_->id, r),
              did_you_mean(r, roles_));
      }
      a.roles.push_back(r);
    }
    if (a.principal.empty()) a.principal = roles;
    return a;
  }

  void parse_vote(const toml::table& t, const toml::node& action, Command& c) {
    c.kind = CommandKind::kPlugin;
    c.plugin = "gate";
    c.action = "vote";
    auto decision = string_of(action, "`vote` (go, kill, hold or recycle)");
    if (decision && !known(kDecisions, *decision)) {
      error(rule::kValueType, at(action), fmt::format("'{}' is not a gate decision", *decision),
            did_you_mean(*decision, kDecisions));
    }
    c.payload["decision"] = decision.value_or("");
    const GateFacts* gate = nullptr;
    if (const auto* g = t.get("gate")) {
      c.payload["gate"] = gate_id_of(*g);
      gate = facts_->gate(c.payload["gate"].get<std::string>());
    }
    auto criteria = [&](const char* key, bool must) {
      const auto* n = t.get(key);
      if (n == nullptr) return;
      const auto* table = table_of(*n, fmt::format("`{}`", key));
      if (table == nullptr) return;
      std::vector<std::string> ids;
      for (const auto& g : facts_->gates) {
        if (gate != nullptr && &g != gate) continue;
        const auto& list = must ? g.must_meet : g.should_meet;
        ids.insert(ids.end(), list.begin(), list.end());
      }
      for (const auto& [k, v] : *table) {
        std::string id(k.str());
        if (!known(ids, id)) {
          error(rule::kCriterionUnknown, at(k),
                fmt::format("no gate{} has a {} criterion '{}'",
                            gate ? " '" + gate->id + "'" : std::string(" of the workflow"),
                            must ? "must-meet" : "should-meet", id),
                did_you_mean(id, ids));
        }
        if (must ? !v.is_boolean() : !v.is_integer()) {
          error(rule::kValueType, at(v),
                fmt::format("the answer to '{}' must be {}", id,
                            must ? "true or false" : "an integer"));
        }
      }
      c.payload[key] = toml_to_json(*n);
    };
    criteria("answers", true);
    criteria("scores", false);
    if (const auto* r = t.get("reason"))
      c.payload["reason"] = string_of(*r, "`reason`").value_or("");
    if (const auto* r = t.get("revisit_on")) {
      json d = toml_to_json(*r);
      if (!d.is_string() || !parse_date_days(d.get<std::string>())) {
        error(rule::kValueType, at(*r), "`revisit_on` must be a date such as 2026-04-01");
      }
      c.payload["revisit_on"] = d;
    }
    if (const auto* r = t.get("role")) {
      auto role = string_of(*r, "`role`").value_or("");
      if (!roles_.empty() && !known(roles_, role)) {
        error(rule::kRoleUnknown, at(*r),
              fmt::format("workflow '{}' declares no role '{}'", wf_->id, role),
              did_you_mean(role, roles_));
      }
      c.payload["role"] = role;
    }
    if (const auto* r = t.get("round")) c.payload["round"] = int_of(*r, "`round`").value_or(0);
    if (const auto* p = t.get("payload")) {
      if (table_of(*p, "`payload`")) c.payload["payload"] = toml_to_json(*p);
    }
  }

  std::string gate_id_of(const toml::node& n) {
    auto id = string_of(n, "`gate`").value_or("");
    auto ids = facts_->gate_ids();
    if (!id.empty() && !known(ids, id)) {
      error(rule::kGateUnknown, at(n), fmt::format("workflow '{}' has no gate '{}'", wf_->id, id),
            did_you_mean(id, ids));
    }
    return id;
  }

  // Data given to start/update, or expected: every key a field, every value of its type.
  json data_of(const toml::table& t) {
    json out = json::object();
    for (const auto& [k, v] : t) {
      std::string name(k.str());
      const FieldDef* f = wf_->field(name);
      if (f == nullptr) {
        error(rule::kFieldUnknown, at(k),
              fmt::format("workflow '{}' has no data field '{}'", wf_->id, name),
              did_you_mean(name, fields_));
        continue;
      }
      json j = toml_to_json(v);
      check_value(j, f->type, f->enum_values, v, fmt::format("field '{}'", name));
      out[name] = std::move(j);
    }
    return out;
  }

  json payload_of(const std::string& event, const toml::table& t) {
    std::map<std::string, const PayloadField*> declared;
    for (const auto& tr : wf_->transitions) {
      if (tr.event != event) continue;
      for (const auto& p : tr.payload) declared.emplace(p.name, &p);
    }
    std::vector<std::string> names;
    for (const auto& [n, p] : declared) names.push_back(n);
    json out = json::object();
    for (const auto& [k, v] : t) {
      std::string name(k.str());
      auto it = declared.find(name);
      json j = toml_to_json(v);
      if (it == declared.end()) {
        error(rule::kFieldUnknown, at(k),
              fmt::format("no transition on '{}' takes a payload field '{}'", event, name),
              names.empty() ? "this event takes no payload" : did_you_mean(name, names));
      } else {
        check_value(j, it->second->type, it->second->enum_values, v,
                    fmt::format("payload field '{}'", name));
      }
      out[name] = std::move(j);
    }
    return out;
  }

  void check_value(const json& j, Type type, const std::vector<std::string>& members,
                   const toml::node& where, const std::string& what) {
    auto v = Value::from_json(j, type);
    if (!v) {
      error(rule::kValueType, at(where),
            fmt::format("{} is of type {}: {} does not fit", what, type_name(type), j.dump()));
      return;
    }
    if (type == Type::kEnum && !members.empty() && !known(members, v->as_string())) {
      error(rule::kValueType, at(where),
            fmt::format("{} is one of {}: '{}' is not", what, quoted_list(members), v->as_string()),
            did_you_mean(v->as_string(), members));
    }
  }

  // --- expectations ---
  Expectation parse_expect(const toml::table& t) {
    Expectation e;
    check_keys(
        t, {"state", "lifecycle", "data", "unset", "events", "allowed", "clocks", "gate", "error"},
        "`expect`");
    if (const auto* n = t.get("state")) {
      e.state = string_of(*n, "`expect.state`");
      if (e.state && !known(states_, *e.state)) {
        error(rule::kStateUnknown, at(*n),
              fmt::format("workflow '{}' has no state '{}'", wf_->id, *e.state),
              did_you_mean(*e.state, states_));
      }
    }
    if (const auto* n = t.get("lifecycle")) {
      e.lifecycle = string_of(*n, "`expect.lifecycle`");
      if (e.lifecycle && !known(kLifecycles, *e.lifecycle)) {
        error(rule::kValueType, at(*n), fmt::format("'{}' is not a lifecycle", *e.lifecycle),
              did_you_mean(*e.lifecycle, kLifecycles));
      }
    }
    if (const auto* n = t.get("data")) {
      if (const auto* dt = table_of(*n, "`expect.data`")) {
        json d = data_of(*dt);
        for (auto& [k, v] : d.items()) {
          // Compare in the field's own JSON form ("1250.50" for money, 3 for an int).
          auto parsed = Value::from_json(v, wf_->field(k)->type);
          e.data[k] = parsed ? parsed->to_json() : v;
        }
      }
    }
    if (const auto* n = t.get("unset")) {
      for (const auto& f : strings_of(*n, "`expect.unset`").value_or(std::vector<std::string>{})) {
        if (!known(fields_, f)) {
          error(rule::kFieldUnknown, at(*n),
                fmt::format("workflow '{}' has no data field '{}'", wf_->id, f),
                did_you_mean(f, fields_));
        }
        e.unset.push_back(f);
      }
    }
    if (const auto* n = t.get("events")) {
      e.events = strings_of(*n, "`expect.events`");
      for (const auto& type : e.events.value_or(std::vector<std::string>{}))
        check_event_type(*n, type);
    }
    if (const auto* n = t.get("allowed")) {
      e.allowed = strings_of(*n, "`expect.allowed`");
      if (e.allowed) {
        for (const auto& ev : *e.allowed) {
          if (!known(events_, ev)) {
            error(rule::kEventUnknown, at(*n),
                  fmt::format("workflow '{}' has no event '{}'", wf_->id, ev),
                  did_you_mean(ev, events_));
          }
        }
        std::sort(e.allowed->begin(), e.allowed->end());
      }
    }
    if (const auto* n = t.get("clocks")) {
      if (const auto* ct = table_of(*n, "`expect.clocks`")) {
        for (const auto& [k, v] : *ct) e.clocks.push_back(parse_clock(std::string(k.str()), k, v));
      }
    }
    if (const auto* n = t.get("gate")) e.gate = parse_gate(*n);
    if (const auto* n = t.get("error")) e.error = error_code_of(*n);
    return e;
  }

  void check_event_type(const toml::node& where, const std::string& type) {
    if (known(kCoreEvents, type)) return;
    auto dot = type.find('.');
    if (dot != std::string::npos && dot > 0 && dot + 1 < type.size()) {
      std::string plugin = type.substr(0, dot);
      for (const auto& h : sections_.handlers()) {
        if (h->name() == plugin) return;
      }
    }
    std::vector<std::string> candidates = kCoreEvents;
    error(
        rule::kEventUnknown, at(where),
        fmt::format("'{}' is not an event type: the core records {} and plugins '<plugin>.<type>'",
                    type, quoted_list(kCoreEvents)),
        did_you_mean(type, candidates));
  }

  ClockExpectation parse_clock(const std::string& id, const toml::key& k, const toml::node& v) {
    ClockExpectation c;
    c.clock = id;
    c.where = at(k);
    auto ids = facts_->clock_ids();
    if (!known(ids, id)) {
      error(rule::kClockUnknown, at(k),
            fmt::format("workflow '{}' has no SLA or OLA clock '{}'", wf_->id, id),
            ids.empty() ? "the workflow defines no [sla] or [ola] clocks" : did_you_mean(id, ids));
    }
    std::vector<std::string> shorthands = kClockStatuses;
    shorthands.push_back("met");
    shorthands.push_back("breached");
    if (auto s = v.value<std::string>()) {
      if (*s == "met") {
        c.status = "completed";
        c.met = true;
      } else if (*s == "breached") {
        c.breached = true;
      } else if (known(kClockStatuses, *s)) {
        c.status = *s;
      } else {
        error(rule::kValueType, at(v), fmt::format("'{}' is not a clock status", *s),
              did_you_mean(*s, shorthands));
      }
      return c;
    }
    const auto* t = v.as_table();
    if (t == nullptr) {
      error(
          rule::kValueType, at(v),
          fmt::format("clock '{}' expects a status ({}) or a table", id, quoted_list(shorthands)));
      return c;
    }
    check_keys(*t,
               {"status", "breached", "met", "time_left", "elapsed", "target", "cycle",
                "planned_breach_at"},
               fmt::format("the expectation of clock '{}'", id));
    if (const auto* n = t->get("status")) {
      c.status = string_of(*n, "`status`");
      if (c.status && !known(kClockStatuses, *c.status)) {
        error(rule::kValueType, at(*n), fmt::format("'{}' is not a clock status", *c.status),
              did_you_mean(*c.status, kClockStatuses));
      }
    }
    if (const auto* n = t->get("breached")) c.breached = bool_of(*n, "`breached`");
    if (const auto* n = t->get("met")) c.met = bool_of(*n, "`met`");
    if (const auto* n = t->get("time_left")) c.time_left_ms = signed_duration_of(*n, "`time_left`");
    if (const auto* n = t->get("elapsed")) c.elapsed_ms = duration_of(*n, "`elapsed`");
    if (const auto* n = t->get("target")) {
      if (auto ms = duration_of(*n, "`target`")) c.target = format_duration_ms(*ms);
    }
    if (const auto* n = t->get("cycle")) c.cycle = int_of(*n, "`cycle`");
    if (const auto* n = t->get("planned_breach_at"))
      c.planned_breach_ms = datetime_of(*n, "`planned_breach_at`");
    return c;
  }

  // A time left may be negative ("-30m") once a clock is past its target.
  std::optional<std::int64_t> signed_duration_of(const toml::node& n, std::string_view what) {
    auto s = n.value<std::string>();
    if (s && s->starts_with("-")) {
      auto ms = parse_duration_ms(s->substr(1));
      if (ms) return -*ms;
    }
    return duration_of(n, what);
  }

  GateExpectation parse_gate(const toml::node& n) {
    GateExpectation g;
    g.where = at(n);
    if (n.is_boolean()) {
      if (n.value<bool>().value_or(true)) {
        error(rule::kValueType, at(n), "`expect.gate = true` says nothing: name the gate",
              "write `gate = \"<gate id>\"` for an open round, `gate = false` for none");
      }
      g.open = "";
      return g;
    }
    if (n.is_string()) {
      g.open = gate_id_of(n);
      return g;
    }
    const auto* t = table_of(n, "`expect.gate` (a gate id, false, or a table)");
    if (t == nullptr) return g;
    check_keys(*t, {"open", "round", "votes", "last"}, "`expect.gate`");
    if (const auto* o = t->get("open")) {
      if (o->is_boolean() && !o->value<bool>().value_or(true)) {
        g.open = "";
      } else {
        g.open = gate_id_of(*o);
      }
    }
    if (const auto* r = t->get("round")) g.round = int_of(*r, "`round`");
    if (const auto* r = t->get("votes")) g.votes = int_of(*r, "`votes`");
    if (const auto* r = t->get("last")) {
      g.last = string_of(*r, "`last`");
      std::vector<std::string> ends = kDecisions;
      ends.push_back("recalled");
      ends.push_back("cancelled");
      if (g.last && !known(ends, *g.last)) {
        error(rule::kValueType, at(*r), fmt::format("'{}' is not how a round ends", *g.last),
              did_you_mean(*g.last, ends));
      }
    }
    return g;
  }

  std::optional<ErrorCode> error_code_of(const toml::node& n) {
    std::vector<std::string> names;
    for (ErrorCode c : kAllCodes) {
      names.emplace_back(error_code_name(c));
      if (n.is_integer() && n.value<std::int64_t>() == static_cast<int>(c)) return c;
      if (n.is_string() && n.value<std::string>() == error_code_name(c)) return c;
    }
    std::string given = n.is_string() ? *n.value<std::string>() : "";
    error(
        rule::kValueType, at(n),
        "`expect.error` must be an error code: a name such as \"guard_failed\" or its number (300)",
        given.empty() ? "docs/cli.md lists the codes" : did_you_mean(given, names));
    return std::nullopt;
  }

  static bool known(const std::vector<std::string>& list, const std::string& item) {
    return std::find(list.begin(), list.end(), item) != list.end();
  }

  std::string path_;
  const SectionRegistry& sections_;
  Diagnostics& diags_;
  const Workflow* wf_ = nullptr;
  const WorkflowFacts* facts_ = nullptr;
  std::vector<std::string> roles_, states_, fields_, events_;
  std::int64_t now_ms_ = 0;
  bool started_ = false;
};

}  // namespace

std::string_view step_kind_name(StepKind k) {
  switch (k) {
    case StepKind::kStart:
      return "start";
    case StepKind::kFire:
      return "fire";
    case StepKind::kUpdate:
      return "update";
    case StepKind::kVote:
      return "vote";
    case StepKind::kRecall:
      return "recall";
    case StepKind::kSuspend:
      return "suspend";
    case StepKind::kResume:
      return "resume";
    case StepKind::kCancel:
      return "cancel";
    case StepKind::kAdvance:
      return "advance";
  }
  return "?";
}

bool Expectation::empty() const {
  return !state && !lifecycle && data.empty() && unset.empty() && !events && !allowed &&
         clocks.empty() && !gate && !error;
}

ScenarioLoad load_scenario_text(std::string_view text, const std::string& path,
                                const SectionRegistry& sections) {
  ScenarioLoad out;
  if (text.size() > kMaxScenarioFileBytes) {
    out.diagnostics.error(rule::kFile, {path, 0, 0},
                          fmt::format("the file has {} bytes; scenario files are limited to {}",
                                      text.size(), kMaxScenarioFileBytes));
    return out;
  }
  Parser parser(path, sections, out.diagnostics);
  out.file = parser.parse(text);
  out.diagnostics.sort();
  return out;
}

ScenarioLoad load_scenario_file(const std::string& path, const SectionRegistry& sections) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    ScenarioLoad out;
    out.diagnostics.error(rule::kFile, {path, 0, 0}, "no such scenario file");
    return out;
  }
  auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > kMaxScenarioFileBytes) {
    ScenarioLoad out;
    out.diagnostics.error(rule::kFile, {path, 0, 0},
                          fmt::format("the file has {} bytes; scenario files are limited to {}",
                                      size, kMaxScenarioFileBytes));
    return out;
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  if (!in.good() && !in.eof()) {
    ScenarioLoad out;
    out.diagnostics.error(rule::kFile, {path, 0, 0}, "the file could not be read");
    return out;
  }
  return load_scenario_text(ss.str(), path, sections);
}

}  // namespace flowgate::scenario
