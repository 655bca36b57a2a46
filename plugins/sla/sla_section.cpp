// Reading [calendars.*], [sla.*] and [ola.*]. Every problem is reported with its position and the
// reading goes on, so one pass shows all of them; a definition with errors is never compiled into
// a workflow (the loader drops it).
#include "plugins/sla/sla_section.h"

#include <algorithm>
#include <array>
#include <set>

#include <date/tz.h>
#include <fmt/format.h>

#include "definition/loader_internal.h"
#include "runtime/data_rules.h"

namespace flowgate::sla {

using loader::Context;
using loader::describe;
using loader::Need;
using loader::report_type;
namespace core_rule = loader::rule;

std::string_view clock_kind_name(ClockKind k) { return k == ClockKind::kSla ? "sla" : "ola"; }

const ClockDef* SlaConfig::clock(std::string_view id) const {
  for (const ClockDef& c : clocks) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

namespace {

constexpr std::array<std::string_view, 7> kDayNames = {"mon", "tue", "wed", "thu",
                                                       "fri", "sat", "sun"};

std::optional<int> day_index(std::string_view name) {
  for (std::size_t i = 0; i < kDayNames.size(); ++i) {
    if (kDayNames[i] == name) return static_cast<int>(i);
  }
  return std::nullopt;
}

// Strings of a key that takes one string or a list of them.
std::vector<std::pair<std::string, const toml::node*>> one_or_many(Context& cx,
                                                                   const toml::node& node,
                                                                   std::string_view key,
                                                                   std::string_view owner,
                                                                   std::string_view noun) {
  if (const auto* s = node.as_string()) return {{s->get(), &node}};
  if (const auto* list = node.as_array()) {
    return loader::read_distinct_strings(cx, *list, key, owner, noun);
  }
  report_type(cx, node, key, owner, fmt::format("a {} or a list of them", noun));
  return {};
}

std::vector<std::string> state_ids(const Workflow& wf) {
  std::vector<std::string> out;
  for (const StateDef& s : wf.states) out.push_back(s.id);
  return out;
}

std::vector<std::string> event_names(const Workflow& wf) {
  std::set<std::string> names;
  for (const TransitionDef& t : wf.transitions) names.insert(t.event);
  return {names.begin(), names.end()};
}

std::vector<std::string> field_names(const Workflow& wf, std::initializer_list<Type> types = {}) {
  std::vector<std::string> out;
  for (const FieldDef& f : wf.fields) {
    if (types.size() == 0 || std::find(types.begin(), types.end(), f.type) != types.end()) {
      out.push_back(f.name);
    }
  }
  return out;
}

// TOML constant → the JSON a command payload would carry.
std::optional<nlohmann::json> payload_json(Context& cx, const toml::node& n, std::string_view key,
                                           std::string_view owner) {
  switch (n.type()) {
    case toml::node_type::string:
      return n.as_string()->get();
    case toml::node_type::integer:
      return n.as_integer()->get();
    case toml::node_type::boolean:
      return n.as_boolean()->get();
    case toml::node_type::floating_point:
      return n.as_floating_point()->get();
    case toml::node_type::date: {
      std::string problem;
      if (auto v = loader::value_from_toml(n, Type::kDate, problem)) return v->to_json();
      break;
    }
    case toml::node_type::date_time: {
      std::string problem;
      if (auto v = loader::value_from_toml(n, Type::kDateTime, problem)) return v->to_json();
      break;
    }
    default:
      break;
  }
  report_type(cx, n, key, owner, "a string, number, boolean or date");
  return std::nullopt;
}

class Reader {
 public:
  Reader(Context& cx, const toml::table& root, const Workflow& wf)
      : cx_(cx), root_(root), wf_(wf), scope_(wf.data_scope()) {
    scope_.allow_event = false;
  }

  std::shared_ptr<const SlaConfig> run() {
    auto config = std::make_shared<SlaConfig>();
    read_calendars(*config);
    std::set<std::string> seen;
    for (ClockKind kind : {ClockKind::kSla, ClockKind::kOla}) {
      std::string section(clock_kind_name(kind));
      const toml::table* clocks = loader::top_level_table(
          cx_, root_, section,
          fmt::format("declare each clock as its own table: [{}.<id>]", section));
      if (clocks == nullptr) continue;
      for (auto&& [key, node] : *clocks) {
        std::string id(key.str());
        std::string owner = fmt::format("[{}.{}]", section, id);
        const toml::table* t = node.as_table();
        if (t == nullptr) {
          report_type(cx_, node, id, fmt::format("[{}]", section), "a table",
                      fmt::format("write the clock as a table: [{}.{}]", section, id));
          continue;
        }
        loader::check_id(cx_, id, loader::IdKind::kName, "clock", cx_.at(key));
        if (!seen.insert(id).second) {
          cx_.error(core_rule::kIdDuplicate, cx_.at(key),
                    fmt::format("clock '{}' is declared both as [sla.{}] and [ola.{}]", id, id, id),
                    "clock ids name timers and events: give each clock its own id");
          continue;
        }
        if (auto clock = read_clock(*config, *t, id, kind, owner, cx_.at(key))) {
          config->clocks.push_back(std::move(*clock));
        }
      }
    }
    // File order: clocks are evaluated (and their events recorded) in the order they are written.
    std::stable_sort(
        config->clocks.begin(), config->clocks.end(), [](const ClockDef& a, const ClockDef& b) {
          return std::tie(a.where.line, a.where.column) < std::tie(b.where.line, b.where.column);
        });
    return config;
  }

 private:
  // --- calendars ------------------------------------------------------------------------------

  void read_calendars(SlaConfig& config) {
    const toml::table* calendars = loader::top_level_table(
        cx_, root_, "calendars", "declare each calendar as its own table: [calendars.<id>]");
    if (calendars == nullptr) return;
    for (auto&& [key, node] : *calendars) {
      std::string id(key.str());
      std::string owner = fmt::format("[calendars.{}]", id);
      const toml::table* t = node.as_table();
      if (t == nullptr) {
        report_type(cx_, node, id, "[calendars]", "a table",
                    fmt::format("write the calendar as a table: [calendars.{}]", id));
        continue;
      }
      loader::check_id(cx_, id, loader::IdKind::kName, "calendar", cx_.at(key));
      loader::check_keys(
          cx_, *t, {"name", "description", "timezone", "hours", "holidays", "annual_holidays"},
          owner);
      SourceLocation where = cx_.at_table(*t, cx_.at(key));
      CalendarSpec spec;
      spec.id = id;
      bool ok = true;
      loader::read_string(cx_, *t, "name", owner, Need::kOptional, where);
      loader::read_string(cx_, *t, "description", owner, Need::kOptional, where);
      auto tz = loader::read_string(cx_, *t, "timezone", owner, Need::kRequired, where);
      if (!tz) {
        ok = false;
      } else {
        spec.timezone = *tz;
      }
      if (const toml::node* hours = t->get("hours")) {
        ok &= read_hours(*hours, owner, spec);
      } else {
        spec.always_open = true;
      }
      if (const toml::node* h = t->get("holidays")) ok &= read_holidays(*h, owner, spec);
      if (const toml::node* h = t->get("annual_holidays")) ok &= read_annual(*h, owner, spec);
      if (!ok) {
        known_calendars_.push_back(id);  // reported already; do not also call it unknown
        continue;
      }
      auto calendar = BusinessCalendar::make(spec);
      if (!calendar) {
        std::string hint = suggest_zone(spec.timezone);
        cx_.error(rule::kTimezoneUnknown, cx_.at(*t->get("timezone")),
                  fmt::format("{}: {}", owner, calendar.error().message),
                  hint.empty() ? calendar.error().hint : hint);
        known_calendars_.push_back(id);
        continue;
      }
      known_calendars_.push_back(id);
      config.calendars.emplace(id, std::move(*calendar));
    }
  }

  std::string suggest_zone(const std::string& name) {
    std::vector<std::string> zones;
    try {
      for (const auto& z : date::get_tzdb().zones) zones.push_back(std::string(z.name()));
    } catch (const std::exception&) {
      return {};
    }
    return cx_.did_you_mean(name, zones);
  }

  bool read_hours(const toml::node& node, const std::string& owner, CalendarSpec& spec) {
    const toml::table* hours = node.as_table();
    if (hours == nullptr) {
      report_type(cx_, node, "hours", owner, "a table of days",
                  "e.g. hours = { mon-fri = \"09:00-17:00\", sat = \"10:00-14:00\" }");
      return false;
    }
    bool ok = true;
    std::array<std::string, 7> given_by;  // which key set each day, for overlap messages
    std::vector<std::string> day_keys(kDayNames.begin(), kDayNames.end());
    for (auto&& [key, value] : *hours) {
      std::string k(key.str());
      // "mon" or a span "mon-fri".
      std::vector<int> days;
      auto dash = k.find('-');
      auto first = day_index(k.substr(0, dash));
      auto last = dash == std::string::npos ? first : day_index(k.substr(dash + 1));
      if (!first || !last || *last < *first) {
        std::string hint = cx_.did_you_mean(k, day_keys);
        if (hint.empty()) {
          hint = "use mon, tue, wed, thu, fri, sat, sun or a span such as mon-fri";
        }
        cx_.error(core_rule::kKeyUnknown, cx_.at(key),
                  fmt::format("'{}' in the hours of {} is not a day or a span of days", k, owner),
                  std::move(hint));
        ok = false;
        continue;
      }
      for (int d = *first; d <= *last; ++d) days.push_back(d);
      std::string what = fmt::format("hours.{}", k);
      std::vector<TimeRange> ranges;
      for (auto& [text, item] : one_or_many(cx_, value, what, owner, "time range")) {
        auto r = parse_time_range(text);
        if (!r) {
          cx_.error(core_rule::kValueInvalid, cx_.at(*item),
                    fmt::format("'{}' in {} of {} is not a time range", text, what, owner),
                    "write HH:MM-HH:MM with the end after the start, e.g. \"08:00-12:00\"; "
                    "\"24:00\" ends at midnight");
          ok = false;
          continue;
        }
        for (const TimeRange& other : ranges) {
          if (r->start_min < other.end_min && other.start_min < r->end_min) {
            cx_.error(rule::kHoursOverlap, cx_.at(*item),
                      fmt::format("'{}' overlaps '{}' in {} of {}", text, format_time_range(other),
                                  what, owner),
                      "working ranges of a day must not overlap");
            ok = false;
          }
        }
        ranges.push_back(*r);
      }
      std::sort(ranges.begin(), ranges.end(),
                [](const TimeRange& a, const TimeRange& b) { return a.start_min < b.start_min; });
      for (int d : days) {
        if (!given_by[d].empty()) {
          cx_.error(rule::kHoursOverlap, cx_.at(key),
                    fmt::format("{} is given twice in the hours of {}: by '{}' and by '{}'",
                                kDayNames[d], owner, given_by[d], k),
                    "give each day once");
          ok = false;
          continue;
        }
        given_by[d] = k;
        spec.week[d] = ranges;
      }
    }
    if (ok && std::all_of(spec.week.begin(), spec.week.end(),
                          [](const auto& day) { return day.empty(); })) {
      cx_.error(rule::kCalendarEmpty, cx_.at(node),
                fmt::format("{} has hours but no working time on any day", owner),
                "give at least one day a range, or drop 'hours' for a round-the-clock calendar");
      ok = false;
    }
    return ok;
  }

  bool read_holidays(const toml::node& node, const std::string& owner, CalendarSpec& spec) {
    const toml::array* list = node.as_array();
    if (list == nullptr) {
      report_type(cx_, node, "holidays", owner, "a list of dates",
                  "e.g. holidays = [2026-04-03, \"2026-04-06\"]");
      return false;
    }
    bool ok = true;
    for (const toml::node& item : *list) {
      std::string problem;
      auto day = (item.is_date() || item.is_string())
                     ? loader::value_from_toml(item, Type::kDate, problem)
                     : std::nullopt;
      if (!day) {
        cx_.error(core_rule::kValueInvalid, cx_.at(item),
                  fmt::format("holiday {} in {} is not a date", describe(item), owner),
                  "write a TOML date 2026-12-24 or a string \"2026-12-24\"; for every year use "
                  "annual_holidays = [\"12-24\"]");
        ok = false;
        continue;
      }
      spec.holidays.push_back(day->as_int());
    }
    return ok;
  }

  bool read_annual(const toml::node& node, const std::string& owner, CalendarSpec& spec) {
    const toml::array* list = node.as_array();
    if (list == nullptr) {
      report_type(cx_, node, "annual_holidays", owner, "a list of \"MM-DD\" strings",
                  "e.g. annual_holidays = [\"01-01\", \"12-25\"]");
      return false;
    }
    bool ok = true;
    for (const toml::node& item : *list) {
      const auto* s = item.as_string();
      auto md = s ? parse_month_day(s->get()) : std::nullopt;
      if (!md) {
        cx_.error(core_rule::kValueInvalid, cx_.at(item),
                  fmt::format("annual holiday {} in {} is not a month and day",
                              s ? "'" + s->get() + "'" : std::string(describe(item)), owner),
                  "write \"MM-DD\", e.g. \"12-25\"");
        ok = false;
        continue;
      }
      spec.annual_holidays.push_back(*md);
    }
    return ok;
  }

  // --- clocks ---------------------------------------------------------------------------------

  std::optional<ClockDef> read_clock(const SlaConfig& config, const toml::table& t,
                                     const std::string& id, ClockKind kind,
                                     const std::string& owner, const SourceLocation& key_at) {
    loader::check_keys(
        cx_, t,
        {"name", "description", "calendar", "start", "pause", "resume", "stop", "cancel", "reset",
         "target", "deadline", "retroactive_start", "warnings", "breach"},
        owner);
    ClockDef c;
    c.id = id;
    c.kind = kind;
    c.where = cx_.at_table(t, key_at);
    c.name = loader::read_string(cx_, t, "name", owner, Need::kOptional, c.where).value_or(id);
    c.description =
        loader::read_string(cx_, t, "description", owner, Need::kOptional, c.where).value_or("");
    c.calendar = BusinessCalendar::always();
    if (auto cal = loader::read_string(cx_, t, "calendar", owner, Need::kOptional, c.where)) {
      auto it = config.calendars.find(*cal);
      if (it != config.calendars.end()) {
        c.calendar_id = *cal;
        c.calendar = it->second;
      } else if (std::find(known_calendars_.begin(), known_calendars_.end(), *cal) ==
                 known_calendars_.end()) {
        std::string hint = cx_.did_you_mean(*cal, known_calendars_);
        if (hint.empty()) {
          hint = known_calendars_.empty()
                     ? "declare it as [calendars." + *cal + "], or drop 'calendar' for 24x7"
                     : fmt::format("declared calendars: {}", fmt::join(known_calendars_, ", "));
        }
        cx_.error(rule::kCalendarUnknown, cx_.at(*t.get("calendar")),
                  fmt::format("{} uses calendar '{}', which is not declared", owner, *cal),
                  std::move(hint));
      }
    }
    const std::string p = fmt::format("{}.{}", clock_kind_name(kind), id);
    c.start = read_condition(t, "start", p, owner, Need::kRequired, c.where);
    c.stop = read_condition(t, "stop", p, owner, Need::kRequired, c.where);
    c.pause = read_condition(t, "pause", p, owner, Need::kOptional, c.where);
    c.resume = read_condition(t, "resume", p, owner, Need::kOptional, c.where);
    c.cancel = read_condition(t, "cancel", p, owner, Need::kOptional, c.where);
    c.reset = read_condition(t, "reset", p, owner, Need::kOptional, c.where);
    if (!c.resume.empty() && c.pause.empty() && t.get("pause") == nullptr) {
      cx_.error(rule::kPauseMissing, cx_.at(*t.get("resume")),
                fmt::format("{} has a resume condition but no pause condition", owner),
                "add pause = { ... }, or remove resume");
    }
    if (!c.pause.empty() && c.resume.empty() && t.get("resume") == nullptr) {
      if (!c.pause.events.empty()) {
        cx_.error(
            rule::kResumeMissing, cx_.at(*t.get("pause")),
            fmt::format("{} pauses on events, which have no opposite: say when it resumes", owner),
            "add resume = { event = [...] } (or enter/leave/when)");
      } else {
        // The implied resume undoes the pause: leaving what it entered, entering what it left, the
        // condition becoming false again.
        c.resume.enter = c.pause.leave;
        c.resume.leave = c.pause.enter;
        c.resume.when = c.pause.when;
        c.resume.when_falls = c.pause.when.has_value();
        c.resume.where = c.pause.where;
      }
    }
    read_target(t, c, owner);
    if (const toml::node* r = t.get("retroactive_start")) {
      if (auto idx = datetime_field(*r, "retroactive_start", owner)) {
        c.retroactive_field = idx;
        c.retroactive_name = wf_.fields[*idx].name;
      }
    }
    if (const toml::node* w = t.get("warnings")) read_warnings(*w, c, owner);
    if (const toml::node* b = t.get("breach")) {
      if (const toml::table* bt = b->as_table()) {
        c.breach = read_action(*bt, "the breach of " + owner, {});
      } else {
        report_type(cx_, *b, "breach", owner, "a table",
                    "e.g. breach = { notify = [\"service_manager\"], fire = \"escalate\" }");
      }
    }
    return c;
  }

  Condition read_condition(const toml::table& t, std::string_view key, const std::string& path,
                           const std::string& owner, Need need, const SourceLocation& missing_at) {
    Condition c;
    const toml::node* node = t.get(key);
    if (node == nullptr) {
      if (need == Need::kRequired) {
        cx_.error(core_rule::kKeyMissing, missing_at,
                  fmt::format("{} is missing the required key '{}'", owner, key),
                  fmt::format("e.g. {} = {{ enter = [\"<state>\"] }}", key));
      }
      return c;
    }
    c.where = cx_.at(*node);
    const toml::table* ct = node->as_table();
    if (ct == nullptr) {
      report_type(cx_, *node, key, owner, "a table",
                  fmt::format("e.g. {} = {{ enter = [\"<state>\"] }}, with enter, leave, event "
                              "or when",
                              key));
      return c;
    }
    const std::string cowner = fmt::format("'{}' of {}", key, owner);
    loader::check_keys(cx_, *ct, {"enter", "leave", "event", "events", "when"}, cowner);
    for (std::string_view which : {"enter", "leave"}) {
      const toml::node* n = ct->get(which);
      if (n == nullptr) continue;
      auto& out = which == "enter" ? c.enter : c.leave;
      for (auto& [state, item] : one_or_many(cx_, *n, which, cowner, "state")) {
        if (wf_.state(state) == nullptr) {
          std::string hint = cx_.did_you_mean(state, state_ids(wf_));
          cx_.error(
              rule::kStateUnknown, cx_.at(*item),
              fmt::format("{} names state '{}', which the workflow does not have", cowner, state),
              std::move(hint));
          continue;
        }
        out.push_back(state);
      }
    }
    if (ct->contains("event") && ct->contains("events")) {
      cx_.error(core_rule::kKeyUnknown, cx_.at(*ct->get("events")),
                fmt::format("{} has both 'event' and 'events'", cowner),
                "they are the same key: list every event under one of them");
    } else if (const toml::node* n = ct->get("event") ? ct->get("event") : ct->get("events")) {
      const std::string key = ct->contains("event") ? "event" : "events";
      const auto names = event_names(wf_);
      for (auto& [event, item] : one_or_many(cx_, *n, key, cowner, "event")) {
        if (auto problem = plugin_event_problem(event); !problem.empty()) {
          if (problem != "workflow") {
            cx_.error(rule::kEventUnknown, cx_.at(*item),
                      fmt::format("{} names event '{}': {}", cowner, event, problem));
            continue;
          }
          if (!std::binary_search(names.begin(), names.end(), event)) {
            std::string hint = cx_.did_you_mean(event, names);
            cx_.error(rule::kEventUnknown, cx_.at(*item),
                      fmt::format("{} names event '{}', which no transition fires", cowner, event),
                      std::move(hint));
            continue;
          }
        }
        c.events.push_back(event);
      }
    }
    if (const toml::node* n = ct->get("when")) {
      if (!n->is_string()) {
        report_type(cx_, *n, "when", cowner, "an expression string",
                    "e.g. when = \"priority == 'P1'\"");
      } else {
        std::set<std::string> used;
        c.when = loader::compile_guard(cx_, *n, scope_, fmt::format("{}.{} when", path, key), used);
      }
    }
    if (ct->empty()) {
      cx_.error(rule::kConditionEmpty, cx_.at(*node), fmt::format("{} is empty", cowner),
                "give at least one of enter, leave, event or when");
    }
    return c;
  }

  // "" for a well-formed event of another plugin ("gate.submitted" or "gate.submitted:<gate>"),
  // "workflow" for a name without a plugin prefix (a transition event), otherwise the problem.
  std::string plugin_event_problem(const std::string& name) const {
    auto dot = name.find('.');
    if (dot == std::string::npos) return "workflow";
    std::string plugin = name.substr(0, dot);
    auto colon = name.find(':', dot);
    std::string type = name.substr(dot + 1, colon == std::string::npos ? colon : colon - dot - 1);
    if (!loader::is_valid_id(plugin, loader::IdKind::kName) ||
        !loader::is_valid_id(type, loader::IdKind::kName)) {
      return "a plugin event is written \"<plugin>.<event>\" or \"<plugin>.<event>:<id>\"";
    }
    if (plugin == "sla") return "the clocks' own events cannot start or stop clocks";
    if (colon == std::string::npos) return "";
    std::string id = name.substr(colon + 1);
    if (id.empty()) return "the id after ':' is empty";
    // A gate named by a gate event must be declared.
    if (plugin == "gate") {
      const toml::table* gates = root_["gates"].as_table();
      if (gates && !gates->contains(id)) return fmt::format("the file declares no gate '{}'", id);
    }
    return "";
  }

  // The index of the datetime field named by `node`, after reporting problems.
  std::optional<std::size_t> datetime_field(const toml::node& node, std::string_view key,
                                            const std::string& owner) {
    const auto* s = node.as_string();
    if (s == nullptr) {
      report_type(cx_, node, key, owner, "the name of a datetime field");
      return std::nullopt;
    }
    auto idx = wf_.field_index(s->get());
    if (!idx) {
      std::string hint = cx_.did_you_mean(s->get(), field_names(wf_, {Type::kDateTime}));
      cx_.error(
          rule::kFieldUnknown, cx_.at(node),
          fmt::format("'{}' in {} names field '{}', which is not declared", key, owner, s->get()),
          hint.empty() ? "declare it as [data." + s->get() + "] with type = \"datetime\"" : hint);
      return std::nullopt;
    }
    if (wf_.fields[*idx].type != Type::kDateTime) {
      cx_.error(rule::kFieldType, cx_.at(node),
                fmt::format("'{}' in {} needs a datetime field; '{}' is {}", key, owner, s->get(),
                            type_name(wf_.fields[*idx].type)));
      return std::nullopt;
    }
    return idx;
  }

  std::optional<std::int64_t> duration(const toml::node& node, std::string_view what,
                                       const std::string& owner) {
    const auto* s = node.as_string();
    if (s == nullptr) {
      report_type(cx_, node, what, owner, "a duration string", "e.g. \"4h\", \"1d\", \"90m\"");
      return std::nullopt;
    }
    auto ms = parse_duration_ms(s->get());
    if (!ms || *ms <= 0) {
      cx_.error(core_rule::kValueInvalid, cx_.at(node),
                fmt::format("'{}' in {} is not a positive duration", s->get(), owner),
                "write e.g. \"4h\", \"30m\", \"1d\" (= 24 business hours), \"2d4h\"");
      return std::nullopt;
    }
    return ms;
  }

  void read_target(const toml::table& t, ClockDef& c, const std::string& owner) {
    const toml::node* target = t.get("target");
    const toml::node* deadline = t.get("deadline");
    if (target && deadline) {
      cx_.error(rule::kTargetConflict, cx_.at(*deadline),
                fmt::format("{} has both a target and a deadline", owner),
                "a clock runs against one of them: remove one");
      return;
    }
    if (!target && !deadline) {
      cx_.error(core_rule::kKeyMissing, c.where,
                fmt::format("{} has no target: give target (a duration, or by a field) or "
                            "deadline (a datetime field)",
                            owner),
                "e.g. target = \"4h\", or target = { by = \"priority\", values = { P1 = \"4h\", "
                "P2 = \"8h\" } }");
      return;
    }
    if (deadline) {
      if (auto idx = datetime_field(*deadline, "deadline", owner)) {
        c.target.kind = Target::Kind::kDeadline;
        c.target.field_index = *idx;
        c.target.field = wf_.fields[*idx].name;
      }
      return;
    }
    if (target->is_string()) {
      if (auto ms = duration(*target, "target", owner)) {
        c.target.kind = Target::Kind::kFixed;
        c.target.fixed_ms = *ms;
      }
      return;
    }
    const toml::table* tt = target->as_table();
    if (tt == nullptr) {
      report_type(cx_, *target, "target", owner, "a duration or a table",
                  "e.g. target = \"4h\", or target = { by = \"priority\", values = { ... } }");
      return;
    }
    const std::string towner = "'target' of " + owner;
    loader::check_keys(cx_, *tt, {"by", "values", "default"}, towner);
    c.target.kind = Target::Kind::kByField;
    SourceLocation at = cx_.at(*target);
    auto by = loader::read_string(cx_, *tt, "by", towner, Need::kRequired, at);
    const FieldDef* field = nullptr;
    if (by) {
      field = wf_.field(*by);
      if (field == nullptr) {
        cx_.error(rule::kFieldUnknown, cx_.at(*tt->get("by")),
                  fmt::format("{} is chosen by field '{}', which is not declared", towner, *by),
                  cx_.did_you_mean(*by, field_names(wf_)));
      } else if (field->type != Type::kEnum && field->type != Type::kString &&
                 field->type != Type::kInt && field->type != Type::kBool) {
        cx_.error(rule::kFieldType, cx_.at(*tt->get("by")),
                  fmt::format("{} is chosen by '{}', a {} field; use an enum, string, int or "
                              "bool field",
                              towner, *by, type_name(field->type)));
        field = nullptr;
      } else {
        c.target.field = field->name;
        c.target.field_index = *wf_.field_index(field->name);
      }
    }
    if (const toml::node* d = tt->get("default"))
      c.target.default_ms = duration(*d, "default", towner);
    const toml::node* values = tt->get("values");
    if (values == nullptr) {
      cx_.error(core_rule::kKeyMissing, at, fmt::format("{} is missing the key 'values'", towner),
                "e.g. values = { P1 = \"4h\", P2 = \"8h\" }");
      return;
    }
    const toml::table* vt = values->as_table();
    if (vt == nullptr) {
      report_type(cx_, *values, "values", towner, "a table of value = duration");
      return;
    }
    for (auto&& [key, node] : *vt) {
      std::string value(key.str());
      auto ms = duration(node, value, towner);
      if (field == nullptr) continue;
      std::string canonical = value;
      if (field->type == Type::kEnum) {
        if (std::find(field->enum_values.begin(), field->enum_values.end(), value) ==
            field->enum_values.end()) {
          std::string hint = cx_.did_you_mean(value, field->enum_values);
          cx_.error(rule::kTargetValue, cx_.at(key),
                    fmt::format("'{}' is not a value of '{}' ({})", value, field->name,
                                fmt::join(field->enum_values, ", ")),
                    std::move(hint));
          continue;
        }
      } else if (field->type == Type::kInt) {
        auto n = Value::from_json(nlohmann::json::parse(value, nullptr, false), Type::kInt);
        if (!n) {
          cx_.error(rule::kTargetValue, cx_.at(key),
                    fmt::format("'{}' is not an integer value of '{}'", value, field->name));
          continue;
        }
        canonical = n->to_string();
      } else if (field->type == Type::kBool) {
        if (value != "true" && value != "false") {
          cx_.error(rule::kTargetValue, cx_.at(key),
                    fmt::format("'{}' is not a value of the bool field '{}'", value, field->name),
                    "use true or false");
          continue;
        }
      }
      if (ms) c.target.by_value[canonical] = *ms;
    }
    if (field && field->type == Type::kEnum && !c.target.default_ms &&
        tt->get("default") == nullptr) {
      std::vector<std::string> missing;
      for (const std::string& m : field->enum_values) {
        if (!vt->contains(m)) missing.push_back(m);
      }
      if (!missing.empty()) {
        cx_.error(rule::kTargetIncomplete, cx_.at(*values),
                  fmt::format("{} gives no duration for {} of '{}'", towner,
                              fmt::format("'{}'", fmt::join(missing, "', '")), field->name),
                  "list every value, or add default = \"<duration>\"");
      }
    }
  }

  void read_warnings(const toml::node& node, ClockDef& c, const std::string& owner) {
    const toml::array* list = node.as_array();
    if (list == nullptr) {
      report_type(cx_, node, "warnings", owner, "a list",
                  "e.g. warnings = [50, { at = 75, notify = [\"service_manager\"] }]");
      return;
    }
    for (const toml::node& item : *list) {
      Warning w;
      const toml::node* at_node = &item;
      const toml::table* wt = item.as_table();
      if (wt) {
        at_node = wt->get("at");
        if (at_node == nullptr) {
          cx_.error(core_rule::kKeyMissing, cx_.at(item),
                    fmt::format("a warning of {} is missing the key 'at' (a percentage)", owner));
          continue;
        }
      }
      const auto* pct = at_node->as_integer();
      if (pct == nullptr) {
        report_type(cx_, *at_node, "warnings", owner,
                    "a percentage (an integer) or a table with 'at'");
        continue;
      }
      if (pct->get() < 1 || pct->get() > 99) {
        cx_.error(rule::kWarningPercent, cx_.at(*at_node),
                  fmt::format("warning at {}% in {}: a warning comes before the breach, at 1 to "
                              "99 percent of the target",
                              pct->get(), owner),
                  "the breach (100%) has its own actions: breach = { ... }");
        continue;
      }
      w.percent = static_cast<int>(pct->get());
      if (std::any_of(c.warnings.begin(), c.warnings.end(),
                      [&](const Warning& o) { return o.percent == w.percent; })) {
        cx_.error(rule::kWarningPercent, cx_.at(*at_node),
                  fmt::format("{} has two warnings at {}%", owner, w.percent),
                  "merge their actions into one");
        continue;
      }
      if (wt) {
        w.action = read_action(*wt, fmt::format("the {}% warning of {}", w.percent, owner), {"at"});
      }
      c.warnings.push_back(std::move(w));
    }
    std::sort(c.warnings.begin(), c.warnings.end(),
              [](const Warning& a, const Warning& b) { return a.percent < b.percent; });
  }

  Action read_action(const toml::table& t, const std::string& owner,
                     std::initializer_list<std::string_view> extra) {
    std::vector<std::string_view> allowed = {"notify", "set", "fire", "payload"};
    allowed.insert(allowed.end(), extra.begin(), extra.end());
    for (auto&& [key, value] : t) {
      if (std::find(allowed.begin(), allowed.end(), key.str()) != allowed.end()) continue;
      std::vector<std::string> candidates(allowed.begin(), allowed.end());
      std::string hint = cx_.did_you_mean(key.str(), candidates);
      if (hint.empty()) hint = fmt::format("allowed keys: {}", fmt::join(candidates, ", "));
      cx_.error(core_rule::kKeyUnknown, cx_.at(key),
                fmt::format("unknown key '{}' in {}", key.str(), owner), std::move(hint));
    }
    Action a;
    if (const toml::node* n = t.get("notify")) {
      std::vector<std::string> roles;
      for (const RoleDef& r : wf_.roles) roles.push_back(r.id);
      for (auto& [role, item] : one_or_many(cx_, *n, "notify", owner, "role")) {
        if (!wf_.roles.empty() && !wf_.has_role(role)) {
          std::string hint = cx_.did_you_mean(role, roles);
          cx_.error(
              rule::kRoleUnknown, cx_.at(*item),
              fmt::format("{} notifies role '{}', which [roles] does not declare", owner, role),
              hint.empty() ? fmt::format("declared roles: {}", fmt::join(roles, ", ")) : hint);
          continue;
        }
        a.notify.push_back(role);
      }
    }
    if (const toml::node* n = t.get("set")) {
      if (const toml::table* st = n->as_table()) {
        std::set<std::string> used;
        a.set = loader::compile_assignments(cx_, *st, wf_, scope_, used);
      } else {
        report_type(cx_, *n, "set", owner, "a table of field = expression",
                    "e.g. set = { escalated = true, risk = \"'high'\" }");
      }
    }
    const toml::node* fire = t.get("fire");
    const toml::node* payload = t.get("payload");
    if (payload && !fire) {
      cx_.error(rule::kPayloadInvalid, cx_.at(*payload),
                fmt::format("{} has a payload but fires no event", owner),
                "add fire = \"<event>\", or remove payload");
    }
    if (fire) {
      if (const auto* s = fire->as_string()) {
        const auto names = event_names(wf_);
        if (!std::binary_search(names.begin(), names.end(), s->get())) {
          cx_.error(rule::kEventUnknown, cx_.at(*fire),
                    fmt::format("{} fires event '{}', which no transition has", owner, s->get()),
                    cx_.did_you_mean(s->get(), names));
        } else {
          a.fire = s->get();
        }
      } else {
        report_type(cx_, *fire, "fire", owner, "an event name (a string)");
      }
    }
    if (payload) {
      if (const toml::table* pt = payload->as_table()) {
        for (auto&& [key, value] : *pt) {
          if (auto j = payload_json(cx_, value, key.str(), owner))
            a.payload[std::string(key.str())] = *j;
        }
      } else {
        report_type(cx_, *payload, "payload", owner, "a table of constants",
                    "e.g. payload = { reason = \"L1 OLA breached\" }");
      }
    }
    if (!a.fire.empty()) check_payload(a, payload ? cx_.at(*payload) : cx_.at(*fire), owner);
    return a;
  }

  // The payload must be one that at least one transition on the fired event accepts.
  void check_payload(const Action& a, const SourceLocation& where, const std::string& owner) {
    std::optional<Error> first;
    for (const TransitionDef& t : wf_.transitions) {
      if (t.event != a.fire) continue;
      auto parsed = parse_payload(t, a.payload);
      if (parsed) return;
      if (!first) first = parsed.error();
    }
    if (first) {
      cx_.error(rule::kPayloadInvalid, where,
                fmt::format("{} fires '{}' with a payload no transition accepts: {}", owner, a.fire,
                            first->message),
                "give the payload fields the transition declares, e.g. payload = { reason = "
                "\"...\" }");
    }
  }

  Context& cx_;
  const toml::table& root_;
  const Workflow& wf_;
  Scope scope_;
  std::vector<std::string> known_calendars_;
};

}  // namespace

std::shared_ptr<const void> SlaSectionHandler::compile(const toml::table& root, const Workflow& wf,
                                                       const std::string& file,
                                                       Diagnostics& diags) const {
  Context cx(wf.source_text, file, diags);
  return Reader(cx, root, wf).run();
}

}  // namespace flowgate::sla
