#include "report/report.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <unordered_map>

#include <fmt/format.h>

#include "audit/definitions.h"
#include "definition/value.h"

namespace flowgate::report {

using nlohmann::json;

std::optional<Period> parse_period(std::string_view name) {
  if (name == "all") return Period::kAll;
  if (name == "week") return Period::kWeek;
  if (name == "month") return Period::kMonth;
  if (name == "quarter") return Period::kQuarter;
  return std::nullopt;
}

std::string_view period_name(Period p) {
  switch (p) {
    case Period::kWeek:
      return "week";
    case Period::kMonth:
      return "month";
    case Period::kQuarter:
      return "quarter";
    case Period::kAll:
      break;
  }
  return "all";
}

PeriodKey period_of(std::int64_t at_ms, Period p) {
  using namespace std::chrono;
  if (p == Period::kAll) return {"all", std::nullopt, std::nullopt};
  const sys_days day = floor<days>(sys_time<milliseconds>(milliseconds(at_ms)));
  const year_month_day ymd(day);
  auto ms_of = [](sys_days d) {
    return static_cast<std::int64_t>(duration_cast<milliseconds>(d.time_since_epoch()).count());
  };
  if (p == Period::kWeek) {
    // ISO 8601: weeks start on Monday; a week belongs to the year of its Thursday.
    const sys_days monday = day - (weekday(day) - Monday);
    const sys_days thursday = monday + days(3);
    const year iso_year = year_month_day(thursday).year();
    const sys_days week1_thursday =
        sys_days(iso_year / January / 1) + (Thursday - weekday(sys_days(iso_year / January / 1)));
    const auto week = (thursday - week1_thursday).count() / 7 + 1;
    return {fmt::format("{:04}-W{:02}", static_cast<int>(iso_year), week), ms_of(monday),
            ms_of(monday + days(7))};
  }
  if (p == Period::kMonth) {
    const year_month ym = ymd.year() / ymd.month();
    const sys_days first = sys_days(ym / 1);
    const sys_days next = sys_days((ym + months(1)) / 1);
    return {fmt::format("{:04}-{:02}", static_cast<int>(ymd.year()),
                        static_cast<unsigned>(ymd.month())),
            ms_of(first), ms_of(next)};
  }
  const unsigned quarter = (static_cast<unsigned>(ymd.month()) - 1) / 3;
  const year_month start = ymd.year() / month(quarter * 3 + 1);
  return {fmt::format("{:04}-Q{}", static_cast<int>(ymd.year()), quarter + 1),
          ms_of(sys_days(start / 1)), ms_of(sys_days((start + months(3)) / 1))};
}

std::optional<std::int64_t> nearest_rank(std::vector<std::int64_t>& values, double p) {
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
  return values[std::clamp<std::size_t>(rank, 1, values.size()) - 1];
}

namespace {

std::string workflow_from_id(std::string_view instance_id) {
  auto dash = instance_id.rfind('-');
  return std::string(dash == std::string_view::npos ? instance_id : instance_id.substr(0, dash));
}

Result<json> parse_column(std::string_view text, const audit::EventRow& row, const char* column) {
  json j = json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded()) {
    return fail(
        Error(ErrorCode::kStorage, fmt::format("the {} of event {} #{} (position {}) is not JSON",
                                               column, row.instance_id, row.seq, row.position))
            .with_hint("run `flowgate verify` on the database"));
  }
  return j;
}

// The events the measures read: the core's moves and ends, and the plugins' clock and review
// events (plugins/sla/report.h, plugins/gate/report.h).
bool measured(std::string_view type) {
  return type == "instance_started" || type == "transitioned" || type == "migrated" ||
         type == "completed" || type == "cancelled" || type == "data_changed" ||
         type.starts_with("sla.") || type.starts_with("gate.");
}

// Of an object of data fields (start data, changes), only the fields a measure reads.
void keep_measured_fields(json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end()) return;
  json kept = json::object();
  if (it->is_object()) {
    for (const char* field : {kScoreField, kSatisfactionField}) {
      if (auto f = it->find(field); f != it->end()) kept[field] = std::move(*f);
    }
  }
  if (kept.empty()) {
    body.erase(it);
  } else {
    *it = std::move(kept);
  }
}

