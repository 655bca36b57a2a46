#include "audit/replay.h"

#include <unistd.h>

#include <algorithm>
#include <memory>

#include <fmt/format.h>

#include "audit/commands.h"
#include "audit/definitions.h"
#include "audit/fold.h"
#include "audit/progress.h"
#include "audit/string_map.h"
#include "definition/value.h"
#include "runtime/decide.h"

namespace flowgate::audit {
namespace {

using nlohmann::json;

std::string compact(const json& j) {
  std::string s = j.dump(-1, ' ', false, json::error_handler_t::replace);
  return s.size() > 200 ? s.substr(0, 197) + "..." : s;
}

std::string event_text(const Event& e) { return fmt::format("{} {}", e.type, compact(e.body)); }

// A command being matched against the recorded events that follow its first one.
struct OpenCommand {
  Command command;
  std::vector<Event> events;  // what decide() produced
  std::size_t next = 1;       // the next produced event to match
  bool complete() const { return next >= events.size(); }
};

struct Tracker {
  bool has_row = false;
  InstanceHead head;
  std::unique_ptr<FoldState> fold;
  bool failed = false;  // the history cannot be folded further
  bool done = false;    // compared with the snapshot
  std::int64_t seq = 0;
  std::string last_hash;
  // The command whose events are being matched.
  std::vector<OpenCommand> open;
  std::int64_t group_at = 0;
  std::int64_t group_seq = 0;
  std::int64_t group_position = 0;
  json group_actor;
  // A command that could not be reproduced: its other events (same time, same actor) are not
  // reported again.
  bool failed_group = false;
};

class Replayer {
 public:
  Replayer(AuditSource& source, const ReplayOptions& options, ReplayReport& report)
      : source_(source), options_(options), report_(report) {}

  Result<void> run() {
    auto stored = source_.definitions();
    if (!stored) return fail(stored.error());
    defs_ = DefinitionSet::load(std::move(*stored), *options_.sections, report_.findings);

    auto heads = source_.each_instance_head([&](InstanceHead&& h) {
      Tracker& t = trackers_[h.instance_id];
      t.has_row = true;
      t.head = std::move(h);
      ++report_.instances;
    });
    if (!heads) return fail(heads.error());

    auto total = source_.last_position();
    Progress progress("replay", total && options_.instance_id.empty() ? *total : 0,
                      options_.progress < 0 ? isatty(STDERR_FILENO) == 1 : options_.progress == 1);
    auto scanned = source_.each_event([&](const EventRow& row) {
      ++report_.events;
      on_event(row);
      progress.tick(report_.events);
      return true;
    });
    progress.finish();
    if (!scanned) return fail(scanned.error());
    finish();
    return {};
  }

 private:
  void add(Finding f) { report_.findings.push_back(std::move(f)); }

  void on_event(const EventRow& row) {
    auto it = trackers_.find(row.instance_id);
    if (it == trackers_.end()) {
      it = trackers_.emplace(std::string(row.instance_id), Tracker{}).first;
      it->second.head.instance_id = it->first;
    }
    Tracker& t = it->second;
    t.seq = row.seq;
    t.last_hash = std::string(row.hash);
    if (t.failed || t.done) return;
    if (!t.fold) {
      if (row.seq != 1) {
        t.failed = true;
        add({"history_invalid", it->first, row.seq, row.position, std::string(row.type),
             "the history does not begin with its first event"});
        return;
      }
      t.fold = std::make_unique<FoldState>();
      t.fold->state.id = it->first;
    }
    Event ev;
    ev.type = std::string(row.type);
    ev.body = json::parse(row.body, nullptr, /*allow_exceptions=*/false);
    json actor = json::parse(row.actor, nullptr, /*allow_exceptions=*/false);
    if (ev.body.is_discarded() || !ev.body.is_object() || actor.is_discarded() ||
        !actor.is_object()) {
      fail_instance(t, row, "its body or actor is not a JSON object");
      return;
    }

    const bool rest_of_failed = t.failed_group && row.at_ms == t.group_at && actor == t.group_actor;
    if (!rest_of_failed && !continues_command(t, row, ev, actor)) start_command(t, row, ev, actor);

    if (auto err = fold_event(*t.fold, ev, row.at_ms, defs_, options_.hooks)) {
      if (err->kind == FoldError::Kind::kUnavailable) {
        t.failed = true;  // reported once, as the definition's finding
        t.fold.reset();
      } else {
        fail_instance(t, row, "the event cannot be applied: " + err->message);
      }
      return;
    }
    if (!options_.as_of_ms && t.has_row && row.seq == t.head.last_seq)
      finish_instance(it->first, t);
  }

  void fail_instance(Tracker& t, const EventRow& row, std::string message) {
    t.failed = true;
    t.fold.reset();
    t.open.clear();
    add({"history_invalid", std::string(row.instance_id), row.seq, row.position,
         std::string(row.type), std::move(message)});
  }

  // True when `ev` is the next event of the command being matched.
  bool continues_command(Tracker& t, const EventRow& row, const Event& ev, const json& actor) {
    if (t.open.empty()) return false;
    const bool same_command = row.at_ms == t.group_at && actor == t.group_actor;
    std::vector<OpenCommand> continuing;
    for (auto& c : t.open) {
      if (same_command && !c.complete() && c.events[c.next].type == ev.type &&
          c.events[c.next].body == ev.body) {
        ++c.next;
        continuing.push_back(std::move(c));
      }
    }
    if (!continuing.empty()) {
      t.open = std::move(continuing);
      return true;
    }
    close_command(t, row.instance_id, &row, &ev);
    return false;
  }

