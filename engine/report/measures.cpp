// The core measures of one bucket (report.h core_measures; docs/report.md defines each one).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <set>

#include "definition/value.h"
#include "report/report.h"

namespace flowgate::report {

using nlohmann::json;

namespace {

struct Stay {
  std::uint32_t state = 0;  // CoreLog name id
  std::int64_t entered_ms = 0;
  std::optional<std::int64_t> left_ms;
};

// One instance's journey, folded from its events.
struct Journey {
  std::int64_t started_ms = 0;
  std::vector<Stay> stays;
  bool completed = false;
  bool cancelled = false;
  std::uint32_t end_state = 0;
  std::int64_t ended_ms = 0;
  std::set<int> escalated_from;  // tiers it was escalated out of
  bool reopened = false;
};

json rate(std::int64_t part, std::int64_t whole) {
  if (whole <= 0) return nullptr;
  return std::round(static_cast<double>(part) / static_cast<double>(whole) * 10000.0) / 10000.0;
}

json ms_or_null(const std::optional<std::int64_t>& ms) { return ms ? json(*ms) : json(nullptr); }
json text_or_null(const std::optional<std::int64_t>& ms) {
  return ms ? json(format_duration_ms(*ms)) : json(nullptr);
}

// {count, p50_ms, p90_ms, p50, p90} of `values`.
json spread(std::vector<std::int64_t> values) {
  auto p50 = nearest_rank(values, 50);
  auto p90 = nearest_rank(values, 90);
  return {{"count", values.size()},
          {"p50_ms", ms_or_null(p50)},
          {"p90_ms", ms_or_null(p90)},
          {"p50", text_or_null(p50)},
          {"p90", text_or_null(p90)}};
}

// A recorded number: an int or a decimal (which events carry as its text, "0.7"); none for null
// or anything else.
std::optional<double> number_of(const json& v) {
  if (v.is_number()) return v.get<double>();
  if (!v.is_string()) return std::nullopt;
  const auto& text = v.get_ref<const std::string&>();
  double out = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(out)) {
    return std::nullopt;
  }
  return out;
}

// Applies the fields of `values` a measure reads; `to` picks the new value of a change.
void record(CoreLog::Recorded& r, const json& values, bool changes) {
  if (!values.is_object()) return;
  auto apply = [&](const char* field, std::optional<double>& slot) {
    auto it = values.find(field);
    if (it == values.end()) return;
    if (!changes) {
      slot = number_of(*it);
    } else if (auto to = it->find("to"); it->is_object() && to != it->end()) {
      slot = number_of(*to);
    }
  };
  apply(kScoreField, r.score);
  apply(kSatisfactionField, r.satisfaction);
}

// Score bands of the calibration: [0, 0.2), [0.2, 0.4), [0.4, 0.6), [0.6, 0.8), [0.8, 1].
constexpr double kBandFrom[] = {0.0, 0.2, 0.4, 0.6, 0.8};
constexpr const char* kBandLabel[] = {"0.0-0.2", "0.2-0.4", "0.4-0.6", "0.6-0.8", "0.8-1.0"};
constexpr std::size_t kBands = std::size(kBandFrom);

// The band of a score in [0, 1]; none outside (a score the workflow's bounds would refuse).
std::optional<std::size_t> band_of(double score) {
  if (!(score >= 0.0 && score <= 1.0)) return std::nullopt;
  std::size_t k = kBands - 1;
  while (k > 0 && score < kBandFrom[k]) --k;
  return k;
}

json mean_or_null(double sum, std::int64_t count) {
  if (count <= 0) return nullptr;
  return std::round(sum / static_cast<double>(count) * 10000.0) / 10000.0;
}

}  // namespace

std::uint32_t CoreLog::intern(const std::string& text) {
  if (text.empty()) return 0;
  auto [it, added] = name_ids_.try_emplace(text, static_cast<std::uint32_t>(names_.size()));
  if (added) names_.push_back(text);
  return it->second;
}