// Drops what no measure reads (instance data, payloads, data changes but the score and the
// satisfaction), so that a report over millions of events holds only their skeleton in memory.
json slim(std::string_view type, json body) {
  if (!body.is_object()) return json::object();
  if (type == "instance_started") {
    keep_measured_fields(body, "data");
  } else if (type == "transitioned") {
    body.erase("payload");
    keep_measured_fields(body, "changes");
  } else if (type == "data_changed") {
    keep_measured_fields(body, "changes");
  } else if (type == "migrated") {
    body.erase("data");
    body.erase("dropped_fields");
  }
  return body;
}

}  // namespace

Result<ReportData> collect(audit::AuditDb& db, const SectionRegistry& sections,
                           const ReportOptions& options) {
  if (options.since_ms && options.until_ms && *options.since_ms >= *options.until_ms) {
    return fail(Error(ErrorCode::kInvalidArgument,
                      fmt::format("--since {} is not before --until {}: no instance can match",
                                  format_datetime_ms(*options.since_ms),
                                  format_datetime_ms(*options.until_ms)))
                    .with_hint("swap the two, or widen the range"));
  }
  ReportData data;
  auto stored = db.definitions();
  if (!stored) return fail(stored.error());
  std::vector<audit::Finding> findings;
  auto defs = audit::DefinitionSet::load(std::move(*stored), sections, findings);
  for (const auto& f : findings) data.warnings.push_back(f.message);
  std::map<std::string, const Workflow*> newest;
  std::vector<std::string> known;
  for (const auto& d : defs.all()) {
    const std::string& id = d.stored.workflow_id;
    if (std::find(known.begin(), known.end(), id) == known.end()) known.push_back(id);
    if (!d.workflow) continue;
    auto& slot = newest[id];
    if (slot == nullptr || slot->version < d.workflow->version) slot = d.workflow.get();
  }
  if (!options.workflow.empty() &&
      std::find(known.begin(), known.end(), options.workflow) == known.end()) {
    return fail(Error(ErrorCode::kInvalidArgument,
                      fmt::format("the database has no workflow `{}`", options.workflow))
                    .with_hint(known.empty() ? std::string("the database holds no definitions")
                                             : fmt::format("it has: {}", fmt::join(known, ", "))));
  }
  for (const auto& id : known) {
    if (!options.workflow.empty() && id != options.workflow) continue;
    auto it = newest.find(id);
    if (it != newest.end()) {
      data.workflows.push_back(process_shape(*it->second));
    } else {
      ProcessShape unnamed;
      unnamed.workflow_id = id;
      unnamed.name = id;
      data.workflows.push_back(std::move(unnamed));
      data.warnings.push_back(fmt::format(
          "no stored version of `{}` loads: its states are shown by id, without stages", id));
    }
  }

  audit::EventFilter filter;
  filter.workflow_id = options.workflow;
  filter.since_ms = options.since_ms;  // an instance's first event is its start
  auto cursor = db.events(filter);
  if (!cursor) return fail(cursor.error());
  std::map<std::pair<std::string, std::int64_t>, Bucket> buckets;  // (workflow, period start)
  std::unordered_map<std::string, Bucket*> bucket_of;              // instance → its bucket
  while (cursor->next()) {
    const audit::EventRow& row = cursor->row();
    if (!measured(row.type)) continue;
    Bucket* bucket = nullptr;
    if (row.type != "instance_started") {
      auto it = bucket_of.find(std::string(row.instance_id));
      if (it == bucket_of.end()) continue;  // started outside the selection
      bucket = it->second;
    } else if ((options.since_ms && row.at_ms < *options.since_ms) ||
               (options.until_ms && row.at_ms >= *options.until_ms)) {
      continue;
    }
    auto body = parse_column(row.body, row, "body");
    if (!body) return fail(body.error());
    if (bucket == nullptr) {
      std::string workflow = workflow_from_id(row.instance_id);
      if (auto w = body->find("workflow"); w != body->end() && w->is_string()) workflow = *w;
      if (!options.workflow.empty() && workflow != options.workflow) continue;
      PeriodKey key = period_of(row.at_ms, options.period);
      bucket = &buckets[{workflow, key.from_ms.value_or(0)}];
      if (bucket->workflow.empty()) {
        bucket->workflow = workflow;
        bucket->period = std::move(key);
      }
      bucket_of[std::string(row.instance_id)] = bucket;
    }
    EventRecord e;
    e.position = row.position;
    e.instance_id = row.instance_id;
    e.seq = row.seq;
    e.at_ms = row.at_ms;
    e.type = row.type;
    if (row.type == "transitioned") {
      // Who moved it tells an automatic escalation; payload and data changes are not measured.
      auto actor = parse_column(row.actor, row, "actor");
      if (!actor) return fail(actor.error());
      if (auto p = actor->find("principal"); p != actor->end()) e.actor["principal"] = *p;
    }
    e.body = slim(row.type, std::move(*body));
    bucket->add(std::move(e));
  }
  if (cursor->error()) return fail(*cursor->error());
  for (auto& [key, bucket] : buckets) {
    auto known_workflow = std::find_if(data.workflows.begin(), data.workflows.end(),
                                       [&](const auto& w) { return w.workflow_id == key.first; });
    if (known_workflow == data.workflows.end()) {
      ProcessShape unnamed;
      unnamed.workflow_id = key.first;
      unnamed.name = key.first;
      data.workflows.push_back(std::move(unnamed));
      data.warnings.push_back(
          fmt::format("instances of `{}` have no stored definition", key.first));
    }
    data.buckets.push_back(std::move(bucket));
  }
  std::sort(data.workflows.begin(), data.workflows.end(),
            [](const auto& a, const auto& b) { return a.workflow_id < b.workflow_id; });
  return data;
}