  // The command being matched ends: every event decide produced must have been recorded.
  void close_command(Tracker& t, std::string_view id, const EventRow* next, const Event* next_ev) {
    if (t.open.empty()) return;
    bool any_complete = std::any_of(t.open.begin(), t.open.end(),
                                    [](const OpenCommand& c) { return c.complete(); });
    if (!any_complete) {
      const OpenCommand& c = t.open.front();
      std::string recorded =
          next ? fmt::format("the history has #{} {} instead", next->seq, event_text(*next_ev))
               : std::string("the history ends there");
      add({"step_not_reproduced", std::string(id), t.group_seq, t.group_position,
           c.events.front().type,
           fmt::format("decide({}) at {} also produces {}; {}", describe(c.command),
                       format_datetime_ms(t.group_at), event_text(c.events[c.next]), recorded)});
    }
    t.open.clear();
  }

  void start_command(Tracker& t, const EventRow& row, const Event& ev, const json& actor) {
    const std::string id(row.instance_id);
    t.failed_group = true;  // until a candidate reproduces the event
    t.group_at = row.at_ms;
    t.group_actor = actor;
    t.group_seq = row.seq;
    t.group_position = row.position;
    auto candidates = candidate_commands(ev, actor, row.at_ms, *t.fold, defs_, options_.hooks);
    if (candidates.empty()) {
      add({"step_not_reproduced", id, row.seq, row.position, ev.type,
           ev.type == events::kCompleted
               ? "`completed` was recorded without the step that reaches a terminal state"
               : fmt::format("no command produces {} as its first event{}", event_text(ev),
                             ev.type.find('.') != std::string::npos && options_.hooks &&
                                     !options_.hooks->owner_of(ev.type)
                                 ? " (its plugin is not loaded)"
                                 : "")});
      return;
    }
    ++report_.commands;
    std::vector<std::string> reasons;
    std::vector<OpenCommand> matched;
    for (auto& cand : candidates) {
      const InstanceState* before = t.fold->started ? &t.fold->state : nullptr;
      auto produced = decide(DecideInput{*cand.workflow, before, cand.command, row.at_ms,
                                         cand.target, options_.hooks});
      if (!produced) {
        reasons.push_back(fmt::format("decide({}) refuses: {}", describe(cand.command),
                                      produced.error().message));
        continue;
      }
      if (produced->empty() || produced->front().type != ev.type ||
          produced->front().body != ev.body) {
        reasons.push_back(fmt::format(
            "decide({}) produces {}", describe(cand.command),
            produced->empty() ? std::string("nothing") : event_text(produced->front())));
        continue;
      }
      matched.push_back({std::move(cand.command), std::move(*produced), 1});
    }
    if (matched.empty()) {
      add({"step_not_reproduced", id, row.seq, row.position, ev.type,
           fmt::format("recorded {} at {}, but {}", event_text(ev), format_datetime_ms(row.at_ms),
                       fmt::join(reasons, "; "))});
      return;
    }
    t.open = std::move(matched);
    t.failed_group = false;
  }

  void finish_instance(const std::string& id, Tracker& t) {
    close_command(t, id, nullptr, nullptr);
    t.done = true;
    std::unique_ptr<FoldState> f = std::move(t.fold);
    if (!f || !t.has_row) return;
    auto snap = source_.snapshot(t.head);
    if (!snap || !*snap) return;
    auto diffs = compare_with_snapshot(*f, t.last_hash, **snap);
    if (!diffs.empty()) {
      add({"snapshot_mismatch", id, t.seq, 0, "",
           fmt::format("the replayed state disagrees with the snapshot: {}",
                       fmt::join(diffs, "; "))});
    }
  }

  void finish() {
    std::vector<std::pair<std::string_view, Tracker*>> ordered;
    for (auto& [id, t] : trackers_) ordered.emplace_back(id, &t);
    std::sort(ordered.begin(), ordered.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& [id, t] : ordered) {
      if (options_.as_of_ms) {
        close_command(*t, id, nullptr, nullptr);
        if (t->fold && t->fold->started && t->fold->workflow) {
          json view = instance_view(to_snapshot(t->fold->state, *t->fold->workflow));
          view["as_of"] = format_datetime_ms(*options_.as_of_ms);
          report_.states.push_back(std::move(view));
        }
        continue;
      }
      if (!t->done && !t->failed) finish_instance(std::string(id), *t);
    }
    if (!options_.instance_id.empty() && trackers_.empty()) {
      add({"instance_not_found", options_.instance_id, 0, 0, "",
           "no instance and no events with this id"});
    }
  }

  AuditSource& source_;
  const ReplayOptions& options_;
  ReplayReport& report_;
  DefinitionSet defs_;
  StringMap<Tracker> trackers_;
};

}  // namespace

json ReplayReport::to_json() const {
  json j = {{"source", source}, {"ok", ok()},           {"instances", instances},
            {"events", events}, {"commands", commands}, {"findings", findings_to_json(findings)}};
  if (as_of_ms) {
    j["as_of"] = format_datetime_ms(*as_of_ms);
    j["states"] = states;
  }
  return j;
}

Result<ReplayReport> replay(AuditSource& source, const ReplayOptions& options) {
  if (options.sections == nullptr) {
    return fail(ErrorCode::kInvalidArgument, "replay needs the section registry");
  }
  ReplayReport report;
  report.source = source.name();
  report.as_of_ms = options.as_of_ms;
  Replayer r(source, options, report);
  if (auto ok = r.run(); !ok) return fail(ok.error());
  return report;
}

Result<ReplayReport> replay_database(const std::string& path, const ReplayOptions& options) {
  auto db = AuditDb::open(path);
  if (!db) return fail(db.error());
  EventFilter filter;
  filter.instance_id = options.instance_id;
  filter.until_ms = options.as_of_ms;
  auto source = database_source(**db, filter);
  return replay(*source, options);
}

}  // namespace flowgate::audit