void CoreLog::add(const EventRecord& e) {
  auto text = [&](const char* key) {
    auto it = e.body.find(key);
    return it != e.body.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  Entry entry;
  entry.at_ms = e.at_ms;
  if (e.type == "instance_started") {
    auto [it, added] =
        instance_ids_.try_emplace(e.instance_id, static_cast<std::uint32_t>(instance_ids_.size()));
    if (!added) return;  // a second start: not a history the engine writes
    entry.instance = it->second;
    entry.kind = Kind::kStarted;
    entry.to = intern(text("state"));
    entries_.push_back(entry);
    recorded_.emplace_back();
    if (auto data = e.body.find("data"); data != e.body.end()) {
      record(recorded_.back(), *data, false);
    }
    return;
  }
  auto it = instance_ids_.find(e.instance_id);
  if (it == instance_ids_.end()) return;
  entry.instance = it->second;
  if (e.type == "transitioned" || e.type == "data_changed") {
    if (auto changes = e.body.find("changes"); changes != e.body.end()) {
      record(recorded_[entry.instance], *changes, true);
    }
    if (e.type == "data_changed") return;
  }
  if (e.type == "transitioned") {
    entry.kind = Kind::kMoved;
    entry.from = intern(text("from"));
    entry.to = intern(text("to"));
    entry.event = intern(text("event"));
    auto p = e.actor.find("principal");
    entry.automatic =
        p != e.actor.end() && p->is_string() && p->get<std::string>().starts_with("flowgate:");
  } else if (e.type == "migrated") {
    entry.kind = Kind::kMigrated;
    entry.from = intern(text("from_state"));
    entry.to = intern(text("to_state"));
  } else if (e.type == "completed") {
    entry.kind = Kind::kCompleted;
    entry.to = intern(text("state"));
  } else if (e.type == "cancelled") {
    entry.kind = Kind::kCancelled;
  } else {
    return;
  }
  entries_.push_back(entry);
}

json core_measures(const ProcessShape& shape, std::span<const EventRecord> events) {
  CoreLog log;
  for (const EventRecord& e : events) log.add(e);
  return core_measures(shape, log);
}

namespace {

// The win rate of scored deals against their score, per score band: `count` closed instances
// whose last score fell in the band, of them `won`, `win_rate` = won ÷ count, `mean_score` over
// them, and `open` = scored instances still open. Closed without a win is a loss (as `outcomes`).
json calibration(const ProcessShape& shape, const CoreLog& log,
                 const std::vector<Journey>& journeys) {
  std::int64_t count[kBands] = {}, won[kBands] = {}, open[kBands] = {};
  double sum[kBands] = {};
  for (std::uint32_t i = 0; i < journeys.size(); ++i) {
    const auto& score = log.recorded(i).score;
    if (!score) continue;
    auto k = band_of(*score);
    if (!k) continue;
    const Journey& j = journeys[i];
    if (!j.completed && !j.cancelled) {
      ++open[*k];
      continue;
    }
    ++count[*k];
    sum[*k] += *score;
    const StateShape* end = j.completed ? shape.state(log.name(j.end_state)) : nullptr;
    if (end != nullptr && end->outcome == "won") ++won[*k];
  }
  json bands = json::array();
  for (std::size_t k = 0; k < kBands; ++k) {
    bands.push_back({{"band", kBandLabel[k]},
                     {"count", count[k]},
                     {"won", won[k]},
                     {"win_rate", rate(won[k], count[k])},
                     {"mean_score", mean_or_null(sum[k], count[k])},
                     {"open", open[k]}});
  }
  return bands;
}

// Customer satisfaction: `count` instances that recorded one (their last value), its `mean`.
json satisfaction(const CoreLog& log) {
  std::int64_t count = 0;
  double sum = 0;
  for (std::uint32_t i = 0; i < log.instances(); ++i) {
    if (const auto& s = log.recorded(i).satisfaction) {
      ++count;
      sum += *s;
    }
  }
  return {{"count", count}, {"mean", mean_or_null(sum, count)}};
}

}  // namespace

json core_measures(const ProcessShape& shape, const CoreLog& log) {
  std::vector<Journey> journeys(log.instances());
  std::map<std::tuple<std::string, std::string, std::string>, std::int64_t> moves;
  std::map<int, std::int64_t> escalations, automatic_escalations;
  std::int64_t reopen_moves = 0;

  auto enter = [](Journey& j, std::uint32_t state, std::int64_t at) {
    if (!j.stays.empty() && !j.stays.back().left_ms) j.stays.back().left_ms = at;
    j.stays.push_back({state, at, std::nullopt});
  };
  using Kind = CoreLog::Kind;
  for (const CoreLog::Entry& e : log.entries()) {
    Journey& j = journeys[e.instance];
    switch (e.kind) {
      case Kind::kStarted:
        j.started_ms = e.at_ms;
        enter(j, e.to, e.at_ms);
        break;
      case Kind::kMigrated:
        enter(j, e.to, e.at_ms);
        break;
      case Kind::kMoved: {
        enter(j, e.to, e.at_ms);
        const std::string& from = log.name(e.from);
        const std::string& to = log.name(e.to);
        ++moves[{from, to, log.name(e.event)}];
        const StateShape* a = shape.state(from);
        const StateShape* b = shape.state(to);
        if (a != nullptr && b != nullptr && a->tier > 0 && b->tier > a->tier) {
          j.escalated_from.insert(a->tier);
          ++escalations[a->tier];
          if (e.automatic) ++automatic_escalations[a->tier];
        }
        if (a != nullptr && b != nullptr && shape.in_last_stage_work(from) && b->stage_index >= 0 &&
            b->stage_index < a->stage_index) {
          j.reopened = true;
          ++reopen_moves;
        }
        break;
      }
      case Kind::kCompleted:
        j.completed = true;
        j.end_state = e.to;
        j.ended_ms = e.at_ms;
        break;
      case Kind::kCancelled:
        j.cancelled = true;
        j.ended_ms = e.at_ms;
        if (!j.stays.empty() && !j.stays.back().left_ms) j.stays.back().left_ms = e.at_ms;
        break;
    }
  }

  const std::size_t n_stages = shape.stages.size();
  auto is_terminal = [&](const std::string& s) {
    const StateShape* st = shape.state(s);
    return st != nullptr && st->terminal;
  };
  // Whether a stage has any non-terminal state: its funnel counts work there, not only endings.
  std::vector<bool> stage_has_work(n_stages, false);
  for (const auto& s : shape.states) {
    if (s.stage_index >= 0 && !s.terminal)
      stage_has_work[static_cast<std::size_t>(s.stage_index)] = true;
  }

  std::int64_t started = 0, completed = 0, cancelled = 0, won = 0, lost_terminal = 0;
  std::vector<std::int64_t> entered(n_stages, 0), cycle;
  std::vector<std::vector<std::int64_t>> stage_ms(n_stages);
  std::map<std::string, std::vector<std::int64_t>> state_ms;
  std::map<std::string, std::int64_t> visits, terminal_count;
  std::map<int, std::int64_t> tier_entered, tier_escalated;
  std::int64_t reopen_eligible = 0, reopened = 0;
  // Closed journeys that got past the first stage (in LTC: opportunities, not only leads).
  std::int64_t qualified_won = 0, qualified_lost = 0;
  const int first_stage = shape.stage_of(shape.initial);
  for (const Journey& j : journeys) {
    ++started;
    std::vector<bool> in_stage(n_stages, false);
    std::vector<std::int64_t> total(n_stages, 0);
    std::vector<bool> still_in(n_stages, false);
    std::set<int> tiers;
    bool last_stage_work = false;
    for (const Stay& s : j.stays) {
      const std::string& state = log.name(s.state);
      ++visits[state];
      const StateShape* st = shape.state(state);
      if (s.left_ms) state_ms[state].push_back(*s.left_ms - s.entered_ms);
      if (st == nullptr) continue;
      if (st->tier > 0) tiers.insert(st->tier);
      if (shape.in_last_stage_work(state)) last_stage_work = true;
      if (st->stage_index < 0) continue;
      auto k = static_cast<std::size_t>(st->stage_index);
      if (st->terminal && stage_has_work[k]) continue;
      in_stage[k] = true;
      if (st->terminal) continue;
      if (s.left_ms) {
        total[k] += *s.left_ms - s.entered_ms;
        still_in[k] = false;
      } else {
        still_in[k] = true;
      }
    }
    for (std::size_t k = 0; k < n_stages; ++k) {
      if (!in_stage[k]) continue;
      ++entered[k];
      if (stage_has_work[k] && !still_in[k]) stage_ms[k].push_back(total[k]);
    }
    for (int t : tiers) {
      ++tier_entered[t];
      if (j.escalated_from.contains(t)) ++tier_escalated[t];
    }
    if (last_stage_work) {
      ++reopen_eligible;
      if (j.reopened) ++reopened;
    }
    bool qualified = false;
    for (std::size_t k = 0; k < n_stages; ++k) {
      if (in_stage[k] && static_cast<int>(k) > first_stage) qualified = true;
    }
    if (j.completed) {
      ++completed;
      ++terminal_count[log.name(j.end_state)];
      cycle.push_back(j.ended_ms - j.started_ms);
      const StateShape* st = shape.state(log.name(j.end_state));
      if (st != nullptr && st->outcome == "won") {
        ++won;
        if (qualified) ++qualified_won;
      }
      if (st != nullptr && st->outcome == "lost") {
        ++lost_terminal;
        if (qualified) ++qualified_lost;
      }
    } else if (j.cancelled) {
      ++cancelled;
      if (qualified) ++qualified_lost;
    }
  }
  const bool classified = std::any_of(shape.states.begin(), shape.states.end(),
                                      [](const auto& s) { return s.outcome == "won"; });
  json out;
  out["instances"] = {{"started", started},
                      {"completed", completed},
                      {"cancelled", cancelled},
                      {"open", started - completed - cancelled}};

  json funnel = json::array();
  for (std::size_t k = 0; k < n_stages; ++k) {
    funnel.push_back(
        {{"stage", shape.stages[k]},
         {"entered", entered[k]},
         {"conversion", k == 0 ? rate(entered[k], started) : rate(entered[k], entered[k - 1])},
         {"of_started", rate(entered[k], started)}});
  }
  if (classified && n_stages > 0) {
    funnel.push_back({{"stage", "won"},
                      {"entered", won},
                      {"conversion", rate(won, entered[n_stages - 1])},
                      {"of_started", rate(won, started)}});
  }
  out["funnel"] = std::move(funnel);

  const std::int64_t lost = lost_terminal + cancelled;
  out["outcomes"] = {
      {"classified", classified},
      {"won", classified ? json(won) : json(nullptr)},
      {"lost", classified ? json(lost) : json(nullptr)},
      {"closed", completed + cancelled},
      {"cancelled", cancelled},
      {"win_rate", classified ? rate(won, won + lost) : json(nullptr)},
      {"qualified_closed", classified ? json(qualified_won + qualified_lost) : json(nullptr)},
      {"qualified_win_rate",
       classified ? rate(qualified_won, qualified_won + qualified_lost) : json(nullptr)}};
  json terminals = json::array();
  for (const auto& s : shape.states) {
    if (!s.terminal) continue;
    auto it = terminal_count.find(s.id);
    terminals.push_back({{"state", s.id},
                         {"name", s.name},
                         {"outcome", s.outcome},
                         {"count", it == terminal_count.end() ? 0 : it->second}});
  }
  for (const auto& [state, count] : terminal_count) {
    if (shape.state(state) == nullptr) {
      terminals.push_back({{"state", state}, {"name", state}, {"outcome", ""}, {"count", count}});
    }
  }
  out["terminals"] = std::move(terminals);
  out["cycle_time"] = spread(cycle);

  json stage_time = json::array();
  for (std::size_t k = 0; k < n_stages; ++k) {
    if (!stage_has_work[k]) continue;
    json row = spread(stage_ms[k]);
    row["stage"] = shape.stages[k];
    stage_time.push_back(std::move(row));
  }
  out["stage_time"] = std::move(stage_time);

  // Every state of the definition (file order), then states only the events know.
  std::vector<std::pair<std::string, std::string>> states;  // (id, stage)
  for (const auto& s : shape.states) states.emplace_back(s.id, s.stage);
  for (const auto& [state, n] : visits) {
    if (shape.state(state) == nullptr) states.emplace_back(state, "");
  }
  json state_time = json::array();
  for (const auto& [state, stage] : states) {
    if (is_terminal(state)) continue;
    auto v = visits.find(state);
    json row = spread(state_ms[state]);
    row["state"] = state;
    row["stage"] = stage;
    row["visits"] = v == visits.end() ? 0 : v->second;
    state_time.push_back(std::move(row));
  }
  out["state_time"] = std::move(state_time);

  std::set<int> all_tiers;
  for (const auto& s : shape.states) {
    if (s.tier > 0) all_tiers.insert(s.tier);
  }
  json escalation = json::array();
  for (int t : all_tiers) {
    escalation.push_back({{"tier", t},
                          {"entered", tier_entered[t]},
                          {"escalated", tier_escalated[t]},
                          {"rate", rate(tier_escalated[t], tier_entered[t])},
                          {"escalations", escalations[t]},
                          {"automatic", automatic_escalations[t]}});
  }
  out["escalation"] = std::move(escalation);
  out["reopen"] = {{"eligible", reopen_eligible},
                   {"reopened", reopened},
                   {"reopens", reopen_moves},
                   {"rate", rate(reopened, reopen_eligible)}};

  json transitions = json::array();
  for (const auto& [key, count] : moves) {
    transitions.push_back({{"from", std::get<0>(key)},
                           {"to", std::get<1>(key)},
                           {"event", std::get<2>(key)},
                           {"count", count}});
  }
  out["transitions"] = std::move(transitions);
  if (shape.scored) out["calibration"] = calibration(shape, log, journeys);
  if (shape.rated) out["satisfaction"] = satisfaction(log);
  return out;
}

}  // namespace flowgate::report
