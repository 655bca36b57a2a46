#include "audit/timeline.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "definition/value.h"

namespace flowgate::audit {

std::string describe_value(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "-";
  return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string describe_changes(const nlohmann::json& changes) {
  std::string out;
  if (!changes.is_object()) return out;
  for (const auto& [field, change] : changes.items()) {
    if (!out.empty()) out += ", ";
    out += fmt::format("{}: {} → {}", field, describe_value(change.value("from", nlohmann::json())),
                       describe_value(change.value("to", nlohmann::json())));
  }
  return out;
}

namespace {

using nlohmann::json;

std::string scalar(const json& v) { return describe_value(v); }

std::string str(const json& body, const char* key) {
  auto it = body.find(key);
  return it != body.end() && !it->is_null() ? scalar(*it) : std::string();
}

// The object member `key` of `body`, or an empty object (a reference: safe to iterate).
const json& object_member(const json& body, const char* key) {
  static const json empty = json::object();
  auto it = body.find(key);
  return it != body.end() && it->is_object() ? *it : empty;
}

std::string duration(const json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || !it->is_number_integer()) return "";
  return format_duration_ms(it->get<std::int64_t>());
}

void join(std::string& out, const std::string& part) {
  if (part.empty()) return;
  if (!out.empty()) out += "; ";
  out += part;
}

// The readable parts of a gate plugin event (docs/gates.md §Events).
void describe_gate(TimelineEntry& e, const json& b) {
  const std::string gate = str(b, "gate");
  const std::string round = str(b, "round");
  e.kind = "gate";
  if (e.type == "gate.submitted" || e.type == "gate.reopened") {
    e.what = fmt::format("review {} round {} opened", gate, round);
    join(e.details,
         fmt::format("holds `{}` {} → {}", str(b, "event"), str(b, "from"), str(b, "to")));
    join(e.details, "submitted by " + str(b, "submitter"));
    if (e.type == "gate.reopened")
      join(e.details, "after the hold of round " + str(b, "after_hold"));
  } else if (e.type == "gate.voted") {
    e.what = fmt::format("vote {} on {} round {}", str(b, "decision"), gate, round);
    join(e.details, fmt::format("{} as {}{}", str(b, "voter"), str(b, "role"),
                                str(b, "weight") == "1" || str(b, "weight").empty()
                                    ? ""
                                    : " (weight " + str(b, "weight") + ")"));
    std::string answers;
    for (const auto& [k, v] : object_member(b, "answers").items()) {
      answers += fmt::format("{}{} {}", answers.empty() ? "" : ", ", k,
                             v.is_boolean() && v.get<bool>() ? "yes" : "no");
    }
    join(e.details, answers);
    std::string scores;
    for (const auto& [k, v] : object_member(b, "scores").items()) {
      scores += fmt::format("{}{} {}", scores.empty() ? "" : ", ", k, scalar(v));
    }
    join(e.details, scores);
    join(e.details, str(b, "reason"));
    if (b.value("replaces", false)) join(e.details, "replaces the earlier vote");
  } else if (e.type == "gate.decided") {
    const std::string decision = str(b, "decision");
    e.what = fmt::format("{} decided: {}", gate, decision);
    e.alert = decision == "kill";
    join(e.details, "by " + str(b, "decided_by"));
    if (b.contains("votes") && b["votes"].is_object()) {
      std::string votes;
      for (const auto& [k, v] : b["votes"].items()) {
        if (v.is_number_integer() && v.get<int>() > 0) {
          votes += fmt::format("{}{} {}", votes.empty() ? "" : ", ", v.get<int>(), k);
        }
      }
      join(e.details, votes.empty() ? "" : "votes: " + votes);
    }
    if (!str(b, "score").empty()) join(e.details, "score " + str(b, "score"));
    if (b.contains("knocked_out") && b["knocked_out"].is_array() && !b["knocked_out"].empty()) {
      std::vector<std::string> k;
      for (const auto& x : b["knocked_out"]) k.push_back(scalar(x));
      join(e.details, fmt::format("knocked out: {}", fmt::join(k, ", ")));
    }
    join(e.details, str(b, "reason"));
    if (!str(b, "revisit_on").empty()) join(e.details, "revisit on " + str(b, "revisit_on"));
  } else if (e.type == "gate.recalled") {
    e.what = fmt::format("{} round {} recalled", gate, round);
    join(e.details, "by " + str(b, "by"));
    join(e.details, str(b, "reason"));
  } else {
    e.what = fmt::format("{} ({} round {})", e.type, gate, round);
    join(e.details, str(b, "reason"));
  }
}

// The readable parts of an SLA/OLA clock event (plugins/sla: "sla.*").
void describe_clock(TimelineEntry& e, const json& b) {
  e.kind = "clock";
  const std::string clock = fmt::format("{} ({})", str(b, "clock"), str(b, "kind"));
  const std::string t = e.type.substr(4);
  if (t == "started") {
    e.what = "clock started: " + clock;
    const std::string source = str(b, "target_source");
    join(e.details, fmt::format("target {}{}", str(b, "target"),
                                source.find('=') == std::string::npos ? "" : " for " + source));
    if (!str(b, "planned_breach_at").empty()) join(e.details, "due " + str(b, "planned_breach_at"));
    if (b.value("retroactive", false)) join(e.details, "counted from " + str(b, "started_at"));
  } else if (t == "warning") {
    e.what = fmt::format("clock warning {}%: {}", str(b, "percent"), clock);
    join(e.details, "due " + str(b, "due_at"));
    if (!str(b, "planned_breach_at").empty())
      join(e.details, "breach at " + str(b, "planned_breach_at"));
  } else if (t == "breached") {
    e.what = "CLOCK BREACHED: " + clock;
    e.alert = true;
    join(e.details,
         fmt::format("target {} passed at {}", duration(b, "target_ms"), str(b, "due_at")));
    if (b.value("lateness_ms", std::int64_t{0}) > 0)
      join(e.details, "recorded " + duration(b, "lateness_ms") + " late");
  } else if (t == "completed") {
    const bool met = b.value("met", false);
    e.what = fmt::format("clock {}: {}", met ? "met" : "missed", clock);
    e.alert = !met;
    join(e.details, fmt::format("{} of {} business time", duration(b, "business_elapsed_ms"),
                                duration(b, "target_ms")));
    if (b.value("paused_ms", std::int64_t{0}) > 0)
      join(e.details, "paused " + duration(b, "paused_ms"));
  } else if (t == "paused" || t == "resumed") {
    e.what = fmt::format("clock {}: {}", t, clock);
    if (!duration(b, "time_left_ms").empty())
      join(e.details, duration(b, "time_left_ms") + " left");
  } else {
    e.what = fmt::format("clock {}: {}", t, clock);
    join(e.details, str(b, "reason"));
  }
  if (b.contains("notify") && b["notify"].is_array() && !b["notify"].empty()) {
    std::vector<std::string> who;
    for (const auto& x : b["notify"]) who.push_back(scalar(x));
    join(e.details, fmt::format("notifies {}", fmt::join(who, ", ")));
  }
}

}  // namespace

std::string describe_actor(const json& actor) {
  std::string out = str(actor, "principal");
  if (!str(actor, "on_behalf_of").empty()) out += " for " + str(actor, "on_behalf_of");
  if (actor.contains("roles") && actor["roles"].is_array() && !actor["roles"].empty() &&
      actor["roles"].size() <= 3) {
    std::vector<std::string> roles;
    for (const auto& r : actor["roles"]) roles.push_back(scalar(r));
    out += fmt::format(" ({})", fmt::join(roles, ","));
  }
  return out;
}

Timeline build_timeline(const std::vector<EventRecord>& events, const Workflow* wf) {
  Timeline t;
  auto stage_of = [&](const std::string& state) -> std::string {
    const StateDef* s = wf ? wf->state(state) : nullptr;
    return s ? s->stage : "";
  };
  auto enter = [&](const std::string& state, std::int64_t at) {
    if (!t.stays.empty() && !t.stays.back().left_ms) t.stays.back().left_ms = at;
    t.stays.push_back({state, stage_of(state), at, std::nullopt});
  };
  for (const EventRecord& ev : events) {
    TimelineEntry e;
    e.seq = ev.seq;
    e.at_ms = ev.at_ms;
    e.type = ev.type;
    e.actor = describe_actor(ev.actor);
    const json& b = ev.body;
    if (ev.type == "instance_started") {
      t.workflow_id = str(b, "workflow");
      t.version = b.value("version", 0);
      e.kind = "start";
      e.what = fmt::format("started ({} v{})", t.workflow_id, t.version);
      e.to = str(b, "state");
      std::string fields;
      for (const auto& [k, v] : object_member(b, "data").items()) {
        fields += fmt::format("{}{} = {}", fields.empty() ? "" : ", ", k, scalar(v));
      }
      join(e.details, fields);
      if (!str(b, "business_key").empty()) join(e.details, "key " + str(b, "business_key"));
      enter(e.to, ev.at_ms);
    } else if (ev.type == "transitioned" || ev.type == "migrated") {
      e.kind = "move";
      const bool migrated = ev.type == "migrated";
      e.from = str(b, migrated ? "from_state" : "from");
      e.to = str(b, migrated ? "to_state" : "to");
      e.what = migrated
                   ? fmt::format("migrated v{} → v{}", str(b, "from_version"), str(b, "to_version"))
                   : str(b, "event");
      if (!t.stays.empty() && !t.stays.back().left_ms) {
        e.time_in_from_ms = ev.at_ms - t.stays.back().entered_ms;
      }
      join(e.details, describe_changes(object_member(b, "changes")));
      if (migrated && b.contains("dropped_fields") && !b["dropped_fields"].empty()) {
        join(e.details, "dropped " + scalar(b["dropped_fields"]));
      }
      if (e.from != e.to || migrated) {
        enter(e.to, ev.at_ms);
      }
    } else if (ev.type == "data_changed") {
      e.kind = "data";
      e.what = "data changed";
      join(e.details, describe_changes(object_member(b, "changes")));
    } else if (ev.type == "suspended" || ev.type == "resumed" || ev.type == "cancelled" ||
               ev.type == "completed") {
      e.kind = "lifecycle";
      e.what = ev.type;
      e.alert = ev.type == "cancelled";
      join(e.details, str(b, "reason"));
    } else if (ev.type.rfind("gate.", 0) == 0) {
      describe_gate(e, b);
    } else if (ev.type.rfind("sla.", 0) == 0) {
      describe_clock(e, b);
    } else {
      e.kind = "other";
      e.what = ev.type;
      join(e.details, b.dump(-1, ' ', false, json::error_handler_t::replace));
    }
    t.entries.push_back(std::move(e));
  }
  if (!events.empty()) {
    t.instance_id = events.front().instance_id;
    t.until_ms = events.back().at_ms;
  }
  // Totals per state and stage, in order of first entry; a final or open stay counts up to the
  // last event.
  auto add = [](std::vector<StateTotal>& list, const std::string& key, const std::string& stage,
                std::int64_t ms, bool visit) {
    auto it =
        std::find_if(list.begin(), list.end(), [&](const StateTotal& s) { return s.state == key; });
    if (it == list.end()) {
      list.push_back({key, stage, 0, 0});
      it = list.end() - 1;
    }
    it->total_ms += ms;
    if (visit) ++it->visits;
  };
  std::string last_stage;
  for (std::size_t i = 0; i < t.stays.size(); ++i) {
    const StateStay& s = t.stays[i];
    std::int64_t ms = s.left_ms.value_or(t.until_ms) - s.entered_ms;
    add(t.states, s.state, s.stage, ms, true);
    if (!s.stage.empty()) {
      add(t.stages, s.stage, s.stage, ms, s.stage != last_stage);
      last_stage = s.stage;
    }
  }
  return t;
}

json Timeline::to_json() const {
  json j = {{"instance_id", instance_id}, {"workflow", workflow_id}, {"workflow_version", version}};
  json list = json::array();
  for (const auto& e : entries) {
    json x = {{"seq", e.seq},   {"at", format_datetime_ms(e.at_ms)},
              {"type", e.type}, {"kind", e.kind},
              {"what", e.what}, {"actor", e.actor}};
    if (!e.from.empty()) x["from"] = e.from;
    if (!e.to.empty()) x["to"] = e.to;
    if (!e.details.empty()) x["details"] = e.details;
    if (e.time_in_from_ms) {
      x["time_in_from_ms"] = *e.time_in_from_ms;
      x["time_in_from"] = format_duration_ms(*e.time_in_from_ms);
    }
    if (e.alert) x["alert"] = true;
    list.push_back(std::move(x));
  }
  j["timeline"] = std::move(list);
  auto totals = [](const std::vector<StateTotal>& v, const char* key) {
    json out = json::array();
    for (const auto& s : v) {
      json x = {{key, s.state},
                {"visits", s.visits},
                {"total_ms", s.total_ms},
                {"total", format_duration_ms(s.total_ms)}};
      if (std::string(key) == "state" && !s.stage.empty()) x["stage"] = s.stage;
      out.push_back(std::move(x));
    }
    return out;
  };
  j["time_in_state"] = totals(states, "state");
  j["time_in_stage"] = totals(stages, "stage");
  j["until"] = format_datetime_ms(until_ms);
  return j;
}

std::string render_timeline(const Timeline& t) {
  std::vector<std::vector<std::string>> rows;
  const std::vector<std::string> header = {"#",     "TIME", "WHAT",   "FROM → TO",
                                           "AFTER", "BY",   "DETAILS"};
  for (const auto& e : t.entries) {
    std::string move;
    if (!e.from.empty() || !e.to.empty()) {
      move = e.from.empty() ? "→ " + e.to : fmt::format("{} → {}", e.from, e.to);
    }
    rows.push_back(
        {std::to_string(e.seq), format_datetime_ms(e.at_ms), (e.alert ? "! " : "") + e.what, move,
         e.time_in_from_ms ? format_duration_ms(*e.time_in_from_ms) : "", e.actor, e.details});
  }
  std::vector<std::size_t> width(header.size());
  for (std::size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
  auto display = [](const std::string& s) {
    std::size_t n = 0;  // UTF-8 code points, so that "→" counts as one column
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
  };
  for (const auto& r : rows) {
    for (std::size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], display(r[i]));
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    std::string l;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      l += cells[i];
      if (i + 1 < cells.size()) l += std::string(width[i] - display(cells[i]) + 2, ' ');
    }
    while (!l.empty() && l.back() == ' ') l.pop_back();
    out += l + "\n";
  };
  line(header);
  for (const auto& r : rows) line(r);
  if (!t.states.empty()) {
    out += fmt::format("\ntime in each state (until {}):\n", format_datetime_ms(t.until_ms));
    for (const auto& s : t.states) {
      out += fmt::format("  {:<28} {:>10}  {} visit{}{}\n", s.state, format_duration_ms(s.total_ms),
                         s.visits, s.visits == 1 ? "" : "s",
                         s.stage.empty() ? "" : "  (" + s.stage + ")");
    }
  }
  if (!t.stages.empty()) {
    out += "time in each stage:\n";
    for (const auto& s : t.stages) {
      out += fmt::format("  {:<28} {:>10}\n", s.state, format_duration_ms(s.total_ms));
    }
  }
  return out;
}

}  // namespace flowgate::audit