void Bucket::add(EventRecord e) {
  core.add(e);
  if (e.type == "instance_started" || e.type.starts_with("sla.") || e.type.starts_with("gate.")) {
    events.push_back(std::move(e));
  }
}

json to_document(const ReportData& data, const ReportOptions& options, const std::string& database,
                 const std::function<void(const Bucket&, json&)>& add_figures) {
  auto time_or_null = [](const std::optional<std::int64_t>& ms) {
    return ms ? json(format_datetime_ms(*ms)) : json(nullptr);
  };
  json doc = {{"report",
               {{"database", database},
                {"workflow", options.workflow.empty() ? json(nullptr) : json(options.workflow)},
                {"since", time_or_null(options.since_ms)},
                {"until", time_or_null(options.until_ms)},
                {"period", period_name(options.period)},
                {"instances_by", "start"}}},
              {"workflows", json::array()},
              {"warnings", data.warnings}};
  for (const auto& shape : data.workflows) {
    json w = {{"workflow", shape.workflow_id},
              {"name", shape.name},
              {"version", shape.version},
              {"process", shape.to_json()},
              {"periods", json::array()}};
    for (const auto& bucket : data.buckets) {
      if (bucket.workflow != shape.workflow_id) continue;
      json period = {{"period", bucket.period.label},
                     {"from", time_or_null(bucket.period.from_ms)},
                     {"to", time_or_null(bucket.period.to_ms)}};
      period.update(core_measures(shape, bucket.core));
      if (add_figures) add_figures(bucket, period);
      w["periods"].push_back(std::move(period));
    }
    doc["workflows"].push_back(std::move(w));
  }
  return doc;
}

}  // namespace flowgate::report
